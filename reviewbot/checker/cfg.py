"""Control-flow graphs of C function bodies, built from tree-sitter statements.

Statements become nodes (``stmt``, ``cond``, ``switch``, ``return``, ``nop``, ``end``) linked by
continuation passing: each statement is built knowing its successor. Covered: blocks, if/else,
for/while/do and iterator macros (``list_for_each_entry(...) {``), switch/case with
fall-through, goto/labels, break/continue/return, and ``#if``/``#ifdef`` blocks (the
configuration that has the feature is assumed: ``#ifdef CONFIG_X`` taken, ``#if 0`` not; the
assumed conditions are recorded on the nodes). ``flow.explore`` walks these graphs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node

NORETURN = frozenset({"BUG", "panic", "do_exit"})

# Literals, not enums: ``explore`` compares node kinds once per visited state, and a plain
# string comparison is several times cheaper than an enum member lookup on Python 3.11.
NodeKind = Literal["stmt", "cond", "switch", "return", "nop", "end"]
# Conditions without an expression: an iterator macro (more entries or not) or ``for (;;)``.
CondLabel = Literal["macro", "forever"]


class CfgNode:
    """A CFG node: ``succ`` is the next node (a condition's true branch), ``alt`` its false one.

    ``stmt`` runs ``ast``; ``cond`` and ``switch`` branch on it (``cases`` pairs each case value,
    None for ``default``, with its entry); ``return`` and ``end`` leave; ``nop`` only passes on
    (loop heads, labels, gotos, break/continue). ``accept`` marks the target loop's next
    iteration; ``configs`` the ``#if`` conditions assumed to reach the node.
    """

    __slots__ = ("kind", "ast", "succ", "alt", "cases", "accept", "configs", "label")

    def __init__(
        self,
        kind: NodeKind,
        ast: Node | None = None,
        succ: CfgNode | None = None,
        configs: tuple[str, ...] = (),
    ):
        self.kind = kind
        self.ast = ast
        self.succ = succ
        self.alt: CfgNode | None = None
        self.cases: list[tuple[Node | None, CfgNode]] = []
        self.accept = False
        self.configs = configs
        self.label: CondLabel | None = None


@dataclass
class Graph:
    """A function body's control flow, from ``entry``."""

    entry: CfgNode
    loops: dict[int, CfgNode] = field(
        default_factory=dict
    )  # loop node id -> its "next iteration" node
    unresolved_gotos: list[str] = field(default_factory=list)
    reads: str = ""  # the text of conditions, switches and returns: assignments to other variables are not tracked


_NOT_STATEMENTS = frozenset({"comment", "preproc_arg"})


def _stmts(node: Node) -> list[Node]:
    """Statement children of a block-like node (comments, punctuation and #if parts dropped)."""
    if node.type == "compound_statement":
        return [c for c in node.named_children if c.type not in _NOT_STATEMENTS]
    skip = set()
    for f in ("condition", "name", "alternative", "value"):
        c = node.child_by_field_name(f)
        if c is not None:
            skip.add(c.id)
    return [c for c in node.named_children if c.type not in _NOT_STATEMENTS and c.id not in skip]


class Builder:
    """Builds a :class:`Graph` by continuation passing (each statement gets its successor)."""

    def __init__(self, target_loop: Node | None = None, index: syntax.Index | None = None):
        self.target_loop = target_loop
        self.index = index
        # Only look for noreturn calls statement by statement when the function has any.
        self.noreturn = index is None or any(syntax.callee(c) in NORETURN for c in index.calls)
        self.labels: dict[str, CfgNode] = {}
        self.gotos: list[tuple[CfgNode, str]] = []
        self.loops: dict[int, CfgNode] = {}
        self.configs: tuple[str, ...] = ()
        self.reads: list[str] = []

    def graph(self, body: Node) -> Graph:
        """The graph of a function ``body`` (gotos resolved; unknown labels end the path)."""
        end = CfgNode("end")
        self.reads = []
        entry = self.block(_stmts(body), end, None, None)
        unresolved = []
        for node, label in self.gotos:
            target = self.labels.get(label)
            if target is None:
                unresolved.append(label)
                node.succ = end
            else:
                node.succ = target
        return Graph(entry, self.loops, unresolved, "\n".join(self.reads))

    def _reads(self, expr: Node | None) -> None:
        """Remember what an expression reads: only variables named there are tracked as flags."""
        if expr is not None:
            self.reads.append(syntax.norm(expr))

    def block(
        self, stmts: list[Node], nxt: CfgNode, brk: CfgNode | None, cont: CfgNode | None
    ) -> CfgNode:
        """The entry of ``stmts`` run in order before ``nxt`` (``brk``/``cont``: loop exits)."""
        # Pair iterator macros with their body: list_for_each_entry(...) { ... }
        items: list[tuple[Node, Node | None]] = []
        i = 0
        while i < len(stmts):
            body = syntax.loop_macro_body(stmts[i])
            if body is not None and i + 1 < len(stmts) and stmts[i + 1] == body:
                items.append((stmts[i], body))
                i += 2
            else:
                items.append((stmts[i], None))
                i += 1
        for stmt, body in reversed(items):
            nxt = (
                self.macro_loop(stmt, body, nxt)
                if body is not None
                else self.stmt(stmt, nxt, brk, cont)
            )
        return nxt

    def _loop_exit(self, loop_ast: Node, nxt: CfgNode) -> CfgNode:
        """Where ``break`` goes: after the loop; for the target loop that accepts the entry."""
        if self.target_loop is None or loop_ast != self.target_loop:
            return nxt
        out = CfgNode("nop", loop_ast, nxt, self.configs)
        out.accept = True
        return out

    def _loop_next(self, loop_ast: Node, succ: CfgNode | None) -> CfgNode:
        nn = CfgNode("nop", loop_ast, succ, self.configs)
        nn.accept = self.target_loop is not None and loop_ast == self.target_loop
        self.loops[loop_ast.id] = nn
        return nn

    def macro_loop(self, head: Node, body: Node, nxt: CfgNode) -> CfgNode:
        """An iterator macro ``head`` with its ``body`` block, followed by ``nxt``."""
        cond = CfgNode(
            "cond", None, None, self.configs
        )  # iterator macro: unknown whether more entries
        cond.label = "macro"
        nn = self._loop_next(head, cond)
        cond.succ = self.stmt(body, nn, self._loop_exit(head, nxt), nn)
        cond.alt = nxt
        return CfgNode("stmt", head.named_children[0], cond, self.configs)

    def stmt(self, s: Node, nxt: CfgNode, brk: CfgNode | None, cont: CfgNode | None) -> CfgNode:
        """The entry of statement ``s`` followed by ``nxt`` (``brk``/``cont``: loop exits)."""
        t = s.type
        if t == "compound_statement":
            return self.block(_stmts(s), nxt, brk, cont)
        if t == "if_statement":
            cond = CfgNode("cond", s.child_by_field_name("condition"), None, self.configs)
            self._reads(cond.ast)
            cons = s.child_by_field_name("consequence")
            alt = s.child_by_field_name("alternative")
            cond.succ = self.stmt(cons, nxt, brk, cont) if cons is not None else nxt
            if alt is not None:
                alt_stmt = (
                    alt.named_children[-1]
                    if alt.type == "else_clause" and alt.named_children
                    else alt
                )
                cond.alt = self.stmt(alt_stmt, nxt, brk, cont)
            else:
                cond.alt = nxt
            return cond
        if t in ("for_statement", "while_statement"):
            cond = CfgNode("cond", s.child_by_field_name("condition"), None, self.configs)
            self._reads(cond.ast)
            if t == "for_statement" and cond.ast is None:
                cond.label = "forever"
            update = s.child_by_field_name("update")
            upd = CfgNode("stmt", update, cond, self.configs) if update is not None else cond
            nn = self._loop_next(s, upd)
            body = s.child_by_field_name("body")
            cond.succ = self.stmt(body, nn, self._loop_exit(s, nxt), nn) if body is not None else nn
            cond.alt = nxt
            init = s.child_by_field_name("initializer")
            return CfgNode("stmt", init, cond, self.configs) if init is not None else cond
        if t == "do_statement":
            cond = CfgNode("cond", s.child_by_field_name("condition"), None, self.configs)
            self._reads(cond.ast)
            nn = self._loop_next(s, cond)
            body = s.child_by_field_name("body")
            assert body is not None  # tree-sitter gives every do statement a body
            first = self.stmt(body, nn, self._loop_exit(s, nxt), nn)
            cond.succ, cond.alt = first, nxt
            return first
        if t == "switch_statement":
            sw = CfgNode("switch", s.child_by_field_name("condition"), nxt, self.configs)
            self._reads(sw.ast)
            body = s.child_by_field_name("body")
            cases = [c for c in body.named_children if c.type == "case_statement"] if body else []
            follow = nxt
            entries = []
            for case in reversed(cases):
                value = case.child_by_field_name("value")
                stmts = [c for c in _stmts(case) if c != value]
                follow = self.block(stmts, follow, nxt, cont)
                entries.append((value, follow))
            sw.cases = list(reversed(entries))
            return sw
        if t == "return_statement":
            self._reads(s)
            return CfgNode("return", s, None, self.configs)
        if t == "goto_statement":
            g = CfgNode("nop", s, None, self.configs)
            self.gotos.append((g, syntax.text(s.child_by_field_name("label"))))
            return g
        if t == "break_statement":
            return CfgNode("nop", s, brk, self.configs) if brk is not None else CfgNode("end", s)
        if t == "continue_statement":
            return CfgNode("nop", s, cont, self.configs) if cont is not None else CfgNode("end", s)
        if t == "labeled_statement":
            inner = [
                c for c in s.named_children if c.type not in ("statement_identifier", "comment")
            ]
            lab = CfgNode("nop", s, None, self.configs)
            lab.succ = self.block(inner, nxt, brk, cont)
            self.labels[syntax.text(s.child_by_field_name("label"))] = lab
            return lab
        if t in ("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else"):
            return self.preproc(s, nxt, brk, cont)
        if (
            t == "expression_statement"
            and self.noreturn
            and any(syntax.callee(c) in NORETURN for c in self._calls(s))
        ):
            return CfgNode("end", s)
        return CfgNode("stmt", s, nxt, self.configs)

    def _calls(self, s: Node) -> list[Node]:
        return self.index.calls_in(s) if self.index is not None else list(syntax.calls(s))

    def preproc(self, s: Node, nxt: CfgNode, brk: CfgNode | None, cont: CfgNode | None) -> CfgNode:
        """Assume the configuration that has the feature: #ifdef CONFIG_X taken, #if 0 not."""
        t = s.type
        alt = s.child_by_field_name("alternative")
        if t == "preproc_else":
            return self.block(_stmts(s), nxt, brk, cont)
        cond = s.child_by_field_name("condition") or s.child_by_field_name("name")
        negated = t == "preproc_ifdef" and s.children and s.children[0].type == "#ifndef"
        taken = not negated
        label = syntax.text(cond)
        if t in ("preproc_if", "preproc_elif"):
            c = syntax.unwrap(cond)
            if c is not None and c.type == "number_literal":
                taken = syntax.text(c).strip() not in ("0", "0x0")
                label = ""
        if taken:
            saved = self.configs
            if label:
                self.configs = saved + (label,)
            try:
                return self.block(_stmts(s), nxt, brk, cont)
            finally:
                self.configs = saved
        return self.stmt(alt, nxt, brk, cont) if alt is not None else nxt


def reachable(
    graph: Graph, want: Callable[[CfgNode], bool], start: CfgNode | None = None
) -> list[CfgNode]:
    """Nodes satisfying ``want`` reachable from the entry (or ``start``) when every condition
    may go both ways."""
    out: list[CfgNode] = []
    seen: set[int] = set()
    todo: list[CfgNode | None] = [graph.entry if start is None else start]
    while todo:
        n = todo.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if want(n):
            out.append(n)
        todo.extend([n.succ, n.alt] + [e for _, e in n.cases])
    return out
