"""A file's change said as one token edit, the same way whatever the target's shape.

Per file, the token-level edit from the removed code to the added code (comments and
``likely``/``unlikely`` hints dropped: words inside comments are never identifiers, a hint is not
a test). The edit is said the same way whatever the target's shape: ``!old(x)`` -> ``new(x)``
where the target tests the negation of what upstream tests, and an added ``new ||`` joining one
operand with or without grouping parentheses. :func:`regions` lists where two such edits differ;
:mod:`reviewbot.backport.drift` judges each.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reviewbot.backport.ctokens import IDENT, KEYWORDS, closing, join, tokens
from reviewbot.diffs.patches import FilePatch


@dataclass(frozen=True)
class Region:
    """One place where the two edits differ: upstream's tokens against the backport's."""

    upstream: tuple[str, ...]
    backport: tuple[str, ...]

    def show(self) -> str:
        """Both sides in ``git diff --word-diff`` notation (``[-removed-]{+added+}``), cut to
        the tokens that differ with a few around them when the whole would not fit a line."""
        up, bp = list(self.upstream), list(self.backport)
        whole = f"upstream {word_diff(up)}, the backport {word_diff(bp)}"
        if len(whole) <= SHOW_WIDTH or not up or not bp:
            return _cut(whole)
        sm = difflib.SequenceMatcher(None, up, bp, autojunk=False)
        windows: list[list[int]] = []  # [i1, i2, j1, j2], merged where they overlap
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                continue
            w = [max(i1 - CONTEXT, 0), i2 + CONTEXT, max(j1 - CONTEXT, 0), j2 + CONTEXT]
            if windows and w[0] <= windows[-1][1]:
                windows[-1][1], windows[-1][3] = w[1], w[3]
            else:
                windows.append(w)
        parts = [f"{_part(up, i1, i2)} -> {_part(bp, j1, j2)}" for i1, i2, j1, j2 in windows[:3]]
        more = f" (and {len(windows) - 3} more)" if len(windows) > 3 else ""
        return _cut("upstream -> the backport: " + "; ".join(parts) + more)


SHOW_WIDTH = 160  # a message line a terminal or a log shows whole
CONTEXT = 3  # tokens kept around each difference


def _part(toks: list[str], lo: int, hi: int) -> str:
    """``toks[lo:hi]`` in word-diff notation, with ``…`` where it cuts the region."""
    hi = min(hi, len(toks))
    return ("… " if lo else "") + word_diff(toks[lo:hi]) + (" …" if hi < len(toks) else "")


def _cut(text: str, width: int = 3 * SHOW_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def word_diff(signed: list[str]) -> str:
    """Signed edit tokens (``+x``, ``-y``) as ``[-y-]{+x+}`` runs, written as C is written."""
    if not signed:
        return "(nothing)"
    out: list[str] = []
    run: list[str] = []
    sign = ""
    for t in [*signed, ""]:
        s, w = (t[:1], t[1:]) if len(t) > 1 and t[:1] in "+-" else ("", t)
        if t and s == sign:
            run.append(w)
            continue
        if run:
            text = join(run)
            out.append(f"[-{text}-]" if sign == "-" else f"{{+{text}+}}" if sign == "+" else text)
        run, sign = [w], s
    return " ".join(out)


HINTS = frozenset({"likely", "unlikely"})


def without_hints(toks: list[str]) -> list[str]:
    """``toks`` with every ``likely(...)``/``unlikely(...)`` wrapper removed: a branch hint says
    which way the test usually goes, not what it tests. A wrapper whose closing parenthesis is
    not in ``toks`` stays."""
    out = list(toks)
    i = 0
    while i < len(out) - 1:
        if out[i] in HINTS and out[i + 1] == "(":
            depth, j = 0, i + 1
            for j in range(i + 1, len(out)):
                depth += (out[j] == "(") - (out[j] == ")")
                if depth == 0:
                    break
            if depth == 0:
                del out[j]
                del out[i : i + 2]
                continue
        i += 1
    return out


def _operand_end(toks: list[str], i: int) -> int | None:
    """The end of the operand starting at ``toks[i]``: a name, optionally called; None if not."""
    if i >= len(toks) or not IDENT.match(toks[i]) or toks[i] in KEYWORDS:
        return None
    if i + 1 < len(toks) and toks[i + 1] == "(":
        end = closing(toks, i + 1)
        return None if end is None else end + 1
    return i + 1


def _in_condition(toks: list[str], start: int, end: int) -> bool:
    """Is ``toks[start:end]`` a whole operand of ``&&``/``||`` or a whole ``if``/``while`` test,
    where only its truth counts?"""
    before = toks[start - 1] if start else None
    after = toks[end] if end < len(toks) else None
    opens = before in ("&&", "||") or (
        before == "(" and start >= 2 and toks[start - 2] in ("if", "while")
    )
    return opens and after in ("&&", "||", ")", "?", None)


def _negation_moved(
    rem: list[str], add: list[str], ops: list[tuple[str, int, int, int, int]]
) -> list[tuple[str, int, int, int, int]] | None:
    """Where ``!old(...)`` becomes ``new(...)`` in a condition: the edit that replaces ``old``
    by ``!new`` and keeps the ``!`` (``!!new`` is ``new`` where only truth counts). The ops
    with the ``!`` kept, or None when there is no such place."""
    out = list(ops)
    for k, (op, i1, i2, j1, j2) in enumerate(out):
        # "-! -old +new" as one replace, or a delete of "!" then a replace of the name
        if op == "replace" and i2 - i1 == 2 and rem[i1] == "!" and j2 - j1 == 1:
            name_at = i1 + 1
        elif (
            op == "delete"
            and (i1, i2) == (i1, i1 + 1)
            and rem[i1] == "!"
            and k + 1 < len(out)
            and out[k + 1][0] == "replace"
            and out[k + 1][1:4:2] == (i2, j1)
            and out[k + 1][2] - out[k + 1][1] == 1
            and out[k + 1][4] - out[k + 1][3] == 1
        ):
            name_at, j1, j2 = i2, out[k + 1][3], out[k + 1][4]
            del out[k + 1]
        else:
            continue
        end = _operand_end(rem, name_at)
        if end is None or not IDENT.match(add[j1]) or not _in_condition(rem, i1, end):
            continue
        out[k] = ("negation", name_at, name_at + 1, j1, j2)
        return out
    return None


_OPENS_GROUP = frozenset({"&&", "||", "(", "?", ":", "=", ",", "return"})


def _one_operand_terms(rem: list[str], add: list[str]) -> list[str] | None:
    """``add`` with each added term ``new &&``/``new ||`` (or ``&& new``/``|| new``) that joins
    exactly one existing operand said the same way, whether upstream groups the two in added
    parentheses (``a && (new || b)``) or the target needs none (``if (new || b)``): the
    parentheses dropped and ``@op1`` put after the operator. None when there is no such term.

    The operand must be the only other thing in its parentheses, with no ``&&``/``||`` of its
    own: then ``new || b`` means the same wherever it stands.
    """
    sm = difflib.SequenceMatcher(None, rem, add, autojunk=False)
    new = {j for op, _, _, j1, j2 in sm.get_opcodes() if op != "equal" for j in range(j1, j2)}
    close: dict[int, int] = {}
    opened: list[int] = []
    for j, t in enumerate(add):
        if t == "(":
            opened.append(j)
        elif t == ")" and opened:
            close[opened.pop()] = j
    drop: set[int] = set()
    marks: set[int] = set()
    for o, c in close.items():
        if c not in new:
            # of adjacent ")" the diff may call any one added: take it for the group's own
            lo, hi = c, c
            while lo - 1 > o and add[lo - 1] == ")":
                lo -= 1
            while hi + 1 < len(add) and add[hi + 1] == ")":
                hi += 1
            shift = next((j for j in range(lo, hi + 1) if j in new), None)
            if shift is not None:
                new = (new - {shift}) | {c}
        explicit = o in new and c in new and o > 0 and add[o - 1] in _OPENS_GROUP
        condition = o > 0 and add[o - 1] in ("if", "while")
        if not (explicit or condition):
            continue
        depth, top = 0, []
        for j in range(o + 1, c):
            depth += (add[j] == "(") - (add[j] == ")")
            if depth == 0 and add[j] in ("&&", "||", "?", ","):
                top.append(j)
        if len(top) != 1 or add[top[0]] not in ("&&", "||"):
            continue
        k = top[0]
        left, right = set(range(o + 1, k)), set(range(k + 1, c))
        if k not in new or not left or not right:
            continue
        if not ((left <= new and not right & new) or (right <= new and not left & new)):
            continue
        marks.add(k)
        if explicit:
            drop |= {o, c}
    if not marks:
        return None
    out: list[str] = []
    for j, t in enumerate(add):
        if j in drop:
            continue
        out.append(t)
        if j in marks:
            out.append(f"@{t}1")
    return out


def _slid(
    rem: list[str], add: list[str], ops: list[tuple[str, int, int, int, int]]
) -> list[tuple[str, int, int, int, int]]:
    """``ops`` with each pure insertion or deletion slid as far right as the same tokens allow
    (``a , new , b`` is one insertion whether the diff says ``, new`` or ``new ,``), so that the
    same change is said the same way on both sides."""
    out = list(ops)
    for k, (op, i1, i2, j1, j2) in enumerate(out):
        nxt = out[k + 1] if k + 1 < len(out) else None
        if op not in ("insert", "delete") or nxt is None or nxt[0] != "equal":
            continue
        # the side that changes, the run's ends on it and how far the equal run after it goes
        seq, a, b, end = (add, j1, j2, nxt[4]) if op == "insert" else (rem, i1, i2, nxt[2])
        n = 0
        while b + n < end and seq[a + n] == seq[b + n]:
            n += 1
        i1, i2, j1, j2 = i1 + n, i2 + n, j1 + n, j2 + n  # the empty side moves along too
        out[k] = (op, i1, i2, j1, j2)
        out[k + 1] = ("equal", i2, nxt[2], j2, nxt[4])
    return out


def edit(fp: FilePatch, notes: list[str] | None = None) -> list[str]:
    """The file's change as one token sequence: ``-tok`` removed, ``+tok`` added, ``|`` between
    the places it changes (each run of changed lines; context and branch hints kept out).

    Where the tree tests ``!old(...)`` and the change makes it ``new(...)``, the edit is said
    as ``-old +! +new`` (the ``!`` kept): the same edit as upstream's ``old(...)`` ->
    ``!new(...)`` on a tree that tests the positive; ``notes`` gets a line for each. An added
    term that joins one operand is said the same with or without grouping parentheses
    (:func:`_one_operand_terms`).
    """
    out: list[str] = []
    for h in fp.hunks:
        runs: list[tuple[list[str], list[str]]] = []
        prev = " "
        for kind, text in h.lines:
            if kind == " ":
                prev = kind
                continue
            if prev == " ":
                runs.append(([], []))
            (runs[-1][0] if kind == "-" else runs[-1][1]).append(text)
            prev = kind
        for removed, added in runs:
            rem, add = without_hints(tokens(removed)), without_hints(tokens(added))
            add = _one_operand_terms(rem, add) or add
            sm = difflib.SequenceMatcher(None, rem, add, autojunk=False)
            ops = _slid(rem, add, list(sm.get_opcodes()))
            while (moved_ops := _negation_moved(rem, add, ops)) is not None:
                ops = moved_ops
                at = next(o for o in ops if o[0] == "negation")
                if notes is not None:
                    notes.append(
                        f"the target tests `!{rem[at[1]]}`: `!{rem[at[1]]}` -> `{add[at[3]]}`"
                        " is the same change"
                    )
                ops = [("negated", *o[1:]) if o is at else o for o in ops]
            for op, i1, i2, j1, j2 in ops:
                if op == "equal":
                    continue
                if op == "negated":
                    out += ["-" + rem[i1], "+!", "+" + add[j1], "|"]
                    continue
                out += ["-" + t for t in rem[i1:i2]] + ["+" + t for t in add[j1:j2]]
                out.append("|")  # a boundary: two separate edits never merge
    return out


def _statement_span(seq: list[str], i1: int, i2: int) -> tuple[int, int]:
    """Widen [i1, i2) to whole edit chunks (between boundaries)."""
    while i1 > 0 and seq[i1 - 1] != "|":
        i1 -= 1
    while i2 < len(seq) and seq[i2] != "|":
        i2 += 1
    return i1, i2


def regions(up: list[str], bp: list[str]) -> list[Region]:
    """Where the two edit sequences differ, widened to whole edit chunks and merged."""
    sm = difflib.SequenceMatcher(None, up, bp, autojunk=False)
    spans: list[tuple[int, int, int, int]] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        a1, a2 = _statement_span(up, i1, i2)
        b1, b2 = _statement_span(bp, j1, j2)
        if spans and (a1 <= spans[-1][1] or b1 <= spans[-1][3]):
            p = spans.pop()
            a1, b1 = min(a1, p[0]), min(b1, p[2])
            a2, b2 = max(a2, p[1]), max(b2, p[3])
        spans.append((a1, a2, b1, b2))
    return [
        Region(tuple(x for x in up[a1:a2] if x != "|"), tuple(x for x in bp[b1:b2] if x != "|"))
        for a1, a2, b1, b2 in spans
    ]
