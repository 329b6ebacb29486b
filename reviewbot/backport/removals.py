"""Where the lines a fix removes are in the target, and what replaces them there.

Removed lines are found by their tokens (renames allowed, the context around them breaking
ties); else as a comment the target wraps differently (e); else as whole statements the target
re-expresses (a rewritten call, another API), anchored like an insertion; else inside one
statement (:mod:`partial`). When nothing fits, the :class:`Failure` names the first removed line
and the nearest target line.
"""

from __future__ import annotations

import difflib
import re

from reviewbot.backport import align, statements
from reviewbot.backport.align import EQUAL, HEAD, RENAMED, REWRITTEN, Evidence, Match
from reviewbot.backport.anchors import anchor_cmp, reindent, up_gap
from reviewbot.backport.apitable import canonical
from reviewbot.backport.correspond import absent
from reviewbot.backport.ctokens import closing
from reviewbot.backport.known import Known
from reviewbot.backport.partial import within_statement
from reviewbot.backport.places import CLOSE, OPEN, UNKNOWN, Ctx, Failure, Group, Place, indent, norm
from reviewbot.backport.rewrites import older_exprs, returns_bool_fn
from reviewbot.backport.statements import Block, Item, Side
from reviewbot.ctree import syntax


def _line_match(u: str, ut: tuple, t: str, tt: tuple, known: Known) -> Match:
    if not ut or not tt:
        return Match(EQUAL) if norm(u) == norm(t) else align.NO
    m = align.compare_tokens(ut, tt, known)
    if not m.ok and ("__force" in (x.text for x in ut)) != ("__force" in (x.text for x in tt)):
        m = align.compare_tokens(unforced(ut), unforced(tt), known)
    if not m.ok and norm(u) != norm(t) and canonical(norm(t)) == canonical(norm(u)):
        m = Match(REWRITTEN)  # one statement in two APIs (queries/api-renames.toml, forms)
    return m


def unforced(toks: tuple) -> tuple:
    """``T v = (__force T)(X);`` as ``T v = X;``: sparse's cast to the very type the declared
    local has changes nothing for the compiler (``int io = (__force int)(gfp & __GFP_IO);``).
    Any other cast is kept."""
    texts = [x.text for x in toks]
    if "=" not in texts:
        return toks
    eq = texts.index("=")
    if texts[eq + 1 : eq + 3] != ["(", "__force"] or eq < 2:
        return toks
    close = texts.index(")", eq + 3) if ")" in texts[eq + 3 :] else -1
    cast = texts[eq + 3 : close]
    if close < 0 or cast != texts[: eq - 1] or texts[-1] != ";":
        return toks  # only a cast to the declared type of the local being initialised
    rest = toks[close + 1 : -1]
    if (
        len(rest) >= 2
        and rest[0].text == "("
        and closing([x.text for x in rest], 0) == len(rest) - 1
    ):
        rest = rest[1:-1]
    return (*toks[: eq + 1], *rest, toks[-1])


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
    if placed is None:
        placed = _paired_replacement(g, p0, up_side, up_root, ctx, full_ev)
    if placed is None:
        placed = _whole_body(g, p0, up_side, up_root, ctx, full_ev)
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


def comment_words(line: str) -> list[str] | None:
    """The words of a comment line (markers left out), None for a line that is not one."""
    x = line.strip()
    if not x.startswith(("*", "/*", "//")) and not x.endswith("*/"):
        return None
    x = re.sub(r"^(/\*+|\*+/?|//)", "", x)
    x = re.sub(r"\*+/$", "", x)
    return x.split()


def comment_text_words(lines: list[str]) -> list[str] | None:
    """The words of comment lines in order, None when one of them is not a comment line."""
    want: list[str] = []
    for x in lines:
        w = comment_words(x)
        if w is None:
            return None
        want += w
    return want


def _typo(a: str, b: str) -> bool:
    """Two spellings of one longer word (``refernece`` / ``reference``)."""
    return (
        min(len(a), len(b)) >= 5
        and difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.8
    )


def _words_match(want: list[str], words: list[str]) -> bool:
    """``words`` is ``want``'s prefix, allowing one misspelt word in a comment of 12 or more."""
    misses = 0
    for a, b in zip(want, words, strict=False):
        if a != b:
            misses += 1
            if misses > 1 or len(want) < 12 or not _typo(a, b):
                return False
    return len(words) <= len(want)


def comment_runs(want: list[str], lines: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
    """The runs (first, last line) of consecutive comment lines in ``lines[lo:hi+1]`` whose
    words are ``want``, however they are wrapped (one word of a long comment may be misspelt
    in either tree); a run starts at a line with words."""
    found = []
    for k in range(lo, hi + 1):
        if not comment_words(lines[k]):
            continue  # a run starts at a line with words (not a bare `/*`)
        words: list[str] = []
        for m in range(k, hi + 1):
            w = comment_words(lines[m])
            if w is None:
                break
            words += w
            if len(words) == len(want) and _words_match(want, words):
                found.append((k, m))
                break
            if len(words) >= len(want) or not _words_match(want, words):
                break
    return found


def _reflowed_comment(g: Group, ctx: Ctx, lo: int, hi: int) -> Place | None:
    """Removed comment lines the target wraps differently (e): the one run of the function's
    comment lines with the same words in the same order."""
    want = comment_text_words(g.removed)
    if want is None or len(want) < 4:
        return None
    lines = ctx.side.lines
    found = comment_runs(want, lines, lo, hi)
    if len(found) != 1:
        return None
    k, m = found[0]
    return Place(k, m - k + 1, indent(g.removed[0]), indent(lines[k]), Evidence(), False, True)


def _removed_items(
    g: Group, p0: int, up_side: Side, up_root: Block
) -> tuple[Block, int, list[Item]] | None:
    """The whole upstream statements the group removes (comments aside), where they are."""
    p1 = p0 + len(g.removed)
    loc = up_gap(up_root, p0)
    if loc is None:
        return None
    ub, uj = loc
    removed = [it for it in ub.code_items()[uj:] if it.start >= p0 and it.end < p1]
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
    return ub, uj, removed


def _run(
    items: list[Item], ub: Block, uj: int, k_up: int, ctx: Ctx
) -> tuple[Block, int, list[Match]] | None:
    """The one run of target statements matching ``items`` whose neighbours match those of
    upstream's ``k_up`` statements from ``uj`` on."""
    uitems = ub.code_items()
    k = len(items)
    u_before = uitems[uj - 1] if uj else (OPEN if ub.open_line is not None else UNKNOWN)
    u_after = (
        uitems[uj + k_up]
        if uj + k_up < len(uitems)
        else (CLOSE if ub.close_line is not None else UNKNOWN)
    )
    found = []
    for tb in statements.all_blocks(ctx.root):
        titems = tb.code_items()
        for tj in range(len(titems) - k + 1):
            ms = [
                align.compare_items(u, t, ctx.known)
                for u, t in zip(items, titems[tj : tj + k], strict=True)
            ]
            if not all(m.level >= REWRITTEN for m in ms) or not all(
                _whole(u, t, ctx.known) for u, t in zip(items, titems[tj : tj + k], strict=True)
            ):
                continue
            lb, mb, sb = anchor_cmp(u_before, ub, titems[tj - 1] if tj else OPEN, tb, ctx.known)
            la, ma, sa = anchor_cmp(
                u_after, ub, titems[tj + k] if tj + k < len(titems) else CLOSE, tb, ctx.known
            )
            if lb >= REWRITTEN and la >= REWRITTEN and (sb or sa):
                found.append((tb, tj, ms + [mb, ma]))
    return found[0] if len(found) == 1 else None


def _whole(u: Item, t: Item, known: Known) -> bool:
    """A statement with a body replaced as a whole must match in its body too, not only in
    its head (``if (c) return -EINVAL;`` is not ``if (c) return -EIO;``)."""
    if not u.blocks:
        return True
    return (
        align.compare_tokens(u.code, t.code, known).ok
        or align.rewrite_match(u.node, t.node, known).ok
    )


def _statement_replacement(
    g: Group, p0: int, up_side: Side, up_root: Block, ctx: Ctx, full_ev: Evidence | None
) -> Place | None:
    got = _removed_items(g, p0, up_side, up_root)
    if got is None:
        return None
    ub, uj, removed = got
    run = _run(removed, ub, uj, len(removed), ctx)
    if run is None:
        return None
    return _place(run, len(removed), indent(up_side.lines[removed[0].start]), ctx, full_ev)


def _place(
    run: tuple[Block, int, list[Match]],
    k: int,
    up_indent: str,
    ctx: Ctx,
    full_ev: Evidence | None,
    lines: tuple[str, ...] | None = None,
) -> Place:
    tb, tj, ms = run
    ev = Evidence()
    for m in ms:
        ev.add(m)
    ev.merge(full_ev)
    titems = tb.code_items()
    start, end = titems[tj].start, titems[tj + k - 1].end
    tgt_indent = indent(ctx.side.lines[start])
    return Place(
        start,
        end - start + 1,
        up_indent,
        tgt_indent,
        ev,
        any(m.level == REWRITTEN for m in ms),
        True,
        None if lines is None else tuple(reindent(list(lines), up_indent, tgt_indent)),
    )


def _paired_replacement(
    g: Group, p0: int, up_side: Side, up_root: Block, ctx: Ctx, full_ev: Evidence | None
) -> Place | None:
    """Statements the fix rewrites one for one (``if (c) return -E;`` -> ``if (c) { err = -E;
    break; }``), some of which the target never had: the rewrite of the ones it has.

    Each removed statement pairs with the added statement at its position, the two with the
    same head; a removed statement is left out only when nothing in the target function
    corresponds to it (code added upstream later), and the ones kept must stand together in
    the target between upstream's neighbours.
    """
    got = _removed_items(g, p0, up_side, up_root)
    if got is None:
        return None
    ub, uj, removed = got
    frag = statements.fragment(g.added)
    added = statements.fragment_block(frag).code_items()
    if len(removed) < 2 or len(added) != len(removed):
        return None
    if any(a.cut_start or a.cut_end for a in added) or any(
        align.compare_items(u, a, ctx.known).level < HEAD
        for u, a in zip(removed, added, strict=True)
    ):
        return None
    keep = [i for i, u in enumerate(removed) if not absent(u, ctx)]
    if not keep or len(keep) == len(removed):
        return None
    run = _run([removed[i] for i in keep], ub, uj, len(removed), ctx)
    if run is None:
        return None
    # each kept statement's added lines, with the comments and blank lines above it
    spans = [(0 if i == 0 else added[i - 1].end + 1, added[i].end) for i in range(len(added))]
    lines = tuple(x for i in keep for x in g.added[spans[i][0] : spans[i][1] + 1])
    return _place(run, len(keep), indent(up_side.lines[removed[0].start]), ctx, full_ev, lines)


def _same_statement(u: Item, older: str | None, t: Item, ctx: Ctx) -> Match:
    """``u`` and ``t`` say the same: equal or renamed (:func:`align.compare_items`), or equal
    once upstream's calls of later helpers the target lacks are spelled the older way
    (``older``: ``u`` so spelled, normalised; None when it names no such helper). A rewrite
    learned from this one pair (another callee) is not enough: the whole body goes."""
    m = align.compare_items(u, t, ctx.known)
    if m.level >= RENAMED and _whole(u, t, ctx.known):
        return m
    if older is not None and older == norm(syntax.text(t.node).replace("\n", " ")):
        return Match(REWRITTEN)
    return align.NO


def _spelled_older(u: Item, ctx: Ctx) -> str | None:
    """``u`` with calls of later helpers the target lacks spelled the older way, normalised
    (None when it calls none)."""
    older, apis = older_exprs(
        syntax.text(u.node).split("\n"), ctx.known.has_name, returns_bool_fn(ctx.fn.node)
    )
    return norm(" ".join(older)) if apis else None


def _whole_body(
    g: Group, p0: int, up_side: Side, up_root: Block, ctx: Ctx, full_ev: Evidence | None
) -> Place | None:
    """A fix that removes the whole body of a function (it becomes a call of a new helper):
    the target's body goes when its statements are upstream's one for one, in any order
    (an older tree checks the same things in another order). A statement of the target's
    that upstream's body lacks, or one of upstream's the target lacks, refuses."""
    got = _removed_items(g, p0, up_side, up_root)
    if got is None:
        return None
    ub, uj, removed = got
    if uj or len(removed) != len(ub.code_items()) or ub.open_line is None or ub.close_line is None:
        return None
    if (
        up_side.lines[ub.open_line].rstrip() != "{"
        or up_side.lines[ub.close_line].rstrip() != "}"
        or ctx.root.owner is not None
    ):
        return None  # a function's body (its braces in column 0), not a block inside it
    titems = ctx.root.code_items()
    if len(titems) != len(removed) or len(removed) < 2:
        return None
    # pair the closest first: an equal statement is taken before a re-expressed one may claim it
    table = [
        [_same_statement(u, older, t, ctx) for t in titems]
        for u in removed
        for older in [_spelled_older(u, ctx)]
    ]
    order = sorted(range(len(removed)), key=lambda i: -max(m.level for m in table[i]))
    free = set(range(len(titems)))
    ms: list[Match] = [align.NO] * len(removed)
    for i in order:
        hits = [j for j in free if table[i][j].ok]
        best = max((table[i][j].level for j in hits), default=0)
        top = [j for j in hits if table[i][j].level == best]
        if not top or len({norm(syntax.text(titems[j].node)) for j in top}) != 1:
            return None  # nowhere, or more than one statement it could be
        top.sort()
        free.discard(top[0])
        ms[i] = table[i][top[0]]
    up_indent = indent(up_side.lines[removed[0].start])
    return _place((ctx.root, 0, ms), len(titems), up_indent, ctx, full_ev)


def _nearest_line(text: str, lines: list[str], lo: int, hi: int) -> tuple[int, str] | None:
    want = norm(text)
    best, score = None, 0.0
    for k in range(lo, min(hi + 1, len(lines))):
        r = difflib.SequenceMatcher(None, want, norm(lines[k])).ratio()
        if r > score:
            best, score = (k, lines[k]), r
    return best if score >= 0.6 else None
