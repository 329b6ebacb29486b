"""Kernel C declares first: a block's leading declarations, and what may run before a change.

Used by :mod:`anchors` (a change that opens a block goes after the target's plain
declarations) and :mod:`filescope`/:mod:`relocate` (are added lines only declarations?).
"""

from __future__ import annotations

from reviewbot.backport import statements
from reviewbot.backport.statements import Item
from reviewbot.ctree import syntax


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
