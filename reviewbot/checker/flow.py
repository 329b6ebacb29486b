"""Control flow of one C function, explored under assumptions.

The question every check asks is a reachability question: *with the predicate true* (a present
PTE with the uffd-wp bit, or a VMA registered for uffd-wp), can execution still reach the point
where the work goes on (the next iteration of the PTE loop, or a pmd-level action)? We build a
small control-flow graph from the tree-sitter statements (if/else, loops and iterator macros,
switch/case, goto/labels, break/continue/return, ``#if`` blocks) and explore it breadth-first,
evaluating conditions in three-valued logic (true / false / unknown) over:

- the predicate and its aliases, true when applied to the loop's current entry;
- the rule's assumptions for the entry (``pte_present`` true, ``pte_none`` false, ...);
- constants, enumerators and flag variables assigned along the path;
- helpers defined in the same file, summarised by the value they return under the same
  assumptions (followed up to ``MAX_DEPTH`` levels).

An unknown condition forks. Each definite decision that depended on the predicate (or on a
helper that tests it) is recorded: those are the guards reported to the user. What one path
knows and how expressions evaluate on it is :mod:`reviewbot.checker.values`; helper summaries
(:func:`summarise`) are explorations of the helper, handed to its evaluator.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from reviewbot.checker.cfg import Builder, CfgNode, Graph
from reviewbot.checker.values import (
    Context,
    Entry,
    Env,
    Evaluator,
    Summary,
    Val,
    same,
    truth,
)
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node

MAX_STATES = 50_000
Taken = Literal["then", "else", "case", "return"]  # the outcome a decision records
Assignment = tuple[str, Node | None]  # (variable, value expression or None for 'unknown')


def evaluator(ctx: Context) -> Evaluator:
    """An evaluator for ``ctx`` whose helper calls are summarised by exploring the helper."""
    return Evaluator(ctx, summarise)


def summarise(ctx: Context, name: str, call_args: list[Node]) -> Summary:
    """Summarise helper ``name`` called with ``call_args`` under the caller's assumptions."""
    fn = ctx.unit.function(name)
    assert fn is not None  # callers summarise only helpers defined in the unit
    roles = tuple(ctx.entry.role_of(a) for a in call_args)
    key = (name, roles)
    if key in ctx.summaries:
        return ctx.summaries[key]
    ctx.summaries[key] = Summary(None)  # recursion guard
    iters, values = set(), set()
    for p, role in zip(fn.params, roles, strict=False):
        pname = syntax.declarator_name(p.child_by_field_name("declarator"))
        if pname and role == "iter":
            iters.add(pname)
        elif pname and role == "value":
            values.add(pname)
    idx = ctx.unit.index(fn.node)
    inner = Entry(frozenset(iters), frozenset(values), ctx.entry.readers)
    if iters or values:
        inner = inner.derive(list(idx.inits + idx.assigns), list(idx.calls), frozenset())
    sub = Context(
        ctx.unit,
        ctx.predicates,
        ctx.vma_predicates,
        ctx.assume,
        inner,
        ctx.depth + 1,
        ctx.summaries,
        ctx._relevant,
    )
    result = explore(Builder(None, ctx.unit.index(fn.node)).graph(fn.body), sub)
    values_seen = {v for v, _ in result.returns}
    summary = Summary(None)
    if result.complete and not result.falls_off and len(values_seen) == 1:
        (value,) = values_seen
        deciders = tuple(d.deciders[0] for d in result.decisions if d.deciders)
        summary = Summary(value, deciders)
    ctx.summaries[key] = summary
    return summary


# --- exploration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A condition whose outcome the predicate decided on some path."""

    node: Node  # the condition / switch expression
    taken: Taken
    deciders: tuple[Node, ...]  # predicate / helper calls it depended on
    configs: tuple[str, ...]
    # The branches the predicate chose and ruled out (None for switches and returns): a test
    # whose chosen branch goes on with the work while the other one leaves is no guard.
    chosen: CfgNode | None = None
    ruled_out: CfgNode | None = None


@dataclass
class Result:
    """What an exploration reached: accepted iterations, actions, returns, and decisions."""

    accepted: list[Node] = field(default_factory=list)  # loop-next nodes reached
    actions: list[Node] = field(default_factory=list)  # action calls reached
    returns: list[tuple[Val, Node]] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    falls_off: bool = False
    complete: bool = True


def _assignments(stmt: Node, reads: str) -> list[Assignment]:
    """(variable, value expression or None for 'unknown') for each assignment in ``stmt``."""
    out: list[Assignment] = []
    todo = [stmt]
    while todo:
        n = todo.pop()
        if n.type in ("expression_statement", "comma_expression", "parenthesized_expression"):
            todo.extend(n.named_children)
        elif n.type == "declaration":
            todo.extend(c for c in n.named_children if c.type in ("init_declarator", "identifier"))
        elif n.type in (
            "assignment_expression",
            "init_declarator",
            "identifier",
            "update_expression",
        ):
            if n.type == "assignment_expression":
                target = n.child_by_field_name("left")
                op = syntax.text(n.child_by_field_name("operator"))
                value = n.child_by_field_name("right") if op == "=" else None
            elif n.type == "init_declarator":
                target = n.child_by_field_name("declarator")
                value = n.child_by_field_name("value")
            elif n.type == "update_expression":
                target, value = n.child_by_field_name("argument"), None
            else:
                target, value = n, None
            if target is not None and target.type in (
                "identifier",
                "field_expression",
                "pointer_expression",
            ):
                key = syntax.norm(target)
                if key in reads:
                    out.append((key, value))
    return out


def _apply(assigns: list[Assignment], env: Env, ev: Evaluator) -> Env:
    """Update flag variables for the assignments of one statement."""
    if not assigns:
        return env
    changed = dict(env)
    for key, value in assigns:
        before = len(ev.used)
        val = ev.ev(value, env) if value is not None else None
        origin = ev.used[-1] if len(ev.used) > before else None
        if val is None:
            changed.pop(key, None)
        else:
            changed[key] = (val, origin)
    return changed


def _freeze(env: Env) -> tuple[tuple[str, Val, int | None], ...]:
    if not env:
        return ()
    return tuple(sorted((k, v, o.id if o is not None else None) for k, (v, o) in env.items()))


def explore(graph: Graph, ctx: Context, actions: frozenset[str] = frozenset()) -> Result:
    """Breadth-first exploration of ``graph`` from its entry; see the module docstring."""
    res = Result()
    ev = evaluator(ctx)
    seen: set[tuple[int, tuple]] = set()
    queue: deque[tuple[CfgNode, Env]] = deque([(graph.entry, {})])
    decided: set[tuple[int, Taken]] = set()
    keep: list[Env] = []

    frozen: dict[int, tuple] = {}

    def push(node: CfgNode | None, env: Env) -> None:
        """Queue ``node`` under ``env`` unless that state was seen."""
        # Skip statements that neither act nor assign a tracked variable: fewer states.
        while (
            node is not None
            and node.kind == "stmt"
            and node.ast is not None
            and transparent(node.ast)
        ):
            node = node.succ
        if node is None:
            res.falls_off = True
            return
        fz = frozen.get(id(env))
        if fz is None:
            fz = frozen[id(env)] = _freeze(env)
            keep.append(env)  # keep ids unique while cached
        key = (id(node), fz)
        if key not in seen:
            seen.add(key)
            queue.append((node, env))

    hit_cache: dict[int, list[Node]] = {}
    assign_cache: dict[int, list[Assignment]] = {}

    def acting(ast: Node) -> list[Node]:
        """The action calls in a statement (cached: states revisit statements)."""
        found = hit_cache.get(ast.id)
        if found is None:
            found = hit_cache[ast.id] = (
                [c for c in syntax.calls(ast) if syntax.callee(c) in actions] if actions else []
            )
        return found

    def assigning(ast: Node) -> list[Assignment]:
        """The tracked assignments in a statement (cached like ``acting``)."""
        assigns = assign_cache.get(ast.id)
        if assigns is None:
            assigns = assign_cache[ast.id] = _assignments(ast, graph.reads)
        return assigns

    def transparent(ast: Node) -> bool:
        """A statement that neither acts nor assigns a tracked variable."""
        return not acting(ast) and not assigning(ast)

    def hits(ast: Node | None) -> None:
        """Record the action calls in ``ast``."""
        if ast is not None:
            res.actions.extend(acting(ast))

    def decide(
        node: CfgNode,
        ast: Node,
        taken: Taken,
        chosen: CfgNode | None = None,
        ruled_out: CfgNode | None = None,
    ) -> None:
        """Record a definite outcome of ``node`` (on ``ast``) if only the predicate made it definite."""
        before = len(ev.used)
        masked = ev.ev(ast, env, masked=True)
        deciders = tuple(ev.used[before:])
        del ev.used[before:]
        if masked is None and deciders and (ast.id, taken) not in decided:
            decided.add((ast.id, taken))
            res.decisions.append(Decision(ast, taken, deciders, node.configs, chosen, ruled_out))

    while queue:
        if len(seen) > MAX_STATES:
            res.complete = False
            break
        node, env = queue.popleft()
        k = node.kind
        if k == "end":
            if node.ast is None:
                res.falls_off = True
            continue
        if k == "return":
            ast = node.ast
            assert ast is not None  # return nodes are built from their statement
            hits(ast)
            expr = ast.named_children[0] if ast.named_children else None
            before = len(ev.used)
            val = ev.ev(expr, env) if expr is not None else None
            res.returns.append((val, ast))
            if val is not None and len(ev.used) > before:
                deciders = tuple(ev.used[before:])
                res.decisions.append(Decision(ast, "return", deciders, node.configs))
            continue
        if k == "nop":
            if node.accept:
                assert node.ast is not None  # accepting nodes are built from their loop
                res.accepted.append(node.ast)
            push(node.succ, env)
            continue
        if k == "stmt":
            hits(node.ast)
            if node.ast is None:
                push(node.succ, env)
                continue
            push(node.succ, _apply(assigning(node.ast), env, ev))
            continue
        if k == "cond":
            ast = node.ast
            if ast is None:
                if node.label == "forever":
                    push(node.succ, env)
                else:
                    push(node.succ, env)
                    push(node.alt, env)
                continue
            hits(ast)
            v = truth(ev.ev(ast, env), ctx.unit)
            if v is None:
                push(node.succ, env)
                push(node.alt, env)
            else:
                decide(
                    node,
                    ast,
                    "then" if v else "else",
                    node.succ if v else node.alt,
                    node.alt if v else node.succ,
                )
                push(node.succ if v else node.alt, env)
            continue
        if k == "switch":
            ast = node.ast
            hits(ast)
            value = ev.ev(ast, env)
            default = next((e for case, e in node.cases if case is None), node.succ)
            if value is None or ast is None:  # (no expression evaluates to None too)
                for _, e in node.cases:
                    push(e, env)
                push(default, env)
                continue
            decide(node, ast, "case")
            target = default
            for case, e in node.cases:
                if case is not None and same(value, ev.ev(case, env), ctx.unit):
                    target = e
                    break
            push(target, env)
    return res
