"""Other readings of upstream's change for :mod:`reviewbot.backport.drift`, tried when it
differs from the backport as it is: with each local upstream adds only to name an expression
written out (:func:`inlined`), and without pieces that change code the target never had
(:func:`absent_pieces`, :func:`without`): a hunk in a function the target lacks, a statement of
a statement-for-statement rewrite with no counterpart in the target. Also the readings of an
upstream file the backport leaves alone (:func:`only_new_declarations`,
:func:`unused_new_helpers`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from reviewbot.backport.ctokens import IDENT, changed_runs, code_line, idents, token_ratio, tokens
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import FilePatch, Hunk, Mail

_INIT = re.compile(
    r"^\s*(?:const\s+)?(?:(?:struct|enum|union|unsigned|signed)\s+)*[A-Za-z_]\w*[\s*]+"
    r"([A-Za-z_]\w*)\s*=\s*([^;]+);\s*$"
)


def _contains(seq: list[str], part: list[str]) -> bool:
    return any(seq[i : i + len(part)] == part for i in range(len(seq) - len(part) + 1))


def inlined(u: FilePatch, b: FilePatch) -> tuple[FilePatch, list[str]] | None:
    """Upstream's change with each local it adds only to name an expression written out
    instead, when the backport never names the local but writes the expression out; and a
    note for each. None when there is no such local."""
    theirs = {t for h in b.hunks for _, x in h.lines for t in tokens([x])}
    b_added = tokens(x for h in b.hunks for x in h.added)
    old = {t for h in u.hunks for k, x in h.lines if k != "+" for t in tokens([x])}
    said: dict[str, str] = {}
    for h in u.hunks:
        for k, x in h.lines:
            m = _INIT.match(x) if k == "+" else None
            if m is None or m.group(1) in theirs or m.group(1) in old:
                continue
            expr = " ".join(m.group(2).split())
            if _contains(b_added, tokens([expr])):
                depth, top = 0, []
                for t in tokens([expr]):
                    depth += (t == "(") - (t == ")")
                    if depth == 0 and t not in ("(", ")", "->", ".") and not IDENT.match(t):
                        top.append(t)
                said[m.group(1)] = expr if not top else f"({expr})"
    if not said:
        return None
    word = re.compile(r"\b(" + "|".join(map(re.escape, said)) + r")\b")
    hunks = []
    for h in u.hunks:
        lines = tuple(
            (k, word.sub(lambda w: said[w.group(1)], x))
            for k, x in h.lines
            if not (k == "+" and (m := _INIT.match(x)) and m.group(1) in said)
        )
        hunks.append(replace(h, lines=lines))
    notes = [f"upstream's local {n} written out as `{e}`" for n, e in said.items()]
    return replace(u, hunks=tuple(hunks)), notes


@dataclass(frozen=True)
class Piece:
    """A part of upstream's change a backport may leave out: lines (hunk index, line index)."""

    lines: frozenset[tuple[int, int]]
    note: str


def _groups(rows: list[tuple[int, str]]) -> list[list[int]]:
    """Line indices of ``rows`` (one side of a run) cut into statements: a statement starts at
    a code line of the least indentation that does not close or continue a block."""
    code = [(i, x) for i, x in rows if code_line(x)]
    if not code:
        return []
    depth = {i: len(x.expandtabs(8)) - len(x.expandtabs(8).lstrip()) for i, x in code}
    base = min(depth.values())
    out: list[list[int]] = []
    for i, x in code:
        head = depth[i] == base and not x.strip().startswith(("}", "{", "else", "&&", "||"))
        if head or not out:
            out.append([])
        out[-1].append(i)
    return out


def _aligned(mine: list[list[str]], theirs: list[list[str]]) -> set[int]:
    """Indices of ``mine`` paired, in order, with a like statement of ``theirs`` (the pairing
    of greatest total likeness; like = half the tokens or more in common)."""
    n, m = len(mine), len(theirs)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = token_ratio(mine[i - 1], theirs[j - 1])
            both = best[i - 1][j - 1] + r if r >= 0.5 else 0.0
            best[i][j] = max(best[i - 1][j], best[i][j - 1], both)
    out: set[int] = set()
    i, j = n, m
    while i and j:
        if best[i][j] == best[i - 1][j]:
            i -= 1
        elif best[i][j] == best[i][j - 1]:
            j -= 1
        else:
            out.add(i - 1)
            i, j = i - 1, j - 1
    return out


def _region(h: Hunk, rem: list[tuple[int, str]], lines: list[str]) -> list[list[str]] | None:
    """The statements of the target between the code lines of ``h`` around a run (``rem``,
    its removed lines): where the target keeps what the run changes. None when those lines
    are not in the target, once each, in order."""
    first, last = rem[0][0], rem[-1][0]
    before = next(
        (s for k, x in reversed(h.lines[:first]) if k == " " and (s := code_line(x))), None
    )
    after = next((s for k, x in h.lines[last + 1 :] if k == " " and (s := code_line(x))), None)
    if before is None or after is None:
        return None
    norm = [" ".join(x.split()) for x in lines]
    starts = [i for i, x in enumerate(norm) if x == before]
    ends = [i for i, x in enumerate(norm) if x == after]
    if len(starts) != 1 or len(ends) != 1 or ends[0] <= starts[0]:
        return None
    rows = list(enumerate(lines[starts[0] + 1 : ends[0]]))
    return [tokens(rows[i][1] for i in g) for g in _groups(rows)]


def absent_pieces(u: FilePatch, b: FilePatch, text: str) -> list[Piece]:
    """Parts of upstream's change that touch code the target never had, which the backport
    cannot change: a hunk in a function the target lacks whose removed lines the target lacks
    too (lines the backport removes set aside), or one statement of a run that upstream
    rewrites statement for statement, which pairs with none of the target's statements
    between the same two lines (an order-keeping pairing by likeness)."""
    section = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
    unit = syntax.parse(text.encode(), u.path)
    lines = text.split("\n")
    left = Counter(" ".join(x.split()) for x in lines)
    left.subtract(" ".join(x.split()) for h in b.hunks for x in h.removed)
    out: list[Piece] = []
    for n, h in enumerate(u.hunks):
        m = section.search(h.section or "")
        code = [s for x in h.removed if (s := code_line(x))]
        gone = [s for s in code if left[s] <= 0]
        if m and m.group(1) not in unit.functions and gone:
            out.append(
                Piece(
                    frozenset((n, i) for i in range(len(h.lines))),
                    f"upstream's hunk in {m.group(1)}() left out: the target has neither"
                    f" {m.group(1)}() nor `{gone[0]}`",
                )
            )
        for rem, add in changed_runs(h):
            gr, ga = _groups(rem), _groups(add)
            if len(gr) < 2 or len(gr) != len(ga):
                continue  # not a statement-for-statement rewrite
            theirs = _region(h, rem, lines)
            if theirs is None:
                continue
            paired = _aligned([tokens(h.lines[i][1] for i in r) for r in gr], theirs)
            for k, (r, a) in enumerate(zip(gr, ga, strict=True)):
                if k in paired:
                    continue
                first = code_line(h.lines[r[0]][1]) or ""
                out.append(
                    Piece(
                        frozenset((n, i) for i in r + a),
                        f"upstream's change of `{first}` left out: the target does not have it",
                    )
                )
    return out


def without(u: FilePatch, pieces: Iterable[Piece]) -> FilePatch:
    drop = {x for p in pieces for x in p.lines}
    hunks = []
    for n, h in enumerate(u.hunks):
        kept = tuple(line for i, line in enumerate(h.lines) if (n, i) not in drop)
        if any(k != " " for k, _ in kept):
            hunks.append(replace(h, lines=kept))
    return replace(u, hunks=tuple(hunks))


def only_new_declarations(fp: FilePatch) -> bool:
    """A header hunk that only declares names: the backport may carry them elsewhere or not at all."""
    return all(
        not x.strip().startswith(("if", "return", "goto")) for h in fp.hunks for x in h.added
    )


def added_names(backport: Mail) -> set[str]:
    """The identifiers of every line ``backport`` adds."""
    return set(idents(tokens(x for b in backport.files for h in b.hunks for x in h.added)))


def unused_new_helpers(fp: FilePatch, has: Callable[[str], bool], used: set[str]) -> list[str]:
    """The helpers an upstream file's hunks only add, as whole definitions the target lacks
    and no line of the backport (``used``: the names its added lines have) calls: the
    backport spells what they stand for instead (``queries/api-renames.toml``), so it needs
    none of them. Empty when anything else changes there."""
    names: list[str] = []
    for h in fp.hunks:
        if h.removed:
            return []
        unit = syntax.parse("\n".join(h.added).encode(), fp.path)
        if unit.root.has_error or any(
            n.type not in ("function_definition", "comment") for n in unit.root.named_children
        ):
            return []
        names += list(unit.functions)
    if not names or any(has(n) or n in used for n in names):
        return []
    return sorted(names)
