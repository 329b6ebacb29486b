"""Which refs a command works on: one selector for ``sweep``, ``report`` and ``backport``.

Patterns are shell globs (``v5.10.*``, ``linux-*.y``), checked against git's ref-name rules
first. A remote-tracking branch matches by its name without the remote, so ``linux-*.y``
selects ``origin/linux-5.10.y`` in a clone that only tracks stable; a local branch of the same
name wins over it. :func:`match_refs` gives what each pattern matched; :func:`select_refs`
(sweep, report) and :func:`select_branches` (backport) turn that into a selection or an error.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from reviewbot.git.repository import RefEntry, Repository
from reviewbot.model.errors import InputError, RepoError
from reviewbot.model.kinds import RefKind
from reviewbot.model.versions import KernelVersion, series_in_name, version_order_key

RefOption = Literal["--tags", "--branches"]

GLOB_CHARS = frozenset("*?[")
_REF_FORBIDDEN = re.compile(r"[\s~^:\\]|\.\.|@\{|//|^/|/$")
# Which kinds of ref each option selects.
_KINDS: dict[RefOption, tuple[RefKind, ...]] = {
    "--tags": (RefKind.TAG,),
    "--branches": (RefKind.BRANCH, RefKind.REMOTE),
}


def validate_glob(pattern: str, option: str) -> None:
    """Refuse patterns no ref name can match (git check-ref-format rules) or fnmatch cannot read."""
    if not pattern.strip():
        raise InputError(f"{option}: empty pattern", "give a glob like 'v5.10.*' or 'linux-*.y'")
    depth = 0
    for ch in pattern:
        depth += ch == "["
        depth -= ch == "]" and depth > 0
    if depth or _REF_FORBIDDEN.search(pattern):
        raise InputError(
            f"{option}: bad pattern {pattern!r}", "use shell globs like 'v5.10.*' or 'linux-*.y'"
        )
    try:
        re.compile(fnmatch.translate(pattern))
    except re.error as e:
        raise InputError(f"{option}: bad pattern {pattern!r} ({e})") from None


def short_name(ref: RefEntry) -> str:
    """The name without the remote for a remote-tracking branch (``linux-5.10.y``), else the name."""
    return ref.name.split("/", 1)[-1] if ref.kind == RefKind.REMOTE else ref.name


def matches(ref: RefEntry, pattern: str) -> bool:
    """Does ``pattern`` select ``ref``: by its name, or (remote-tracking) by its name without the remote."""
    if fnmatch.fnmatchcase(ref.name, pattern):
        return True
    return ref.kind == RefKind.REMOTE and fnmatch.fnmatchcase(short_name(ref), pattern)


def tag_version(name: str, kind: str) -> KernelVersion | None:
    """The kernel version a tag's name states (``v5.10.9``, ``v6.3-rc1``); None for branches."""
    return KernelVersion.try_parse(name) if kind == RefKind.TAG else None


def name_version(ref: RefEntry) -> KernelVersion | None:
    """The kernel version a tag's name states (``v5.10.9``, ``v6.3-rc1``); None for branches."""
    return tag_version(ref.name, ref.kind)


@dataclass(frozen=True)
class PatternHits:
    """One pattern as given, and the refs of its option's kinds it matched."""

    option: RefOption
    pattern: str
    refs: tuple[RefEntry, ...]

    @property
    def is_glob(self) -> bool:
        """A glob may match nothing; an exact name that matches nothing is an unknown ref."""
        return bool(GLOB_CHARS & set(self.pattern))


@dataclass(frozen=True)
class RefSelection:
    """What the patterns matched: per pattern, and the union (one ref per name, first match first)."""

    patterns: tuple[PatternHits, ...]
    refs: tuple[RefEntry, ...]

    @property
    def unmatched(self) -> tuple[PatternHits, ...]:
        """The patterns that matched no ref."""
        return tuple(p for p in self.patterns if not p.refs)

    def describe(self) -> str:
        """``--tags 'v5.10.*' --branches 'linux-*.y'``: the patterns, as the user gave them."""
        return " ".join(f"{p.option} {p.pattern!r}" for p in self.patterns)


def match_refs(
    repo: Repository, tags: Iterable[str] = (), branches: Iterable[str] = ()
) -> RefSelection:
    """Match tag and branch globs (exact names work too) against the repository's refs.

    Every pattern is validated before git is asked. A tag and a branch of the same name are
    both kept; a local branch wins over a remote-tracking branch of the same short name.
    """
    given: list[tuple[RefOption, str]] = [("--tags", p) for p in tags] + [
        ("--branches", p) for p in branches
    ]
    for option, pattern in given:
        validate_glob(pattern, option)
    refs = repo.list_refs()
    hits: list[PatternHits] = []
    chosen: dict[tuple[bool, str], RefEntry] = {}
    for option, pattern in given:
        found = tuple(r for r in refs if r.kind in _KINDS[option] and matches(r, pattern))
        hits.append(PatternHits(option, pattern, found))
        for r in found:
            key = (r.kind == RefKind.TAG, short_name(r))
            if key not in chosen or (
                chosen[key].kind == RefKind.REMOTE and r.kind == RefKind.BRANCH
            ):
                chosen[key] = r
    return RefSelection(tuple(hits), tuple(chosen.values()))


def _unknown(repo: Repository, hit: PatternHits) -> RepoError:
    what = "tag" if hit.option == "--tags" else "branch"
    listing = "tag" if hit.option == "--tags" else "branch -a"
    hint = (
        "the clone is shallow: fetch more history"
        if repo.shallow
        else f"list them with git {listing}"
    )
    return RepoError(f"unknown {what} {hit.pattern!r} in {repo.path}", hint)


def select_refs(
    repo: Repository,
    tags: list[str] | None = None,
    branches: list[str] | None = None,
) -> list[RefEntry]:
    """Refs whose names match the tag and branch globs (repeatable; exact names work too).

    A pattern without glob characters that names no ref is an unknown ref; a selection that
    matches nothing at all is an error too (both raise, the CLI exits 2). With neither option,
    every tag whose name is a kernel version is selected. Sorting happens after the versions
    are known (``sweep.order_rows``).
    """
    tags = list(tags or [])
    branches = list(branches or [])
    if not tags and not branches:
        chosen = [
            r for r in repo.list_refs() if r.kind == RefKind.TAG and name_version(r) is not None
        ]
        if not chosen:
            raise RepoError(
                f"no release tags (v<major>.<minor>...) in {repo.path}",
                "select refs with --tags or --branches",
            )
        return chosen
    selection = match_refs(repo, tags, branches)
    for hit in selection.unmatched:
        if not hit.is_glob:
            raise _unknown(repo, hit)
    if not selection.refs:
        raise RepoError(
            f"no ref in {repo.path} matches {selection.describe()}",
            "check the patterns with git for-each-ref",
        )
    return list(selection.refs)


def select_branches(repo: Repository, patterns: list[str]) -> list[str]:
    """Backport targets: the branches (local or remote-tracking) the globs match, oldest series first.

    Matching is :func:`match_refs`'s, so ``linux-*.y`` finds ``origin/linux-5.10.y`` in a clone
    with only remote-tracking branches. Branches are ordered by the ``X.Y`` their names state,
    then by name. An exact name that is no branch, or globs that match none, are an error.
    """
    selection = match_refs(repo, branches=patterns)
    unknown = [h.pattern for h in selection.unmatched if not h.is_glob]
    if unknown or not selection.refs:
        wanted = " or ".join(repr(p) for p in unknown or patterns)
        raise InputError(f"no branch matches {wanted}", "list them with git branch -a")
    names = [r.name for r in selection.refs]
    return sorted(names, key=lambda n: version_order_key(series_in_name(n), n))
