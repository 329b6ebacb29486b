"""Is a backport equivalent to upstream modulo the drift between the trees? ("with deviations").

Stable maintainers adapt a fix to the older tree: an API the target does not have yet
(``folio`` helpers, ``mmap_write_trylock``), a goto label or a ``result`` variable the target's
function lacks, a local named differently, a comment reflowed. This module compares the *edit*
each side makes rather than its lines: per file, the token-level edit from the removed code to the
added code (comments and ``likely``/``unlikely`` hints dropped: words inside comments are never
identifiers, a hint is not a test). The edit is said the same way whatever the target's shape:
``!old(x)`` -> ``new(x)`` where the target tests the negation of what upstream tests, and an
added ``new ||`` joining one operand with or without grouping parentheses. Equal edits are
equivalent; each region where the edits differ is a *deviation* that is tolerated only when

- the upstream side names something the target does not have (an identifier absent from the target
  tree) and the backport side adds no negation, comparison or exit that upstream's region lacks,
  except an exit in place of a goto/exit whose label the target lacks, and removes no statement
  upstream keeps; or
- it is a substitution without control-flow or logical tokens on either side that assigns as
  often as upstream's (a rename: an argument or sub-expression changed, a local named
  differently), or the backport only repeats names of upstream's change (a declaration split
  from its initialisation).

When that fails, two more readings are tried, each listed when it is the one that matches: a
local upstream adds only to name an expression, written out (the backport never names it); and
upstream without the fewest pieces that change code the target never had (a hunk in a function
the target lacks, a statement of a statement-for-statement rewrite with no counterpart in the
target).

Anything else is a difference in meaning: a statement upstream does not add, a statement dropped
that the target could express, a condition changed, a different exit. Independently of the token
edit, an added statement whose enclosing block header (as upstream shows it) exists in the target
but that the backport put under another block is a guard in another branch, and one put before
the existing line upstream puts it after is out of order.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import combinations

from reviewbot.backport.apitable import Rename, api_renames
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import FilePatch, Hunk, Mail

_TOKEN = re.compile(
    r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d\w*|->|\+\+|--|<<=|>>=|<=|>=|==|!=|&&|\|\||[-+*/%&|^<>]=|<<|>>|\S'
)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_IDENT = re.compile(r"[A-Za-z_]\w*$")
EXITS = frozenset({"return", "goto", "continue", "break"})
CONTROL = frozenset({"if", "else", "while", "for", "switch", "case", "do"}) | EXITS
LOGIC = frozenset({"!", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "?"})
CRITICAL = CONTROL | LOGIC
KEYWORDS = CONTROL | frozenset(
    {"sizeof", "struct", "union", "enum", "unsigned", "int", "long", "bool", "void", "const"}
)


def tokens(lines: Iterable[str]) -> list[str]:
    """C tokens of ``lines`` with comments removed (also comments split across lines)."""
    text = _COMMENT.sub(" ", "\n".join(lines))
    # a comment cut by the hunk boundary: drop its remaining lines
    out: list[str] = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith(("*", "/*")) or s.endswith("*/"):
            continue
        out += _TOKEN.findall(line)
    return out


_DECL = re.compile(
    r"^\s*(?:(?:const|unsigned|signed|struct|enum|union|static)\s+)*([A-Za-z_]\w*)[\s*]+"
    r"([A-Za-z_]\w*)\s*(?:=|;|\[)"
)


def declared(lines: Iterable[str]) -> set[str]:
    """Names the lines declare as locals or globals (``type name =``, ``type *name;``)."""
    out = set()
    for line in lines:
        m = _DECL.match(line)
        # a type that is a keyword (bool, int, long) declares; a statement keyword does not
        if m and m.group(1) not in CONTROL | {"sizeof"}:
            out.add(m.group(2))
    return out


def _known_renames(u: list[str], b: list[str]) -> list[Rename] | None:
    """The table renames that explain every differing identifier of ``u`` -> ``b``, or None."""
    table = api_renames()
    found: list[Rename] = []
    sm = difflib.SequenceMatcher(None, u, b, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        if op != "replace" or i2 - i1 != j2 - j1:
            return None
        for x, y in zip(u[i1:i2], b[j1:j2], strict=True):
            r = table.get((x, y))
            if r is None:
                return None
            found.append(r)
    return found


def _idents(toks: Iterable[str]) -> set[str]:
    return {t for t in toks if _IDENT.match(t) and t not in KEYWORDS}


@dataclass(frozen=True)
class Region:
    """One place where the two edits differ: upstream's tokens against the backport's."""

    upstream: tuple[str, ...]
    backport: tuple[str, ...]

    def show(self) -> str:
        return f"`{' '.join(self.upstream) or '(nothing)'}` -> `{' '.join(self.backport) or '(nothing)'}`"


HINTS = frozenset({"likely", "unlikely"})
MAX_LEFT_OUT = 4  # pieces of upstream's change a backport may leave out (see _absent_pieces)
MAX_PIECES = 6  # ... out of at most so many candidates


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
    if i >= len(toks) or not _IDENT.match(toks[i]) or toks[i] in KEYWORDS:
        return None
    if i + 1 < len(toks) and toks[i + 1] == "(":
        depth = 0
        for j in range(i + 1, len(toks)):
            depth += (toks[j] == "(") - (toks[j] == ")")
            if depth == 0:
                return j + 1
        return None
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
        if end is None or not _IDENT.match(add[j1]) or not _in_condition(rem, i1, end):
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
        if op == "insert" and nxt is not None and nxt[0] == "equal":
            while j2 < nxt[4] and add[j1] == add[j2]:
                j1, j2 = j1 + 1, j2 + 1
                i1 = i2 = i1 + 1
            out[k] = (op, i1, i2, j1, j2)
            out[k + 1] = ("equal", i2, nxt[2], j2, nxt[4])
        elif op == "delete" and nxt is not None and nxt[0] == "equal":
            while i2 < nxt[2] and rem[i1] == rem[i2]:
                i1, i2 = i1 + 1, i2 + 1
                j1 = j2 = j1 + 1
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


def _added(toks: tuple[str, ...]) -> list[str]:
    return [t[1:] for t in toks if t.startswith("+")]


def _removed(toks: tuple[str, ...]) -> list[str]:
    return [t[1:] for t in toks if t.startswith("-")]


def _statements(toks: list[str]) -> list[list[str]]:
    """``toks`` cut into statements (at ``;`` and braces), braces dropped."""
    out: list[list[str]] = [[]]
    for t in toks:
        if t in ("{", "}"):
            out.append([])
            continue
        out[-1].append(t)
        if t == ";":
            out.append([])
    return [s for s in out if s]


def _exit_of(stmt: list[str]) -> str | None:
    """The exit a statement takes (``continue ;``), also behind a braceless ``if``."""
    at = next((i for i, t in enumerate(stmt) if t in EXITS), None)
    return None if at is None else " ".join(stmt[at:])


def judge(
    region: Region,
    has: Callable[[str], bool],
    change_names: set[str],
    own_exits: set[str] = frozenset(),  # type: ignore[assignment]
) -> str | None:
    """The deviation note when ``region`` is tolerated, None when it changes the meaning.

    ``own_exits`` are the exit statements the target's code around the change already uses.
    """
    u_add, b_add = _added(region.upstream), _added(region.backport)
    u_rem, b_rem = _removed(region.upstream), _removed(region.backport)
    missing = sorted(n for n in _idents(u_add + u_rem) if not has(n))
    crit_u, crit_b = [t for t in u_add if t in CRITICAL], [t for t in b_add if t in CRITICAL]
    extra = list(crit_b)
    for t in crit_u:
        if t in extra:
            extra.remove(t)
    su, sb = _statements(u_add), _statements(b_add)
    if missing:
        # the target lacks what upstream uses: the backport may say it in the target's terms, but
        # adds no negation, comparison or exit of its own and loses no statement the target can
        # express (an assignment to a variable the target does not have is the one exception)
        u_exits = [e for s in su if (e := _exit_of(s))]
        b_exits = [e for s in sb if (e := _exit_of(s))]
        if u_exits and len(b_exits) < len(u_exits):
            return None
        for e in b_exits:
            if e not in u_exits and not (
                any(x.startswith("goto") and not has(x.split()[1]) for x in u_exits)
                and e in own_exits
            ):
                return None
        if any(t not in EXITS for t in extra):
            return None
        excused = sum(1 for s in su if len(s) > 1 and s[1] == "=" and not has(s[0]))
        if b_add.count(";") < u_add.count(";") - excused:
            return None
        if b_rem.count(";") > u_rem.count(";"):
            return None  # it removes a statement upstream keeps
        # no statement of its own, except one clean-up right before an exit that stands in for
        # a goto to a label the target lacks (the label's code, inlined)
        label_gone = any(x.startswith("goto") and not has(x.split()[1]) for x in u_exits)
        done = [s for s in sb if s[-1] == ";"]
        cleanup = sum(
            1
            for i, s in enumerate(done[:-1])
            if label_gone and not _exit_of(s) and _exit_of(done[i + 1]) not in (None, *u_exits)
        )
        if len(done) > u_add.count(";") - excused + cleanup:
            return None
        known = _known_renames(u_add, b_add)
        if known:
            return "adjusted for " + ", ".join(dict.fromkeys(r.api for r in known))
        return f"adjusted: {', '.join(missing[:4])} not in the target"
    for i in range(1, len(b_add) - 1):
        if b_add[i] == ";" and b_add[i - 1] == b_add[i + 1] and b_add[:i] + b_add[i + 2 :] == u_add:
            return f"declaration of {b_add[i - 1]} split from its initialisation"
    if crit_u or crit_b:
        known = _known_renames(u_add, b_add) if crit_u == crit_b else None
        if known and _known_renames(u_rem, b_rem) is not None:
            return "adjusted for " + ", ".join(dict.fromkeys(r.api for r in known))
        return None
    if u_add.count(";") != b_add.count(";") or u_rem.count(";") != b_rem.count(";"):
        return None
    if u_add.count("=") != b_add.count("=") or u_rem.count("=") != b_rem.count("="):
        return None  # a value assigned on one side only (an initialiser dropped)
    if u_add and b_add:
        return f"adjusted: {' '.join(u_add)} -> {' '.join(b_add)}"
    if u_rem and b_rem and not u_add and not b_add:
        return "adjusted: the target's removed code differs"
    return None


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
    return tuple("ID" if _IDENT.match(t) and t not in KEYWORDS else t for t in toks)


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
    pairs = counterparts(list(theirs), list(mine), learned_names(up, bp))
    out = []
    for stmt, opener in mine.items():
        if stmt not in pairs or opener is None:
            continue
        want = theirs[pairs[stmt]]
        if want is not None and want.text == opener.text:
            continue
        if (
            (want is not None and want.text in have)
            or opener.text in up_lines
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


def _new_side(fp: FilePatch) -> list[list[tuple[str, str, int]]]:
    """Per hunk, the code lines of the new side: (kind, text, indentation), comments and lines
    that continue a statement left out."""
    out = []
    for h in fp.hunks:
        rows: list[tuple[str, str, int]] = []
        parens = 0
        for kind, text in h.lines:
            if kind == "-" or _code_line(text) is None:
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
                and _idents(prev[1].split())
                and not prev[1].endswith("{")
            ):
                after.setdefault(text, prev[1])
    names = learned_names(up, bp)
    # backport's added statement -> the existing lines before it, and the lines after it in
    # its block
    later: dict[str, tuple[list[str], list[str]]] = {}
    for rows in _new_side(bp):
        for k, (kind, text, depth) in enumerate(rows):
            if kind == "+" and text.endswith(";"):
                block = []
                for _, x, d in rows[k + 1 :]:
                    if d < depth:
                        break
                    block.append(x)
                before = [x for kd, x, _ in rows[:k] if kd == " "]
                later.setdefault(text, (before, block))
    pairs = counterparts(list(after), list(later), names)
    out = []
    for stmt, (before, block) in later.items():
        if stmt not in pairs or pairs[stmt] not in after:
            continue
        raw = after[pairs[stmt]]
        said = " ".join(names.get(t, t) for t in raw.split())
        # as upstream spells it, or in the backport's terms (learned names can mislead), or
        # else the line most like it, when that is one after the statement
        hit = next((x for x in (raw, said) if x in block), None)
        if hit is None and raw not in before and said not in before:
            mine = said.split()
            like = max(
                ((_ratio(mine, x.split()), i) for i, x in enumerate(before + block)),
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
        if _code_line(x) and code.endswith(";"):
            out.append(code)
    return out


def _replacements(fp: FilePatch) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Each added statement with the statements its own run removes (what it replaces in
    place; none for a pure addition), in patch order; and every statement the patch removes."""
    out, removed = [], []
    for h in fp.hunks:
        for rem, add in _runs(h):
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
            if _ratio(x.split(), was) >= 0.6
        ]
        far = next((r for r in removed if any(_ratio(r.split(), x) >= 0.8 for x in said)), None)
        if far is not None:
            out.append(f"`{stmt}` is added away from `{far}`, which upstream replaces in place")
    return out


@dataclass(frozen=True)
class Drift:
    """The verdict: equivalent modulo ``deviations``, or not, with the differing regions."""

    equivalent: bool
    deviations: tuple[str, ...]
    differences: tuple[str, ...]
    moved: tuple[str, ...] = ()


def compare(
    upstream: Mail,
    backport: Mail,
    targets: dict[str, str],
    has: Callable[[str], bool],
) -> Drift:
    """Compare the backport's edit with upstream's, file by file (unpaired files paired by order)."""
    notes: list[str] = []
    bad: list[str] = []
    misplaced: list[str] = []
    ups = {fp.path: fp for fp in upstream.files}
    bps = {fp.path: fp for fp in backport.files}
    pairs = [(ups[p], bps[p]) for p in ups if p in bps]
    lone_u = [fp for p, fp in ups.items() if p not in bps]
    lone_b = [fp for p, fp in bps.items() if p not in ups]
    for u, b in zip(lone_u, lone_b, strict=False):
        notes.append(f"{b.path}: upstream changes {u.path} (the code lives here in the target)")
        pairs.append((u, b))
    for fp in lone_b[len(lone_u) :]:
        bad.append(f"{fp.path}: not in the upstream fix")
    for fp in lone_u[len(lone_b) :]:
        up_toks = edit(fp)
        if any(t.startswith("+") for t in up_toks):
            missing = sorted(n for n in _idents(_added(tuple(up_toks))) if not has(n))
            if missing and _only_new_declarations(fp, has):
                notes.append(f"{fp.path}: left out (declares {', '.join(missing[:3])})")
                continue
            bad.append(f"{fp.path}: upstream changes it, the backport does not")
    for u, b in pairs:
        file_notes, file_bad, file_moved = _best_reading(
            u, b, targets.get(b.source or b.path, ""), has
        )
        notes += file_notes
        bad += file_bad + file_moved
        misplaced += file_moved
    return Drift(
        not bad and not misplaced,
        tuple(dict.fromkeys(notes)),
        tuple(bad),
        tuple(misplaced),
    )


def _best_reading(
    u: FilePatch, b: FilePatch, text: str, has: Callable[[str], bool]
) -> tuple[list[str], list[str], list[str]]:
    """:func:`_compare_file` on upstream's change as it is; when that differs, on upstream's
    change with its naming locals written out, then without the fewest pieces of code the
    target never had (each reading listed as a deviation when it is the one that matches)."""
    first = _compare_file(u, b, text, has)
    if not first[1] and not first[2]:
        return first
    said: list[str] = []
    inlined = _inlined(u, b)
    if inlined is not None:
        notes, bad, moved_ = _compare_file(inlined[0], b, text, has)
        if not bad and not moved_:
            return [f"{b.path}: {x}" for x in inlined[1]] + notes, bad, moved_
        u, said = inlined[0], [f"{b.path}: {x}" for x in inlined[1]]
    pieces = _absent_pieces(u, b, text)
    if len(pieces) > MAX_PIECES:
        return first  # too many ways to read the change: no guess
    for size in range(1, min(len(pieces), MAX_LEFT_OUT) + 1):
        for out in combinations(pieces, size):
            notes, bad, moved_ = _compare_file(_without(u, out), b, text, has)
            if not bad and not moved_:
                return [f"{b.path}: {p.note}" for p in out] + said + notes, bad, moved_
    return first


def _compare_file(
    u: FilePatch, b: FilePatch, text: str, has: Callable[[str], bool]
) -> tuple[list[str], list[str], list[str]]:
    """One file's deviations, differences and moved statements (see :func:`compare`)."""
    notes: list[str] = []
    bad: list[str] = []
    words = set(re.findall(r"[A-Za-z_]\w*", _COMMENT.sub(" ", text)))

    # a name the backport adds as well is one the fix introduces, not one the target lacks
    words |= _idents(tokens(x for h in b.hunks for x in h.added))

    def in_target(name: str, words: set[str] = words) -> bool:
        return name in words or bool(has(name))

    names = _idents(tokens(x for h in u.hunks for x in h.added))
    names |= _idents(tokens(x for h in b.hunks for x in h.removed))
    context = tokens(x for h in b.hunks for k, x in h.lines if k != "+")
    own = {e for s in _statements(context) if (e := _exit_of(s))}
    b_added = [x for h in b.hunks for x in h.added]
    b_used = _idents(tokens(b_added))
    have_decl = _declared_in_functions(text, b)
    for n in sorted(declared(x for h in u.hunks for x in h.added)):
        if n in b_used and n not in declared(b_added) and n not in have_decl:
            bad.append(f"{b.path}: upstream declares {n}, the backport uses it undeclared")
    negations: list[str] = []
    for r in regions(edit(u), edit(b, negations)):
        note = judge(r, in_target, names, own)
        if note is None:
            bad.append(f"{b.path}: {r.show()}")
        else:
            notes.append(f"{b.path}: {note}")
    notes += [f"{b.path}: {x}" for x in negations]
    misplaced = [f"{b.path}: {m}" for m in moved(u, b, text) + reordered(u, b) + split_off(u, b)]
    return notes, bad, misplaced


_INIT = re.compile(
    r"^\s*(?:const\s+)?(?:(?:struct|enum|union|unsigned|signed)\s+)*[A-Za-z_]\w*[\s*]+"
    r"([A-Za-z_]\w*)\s*=\s*([^;]+);\s*$"
)


def _contains(seq: list[str], part: list[str]) -> bool:
    return any(seq[i : i + len(part)] == part for i in range(len(seq) - len(part) + 1))


def _inlined(u: FilePatch, b: FilePatch) -> tuple[FilePatch, list[str]] | None:
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
                    if depth == 0 and t not in ("(", ")", "->", ".") and not _IDENT.match(t):
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


def _code_line(text: str) -> str | None:
    s = " ".join(text.split())
    return s if s and not s.startswith(("/*", "*", "//")) and not s.endswith("*/") else None


def _groups(rows: list[tuple[int, str]]) -> list[list[int]]:
    """Line indices of ``rows`` (one side of a run) cut into statements: a statement starts at
    a code line of the least indentation that does not close or continue a block."""
    code = [(i, x) for i, x in rows if _code_line(x)]
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


def _runs(h: Hunk) -> list[tuple[list[tuple[int, str]], list[tuple[int, str]]]]:
    """Each run of changed lines of ``h``: its removed and its added (line index, text)."""
    runs: list[tuple[list[tuple[int, str]], list[tuple[int, str]]]] = []
    prev = " "
    for i, (kind, x) in enumerate(h.lines):
        if kind != " " and prev == " ":
            runs.append(([], []))
        if kind != " ":
            (runs[-1][0] if kind == "-" else runs[-1][1]).append((i, x))
        prev = kind
    return runs


def _ratio(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _aligned(mine: list[list[str]], theirs: list[list[str]]) -> set[int]:
    """Indices of ``mine`` paired, in order, with a like statement of ``theirs`` (the pairing
    of greatest total likeness; like = half the tokens or more in common)."""
    n, m = len(mine), len(theirs)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r = _ratio(mine[i - 1], theirs[j - 1])
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
        (s for k, x in reversed(h.lines[:first]) if k == " " and (s := _code_line(x))), None
    )
    after = next((s for k, x in h.lines[last + 1 :] if k == " " and (s := _code_line(x))), None)
    if before is None or after is None:
        return None
    norm = [" ".join(x.split()) for x in lines]
    starts = [i for i, x in enumerate(norm) if x == before]
    ends = [i for i, x in enumerate(norm) if x == after]
    if len(starts) != 1 or len(ends) != 1 or ends[0] <= starts[0]:
        return None
    rows = list(enumerate(lines[starts[0] + 1 : ends[0]]))
    return [tokens(rows[i][1] for i in g) for g in _groups(rows)]


def _absent_pieces(u: FilePatch, b: FilePatch, text: str) -> list[Piece]:
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
        code = [s for x in h.removed if (s := _code_line(x))]
        gone = [s for s in code if left[s] <= 0]
        if m and m.group(1) not in unit.functions and gone:
            out.append(
                Piece(
                    frozenset((n, i) for i in range(len(h.lines))),
                    f"upstream's hunk in {m.group(1)}() left out: the target has neither"
                    f" {m.group(1)}() nor `{gone[0]}`",
                )
            )
        for rem, add in _runs(h):
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
                first = _code_line(h.lines[r[0]][1]) or ""
                out.append(
                    Piece(
                        frozenset((n, i) for i in r + a),
                        f"upstream's change of `{first}` left out: the target does not have it",
                    )
                )
    return out


def _without(u: FilePatch, pieces: Iterable[Piece]) -> FilePatch:
    drop = {x for p in pieces for x in p.lines}
    hunks = []
    for n, h in enumerate(u.hunks):
        kept = tuple(line for i, line in enumerate(h.lines) if (n, i) not in drop)
        if any(k != " " for k, _ in kept):
            hunks.append(replace(h, lines=kept))
    return replace(u, hunks=tuple(hunks))


def _declared_in_functions(text: str, fp: FilePatch) -> set[str]:
    """Names declared in the target's functions the hunks touch, and at file scope."""
    lines = text.split("\n")
    unit = syntax.parse(text.encode(), fp.path)
    out: set[str] = set()
    spans = [(f.start_line, f.end_line) for fs in unit.functions.values() for f in fs]
    covered = {i for a, b in spans for i in range(a, b + 1)}
    out |= declared(x for i, x in enumerate(lines, 1) if i not in covered)
    for h in fp.hunks:
        lead = next((i for i, (k, _) in enumerate(h.lines) if k != " "), 0)
        at = h.source_start + lead
        for a, b in spans:
            if a <= at <= b:
                out |= declared(lines[a - 1 : b])
    return out


def _only_new_declarations(fp: FilePatch, has: Callable[[str], bool]) -> bool:
    """A header hunk that only declares names: the backport may carry them elsewhere or not at all."""
    return all(
        not x.strip().startswith(("if", "return", "goto")) for h in fp.hunks for x in h.added
    )
