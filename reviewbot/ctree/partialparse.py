"""Parsing only the functions a rule examines (``Parser.included_ranges``).

A 3,000-line file takes ~9 ms to parse; the functions a rule examines are a tenth of it.
Kernel style puts a definition's name on a line that starts at column 0 (or on the line after
its return type) and the closing brace alone at column 0. We use that only to choose byte
ranges for tree-sitter; tree-sitter still does all the parsing, and callers verify that every
function they need came out whole, or parse the whole file.
"""

from __future__ import annotations

import bisect
import re

from reviewbot.ctree.syntax import Function, Unit, parse

_ENUM_BLOCK = re.compile(rb"^(?:typedef\s+)?enum\b[^;{\n]*\{.*?^\}[^\n]*;", re.M | re.S)
_DEF_HEAD = re.compile(
    rb"^(?P<head>[A-Za-z_][^\n;{}()=#]*?[\s*])?(?P<name>[A-Za-z_]\w*)\s*\(", re.M
)


def definitions(data: bytes) -> dict[str, tuple[int, int]]:
    """Column-0 function definitions: name -> (start, end) byte range (first of each name)."""
    out: dict[str, tuple[int, int]] = {}
    pos = 0
    while True:
        m = _DEF_HEAD.search(data, pos)
        if m is None:
            return out
        pos = m.end()
        semi, brace = data.find(b";", m.end()), data.find(b"{", m.end())
        if brace < 0:
            return out
        if 0 <= semi < brace:
            continue  # a prototype or a declaration
        close = data.find(b"\n}", brace)
        if close < 0:
            return out
        start = m.start()
        if (
            m.group("head") is None and start > 0
        ):  # "static int\nname(": the type is on the line before
            start = data.rfind(b"\n", 0, start - 1) + 1
        out.setdefault(m.group("name").decode(), (start, close + 2))
        pos = close + 2


def parse_functions(
    data: bytes, path: str, names: set[str], markers: set[str], depth: int = 3
) -> Unit | None:
    """Parse only the definitions of ``names`` and of helpers they call that mention ``markers``.

    A helper is followed when its text mentions a marker (the rule's predicates) or another
    followed helper, up to ``depth`` levels. Returns None when the shortcut cannot be trusted
    (a name has no column-0 definition, or did not parse whole); the caller then parses the
    whole file.
    """
    defs = definitions(data)
    if not names & set(defs):
        return None
    order = sorted(defs.items(), key=lambda kv: kv[1][0])
    starts = [span[0] for _, span in order]

    def holders(words: set[str], suffix: bytes = b"") -> set[str]:
        """Definitions whose text mentions one of ``words`` (one regex pass over the file)."""
        out = set()
        for w in words:
            needle = w.encode() + suffix
            at = data.find(needle)
            while at >= 0:
                i = bisect.bisect_right(starts, at) - 1
                before = data[at - 1 : at]
                if i >= 0 and at < order[i][1][1] and not (before.isalnum() or before == b"_"):
                    out.add(order[i][0])
                at = data.find(needle, at + 1)
        return out

    # Rule functions are examined on their own, never followed as helpers of each other.
    relevant = holders(markers) - names
    frontier = set(relevant)
    for _ in range(depth - 1):
        frontier = holders(frontier, b"(") - names - relevant
        if not frontier:
            break
        relevant |= frontier
    wanted = {n for n in names if n in defs}
    # Helpers: relevant definitions called (textually) from a wanted function, transitively.
    frontier = set(wanted)
    while frontier and relevant - wanted:
        chunks = [data[defs[f][0] : defs[f][1]] for f in frontier]
        frontier = {h for h in relevant - wanted if any(h.encode() + b"(" in c for c in chunks)}
        wanted |= frontier
    # A followed helper may return through helpers that mention no marker (a status setter such
    # as ``return pte_check_fail(ctx, SCAN_PTE_UFFD);``): parse what the helpers call, too.
    frontier = wanted - names
    for _ in range(depth - 1):
        chunks = [data[defs[f][0] : defs[f][1]] for f in frontier]
        frontier = {
            h for h in set(defs) - wanted - names if any(h.encode() + b"(" in c for c in chunks)
        }
        if not frontier:
            break
        wanted |= frontier
    spans = sorted(
        {defs[n] for n in wanted} | {(m.start(), m.end()) for m in _ENUM_BLOCK.finditer(data)}
    )
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    unit = parse(data, path, merged)
    for name in wanted:
        fn = unit.function(name)
        if fn is None or not _whole(fn):
            return None
    unit.partial = True
    return unit


def _whole(fn: Function) -> bool:
    """A function parsed from a range is whole when its body closes with a real brace."""
    last = fn.body.children[-1] if fn.body.children else None
    return last is not None and last.type == "}" and not last.is_missing
