"""Releases a backport adds without the acquire they pair with (``queries/lock-pairs.toml``).

Upstream's hunk may take a lock in its context and release it in the lines it adds (an early
return: ``mmap_read_unlock(mm); return 0;``). An older tree may run the same code under its
caller's lock, so the function never takes it: the release would drop what the function does
not hold. :func:`unpaired_releases` names such releases; relocation refuses them.
"""

from __future__ import annotations

import tomllib
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
