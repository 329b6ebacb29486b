"""Is each statement a backport adds where upstream puts it? The placement checks of drift.

Independently of the token edit (:mod:`reviewbot.backport.edits`), an added statement whose
enclosing block header (as upstream shows it) exists in the target but that the backport put
under another block is a guard in another branch (:func:`moved`); one put before the existing
line upstream puts it after is out of order (:func:`reordered`); one upstream writes in place of
a like statement that the backport adds away from it is another change (:func:`split_off`).
Statements pair up modulo the drift between the trees (:func:`counterparts`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reviewbot.backport.apitable import api_renames
from reviewbot.backport.ctokens import (
    IDENT,
    KEYWORDS,
    changed_runs,
    code_line,
    idents,
    token_ratio,
    tokens,
)
from reviewbot.diffs.patches import FilePatch


@dataclass(frozen=True)
class Opener:
    """The line an added statement sits under, as the hunk shows it, and whether the patch adds
    that line itself (``+``) or it is context (`` ``)."""

    text: str
    kind: str


def _openers(fp: FilePatch) -> tuple[dict[str, Opener | None], set[str]]:
    """Added statement -> the nearest line above it with less indentation, as the hunk shows it
    (the block or braceless ``if`` it sits in; None when that is outside the hunk), in patch
    order, and every code line of the hunks."""
    out: dict[str, Opener | None] = {}
    every: set[str] = set()
    for h in fp.hunks:
        seen: list[tuple[int, str, str]] = []
        parens = 0  # open parentheses on the new side: a line inside them continues a statement
        for kind, text in h.lines:
            s = " ".join(text.split())
            if not s or s.startswith(("/*", "*", "//")) or s.endswith("*/") or kind == "-":
                continue
            inside, code = parens > 0, tokens([text])
            parens = max(0, parens + code.count("(") - code.count(")"))
            if inside:
                continue
            depth = len(text.expandtabs(8)) - len(text.expandtabs(8).lstrip())
            if kind == "+" and s.endswith(";"):
                enclosing = next((Opener(o, k) for d, o, k in reversed(seen) if d < depth), None)
                out.setdefault(s, enclosing)
            seen.append((depth, s, kind))
            every.add(s)
    return out, every


def _similar(a: str, b: str, at_least: float = 0.6) -> bool:
    ta, tb = tokens([a]), tokens([b])
    return difflib.SequenceMatcher(None, ta, tb, autojunk=False).ratio() >= at_least


def _shape(toks: list[str]) -> tuple[str, ...]:
    return tuple("ID" if IDENT.match(t) and t not in KEYWORDS else t for t in toks)


def learned_names(up: FilePatch, bp: FilePatch) -> dict[str, str]:
    """Upstream name -> the backport's, learned from the lines both patches show with the same
    shape (equal but for identifiers), each name mapped the way most such lines map it."""
    lu = [t for h in up.hunks for _, x in h.lines if (t := tokens([x]))]
    lb = [t for h in bp.hunks for _, x in h.lines if (t := tokens([x]))]
    sm = difflib.SequenceMatcher(None, [_shape(t) for t in lu], [_shape(t) for t in lb], False)
    votes: dict[str, dict[str, int]] = {}
    for blk in sm.get_matching_blocks():
        for k in range(blk.size):
            for x, y in zip(lu[blk.a + k], lb[blk.b + k], strict=True):
                if x != y:
                    votes.setdefault(x, {}).setdefault(y, 0)
                    votes[x][y] += 1
    return {x: max(ys, key=lambda y: ys[y]) for x, ys in votes.items()}


def counterparts(
    theirs: list[str], mine: list[str], names: dict[str, str] | None = None
) -> dict[str, str]:
    """Backport statement -> upstream's statement it stands for: equal text, else (the trees
    drifted: renamed calls, locals) the most similar one once upstream's names are said in the
    backport's terms (``names``, and the API renames table), pairs taken best first."""
    out = {s: s for s in mine if s in theirs}
    table = {new: old for new, old in api_renames()}
    names = {**table, **(names or {})}
    rest_u = [s for s in theirs if s not in out]
    rest_b = [s for s in mine if s not in out]
    said = {u: [names.get(t, t) for t in tokens([u])] for u in rest_u}
    scored = sorted(
        (
            (difflib.SequenceMatcher(None, said[u], tokens([b]), autojunk=False).ratio(), i, j)
            for i, b in enumerate(rest_b)
            for j, u in enumerate(rest_u)
        ),
        key=lambda x: (-x[0], x[1], x[2]),
    )
    used_u: set[int] = set()
    for ratio, i, j in scored:
        if ratio < 0.6:
            break
        if rest_b[i] in out or j in used_u:
            continue
        out[rest_b[i]] = rest_u[j]
        used_u.add(j)
    return out


def moved(up: FilePatch, bp: FilePatch, target: str) -> list[str]:
    """Added statements the backport put under another block than upstream's.

    Judged only where the backport's choice was open: upstream's block header is in the target
    (or in the backport), the backport's block header is one upstream shows not enclosing it, or
    upstream puts the statement under a line it adds and the backport under an existing one.
    Statements pair up modulo the drift between the trees (:func:`counterparts`).
    """
    (theirs, up_lines), (mine, bp_lines) = _openers(up), _openers(bp)
    have = {" ".join(x.split()) for x in target.split("\n")} | bp_lines
    names = learned_names(up, bp)
    pairs = counterparts(list(theirs), list(mine), names)
    # the lines upstream shows, said in the backport's terms (folio_mapped(folio) ->
    # page_mapped(page)): a block upstream's statement is outside is one in the older tree too
    table = {**{new: old for new, old in api_renames()}, **names}
    said = {_head(x, table) for x in up_lines}
    out = []
    for stmt, opener in mine.items():
        if stmt not in pairs or opener is None:
            continue
        want = theirs[pairs[stmt]]
        if want is not None and (
            want.text == opener.text or _head(want.text, table) == _head(opener.text, {})
        ):
            continue  # upstream's own block, said the same or in the backport's terms
        if (
            (want is not None and want.text in have)
            or opener.text in up_lines
            or _head(opener.text, {}) in said
            or (
                want is not None
                and want.kind == "+"
                and opener.kind == " "
                and not _similar(want.text, opener.text, 0.8)
            )
        ):
            out.append(
                f"`{stmt}` sits under `{opener.text}`; upstream puts it under "
                f"`{want.text if want else 'its block'}`"
            )
    return out


def _head(line: str, names: dict[str, str]) -> str:
    """A code line's tokens with ``names`` said in the backport's terms, an opening brace
    aside (``if (c)`` and ``if (c) {`` head the same block)."""
    toks = [names.get(t, t) for t in tokens([line])]
    return " ".join(toks[:-1] if toks[-1:] == ["{"] else toks)


def _new_side(fp: FilePatch) -> list[list[tuple[str, str, int]]]:
    """Per hunk, the code lines of the new side: (kind, text, indentation), comments and lines
    that continue a statement left out."""
    out = []
    for h in fp.hunks:
        rows: list[tuple[str, str, int]] = []
        parens = 0
        for kind, text in h.lines:
            if kind == "-" or code_line(text) is None:
                continue
            inside, code = parens > 0, tokens([text])
            parens = max(0, parens + code.count("(") - code.count(")"))
            if not inside:
                depth = len(text.expandtabs(8)) - len(text.expandtabs(8).lstrip())
                rows.append((kind, " ".join(code), depth))
        out.append(rows)
    return out


def reordered(up: FilePatch, bp: FilePatch) -> list[str]:
    """Added statements the backport put before an existing line of their block that upstream
    puts them after (a put before the unlock it must follow)."""
    after: dict[str, str] = {}  # upstream's added statement -> the existing line before it
    for rows in _new_side(up):
        for k, (kind, text, _) in enumerate(rows):
            prev = rows[k - 1] if k else None
            # a line of its own (not a brace): the one the statement must follow
            if (
                kind == "+"
                and text.endswith(";")
                and prev
                and prev[0] == " "
                and idents(prev[1].split())
                and not prev[1].endswith("{")
            ):
                after.setdefault(text, prev[1])
    names = learned_names(up, bp)
    # backport's added statement -> the existing lines before it, and the lines after it in
    # its block
    later: dict[str, tuple[list[str], list[str], set[int]]] = {}
    for rows in _new_side(bp):
        for k, (kind, text, depth) in enumerate(rows):
            if kind == "+" and text.endswith(";"):
                block: list[str] = []
                kept: set[int] = set()  # indices in block of existing (context) lines
                for kd, x, d in rows[k + 1 :]:
                    if d < depth:
                        break
                    if kd == " ":
                        kept.add(len(block))
                    block.append(x)
                before = [x for kd, x, _ in rows[:k] if kd == " "]
                later.setdefault(text, (before, block, kept))
    pairs = counterparts(list(after), list(later), names)
    out = []
    for stmt, (before, block, kept) in later.items():
        if stmt not in pairs or pairs[stmt] not in after:
            continue
        raw = after[pairs[stmt]]
        said = " ".join(names.get(t, t) for t in raw.split())
        # as upstream spells it, or in the backport's terms (learned names can mislead), or
        # else the existing line most like it (upstream's is an existing line), when that is
        # one after the statement
        hit = next((x for x in (raw, said) if x in block), None)
        if hit is None and raw not in before and said not in before:
            mine = said.split()
            like = max(
                (
                    (token_ratio(mine, x.split()), i)
                    for i, x in enumerate(before + block)
                    if (i < len(before) or i - len(before) in kept)
                    and idents(mine) & idents(x.split())  # a name in common, not only `( ) ;`
                ),
                default=(0.0, -1),
            )
            if like[0] >= 0.6 and like[1] >= len(before):
                hit = block[like[1] - len(before)]
        if hit is not None:
            out.append(f"`{stmt}` comes before `{hit}`; upstream puts it after")
    return out


def _statement_lines(rows: list[tuple[int, str]]) -> list[str]:
    """The code lines of ``rows`` that end a statement, as token text."""
    out = []
    for _, x in rows:
        code = " ".join(tokens([x]))
        if code_line(x) and code.endswith(";"):
            out.append(code)
    return out


def _replacements(fp: FilePatch) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Each added statement with the statements its own run removes (what it replaces in
    place; none for a pure addition), in patch order; and every statement the patch removes."""
    out, removed = [], []
    for h in fp.hunks:
        for rem, add in changed_runs(h):
            gone = _statement_lines(rem)
            removed += gone
            out += [(code, gone) for code in _statement_lines(add)]
    return out, removed


def split_off(up: FilePatch, bp: FilePatch) -> list[str]:
    """Added statements upstream writes in place of a like statement it removes, which the
    backport adds away from that statement (removing it elsewhere): the same lines, another
    change."""
    theirs = dict(_replacements(up)[0])
    mine, removed = _replacements(bp)
    names = learned_names(up, bp)
    pairs = counterparts(list(theirs), [m for m, _ in mine], names)
    out = []
    for stmt, gone in mine:
        if stmt not in pairs or gone:
            continue
        # upstream replaced a statement like it here; the backport replaces nothing here
        was = pairs[stmt].split()
        said = [
            [names.get(t, t) for t in x.split()]
            for x in theirs.get(pairs[stmt], [])
            if token_ratio(x.split(), was) >= 0.6
        ]
        far = next(
            (r for r in removed if any(token_ratio(r.split(), x) >= 0.8 for x in said)), None
        )
        if far is not None:
            out.append(f"`{stmt}` is added away from `{far}`, which upstream replaces in place")
    return out
