;; structure.scm — the statements and expressions the guard analysis reads, in one pass per
;; function: loops (for/while/do and iterator macros such as list_for_each_entry(...) {),
;; declarations, assignments, calls and comments.
;; Captures: @loop, @macro_loop (the call statement heading an iterator-macro loop), @decl,
;;   @init (init_declarator), @assign (assignment_expression), @call (call_expression),
;;   @comment.
;; Iterator macros are recognised by name: *for_each* / *foreach*.
[(for_statement) (while_statement) (do_statement)] @loop
((expression_statement
   (call_expression function: (identifier) @_macro)) @macro_loop
 (#match? @_macro "for_each|foreach"))
(declaration) @decl
(init_declarator) @init
(assignment_expression) @assign
(call_expression) @call
(comment) @comment
