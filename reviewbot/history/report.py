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
from reviewbot.history.sweep import SweepRow, name_version, select_refs, sweep
from reviewbot.history.upstream import UpstreamFix
from reviewbot.model.errors import RepoError
from reviewbot.model.results import Status
from reviewbot.model.versions import KernelVersion
from reviewbot.rules.spec import Rule
from reviewbot.store.cache import VerdictCache


@dataclass(frozen=True)
class Release:
    """One release on a branch's timeline and the fix's checks there."""

    ref: str
    version: str | None
    state: str  # present | missing | not-applicable | no-file
    detail: str


@dataclass(frozen=True)
class Report:
    fix: UpstreamFix
    targets: tuple[str, ...]
    branches: tuple[BranchStatus, ...]
    timelines: tuple[tuple[str, tuple[Release, ...]], ...]
    repo: str

    def timeline(self, branch: str) -> tuple[Release, ...]:
        return next((t for b, t in self.timelines if b == branch), ())

    @property
    def actionable(self) -> tuple[BranchStatus, ...]:
        """Branches that need a maintainer: needs-backport and regressed."""
        return tuple(b for b in self.branches if b.status in ("needs-backport", "regressed"))


def release_state(row: SweepRow, targets: tuple[str, ...]) -> tuple[str, str]:
    """The colour of one release: the fix's checks there (all checks when it targets none)."""
    if not row.results:
        return "no-file", row.note or "file absent"
    checks = [c for r in row.results for c in r.checks if not targets or c.key in targets or c.id in targets]
    states = {c.status for c in checks}
    detail = "; ".join(f"{c.key} {c.status}" + (f" ({c.function}:{c.line})" if c.line else "") for c in checks)
    for s in (Status.MISSING, Status.PRESENT, Status.NOT_APPLICABLE):
        if s in states:
            return str(s), detail
    return "not-applicable", detail


def branch_releases(repo: Repository, status: BranchStatus) -> list:
    """Release tags of the branch's series up to its tip (``v5.10``, ``v5.10.1`` ... ``v5.10.198``)."""
    if not status.tip_version:
        return []
    tip = KernelVersion.parse(status.tip_version)
    out = []
    for ref in repo.list_refs():
        if ref.kind != "tag" or ref.type != "commit" or not ref.name.startswith(f"v{tip.series}"):
            continue
        v = name_version(ref)
        if v is not None and v.series == tip.series and v.rc is None and v <= tip:
            out.append(ref)
    return out


def build_report(
    repo: Repository, fix: UpstreamFix, branches: list[str] | None, rules: tuple[Rule, ...],
    cache: VerdictCache | None = None, progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Status of ``fix`` in every selected branch (globs; default ``linux-*.y``), with timelines."""
    refs = select_refs(repo, None, branches or ["linux-*.y"])
    if repo.shallow:
        raise RepoError(f"{repo.path} is a shallow clone: ancestry and branch history would be incomplete",
                        "run git fetch --unshallow first")
    targets = fix_targets(repo, fix, rules)
    statuses = []
    for i, ref in enumerate(sorted(refs, key=lambda r: r.name), 1):
        statuses.append(branch_status(repo, fix, ref.name, rules, cache=cache, targets=targets))
        if progress is not None:
            progress(i, len(refs) * 2)
    statuses.sort(key=lambda s: (KernelVersion.try_parse(s.tip_version or "") is None,
                                 KernelVersion.try_parse(s.tip_version or "") or KernelVersion(0, 0), s.branch))
    # One sweep (one batch of git and cache reads) for every branch's releases.
    # A tip with commits after its last release (a queue, an unreleased backport) gets a cell too.
    wanted = {st.branch: sorted(branch_releases(repo, st), key=name_version) for st in statuses}
    tips = {st.branch: RefEntry(st.branch, st.branch, "branch", st.tip_sha, "commit") for st in statuses
            if st.tip_sha and (not wanted[st.branch] or wanted[st.branch][-1].sha != st.tip_sha)}
    unique = {r.full: r for refs_ in wanted.values() for r in refs_} | {f"tip:{b}": r for b, r in tips.items()}
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
