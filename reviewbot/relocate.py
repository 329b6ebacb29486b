"""Place an upstream change in a target blob: exact, relocated or transformed — or say why not.

For each hunk, in order:

1. **exact** — the hunk applies to the target as is (offsets allowed, never fuzz);
2. **relocated** — the hunk's function is located in the target with the checker's finder
   (rule aliases and fingerprints, or its name), the statements around each change (the one
   before and the one after, or the block opener/closer) are found by structure and compared on
   normalised tokens, the new lines are re-indented to the target and identifiers that differ
   between the trees are mapped with the target function's own declarations;
3. **transformed** — as relocated, but the target re-expresses an API the removed lines or the
   anchors use; the rewrite is learned by anti-unifying the aligned statements and applied to the
   new lines.

Anything else is a :class:`Failure` naming the hunk, the missing function or anchor statement,
the nearest candidate and the text whose history may explain it (for "possible dependencies").
Edits are line edits on the target blob, so the emitted diff takes every context line from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import align as al
from . import syntax as sx
from .align import EQUAL, HEAD, REWRITTEN, Block, Evidence, Item, Known, Match, Side
from .locate import locate
from .mailfmt import Edit
from .patches import Applied, FilePatch, Hunk, apply_file
from .rules import Rule

METHODS = ("exact", "relocated", "transformed")
OPEN, CLOSE, UNKNOWN = "<block start>", "<block end>", "<outside the hunk>"
_SECTION_FN = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


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
        return {"hunk": self.hunk, "reason": self.reason, "function": self.function,
                "missing": self.missing, "nearest": self.nearest}


@dataclass(frozen=True)
class Placed:
    """The result for one file of the fix on one target."""

    upstream_path: str
    path: str
    method: str  # exact | relocated | transformed | present | failed
    edits: tuple[Edit, ...] = ()
    functions: tuple[tuple[int, str | None, str | None], ...] = ()  # (hunk, upstream fn, target fn)
    renames: tuple[tuple[str, str], ...] = ()
    rewrites: tuple[str, ...] = ()
    learned: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()
    warnings: tuple[str, ...] = ()
    adjusted: bool = False

    @property
    def ok(self) -> bool:
        return self.method in METHODS


@dataclass
class _Group:
    pre: int  # index in the hunk's pre-image of the first removed line / the insertion point
    removed: list[str]
    added: list[str]


def groups(h: Hunk) -> list[_Group]:
    """The runs of removed/added lines of a hunk, with their pre-image positions."""
    out: list[_Group] = []
    i = 0
    cur: _Group | None = None
    for kind, text in h.lines:
        if kind == " ":
            cur = None
            i += 1
            continue
        if cur is None:
            cur = _Group(i, [], [])
            out.append(cur)
        if kind == "-":
            cur.removed.append(text)
            i += 1
        else:
            cur.added.append(text)
    return out


def _exact_edits(h: Hunk, at: int) -> list[Edit]:
    return [Edit(at + g.pre, len(g.removed), tuple(g.added)) for g in groups(h)]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _norm(line: str) -> str:
    return " ".join(line.split())


def section_function(h: Hunk) -> str | None:
    """The function a hunk's ``@@`` section names (None for labels, structs, nothing)."""
    m = _SECTION_FN.search(h.section or "")
    return m.group(1) if m else None


@dataclass
class _Ctx:
    side: Side
    fn: sx.Function
    root: Block
    known: Known
    up_name: str | None
    renames: dict[tuple[str, str], str] = field(default_factory=dict)
    comment_renames: dict[str, str] = field(default_factory=dict)


def _alias_renames(rules: tuple[Rule, ...], unit: sx.Unit, glob: frozenset[str]) -> dict[str, str]:
    """Upstream names of rule functions the target spells differently (renamed functions)."""
    out: dict[str, str] = {}
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                loc = locate([unit], site, rule.all_functions - set(site.functions))
                if loc is None:
                    continue
                for alias in site.functions:
                    if alias != loc.function.name and alias not in glob:
                        out[alias] = loc.function.name
    return out


def _function_at(unit: sx.Unit, line: int) -> sx.Function | None:
    for defs in unit.functions.values():
        for f in defs:
            if f.node.start_point[0] <= line <= f.node.end_point[0]:
                return f
    return None


def _target_function(name: str | None, unit: sx.Unit, rules: tuple[Rule, ...]) -> sx.Function | None:
    if name is None:
        return None
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                if name in site.functions:
                    loc = locate([unit], site, rule.all_functions - set(site.functions))
                    if loc is not None:
                        return loc.function
    return unit.function(name)


# --- anchors ----------------------------------------------------------------------------


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
    if uo is None or to is None or ub not in uo.blocks or uo.blocks.index(ub) != to.blocks.index(tb) \
            or (len(uo.blocks) != len(to.blocks) and not uo.cut_end):
        return 0, al.NO, False
    m = al.compare_items(uo, to, known)
    return min(m.level, HEAD) if m.ok else 0, m, al.strong(uo)


def _anchor_cmp(u, ub: Block, t, tb: Block, known: Known) -> tuple[int, Match, bool]:
    if u is UNKNOWN:
        return HEAD, Match(HEAD), False
    if isinstance(u, Item) and isinstance(t, Item):
        m = al.compare_items(u, t, known)
        return m.level, m, al.strong(u)
    if u is OPEN and t is OPEN:
        return _owner_cmp(ub, tb, known)
    if u is CLOSE and t is CLOSE:
        return EQUAL, Match(EQUAL), False
    return 0, al.NO, False


def _extended(ub: Block, uj: int, tb: Block, tj: int, known: Known) -> int:
    us, ts = ub.code_items(), tb.code_items()
    score = 0
    for k in range(1, 4):
        for ui, ti in ((uj - 1 - k, tj - 1 - k), (uj + k, tj + k)):
            if 0 <= ui < len(us) and 0 <= ti < len(ts) and al.compare_items(us[ui], ts[ti], known).level >= HEAD:
                score += 1
    if ub.owner is not None and tb.owner is not None and al.compare_items(ub.owner, tb.owner, known).level >= HEAD:
        score += 2
    return score


def _describe(a, side: Side, block: Block | None = None) -> str:
    """How a maintainer would name an upstream anchor: its text as the hunk shows it."""
    if isinstance(a, Item):
        text = " ".join(x.strip() for x in side.lines[a.start:a.end + 1] if x.strip())
        return f"`{text[:100]}`"
    if a is OPEN and block is not None and block.owner is not None:
        return f"the start of the block of `{side.lines[block.owner.start].strip()}`"
    return a


def _target_label(a, tb: Block, side: Side) -> str:
    if isinstance(a, Item):
        return f"`{side.lines[a.start].strip()}` (line {a.start + 1})"
    if a is OPEN:
        return f"the start of the block at line {(tb.open_line or 0) + 1}"
    return f"the end of the block at line {(tb.close_line or 0) + 1}"


def _chain_evidence(ub: Block, tb: Block, known: Known, ev: Evidence) -> None:
    """Align the gap's block with its target counterpart, then each enclosing block pair."""
    while ub is not None and tb is not None:
        al.align_blocks(ub, tb, known, ev)
        if ub.owner is None or tb.owner is None:
            return
        ub, tb = ub.owner.parent, tb.owner.parent


@dataclass
class _Place:
    start: int
    remove: int
    up_indent: str
    tgt_indent: str
    evidence: Evidence
    via_rewrite: bool
    adjusted: bool


def _insertion(g: _Group, p: int, up_side: Side, up_root: Block, ctx: _Ctx, hunk_no: int, where: str,
               full_ev: Evidence | None) -> _Place | Failure:
    loc = _up_gap(up_root, p)
    fname = ctx.fn.name
    if loc is None:
        return Failure(hunk_no, f"hunk #{hunk_no}: the change is inside a statement; only whole statements can be relocated",
                       fname, up_side.lines[p] if p < len(up_side.lines) else None)
    ub, uj = loc
    uitems = ub.code_items()
    u_before = uitems[uj - 1] if uj else (OPEN if ub.open_line is not None else UNKNOWN)
    u_after = uitems[uj] if uj < len(uitems) else (CLOSE if ub.close_line is not None else UNKNOWN)
    cands = []
    for tb in al.all_blocks(ctx.root):
        if not tb.braced:
            continue
        titems = tb.code_items()
        for tj in range(len(titems) + 1):
            t_before = titems[tj - 1] if tj else OPEN
            t_after = titems[tj] if tj < len(titems) else CLOSE
            lb, mb, sb = _anchor_cmp(u_before, ub, t_before, tb, ctx.known)
            la, ma, sa = _anchor_cmp(u_after, ub, t_after, tb, ctx.known)
            cands.append([tb, tj, t_before, t_after, lb, la, mb, ma, sb, sa, 0])
    good = [c for c in cands if c[4] >= REWRITTEN and c[5] >= REWRITTEN and ((c[8] and c[4] >= HEAD) or (c[9] and c[5] >= HEAD))]
    for c in good:
        c[10] = _extended(ub, uj, c[0], c[1], ctx.known)
    good.sort(key=lambda c: (min(c[4], c[5]), c[4] + c[5], c[10]), reverse=True)
    if not good:
        near = max(cands, key=lambda c: (c[4] + c[5], max(c[4], c[5])), default=None)
        missing = u_before if near is None or near[4] <= near[5] else u_after
        which = "before" if missing is u_before else "after"
        nearest = None
        needles: tuple[str, ...] = ()
        if near is not None and max(near[4], near[5]) > 0:
            nearest = f"{fname}() line {_ins_line(near[0], near[2]) + 1}, between {_target_label(near[2], near[0], ctx.side)} and {_target_label(near[3], near[0], ctx.side)}"
        if isinstance(missing, Item):
            fn_text = {_norm(x) for x in ctx.side.lines[ctx.fn.node.start_point[0]:ctx.fn.node.end_point[0] + 1]}
            needles = tuple(dict.fromkeys(_norm(up_side.lines[k]) for k in range(missing.start, missing.end + 1)
                                          if _norm(up_side.lines[k]) not in fn_text and len(_norm(up_side.lines[k])) > 3))
        if missing is OPEN and ub.owner is not None:
            fn_text = {_norm(x) for x in ctx.side.lines[ctx.fn.node.start_point[0]:ctx.fn.node.end_point[0] + 1]}
            needles = tuple(x for x in [_norm(up_side.lines[ub.owner.start])] if x not in fn_text)
        what = _describe(missing, up_side, ub)
        return Failure(hunk_no, f"hunk #{hunk_no}: the statement {which} the change, {what}, is not in {fname}() at {where}"
                       if missing is not OPEN else f"hunk #{hunk_no}: {what} is not in {fname}() at {where}",
                       fname, what, nearest, needles)
    best = good[0]
    key = (min(best[4], best[5]), best[4] + best[5], best[10])
    ties = [c for c in good[1:] if (min(c[4], c[5]), c[4] + c[5], c[10]) == key]
    if ties:
        lines = ", ".join(str(_ins_line(c[0], c[2]) + 1) for c in [best, *ties])
        return Failure(hunk_no, f"hunk #{hunk_no}: the anchors match in {len(ties) + 1} places in {fname}() (lines {lines}); refusing to guess",
                       fname, None, None)
    tb, tj, t_before, t_after, lb, la, mb, ma = best[:8]
    ev = Evidence()
    ev.add(mb)
    ev.add(ma)
    if full_ev is not None:
        ev.renames += full_ev.renames
        ev.rewrites += full_ev.rewrites
    else:
        _chain_evidence(ub, tb, ctx.known, ev)
    ins = _ins_line(tb, t_before) + 1
    ubase = None if u_before is UNKNOWN else (ub.open_line if u_before is OPEN else u_before.end)
    if ubase is not None:
        between = [_norm(x) for x in up_side.lines[ubase + 1:p]]
        have = [_norm(x) for x in ctx.side.lines[ins:ins + len(between)]]
        if between and between == have:
            ins += len(between)
    # indentation: the same anchor on both sides, the one after the change when it is a statement
    if isinstance(u_after, Item) and isinstance(t_after, Item):
        ui, ti = _indent(up_side.lines[u_after.start]), _indent(ctx.side.lines[t_after.start])
    elif isinstance(u_before, Item) and isinstance(t_before, Item):
        ui = _indent(up_side.lines[u_before.end if u_before.cut_start else u_before.start])
        ti = _indent(ctx.side.lines[t_before.start])
    else:
        ui = ti = ""
    adjusted = lb < EQUAL or la < EQUAL
    return _Place(ins, 0, ui, ti, ev, min(lb, la) == REWRITTEN, adjusted)


def _ins_line(tb: Block, t_before) -> int:
    if isinstance(t_before, Item):
        return t_before.end
    return tb.open_line if tb.open_line is not None else 0


def _line_match(u: str, ut: tuple, t: str, tt: tuple, known: Known) -> Match:
    if not ut or not tt:
        return Match(EQUAL) if _norm(u) == _norm(t) else al.NO
    return al.compare_tokens(ut, tt, known)


def _removal(g: _Group, p0: int, up_side: Side, up_toks: list[tuple], ctx: _Ctx, tgt_toks: list[tuple],
             hunk_no: int, where: str, full_ev: Evidence | None, up_root: Block) -> _Place | Failure:
    fname = ctx.fn.name
    n = len(g.removed)
    lo, hi = ctx.fn.node.start_point[0], ctx.fn.node.end_point[0]
    best: list[tuple[int, int, Evidence]] = []
    for s in range(lo, hi - n + 2):
        ev = Evidence()
        score = 0
        for k in range(n):
            m = _line_match(up_side.lines[p0 + k], up_toks[p0 + k], ctx.side.lines[s + k], tgt_toks[s + k], ctx.known)
            if not m.ok:
                break
            ev.add(m)
            score += m.level
        else:
            for k in range(1, 4):
                for ui, ti in ((p0 - k, s - k), (p0 + n - 1 + k, s + n - 1 + k)):
                    if 0 <= ui < len(up_side.lines) and lo <= ti <= hi:
                        m = _line_match(up_side.lines[ui], up_toks[ui], ctx.side.lines[ti], tgt_toks[ti], ctx.known)
                        if m.ok and up_side.lines[ui].strip():
                            score += 1
            best.append((score, s, ev))
    best.sort(key=lambda x: -x[0])
    if best and (len(best) == 1 or best[0][0] > best[1][0]):
        score, s, ev = best[0]
        if full_ev is not None:
            ev.renames += full_ev.renames
            ev.rewrites += full_ev.rewrites
        adjusted = any(_norm(up_side.lines[p0 + k]) != _norm(ctx.side.lines[s + k]) for k in range(n))
        return _Place(s, n, _indent(up_side.lines[p0]), _indent(ctx.side.lines[s]), ev, False, adjusted)
    if len(best) > 1:
        return Failure(hunk_no, f"hunk #{hunk_no}: the removed lines occur {len(best)} times in {fname}(); refusing to guess", fname)
    # Whole statements re-expressed in the target: anchor like an insertion, pair the statements.
    placed = _statement_replacement(g, p0, up_side, up_root, ctx, full_ev)
    if placed is not None:
        return placed
    first = next((x for x in g.removed if x.strip()), g.removed[0])
    near = _nearest_line(first, ctx.side.lines, lo, hi)
    return Failure(hunk_no, f"hunk #{hunk_no}: the lines the fix removes are not in {fname}() at {where}: `{first.strip()}`",
                   fname, f"`{first.strip()}`", near and f"{fname}() line {near[0] + 1}: `{near[1].strip()}`",
                   tuple(_norm(x) for x in g.removed if len(_norm(x)) > 3)[:3])


def _statement_replacement(g: _Group, p0: int, up_side: Side, up_root: Block, ctx: _Ctx,
                           full_ev: Evidence | None) -> _Place | None:
    p1 = p0 + len(g.removed)
    loc = _up_gap(up_root, p0)
    if loc is None:
        return None
    ub, uj = loc
    uitems = ub.code_items()
    removed = [it for it in uitems[uj:] if it.start >= p0 and it.end < p1]
    covered = {k for it in removed for k in range(it.start, it.end + 1)}
    if not removed or any(k not in covered and up_side.lines[k].strip() and not up_side.lines[k].strip().startswith(("/*", "*", "//"))
                          for k in range(p0, p1)):
        return None
    if any(it.cut_start or it.cut_end for it in removed):
        return None
    k = len(removed)
    u_before = uitems[uj - 1] if uj else (OPEN if ub.open_line is not None else UNKNOWN)
    u_after = uitems[uj + k] if uj + k < len(uitems) else (CLOSE if ub.close_line is not None else UNKNOWN)
    found = []
    for tb in al.all_blocks(ctx.root):
        titems = tb.code_items()
        for tj in range(len(titems) - k + 1):
            ms = [al.compare_items(u, t, ctx.known) for u, t in zip(removed, titems[tj:tj + k], strict=True)]
            if not all(m.level >= REWRITTEN for m in ms):
                continue
            lb, mb, sb = _anchor_cmp(u_before, ub, titems[tj - 1] if tj else OPEN, tb, ctx.known)
            la, ma, sa = _anchor_cmp(u_after, ub, titems[tj + k] if tj + k < len(titems) else CLOSE, tb, ctx.known)
            if lb >= REWRITTEN and la >= REWRITTEN and (sb or sa):
                found.append((tb, tj, ms + [mb, ma]))
    if len(found) != 1:
        return None
    tb, tj, ms = found[0]
    ev = Evidence()
    for m in ms:
        ev.add(m)
    if full_ev is not None:
        ev.renames += full_ev.renames
        ev.rewrites += full_ev.rewrites
    titems = tb.code_items()
    start, end = titems[tj].start, titems[tj + k - 1].end
    return _Place(start, end - start + 1, _indent(up_side.lines[removed[0].start]), _indent(ctx.side.lines[start]),
                  ev, any(m.level == REWRITTEN for m in ms), True)


def _nearest_line(text: str, lines: list[str], lo: int, hi: int) -> tuple[int, str] | None:
    import difflib

    want = _norm(text)
    best, score = None, 0.0
    for k in range(lo, min(hi + 1, len(lines))):
        r = difflib.SequenceMatcher(None, want, _norm(lines[k])).ratio()
        if r > score:
            best, score = (k, lines[k]), r
    return best if score >= 0.6 else None


def _reindent(lines: list[str], up: str, tgt: str) -> list[str]:
    if up == tgt:
        return list(lines)
    out = []
    for x in lines:
        if x.startswith(up) and x.strip():
            out.append(tgt + x[len(up):])
        else:
            out.append(x)
    return out


def unknown_symbols(lines: list[str], known: Known) -> tuple[list[str], list[str]]:
    """(identifiers, labels) the added lines use that the target file and function lack."""
    side = al.fragment(lines)
    local, labels = al.declared(side.unit.root)
    names: set[str] = set()
    bad_labels: set[str] = set()
    for t in side.toks(side.unit.root):
        if t.kind == "label":
            if t.text not in known.labels and t.text not in labels:
                bad_labels.add(t.text)
        elif t.kind == "field":
            if t.text not in known.fields:
                names.add(t.text)
        elif t.kind in ("id", "type") and t.text not in known.local and t.text not in known.anyid and t.text not in local:
            names.add(t.text)
    return sorted(names), sorted(bad_labels)


def relocate_file(fp: FilePatch, data: bytes, path: str, *, upstream_pre: bytes | None = None,
                  rules: tuple[Rule, ...] = (), tree: Callable[[str], bool | None] | None = None,
                  where: str = "the target") -> Placed:
    """Place ``fp`` (an upstream file patch) in ``data`` (the target blob at ``path``)."""
    side = al.whole(data, path)
    up_whole: Side | None = None
    up_at: list[int] = []
    if upstream_pre is not None:
        a = apply_file(upstream_pre, fp)
        if isinstance(a, Applied):
            up_whole = al.whole(upstream_pre, fp.source or path)
            up_at = [(h.source_start - 1 if h.before else h.source_start) + off for h, off in zip(fp.hunks, a.offsets, strict=True)]
    glob = al.file_names(side.unit)[0]
    aliases = _alias_renames(rules, side.unit, frozenset(glob))
    tgt_toks = al.line_tokens(side)
    edits: list[Edit] = []
    failures: list[Failure] = []
    warnings: list[str] = []
    used_renames: set[tuple[str, str]] = set()
    used_rewrites: list[str] = []
    learned: list[str] = []
    functions: list[tuple[int, str | None, str | None]] = []
    methods: list[str] = []
    adjusted = False
    present = 0
    for hn, h in enumerate(fp.hunks, 1):
        single = apply_file(data, FilePatch(fp.source, fp.target, (h,)))
        up_fn = None
        if up_whole is not None:
            f = _function_at(up_whole.unit, up_at[hn - 1] + next((g.pre for g in groups(h)), 0))
            up_fn = f
        up_name = up_fn.name if up_fn is not None else section_function(h)
        if isinstance(single, Applied):
            at = (h.source_start - 1 if h.before else h.source_start) + single.offsets[0]
            hedits = _exact_edits(h, at)
            tfn = _function_at(side.unit, at)
            known = al.known_for(side.unit, tfn.node if tfn else None, up_fn.node if up_fn else None, tree)
            ok = _symbols_ok(hedits, known, hn, tfn.name if tfn else None, where, failures, warnings)
            if ok:
                edits += hedits
                methods.append("exact")
            functions.append((hn, up_name, tfn.name if tfn else None))
            continue
        undo = Hunk(h.target_start, h.target_length, h.source_start, h.source_length, h.section,
                    tuple(({"+": "-", "-": "+"}.get(k, k), t) for k, t in h.lines))
        if isinstance(apply_file(data, FilePatch(fp.target, fp.source, (undo,))), Applied):
            present += 1  # the hunk's result is already there
            tfn = _target_function(up_name, side.unit, rules)
            functions.append((hn, up_name, tfn.name if tfn else None))
            continue
        tfn = _target_function(up_name, side.unit, rules)
        if tfn is None:
            near = _close_names(up_name, side.unit)
            failures.append(Failure(hn, f"hunk #{hn}: function {up_name or '(unknown)'}() is not in {path} at {where}"
                                    + (f" (similar: {', '.join(near)})" if near else ""), up_name, f"{up_name}()",
                                    ", ".join(near) or None, (f"{up_name}(",) if up_name else ()))
            functions.append((hn, up_name, None))
            continue
        functions.append((hn, up_name, tfn.name))
        known = al.known_for(side.unit, tfn.node, up_fn.node if up_fn else None, tree)
        ctx = _Ctx(side, tfn, al.function_block(side, tfn.node), known, up_name)
        if up_whole is not None and up_fn is not None:
            up_side, base = up_whole, up_at[hn - 1]
            up_root = al.function_block(up_whole, up_fn.node)
            full_ev = Evidence()
            al.align_blocks(up_root, ctx.root, known, full_ev)
        else:
            up_side, base, full_ev = al.fragment(h.before), 0, None
            up_root = al.fragment_block(up_side)
        up_toks = al.line_tokens(up_side)
        for g in groups(h):
            p = base + g.pre
            if g.removed:
                place = _removal(g, p, up_side, up_toks, ctx, tgt_toks, hn, where, full_ev, up_root)
            else:
                place = _insertion(g, p, up_side, up_root, ctx, hn, where, full_ev)
            if isinstance(place, Failure):
                failures.append(place)
                continue
            renames, rewrites, conflicts = place.evidence.resolve()
            for (kind, u), t in list(renames.items()):
                if kind == "id" and t in glob and u not in known.anyid:
                    ctx.comment_renames[u] = t
            for u, t in aliases.items():
                renames.setdefault(("id", u), t)
                ctx.comment_renames.setdefault(u, t)
            if up_name and tfn.name != up_name:
                renames.setdefault(("id", up_name), tfn.name)
                ctx.comment_renames.setdefault(up_name, tfn.name)
            learned += [r.show() for r in rewrites]
            used = {t.text for t in al.fragment(g.added).toks(al.fragment(g.added).unit.root)} if conflicts else set()
            clash = [why for name, why in conflicts.items() if name in used]
            if clash:
                failures.append(Failure(hn, f"hunk #{hn}: the trees disagree on how to map {'; '.join(clash)}", tfn.name))
                continue
            tr = al.transform(g.added, renames, rewrites, ctx.comment_renames)
            added = _reindent(list(tr.lines), place.up_indent, place.tgt_indent)
            edit = Edit(place.start, place.remove, tuple(added))
            if not place.remove and _already(edit, side.lines):
                present += 1
                continue
            if not _symbols_ok([edit], known, hn, tfn.name, where, failures, warnings):
                continue
            edits.append(edit)
            used_renames |= set(tr.renames)
            used_rewrites += [r.show() for r in tr.rewrites if r.show() not in used_rewrites]
            adjusted = adjusted or place.adjusted
            methods.append("transformed" if tr.rewrites or place.via_rewrite and place.remove else "relocated")
    learned = list(dict.fromkeys(learned))
    if failures:
        return Placed(fp.source or path, path, "failed", (), tuple(functions), tuple(sorted(used_renames)), tuple(used_rewrites),
                      tuple(learned), tuple(failures), tuple(warnings), adjusted)
    if not edits and present:
        return Placed(fp.source or path, path, "present", (), tuple(functions), warnings=tuple(warnings))
    edits.sort(key=lambda e: e.start)
    for a, b in zip(edits, edits[1:], strict=False):
        if a.start + a.remove > b.start:
            return Placed(fp.source or path, path, "failed", (), tuple(functions),
                          failures=(Failure(0, "two hunks land on the same target lines"),))
    method = max(methods, key=METHODS.index) if methods else "exact"
    return Placed(fp.source or path, path, method, tuple(edits), tuple(functions), tuple(sorted(used_renames)),
                  tuple(used_rewrites), tuple(learned), (), tuple(warnings), adjusted or method != "exact")


def _already(edit: Edit, lines: list[str]) -> bool:
    """The new lines are already right there in the target (never add a change twice)."""
    code = [_norm(x) for x in edit.add if x.strip()]
    if not code:
        return False
    for start in (edit.start, edit.start - len(edit.add)):
        have = [_norm(x) for x in lines[max(start, 0):max(start, 0) + len(edit.add)] if x.strip()]
        if have[: len(code)] == code and start >= 0:
            return True
    return False


def _symbols_ok(edits: list[Edit], known: Known, hn: int, fname: str | None, where: str,
                failures: list[Failure], warnings: list[str]) -> bool:
    added = [x for e in edits for x in e.add]
    names, labels = unknown_symbols(added, known)
    if labels:
        failures.append(Failure(hn, f"hunk #{hn}: label {', '.join(labels)} does not exist in {fname}() at {where}", fname,
                                f"label {labels[0]}", None, tuple(f"{x}:" for x in labels)))
        return False
    missing = []
    for n in names:
        have = known.tree(n) if known.tree is not None else None
        if have is False:
            missing.append(n)
        elif have is None:
            warnings.append(f"{n} is not used anywhere in the target file; check it exists in the tree")
    if missing:
        failures.append(Failure(hn, f"hunk #{hn}: {', '.join(missing)} does not exist in the tree at {where}", fname,
                                ", ".join(missing), None, tuple(missing)))
        return False
    return True


def _close_names(name: str | None, unit: sx.Unit) -> list[str]:
    import difflib

    if not name:
        return []
    return difflib.get_close_matches(name, sorted(unit.functions), n=3, cutoff=0.6)
