"""Explain a missing guard: the nearest test that looks like one, and why it is not.

The verdict comes from ``flow`` (reachability); this module only finds the words. Phrases
are stable (tests and users grep for them): "is under #if 0", "appears only in a comment",
"is negated", "does not leave the loop", "is inside the <branch> branch", "tests another PTE",
"is before the loop", "is after the loop", "result is ignored", "too late".
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.checker.flow import evaluator
from reviewbot.checker.values import Context, Evaluator, truth
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Function, Node
from reviewbot.rules.records import Vocabulary


@dataclass(frozen=True)
class NearMiss:
    """A test that looks like a guard but is not one, worded for the message."""

    line: int
    text: str
    rank: int  # lower is nearer


def _own_statement(node: Node) -> Node | None:
    anc = node.parent
    while anc is not None and anc.type not in syntax.STATEMENT_TYPES:
        anc = anc.parent
    return anc


def _in_field(parent: Node, name: str, node: Node) -> bool:
    f = parent.child_by_field_name(name)
    return f is not None and syntax.contains(f, node)


def _first_jump(node: Node) -> Node | None:
    for n in syntax.walk(node):
        if n.type in (
            "goto_statement",
            "continue_statement",
            "break_statement",
            "return_statement",
        ):
            return n
    return None


def _why_not_leaving(branch: Node | None, loop: Node | None, words: Vocabulary) -> str:
    if branch is None:
        return "has no branch that leaves"
    jump = _first_jump(branch)
    if jump is None:
        assigns = any(n.type == "assignment_expression" for n in syntax.walk(branch))
        return (
            "does not leave the loop (only sets result)" if assigns else "does not leave the loop"
        )
    if jump.type == "continue_statement":
        return f"does not leave the loop (continue goes to the next {words.entry})"
    if jump.type == "break_statement":
        return f"does not leave {words.work} (break only ends the loop; {words.work} goes on)"
    if jump.type == "goto_statement":
        label = syntax.text(jump.child_by_field_name("label"))
        inside = loop is not None and any(
            n.type == "labeled_statement" and syntax.text(n.child_by_field_name("label")) == label
            for n in syntax.walk(loop)
        )
        if inside:
            return f"does not leave the loop (goto {label} stays inside it)"
    # The branch leaves, so the entries the check must stop never get there.
    return (
        "is not reached by the entries it must stop (an earlier branch ends their iteration first)"
    )


def _branch_label(cond: Node, ctx: Context, labels: dict[str, str]) -> str:
    for c in syntax.calls(cond):
        name = syntax.callee(c)
        if name in labels:
            return labels[name]
    return f"`{syntax.norm(cond)}`"


def _enclosing(
    call: Node, scope: Node, ctx: Context, labels: dict[str, str], words: Vocabulary
) -> str | None:
    """Why ``call`` is not reached by every entry on which the predicate holds, if so."""
    ev = evaluator(ctx)
    child, anc = call, call.parent
    while anc is not None and anc != scope:
        if anc.type == "if_statement" and not _in_field(anc, "condition", call):
            cond = anc.child_by_field_name("condition")
            v = truth(ev.ev(cond, {}), ctx.unit)
            in_then = _in_field(anc, "consequence", child)
            if cond is not None and ((in_then and v is False) or (not in_then and v is True)):
                return f"is inside the {_branch_label(cond, ctx, labels)} branch, which present {words.entries} never enter"
            if v is None:
                return (
                    f"is only reached when `{syntax.norm(cond)}`"
                    if in_then
                    else f"is only reached unless `{syntax.norm(cond)}`"
                )
        child, anc = anc, anc.parent
    return None


def explain_loop(
    fn: Function,
    loop: Node,
    ctx: Context,
    predicates: frozenset[str],
    related: frozenset[str],
    related_note: str,
    labels: dict[str, str],
    words: Vocabulary,
) -> NearMiss | None:
    """Nearest near-miss for a loop-bail check (None when nothing resembles a guard)."""
    misses: list[NearMiss] = []
    ev = evaluator(ctx)
    body = loop.child_by_field_name("body") or loop
    idx = ctx.unit.index(fn.node)
    for call in idx.calls:
        name = syntax.callee(call)
        if name in predicates:
            what = f"{syntax.text(call)} at line {syntax.line(call)}"
            in_loop = syntax.contains(loop, call)
            if syntax.in_if0(call):
                misses.append(NearMiss(syntax.line(call), f"{what} is under #if 0 (dead code)", 1))
                continue
            if not in_loop:
                where = "before the loop" if call.start_byte < loop.start_byte else "after the loop"
                call_args = syntax.args(call)
                extra = (
                    ""
                    if ctx.entry.is_current(call_args[0] if call_args else None)
                    else f" and tests another {words.entry}"
                )
                misses.append(NearMiss(syntax.line(call), f"{what} is {where}{extra}", 3))
                continue
            a = syntax.args(call)
            if not a or not ctx.entry.is_current(a[0]):
                arg = syntax.text(a[0]) if a else ""
                misses.append(
                    NearMiss(
                        syntax.line(call),
                        f"{what} tests another {words.entry} (`{arg}`), not the loop's current entry",
                        2,
                    )
                )
                continue
            reason = _enclosing(call, body, ctx, labels, words)
            if reason is None:
                reason = _own(call, loop, ctx, ev, words)
            misses.append(NearMiss(syntax.line(call), f"{what} {reason}", 0))
        elif (
            name
            and name not in predicates
            and syntax.contains(loop, call)
            and ctx.unit.function(name) is not None
            and ctx.relevant(name)
        ):
            stmt = _own_statement(call)
            if (
                stmt is not None
                and stmt.type == "expression_statement"
                and stmt.named_children
                and stmt.named_children[0] == call
            ):
                misses.append(
                    NearMiss(
                        syntax.line(call),
                        f"{name}() at line {syntax.line(call)} tests {words.marked} but its result is ignored",
                        0,
                    )
                )
            else:
                misses.append(
                    NearMiss(
                        syntax.line(call),
                        f"{name}() at line {syntax.line(call)} does not make the loop bail for every {words.marked_entry}",
                        0,
                    )
                )
    for c in idx.within(idx.calls, loop):
        if syntax.callee(c) in related:
            misses.append(
                NearMiss(
                    syntax.line(c),
                    f"only {syntax.callee(c)} at line {syntax.line(c)} ({related_note})",
                    4,
                )
            )
            break
    for node in idx.comments:
        if syntax.contains(loop, node):
            hit = _comment_mention(node, predicates)
            if hit:
                name, ln = hit
                misses.append(NearMiss(ln, f"{name} at line {ln} appears only in a comment", 5))
    if not misses:
        return None
    misses.sort(key=lambda m: (m.rank, m.line))
    return misses[0]


def _comment_mention(comment: Node, names: frozenset[str]) -> tuple[str, int] | None:
    """(name, line) of the first predicate named in a comment, e.g. ``if (pte_uffd_wp(x))``."""
    for offset, row in enumerate(syntax.text(comment).splitlines()):
        for name in sorted(names):
            if f"{name}(" in row:
                return name, syntax.line(comment) + offset
    return None


def _own(call: Node, loop: Node | None, ctx: Context, ev: Evaluator, words: Vocabulary) -> str:
    stmt = _own_statement(call)
    if stmt is not None and stmt.type == "if_statement" and _in_field(stmt, "condition", call):
        cond = stmt.child_by_field_name("condition")
        v = truth(ev.ev(cond, {}), ctx.unit)
        if v is False:
            return "is negated"
        if v is None:
            return f"is combined with other conditions (`{syntax.norm(cond)}` does not hold for every {words.marked} entry)"
        return _why_not_leaving(stmt.child_by_field_name("consequence"), loop, words)
    if stmt is not None and stmt.type == "expression_statement":
        return "result is ignored"
    return f"does not stop every {words.marked} entry"


def explain_vma(
    fn: Function,
    ctx: Context,
    predicates: frozenset[str],
    actions: frozenset[str],
    words: Vocabulary,
) -> NearMiss | None:
    """Nearest near-miss for a vma-bail site."""
    idx = ctx.unit.index(fn.node)
    acts = [c for c in idx.calls if syntax.callee(c) in actions and not syntax.in_if0(c)]
    first = acts[0] if acts else None
    ev = evaluator(ctx)
    misses = []
    for call in idx.calls:
        if syntax.callee(call) not in predicates:
            continue
        what = f"{syntax.text(call)} at line {syntax.line(call)}"
        if syntax.in_if0(call):
            misses.append(NearMiss(syntax.line(call), f"{what} is under #if 0 (dead code)", 1))
        elif first is not None and call.start_byte > first.start_byte:
            misses.append(
                NearMiss(
                    syntax.line(call),
                    f"{what} is after {syntax.callee(first)}() at line {syntax.line(first)}: too late",
                    0,
                )
            )
        else:
            stmt = _own_statement(call)
            if (
                stmt is not None
                and stmt.type == "if_statement"
                and _in_field(stmt, "condition", call)
            ):
                v = truth(ev.ev(stmt.child_by_field_name("condition"), {}), ctx.unit)
                reason = {False: "is negated", None: "is combined with other conditions"}.get(v)
                if reason is None:
                    tail = (
                        f" {syntax.callee(first)}() at line {syntax.line(first)}"
                        if first is not None
                        else f" {words.work}"
                    )
                    reason = f"does not stop{tail} (it is still reached)"
            else:
                reason = "result is not acted on"
            misses.append(NearMiss(syntax.line(call), f"{what} {reason}", 0))
    for node in idx.comments:
        hit = _comment_mention(node, predicates) if not misses else None
        if hit:
            misses.append(
                NearMiss(hit[1], f"{hit[0]} at line {hit[1]} appears only in a comment", 4)
            )
    if not misses:
        return None
    misses.sort(key=lambda m: (m.rank, m.line))
    return misses[0]
