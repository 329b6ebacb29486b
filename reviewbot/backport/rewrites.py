"""API re-expressions learned from two trees, and applying renames and rewrites to new lines.

:func:`anti_unify` finds the differing subtrees of an upstream and a target statement;
:func:`generalise` turns one differing pair into a :class:`Rewrite` (``mmap_write_trylock(X)``
-> ``down_write_trylock(&X->mmap_sem)``) when it is a re-expression, not new logic;
:func:`transform` applies the consistent renames and rewrites to the lines a fix adds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache

from reviewbot.backport.apitable import api_exprs, api_renames, older_symbols
from reviewbot.backport.ctokens import code_line, tokens
from reviewbot.backport.known import Known
from reviewbot.backport.statements import ID_KINDS, Side, fragment, leaves
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node
from reviewbot.diffs.mailfmt import Edit
from reviewbot.diffs.patches import Hunk

_VAR = "\x00{}\x00"
_VARNAMES = "XYZUVW"


@dataclass(frozen=True)
class Rewrite:
    """An API re-expression learned from the two trees: pattern -> template (vars $0, $1 ...)."""

    kind: str  # node type of the upstream side
    callee: str | None
    args: tuple[tuple[str, str | int], ...]  # ("var", k) | ("lit", normalised text)
    const: str  # normalised text for non-call patterns
    template: str  # target text with _VAR placeholders

    @property
    def key(self) -> tuple:
        return (self.kind, self.callee, self.args if self.callee else self.const)

    def show(self) -> str:
        if self.callee is not None:
            parts = [
                _VARNAMES[v] if isinstance(v, int) else v for _, v in self.args
            ]  # ("var", k) | ("lit", text)
            left = f"{self.callee}({', '.join(parts)})"
        else:
            left = self.const
        right = self.template
        for k in range(len(_VARNAMES)):
            right = right.replace(_VAR.format(k), _VARNAMES[k])
        return f"{left} -> {' '.join(right.split())}"


def _named_desc(node: Node) -> Iterator[Node]:
    for n in syntax.walk(node):
        if n.is_named and n is not node:
            yield n


def generalise(u: Node, t: Node, known: Known) -> Rewrite | None:
    """Anti-unify one differing pair into a rewrite, or None when it is not a re-expression."""
    if u.type not in (
        "call_expression",
        "field_expression",
        "pointer_expression",
        "identifier",
        "subscript_expression",
    ):
        return None
    if t.type not in (
        "call_expression",
        "pointer_expression",
        "field_expression",
        "identifier",
        "subscript_expression",
    ):
        return None  # the target adds logic (a negation, a condition): a semantic change
    if t.type == "pointer_expression" and syntax.text(t.child_by_field_name("operator")) not in (
        "*",
        "&",
    ):
        return None
    un, _tn = syntax.norm(u), syntax.norm(t)
    if un in {syntax.norm(n) for n in syntax.walk(t)}:
        return None  # the target wraps the upstream expression: an extension
    callee = syntax.callee(u) if u.type == "call_expression" else None
    if u.type == "call_expression" and callee is None:
        return None
    tids = {syntax.text(n) for n in syntax.walk(t) if n.type == "identifier"}
    if callee is not None and callee in tids:
        return None
    if u.type == "identifier" and (un in known.local or t.type == "identifier"):
        return None
    if u.type in ("field_expression",) and t.type == "identifier":
        name = syntax.text(t)
        if name not in known.local:
            return None
        if known.values.get(name) and un not in known.values[name]:
            # the local is set from something else (blkcg = css_to_blkcg(wb->blkcg_css)):
            # it stands for a value derived from the expression, not for the expression
            return None
    # Variables: maximal named subtrees of u (callee excluded) that reappear in t.
    t_nodes = [n for n in syntax.walk(t) if n.is_named]
    var_texts: list[str] = []
    args: list[tuple[str, str | int]] = []
    if callee is not None:
        for a in syntax.args(u):
            an = syntax.norm(a)
            if any(syntax.norm(n) == an for n in t_nodes):
                if an not in var_texts:
                    var_texts.append(an)
                args.append(("var", var_texts.index(an)))
            else:
                if a.type not in ("number_literal", "null", "true", "false") and not re.match(
                    r"^[A-Z][A-Z0-9_]*$", an
                ):
                    return (
                        None  # an argument that is neither kept nor a constant: not a re-expression
                    )
                args.append(("lit", an))
        if args and not var_texts:
            return None
    else:
        for n in _named_desc(u):
            nn = syntax.norm(n)
            if (
                n.type
                in ("identifier", "field_expression", "pointer_expression", "call_expression")
                and nn not in var_texts
                and any(syntax.norm(x) == nn for x in t_nodes)
            ):
                var_texts.append(nn)
    if len(var_texts) > len(_VARNAMES):
        return None
    # Template: t's text with each variable's (outermost, non-overlapping) occurrences replaced.
    base = t.start_byte
    data = t.text
    assert data is not None  # the tree keeps its source
    raw = data.decode("utf-8", "replace")
    spans: list[tuple[int, int, int]] = []
    for k, vt in sorted(enumerate(var_texts), key=lambda kv: -len(kv[1])):
        for n in t_nodes:
            if syntax.norm(n) == vt and not any(
                a <= n.start_byte - base < b or a < n.end_byte - base <= b for a, b, _ in spans
            ):
                spans.append((n.start_byte - base, n.end_byte - base, k))
    if var_texts and not spans:
        return None
    out, pos = [], 0
    for lo, hi, k in sorted(spans):
        out.append(data[pos:lo].decode("utf-8", "replace"))
        out.append(_VAR.format(k))
        pos = hi
    out.append(data[pos:].decode("utf-8", "replace"))
    template = " ".join(("".join(out) if spans else raw).split())
    return Rewrite(u.type, callee, tuple(args), "" if callee else un, template)


def _kids(n: Node) -> list[Node]:
    return [c for c in n.children if c.type != "comment"]


def anti_unify(u: Node, t: Node) -> list[tuple[Node, Node]]:
    """The differing subtree pairs of two trees (a call with another callee is one pair)."""
    pairs: list[tuple[Node, Node]] = []

    def go(a: Node, b: Node) -> None:
        if a.type == b.type:
            if a.type == "call_expression" and syntax.callee(a) != syntax.callee(b):
                pairs.append((a, b))
                return
            if a.type == "field_expression" and syntax.text(
                a.child_by_field_name("operator")
            ) != syntax.text(b.child_by_field_name("operator")):
                pairs.append((a, b))  # another access path (`p->f.x` for `p->f`), not a rename
                return
            ka, kb = _kids(a), _kids(b)
            if len(ka) == len(kb):
                if not ka:
                    if syntax.text(a) != syntax.text(b):
                        pairs.append((a, b))
                    return
                for x, y in zip(ka, kb, strict=True):
                    go(x, y)
                return
        pairs.append((a, b))

    go(u, t)
    return pairs


@dataclass(frozen=True)
class Transformed:
    """Added lines after renames and rewrites, and which of them were used."""

    lines: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]
    rewrites: tuple[Rewrite, ...]


def replace_spans(text: bytes, edits: list[tuple[int, int, str]]) -> bytes:
    """``text`` with each (start, end, replacement) byte span replaced; overlaps keep the first."""
    out, pos = [], 0
    for a, b, rep in sorted(edits):
        if a < pos:
            continue
        out.append(text[pos:a])
        out.append(rep.encode())
        pos = b
    out.append(text[pos:])
    return b"".join(out)


def transform(
    lines: list[str],
    renames: dict[tuple[str, str], str],
    rewrites: list[Rewrite],
    comment_renames: dict[str, str],
) -> Transformed:
    """Apply renames (identifiers, labels, fields) and learned rewrites to added lines."""
    if not lines:
        return Transformed((), (), ())
    side = fragment(lines)
    data = side.unit.data
    used_names: set[tuple[str, str]] = set()
    edits: list[tuple[int, int, str]] = []
    for leaf in leaves(side.unit.root):
        if not side.visible(leaf.start_point[0]):
            continue
        kind = ID_KINDS.get(leaf.type)
        name = syntax.text(leaf)
        if kind and (kind, name) in renames:
            edits.append((leaf.start_byte, leaf.end_byte, renames[(kind, name)]))
            used_names.add((name, renames[(kind, name)]))
        elif kind == "type" and ("id", name) in renames:
            edits.append((leaf.start_byte, leaf.end_byte, renames[("id", name)]))
            used_names.add((name, renames[("id", name)]))
        elif leaf.type == "comment" and comment_renames:
            new = name
            for u, t in comment_renames.items():
                new2 = re.sub(rf"\b{re.escape(u)}\b", t, new)
                if new2 != new:
                    used_names.add((u, t))
                new = new2
            if new != name:
                edits.append((leaf.start_byte, leaf.end_byte, new))
    data = replace_spans(data, edits)
    used_rw: list[Rewrite] = []
    if rewrites:
        side2 = Side(syntax.parse(data, "<fragment>"), side.lines, side.base)
        redits: list[tuple[int, int, str]] = []
        for n in syntax.walk(side2.unit.root):
            if not side2.visible(n.start_point[0]):
                continue
            for r in rewrites:
                rep = _instantiate(r, n)
                if rep is not None and not any(a <= n.start_byte < b for a, b, _ in redits):
                    redits.append((n.start_byte, n.end_byte, rep))
                    if r not in used_rw:
                        used_rw.append(r)
                    break
        data = replace_spans(data, redits)
    text = data.decode("utf-8", "replace").split("\n")
    body = text[1 : 1 + len(lines)]
    # The synthetic head/tail of the fragment sit on their own lines; restore any prefix/suffix.
    return Transformed(tuple(body), tuple(sorted(used_names)), tuple(used_rw))


def _instantiate(r: Rewrite, n: Node) -> str | None:
    if n.type != r.kind:
        return None
    if r.callee is not None:
        if syntax.callee(n) != r.callee:
            return None
        a = syntax.args(n)
        if len(a) != len(r.args):
            return None
        binding: dict[int, str] = {}
        for node, (_, v) in zip(a, r.args, strict=True):
            if isinstance(v, str):  # ("lit", text); ("var", k) otherwise
                if syntax.norm(node) != v:
                    return None
            else:
                txt = syntax.text(node)
                if v in binding and syntax.norm(node) != "".join(binding[v].split()):
                    return None
                binding[v] = txt
        out = r.template
        for var, txt in binding.items():
            out = out.replace(_VAR.format(var), txt)
        return out
    if syntax.norm(n) != r.const:
        return None
    return r.template


@cache
def _page_helpers() -> dict[str, frozenset[str]]:
    """Folio API call -> the older trees' page helpers for it, from the API table."""
    table: dict[str, set[str]] = {}
    for r in api_renames().values():
        if r.api == "the folio API":
            table.setdefault(r.new, set()).add(r.old)
    return {k: frozenset(v) for k, v in table.items()}


def page_wrappers(
    lines: list[str], have: Callable[[str], bool]
) -> tuple[list[str], list[tuple[str, str]]]:
    """``folio_unlock(page_folio(page))`` -> ``unlock_page(page)``.

    When a folio local of upstream stands for ``page_folio(page)`` in the older tree, a call of
    the folio API on it is the older tree's page wrapper on the page: the page helpers of the
    folio conversion (``queries/api-renames.toml``, "the folio API") are defined as exactly that
    call. Only one-argument calls, and only when the tree has the page helper (``have``).
    Returns the lines and the (folio call, page helper) pairs used.
    """
    if not any("page_folio" in x for x in lines):
        return list(lines), []
    table = _page_helpers()
    side = fragment(lines)
    edits: list[tuple[int, int, str]] = []
    used: list[tuple[str, str]] = []
    for n in syntax.walk(side.unit.root):
        if n.type != "call_expression" or not side.visible(n.start_point[0]):
            continue
        name = syntax.callee(n)
        olds = table.get(name or "", frozenset())
        args = syntax.args(n)
        if len(olds) != 1 or len(args) != 1:
            continue
        inner = args[0]
        if (
            inner.type != "call_expression"
            or syntax.callee(inner) != "page_folio"
            or len(syntax.args(inner)) != 1
        ):
            continue
        (old,) = olds
        if not have(old):
            continue
        edits.append((n.start_byte, n.end_byte, f"{old}({syntax.text(syntax.args(inner)[0])})"))
        used.append((f"{name}()", f"{old}()"))
    if not edits:
        return list(lines), []
    text = replace_spans(side.unit.data, edits).decode("utf-8", "replace").split("\n")
    return text[1 : 1 + len(lines)], used


def folio_as_head_page(
    lines: list[str], known: Known, have: Callable[[str], bool]
) -> tuple[list[str], list[tuple[str, str]]]:
    """``is_huge_zero_folio(folio)`` -> ``is_huge_zero_page(page)`` in an older function that
    has no ``folio`` but one page local set to ``compound_head(...)``: the head page is what
    upstream's folio stands for there. Only when every use of ``folio`` in ``lines`` becomes
    a page helper of the API table (:func:`page_wrappers`); else ``lines`` as they are.
    Returns the lines and the (folio call, page helper) pairs used."""
    if "folio" in known.local or not any("folio" in x for x in lines):
        return list(lines), []
    heads = [
        n
        for n, vals in known.values.items()
        if n in known.local and any(v.startswith("compound_head(") for v in vals)
    ]
    if len(heads) != 1:
        return list(lines), []
    side = fragment(lines)
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for n in syntax.walk(side.unit.root):
        if n.type == "identifier" and syntax.text(n) == "folio" and side.visible(n.start_point[0]):
            row = side.line_of(n.start_point[0])
            spans.setdefault(row, []).append(
                (n.start_point[1], n.end_point[1], f"page_folio({heads[0]})")
            )
    if not spans:
        return list(lines), []
    out = list(lines)
    for k, row_spans in spans.items():
        out[k] = replace_spans(out[k].encode(), row_spans).decode("utf-8", "replace")
    out, used = page_wrappers(out, have)
    if not used or any(f"page_folio({heads[0]})" in x for x in out):
        return list(lines), []
    return out, used


# an argument that needs no parentheses inside a helper's expression (`&$A->f`)
_PRIMARY = frozenset(
    {
        "identifier",
        "call_expression",
        "field_expression",
        "subscript_expression",
        "parenthesized_expression",
        "number_literal",
    }
)
_CONDITIONED = ("if_statement", "while_statement", "do_statement", "for_statement")


def _truth_only(n: Node, returns_bool: bool | None) -> bool:
    """Does only the truth of ``n``'s value count (a condition, the operand of ``!``, ``&&``,
    ``||``, the value a bool function returns)? ``returns_bool``: whether the function a
    ``return`` belongs to returns bool (None: read it from the definition around it)."""
    child, p = n, n.parent
    while p is not None and p.type == "parenthesized_expression":
        child, p = p, p.parent
    if p is None:
        return False
    if p.type in _CONDITIONED or p.type == "conditional_expression":
        return p.child_by_field_name("condition") == child
    if p.type == "unary_expression":
        return syntax.text(p.child_by_field_name("operator")) == "!"
    if p.type == "binary_expression":
        return syntax.text(p.child_by_field_name("operator")) in ("&&", "||")
    if p.type == "return_statement":
        if returns_bool is not None:
            return returns_bool  # a slice of the target function's body
        fn = p.parent
        while fn is not None and fn.type != "function_definition":
            fn = fn.parent
        return fn is not None and returns_bool_fn(fn)
    return False


def returns_bool_fn(fn: Node) -> bool:
    """Is ``fn`` (a function definition) declared to return ``bool``?"""
    decl = fn.child_by_field_name("declarator")
    while decl is not None and decl.type not in ("function_declarator", "pointer_declarator"):
        decl = decl.child_by_field_name("declarator")
    return (
        decl is not None
        and decl.type == "function_declarator"
        and syntax.text(fn.child_by_field_name("type")) in ("bool", "_Bool")
    )


def older_exprs(
    lines: list[str], have: Callable[[str], bool], returns_bool: bool = False, top: bool = False
) -> tuple[list[str], list[str]]:
    """Calls of later helpers the tree lacks, written as the expressions they stand for.

    The expression forms of ``queries/api-renames.toml``: ``ptdesc_pmd_is_shared(p)`` is
    ``!!ptdesc_pmd_pts_count(p)``, and that is ``atomic_read(&p->pt_share_count)`` in a tree
    without it. Each result is spelled older again while it names a helper the tree lacks;
    ``!!`` goes where only the value's truth counts. ``lines`` are a slice of a function body
    (``returns_bool``: that function returns bool), or whole definitions (``top``). Only calls
    on one line. Renamed symbols are spelled older first (``apitable.older_symbols``).
    Returns the lines and the APIs so adjusted.
    """
    lines, used = older_symbols(list(lines), have)
    forms = api_exprs()
    if not any(name in x for x in lines for name in forms):
        return lines, used
    for _ in range(len(forms) + 1):
        if top:
            side = Side(syntax.parse("\n".join(lines).encode(), "<new>"), lines, 0)
        else:
            side = fragment(lines)
        edits: dict[int, list[tuple[int, int, str]]] = {}  # by line: byte columns, new text
        for n in syntax.walk(side.unit.root):
            row = n.start_point[0]
            if n.type != "call_expression" or n.end_point[0] != row or not side.visible(row):
                continue
            f = forms.get(syntax.callee(n) or "")
            a = syntax.args(n)
            if f is None or len(a) != len(f.params) or have(f.callee):
                continue
            mine = edits.setdefault(side.line_of(row), [])
            if any(lo <= n.start_point[1] < hi for lo, hi, _ in mine):
                continue  # inside a call already rewritten: the next round reads the result
            args = [syntax.text(x) if x.type in _PRIMARY else f"({syntax.text(x)})" for x in a]
            truth = _truth_only(n, None if top else returns_bool)
            mine.append((n.start_point[1], n.end_point[1], f.spell(args, truth)))
            used.append(f.api)
        if not any(edits.values()):
            break
        for k, spans in edits.items():
            lines[k] = replace_spans(lines[k].encode(), spans).decode("utf-8", "replace")
    return lines, list(dict.fromkeys(used))


def older_hunk(h: Hunk, have: Callable[[str], bool]) -> tuple[Hunk, list[str]] | None:
    """``h`` with its context and removed lines spelled as the tree writes them, where they
    call later helpers it lacks (``mm_flags_test(F, mm)`` -> ``test_bit(F, &mm->flags)``):
    the hunk an older tree's text matches. The added lines stay as upstream wrote them (they
    are spelled older where they are placed, knowing their function). None when nothing
    changes."""
    before, apis = older_exprs(h.before, have)
    if not apis:
        return None
    out: list[tuple[str, str]] = []
    i = 0
    for kind, text in h.lines:
        if kind == "+":
            out.append((kind, text))
        else:
            out.append((kind, before[i]))
            i += 1
    if tuple(out) == h.lines:
        return None
    return replace(h, lines=tuple(out)), apis


def older_edits(
    edits: list[Edit], have: Callable[[str], bool], fn: Node | None
) -> tuple[list[Edit], list[str]]:
    """:func:`older_exprs` on the lines each edit adds, in function ``fn`` (None: at file
    scope); the edits and the notes (``for the ptdesc API``)."""
    out, notes = [], []
    for e in edits:
        lines, apis = older_exprs(
            list(e.add), have, returns_bool_fn(fn) if fn is not None else False, top=fn is None
        )
        out.append(Edit(e.start, e.remove, tuple(lines)))
        notes += [f"for {a}" for a in apis if f"for {a}" not in notes]
    return out, notes


def same_when_older(
    removed: list[str],
    added: list[str],
    fn_lines: list[str],
    have: Callable[[str], bool],
    returns_bool: bool = False,
) -> bool:
    """A change that only moves from one later helper to another the tree lacks
    (``!ptdesc_pmd_pts_count(p)`` -> ``!ptdesc_pmd_is_shared(p)``): both sides spelled the
    older way (:func:`older_exprs`) are the same code, and the target function (``fn_lines``)
    already has it. Nothing to change in this tree."""
    old, a = older_exprs(removed, have, returns_bool)
    new, b = older_exprs(added, have, returns_bool)
    if not (a or b) or not any(code_line(x) for x in old):
        return False
    flat = "".join("".join(x.split()) for x in old)
    if tokens(old) != tokens(new) or not flat:
        return False
    return flat in "".join("".join(x.split()) for x in fn_lines)
