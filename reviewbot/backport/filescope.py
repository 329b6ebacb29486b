"""Changes at file scope (issue 9, g): declarations a fix changes, adds or deletes.

A hunk whose changes sit between functions rather than in one: a parameter added to an
``extern`` prototype (edited like a statement, :mod:`partial`), a forward declaration added to a
run of them, a prototype or ``!CONFIG`` stub deleted by name. Each reading returns the target
edits, or None when the hunk is not of its kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from reviewbot.backport.decls import declarations
from reviewbot.backport.known import Known, known_for
from reviewbot.backport.partial import declaration_change
from reviewbot.backport.places import Failure, Group, groups
from reviewbot.backport.rewrites import older_exprs
from reviewbot.backport.statements import Side
from reviewbot.backport.symbols import symbols_ok
from reviewbot.backport.targetfn import section_function
from reviewbot.ctree import syntax
from reviewbot.diffs.mailfmt import Edit
from reviewbot.diffs.patches import Hunk


def declaration_edits(
    h: Hunk, side: Side, known: Known, check: Callable[[Edit], Failure | None]
) -> list[Edit] | Failure | None:
    """A hunk that changes file-scope declarations (an ``extern`` prototype gains a parameter):
    each change edits the target declaration that corresponds; ``check`` vets each edit. None when the hunk's changes
    are not all inside declarations ending in ``;`` within the hunk."""
    before = h.before
    out: list[Edit] = []
    for g in groups(h):
        lo = g.pre
        while (
            lo > 0
            and not before[lo - 1].rstrip().endswith((";", "}", "{"))
            and before[lo - 1].strip()
            and not before[lo - 1].lstrip().startswith("#")
        ):
            lo -= 1
        end = next(
            (
                j
                for j in range(g.pre + len(g.removed), len(before))
                if before[j].rstrip().endswith(";")
            ),
            None,
        )
        if end is None:
            return None
        hi = end + 1
        lines = before[lo:hi]
        post = lines[: g.pre - lo] + g.added + lines[g.pre + len(g.removed) - lo :]
        if any(x.rstrip() == "{" for x in lines + g.added + g.removed):
            return None  # a function body: not a change inside a declaration
        place = declaration_change(lines, post, side, known)
        if place is None or place.lines is None:
            return None
        edit = Edit(place.start, place.remove, place.lines)
        failure = check(edit)  # a name the new text uses that the tree lacks
        if failure is not None:
            return failure
        out.append(edit)
    return out or None


def at_file_scope(h: Hunk) -> bool:
    """Does every changed line of the hunk start at column 0 (or belong to a construct that
    does: a prototype's continuation lines, a function's body)?"""
    firsts = []
    for g in groups(h):
        lines = [x for x in g.removed + g.added if x.strip()]
        if lines:
            firsts.append(lines[0])
    # members added to a file-scope initializer (``.test_walk = fn,``) are file scope too
    return bool(firsts) and all(not x[:1].isspace() or _DESIGNATOR.match(x) for x in firsts)


def _top_level(unit: syntax.Unit) -> list[tuple[str, str, syntax.Node]]:
    """(kind, name, node) of the file-scope function definitions and declarations."""
    out = []
    for n in syntax.file_scope(unit.root):
        if n.type == "function_definition":
            f = syntax.function_of(n)
            if f is not None:
                out.append(("definition", f.name, n))
            continue
        for d in n.children_by_field_name("declarator"):
            name = syntax.declarator_name(d)
            if name:
                out.append(("declaration", name, n))
    return out


def removed_definitions(h: Hunk, side: Side) -> list[Edit] | None:
    """File-scope functions or prototypes upstream deletes whole (g): the target's own
    definition or prototype of that name goes, whatever its parameters, with one blank line
    next to it when upstream's removal takes one."""
    out: list[Edit] = []
    target = _top_level(side.unit)
    for g in groups(h):
        if g.added or not any(x.strip() for x in g.removed):
            return None
        code = [x for x in g.removed if x.strip()]
        if code[0][:1].isspace():
            return None  # not at file scope
        gone = [(k, n) for k, n, _ in _top_level(syntax.parse("\n".join(code).encode(), "<r>"))]
        if not gone:
            return None
        for kind, name in gone:
            same = [node for k, n, node in target if k == kind and n == name]
            if len(same) != 1:
                return None
            lo, hi = same[0].start_point[0], same[0].end_point[0]
            if not g.removed[0].strip() and lo > 0 and not side.lines[lo - 1].strip():
                lo -= 1  # the blank line before it, as upstream removes it
            elif (
                not g.removed[-1].strip()
                and hi + 1 < len(side.lines)
                and not side.lines[hi + 1].strip()
            ):
                hi += 1
            out.append(Edit(lo, hi - lo + 1, ()))
    return out or None


def _prototype_run(lines: list[str], k: int) -> int:
    """The index after the run of file-scope declarations (``...;`` at column 0, with their
    continuation lines) that starts at line ``k``."""
    i = k
    while i < len(lines):
        x = lines[i]
        if not x or x[0].isspace() or x.startswith(("#", "/", "{", "}")):
            break
        j = i
        while j < len(lines) and not lines[j].rstrip().endswith(";"):
            if lines[j].rstrip().endswith(("{", "}")) or (j > i and not lines[j][:1].isspace()):
                return i
            j += 1
        if j >= len(lines):
            break
        i = j + 1
    return i


def new_prototypes(h: Hunk, side: Side) -> list[Edit] | None:
    """New file-scope declarations (g): upstream adds a prototype to a run of them whose
    neighbours the older tree lacks. It goes at the end of the run that starts at the last line
    before it both trees have (a context line, or the declaration git's @@ line shows)."""
    gs = groups(h)
    if len(gs) != 1 or gs[0].removed or not gs[0].added or gs[0].added[0][:1].isspace():
        return None
    g = gs[0]
    if not declarations(g.added) or not g.added[-1].rstrip().endswith(";"):
        return None
    before = h.before[: g.pre]
    lead = next((k for k, x in enumerate(before) if not x.startswith("#")), len(before))
    if _prototype_run(before, lead) != len(before) and before:
        return None  # the context before the insertion is not a run of declarations
    anchors = [x for x in reversed(before) if x and not x[0].isspace()]
    if h.section and h.section.rstrip().endswith(";"):
        anchors.append(h.section.strip())
    for a in anchors:
        at = [k for k, x in enumerate(side.lines) if x.rstrip() == a.rstrip()]
        if len(at) == 1:
            start = at[0] + (a.startswith("#"))  # after an #ifdef: the run inside it
            end = _prototype_run(side.lines, start)
            if end > start:
                return [Edit(end, 0, tuple(g.added))]
        if len(at) > 1:
            return None
    return None


def new_definitions(
    h: Hunk,
    side: Side,
    check: Callable[[Edit], Failure | None],
    shown: frozenset[str] = frozenset(),
    spell: Callable[[list[str]], list[str]] = list,
) -> list[Edit] | Failure | None:
    """New file-scope functions (g) whose neighbours upstream are code the older file never
    had: each goes right above the first line after it (else below the last line before it)
    that the target has exactly once, skipping only lines the target lacks. That anchor must be
    a top-level line of its own (a preprocessor line, a declaration), never a brace or a blank;
    an ``#else``/``#endif`` only when the conditional it belongs to opens, in the target, with
    a line upstream's patch of the file shows (``shown``): the stub stays in its branch.
    ``spell`` writes the new lines the way the tree can (later helpers it lacks).
    """
    gs = groups(h)
    if not gs or any(g.removed or not g.added for g in gs):
        return None
    before = h.before
    count: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, x in enumerate(side.lines):
        count[x.rstrip()] = count.get(x.rstrip(), 0) + 1
        first.setdefault(x.rstrip(), i)

    inits = _initializers(side.lines)

    def anchor(rows: range) -> int | None:
        for k in rows:
            x = before[k].rstrip()
            if _INIT_OPEN.match(x):
                # an ops struct's opening, named otherwise in the older file: the one of that
                # type holding the members upstream's shows
                mapped = _initializer_for(before, k, inits)
                if mapped is not None:
                    return mapped[0]
            if not x.strip() or count.get(x, 0) == 0:
                continue  # a blank, or code the target never had
            if x.startswith("/*") and k + 1 < len(before):
                # a comment opening a definition (kernel-doc): anchored by its next line
                y = before[k + 1].rstrip()
                if count.get(y, 0) == 1 and first[y] > 0 and side.lines[first[y] - 1].rstrip() == x:
                    return first[y] - 1
                return None
            own_line = not x[:1].isspace() and x not in ("{", "}", "};")
            if count[x] > 1 or not own_line or x.startswith(("*", " *")):
                return None
            return first[x]
        return None

    def definition_place(g: Group) -> int | None:
        code = [x for x in g.added if x.strip()]
        if not code or code[0][:1].isspace():
            return None
        new = syntax.parse("\n".join(g.added).encode(), "<new>").functions
        if not new or any(side.unit.function(name) is not None for name in new):
            return None  # not a definition, or one the target already has
        at = anchor(range(g.pre, len(before)))
        adjacent = False  # right after the end of a function both trees have
        if at is None:
            at = anchor(range(g.pre - 1, -1, -1))
            if at is None:
                at = _end_of_named(h, g.pre, side)
                adjacent = at is not None
            if at is None:
                return None
            at += 1
            while at < len(side.lines) and not side.lines[at].strip():
                at += 1
        # next to that function, the new one shares its conditionals in both trees
        return at if adjacent or conditions_shown(side.lines, at, shown) else None

    out: list[Edit] = []
    for g in gs:
        members = all(_DESIGNATOR.match(x) for x in g.added)
        at = _member_place(before, g.pre, inits) if members else definition_place(g)
        if at is None:
            return None
        edit = Edit(at, 0, tuple(g.added) if members else tuple(spell(g.added)))
        failure = check(edit)
        if failure is not None:
            return failure
        out.append(edit)
    return out


def _end_of_named(h: Hunk, pre: int, side: Side) -> int | None:
    """The last line of the function the ``@@`` line names, when everything the hunk shows
    before the addition is that function's end in the target too (its closing brace last):
    a new definition upstream puts right after it follows it in the older file as well."""
    name = section_function(h)
    fn = side.unit.function(name) if name else None
    tail = [x.rstrip() for x in h.before[:pre]]
    while tail and not tail[-1]:
        tail.pop()
    if fn is None or not tail or tail[-1] != "}":
        return None
    end = fn.end_line - 1
    have = [x.rstrip() for x in side.lines[max(end - len(tail) + 1, 0) : end + 1]]
    return end if have == tail else None


_INIT_OPEN = re.compile(r"^(?:static\s+)?(?:const\s+)?struct\s+(\w+)\s+\w+\s*=\s*\{\s*$")
_DESIGNATOR = re.compile(r"^\s+\.\w+\s*=\s*[^;]+,\s*$")


def _initializers(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """File-scope struct initializers: (opening line, struct type, their member lines)."""
    out = []
    for i, x in enumerate(lines):
        m = _INIT_OPEN.match(x.rstrip())
        if m is None:
            continue
        members = []
        for y in lines[i + 1 :]:
            if y.rstrip() == "};":
                break
            members.append(y.rstrip())
        out.append((i, m.group(1), members))
    return out


def _initializer_for(
    before: list[str], k: int, inits: list[tuple[int, str, list[str]]]
) -> tuple[int, str, list[str]] | None:
    """The target initializer for upstream's opening line ``before[k]``: the one of the same
    struct type holding every member line upstream's context shows after it (at least one)."""
    m = _INIT_OPEN.match(before[k].rstrip())
    if m is None:
        return None
    shown_members = []
    for y in before[k + 1 :]:
        if not _DESIGNATOR.match(y):
            break
        shown_members.append(y.rstrip())
    return _holding(inits, m.group(1), shown_members)


def _holding(
    inits: list[tuple[int, str, list[str]]], kind: str, members: list[str]
) -> tuple[int, str, list[str]] | None:
    """The one initializer of struct ``kind`` holding every one of ``members`` that any
    initializer of the file has (at least one): members of a later API are no evidence."""
    known = {y for ini in inits for y in ini[2]}
    have = [y for y in members if y in known]
    if not have:
        return None
    hits = [ini for ini in inits if ini[1] == kind and set(have) <= set(ini[2])]
    return hits[0] if len(hits) == 1 else None


def _member_place(
    before: list[str], pre: int, inits: list[tuple[int, str, list[str]]]
) -> int | None:
    """Where members upstream adds to an initializer go in the target: after the member line
    before them, in the one initializer of that type holding upstream's members shown above."""
    k = pre - 1
    while k >= 0 and _DESIGNATOR.match(before[k]):
        k -= 1
    if k < 0 or k == pre - 1 or _INIT_OPEN.match(before[k].rstrip()) is None:
        return None
    m = _INIT_OPEN.match(before[k].rstrip())
    assert m is not None
    above = [y.rstrip() for y in before[k + 1 : pre]]
    hit = _holding(inits, m.group(1), above)
    if hit is None:
        return None
    opening, _, members = hit
    last = next(y for y in reversed(above) if y in members)
    return opening + 1 + members.index(last) + 1


def conditions_shown(lines: list[str], at: int, shown: frozenset[str]) -> bool:
    """Is every conditional enclosing line ``at`` one whose opening line the patch shows
    (``shown``), those wrapping the rest of the file aside (the include guard, ``#ifdef
    __KERNEL__``)? New file-scope code must not land under another config."""
    wrappers = _file_wide(lines)
    return all(lines[i].rstrip() in shown for i, _ in _enclosing(lines, at) if i not in wrappers)


def _directive(x: str) -> str:
    """``#ifdef`` for ``# ifdef X`` (the preprocessor word of a line, else empty)."""
    s = x.strip()
    if not s.startswith("#"):
        return ""
    rest = s[1:].lstrip()
    return "#" + (rest.split()[0] if rest else "")


def _enclosing(lines: list[str], at: int) -> list[tuple[int, int]]:
    """The conditionals open at line ``at``, outermost first: (opening line, depth)."""
    stack: list[int] = []
    for i, x in enumerate(lines[:at]):
        word = _directive(x)
        if word in ("#if", "#ifdef", "#ifndef"):
            stack.append(i)
        elif word == "#endif" and stack:
            stack.pop()
    return [(i, d) for d, i in enumerate(stack)]


def _file_wide(lines: list[str]) -> set[int]:
    """Openings of the conditionals that wrap the whole rest of the file (the include guard,
    ``#ifdef __KERNEL__``): those still open where the file's closing ``#endif`` run starts."""
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _directive(lines[end - 1]) == "#endif"):
        end -= 1
    return {i for i, _ in _enclosing(lines, end)}


def new_includes(h: Hunk, side: Side, shown: frozenset[str] = frozenset()) -> list[Edit] | None:
    """``#include`` lines upstream adds among includes the older file orders differently: after
    the nearest include before them that the target has exactly once (else before the nearest
    one after them), never under a conditional the patch does not show. An include the file
    already has needs nothing."""
    gs = groups(h)
    if len(gs) != 1 or gs[0].removed or not gs[0].added:
        return None
    g = gs[0]
    if not all(x.lstrip().startswith("#include") for x in g.added):
        return None
    have = {x.strip() for x in side.lines}
    new = tuple(x for x in g.added if x.strip() not in have)
    if not new:
        return []
    lines = [x.rstrip() for x in side.lines]
    before = h.before
    for rows, after in ((range(g.pre - 1, -1, -1), True), (range(g.pre, len(before)), False)):
        for k in rows:
            x = before[k].rstrip()
            if not x.lstrip().startswith("#include"):
                if x.strip():
                    break  # only the include block around the new lines anchors them
                continue
            if lines.count(x) == 1:
                at = lines.index(x) + (1 if after else 0)
                return [Edit(at, 0, new)] if conditions_shown(side.lines, at, shown) else None
    return None


def readings(
    h: Hunk,
    hn: int,
    side: Side,
    tree: Callable[[str], bool | None] | None,
    where: str,
    shown: frozenset[str] = frozenset(),
    notes: list[str] | None = None,
) -> list[Edit] | Failure | None:
    """The file-scope readings of a hunk, in order (``None``: it is of none of their kinds); a
    changed declaration's new text may only use names the tree has. A new definition's calls
    of later helpers the tree lacks are written the older way; ``notes`` gets the APIs."""
    known = known_for(side.unit, None, None, tree)

    def check(edit: Edit) -> Failure | None:
        failures: list[Failure] = []
        return None if symbols_ok([edit], known, hn, None, where, failures, []) else failures[0]

    def spell(lines: list[str]) -> list[str]:
        out, apis = older_exprs(lines, known.has_name, top=True)
        if notes is not None:
            notes.extend(f"for {a}" for a in apis if f"for {a}" not in notes)
        return out

    return (
        declaration_edits(h, side, known, check)
        or new_prototypes(h, side)
        or removed_definitions(h, side)
        or new_definitions(h, side, check, shown, spell)
        or new_includes(h, side, shown)
    )
