"""Compare two versions of a C function statement by statement: renames, rewrites, alignment.

Relocation and validation compare the upstream side of a fix (the whole pre-image function, or
just the lines a hunk shows) with the target tree. Both sides are read into items
(:mod:`items`) and compared on normalised tokens, never on text:

- ``EQUAL``: the same tokens (whitespace and comments do not count);
- ``RENAMED``: the same tokens except identifiers, and every differing identifier is a valid
  rename for the target (``addr`` -> ``address`` when ``address`` is the target function's own
  declaration and ``addr`` is not; a function the target tree does not have -> its new name);
- ``HEAD``: the heads agree (``if (!khugepaged_test_exit(mm))``) while the bodies differ;
- ``REWRITTEN``: the differing subtrees anti-unify into API re-expressions
  (``mmap_write_trylock(X)`` -> ``down_write_trylock(&X->mmap_sem)``), learned, not hard-coded.

Items cut by the edge of a hunk compare on what is visible (the tail of a statement whose head
is above the hunk, the head of one whose end is below). :func:`align_blocks` pairs the
statements of two blocks and collects the evidence; :func:`transform` applies the consistent
renames and rewrites to the lines a fix adds.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from reviewbot.backport.apitable import api_renames
from reviewbot.backport.statements import ID_KINDS, Block, Item, Side, code, fragment, leaves
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node, Unit

EQUAL, RENAMED, HEAD, REWRITTEN, DIFFERENT = 4, 3, 2, 1, 0
LEVEL_NAMES = {
    EQUAL: "equal",
    RENAMED: "renamed",
    HEAD: "head",
    REWRITTEN: "rewritten",
    DIFFERENT: "different",
}


# --- what the target knows -------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """Names the target has: the function's own declarations, file scope, anything used."""

    local: frozenset[str]
    labels: frozenset[str]
    glob: frozenset[str]
    anyid: frozenset[str]
    fields: frozenset[str]
    up_local: frozenset[str] = frozenset()
    tree: Callable[[str], bool | None] | None = field(default=None, compare=False)
    # what the function's locals are set to (initialisers and plain assignments), normalised
    values: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def has(self, name: str) -> bool:
        return (
            name in self.local or name in self.anyid or name in self.fields or name in self.labels
        )


def declared(fn_node: Node) -> tuple[set[str], set[str]]:
    """(parameters and locals, labels) declared in a function."""
    names: set[str] = set()
    labels: set[str] = set()
    for n in syntax.walk(fn_node):
        if n.type in ("parameter_declaration", "declaration"):
            for c in n.named_children:
                if c.type in (
                    "identifier",
                    "init_declarator",
                    "pointer_declarator",
                    "array_declarator",
                ):
                    name = syntax.declarator_name(c)
                    if name:
                        names.add(name)
        elif n.type == "labeled_statement":
            lab = n.child_by_field_name("label")
            if lab is not None:
                labels.add(syntax.text(lab))
    return names, labels


def assigned(fn_node: Node) -> dict[str, frozenset[str]]:
    """Local -> the (normalised) expressions a function sets it to with ``=``."""
    out: dict[str, set[str]] = {}
    for n in syntax.walk(fn_node):
        if n.type == "init_declarator":
            name, value = syntax.declarator_name(n), n.child_by_field_name("value")
        elif (
            n.type == "assignment_expression"
            and syntax.text(n.child_by_field_name("operator")) == "="
        ):
            left, value = n.child_by_field_name("left"), n.child_by_field_name("right")
            name = syntax.text(left) if left is not None and left.type == "identifier" else None
        else:
            continue
        if name and value is not None:
            out.setdefault(name, set()).add(syntax.norm(value))
    return {k: frozenset(v) for k, v in out.items()}


_NAMES: OrderedDict[int, tuple[Unit, tuple[frozenset[str], frozenset[str], frozenset[str]]]] = (
    OrderedDict()
)


def file_names(unit: Unit) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(file-scope names, every identifier used, every field name) of a parsed file.

    Read once per parsed file (each hunk of a fix asks again): the last few units are kept,
    each with the unit itself, so an id is never taken for another unit's.
    """
    hit = _NAMES.get(id(unit))
    if hit is not None and hit[0] is unit:
        _NAMES.move_to_end(id(unit))
        return hit[1]
    names = _file_names(unit)
    _NAMES[id(unit)] = (unit, names)
    while len(_NAMES) > 16:
        _NAMES.popitem(last=False)
    return names


def _file_names(unit: Unit) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    glob: set[str] = set()
    anyid: set[str] = set()
    fields: set[str] = set()
    for leaf in leaves(unit.root):
        kind = ID_KINDS.get(leaf.type)
        if kind == "field":
            fields.add(syntax.text(leaf))
        elif kind in ("id", "type"):
            anyid.add(syntax.text(leaf))
    stack = list(unit.root.children)
    while stack:
        n = stack.pop()
        if n.type == "function_definition":
            f = syntax.function_of(n)
            if f is not None:
                glob.add(f.name)
        elif n.type in ("declaration", "type_definition"):
            for c in n.named_children:
                name = (
                    syntax.declarator_name(c)
                    if c.type not in ("primitive_type", "storage_class_specifier")
                    else None
                )
                if name:
                    glob.add(name)
            stack.extend(n.children)
        elif n.type in ("preproc_def", "preproc_function_def"):
            name_node = n.child_by_field_name("name")
            if name_node is not None:
                glob.add(syntax.text(name_node))
        elif n.type == "enumerator":
            glob.add(syntax.text(n.child_by_field_name("name")))
        elif n.type.startswith("preproc_") or n.type in (
            "enum_specifier",
            "enumerator_list",
            "ERROR",
            "declaration_list",
        ):
            stack.extend(n.children)
    return frozenset(glob), frozenset(anyid), frozenset(fields)


def known_for(
    unit: Unit,
    fn_node: Node | None,
    up_fn: Node | None = None,
    tree: Callable[[str], bool | None] | None = None,
) -> Known:
    """What the target knows: the function's declarations, file-scope names, names used."""
    glob, anyid, fields = file_names(unit)
    local, labels = declared(fn_node) if fn_node is not None else (set(), set())
    up_local = declared(up_fn)[0] if up_fn is not None else set()
    return Known(
        frozenset(local),
        frozenset(labels),
        glob,
        anyid,
        fields,
        frozenset(up_local),
        tree,
        assigned(fn_node) if fn_node is not None else {},
    )


def related_names(u: str, t: str) -> bool:
    """Names that look like a rename of each other: a shared tail of two or more words
    (``hpage_collapse_scan_pmd``/``khugepaged_scan_pmd``) or one extends the other
    (``pte_uffd``/``pte_uffd_wp``)."""
    a, b = u.lower().strip("_").split("_"), t.lower().strip("_").split("_")
    tail = 0
    while tail < min(len(a), len(b)) and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return tail >= 2 or a[: len(b)] == b or b[: len(a)] == a


_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# The nouns the folio conversion swapped in names (mlock_new_page -> mlock_new_folio).
API_NOUNS = frozenset({"folio", "folios", "page", "pages"})


def api_words(name: str) -> frozenset[str]:
    """The words of an identifier, snake_case or CamelCase, without the API nouns."""
    return frozenset(w.lower() for w in _WORD.findall(name)) - API_NOUNS


def same_api_words(u: str, t: str) -> bool:
    """``folio_put``/``put_page``, ``folio_test_referenced``/``PageReferenced``: the words of one
    name (API nouns aside) are all words of the other — the same operation in another API."""
    a, b = api_words(u), api_words(t)
    return bool(a and b) and (a <= b or b <= a)


def valid_rename(kind: str, u: str, t: str, known: Known) -> bool:
    """May upstream name ``u`` become target name ``t`` (see module docstring)?

    Local names follow the target function's own declarations; a file-scope name may change
    only to a related name the target has, when the target tree lacks the upstream one.
    """
    if kind == "label":
        return u not in known.labels and t in known.labels
    if kind == "field":
        return u not in known.fields and t in known.fields and related_names(u, t)
    if u in known.local:
        return False
    if t in known.local and u not in known.glob:
        return True
    if u in known.up_local and t in known.local:
        return True
    if u not in known.anyid and t in known.anyid and related_names(u, t):
        return not (known.tree is not None and known.tree(u))
    # a known API rename (folio_put -> put_page), the older name in use here
    return (u, t) in api_renames() and (t in known.anyid or t in known.glob)


# --- rewrites ---------------------------------------------------------------------------

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


# --- applying renames and rewrites to new lines ------------------------------------------------


@dataclass(frozen=True)
class Transformed:
    """Added lines after renames and rewrites, and which of them were used."""

    lines: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]
    rewrites: tuple[Rewrite, ...]


def _replace(text: bytes, edits: list[tuple[int, int, str]]) -> bytes:
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
    data = _replace(data, edits)
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
        data = _replace(data, redits)
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
