"""The tree-sitter adapter: parse C, index functions, classify parse errors.

Everything that imports ``tree_sitter`` lives here. The rest of reviewbot walks the returned
nodes through the small helpers below (``text``, ``callee``, ``unwrap`` ...), so the parser
library can be swapped or upgraded in one place.

Kernel sources parse with errors routinely (``list_for_each_entry(...) {``,
``scoped_guard(spinlock, &lock) {``, ``__init``,
``list_entry(p, struct page, lru)``). Such *benign* errors are recognised and do not make a
verdict uncertain; any other ERROR/MISSING node that overlaps an examined function does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Range, Tree

from reviewbot.model.errors import RuleError
from reviewbot.model.fileio import package_dir

LANGUAGE = Language(tree_sitter_c.language())

# Iterator macros: ``name(args) {`` parses as a call statement (MISSING ';') followed by a block.
# iterator macros, and the scoped lock guards of <linux/cleanup.h> (a one-pass for loop)
LOOP_MACRO = re.compile(r"for_each|foreach|^scoped_(?:cond_)?guard$")
# Annotations and section markers that leave ERROR nodes: __init, __releases(&lock), ...
ANNOTATION = re.compile(r"^__[a-z_]+$")
_TYPE_ARG = re.compile(rb"^(struct|union|enum|const|unsigned|signed)\b|^[a-z_][a-z0-9_]*_t$")

STATEMENT_TYPES = frozenset(
    {
        "expression_statement",
        "declaration",
        "if_statement",
        "for_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
        "case_statement",
        "return_statement",
        "goto_statement",
        "break_statement",
        "continue_statement",
        "labeled_statement",
        "compound_statement",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "ERROR",
    }
)


@cache
def query(name: str) -> Query:
    """Load ``queries/<name>.scm`` (compiled once per process)."""
    try:
        src = package_dir("reviewbot.queries").joinpath(f"{name}.scm").read_text("utf-8")
    except FileNotFoundError as e:
        raise RuleError(f"query file queries/{name}.scm is missing") from e
    try:
        return Query(LANGUAGE, src)
    except Exception as e:  # tree-sitter raises QueryError subclasses
        raise RuleError(f"queries/{name}.scm does not compile: {e}") from e


# --- small node helpers ---------------------------------------------------------------


def text(node: Node | None) -> str:
    """The source text of a node ('' for None); undecodable bytes are replaced."""
    if node is None:
        return ""
    return (node.text or b"").decode("utf-8", "replace")  # text is None only without source bytes


def norm(node: Node | None) -> str:
    """Whitespace-free text of an expression, for comparing expressions."""
    return "".join(text(node).split())


def line(node: Node) -> int:
    """1-based line of a node's start."""
    return node.start_point[0] + 1


def unwrap(node: Node | None) -> Node | None:
    """Strip parentheses and casts around an expression."""
    while node is not None and node.type in ("parenthesized_expression", "cast_expression"):
        node = node.named_children[-1] if node.named_children else None
    return node


def callee(call: Node) -> str | None:
    """The called function's name for ``f(...)`` calls, else None."""
    fn = call.child_by_field_name("function")
    return text(fn) if fn is not None and fn.type == "identifier" else None


def args(call: Node) -> list[Node]:
    """The argument expressions of a call (comments dropped)."""
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def walk(node: Node) -> Iterator[Node]:
    """All nodes below ``node`` (preorder, source order)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def file_scope(root: Node) -> Iterator[Node]:
    """Function definitions and declarations at file scope, in source order, including those
    inside ``#if`` blocks (and parse-error recoveries around them)."""
    stack = list(reversed(root.children))
    while stack:
        n = stack.pop()
        if n.type in ("function_definition", "declaration"):
            yield n
        elif n.type.startswith("preproc_") or n.type in ("ERROR", "linkage_specification"):
            stack.extend(reversed(n.children))


def calls(node: Node) -> Iterator[Node]:
    """Call expressions below ``node``, in source order."""
    for n in walk(node):
        if n.type == "call_expression":
            yield n


def contains(outer: Node, inner: Node) -> bool:
    """Does ``inner`` lie within ``outer`` (by byte range)?"""
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def declarator_name(decl: Node | None) -> str | None:
    """The identifier declared by a (possibly pointer/array/init) declarator."""
    while decl is not None and decl.type != "identifier":
        if decl.type in ("function_declarator",):
            decl = decl.child_by_field_name("declarator")
            continue
        nxt = decl.child_by_field_name("declarator")
        if nxt is None:
            return None
        decl = nxt
    return text(decl) if decl is not None else None


def is_pointer_declarator(decl: Node) -> bool:
    """Does ``decl`` (possibly with an initialiser) declare a pointer?"""
    inner: Node | None = decl
    while inner is not None and inner.type == "init_declarator":
        inner = inner.child_by_field_name("declarator")
    return inner is not None and inner.type == "pointer_declarator"


def loop_macro_body(stmt: Node) -> Node | None:
    """For ``list_for_each_entry(...) {`` return the body statement, else None."""
    if stmt.type != "expression_statement" or not stmt.named_children:
        return None
    call = stmt.named_children[0]
    if call.type != "call_expression":
        return None
    name = callee(call)
    if not name or not LOOP_MACRO.search(name):
        return None
    semi = stmt.children[-1] if stmt.children else None
    if semi is None or not semi.is_missing:
        return None
    body = stmt.next_named_sibling
    while body is not None and body.type == "comment":
        body = body.next_named_sibling
    return body


# --- functions and errors -------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A function definition in a parsed unit."""

    name: str
    node: Node
    body: Node
    params: tuple[Node, ...]

    @property
    def start_line(self) -> int:
        """1-based line of the definition's start."""
        return line(self.node)

    @property
    def end_line(self) -> int:
        """1-based line of the definition's end."""
        return self.node.end_point[0] + 1


def function_of(node: Node) -> Function | None:
    """The :class:`Function` a ``function_definition`` node defines (None: no name or body)."""
    decl = node.child_by_field_name("declarator")
    fdecl = decl
    while fdecl is not None and fdecl.type != "function_declarator":
        fdecl = fdecl.child_by_field_name("declarator")
    body = node.child_by_field_name("body")
    if fdecl is None or body is None:
        return None
    ident = fdecl.child_by_field_name("declarator")
    if ident is None or ident.type != "identifier":
        return None
    plist = fdecl.child_by_field_name("parameters")
    params = (
        tuple(p for p in plist.named_children if p.type == "parameter_declaration") if plist else ()
    )
    return Function(text(ident), node, body, params)


_SYSCALL = re.compile(r"^(COMPAT_)?SYSCALL_DEFINE\d$")


def syscall_header(body: Node) -> Node | None:
    """The ``SYSCALL_DEFINEn(name, type, arg, ...)`` call that heads ``body`` (tree-sitter reads
    the macro as a statement and the body as a block after it), or None."""
    if body.type != "compound_statement":
        return None
    prev = body.prev_named_sibling
    call = (
        prev.named_children[0]
        if prev is not None and prev.type == "expression_statement" and prev.named_children
        else None
    )
    if call is None or call.type != "call_expression" or not _SYSCALL.match(callee(call) or ""):
        return None
    if call.end_point[0] + 1 < body.start_point[0]:
        return None  # something between the macro and the block
    return call


def syscall_params(body: Node) -> list[str]:
    """The parameter names of the system call ``body`` defines (every second macro argument
    after the name: ``SYSCALL_DEFINE2(x, unsigned long, start, size_t, len)``)."""
    call = syscall_header(body)
    arglist = call.child_by_field_name("arguments") if call is not None else None
    if arglist is None:
        return []
    parts = [x.strip() for x in text(arglist)[1:-1].split(",")]  # types hold no commas
    return [m[-1] for x in parts[2::2] if (m := re.findall(r"[A-Za-z_]\w*", x))]


def syscall_of(body: Node) -> Function | None:
    """The :class:`Function` a system call's block defines: named by the macro's first
    argument; its node is the block (the macro line is not part of it)."""
    call = syscall_header(body)
    if call is None:
        return None
    first = args(call)[:1]
    if not first or first[0].type != "identifier":
        return None
    return Function(text(first[0]), body, body, ())


def _benign(err: Node) -> bool:
    """Known-harmless kernel parse errors (see module docstring)."""
    parent = err.parent
    if err.is_missing:
        # ``list_for_each_entry(...) {`` and friends: the ';' tree-sitter wanted after the call.
        if parent is not None and parent.type == "expression_statement":
            return loop_macro_body(parent) is not None
        return False
    body = (err.text or b"").strip()
    # __init, __read_mostly, __cold ... between type and name.
    if err.named_child_count <= 1 and ANNOTATION.match(body.decode("ascii", "replace")):
        return True
    # Macro arguments that are types or lock expressions: list_entry(p, struct page, lru),
    # __releases(&lock).
    anc = parent
    while (
        anc is not None
        and anc.type not in ("argument_list",)
        and anc.type in ("ERROR", "binary_expression", "comma_expression")
    ):
        anc = anc.parent
    if anc is not None and anc.type == "argument_list":
        call = anc.parent
        name = callee(call) if call is not None and call.type == "call_expression" else None
        if name and (ANNOTATION.match(name) or _TYPE_ARG.match(body) or body in (b"&", b"*")):
            return True
    return False


@dataclass
class Unit:
    """One parsed C source: bytes, tree, functions by name, and parse-error bookkeeping."""

    data: bytes
    path: str
    tree: Tree = field(repr=False)
    partial: bool = False  # only some functions were parsed (see partialparse.parse_functions)

    @cached_property
    def root(self) -> Node:
        """The tree's root node."""
        return self.tree.root_node

    @cached_property
    def functions(self) -> dict[str, list[Function]]:
        """Function definitions by name, top level and inside top-level #if blocks; a system
        call (``SYSCALL_DEFINE3(mprotect, ...) { ... }``) by the name it defines."""
        out: dict[str, list[Function]] = {}
        stack = list(reversed(self.root.children))
        while stack:
            n = stack.pop()
            if n.type == "function_definition":
                f = function_of(n)
                if f is not None:
                    out.setdefault(f.name, []).append(f)
            elif n.type == "compound_statement" and (sys := syscall_of(n)) is not None:
                out.setdefault(sys.name, []).append(sys)
            elif n.type.startswith("preproc_") or n.type in (
                "ERROR",
                "linkage_specification",
                "declaration_list",
            ):
                stack.extend(reversed(n.children))
        return out

    def function(self, name: str) -> Function | None:
        """The first live definition of ``name`` (definitions under ``#if 0`` are skipped)."""
        for f in self.functions.get(name, ()):
            if not in_if0(f.node):
                return f
        return None

    @cached_property
    def bad_errors(self) -> list[Node]:
        """ERROR/MISSING nodes that are not known-benign kernel shapes."""
        out: list[Node] = []
        if not self.root.has_error:
            return out
        stack = [self.root]
        while stack:
            n = stack.pop()
            if n.is_error or n.is_missing:
                if not _benign(n):
                    out.append(n)
                if n.is_missing:
                    continue
            if n.has_error:
                stack.extend(n.children)
        return out

    def errors_in(self, node: Node) -> list[Node]:
        """Non-benign parse errors overlapping ``node``."""
        return [
            e
            for e in self.bad_errors
            if e.start_byte < node.end_byte and node.start_byte < e.end_byte
        ]

    @cached_property
    def enum_values(self) -> dict[str, int]:
        """Integer values of top-level enumerators (implicit numbering), for comparisons."""
        out: dict[str, int] = {}
        stack = list(self.root.children)
        while stack:
            n = stack.pop()
            if n.type in ("declaration", "type_definition", "enum_specifier") or n.type.startswith(
                "preproc_"
            ):
                stack.extend(n.children)
            if n.type != "enumerator_list":
                continue
            value = 0
            for e in n.named_children:
                if e.type != "enumerator":
                    continue
                v = e.child_by_field_name("value")
                if v is not None:
                    try:
                        value = int(text(v), 0)
                    except ValueError:
                        value = out.get(text(v), value)
                out.setdefault(text(e.child_by_field_name("name")), value)
                value += 1
        return out

    def identifiers(self, names: frozenset[str]) -> dict[str, int]:
        """Which of ``names`` occur as identifiers (not in comments or strings), first line of each."""
        found: dict[str, int] = {}
        if not names:
            return found
        pattern = re.compile(
            rb"\b(" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b"
        )
        for m in pattern.finditer(self.data):
            name = m.group(1).decode()
            if name in found:
                continue
            node = self.root.descendant_for_byte_range(m.start(1), m.end(1))
            if node is not None and node.type in (
                "identifier",
                "field_identifier",
                "type_identifier",
            ):
                found[name] = line(node)
        return found

    def index(self, node: Node) -> Index:
        """Loops, declarations, assignments, calls and comments below ``node`` (cached)."""
        idx = self._indexes.get(node.id)
        if idx is None:
            idx = self._indexes[node.id] = Index.of(node)
        return idx

    @cached_property
    def _indexes(self) -> dict[int, Index]:
        return {}

    @cached_property
    def shapes(self) -> dict[int, tuple]:
        """Per-node cache for the flow evaluator (node ids are unique within this tree)."""
        return {}


@dataclass(frozen=True)
class Index:
    """One query pass over a function (queries/structure.scm), lists in source order."""

    loops: tuple[Node, ...]
    decls: tuple[Node, ...]
    inits: tuple[Node, ...]
    assigns: tuple[Node, ...]
    calls: tuple[Node, ...]
    comments: tuple[Node, ...]

    @classmethod
    def of(cls, node: Node) -> Index:
        """Index the subtree of ``node`` with one pass of queries/structure.scm."""
        caps = QueryCursor(query("structure")).captures(node)

        def get(*names: str) -> tuple[Node, ...]:
            found = [n for name in names for n in caps.get(name, [])]
            return tuple(sorted(found, key=lambda n: n.start_byte))

        macro = tuple(n for n in caps.get("macro_loop", []) if loop_macro_body(n) is not None)
        loops = tuple(sorted(get("loop") + macro, key=lambda n: n.start_byte))
        return cls(loops, get("decl"), get("init"), get("assign"), get("call"), get("comment"))

    def calls_in(self, node: Node) -> list[Node]:
        """Calls inside ``node`` (which must lie within the indexed subtree)."""
        return [
            c for c in self.calls if node.start_byte <= c.start_byte and c.end_byte <= node.end_byte
        ]

    def within(self, items: tuple[Node, ...], node: Node) -> list[Node]:
        """The ``items`` (one of this index's lists) inside ``node``."""
        return [c for c in items if node.start_byte <= c.start_byte and c.end_byte <= node.end_byte]


def parse(data: bytes, path: str = "<source>", ranges: list[tuple[int, int]] | None = None) -> Unit:
    """Parse C source bytes. ``ranges`` (byte offsets) limits parsing to those regions."""
    parser = Parser(LANGUAGE)
    if ranges:
        parser.included_ranges = [_range(data, a, b) for a, b in ranges]
    return Unit(data, path, parser.parse(data))


def _range(data: bytes, start: int, end: int) -> Range:
    def point(off: int) -> tuple[int, int]:
        row = data.count(b"\n", 0, off)
        col = off - (data.rfind(b"\n", 0, off) + 1)
        return (row, col)

    return Range(point(start), point(end), start, end)


# --- preprocessor context -------------------------------------------------------------


def _if0(cond: Node | None) -> bool:
    cond = unwrap(cond)
    return cond is not None and cond.type == "number_literal" and text(cond).strip() in ("0", "0x0")


def in_if0(node: Node) -> bool:
    """True when ``node`` sits in the live branch of ``#if 0`` (dead code)."""
    child, anc = node, node.parent
    while anc is not None:
        if anc.type == "preproc_if" and _if0(anc.child_by_field_name("condition")):
            alt = anc.child_by_field_name("alternative")
            if alt is None or not contains(alt, child):
                return True
        child, anc = anc, anc.parent
    return False


def config_conditions(node: Node, stop: Node | None = None) -> list[str]:
    """``CONFIG_`` conditions (``#ifdef``/``#if``/``IS_ENABLED``) enclosing ``node`` below ``stop``."""
    out: list[str] = []
    child, anc = node, node.parent
    while anc is not None and anc is not stop:
        if anc.type in ("preproc_ifdef", "preproc_if", "preproc_elif"):
            cond = anc.child_by_field_name("name") or anc.child_by_field_name("condition")
            alt = anc.child_by_field_name("alternative")
            negated = (
                anc.type == "preproc_ifdef" and anc.children and anc.children[0].type == "#ifndef"
            )
            in_alt = alt is not None and contains(alt, child)
            label = text(cond)
            if negated != in_alt:
                label = f"!{label}"
            if "CONFIG_" in label or "defined" in label:
                out.append(label)
        child, anc = anc, anc.parent
    return out
