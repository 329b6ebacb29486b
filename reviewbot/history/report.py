"""A fix's report over stable branches: each branch's status plus its release timeline.

The statuses come from ``fixes.branch_status``; the timeline is a sweep (cached) of the
releases of each branch's series (``v5.10``, ``v5.10.1`` ... up to the tip), coloured by the
verdict of the checks the fix targets, so a reader sees where the guard appeared or vanished.
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
from reviewbot.model.versions import KernelVersion, version_order_key
from reviewbot.rules.spec import Rule
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
    """Release tags of the branch's series up to its tip (``v5.10``, ``v5.10.1`` ... ``v5.10.198``)."""
    if not status.tip_version:
        return []
    tip = KernelVersion.parse(status.tip_version)
    out = []
    for ref in repo.list_refs():
        if (
            ref.kind != RefKind.TAG
            or ref.type != "commit"
            or not ref.name.startswith(f"v{tip.series}")
        ):
            continue
        v = name_version(ref)
        if v is not None and v.series == tip.series and v.rc is None and v <= tip:
            out.append(ref)
    return out


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
