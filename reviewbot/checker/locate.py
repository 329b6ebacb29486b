"""Find the function a check examines: by name (alias list), then by structural fingerprint.

Kernel functions get renamed (khugepaged_scan_pmd -> hpage_collapse_scan_pmd ->
collapse_scan_pmd). Aliases cover the renames we know; a fingerprint (calls that only that
function makes, such as its tracepoint) finds a rename we have never seen, and the result is
reported under the new name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Function, Node, Unit
from reviewbot.rules.records import Site


class FoundBy(StrEnum):
    """How :func:`locate` found a site's function."""

    NAME = "name"  # one of the site's aliases
    FINGERPRINT = "fingerprint"  # a function making all the calls of one fingerprint


@dataclass(frozen=True)
class Located:
    """The function a site examines and where (which unit) and how it was found."""

    unit: Unit
    function: Function
    how: FoundBy
    fingerprint: tuple[str, ...] = ()


def locate(units: list[Unit], site: Site, exclude: frozenset[str]) -> Located | None:
    """Locate ``site`` in ``units`` (lookup order); ``exclude`` names other roles' functions."""
    for name in site.functions:
        for unit in units:
            fn = unit.function(name)
            if fn is not None:
                return Located(unit, fn, FoundBy.NAME)
    callees: dict[tuple[int, int], set[str | None]] = {}  # per function, once for every fingerprint

    def calls_of(unit: Unit, fn: Function) -> set[str | None]:
        key = (id(unit), fn.node.id)  # node ids are unique within one tree only
        if key not in callees:
            callees[key] = {syntax.callee(c) for c in unit.index(fn.node).calls}
        return callees[key]

    for fp in site.fingerprints:
        want = set(fp)
        for unit in units:
            for name, defs in unit.functions.items():
                if name in exclude:
                    continue
                for fn in defs:
                    if not syntax.in_if0(fn.node) and want <= calls_of(unit, fn):
                        return Located(unit, fn, FoundBy.FINGERPRINT, fp)
    return None


def entry_pointers(unit: Unit, fn: Function, entry_type: str) -> set[str]:
    """Names declared in ``fn`` (parameters included) as pointers to ``entry_type``."""
    out: set[str] = set()
    want = " ".join(entry_type.split())
    decls = list(fn.params) + list(unit.index(fn.node).decls)
    for d in decls:
        typ = d.child_by_field_name("type")
        if typ is None or " ".join(syntax.text(typ).split()) != want:
            continue
        for c in d.named_children:
            if c.type in ("pointer_declarator", "init_declarator") and syntax.is_pointer_declarator(
                c
            ):
                name = syntax.declarator_name(c)
                if name:
                    out.add(name)
    return out


def loops(unit: Unit, fn: Function) -> list[tuple[Node, Node]]:
    """(loop statement, body) pairs in source order, iterator macros included."""
    out = []
    for n in unit.index(fn.node).loops:
        body = (
            n.child_by_field_name("body")
            if n.type != "expression_statement"
            else syntax.loop_macro_body(n)
        )
        if body is not None:
            out.append((n, body))
    return out


def loop_iterators(loop: Node) -> set[str]:
    """Variables a for loop advances in its update clause (``_pte++, addr += PAGE_SIZE``)."""
    out: set[str] = set()
    update = loop.child_by_field_name("update") if loop.type == "for_statement" else None
    if update is None:
        return out
    for n in syntax.walk(update):
        target = None
        if n.type == "update_expression":
            target = n.child_by_field_name("argument")
        elif n.type == "assignment_expression":
            target = n.child_by_field_name("left")
        if target is not None and target.type == "identifier":
            out.add(syntax.text(target))
    return out
