"""Compare two versions of a C function statement by statement: renames, rewrites, alignment.

Relocation and validation compare the upstream side of a fix (the whole pre-image function, or
just the lines a hunk shows) with the target tree. Both sides are read into items
(:mod:`statements`) and compared on normalised tokens, never on text:

- ``EQUAL``: the same tokens (whitespace and comments do not count);
- ``RENAMED``: the same tokens except identifiers, and every differing identifier is a valid
  rename for the target (``addr`` -> ``address`` when ``address`` is the target function's own
  declaration and ``addr`` is not; a function the target tree does not have -> its new name);
- ``HEAD``: the heads agree (``if (!khugepaged_test_exit(mm))``) while the bodies differ;
- ``REWRITTEN``: the differing subtrees anti-unify into API re-expressions
  (``mmap_write_trylock(X)`` -> ``down_write_trylock(&X->mmap_sem)``), learned, not hard-coded.

Items cut by the edge of a hunk compare on what is visible (the tail of a statement whose head
is above the hunk, the head of one whose end is below). :func:`align_blocks` pairs the
statements of two blocks and collects the evidence. What the target knows is :mod:`known`;
learning rewrites and applying them to the lines a fix adds is :mod:`rewrites`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewbot.backport.known import Known, valid_rename
from reviewbot.backport.rewrites import Rewrite, anti_unify, generalise
from reviewbot.backport.statements import ID_KINDS, Block, Item, code
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node

EQUAL, RENAMED, HEAD, REWRITTEN, DIFFERENT = 4, 3, 2, 1, 0
LEVEL_NAMES = {
    EQUAL: "equal",
    RENAMED: "renamed",
    HEAD: "head",
    REWRITTEN: "rewritten",
    DIFFERENT: "different",
}


# --- comparing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """How an upstream statement compares with a target one, and the evidence it gives."""

    level: int
    renames: tuple[tuple[str, str, str], ...] = ()  # (kind, upstream, target)
    rewrites: tuple[Rewrite, ...] = ()

    @property
    def ok(self) -> bool:
        return self.level > DIFFERENT


NO = Match(DIFFERENT)


def compare_tokens(us, ts, known: Known) -> Match:
    """EQUAL, RENAMED (valid identifier renames only) or DIFFERENT."""
    us, ts = code(us), code(ts)
    if len(us) != len(ts):
        return NO
    renames: dict[tuple[str, str], str] = {}
    for a, b in zip(us, ts, strict=True):
        if a.text == b.text:
            continue
        if a.kind != b.kind or a.kind not in ("id", "field", "type", "label"):
            return NO
        kind = a.kind
        prev = renames.get((kind, a.text))
        if prev is not None and prev != b.text:
            return NO
        renames[(kind, a.text)] = b.text
    if not renames:
        return Match(EQUAL)
    for (kind, u), t in renames.items():
        if not valid_rename(kind, u, t, known):
            return NO
    return Match(RENAMED, tuple(sorted((k, u, t) for (k, u), t in renames.items())))


def rewrite_match(u: Node | None, t: Node | None, known: Known) -> Match:
    """REWRITTEN when every difference between two subtrees is a rename or a re-expression."""
    if u is None or t is None:
        return NO
    pairs = anti_unify(u, t)
    if not pairs:
        return Match(EQUAL)
    renames, rewrites = [], []
    for a, b in pairs:
        ka, kb = ID_KINDS.get(a.type), ID_KINDS.get(b.type)
        if ka and ka == kb:
            if not valid_rename(ka, syntax.text(a), syntax.text(b), known):
                return NO
            renames.append((ka, syntax.text(a), syntax.text(b)))
            continue
        r = generalise(a, b, known)
        if r is None:
            return NO
        rewrites.append(r)
    if not rewrites:
        return Match(RENAMED, tuple(sorted(set(renames))))
    return Match(REWRITTEN, tuple(sorted(set(renames))), tuple(rewrites))


def compare_items(u: Item, t: Item, known: Known, role: str = "whole") -> Match:
    """Compare an upstream item with a target item on what of ``u`` is visible.

    ``role`` "before" compares a statement cut at its top on its tail; "after" compares one
    cut at its bottom on its head.
    """
    uc, tc = u.code, t.code
    if not uc:
        return NO
    if u.cut_start:
        if len(tc) < len(uc):
            return NO
        return compare_tokens(uc, tc[len(tc) - len(uc) :], known)
    if u.cut_end:
        if len(tc) >= len(uc):
            m = compare_tokens(uc, tc[: len(uc)], known)
            if m.ok:
                return m
        if u.kind == t.kind and u.blocks and t.blocks and u.head:
            m = compare_tokens(u.head, t.head, known)
            if m.ok:
                return Match(HEAD, m.renames)
            r = rewrite_match(u.cond, t.cond, known)
            return Match(REWRITTEN, r.renames, r.rewrites) if r.ok else NO
        return NO
    m = compare_tokens(uc, tc, known)
    if m.ok:
        return m
    if u.kind == t.kind and u.blocks and t.blocks:
        h = compare_tokens(u.head, t.head, known)
        if h.ok:
            return Match(HEAD, h.renames)
        r = rewrite_match(u.cond, t.cond, known)
        return Match(min(r.level, REWRITTEN), r.renames, r.rewrites) if r.ok else NO
    if u.kind == t.kind and not u.blocks and not t.blocks:
        r = rewrite_match(u.node, t.node, known)
        return Match(min(r.level, REWRITTEN), r.renames, r.rewrites) if r.ok else NO
    return NO


def strong(u: Item | None) -> bool:
    """Enough visible substance to anchor on (not just a brace or a bare ``goto out;``)."""
    if u is None:
        return False
    words = [t for t in u.code if t.kind != "tok" or t.text.isalnum()]
    return len(words) >= 3


# --- evidence ---------------------------------------------------------------------------


@dataclass
class Evidence:
    """Renames and rewrites seen while aligning; :meth:`resolve` keeps the consistent ones."""

    renames: list[tuple[str, str, str]] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)

    def add(self, m: Match) -> None:
        self.renames.extend(m.renames)
        self.rewrites.extend(m.rewrites)

    def merge(self, other: Evidence | None) -> None:
        """Take in what another alignment saw (the whole function's, an earlier change's)."""
        if other is not None:
            self.renames.extend(other.renames)
            self.rewrites.extend(other.rewrites)

    def resolve(self) -> tuple[dict[tuple[str, str], str], list[Rewrite], dict[str, str]]:
        """(renames by (kind, name), rewrites, conflicts by upstream name)."""
        names: dict[tuple[str, str], set[str]] = {}
        for kind, u, t in self.renames:
            names.setdefault((kind, u), set()).add(t)
        conflicts = {
            u: f"{u} -> {' / '.join(sorted(ts))}"
            for (_, u), ts in sorted(names.items())
            if len(ts) > 1
        }
        renames = {k: next(iter(ts)) for k, ts in names.items() if len(ts) == 1}
        by_key: dict[tuple, set[str]] = {}
        first: dict[tuple, Rewrite] = {}
        for r in self.rewrites:
            by_key.setdefault(r.key, set()).add(" ".join(r.template.split()))
            first.setdefault(r.key, r)
        rewrites = []
        for key, temps in by_key.items():
            if len(temps) > 1:
                conflicts[first[key].callee or first[key].const] = (
                    f"{first[key].show()} (and other rewrites of the same call)"
                )
            else:
                rewrites.append(first[key])
        return renames, sorted(rewrites, key=lambda r: r.show()), conflicts


def align_blocks(
    ub: Block, tb: Block, known: Known, ev: Evidence, depth: int = 0
) -> list[tuple[Item, Item, Match]]:
    """Pair the items of two blocks: an LCS on strong matches, then equal-sized gaps positionally."""
    us, ts = ub.code_items(), tb.code_items()
    n, m = len(us), len(ts)
    cache: dict[tuple[int, int], Match] = {}

    def cmp(i: int, j: int) -> Match:
        if (i, j) not in cache:
            cache[(i, j)] = compare_items(us[i], ts[j], known)
        return cache[(i, j)]

    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if cmp(i, j).level >= HEAD:
                best[i][j] = best[i + 1][j + 1] + 1
            else:
                best[i][j] = max(best[i + 1][j], best[i][j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if cmp(i, j).level >= HEAD and best[i][j] == best[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i += 1
            j += 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    out: list[tuple[Item, Item, Match]] = []
    # A single statement between two matches (block ends count when visible) is the same
    # statement re-expressed; so is the first visible one past the last match of a cut block.
    bounds = (
        ([(-1, -1)] if ub.open_line is not None else [])
        + pairs
        + ([(n, m)] if ub.close_line is not None else [])
    )
    for (a, b), (c, d) in zip(bounds, bounds[1:], strict=False):
        if c - a == 2 and d - b == 2:
            mm = cmp(a + 1, b + 1)
            if mm.ok:
                out.append((us[a + 1], ts[b + 1], mm))
    if pairs and ub.close_line is None:
        a, b = pairs[-1]
        if a + 1 < n and b + 1 < m and not us[a + 1].cut_start and us[a + 1].kind == ts[b + 1].kind:
            mm = cmp(a + 1, b + 1)
            if mm.ok:
                out.append((us[a + 1], ts[b + 1], mm))
    if pairs and ub.open_line is None:
        a, b = pairs[0]
        if a >= 1 and b >= 1 and us[a - 1].kind == ts[b - 1].kind:
            mm = cmp(a - 1, b - 1)
            if mm.ok:
                out.append((us[a - 1], ts[b - 1], mm))
    out += [(us[i], ts[j], cmp(i, j)) for i, j in pairs]
    out.sort(key=lambda x: x[0].start)
    for u, t, mm in out:
        ev.add(mm)
        if depth < 12 and len(u.blocks) == len(t.blocks) and not u.cut_start:
            for bu, bt in zip(u.blocks, t.blocks, strict=True):
                align_blocks(bu, bt, known, ev, depth + 1)
    return out
