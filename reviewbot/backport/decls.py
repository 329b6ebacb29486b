"""Kernel C declares first: a block's leading declarations, and what may run before a change.

Used by :mod:`anchors` (a change that opens a block goes after the target's plain
declarations) and :mod:`filescope`/:mod:`relocate` (are added lines only declarations? where
does a new local go?).
"""

from __future__ import annotations

from reviewbot.backport import statements
from reviewbot.backport.align import Evidence
from reviewbot.backport.places import Ctx, Group, Place, indent
from reviewbot.backport.statements import Item
from reviewbot.ctree import syntax
from reviewbot.diffs.mailfmt import Edit


def past_declarations(us: list[Item], uj: int, ts: list[Item], tj: int) -> bool:
    """Do both gaps end their block's leading declarations, the target's being plain?

    Upstream's change opens the block (or follows its declarations); the target block starts
    with declarations upstream's lacks. Their initialisers must be plain values (no call, no
    dereference, no assignment): running them before the change cannot do what the change
    guards against.
    """
    return (
        (tj > 0 or uj > 0)
        and all(it.kind == "declaration" for it in us[:uj])
        and (uj == len(us) or us[uj].kind != "declaration")
        and all(it.kind == "declaration" and plain(it) for it in ts[:tj])
        and (tj == len(ts) or ts[tj].kind != "declaration")
    )


_EFFECTS = frozenset(
    {
        "call_expression",
        "field_expression",
        "subscript_expression",
        "assignment_expression",
        "update_expression",
    }
)


def plain(it: Item) -> bool:
    """A declaration whose initialisers read no memory and call nothing (``bool wait = true;``)."""
    for n in syntax.walk(it.node):
        if n.type in _EFFECTS:
            return False
        if n.type == "pointer_expression" and syntax.text(n).lstrip().startswith("*"):
            return False
    return True


def declarations(lines: list[str]) -> bool:
    """Are the lines only declarations of locals (``int drained = 0;``)?"""
    items = statements.fragment_block(statements.fragment(lines)).code_items()
    return bool(items) and all(it.kind == "declaration" for it in items)


def new_local(g: Group, ctx: Ctx, hunk_edits: list[Edit], edits: list[Edit]) -> Place | None:
    """Where a new local goes when its neighbours upstream are not in the target (f): in place
    of a declaration the same hunk removes, else at the end of the function's declarations."""
    lines = ctx.side.lines
    for e in hunk_edits:
        if e.remove and not e.add and declarations(lines[e.start : e.start + e.remove]):
            edits.remove(e)
            hunk_edits.remove(e)
            return Place(
                e.start,
                e.remove,
                indent(g.added[0]),
                indent(lines[e.start]),
                Evidence(),
                False,
                True,
            )
    if not hunk_edits:
        return None  # nothing else of the hunk is placed here: no sign this is its function
    items = ctx.root.code_items()
    decls = []
    for it in items:
        if it.kind != "declaration":
            break
        decls.append(it)
    if not decls or len(decls) == len(items):
        return None
    last = decls[-1]
    return Place(
        last.end + 1, 0, indent(g.added[0]), indent(lines[last.start]), Evidence(), False, True
    )


def new_parameters(lines: list[tuple[str, str]]) -> set[str]:
    """Parameters a hunk adds to a function definition it shows: its added lines in the
    declarator right above the body's opening ``{`` (a line of its own at the left margin),
    read as a parameter list. Nothing when the hunk shows no such ``{``."""
    opening = next((i for i, (_, x) in enumerate(lines) if x.rstrip() == "{"), None)
    if opening is None:
        return set()
    first = statements.declarator_top([x for _, x in lines], opening)
    text = " ".join(x.strip() for k, x in lines[first:opening] if k == "+")
    if "(" in text:
        text = text.split("(", 1)[1]  # the added lines name the function: its parameters
    text = text.strip().rstrip(")").strip().strip(",")
    if not text:
        return set()
    unit = syntax.parse(f"void __reviewbot_params({text});".encode(), "<params>")
    names: set[str] = set()
    for n in syntax.walk(unit.root):
        if n.type == "parameter_declaration":
            name = syntax.declarator_name(n.child_by_field_name("declarator"))
            if name:
                names.add(name)
    return names
