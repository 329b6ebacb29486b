"""When two statements say the same thing in drifted words (API drift, a local spelt
otherwise, an exit written through the older function's exit path), and the fallback placement
that rests on it: the one target gap whose neighbours correspond one by one to upstream's.
"""

from __future__ import annotations

import difflib
import re

from reviewbot.backport import align, statements
from reviewbot.backport.align import HEAD, REWRITTEN, Evidence
from reviewbot.backport.known import Known, same_api_words, valid_rename
from reviewbot.backport.places import OPEN, Anchor, Ctx, Place, indent, ins_line, norm
from reviewbot.backport.statements import Block, Item, Side
from reviewbot.ctree import syntax

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
                if callee and x.kind == y.kind == "id" and same_api_words(x.text, y.text):
                    continue
                if x.kind == y.kind == "id" and valid_rename("id", x.text, y.text, known):
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


def same_exit(u: Item, ts: list[Item], ti: int) -> bool:
    """``return E;`` upstream, ``v = E; goto out;`` in the target: the same exit, written as
    the older function leaves (through its common exit path)."""
    t = ts[ti]
    if u.kind != "return_statement" or t.kind != "expression_statement":
        return False
    value = u.node.named_children[0] if u.node.named_children else None
    expr = t.node.named_children[0] if t.node.named_children else None
    if value is None or expr is None or expr.type != "assignment_expression":
        return False
    left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
    return (
        syntax.text(expr.child_by_field_name("operator")) == "="
        and left is not None
        and left.type == "identifier"
        and syntax.norm(right) == syntax.norm(value)
        and ti + 1 < len(ts)
        and ts[ti + 1].kind == "goto_statement"
    )


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
            elif same_exit(us[ui], ts, ti):
                score += 1
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


def by_correspondence(
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
    ins = ins_line(tb, t_before) + 1
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


def absent(u: Item, ctx: Ctx) -> bool:
    """Has no statement of the target function anything to do with ``u``?"""
    for tb in statements.all_blocks(ctx.root):
        for t in tb.code_items():
            m = align.compare_items(u, t, ctx.known)
            if m.level == HEAD and m.renames and u.blocks and t.blocks:
                # only the heads agree, and only once renamed (`if (skip_anon) {…}` against
                # `if (err) return err;`): two different tests, not one re-expressed
                continue
            if m.level >= REWRITTEN or similar(u, t, ctx.known)[0]:
                return False
    return True
