"""Is a backport equivalent to upstream modulo the drift between the trees? ("with deviations").

Stable maintainers adapt a fix to the older tree: an API the target does not have yet
(``folio`` helpers, ``mmap_write_trylock``), a goto label or a ``result`` variable the target's
function lacks, a local named differently, a comment reflowed. This module compares the *edit*
each side makes rather than its lines (:mod:`reviewbot.backport.edits`). Equal edits are
equivalent; each region where the edits differ is a *deviation* that is tolerated only when

- the upstream side names something the target does not have (an identifier absent from the target
  tree) and the backport side adds no negation, comparison or exit that upstream's region lacks,
  except an exit in place of a goto/exit whose label the target lacks, and removes no statement
  upstream keeps; or
- it is a substitution without control-flow or logical tokens on either side that assigns as
  often as upstream's (a rename: an argument or sub-expression changed, a local named
  differently), or the backport only repeats names of upstream's change (a declaration split
  from its initialisation); or
- each statement the backport adds differently is one the target already writes exactly so
  (upstream's is not in the target), on the same operands with the same control flow and logic:
  the target's own accessor for the same test (``READ_ONCE(*p)`` for ``atomic_read(p)``).

Statements that only declare or store a constant in a local of the target's own, which upstream
never names and the backport removes with every use, are set aside first (noted): nothing reads
them after the backport, and what replaces their uses is judged in its own region.

When that fails, two more readings are tried (:mod:`reviewbot.backport.readings`), each listed
when it is the one that matches: a local upstream adds only to name an expression, written out
(the backport never names it); and upstream without the fewest pieces that change code the
target never had (a hunk in a function the target lacks, a statement of a
statement-for-statement rewrite with no counterpart in the target).

Anything else is a difference in meaning: a statement upstream does not add, a statement dropped
that the target could express, a condition changed, a different exit; and so is a statement the
backport puts where upstream does not (:mod:`reviewbot.backport.misplaced`).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from reviewbot.backport import includes
from reviewbot.backport.apitable import Rename, api_renames
from reviewbot.backport.ctokens import (
    COMMENT,
    CONTROL,
    CRITICAL,
    EXITS,
    IDENT,
    KEYWORDS,
    LOGIC,
    declared,
    idents,
    tokens,
)
from reviewbot.backport.edits import Region, edit, regions
from reviewbot.backport.includes import HeaderReader
from reviewbot.backport.known import declared as declared_in
from reviewbot.backport.known import function_locals
from reviewbot.backport.misplaced import moved, reordered, split_off
from reviewbot.backport.readings import (
    absent_pieces,
    added_names,
    inlined,
    only_new_declarations,
    unused_new_helpers,
    without,
)
from reviewbot.ctree import syntax
from reviewbot.diffs.patches import FilePatch, Mail


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


MAX_LEFT_OUT = 4  # pieces of upstream's change a backport may leave out (see absent_pieces)
MAX_PIECES = 6  # ... out of at most so many candidates


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


class Spelled:
    """The target's statements as token tuples: does the target already write a statement
    (or the head of one, ``if (...)`` before its body) exactly so?"""

    def __init__(self, text: str) -> None:
        self._text = text

    def __call__(self, stmt: list[str]) -> bool:
        n = len(stmt)
        return any(s[:n] == tuple(stmt) for s in _by_head(self._text).get(tuple(stmt[:2]), ()))


@lru_cache(maxsize=4)
def _by_head(text: str) -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """The statements of ``text`` by their first two tokens (read once per target file)."""
    out: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for stmt in _statements(tokens(text.split("\n"))):
        out.setdefault(tuple(stmt[:2]), []).append(tuple(stmt))
    return out


def _operands(stmt: list[str]) -> list[str]:
    """The names ``stmt`` reads or writes, in order: identifiers that are not called."""
    return [
        t
        for i, t in enumerate(stmt)
        if IDENT.match(t) and t not in KEYWORDS and (i + 1 == len(stmt) or stmt[i + 1] != "(")
    ]


def _as_the_target_says(u_add: list[str], b_add: list[str], spelled: Spelled) -> str | None:
    """The note when each statement the backport adds differently from upstream is one the
    target already writes exactly so (upstream's is not in the target), on the same operands,
    with the same control flow and logic: the target's own accessor for the same test
    (``READ_ONCE(*p)`` where upstream's tree has ``atomic_read(p)``). None otherwise."""
    su, sb = _statements(u_add), _statements(b_add)
    if len(su) != len(sb):
        return None
    changed = [(x, y) for x, y in zip(su, sb, strict=True) if x != y]
    for x, y in changed:
        if [t for t in x if t in CRITICAL] != [t for t in y if t in CRITICAL]:
            return None
        if _operands(x) != _operands(y) or spelled(x) or not spelled(y):
            return None
    if not changed:
        return None
    theirs, mine = _differing_part(*changed[0])
    return f"adjusted: `{theirs}` written as the target writes it, `{mine}`"


def _differing_part(x: list[str], y: list[str]) -> tuple[str, str]:
    """The smallest parts of two statements, balanced in parentheses, outside of which they
    are equal (``atomic_read ( p )`` and ``READ_ONCE ( * p )``)."""
    head = 0
    while head < min(len(x), len(y)) and x[head] == y[head]:
        head += 1
    tail = 0
    while tail < min(len(x), len(y)) - head and x[-1 - tail] == y[-1 - tail]:
        tail += 1

    def depth(toks: list[str]) -> int | None:
        """Parentheses left open at the end; None when one closes that did not open."""
        d = 0
        for t in toks:
            d += (t == "(") - (t == ")")
            if d < 0:
                return None
        return d

    while head or tail:
        dx, dy = depth(x[head : len(x) - tail]), depth(y[head : len(y) - tail])
        if dx == 0 and dy == 0:
            break
        # a parenthesis left open takes in more of the end; one closed, more of the start
        if tail and dx is not None and dy is not None:
            tail -= 1
        elif head:
            head -= 1
        else:
            tail -= 1
    return " ".join(x[head : len(x) - tail]), " ".join(y[head : len(y) - tail])


def _gone_locals(u: FilePatch, b: FilePatch, text: str) -> frozenset[str]:
    """Locals of the target that upstream's change never names and that the backport removes
    with every occurrence in the target (declaration, stores and tests alike)."""
    removed = tokens(x for h in b.hunks for x in h.removed)
    added = set(tokens(x for h in b.hunks for x in h.added))
    upstream = {t for h in u.hunks for _, x in h.lines for t in tokens([x])}
    in_target = Counter(tokens(text.split("\n")))
    mine = Counter(removed)
    return frozenset(
        v
        for v in declared(x for h in b.hunks for x in h.removed)
        if v not in added and v not in upstream and mine[v] == in_target[v]
    )


def _without_dead_stores(rem: list[str], gone: frozenset[str]) -> tuple[list[str], list[str]]:
    """``rem`` without its statements that only declare or store a constant in a local of
    ``gone`` (``bool v = false ;``, ``v = true ;``: nothing left reads it), and those locals."""
    if not gone:
        return rem, []
    out: list[str] = []
    dead: list[str] = []
    for stmt in _statements(rem):
        at = next((i for i, t in enumerate(stmt) if t in gone), None)
        store = (
            at is not None
            and stmt[at + 1 : at + 2] == ["="]
            and len(stmt) == at + 4
            and stmt[-1] == ";"
            and (stmt[at + 2].isdigit() or stmt[at + 2] in ("true", "false", "NULL"))
            and all(IDENT.match(t) and t not in CONTROL for t in stmt[:at])
        )
        if store:
            assert at is not None
            dead += [stmt[at]] if stmt[at] not in dead else []
        else:
            out += stmt
    return out, dead


def judge(
    region: Region,
    has: Callable[[str], bool],
    change_names: set[str],
    own_exits: set[str] = frozenset(),  # type: ignore[assignment]
    spelled: Spelled | None = None,
    gone_locals: frozenset[str] = frozenset(),
    labels: frozenset[str] | None = None,
    anywhere: Callable[[str], bool] | None = None,
) -> str | None:
    """The deviation note when ``region`` is tolerated, None when it changes the meaning.

    ``own_exits`` are the exit statements the target's code around the change already uses;
    ``spelled`` tells which statements the target writes exactly so; ``gone_locals`` are the
    target's own locals the backport removes with every use (:func:`_gone_locals`);
    ``labels`` the labels of the target functions the backport changes (None: unknown);
    ``anywhere`` whether the target's file or tree has a name at all (default: ``has``).
    """
    u_add, b_add = _added(region.upstream), _added(region.backport)
    u_rem, b_rem = _removed(region.upstream), _removed(region.backport)
    if labels is not None and u_rem == b_rem:
        inlined_exit = _exit_inlined(u_add, own_exits, labels)
        if inlined_exit is not None and inlined_exit[0] == b_add:
            return inlined_exit[1]
    b_rem, dead = _without_dead_stores(b_rem, gone_locals)
    if dead:
        said = f"the target's local {', '.join(dead)} removed with its every use"
        if u_add == b_add and u_rem == b_rem:
            return said
        rest = judge(
            Region(region.upstream, tuple(["+" + t for t in b_add] + ["-" + t for t in b_rem])),
            has,
            change_names,
            own_exits,
            spelled,
            anywhere=anywhere,
        )
        return None if rest is None else f"{said}; {rest}"
    missing = sorted(n for n in idents(u_add + u_rem) if not has(n))
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
        lost = Counter(t for t in crit_u if t in LOGIC) - Counter(t for t in crit_b if t in LOGIC)
        if lost:
            return None  # a negation, comparison or condition upstream adds is gone
        # an assignment to a variable the target has nowhere (a local only other functions
        # declare still counts: the statements around it must all be there)
        excused = sum(1 for s in su if len(s) > 1 and s[1] == "=" and not (anywhere or has)(s[0]))
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
        if spelled is not None and u_rem == b_rem:
            return _as_the_target_says(u_add, b_add, spelled)
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


def _exit_inlined(
    u_add: list[str], own_exits: set[str], labels: frozenset[str]
) -> tuple[list[str], str] | None:
    """Upstream's ``{ v = E; goto L; }`` as ``return E;`` where the target function has no
    label L and itself exits by ``return v;`` (its code says how it leaves): the tokens so
    rewritten and the note, or None when there is no such exit."""
    if any(e.startswith("goto") for e in own_exits):
        return None  # the target also jumps near the change: L may be one of its labels
    out, notes, i = list(u_add), [], 0
    while i < len(out):
        v = out[i]
        starts = i == 0 or out[i - 1] in (";", "{", "}")
        if not (starts and IDENT.match(v) and i + 1 < len(out) and out[i + 1] == "="):
            i += 1
            continue
        end = out.index(";", i) if ";" in out[i:] else -1
        tail = out[end + 1 : end + 4] if end > 0 else []
        if (
            len(tail) != 3
            or tail[0] != "goto"
            or tail[2] != ";"
            or tail[1] in labels
            or f"return {v} ;" not in own_exits
        ):
            i += 1
            continue
        value = out[i + 2 : end]
        lo, hi = i, end + 4
        braced = lo > 0 and out[lo - 1] == "{" and hi < len(out) and out[hi] == "}"
        if not braced and lo > 0 and out[lo - 1] != ";":
            i += 1  # the pair under a braceless test: the goto is not conditional
            continue
        if braced:
            lo, hi = lo - 1, hi + 1
        out[lo:hi] = ["return", *value, ";"]
        e = re.sub(r"(^|[(\s])([-!~&*]) (?=\w)", r"\1\2", " ".join(value))
        notes.append(f"`{v} = {e}; goto {tail[1]};` as `return {e};`")
        i = lo + len(value) + 2
    if not notes:
        return None
    return out, "exit written the target's way (it has no label, it returns): " + "; ".join(notes)


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
    header: HeaderReader | None = None,
) -> Drift:
    """Compare the backport's edit with upstream's, file by file (unpaired files paired by order).

    ``header`` reads a file of the target tree: with it, an ``#include`` the backport adds for
    a name its code uses is a deviation (:mod:`reviewbot.backport.includes`)."""
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
            missing = sorted(n for n in idents(_added(tuple(up_toks))) if not has(n))
            if missing and only_new_declarations(fp):
                notes.append(f"{fp.path}: left out (declares {', '.join(missing[:3])})")
                continue
            unused = unused_new_helpers(fp, has, added_names(backport))
            if unused:
                notes.append(
                    f"{fp.path}: left out (defines {', '.join(unused[:3])}, "
                    "which the backport does not use)"
                )
                continue
            bad.append(f"{fp.path}: upstream changes it, the backport does not")
    for u, b in pairs:
        text = targets.get(b.source or b.path, "")
        b, added_includes = includes.justified(u, b, text, header)
        notes += [f"{b.path}: {x}" for x in added_includes]
        file_notes, file_bad, file_moved = _best_reading(u, b, text, has)
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
    written = inlined(u, b)
    if written is not None:
        notes, bad, moved_ = _compare_file(written[0], b, text, has)
        if not bad and not moved_:
            return [f"{b.path}: {x}" for x in written[1]] + notes, bad, moved_
        u, said = written[0], [f"{b.path}: {x}" for x in written[1]]
    pieces = absent_pieces(u, b, text)
    if len(pieces) > MAX_PIECES:
        return first  # too many ways to read the change: no guess
    for size in range(1, min(len(pieces), MAX_LEFT_OUT) + 1):
        for out in combinations(pieces, size):
            notes, bad, moved_ = _compare_file(without(u, out), b, text, has)
            if not bad and not moved_:
                return [f"{b.path}: {p.note}" for p in out] + said + notes, bad, moved_
    return first


def _compare_file(
    u: FilePatch, b: FilePatch, text: str, has: Callable[[str], bool]
) -> tuple[list[str], list[str], list[str]]:
    """One file's deviations, differences and moved statements (see :func:`compare`)."""
    notes: list[str] = []
    bad: list[str] = []
    words = set(re.findall(r"[A-Za-z_]\w*", COMMENT.sub(" ", text)))

    # a name the backport adds as well is one the fix introduces, not one the target lacks
    words |= idents(tokens(x for h in b.hunks for x in h.added))

    b_added = [x for h in b.hunks for x in h.added]
    b_used = idents(tokens(b_added))
    have_decl = _declared_in_functions(text, b)
    # locals only the file's other functions declare: not names the changed functions have
    changed_locals = _in_functions(text, b)[0]
    foreign = (
        function_locals(_parsed(text, b.path))
        - changed_locals
        - have_decl
        - b_used
        - declared(x for h in u.hunks for x in h.added)
        if changed_locals
        else frozenset()
    )

    def in_file(name: str, words: set[str] = words) -> bool:
        return name in words or bool(has(name))

    def in_target(name: str) -> bool:
        return name not in foreign and in_file(name)

    names = idents(tokens(x for h in u.hunks for x in h.added))
    names |= idents(tokens(x for h in b.hunks for x in h.removed))
    context = tokens(x for h in b.hunks for k, x in h.lines if k != "+")
    own = {e for s in _statements(context) if (e := _exit_of(s))}
    for n in sorted(declared(x for h in u.hunks for x in h.added)):
        if n in b_used and n not in declared(b_added) and n not in have_decl:
            bad.append(f"{b.path}: upstream declares {n}, the backport uses it undeclared")
    negations: list[str] = []
    spelled = Spelled(text)
    gone = _gone_locals(u, b, text)
    labels = _in_functions(text, b)[1]
    for r in regions(edit(u), edit(b, negations)):
        note = judge(r, in_target, names, own, spelled, gone, labels, in_file)
        if note is None:
            bad.append(f"{b.path}: {r.show()}")
        else:
            notes.append(f"{b.path}: {note}")
    notes += [f"{b.path}: {x}" for x in negations]
    misplaced = [f"{b.path}: {m}" for m in moved(u, b, text) + reordered(u, b) + split_off(u, b)]
    return notes, bad, misplaced


def _declared_in_functions(text: str, fp: FilePatch) -> set[str]:
    """Names declared in the target's functions the hunks touch, and at file scope."""
    lines = text.split("\n")
    unit = _parsed(text, fp.path)
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


def _in_functions(text: str, fp: FilePatch) -> tuple[frozenset[str], frozenset[str]]:
    """(parameters and locals, goto labels) of the target functions the hunks touch."""
    names: set[str] = set()
    labels: set[str] = set()
    for fs in _parsed(text, fp.path).functions.values():
        for f in fs:
            if any(
                f.start_line <= h.source_start + k <= f.end_line
                for h in fp.hunks
                for k in range(len(h.before))
            ):
                got = declared_in(f.node)
                names |= got[0]
                labels |= got[1]
    return frozenset(names), frozenset(labels)


@lru_cache(maxsize=4)
def _parsed(text: str, path: str) -> syntax.Unit:
    """The target file parsed once: every reading of a file compares against the same text."""
    return syntax.parse(text.encode(), path)
