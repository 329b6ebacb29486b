"""A fix's report over stable branches: each branch's status plus its release timeline.

The statuses come from ``fixes.branch_status``; the timeline is a sweep (cached) of the
release tags of each branch's series in its history (``v5.10``, ``v5.10.1`` ... and the tip
as ``git describe`` names it when it is past its last tag), coloured by the verdict of the checks
the fix targets, so a reader sees where the guard appeared or vanished. Each cell is the sweep's
verdict of that ref, so report and sweep never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reviewbot.git.repository import RefEntry, Repository
from reviewbot.history.fixes import BranchStatus, branch_status, fix_targets
from reviewbot.history.refs import match_refs, name_version, select_refs
from reviewbot.history.sweep import SweepRow, sweep
from reviewbot.history.upstream import UpstreamFix
from reviewbot.model.errors import RepoError
from reviewbot.model.kinds import CellState, FixStatus, RefKind
from reviewbot.model.results import worst
from reviewbot.model.versions import KernelVersion, series_in_name, version_order_key
from reviewbot.rules.records import Rule
from reviewbot.store.cache import VerdictCache

#: The branches a report covers when none are chosen: the stable series' naming.
DEFAULT_BRANCHES = "linux-*.y"


@dataclass(frozen=True)
class Release:
    """One release on a branch's timeline and the fix's checks there."""

    ref: str
    version: str | None
    state: CellState
    detail: str


@dataclass(frozen=True)
class Report:
    """A fix's status in every selected branch, and each branch's release timeline."""

    fix: UpstreamFix
    targets: tuple[str, ...]
    branches: tuple[BranchStatus, ...]
    timelines: tuple[tuple[str, tuple[Release, ...]], ...]
    repo: str

    def timeline(self, branch: str) -> tuple[Release, ...]:
        """The releases of ``branch`` (empty for a branch not in the report)."""
        return next((t for b, t in self.timelines if b == branch), ())

    @property
    def actionable(self) -> tuple[BranchStatus, ...]:
        """Branches that need a maintainer: needs-backport and regressed."""
        return tuple(b for b in self.branches if FixStatus(b.status).actionable)


def release_state(row: SweepRow, targets: tuple[str, ...]) -> tuple[CellState, str]:
    """The colour of one release: the fix's checks there (all checks when it targets none)."""
    if not row.results:
        return CellState.NO_FILE, row.note or "file absent"
    checks = [
        c
        for r in row.results
        for c in r.checks
        if not targets or c.key in targets or c.id in targets
    ]
    detail = "; ".join(
        f"{c.key} {c.status}" + (f" ({c.function}:{c.line})" if c.line else "") for c in checks
    )
    status = worst(c.status for c in checks)
    return (CellState.NOT_APPLICABLE if status is None else CellState.of(status)), detail


def branch_releases(repo: Repository, status: BranchStatus) -> list[RefEntry]:
    """The release tags in the branch's history of its series (``v5.10-rc1`` ... ``v5.10.198``).

    A tag belongs to a branch's timeline when its name states a version of the branch's series
    (``v6.1.5``, ``6.1.5``, ``v6.1.5-rc1``, ``v6.1-rc3``: every name a sweep takes for a
    release) and its commit is in the branch's history (any parent, as ``git describe`` sees
    it). Annotated and nested tags count by the commit they end at. A tag of the series that
    the branch does not contain (another fork's release, one past the tip) is not on it.
    The series is the tip's version (its Makefile), else the one the branch's name states.
    """
    named = series_in_name(status.branch)
    series = (
        KernelVersion.parse(status.tip_version).series
        if status.tip_version
        else (named.series if named else None)
    )
    if series is None or not status.tip_sha:
        return []
    candidates = [
        ref
        for ref in repo.list_refs()
        if ref.kind == RefKind.TAG
        and ref.type == "commit"
        and (v := name_version(ref)) is not None
        and v.series == series
    ]
    merged = repo.tags_merged(status.tip_sha, [r.full for r in candidates])
    return [r for r in candidates if r.full in merged]


def build_report(
    repo: Repository,
    fix: UpstreamFix,
    branches: list[str] | None,
    rules: tuple[Rule, ...],
    cache: VerdictCache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Status of ``fix`` in every selected branch (globs; default ``linux-*.y``), with timelines."""
    if not branches and not match_refs(repo, branches=[DEFAULT_BRANCHES]).refs:
        raise RepoError(
            f"no stable branches in {repo.path}: none matches {DEFAULT_BRANCHES!r}, the default",
            "choose branches with --branches GLOB (repeatable), e.g. --branches 'linux-6.1.y' or --branches 'stable/*'",
        )
    refs = select_refs(repo, None, branches or [DEFAULT_BRANCHES])
    if repo.shallow:
        raise RepoError(
            f"{repo.path} is a shallow clone: ancestry and branch history would be incomplete",
            "run git fetch --unshallow first",
        )
    targets = fix_targets(repo, fix, rules)
    statuses = []
    for i, ref in enumerate(sorted(refs, key=lambda r: r.name), 1):
        statuses.append(branch_status(repo, fix, ref.name, rules, cache=cache, targets=targets))
        if progress is not None:
            progress(i, len(refs) * 2)
    statuses.sort(key=lambda s: version_order_key(s.tip_version, s.branch))
    # One sweep (one batch of git and cache reads) for every branch's releases.
    # A tip with commits after its last release (a queue, an unreleased backport) gets a cell too.
    wanted = {
        st.branch: sorted(branch_releases(repo, st), key=lambda r: version_order_key(r.name))
        for st in statuses
    }
    tips = {
        st.branch: RefEntry(st.branch, st.branch, RefKind.BRANCH, st.tip_sha, "commit")
        for st in statuses
        if st.tip_sha and (not wanted[st.branch] or wanted[st.branch][-1].sha != st.tip_sha)
    }
    unique = {r.full: r for refs_ in wanted.values() for r in refs_} | {
        f"tip:{b}": r for b, r in tips.items()
    }
    rows = {row.ref: row for row in sweep(repo, list(unique.values()), rules, cache)}
    timelines = []
    for st in statuses:
        releases = []
        for ref in wanted[st.branch] + ([tips[st.branch]] if st.branch in tips else []):
            state, detail = release_state(rows[ref.name], targets)
            releases.append(Release(ref.name, rows[ref.name].version.version, state, detail))
        timelines.append((st.branch, tuple(releases)))
    if progress is not None:
        progress(len(refs) * 2, len(refs) * 2)
    return Report(fix, targets, tuple(statuses), tuple(timelines), str(repo.path))
