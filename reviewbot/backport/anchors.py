"""Where does one change go in the target function? Anchors found by structure.

A change (a run of added/removed lines of a hunk) sits between two statements of the upstream
function, or at a block's start or end. Every gap between statements of the target function
is scored by comparing the statement before and the statement after with upstream's
(:func:`align.compare_items`: equal, renamed, same head, rewritten); the best gap wins only when
both sides match, one of them with substance, and no other gap scores the same (or, when the
other neighbour is code the target never had, the one shared neighbour; when neither matches by
rules, :mod:`correspond` looks for neighbours that say the same in drifted words). Where removed lines
are is :mod:`removals`' business. When nothing fits, the :class:`Failure` names the missing
anchor and the nearest candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reviewbot.backport import align, statements
from reviewbot.backport.align import EQUAL, HEAD, RENAMED, REWRITTEN, Evidence, Match
from reviewbot.backport.correspond import absent, by_correspondence
from reviewbot.backport.decls import declarations, past_declarations
from reviewbot.backport.known import Known
from reviewbot.backport.partial import within_statement
from reviewbot.backport.places import (
    CLOSE,
    OPEN,
    UNKNOWN,
    Anchor,
    Ctx,
    Failure,
    Group,
    Place,
    indent,
    ins_line,
    norm,
)
from reviewbot.backport.statements import Block, Item, Side


def up_gap(block: Block, p: int) -> tuple[Block, int] | None:
    """The block and code-item index where an insertion before side line ``p`` sits."""
    for it in block.items:
        if it.start < p <= it.end:
            for b in it.blocks:
                lo = b.open_line if b.open_line is not None else -1
                hi = b.close_line if b.close_line is not None else 10**9
                if lo < p <= hi:
                    inner = up_gap(b, p)
                    if inner is not None:
                        return inner
            return None
    items = block.code_items()
    return block, sum(1 for it in items if it.end < p)


def _owner_cmp(ub: Block, tb: Block, known: Known) -> tuple[int, Match, bool]:
    uo, to = ub.owner, tb.owner
    if to is None and (uo is None or _function_body(uo)):
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


def _function_body(it: Item) -> bool:
    """A hunk's ``{`` in column 0 opens the function's body (its declarator parsed apart)."""
    return it.kind == "compound_statement" and it.node.start_point[1] == 0


def anchor_cmp(u: Anchor, ub: Block, t: Anchor, tb: Block, known: Known) -> tuple[int, Match, bool]:
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
    past: bool = False  # the gap ends the target block's declarations (see past_declarations)

    @property
    def rank(self) -> tuple[int, int, int]:
        """Better gaps first: the weaker side, then both sides, then the extended context."""
        return (
            min(self.level_before, self.level_after),
            self.level_before + self.level_after,
            self.extended,
        )


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
    loc = up_gap(up_root, p)
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
    code = not declarations(g.added) and any(x.strip() for x in g.added)
    for tb in statements.all_blocks(ctx.root):
        if not tb.braced:
            continue
        titems = tb.code_items()
        for tj in range(len(titems) + 1):
            t_before = titems[tj - 1] if tj else OPEN
            t_after = titems[tj] if tj < len(titems) else CLOSE
            lb, mb, sb = anchor_cmp(u_before, ub, t_before, tb, ctx.known)
            la, ma, sa = anchor_cmp(u_after, ub, t_after, tb, ctx.known)
            past = lb < REWRITTEN and code and past_declarations(uitems, uj, titems, tj)
            if past:
                # statements go after the block's declarations in both trees (kernel C declares
                # first): the end of the target's declarations is the start of its code
                lb, mb, sb = anchor_cmp(OPEN, ub, OPEN, tb, ctx.known)
            cands.append(_Gap(tb, tj, t_before, t_after, lb, la, mb, ma, sb, sa, past=past))
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
        fuzzy = by_correspondence(ub, uj, p, up_side, ctx, full_ev)
        if fuzzy is not None:
            return fuzzy
        local = _next_to_declaration(g, cands, up_side, ctx)
        if local is not None:
            return local
        one = (
            _one_sided(cands, u_before, u_after, ctx)
            or _code_start(cands, u_after, ctx)
            or _after_a_check(cands, u_before, u_after)
        )
        if one is not None:
            good = [one]
    if not good:
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
                f"{fname}() line {ins_line(near.block, near.before) + 1}, between {_target_label(near.before, near.block, ctx.side)}"
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
        lines = ", ".join(str(ins_line(c.block, c.before) + 1) for c in [best, *ties])
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
    ins = ins_line(tb, t_before) + 1
    if best.past:  # after the blank line that ends the declarations, as the kernel writes it
        while ins < len(ctx.side.lines) and not ctx.side.lines[ins].strip():
            ins += 1
    ubase = (
        None
        if u_before is UNKNOWN
        else (u_before.end if isinstance(u_before, Item) else ub.open_line)
    )
    if lb == 0 and isinstance(u_after, Item) and isinstance(t_after, Item):
        # only the statement after matches (the one before is not in the target): right
        # above it, with the blank lines and comments upstream keeps between them
        ins = t_after.start
        between = [norm(x) for x in up_side.lines[p : u_after.start]]
        if between == [norm(x) for x in ctx.side.lines[ins - len(between) : ins]]:
            ins -= len(between)
    elif ubase is not None:
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


def _names(u: Item) -> int:
    """How many identifiers a statement names."""
    return len({t.text for t in u.code if t.kind in ("id", "field", "type")})


def _one_sided(cands: list[_Gap], u_before: Anchor, u_after: Anchor, ctx: Ctx) -> _Gap | None:
    """The gap next to the one target statement matching one neighbour of the change (or at
    the edge of the one block whose owner matches, when the change opens or ends a block),
    when the other neighbour is code the target does not have at all (another API, a later
    feature): a maintainer puts the change next to what both trees share."""
    for side in ("before", "after"):
        mine, other = (u_before, u_after) if side == "before" else (u_after, u_before)
        if not isinstance(other, Item):
            continue
        level = (lambda c: c.level_before) if side == "before" else (lambda c: c.level_after)
        if mine is OPEN or mine is CLOSE:
            # the change opens (or ends) a block: the one target block whose owner matches
            # (`for (...) {` heads alike, with substance)
            edge = (lambda c: c.before) if side == "before" else (lambda c: c.after)
            strong = (lambda c: c.strong_before) if side == "before" else (lambda c: c.strong_after)
            hits = [c for c in cands if edge(c) is mine and level(c) >= HEAD and strong(c)]
        elif isinstance(mine, Item):
            # the one statement that matches: with substance, or equal and naming two things
            # (`mmap_write_unlock(mm);`), never a bare `goto out;` or `return 0;`
            hits = [
                c
                for c in cands
                if level(c) >= RENAMED
                and (align.strong(mine) or (level(c) == EQUAL and _names(mine) >= 2))
            ]
        else:
            continue
        if len(hits) != 1 or not absent(other, ctx):
            continue
        # the other side counts for nothing (the tail of insertion() reads that as one-sided)
        if side == "before":
            return replace(hits[0], level_after=0, match_after=align.NO)
        return replace(hits[0], level_before=0, match_before=align.NO)
    return None


def _code_start(cands: list[_Gap], u_after: Anchor, ctx: Ctx) -> _Gap | None:
    """Upstream's change is the first code of the function, before a statement the target
    never had: the one gap where the target function's code starts (after its declarations)."""
    if not isinstance(u_after, Item) or not absent(u_after, ctx):
        return None
    # only the function's own body: an inner block's owner matches by its head alone
    hits = [c for c in cands if c.past and c.level_before == EQUAL]
    return replace(hits[0], level_after=0, match_after=align.NO) if len(hits) == 1 else None


def _error_check(u: Item) -> bool:
    """``if (err) return err;``: a test whose only branch leaves the function (it checks what
    the code before it did, and goes wherever that code goes)."""
    n = u.node
    if n.type != "if_statement" or n.child_by_field_name("alternative") is not None:
        return False
    body = n.child_by_field_name("consequence")
    if body is not None and body.type == "compound_statement" and body.named_child_count == 1:
        body = body.named_children[0]
    return body is not None and body.type in ("return_statement", "goto_statement")


def _after_a_check(cands: list[_Gap], u_before: Anchor, u_after: Anchor) -> _Gap | None:
    """Upstream's change follows an error check of code the target does not have there, and
    comes before a statement the target starts its code with: right above that statement,
    the one place before it (nothing but declarations precedes it in the target)."""
    if not (isinstance(u_before, Item) and _error_check(u_before)):
        return None
    if not (isinstance(u_after, Item) and align.strong(u_after)):
        return None
    hits = [c for c in cands if c.level_after >= RENAMED and c.strong_after]
    if len(hits) != 1:
        return None
    c = hits[0]
    # the function's own body, where nothing but declarations comes before that statement
    if c.block.owner is not None:
        return None
    if any(it.kind != "declaration" for it in c.block.code_items()[: c.index]):
        return None
    return replace(c, level_before=0, match_before=align.NO)


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
    ins = ins_line(c.block, c.before) + 1
    anchor = c.after if isinstance(c.after, Item) and c.level_after == EQUAL else c.before
    assert isinstance(anchor, Item)
    up = indent(g.added[0])
    return Place(ins, 0, up, indent(ctx.side.lines[anchor.start]), Evidence(), False, True)


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
