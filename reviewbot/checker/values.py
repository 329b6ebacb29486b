"""What the exploration of :mod:`reviewbot.checker.flow` knows and computes on one path.

The loop's current :class:`Entry` (which expressions denote it, what is derived from it), the
:class:`Context` of one exploration (predicates, assumptions, helper summaries), and the
three-valued :class:`Evaluator` of expressions (true / false / unknown) over it. A call of a
helper defined in the file is evaluated by its :class:`Summary`, which the exploration computes
(the evaluator is given ``flow.summarise``: the two call each other).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from reviewbot.ctree import syntax
from reviewbot.ctree.syntax import Node, Unit

MAX_DEPTH = 3
WRAPPERS = frozenset(
    {"unlikely", "likely", "READ_ONCE", "data_race", "WARN_ON", "WARN_ON_ONCE", "WARN_ONCE", "WARN"}
)
CONFIG_TESTS = frozenset({"IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE", "IS_MODULE"})
_CONST = re.compile(r"^[A-Z][A-Z0-9_]*$")

Val = bool | int | str | None  # a value in three-valued evaluation: None is "unknown"
# Literals, not enums, for the tags below: they are compared in the exploration's inner loop.
EntryRole = Literal["value", "iter"]  # how a call argument carries the entry into a helper
ShapeTag = Literal["call", "un", "bin", "const", "var", "fwd", "none"]
Shape = tuple[ShapeTag, *tuple[Any, ...]]  # (tag, operands...): see ``_compile``
Env = dict[str, tuple[Val, Node | None]]  # flag variable -> (value, predicate call it came from)


# --- the loop's current entry ---------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Which expressions denote the current entry: ``*it``, ``reader(it)``, ``it[0]``, values.

    ``derived`` names values computed from the entry (``page = vm_normal_page(vma, addr,
    pteval)``, ``folio = page_folio(page)``) and ``filled`` the structs a call taking the entry
    fills in (``check(pteval, &ctx)`` then ``ctx.folio``): a test on them tests the entry too.
    """

    iters: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()
    readers: frozenset[str] = frozenset()
    derived: frozenset[str] = frozenset()
    filled: frozenset[str] = frozenset()

    def is_current(self, node: Node | None) -> bool:
        """Does expression ``node`` denote the loop's current entry (or a value derived from it)?"""
        node = syntax.unwrap(node)
        if node is None:
            return False
        if node.type == "identifier":
            return syntax.text(node) in self.values or syntax.text(node) in self.derived
        if node.type == "field_expression":
            base = syntax.unwrap(node.child_by_field_name("argument"))
            return (
                base is not None and base.type == "identifier" and syntax.text(base) in self.filled
            )
        if node.type == "pointer_expression" and syntax.text(node).lstrip().startswith("*"):
            arg = syntax.unwrap(node.child_by_field_name("argument"))
            return arg is not None and arg.type == "identifier" and syntax.text(arg) in self.iters
        if node.type == "subscript_expression":
            arr = syntax.unwrap(node.child_by_field_name("argument"))
            idx = syntax.unwrap(node.child_by_field_name("index"))
            return (
                arr is not None and syntax.text(arr) in self.iters and syntax.text(idx) == "0"
            ) or (idx is not None and syntax.text(idx) in self.iters)
        if node.type == "call_expression" and syntax.callee(node) in self.readers:
            a = syntax.args(node)
            return (
                bool(a)
                and syntax.unwrap(a[0]) is not None
                and syntax.text(syntax.unwrap(a[0])) in self.iters
            )
        return False

    def derive(self, writes: list[Node], calls: list[Node], pointers: frozenset[str]) -> Entry:
        """This entry grown by what a scope computes from it, to a fixed point.

        ``writes`` are the scope's declarations with a value and assignments, ``calls`` its
        calls, ``pointers`` the names of entry pointers: an entry pointer set from an iterator
        (``_pte = pte + i`` in an index loop) is a cursor; a copy of the entry (``pteval =
        ptep_get(_pte)``) is a value; the result of a call taking the entry is derived from it;
        a struct whose address such a call takes is filled from it.
        """
        entry = self
        changed = True
        while changed:
            changed = False
            for n in writes:
                target = value = None
                if n.type == "init_declarator":
                    target, value = (
                        n.child_by_field_name("declarator"),
                        n.child_by_field_name("value"),
                    )
                elif (
                    n.type == "assignment_expression"
                    and syntax.text(n.child_by_field_name("operator")) == "="
                ):
                    target, value = n.child_by_field_name("left"), n.child_by_field_name("right")
                if target is None or target.type != "identifier" or value is None:
                    continue
                name = syntax.text(target)
                if name in entry.values or name in entry.iters:
                    continue
                if name in pointers and entry.mentions_iter(value):
                    entry = replace(entry, iters=entry.iters | {name})
                elif entry.is_current(value) and name not in entry.derived:
                    bare = syntax.unwrap(value)
                    # A copy of the entry is the entry; a copy of something derived is derived.
                    copy = bare is not None and (
                        bare.type == "identifier"
                        and syntax.text(bare) in entry.derived
                        or bare.type == "field_expression"
                    )
                    if copy:
                        entry = replace(entry, derived=entry.derived | {name})
                    else:
                        entry = replace(entry, values=entry.values | {name})
                elif (
                    name not in entry.derived
                    and (bare := syntax.unwrap(value)) is not None
                    and bare.type == "call_expression"
                    and any(entry.is_current(a) for a in syntax.args(bare))
                ):
                    entry = replace(entry, derived=entry.derived | {name})
                else:
                    continue
                changed = True
            for c in calls:
                a = syntax.args(c)
                if not any(entry.is_current(x) for x in a):
                    continue
                for raw in a:
                    x = syntax.unwrap(raw)
                    if (
                        x is not None
                        and x.type == "pointer_expression"
                        and syntax.text(x).lstrip().startswith("&")
                    ):
                        arg = syntax.unwrap(x.child_by_field_name("argument"))
                        if arg is not None and arg.type == "identifier":
                            name = syntax.text(arg)
                            if name not in entry.filled:
                                entry = replace(entry, filled=entry.filled | {name})
                                changed = True
        return entry

    def mentions_iter(self, node: Node) -> bool:
        """Does ``node`` name one of the entry's iterators (``pte + i``)?"""
        return any(
            n.type == "identifier" and syntax.text(n) in self.iters for n in syntax.walk(node)
        )

    def mentions(self, node: Node) -> bool:
        """Does ``node`` name the entry's iterator or a value read from it?"""
        names = self.iters | self.values
        return any(n.type == "identifier" and syntax.text(n) in names for n in syntax.walk(node))

    def role_of(self, node: Node) -> EntryRole | None:
        """How an argument carries the entry into a helper: 'value', 'iter' or None."""
        if self.is_current(node):
            return "value"
        bare = syntax.unwrap(node)
        if bare is not None and bare.type == "identifier" and syntax.text(bare) in self.iters:
            return "iter"
        return None


# --- evaluation -----------------------------------------------------------------------


@dataclass
class Context:
    """What the exploration knows: predicates, assumptions, the entry, helper summaries."""

    unit: Unit
    predicates: frozenset[str]
    vma_predicates: frozenset[str] = frozenset()
    assume: dict[str, bool] = field(default_factory=dict)
    entry: Entry = field(default_factory=Entry)
    depth: int = 0
    summaries: dict[tuple[str, tuple[EntryRole | None, ...]], Summary] = field(
        default_factory=dict
    )  # across depths
    _relevant: dict[str, bool] = field(default_factory=dict)

    def relevant(self, name: str, depth: int = 0) -> bool:
        """Does ``name`` (defined here) test a predicate, directly or through helpers?"""
        if name in self._relevant:
            return self._relevant[name]
        self._relevant[name] = False  # recursion guard
        fn = self.unit.function(name)
        found = False
        if fn is not None and depth < MAX_DEPTH:
            for c in self.unit.index(fn.node).calls:
                cn = syntax.callee(c)
                if (
                    cn in self.predicates
                    or cn in self.vma_predicates
                    or (
                        cn
                        and cn != name
                        and self.unit.function(cn) is not None
                        and self.relevant(cn, depth + 1)
                    )
                ):
                    found = True
                    break
        self._relevant[name] = found
        return found


@dataclass(frozen=True)
class Summary:
    """What a helper returns when its predicate holds; ``deciders`` name the deciding tests."""

    value: Val
    deciders: tuple[Node, ...] = ()


def truth(v: Val, unit: Unit) -> bool | None:
    """The truth of a value: nonzero, an ``-E...`` error code, or a nonzero enumerator."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v != 0
    if v.startswith("-E"):
        return True
    if v in unit.enum_values:
        return unit.enum_values[v] != 0
    return None


def same(a: Val, b: Val, unit: Unit) -> bool | None:
    """Are two values equal (None: cannot tell)? Enumerators compare by value."""
    if a is None or b is None:
        return None
    a = unit.enum_values.get(a, a) if isinstance(a, str) else a
    b = unit.enum_values.get(b, b) if isinstance(b, str) else b
    if isinstance(a, str) and isinstance(b, str):
        return a == b  # distinct enumerators are distinct values
    if isinstance(a, str) or isinstance(b, str):
        return None
    return int(a) == int(b)


def _compile(node: Node | None) -> Shape:
    """The evaluation-relevant shape of an expression (cached per node: conditions are
    evaluated once per explored state)."""
    node = syntax.unwrap(node)
    if node is None:
        return ("none",)
    t = node.type
    if t == "call_expression":
        return ("call", syntax.callee(node), syntax.args(node), node)
    if t == "unary_expression":
        return (
            "un",
            syntax.text(node.child_by_field_name("operator")),
            node.child_by_field_name("argument"),
        )
    if t == "binary_expression":
        return (
            "bin",
            syntax.text(node.child_by_field_name("operator")),
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        )
    if t in ("true", "false"):
        return ("const", t == "true")
    if t == "null":
        return ("const", 0)
    if t == "number_literal":
        try:
            return ("const", int(syntax.text(node).rstrip("uUlL"), 0))
        except ValueError:
            return ("none",)
    if t in ("identifier", "field_expression", "pointer_expression"):
        key = syntax.norm(node)
        const: Val = None
        if t == "identifier":
            if key in ("true", "false"):
                const = key == "true"
            elif key == "NULL":
                const = 0
            elif _CONST.match(key):
                const = key
        return ("var", key, const)
    if t in ("comma_expression", "assignment_expression"):
        return ("fwd", node.child_by_field_name("right"))
    return ("none",)


class Evaluator:
    """Three-valued evaluation of expressions; ``masked`` hides predicate-derived values."""

    def __init__(self, ctx: Context, summarise: Summariser):
        self.ctx = ctx
        self._summarise = summarise  # the exploration's helper summaries (flow.summarise)
        self.used: list[Node] = []  # predicate/helper calls and tainted variables consulted
        self.shapes = ctx.unit.shapes
        self._current: dict[int, bool] = {}
        self._mentions: dict[int, bool] = {}

    def _is_current(self, node: Node) -> bool:
        v = self._current.get(node.id)
        if v is None:
            v = self._current[node.id] = self.ctx.entry.is_current(node)
        return v

    def _mention(self, node: Node) -> bool:
        v = self._mentions.get(node.id)
        if v is None:
            v = self._mentions[node.id] = self.ctx.entry.mentions(node)
        return v

    def ev(self, node: Node | None, env: Env, masked: bool = False) -> Val:
        """The value of expression ``node`` under ``env`` (None: unknown)."""
        if node is None:
            return None
        sh = self.shapes.get(node.id)
        if sh is None:
            sh = self.shapes[node.id] = _compile(node)
        kind = sh[0]
        ctx = self.ctx
        if kind == "call":
            _, name, a, call = sh
            if name in WRAPPERS and a:
                return self.ev(a[0], env, masked)
            if name in ctx.predicates:
                if not a or not self._is_current(a[0]):
                    return None
                self.used.append(call)
                return None if masked else True
            if name in ctx.vma_predicates:
                self.used.append(call)
                return None if masked else True
            if name in ctx.assume and a and self._mention(a[0]):
                return ctx.assume[name]
            if name in CONFIG_TESTS:
                return True
            if name and ctx.depth < MAX_DEPTH and ctx.unit.function(name) is not None:
                s = self._summarise(ctx, name, a)
                if not ctx.relevant(name):
                    # A helper that tests no predicate, such as one that stores a result and
                    # returns a status constant: its value does not depend on the predicate.
                    return s.value
                if s.value is not None:
                    self.used.append(call)
                return None if masked else s.value
            return None
        if kind == "var":
            _, key, const = sh
            if key in env:
                val, origin = env[key]
                if origin is not None:
                    self.used.append(origin)
                    if masked:
                        return None
                return val
            return const
        if kind == "bin":
            _, op, left, right = sh
            if op in ("||", "&&"):
                a = truth(self.ev(left, env, masked), ctx.unit)
                if (op == "||" and a is True) or (op == "&&" and a is False):
                    return a
                b = truth(self.ev(right, env, masked), ctx.unit)
                if (op == "||" and b is True) or (op == "&&" and b is False):
                    return b
                return a if a is not None and b is not None else None
            if op in ("==", "!="):
                eq = same(self.ev(left, env, masked), self.ev(right, env, masked), ctx.unit)
                return None if eq is None else (eq if op == "==" else not eq)
            return None
        if kind == "un":
            _, op, arg = sh
            v = self.ev(arg, env, masked)
            if op == "!":
                tv = truth(v, ctx.unit)
                return None if tv is None else not tv
            if op == "-":
                if isinstance(v, int) and not isinstance(v, bool):
                    return -v
                if isinstance(v, str) and v.startswith("E"):
                    return "-" + v
            return None
        if kind == "const":
            return sh[1]
        if kind == "fwd":
            return self.ev(sh[1], env, masked)
        return None


# how the evaluator gets a helper's summary: flow.summarise(ctx, helper name, call arguments)
Summariser = Callable[[Context, str, list[Node]], Summary]
