"""Which function of the target a hunk changes.

The @@ line's function (git's funcname line, or the definition a hunk starts in), the function
the first change lies in once the hunk's context is placed, the target's function of that name
(through the rules' renames, or the folio conversion's renames by word likeness), and, when the
name is nowhere, the functions holding most of the hunk's lines (or the words of the comment a
comment-only hunk rewrites).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace

from reviewbot.backport.known import API_NOUNS, api_words
from reviewbot.backport.places import groups, norm
from reviewbot.backport.removals import comment_runs, comment_text_words
from reviewbot.backport.statements import Side
from reviewbot.checker.locate import locate
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import Applied, FilePatch, Hunk, apply_file
from reviewbot.rules.records import Rule

_SECTION_FN = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


_DEFINITION = re.compile(r"^[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\([^;]*$")


_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof"})


_COMMENT_LINE = re.compile(r"^\s*(/\*.*|\*.*|)$")


def defined_name(line: str) -> str | None:
    """The function whose definition ``line`` starts (``static int f(struct x *x,``), or None."""
    m = _DEFINITION.match(line)
    return m.group(1) if m and m.group(1) not in _KEYWORDS else None


def section_function(h: Hunk) -> str | None:
    """The function a hunk changes, as the hunk shows it: one whose definition the first
    change rewrites, or starts in the context before it (git's ``@@`` line then names the
    function before it), else the one the ``@@`` section names (None for labels, structs,
    nothing)."""
    name = None
    for k, (kind, text) in enumerate(h.lines):
        if kind != " ":
            # the change rewrites a definition's first line (with the comment above it): that
            # function is the one changed
            for kind2, text2 in h.lines[k:]:
                if kind2 != "-":
                    break
                if (changed := defined_name(text2)) is not None:
                    return changed
                if not _COMMENT_LINE.match(text2):
                    break
            break
        name = defined_name(text) or name
    if name is not None:
        return name
    if (h.section or "").rstrip().endswith(";"):
        return None  # a declaration (a prototype), not the start of a function
    m = _SECTION_FN.search(h.section or "")
    return m.group(1) if m else None


def section_prefix(h: Hunk) -> str | None:
    """The start of a function name git cut off in the ``@@`` line (it keeps 80 columns):
    ``static void damon_do_test_apply_three_re`` gives ``damon_do_test_apply_three_re``."""
    section = (h.section or "").rstrip()
    if not section or "(" in section or section.endswith((";", "{", "}", ":")):
        return None
    m = re.fullmatch(r"[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)", section)
    return m.group(1) if m and " " in section else None


def function_at(unit: syntax.Unit, line: int) -> syntax.Function | None:
    for defs in unit.functions.values():
        for f in defs:
            if f.node.start_point[0] <= line <= f.node.end_point[0]:
                return f
    return None


def changed_function(unit: syntax.Unit, start: int, h: Hunk) -> syntax.Function | None:
    """The function the first change of ``h`` (its pre-image placed at line ``start``) lies in.

    A removal lies where its first removed line is; an insertion lies between two lines, inside
    a function only when the lines on both sides belong to it (a new function added after
    another one is at file scope, not in the function before it).
    """
    g = next(iter(groups(h)), None)
    if g is None:
        return None
    at = start + g.pre
    f = function_at(unit, at)
    if g.removed or f is None:
        return f
    before = function_at(unit, at - 1)
    return f if before is not None and before.node.start_byte == f.node.start_byte else None


def target_function(
    name: str | None, unit: syntax.Unit, rules: tuple[Rule, ...]
) -> syntax.Function | None:
    if name is None:
        return None
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                if name in site.functions:
                    loc = locate([unit], site, rule.all_functions - set(site.functions))
                    if loc is not None:
                        return loc.function
    found = unit.function(name)
    if found is not None:
        return found
    # The folio conversion renamed functions (mlock_new_page -> mlock_new_folio): the one
    # function whose name has the same words, API nouns aside, is the same function.
    words = api_words(name)
    full = set(name.lower().split("_")) - {""}
    same = [
        f
        for f in unit.functions
        if words
        and api_words(f) == words
        and set(f.lower().split("_")) - {""} != full  # __x and x are two functions
    ]

    def likeness(f: str) -> tuple[bool, bool]:
        # the same leading underscores (__folio_free_raw_hwp / __free_raw_hwp_pages), and an
        # API noun where upstream has one (mlock_new_folio / mlock_new_page, not mlock_new)
        nouns = API_NOUNS
        return (
            len(f) - len(f.lstrip("_")) == len(name) - len(name.lstrip("_")),
            any(w in nouns for w in f.split("_")) == any(w in nouns for w in name.split("_")),
        )

    same.sort(key=likeness, reverse=True)
    if len(same) > 1 and likeness(same[0]) == likeness(same[1]):
        return None
    return unit.function(same[0]) if same else None


def functions_like(h: Hunk, side: Side, most: int = 6) -> list[tuple[int, syntax.Function]]:
    """Target functions holding most of the hunk's context and removed lines, best first,
    with how many of those lines each holds."""
    want = {
        n
        for kind, text in h.lines
        if kind in (" ", "-")
        and len(n := norm(text)) > 3
        and not n.startswith(("/*", "*", "//"))
        and n not in ("} else {", "return 0;", "return ret;", "break;", "continue;")
    }
    if len(want) < 2:
        return []
    scored: list[tuple[int, syntax.Function]] = []
    for fns in side.unit.functions.values():
        for f in fns:
            lo, hi = f.node.start_point[0], f.node.end_point[0]
            have = {norm(x) for x in side.lines[lo : hi + 1]}
            common = len(want & have)
            if common >= 2 and 3 * common >= len(want):
                scored.append((common, f))
    scored.sort(key=lambda x: -x[0])
    return scored[:most]


def comment_holders(h: Hunk, side: Side) -> list[tuple[int, syntax.Function]]:
    """For a hunk that only rewrites a comment: the target functions holding the comment lines
    it removes, however the target wraps them (the runs :func:`removals.comment_runs` finds)."""
    if comment_text_words([text for kind, text in h.lines if kind != " "]) is None:
        return []
    want = comment_text_words([text for kind, text in h.lines if kind == "-"]) or []
    if len(want) < 4:
        return []
    return [
        (len(want), f)
        for fns in side.unit.functions.values()
        for f in fns
        if comment_runs(want, side.lines, f.node.start_point[0], f.node.end_point[0])
    ]


def close_names(name: str | None, unit: syntax.Unit) -> list[str]:

    if not name:
        return []
    return difflib.get_close_matches(name, sorted(unit.functions), n=3, cutoff=0.6)


def split_at_definitions(h: Hunk) -> list[Hunk]:
    """A hunk that changes code on both sides of a function's unchanged definition line, as
    one hunk per side (the second starting at that line): two changes of two places, which
    the older tree may have apart, or one side not at all."""
    for i, (kind, text) in enumerate(h.lines):
        if i == 0 or kind != " " or defined_name(text) is None:
            continue
        head, tail = h.lines[:i], h.lines[i:]
        if not any(k != " " for k, _ in head) or not any(k != " " for k, _ in tail):
            continue
        old = sum(1 for k, _ in head if k != "+")
        new = sum(1 for k, _ in head if k != "-")
        first = Hunk(h.source_start, old, h.target_start, new, h.section, head)
        rest = Hunk(
            h.source_start + old,
            h.source_length - old,
            h.target_start + new,
            h.target_length - new,
            text.strip(),
            tail,
        )
        return [first, *split_at_definitions(rest)]
    return [h]


def per_function(fp: FilePatch, data: bytes) -> FilePatch:
    """``fp`` with each hunk that does not apply to ``data`` as it is split per function
    (:func:`split_at_definitions`)."""
    hunks: list[Hunk] = []
    for h in fp.hunks:
        whole = isinstance(apply_file(data, FilePatch(fp.source, fp.target, (h,))), Applied)
        hunks += [h] if whole else split_at_definitions(h)
    return replace(fp, hunks=tuple(hunks))


def declarator_start(lines: list[str]) -> int:
    """Where the declarator starts among the lines above a body's ``{``: its definition line,
    else the top (the hunk starts inside the parameter list)."""
    for k in range(len(lines) - 1, -1, -1):
        if defined_name(lines[k]):
            return k
    return 0


def defines_another(lines: list[str], names: set[str | None]) -> bool:
    """Do ``lines`` start the definition of a function other than ``names`` (the body the hunk
    opens is someone else's)?"""
    return any((name := defined_name(x)) and name not in names for x in lines)
