"""What the target knows: the names a target function and its file declare and use.

Relocation, comparison and validation ask the same questions of a target tree: is this name the
function's own local, a file-scope name, a field, used at all; may an upstream name become this
target name (:func:`valid_rename`: a local spelt otherwise, a related name the tree lacks, a
known API rename from ``queries/api-renames.toml``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import TypeVar

from reviewbot.backport.apitable import api_renames
from reviewbot.backport.statements import ID_KINDS, leaves
from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node, Unit

_T = TypeVar("_T")


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
    # locals and parameters of the file's other functions only: not visible in this one
    elsewhere: frozenset[str] = frozenset()

    def has_name(self, name: str) -> bool:
        """Is ``name`` something the target file names, or the tree has?"""
        return (
            name in self.anyid
            or name in self.glob
            or (self.tree is not None and bool(self.tree(name)))
        )

    def has(self, name: str) -> bool:
        return (
            name in self.local or name in self.anyid or name in self.fields or name in self.labels
        )


def declared(fn_node: Node) -> tuple[set[str], set[str]]:
    """(parameters and locals, labels) declared in a function (a system call's block: with
    the parameters its ``SYSCALL_DEFINEn`` line names)."""
    names: set[str] = set(syntax.syscall_params(fn_node))
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


def per_unit(compute: Callable[[Unit], _T]) -> Callable[[Unit], _T]:
    """``compute`` read once per parsed file (each hunk of a fix asks again): the last few
    units are kept, each with the unit itself, so an id is never taken for another unit's."""
    cache: OrderedDict[int, tuple[Unit, _T]] = OrderedDict()

    @wraps(compute)
    def get(unit: Unit) -> _T:
        hit = cache.get(id(unit))
        if hit is not None and hit[0] is unit:
            cache.move_to_end(id(unit))
            return hit[1]
        out = compute(unit)
        cache[id(unit)] = (unit, out)
        while len(cache) > 16:
            cache.popitem(last=False)
        return out

    return get


@per_unit
def function_locals(unit: Unit) -> frozenset[str]:
    """Every parameter and local any function of a parsed file declares."""
    names: set[str] = set()
    for n in unit.root.children:
        if n.type == "function_definition" or syntax.syscall_header(n) is not None:
            names |= declared(n)[0]
    return frozenset(names)


@per_unit
def file_names(unit: Unit) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(file-scope names, every identifier used, every field name) of a parsed file."""
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
        function_locals(unit) - glob - local if fn_node is not None else frozenset(),
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
