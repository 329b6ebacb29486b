"""The lines a change adds, spelled as the target function writes them.

After a hunk's change is placed (:mod:`reviewbot.backport.relocate`) and its learned renames
applied, its added lines still speak upstream's API in places. In order: a folio call on what
the older tree reads as ``page_folio(page)`` becomes its page helper, as does upstream's folio
where the older function has only the head page; a jump to a label the function lacks becomes
its own exit; a statement or helper call of a later API becomes the way older trees write it;
a call is fitted to the tree's argument count; a release of a lock the function never takes is
left out. Each step that changes something says so, for the mail's notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewbot.backport import arity, exits
from reviewbot.backport.apitable import older_forms
from reviewbot.backport.arity import Calls, ParamCount
from reviewbot.backport.known import Known
from reviewbot.backport.pairs import without_unpaired
from reviewbot.backport.rewrites import (
    folio_as_head_page,
    older_exprs,
    page_wrappers,
    returns_bool_fn,
)
from reviewbot.ctree import syntax


@dataclass
class Spelled:
    """Added lines as the target writes them, and what changed on the way."""

    lines: list[str]
    renames: list[tuple[str, str]] = field(default_factory=list)  # (folio call, page helper)
    released: list[str] = field(default_factory=list)  # releases left out, for the notes
    notes: list[str] = field(default_factory=list)  # exits inlined, calls fitted, older APIs
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why the lines cannot go in as they are


def as_the_tree_writes(
    added: list[str],
    shown: list[str],
    fn: syntax.Function,
    fn_lines: list[str],
    unit: syntax.Unit,
    known: Known,
    params: ParamCount | None,
    fix_calls: Calls,
    where: str,
) -> Spelled:
    """``added`` (lines placed in ``fn``, whose text is ``fn_lines``, in ``unit``) spelled the
    way the target writes them; ``shown``: upstream's hunk before the change (its context and
    removed lines); ``where``: the target, for messages."""
    lines, wrapped = page_wrappers(added, known.has_name)
    lines, as_head = folio_as_head_page(lines, known, known.has_name)
    lines, inlined_exits = exits.inline(lines, exits.learn(shown, fn_lines, set(known.labels)))
    lines, forms = older_forms(lines, known.has_name)
    lines, exprs = older_exprs(lines, known.has_name, returns_bool_fn(fn.node))
    lines, fitted, mismatched = arity.fit(lines, arity.arities(unit), params, fix_calls)
    rel = without_unpaired(lines, shown, fn_lines, f"{fn.name}() at {where}")
    return Spelled(
        rel.lines,
        renames=wrapped + as_head,
        released=[f"{fn.name}() {x}" for x in rel.notes],
        notes=inlined_exits + fitted + [f"for {api}" for api in forms + exprs],
        warnings=rel.warnings,
        refused=mismatched + rel.refused,
    )
