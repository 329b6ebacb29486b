"""Releases a backport adds without the acquire they pair with (``queries/lock-pairs.toml``).

Upstream's hunk may take a lock in its context and release it in the lines it adds (an early
return: ``mmap_read_unlock(mm); return 0;``). An older tree may run the same code under its
caller's lock, so the function never takes it: the release would drop what the function does
not hold. :func:`unpaired_releases` names such releases. A release that is a statement of its own
is left out (:func:`drop_releases`), as stable does (6.1's ``if (unlikely(!vma)) return 0;``); a
release inside another statement is refused.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache

from reviewbot.backport.statements import fragment
from reviewbot.ctree import syntax
from reviewbot.model.fileio import package_dir


@cache
def lock_pairs() -> dict[str, frozenset[str]]:
    """Release -> the calls that acquire what it releases."""
    text = package_dir("reviewbot.queries").joinpath("lock-pairs.toml").read_text("utf-8")
    return {
        str(p["release"]): frozenset(str(a) for a in p["acquire"])
        for p in tomllib.loads(text).get("pair", [])
    }


def _calls(lines: list[str]) -> list[tuple[str, str]]:
    """(callee, first argument normalised) of every call in ``lines``."""
    side = fragment(lines)
    out = []
    for n in syntax.walk(side.unit.root):
        if n.type == "call_expression" and side.visible(n.start_point[0]):
            args = syntax.args(n)
            out.append((syntax.callee(n) or "", syntax.norm(args[0]) if args else ""))
    return out


def unpaired_releases(added: list[str], shown: list[str], function: list[str]) -> list[str]:
    """Releases in ``added`` whose acquire upstream's hunk ``shown`` (its context and removed
    lines) has, and the target ``function`` (its lines) never makes on the same argument."""
    pairs = lock_pairs()
    wanted = [(c, a) for c, a in _calls(added) if c in pairs]
    if not wanted:
        return []
    upstream = {c for c, _ in _calls(shown)}
    target = set(_calls(function))
    return [
        f"{c}({a})"
        for c, a in dict.fromkeys(wanted)
        if pairs[c] & upstream and not any((acq, a) in target for acq in pairs[c])
    ]


def drop_releases(added: list[str], releases: list[str]) -> list[str] | None:
    """``added`` without the statements that only make one of ``releases`` (``f(arg)`` as
    :func:`unpaired_releases` names them), and without the braces of an ``if`` whose block
    keeps one single-line statement after that (kernel style). None when a release is not a
    statement of its own line."""
    wanted = {"".join(r.split()) for r in releases}
    out: list[str] = []
    emptied: set[int] = set()  # indices in out of lines after which a release was dropped
    for line in added:
        s = line.strip()
        if s.endswith(";") and "".join(s[:-1].split()) in wanted:
            emptied.add(len(out))
            continue
        out.append(line)
    if len(added) - len(out) < len(releases):
        return None
    return _unbrace(out, emptied)


_IF_OPEN = re.compile(r"^(\s*)(?:\}\s*else\s+)?if\s*\(.*\)\s*\{\s*$")


def _unbrace(lines: list[str], emptied: set[int]) -> list[str]:
    """Drop the braces of ``if (...) {`` blocks left with one single-line statement where a
    release was dropped (an ``if`` with no ``else``)."""
    out = list(lines)
    i = 0
    while i + 2 < len(out):
        m = _IF_OPEN.match(out[i])
        body, close = out[i + 1].strip(), out[i + 2]
        if (
            m
            and not out[i].lstrip().startswith("}")
            and {i + 1, i + 2} & emptied
            and body.endswith(";")
            and not body.startswith(("/*", "//", "#"))
            and close.strip() == "}"
            and close[: len(close) - len(close.lstrip())] == m.group(1)
            and (i + 3 >= len(out) or not out[i + 3].strip().startswith("else"))
        ):
            out[i] = out[i].rstrip()[:-1].rstrip()
            del out[i + 2]
        i += 1
    return out


@dataclass
class Releases:
    """``added`` after :func:`without_unpaired`: the lines, the notes for the mail, the
    warnings, and why it is refused (a release inside another statement)."""

    lines: list[str]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def without_unpaired(
    added: list[str], shown: list[str], function: list[str], where: str
) -> Releases:
    """``added`` without the releases :func:`unpaired_releases` names (``where``: the target
    function, for the messages)."""
    unpaired = unpaired_releases(added, shown, function)
    if not unpaired:
        return Releases(list(added))
    kept = drop_releases(added, unpaired)
    if kept is None:
        return Releases(
            list(added),
            refused=[
                f"the change releases {x}, which upstream takes before it and {where} does not take"
                for x in unpaired
            ],
        )
    return Releases(
        kept,
        notes=[f"without {x}: its caller holds it in this tree" for x in unpaired],
        warnings=[
            f"left out {', '.join(unpaired)}: upstream takes it before the change, {where} "
            "does not (its caller holds it)"
        ],
    )
