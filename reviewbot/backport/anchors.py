"""Where does one change go in the target function? Anchors found by structure.

A change (a run of added/removed lines of a hunk) sits between two statements of the upstream
function, or at a block's start or end. Every gap between statements of the target function
is scored by comparing the statement before and the statement after with upstream's
(:func:`align.compare_items`: equal, renamed, same head, rewritten); the best gap wins only when
both sides match, one of them with substance, and no other gap scores the same. Removed lines
are found by their tokens (or, re-expressed, as whole statements). When nothing fits, the
:class:`Failure` names the missing anchor and the nearest candidate.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from reviewbot.backport import align, statements
from reviewbot.backport.align import EQUAL, HEAD, REWRITTEN, Evidence, Known, Match
from reviewbot.backport.statements import Block, Item, Side
from reviewbot.ctree import syntax

OPEN, CLOSE, UNKNOWN = "<block start>", "<block end>", "<outside the hunk>"
# what a change sits next to: a statement, or one of the three markers above
Anchor = Item | str


@dataclass(frozen=True)
class Failure:
    """Why one hunk could not be placed, in terms a maintainer can act on."""

    hunk: int
    reason: str
    function: str | None = None
    missing: str | None = None
    nearest: str | None = None
    needles: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "hunk": self.hunk,
            "reason": self.reason,
            "function": self.function,
            "missing": self.missing,
            "nearest": self.nearest,
        }


@dataclass
class Group:
    """A run of removed/added lines of a hunk and its position in the hunk's pre-image."""

    pre: int  # index in the hunk's pre-image of the first removed line / the insertion point
    removed: list[str]
    added: list[str]


def indent(line: str) -> str:
    """A line's leading whitespace."""
    return line[: len(line) - len(line.lstrip())]


def norm(line: str) -> str:
    """A line with whitespace collapsed (for comparing blank and comment lines)."""
    return " ".join(line.split())


@dataclass
class Ctx:
    """The target side of one hunk: the blob, the located function and what it declares."""

    side: Side
    fn: syntax.Function
    root: Block
    known: Known
    up_name: str | None
    renames: dict[tuple[str, str], str] = field(default_factory=dict)
    comment_renames: dict[str, str] = field(default_factory=dict)


def _up_gap(block: Block, p: int) -> tuple[Block, int] | None:
    """The block and code-item index where an insertion before side line ``p`` sits."""
    for it in block.items:
        if it.start < p <= it.end:
            for b in it.blocks:
                lo = b.open_line if b.open_line is not None else -1
                hi = b.close_line if b.close_line is not None else 10**9
                if lo < p <= hi:
                    inner = _up_gap(b, p)
                    if inner is not None:
                        return inner
            return None
    items = block.code_items()
    return block, sum(1 for it in items if it.end < p)


def _owner_cmp(ub: Block, tb: Block, known: Known) -> tuple[int, Match, bool]:
    uo, to = ub.owner, tb.owner
    if uo is None and to is None:
        return EQUAL, Match(EQUAL), False
    if (
        uo is None
        or to is None
        or ub not in uo.blocks
        or uo.blocks.index(ub) != to.blocks.index(tb)
        or (len(uo.blocks) != len(to.blocks) and not uo.cut_end)
    ):
        return 0, align.NO, False
    m = align.compare_items(uo, to, known)
    return min(m.level, HEAD) if m.ok else 0, m, align.strong(uo)


def _anchor_cmp(
    u: Anchor, ub: Block, t: Anchor, tb: Block, known: Known
) -> tuple[int, Match, bool]:
    if u is UNKNOWN:
        return HEAD, Match(HEAD), False
    if isinstance(u, Item) and isinstance(t, Item):
        m = align.compare_items(u, t, known)
        return m.level, m, align.strong(u)
    if u is OPEN and t is OPEN:
        return _owner_cmp(ub, tb, known)
    if u is CLOSE and t is CLOSE:
        return EQUAL, Match(EQUAL), False
    return 0, align.NO, False


def _extended(ub: Block, uj: int, tb: Block, tj: int, known: Known) -> int:
    us, ts = ub.code_items(), tb.code_items()
    score = 0
    for k in range(1, 4):
        for ui, ti in ((uj - 1 - k, tj - 1 - k), (uj + k, tj + k)):
            if (
                0 <= ui < len(us)
                and 0 <= ti < len(ts)
                and align.compare_items(us[ui], ts[ti], known).level >= HEAD
            ):
                score += 1
    if (
        ub.owner is not None
        and tb.owner is not None
        and align.compare_items(ub.owner, tb.owner, known).level >= HEAD
    ):
        score += 2
    return score


def _describe(a: Anchor, side: Side, block: Block | None = None) -> str:
    """How a maintainer would name an upstream anchor: its text as the hunk shows it."""
    if isinstance(a, Item):
        text = " ".join(x.strip() for x in side.lines[a.start : a.end + 1] if x.strip())
        return f"`{text[:100]}`"
    if a is OPEN and block is not None and block.owner is not None:
        return f"the start of the block of `{side.lines[block.owner.start].strip()}`"
    return a


def _target_label(a: Anchor, tb: Block, side: Side) -> str:
    if isinstance(a, Item):
        return f"`{side.lines[a.start].strip()}` (line {a.start + 1})"
    if a is OPEN:
        return f"the start of the block at line {(tb.open_line or 0) + 1}"
    return f"the end of the block at line {(tb.close_line or 0) + 1}"


def _chain_evidence(ub: Block | None, tb: Block | None, known: Known, ev: Evidence) -> None:
    """Align the gap's block with its target counterpart, then each enclosing block pair."""
    while ub is not None and tb is not None:
        align.align_blocks(ub, tb, known, ev)
        if ub.owner is None or tb.owner is None:
            return
        ub, tb = ub.owner.parent, tb.owner.parent


@dataclass
class _Gap:
    """A target gap scored as the place of an upstream one: the statements around it and how they match."""

    block: Block
    index: int  # code-item index in ``block``
    before: Anchor
    after: Anchor
    level_before: int
    level_after: int
    match_before: Match
    match_after: Match
    strong_before: bool
    strong_after: bool
    extended: int = 0  # statements further out that match too (a tie-breaker)

    @property
    def rank(self) -> tuple[int, int, int]:
        """Better gaps first: the weaker side, then both sides, then the extended context."""
        return (
            min(self.level_before, self.level_after),
            self.level_before + self.level_after,
            self.extended,
        )


@dataclass
class Place:
    start: int
    remove: int
    up_indent: str
    tgt_indent: str
    evidence: Evidence
    via_rewrite: bool
    adjusted: bool
    lines: tuple[str, ...] | None = None  # the target's new lines, when edited inside a statement


SIMILAR = 0.5  # share of tokens two statements must have in common to correspond
_ARGUMENT = frozenset({",", "true", "false", "NULL", "&", "*", "(", ")", "->", "."})


def _in_call_args(toks: list[str]) -> list[bool]:
    """Per token: is it inside the argument list of a call (an identifier followed by ``(``)?"""
    out: list[bool] = []
    stack: list[bool] = []
    for i, x in enumerate(toks):
        if x == "(":
            out.append(any(stack))  # a nested parenthesis is part of the outer call's argument
            stack.append(i > 0 and re.fullmatch(r"[A-Za-z_]\w*", toks[i - 1]) is not None)
            continue
        if x == ")":
            if stack:
                stack.pop()
            out.append(any(stack))
            continue
        out.append(any(stack))
    return out


def similar(u: Item, t: Item, known: Known) -> tuple[bool, list[tuple[str, str, str]]]:
    """Do two statements correspond though neither matches the other by rules (API drift)?

    The same kind of statement, half its tokens in common (heads only for statements with
    blocks), and every difference explained: a local spelt differently (a valid rename), a
    callee renamed with the same words (``folio_put`` / ``put_page``), an argument of a call
    gained, lost or changed. A different constant, operator or variable outside a call's
    arguments is a different statement. Returns the renames the pair shows.
    """
    if u.kind != t.kind or u.cut_start or u.cut_end or bool(u.blocks) != bool(t.blocks):
        return False, []
    uc, tc = (u.head, t.head) if u.blocks else (u.code, t.code)
    if not uc or not tc:
        return False, []
    a, b = [x.text for x in uc], [x.text for x in tc]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if sm.ratio() < SIMILAR:
        return False, []
    ua, ta = _in_call_args(a), _in_call_args(b)
    renames = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                x, y = uc[i1 + k], tc[j1 + k]
                callee = i1 + k + 1 < len(a) and a[i1 + k + 1] == "("
                if callee and x.kind == y.kind == "id" and align.same_api_words(x.text, y.text):
                    continue
                if x.kind == y.kind == "id" and align.valid_rename("id", x.text, y.text, known):
                    renames.append(("id", x.text, y.text))
                    continue
                if callee or not (ua[i1 + k] and ta[j1 + k]):
                    return False, []
                if not all(
                    z.kind in ("id", "field") or z.text in _ARGUMENT or z.text.isdigit()
                    for z in (x, y)
                ):
                    return False, []
            continue
        spans = [(uc, ua, range(i1, i2)), (tc, ta, range(j1, j2))]
        for toks, inside, rng in spans:
            for k in rng:
                z = toks[k]
                if not inside[k] or not (
                    z.kind in ("id", "field") or z.text in _ARGUMENT or z.text.isdigit()
                ):
                    return False, []
    return True, renames


def _corresponding(
    us: list[Item], uj: int, ub: Block, ts: list[Item], tj: int, known: Known, ev: Evidence
) -> int:
    """How many statements on both sides of an upstream gap correspond to those of a target gap.

    0 when a neighbour of the gap has no counterpart. Statements matching by rules count 2,
    merely similar ones 1; the walk outwards stops at the first pair that does not correspond.
    """
    score = 0
    for step, (ui0, ti0) in ((-1, (uj - 1, tj - 1)), (1, (uj, tj))):
        ui, ti, first = ui0, ti0, True
        while True:
            if not 0 <= ui < len(us):
                visible = ub.open_line if step < 0 else ub.close_line
                if visible is not None:
                    if 0 <= ti < len(ts):
                        return 0 if first else score  # the block ends upstream, not in the target
                    score += 1
                break
            if not 0 <= ti < len(ts):
                return 0 if first else score
            m = align.compare_items(us[ui], ts[ti], known)
            if m.level >= REWRITTEN:
                ev.add(m)
                score += 2
            else:
                ok, renames = similar(us[ui], ts[ti], known)
                if not ok:
                    if first:
                        return 0
                    break
                ev.renames.extend(renames)
                score += 1
            ui, ti, first = ui + step, ti + step, False
    return score


def _by_correspondence(
    ub: Block, uj: int, p: int, up_side: Side, ctx: Ctx, full_ev: Evidence | None
) -> Place | None:
    """The unique target gap whose surrounding statements correspond one by one to upstream's.

    The fallback when no neighbour matches by rules: both trees say the same thing around the
    change in drifted words (``folio_put(folio)`` / ``put_page(page)``). Needs at least three
    corresponding statements or block edges and a unique best gap; what it learns (a local
    spelt differently) renames the added lines.
    """
    us = ub.code_items()
    scored: list[tuple[int, Block, int, Evidence]] = []
    for tb in statements.all_blocks(ctx.root):
        if not tb.braced:
            continue
        ts = tb.code_items()
        for tj in range(len(ts) + 1):
            ev = Evidence()
            n = _corresponding(us, uj, ub, ts, tj, ctx.known, ev)
            if n >= 3:
                scored.append((n, tb, tj, ev))
    if not scored:
        return None
    scored.sort(key=lambda x: -x[0])
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    _, tb, tj, ev = scored[0]
    ev.merge(full_ev)
    ts = tb.code_items()
    t_before: Anchor = ts[tj - 1] if tj else OPEN
    ins = _ins_line(tb, t_before) + 1
    ubase = us[uj - 1].end if uj else ub.open_line
    if ubase is not None:  # blank lines and comments upstream keeps before the change
        between = [norm(x) for x in up_side.lines[ubase + 1 : p]]
        if between and between == [norm(x) for x in ctx.side.lines[ins : ins + len(between)]]:
            ins += len(between)
    if uj < len(us) and tj < len(ts):
        ui, ti = indent(up_side.lines[us[uj].start]), indent(ctx.side.lines[ts[tj].start])
    elif uj and tj:
        ui, ti = indent(up_side.lines[us[uj - 1].end]), indent(ctx.side.lines[ts[tj - 1].start])
    else:
        ui = ti = ""
    return Place(ins, 0, ui, ti, ev, False, True)


def insertion(
    g: Group,
    p: int,
    up_side: Side,
    up_root: Block,
    ctx: Ctx,
    hunk_no: int,
    where: str,
    full_ev: Evidence | None,
) -> Place | Failure:
    """Where added lines go: the unique target gap whose statements before and after match."""
    loc = _up_gap(up_root, p)
    fname = ctx.fn.name
    if loc is None:
        inside = within_statement(g, p, up_side, up_root, ctx)
        if inside is not None:
            return inside
        return Failure(
            hunk_no,
            f"hunk #{hunk_no}: the change is inside a statement; only whole statements can be relocated",
            fname,
            up_side.lines[p] if p < len(up_side.lines) else None,
        )
    ub, uj = loc
    uitems = ub.code_items()
    u_before = uitems[uj - 1] if uj else (OPEN if ub.open_line is not None else UNKNOWN)
    u_after = uitems[uj] if uj < len(uitems) else (CLOSE if ub.close_line is not None else UNKNOWN)
    cands: list[_Gap] = []
    for tb in statements.all_blocks(ctx.root):
        if not tb.braced:
            continue
        titems = tb.code_items()
        for tj in range(len(titems) + 1):
            t_before = titems[tj - 1] if tj else OPEN
            t_after = titems[tj] if tj < len(titems) else CLOSE
            lb, mb, sb = _anchor_cmp(u_before, ub, t_before, tb, ctx.known)
            la, ma, sa = _anchor_cmp(u_after, ub, t_after, tb, ctx.known)
            cands.append(_Gap(tb, tj, t_before, t_after, lb, la, mb, ma, sb, sa))
    good = [
        c
        for c in cands
        if c.level_before >= REWRITTEN
        and c.level_after >= REWRITTEN
        and (
            (c.strong_before and c.level_before >= HEAD)
            or (c.strong_after and c.level_after >= HEAD)
        )
    ]
    for c in good:
        c.extended = _extended(ub, uj, c.block, c.index, ctx.known)
    good.sort(key=lambda c: c.rank, reverse=True)
    if not good:
        fuzzy = _by_correspondence(ub, uj, p, up_side, ctx, full_ev)
        if fuzzy is not None:
            return fuzzy
        local = _next_to_declaration(g, cands, up_side, ctx)
        if local is not None:
            return local
        near = max(
            cands,
            key=lambda c: (c.level_before + c.level_after, max(c.level_before, c.level_after)),
            default=None,
        )
        missing = u_before if near is None or near.level_before <= near.level_after else u_after
        which = "before" if missing is u_before else "after"
        nearest = None
        needles: tuple[str, ...] = ()
        if near is not None and max(near.level_before, near.level_after) > 0:
            nearest = (
                f"{fname}() line {_ins_line(near.block, near.before) + 1}, between {_target_label(near.before, near.block, ctx.side)}"
                f" and {_target_label(near.after, near.block, ctx.side)}"
            )
        if isinstance(missing, Item):
            fn_text = {
                norm(x)
                for x in ctx.side.lines[ctx.fn.node.start_point[0] : ctx.fn.node.end_point[0] + 1]
            }
            needles = tuple(
                dict.fromkeys(
                    norm(up_side.lines[k])
                    for k in range(missing.start, missing.end + 1)
                    if norm(up_side.lines[k]) not in fn_text and len(norm(up_side.lines[k])) > 3
                )
            )
        if missing is OPEN and ub.owner is not None:
            fn_text = {
                norm(x)
                for x in ctx.side.lines[ctx.fn.node.start_point[0] : ctx.fn.node.end_point[0] + 1]
            }
            needles = tuple(x for x in [norm(up_side.lines[ub.owner.start])] if x not in fn_text)
        what = _describe(missing, up_side, ub)
        return Failure(
            hunk_no,
            f"hunk #{hunk_no}: the statement {which} the change, {what}, is not in {fname}() at {where}"
            if missing is not OPEN
            else f"hunk #{hunk_no}: {what} is not in {fname}() at {where}",
            fname,
            what,
            nearest,
            needles,
        )
    best = good[0]
    ties = [c for c in good[1:] if c.rank == best.rank]
    if ties:
        lines = ", ".join(str(_ins_line(c.block, c.before) + 1) for c in [best, *ties])
        return Failure(
            hunk_no,
            f"hunk #{hunk_no}: the anchors match in {len(ties) + 1} places in {fname}() (lines {lines}); refusing to guess",
            fname,
            None,
            None,
        )
    tb, t_before, t_after = best.block, best.before, best.after
    lb, la, mb, ma = best.level_before, best.level_after, best.match_before, best.match_after
    ev = Evidence()
    ev.add(mb)
    ev.add(ma)
    if full_ev is not None:
        ev.merge(full_ev)
    else:
        _chain_evidence(ub, tb, ctx.known, ev)
    ins = _ins_line(tb, t_before) + 1
    ubase = (
        None
        if u_before is UNKNOWN
        else (u_before.end if isinstance(u_before, Item) else ub.open_line)
    )
    if ubase is not None:
        between = [norm(x) for x in up_side.lines[ubase + 1 : p]]
        have = [norm(x) for x in ctx.side.lines[ins : ins + len(between)]]
        if between and between == have:
            ins += len(between)
    # indentation: the same anchor on both sides, the one after the change when it is a statement
    if isinstance(u_after, Item) and isinstance(t_after, Item):
        ui, ti = indent(up_side.lines[u_after.start]), indent(ctx.side.lines[t_after.start])
    elif isinstance(u_before, Item) and isinstance(t_before, Item):
        ui = indent(up_side.lines[u_before.end if u_before.cut_start else u_before.start])
        ti = indent(ctx.side.lines[t_before.start])
    else:
        ui = ti = ""
    adjusted = lb < EQUAL or la < EQUAL
    return Place(ins, 0, ui, ti, ev, min(lb, la) == REWRITTEN, adjusted)


def declarations(lines: list[str]) -> bool:
    """Are the lines only declarations of locals (``int drained = 0;``)?"""
    items = statements.fragment_block(statements.fragment(lines)).code_items()
    return bool(items) and all(it.kind == "declaration" for it in items)


def _next_to_declaration(g: Group, cands: list[_Gap], up_side: Side, ctx: Ctx) -> Place | None:
    """A new local (f) next to a declaration both trees have word for word, when its other
    upstream neighbour is not in the target (another local there): the one gap where either
    neighbour is that same declaration."""
    if not declarations(g.added):
        return None
    found = [
        c
        for c in cands
        if (c.level_after == EQUAL and isinstance(c.after, Item) and c.after.kind == "declaration")
        or (
            c.level_before == EQUAL
            and isinstance(c.before, Item)
            and c.before.kind == "declaration"
        )
    ]
    if len(found) != 1:
        return None
    c = found[0]
    ins = _ins_line(c.block, c.before) + 1
    anchor = c.after if isinstance(c.after, Item) and c.level_after == EQUAL else c.before
    assert isinstance(anchor, Item)
    up = indent(g.added[0])
    return Place(ins, 0, up, indent(ctx.side.lines[anchor.start]), Evidence(), False, True)


def _ins_line(tb: Block, t_before: Anchor) -> int:
    if isinstance(t_before, Item):
        return t_before.end
    return tb.open_line if tb.open_line is not None else 0


def _line_match(u: str, ut: tuple, t: str, tt: tuple, known: Known) -> Match:
    if not ut or not tt:
        return Match(EQUAL) if norm(u) == norm(t) else align.NO
    return align.compare_tokens(ut, tt, known)


def removal(
    g: Group,
    p0: int,
    up_side: Side,
    up_toks: list[tuple],
    ctx: Ctx,
    tgt_toks: list[tuple],
    hunk_no: int,
    where: str,
    full_ev: Evidence | None,
    up_root: Block,
) -> Place | Failure:
    """Where removed lines are: found by their tokens, else as re-expressed whole statements."""
    fname = ctx.fn.name
    n = len(g.removed)
    lo, hi = ctx.fn.node.start_point[0], ctx.fn.node.end_point[0]
    best: list[tuple[int, int, Evidence]] = []
    for s in range(lo, hi - n + 2):
        ev = Evidence()
        score = 0
        for k in range(n):
            m = _line_match(
                up_side.lines[p0 + k],
                up_toks[p0 + k],
                ctx.side.lines[s + k],
                tgt_toks[s + k],
                ctx.known,
            )
            if not m.ok:
                break
            ev.add(m)
            score += m.level
        else:
            for k in range(1, 4):
                for ui, ti in ((p0 - k, s - k), (p0 + n - 1 + k, s + n - 1 + k)):
                    if 0 <= ui < len(up_side.lines) and lo <= ti <= hi:
                        m = _line_match(
                            up_side.lines[ui],
                            up_toks[ui],
                            ctx.side.lines[ti],
                            tgt_toks[ti],
                            ctx.known,
                        )
                        if m.ok and up_side.lines[ui].strip():
                            score += 1
                            ev.add(m)  # renames the context shows hold for the change too
            best.append((score, s, ev))
    best.sort(key=lambda x: -x[0])
    if best and (len(best) == 1 or best[0][0] > best[1][0]):
        score, s, ev = best[0]
        ev.merge(full_ev)
        adjusted = any(norm(up_side.lines[p0 + k]) != norm(ctx.side.lines[s + k]) for k in range(n))
        return Place(
            s, n, indent(up_side.lines[p0]), indent(ctx.side.lines[s]), ev, False, adjusted
        )
    if len(best) > 1:
        return Failure(
            hunk_no,
            f"hunk #{hunk_no}: the removed lines occur {len(best)} times in {fname}(); refusing to guess",
            fname,
        )
    reflowed = _reflowed_comment(g, ctx, lo, hi)
    if reflowed is not None:
        return reflowed
    # Whole statements re-expressed in the target: anchor like an insertion, pair the statements.
    placed = _statement_replacement(g, p0, up_side, up_root, ctx, full_ev)
    if placed is None:
        placed = within_statement(g, p0, up_side, up_root, ctx)
    if placed is not None:
        return placed
    first = next((x for x in g.removed if x.strip()), g.removed[0])
    near = _nearest_line(first, ctx.side.lines, lo, hi)
    return Failure(
        hunk_no,
        f"hunk #{hunk_no}: the lines the fix removes are not in {fname}() at {where}: `{first.strip()}`",
        fname,
        f"`{first.strip()}`",
        near and f"{fname}() line {near[0] + 1}: `{near[1].strip()}`",
        tuple(norm(x) for x in g.removed if len(norm(x)) > 3)[:3],
    )


def _comment_words(line: str) -> list[str] | None:
    """The words of a comment line (markers left out), None for a line that is not one."""
    x = line.strip()
    if not x.startswith(("*", "/*", "//")) and not x.endswith("*/"):
        return None
    x = re.sub(r"^(/\*+|\*+/?|//)", "", x)
    x = re.sub(r"\*+/$", "", x)
    return x.split()


def _reflowed_comment(g: Group, ctx: Ctx, lo: int, hi: int) -> Place | None:
    """Removed comment lines the target wraps differently (e): the one run of the function's
    comment lines with the same words in the same order."""
    want: list[str] = []
    for x in g.removed:
        w = _comment_words(x)
        if w is None:
            return None
        want += w
    if len(want) < 4:
        return None
    found = []
    lines = ctx.side.lines
    for k in range(lo, hi + 1):
        if not _comment_words(lines[k]):
            continue  # a run starts at a line with words (not a bare `/*`)
        words: list[str] = []
        for m in range(k, hi + 1):
            w = _comment_words(lines[m])
            if w is None:
                break
            words += w
            if words == want:
                found.append((k, m))
                break
            if len(words) >= len(want) or want[: len(words)] != words:
                break
    if len(found) != 1:
        return None
    k, m = found[0]
    return Place(k, m - k + 1, indent(g.removed[0]), indent(lines[k]), Evidence(), False, True)


def _statement_replacement(
    g: Group, p0: int, up_side: Side, up_root: Block, ctx: Ctx, full_ev: Evidence | None
) -> Place | None:
    p1 = p0 + len(g.removed)
    loc = _up_gap(up_root, p0)
    if loc is None:
        return None
    ub, uj = loc
    uitems = ub.code_items()
    removed = [it for it in uitems[uj:] if it.start >= p0 and it.end < p1]
    covered = {k for it in removed for k in range(it.start, it.end + 1)}
    if not removed or any(
        k not in covered
        and up_side.lines[k].strip()
        and not up_side.lines[k].strip().startswith(("/*", "*", "//"))
        for k in range(p0, p1)
    ):
        return None
    if any(it.cut_start or it.cut_end for it in removed):
        return None
    k = len(removed)
    u_before = uitems[uj - 1] if uj else (OPEN if ub.open_line is not None else UNKNOWN)
    u_after = (
        uitems[uj + k]
        if uj + k < len(uitems)
        else (CLOSE if ub.close_line is not None else UNKNOWN)
    )
    found = []
    for tb in statements.all_blocks(ctx.root):
        titems = tb.code_items()
        for tj in range(len(titems) - k + 1):
            ms = [
                align.compare_items(u, t, ctx.known)
                for u, t in zip(removed, titems[tj : tj + k], strict=True)
            ]
            if not all(m.level >= REWRITTEN for m in ms):
                continue
            lb, mb, sb = _anchor_cmp(u_before, ub, titems[tj - 1] if tj else OPEN, tb, ctx.known)
            la, ma, sa = _anchor_cmp(
                u_after, ub, titems[tj + k] if tj + k < len(titems) else CLOSE, tb, ctx.known
            )
            if lb >= REWRITTEN and la >= REWRITTEN and (sb or sa):
                found.append((tb, tj, ms + [mb, ma]))
    if len(found) != 1:
        return None
    tb, tj, ms = found[0]
    ev = Evidence()
    for m in ms:
        ev.add(m)
    ev.merge(full_ev)
    titems = tb.code_items()
    start, end = titems[tj].start, titems[tj + k - 1].end
    return Place(
        start,
        end - start + 1,
        indent(up_side.lines[removed[0].start]),
        indent(ctx.side.lines[start]),
        ev,
        any(m.level == REWRITTEN for m in ms),
        True,
    )


def _nearest_line(text: str, lines: list[str], lo: int, hi: int) -> tuple[int, str] | None:
    want = norm(text)
    best, score = None, 0.0
    for k in range(lo, min(hi + 1, len(lines))):
        r = difflib.SequenceMatcher(None, want, norm(lines[k])).ratio()
        if r > score:
            best, score = (k, lines[k]), r
    return best if score >= 0.6 else None


def reindent(lines: list[str], up: str, tgt: str) -> list[str]:
    """Swap the upstream base indentation for the target's on every line that has it."""
    if up == tgt:
        return list(lines)
    out = []
    for x in lines:
        if x.startswith(up) and x.strip():
            out.append(tgt + x[len(up) :])
        else:
            out.append(x)
    return out


# --- a change inside one statement --------------------------------------------------------

_PART = 0.6  # share of tokens the target's statement must have in common with upstream's


@dataclass(frozen=True)
class _Span:
    """Code tokens of a piece of text with their byte spans in ``data``."""

    data: bytes
    toks: tuple[statements.Tok, ...]

    @property
    def texts(self) -> list[str]:
        return [t.text for t in self.toks]

    def end(self, i: int) -> int:
        t = self.toks[i]
        return t.start + len(t.text.encode())


def _span(side: Side, toks: tuple[statements.Tok, ...]) -> _Span | None:
    code = statements.code(toks)
    data = side.unit.data
    for t in code:
        if data[t.start : t.start + len(t.text.encode())] != t.text.encode():
            return None  # a multi-word leaf: no exact position per word
    return _Span(data, code)


def _text_span(lines: list[str]) -> _Span | None:
    """The code tokens of upstream lines, read as a fragment, with their positions."""
    side = statements.fragment(lines)
    return _span(side, side.toks(side.unit.root))


def _innermost(block: Block, lo: int, hi: int) -> Item | None:
    """The innermost statement whose lines hold ``lo..hi`` without being all of them."""
    for it in block.items:
        if it.start <= lo and hi <= it.end:
            for b in it.blocks:
                if b.braced:
                    above = b.open_line if b.open_line is not None else -1
                    below = b.close_line if b.close_line is not None else 10**9
                else:  # a braceless body: its statements' lines
                    above = min((x.start for x in b.items), default=10**9) - 1
                    below = max((x.end for x in b.items), default=-1) + 1
                if above < lo and hi < below:
                    return _innermost(b, lo, hi)  # None: whole statements of that block
            if it.start >= lo and it.end <= hi:
                return None
            return it
    return None


def _map(u: list[str], t: list[str], known: Known) -> tuple[list[int | None], list]:
    """Upstream token index -> target token index where the two statements align: equal
    tokens, and identifiers swapped one for one when the rename is plausible. The renames."""
    pos: list[int | None] = [None] * (len(u) + 1)
    renames: list[tuple[str, str, str]] = []
    sm = difflib.SequenceMatcher(None, u, t, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                pos[i1 + k] = j1 + k
        elif op == "replace" and i2 - i1 == j2 - j1:
            pairs = list(zip(u[i1:i2], t[j1:j2], strict=True))
            if all(
                re.fullmatch(r"[A-Za-z_]\w*", a)
                and re.fullmatch(r"[A-Za-z_]\w*", b)
                and (align.valid_rename("id", a, b, known) or align.same_api_words(a, b))
                for a, b in pairs
            ):
                for k, (a, b) in enumerate(pairs):
                    pos[i1 + k] = j1 + k
                    renames.append(("id", a, b))
    pos[len(u)] = len(t)
    return pos, renames


def within_statement(g: Group, p0: int, up_side: Side, up_root: Block, ctx: Ctx) -> Place | None:
    """Part of a statement (a) changed: the same token edit on the target's statement.

    Upstream changes one argument or sub-expression of a statement (``vma->anon_vma`` ->
    ``READ_ONCE(vma->anon_vma)``, one more operand in a condition spread over lines) whose other
    tokens differ in the target. The upstream statement before and after the change is diffed
    token by token; the target statement that corresponds (same kind, most tokens in common,
    unique) gets each edit where the tokens around it, and those it replaces, align with
    upstream's (equal, or an identifier plausibly renamed). The target keeps its other tokens
    and its layout; anything that does not align refuses. Simple statements rewritten one for
    one (``start = max(addr ...)``, ``end = min(addr ...)``) are edited pairwise, each in the
    target statement that corresponds to it.
    """
    p1 = p0 + len(g.removed)
    item = _innermost(up_root, p0, max(p0, p1 - 1) if g.removed else p0)
    if item is not None:
        if not g.removed and item.start == p0:
            return None
        lines = up_side.lines[item.start : item.end + 1]
        post = lines[: p0 - item.start] + g.added + lines[p1 - item.start :]
        body = min((b.open_line for b in item.blocks if b.open_line is not None), default=None)
        head = body is not None and max(p0, p1 - 1) <= body
        got = _statement_edits(item, lines, post, head, ctx)
        return _edited(got[0], got[1], ctx.side) if got is not None else None
    if not (g.removed and g.added):
        return None
    # whole simple statements rewritten one for one
    olds = [
        it
        for b in statements.all_blocks(up_root)
        for it in b.code_items()
        if p0 <= it.start and it.end < p1 and not it.blocks
    ]
    if not olds or any(it.cut_start or it.cut_end for it in olds):
        return None
    covered = {k for it in olds for k in range(it.start, it.end + 1)}
    if any(k not in covered and norm(up_side.lines[k]) for k in range(p0, p1)):
        return None
    new_side = statements.fragment(g.added)
    news = statements.fragment_block(new_side).code_items()
    if len(news) != len(olds) or any(it.kind != o.kind for it, o in zip(news, olds, strict=True)):
        return None
    edits: list[tuple[int, int, bytes]] = []
    renames: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for old, new in zip(olds, news, strict=True):
        got = _statement_edits(
            old,
            up_side.lines[old.start : old.end + 1],
            g.added[new.start : new.end + 1],
            False,
            ctx,
        )
        if got is None:
            return None
        if any(a in seen for a, _, _ in got[0]):
            return None  # two upstream statements on one target statement
        seen |= {a for a, _, _ in got[0]}
        edits += got[0]
        renames += got[1]
    return _edited(edits, renames, ctx.side)


def _statement_edits(
    item: Item, lines: list[str], post: list[str], head: bool, ctx: Ctx
) -> tuple[list[tuple[int, int, bytes]], list[tuple[str, str, str]]] | None:
    """Byte edits of the target statement corresponding to ``item`` that turn it as upstream's
    ``lines`` turn into ``post``; None when it is not unique or the edit does not align."""
    before, after = _text_span(lines), _text_span(post)
    if before is None or after is None or before.texts == after.texts:
        return None
    # A change in the head of an if/for/while: the statements correspond by their heads.
    nh = len(statements.code(item.head)) if head else None
    scored: list[tuple[float, Item, _Span]] = []
    for blk in statements.all_blocks(ctx.root):
        for it in blk.code_items():
            if it.kind != item.kind:
                continue
            span = _span(ctx.side, it.toks)
            if span is None:
                continue
            mine = before.texts[:nh] if nh else before.texts
            theirs = [t.text for t in statements.code(it.head)] if nh else span.texts
            r = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio()
            if r >= _PART:
                scored.append((r, it, span))
    scored.sort(key=lambda x: -x[0])
    if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return _token_edits(before, after, scored[0][2], ctx.known)


def _edited(
    edits: list[tuple[int, int, bytes]], renames: list[tuple[str, str, str]], side: Side
) -> Place | None:
    """The target lines the byte edits touch, rewritten, as one placement."""
    if not edits:
        return None
    data = side.unit.data
    lo = min(a for a, _, _ in edits)
    hi = max(b for _, b, _ in edits)
    first = data.rfind(b"\n", 0, lo) + 1
    last = data.find(b"\n", hi)
    last = len(data) if last < 0 else last
    old = data[first:last].decode("utf-8", "replace").split("\n")
    region = data[first:last]
    for a, b, new in sorted(edits, reverse=True):
        region = region[: a - first] + new + region[b - first :]
    lines = region.decode("utf-8", "replace").split("\n")
    start = data.count(b"\n", 0, first)
    if max(map(_width, lines)) > _COLUMNS >= max(map(_width, old)):
        # the edit pushed a line past 80 columns: refill the statement's lines from there on,
        # as a maintainer does (``src_start, len, mmap_changing,`` / ``mcopy_mode, wp_copy);``)
        rest = side.lines[start + len(old) :]
        more = 0
        while (
            more < len(rest)
            and more < 8
            and not (lines + rest[:more])[-1].rstrip().endswith((";", "{", "}", ":"))
        ):
            more += 1
        filled = _refill(lines + rest[:more])
        if filled is not None:
            old, lines = old + rest[:more], filled
    ev = Evidence()
    ev.renames.extend(renames)
    return Place(start, len(old), "", "", ev, False, True, tuple(lines))


_COLUMNS = 80


def _width(line: str) -> int:
    return len(line.expandtabs(8))


def _refill(lines: list[str]) -> list[str] | None:
    """Greedy refill at ``, `` boundaries, from the first line past 80 columns to the end of
    the statement, each continuation line at the indent the statement's continuation has."""
    k = next((i for i, x in enumerate(lines) if _width(x) > _COLUMNS), None)
    if k is None or k + 1 >= len(lines):
        return None
    cont, head = indent(lines[k + 1]), indent(lines[k])
    words = re.split(r"(?<=,) +", " ".join(x.strip() for x in lines[k:]))
    out = [head + words[0]]
    for w in words[1:]:
        if _width(out[-1] + " " + w) <= _COLUMNS:
            out[-1] += " " + w
        else:
            out.append(cont + w)
    if any(_width(x) > _COLUMNS for x in out):
        return None
    return lines[:k] + out


def _token_edits(
    before: _Span, after: _Span, target: _Span, known: Known
) -> tuple[list[tuple[int, int, bytes]], list[tuple[str, str, str]]] | None:
    """Byte edits of ``target`` that change it as ``before`` changes into ``after``, where
    the tokens around each edit, and those it replaces, align (equal or plausibly renamed)."""
    pos, renames = _map(before.texts, target.texts, known)
    edits: list[tuple[int, int, bytes]] = []
    opened = 0  # brackets an earlier insertion opened (``READ_ONCE(`` ... ``)``)
    ops = [
        o
        for o in difflib.SequenceMatcher(
            None, before.texts, after.texts, autojunk=False
        ).get_opcodes()
        if o[0] != "equal"
    ]
    for _op, i1, i2, j1, j2 in ops:
        new_toks = after.texts[j1:j2]
        closes = i1 == i2 and opened > 0 and set(new_toks) <= {")", "]"}
        # one more element of a list (``atomic_t *mmap_changing,`` after ``len,``) where the
        # target's next element differs: the element before it is anchor enough
        element = i1 == i2 and new_toks[-1:] == [","] and i1 > 0 and before.texts[i1 - 1] == ","
        if (closes or element) and i1 > 0 and pos[i1 - 1] is not None and pos[i1] is None:
            # closing a wrapper after its last aligned token: the left anchor is enough
            pos = [*pos[:i1], pos[i1 - 1] + 1, *pos[i1 + 1 :]]  # type: ignore[operator]
        opened += sum(t in "([" for t in new_toks) - sum(t in ")]" for t in new_toks)
        # the tokens on both sides of the edit, and those it replaces, must align in order
        if i1 > 0 and pos[i1 - 1] is None:
            return None
        if not all(pos[i] is not None for i in range(i1, i2 + 1)):
            return None
        k1, k2 = pos[i1], pos[i2]
        assert k1 is not None and k2 is not None
        if k2 - k1 != i2 - i1 or (i1 > 0 and pos[i1 - 1] != k1 - 1):
            return None
        if any(pos[i1 + k] != k1 + k for k in range(i2 - i1)):
            return None
        if j1 == j2:  # tokens removed, with the blanks after them (never a comment)
            a, b = target.toks[k1].start, target.end(k2 - 1)
            while b < len(target.data) and target.data[b : b + 1] in (b" ", b"\t", b"\n"):
                b += 1
            edits.append((a, b, b""))
        elif i1 == i2:  # tokens added before target token k1
            a = target.toks[k1].start if k1 < len(target.toks) else target.end(k1 - 1)
            nxt = after.toks[j2].start if j2 < len(after.toks) and not closes else after.end(j2 - 1)
            text = after.data[after.toks[j1].start : nxt]
            if b"\n" in text and k1 < len(target.toks):
                # the element ends its line upstream: the next line keeps the target's indent
                line_start = target.data.rfind(b"\n", 0, a) + 1
                lead = target.data[line_start:a]
                if not lead.strip():
                    text = text[: text.rfind(b"\n") + 1] + lead
            edits.append((a, a, text))
        else:
            a, b = target.toks[k1].start, target.end(k2 - 1)
            edits.append((a, b, after.data[after.toks[j1].start : after.end(j2 - 1)]))
    return edits, renames


def declarator_change(lines: list[str], post: list[str], ctx: Ctx) -> Place | None:
    """A change to the function's own declarator (a parameter added or changed): the same
    token edit on the target function's declarator, its other parameters and layout kept."""
    decl = ctx.fn.node.child_by_field_name("declarator")
    if decl is None:
        return None
    target = _span(ctx.side, ctx.side.toks(decl))
    before, after = _text_span(lines), _text_span(post)
    if target is None or before is None or after is None or before.texts == after.texts:
        return None
    new_names = {t.text for t in after.toks if t.kind == "id"} - set(before.texts)
    if new_names & {t.text for t in target.toks}:
        return None  # the target function already has that parameter: not the same change
    got = _token_edits(before, after, target, ctx.known)
    if got is None or _type_clash(got[0], ctx.side):
        return None
    return _edited(got[0], got[1], ctx.side)


def declaration_change(lines: list[str], post: list[str], side: Side, known: Known) -> Place | None:
    """A change inside a file-scope declaration (a prototype gains a parameter): the same
    token edit on the one declaration of the target that holds most of upstream's tokens."""
    before, after = _text_span(lines), _text_span(post)
    if before is None or after is None or before.texts == after.texts:
        return None
    scored: list[tuple[float, _Span]] = []
    for d in syntax.file_scope(side.unit.root):
        if d.type != "declaration":
            continue
        span = _span(side, side.toks(d))
        if span is None:
            continue
        sm = difflib.SequenceMatcher(None, before.texts, span.texts, autojunk=False)
        share = sum(b.size for b in sm.get_matching_blocks()) / max(len(before.texts), 1)
        if share >= _PART:
            scored.append((share, span))
    scored.sort(key=lambda x: -x[0])
    if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    got = _token_edits(before, after, scored[0][1], known)
    if got is None or _type_clash(got[0], side):
        return None
    return _edited(got[0], got[1], side)


def _param_types(root: syntax.Node) -> dict[str, set[str]]:
    """Name -> the types (``bool *``) parameters and locals of that name have under ``root``."""
    out: dict[str, set[str]] = {}
    for n in syntax.walk(root):
        if n.type not in ("parameter_declaration", "declaration"):
            continue
        kind = n.child_by_field_name("type")
        if kind is None:
            continue
        for d in n.children_by_field_name("declarator"):
            name = syntax.declarator_name(d)
            if not name:
                continue
            stars = 0
            inner: syntax.Node | None = d
            while inner is not None and inner.type in ("pointer_declarator", "init_declarator"):
                stars += inner.type == "pointer_declarator"
                inner = inner.child_by_field_name("declarator")
            out.setdefault(name, set()).add(" ".join(syntax.text(kind).split()) + " *" * stars)
    return out


def _type_clash(edits: list[tuple[int, int, bytes]], side: Side) -> bool:
    """Does an edit declare a parameter the target file already has under another type
    (upstream's ``atomic_t *mmap_changing`` where 5.10 passes a ``bool *mmap_changing``)?"""
    have: dict[str, set[str]] | None = None
    for _, _, text in edits:
        code = text.decode("utf-8", "replace").strip().rstrip(",").strip()
        if not code or "(" in code:
            continue
        new = _param_types(syntax.parse(f"void __f({code});".encode(), "<param>").root)
        if not new:
            continue
        have = have if have is not None else _param_types(side.unit.root)
        for name, types in new.items():
            if have.get(name) and not (types & have[name]):
                return True
    return False
