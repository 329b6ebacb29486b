"""Calls whose argument count the older tree's API does not take (a, b).

Upstream may pass an argument a function only gained later (``damon_destroy_target(t, NULL)``
where 6.1 has ``damon_destroy_target(t)``). The target file's own calls say how many arguments
the function takes there. When every call of it in the target file takes N and upstream's call
passes N+1 whose last one is ``NULL``, ``0`` or ``false`` (the new parameter's "none"), the
older call drops it, as stable maintainers write it. A call of a variadic function or macro
passing fewer than its fixed arguments, where the change's other calls of it pass the same
plain names first (``kunit_skip(test, "...")``), is upstream's slip: those names go first, as
stable wrote it. Any other difference in the count is a mismatch the change cannot carry
(:func:`fit` reports it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from reviewbot.backport.rewrites import replace_spans
from reviewbot.backport.statements import fragment
from reviewbot.ctree import syntax

NONE_VALUES = frozenset({"NULL", "0", "false"})


@lru_cache(maxsize=16)
def _arities(data: bytes, path: str) -> dict[str, frozenset[int]]:
    out: dict[str, set[int]] = {}
    for n in syntax.walk(syntax.parse(data, path).root):
        if n.type == "call_expression":
            name = syntax.callee(n)
            if name:
                out.setdefault(name, set()).add(len(syntax.args(n)))
    return {k: frozenset(v) for k, v in out.items()}


def arities(unit: syntax.Unit) -> dict[str, frozenset[int]]:
    """Function name -> the argument counts its calls in ``unit`` use (read once per file)."""
    return _arities(unit.data, unit.path)


@dataclass(frozen=True)
class Params:
    """How many arguments a function or function-like macro takes: exactly ``count``, or
    (``variadic``) at least ``count``."""

    count: int
    variadic: bool = False


ParamCount = Callable[[str], Params | None]  # function -> its parameters in the tree


Calls = dict[str, list[tuple[str, ...]]]  # function -> the arguments of each call, normalised


def fix_calls(*runs: list[str]) -> Calls:
    """Function name -> the arguments (normalised) of each call in ``runs`` (code a fix adds,
    hunk by hunk)."""
    out: Calls = {}
    for lines in runs:
        side = fragment(lines)
        for n in syntax.walk(side.unit.root):
            if n.type == "call_expression" and side.visible(n.start_point[0]):
                args = tuple(syntax.norm(a) for a in syntax.args(n))
                out.setdefault(syntax.callee(n) or "", []).append(args)
    return out


def fit(
    lines: list[str],
    have: dict[str, frozenset[int]],
    params: ParamCount | None,
    seen: Calls | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """``lines`` with each call fitted to the target's argument count: (lines, notes for the
    dropped arguments, mismatches that cannot be fitted). ``have`` holds the counts of the
    target file's calls; ``params`` confirms them from the function's declaration in the tree
    (or function-like macro): without it nothing changes. A call passing fewer arguments than
    another call of it (``seen``: the whole fix's calls; default ``lines``') is checked against
    a variadic declaration's fixed arguments."""
    if params is None:
        return list(lines), [], []
    if not any("(" in x for x in lines):
        return list(lines), [], []
    side = fragment(lines)
    edits: list[tuple[int, int, str]] = []
    notes: list[str] = []
    bad: list[str] = []
    calls = seen if seen is not None else fix_calls(lines)
    own = {k: frozenset(len(a) for a in v) for k, v in calls.items()}
    for n in syntax.walk(side.unit.root):
        if n.type != "call_expression" or not side.visible(n.start_point[0]):
            continue
        name = syntax.callee(n)
        counts = have.get(name or "", frozenset())
        args = syntax.args(n)
        # fewer arguments than another call of it passes: does the tree take that few?
        fewer = len(args) < max(counts | own.get(name or "", frozenset()), default=0)
        if not name or (not counts and not fewer) or len(args) in counts:
            continue
        declared = params(name) if len(counts) == 1 or fewer else None
        if declared is not None and declared.variadic:
            short = 0 < len(args) < declared.count
            first = (
                _leading(calls.get(name, []), declared.count, declared.count - len(args))
                if short
                else None
            )
            if first is not None:  # upstream's slip: its other calls here pass these first
                edits.append((args[0].start_byte, args[0].start_byte, ", ".join(first) + ", "))
                notes.append(f"{name}(…) -> {name}({', '.join(first)}, …)")
            elif len(args) < declared.count:  # fewer than a variadic one's fixed arguments
                bad.append(
                    f"{name}() takes at least {declared.count} argument"
                    f"{'s' * (declared.count != 1)} in this tree, the change passes {len(args)}"
                )
            continue
        if len(counts) != 1:
            continue
        (want,) = counts
        if declared is None or declared.count != want:
            continue  # no fixed-arity declaration confirms what the calls show
        last = args[-1] if args else None
        if len(args) == want + 1 and last is not None and syntax.norm(last) in NONE_VALUES:
            start = args[-2].end_byte if want else last.start_byte
            edits.append((start, last.end_byte, ""))
            lead = "…, " if want else ""
            notes.append(f"{name}({lead}{syntax.norm(last)}) -> {name}({'…' if want else ''})")
        else:
            bad.append(
                f"{name}() takes {want} argument{'s' * (want != 1)} in this tree, "
                f"the change passes {len(args)}"
            )
    if not edits:
        return list(lines), [], bad
    text = replace_spans(side.unit.data, edits).decode("utf-8", "replace").split("\n")
    return text[1 : 1 + len(lines)], list(dict.fromkeys(notes)), bad


def _leading(calls: list[tuple[str, ...]], fixed: int, k: int) -> list[str] | None:
    """The ``k`` arguments a call passing too few lacks, when every call of the function in
    the fix (``calls``) that passes its ``fixed`` arguments passes the same plain names first
    (``kunit_skip(test, ...)`` around upstream's ``kunit_skip("...")``); else None."""
    full = [c for c in calls if len(c) >= fixed]
    if not full:
        return None
    first = list(full[0][:k])
    if any(list(c[:k]) != first for c in full) or not all(x.isidentifier() for x in first):
        return None
    return first


def declared_params(data: bytes, path: str, name: str) -> Params | None:
    """The parameters of ``name`` as ``data`` declares or defines it, a function or a
    function-like macro (None: not there)."""
    for n in syntax.walk(syntax.parse(data, path).root):
        if n.type == "preproc_function_def":
            if syntax.text(n.child_by_field_name("name")) != name:
                continue
            plist = n.child_by_field_name("parameters")
            if plist is None:
                return None
            names = [c for c in plist.named_children if c.type == "identifier"]
            return Params(len(names), "..." in syntax.text(plist))
        if n.type != "function_declarator":
            continue
        if syntax.declarator_name(n.child_by_field_name("declarator")) != name:
            continue
        plist = n.child_by_field_name("parameters")
        if plist is None:
            return None
        kids = [c for c in plist.named_children if c.type != "comment"]
        if any(c.type == "variadic_parameter" for c in kids) or "..." in syntax.text(plist):
            fixed = [c for c in kids if c.type == "parameter_declaration"]
            return Params(len(fixed), True)
        if len(kids) == 1 and syntax.norm(kids[0]) == "void":
            return Params(0)
        return Params(len(kids))
    return None
