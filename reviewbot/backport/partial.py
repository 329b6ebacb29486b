"""A change inside one statement, a declarator or a file-scope declaration (issue 9, a).

Upstream changes one argument or sub-expression (``vma->anon_vma`` -> ``READ_ONCE(vma->anon_vma)``,
an operand of a condition, a parameter of a function, its prototype or a call) whose other
tokens differ in the target. The upstream text before and after the change is diffed token by
token and the same edits land on the target's corresponding tokens, where the tokens around each
edit align; the target keeps its other tokens and its layout (a line pushed past 80 columns is
refilled as maintainers do). Anything that does not align is refused.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from reviewbot.backport import statements
from reviewbot.backport.align import Evidence
from reviewbot.backport.known import Known, same_api_words, valid_rename
from reviewbot.backport.places import Ctx, Group, Place, indent, norm
from reviewbot.backport.statements import Block, Item, Side
from reviewbot.ctree import syntax

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
                and (valid_rename("id", a, b, known) or same_api_words(a, b))
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
            if target.data[b : b + 1] in (b")", b"]", b",", b";"):
                # nothing between them and a closing token (`(p) > 1)`): the blanks before go
                back = a
                while back > 0 and target.data[back - 1 : back] in (b" ", b"\t"):
                    back -= 1
                if back > 0 and target.data[back - 1 : back] != b"\n":
                    a = back
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
    names = _declared_names(syntax.parse("\n".join(lines).encode(), "<decl>").root)
    scored: list[tuple[float, _Span]] = []
    for d in syntax.file_scope(side.unit.root):
        if d.type != "declaration":
            continue
        mine = _declared_names(d)
        if names and not any(
            u == t or valid_rename("id", u, t, known) for u in names for t in mine
        ):
            continue  # another declaration, however many tokens it shares (a hunk that cuts
            # the declaration's first line off shows no name: its tokens decide alone)
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


def _declared_names(root: syntax.Node) -> set[str]:
    """The functions the file-scope prototypes under ``root`` declare (none for a fragment
    that starts after the prototype's name)."""
    decls = [root] if root.type == "declaration" else list(syntax.file_scope(root))
    return {
        name
        for n in decls
        if n.type == "declaration"
        for d in n.children_by_field_name("declarator")
        if any(x.type == "function_declarator" for x in syntax.walk(d))
        and (name := syntax.declarator_name(d))
    }


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
