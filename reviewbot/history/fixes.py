"""Is this fix in that stable branch? Every signal stable uses, cross-checked, never hidden.

A fix (a commit in the repository, or a format-patch/mbox file) is recognised in a branch
(DOMAIN.md §6) when:

- its commit is an **ancestor** of the branch tip;
- a commit on the branch names it: ``commit <sha> upstream.`` (**greg**), ``[ Upstream commit
  <sha> ]`` (**sasha``), ``(cherry picked from commit <sha>)`` (**cherry-pick**) — one
  ``git log`` per branch, from the merge base;
- a commit on the branch has the same ``git patch-id --stable`` (**patch-id**; one ``git log -p``
  of the files the fix touches, piped into one ``git patch-id``);
- a commit on the branch has the same subject (**subject**; weak, and said so).

The **structural** verdict of the checker at the tip (the checks of the functions the fix
touches) is the cross-check: a recorded fix whose guard is missing is ``regressed``. Whether the
branch is affected at all comes from the ``Fixes:`` commits (ancestor, or backported), else from
the rule's applicability at the tip (anon checks from 5.7). Every disagreement between the
signals is listed in :attr:`BranchStatus.disagreements`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from reviewbot.ctree.syntax import parse
from reviewbot.diffs.patches import upstream_refs
from reviewbot.git.repository import LogEntry, RefEntry, Repository
from reviewbot.history.sweep import SweepRow, sweep
from reviewbot.history.upstream import UpstreamFix
from reviewbot.model.errors import RepoError
from reviewbot.model.kinds import FixStatus
from reviewbot.model.results import CheckResult, Status, worst
from reviewbot.model.versions import KernelVersion, version_order_key
from reviewbot.rules.records import Rule
from reviewbot.store.cache import VerdictCache

#: How a branch can record a fix, strongest first.
Recording = Literal["ancestor", "greg", "sasha", "cherry-pick", "patch-id", "subject"]
RECORDING: tuple[Recording, ...] = get_args(Recording)
#: Every kind of evidence a branch status cites.
EvidenceKind = Literal[Recording, "structural", "introduced", "applicability", "revert"]
_REVERT = re.compile(r"This reverts commit ([0-9a-f]{40})")


@dataclass(frozen=True)
class Evidence:
    """One signal: how it was recognised, the commit that carries it, the release it is in."""

    kind: EvidenceKind
    sha: str | None
    ref: str | None
    detail: str

    @property
    def short(self) -> str:
        """The carrying commit's 12-character abbreviation ("" when none)."""
        return (self.sha or "")[:12]


@dataclass(frozen=True)
class BranchStatus:
    """Where the fix stands in one branch."""

    branch: str
    tip: str  # the tip as ``git describe`` names it (v6.1.176-21-g75dababcb), or the branch name
    tip_version: str | None
    status: FixStatus
    fixed_by: str | None  # the commit on the branch that carries the fix
    fixed_in: str | None  # the release that brought it
    evidence: tuple[Evidence, ...]
    cve_range: str | None  # "5.7:e1e267c7928f:5.10.179:<sha12>"
    disagreements: tuple[str, ...]
    tip_sha: str = ""
    #: (remote, branch on it) for a remote-tracking branch; None for a local branch or a tag
    upstream: tuple[str, str] | None = None


def fix_targets(repo: Repository, fix: UpstreamFix, rules: tuple[Rule, ...]) -> tuple[str, ...]:
    """The checks (``isolate``, ``file/retract``...) whose functions the fix's hunks touch.

    With the commit in the repository, the changed lines are located in the parsed post-image;
    for a mail alone, the hunk headers' function context is matched against the rule's names.
    """
    touched: set[str] = set()
    for fp in fix.mail.files:
        if not any(fp.path in r.paths for r in rules):
            continue
        data = None
        if fix.in_repo and fix.sha and fp.target:
            data = repo.blob(repo.resolve(fix.sha), fp.target)
        if data is not None:
            unit = parse(data, fp.path)
            lines = set()
            for h in fp.hunks:
                n = h.target_start
                for kind, _ in h.lines:
                    if kind in "+-":
                        lines.add(n)
                    if kind in " +":
                        n += 1
            for name, defs in unit.functions.items():
                if any(f.start_line <= ln <= f.end_line for f in defs for ln in lines):
                    touched.add(name)
        for h in fp.hunks:
            touched.update(
                name for r in rules for name in r.all_functions if f"{name}(" in h.section
            )
    keys = []
    for rule in rules:
        for spec in rule.checks:
            for site in spec.sites:
                if touched & set(site.functions):
                    keys.append(spec.id if site.id is None else f"{spec.id}/{site.id}")
    return tuple(dict.fromkeys(keys))


# --- one branch -------------------------------------------------------------------------


def _release_of(log: list[LogEntry], sha: str) -> str | None:
    """The first release tag at or after ``sha`` on the branch (log is newest first)."""
    idx = next((i for i, e in enumerate(log) if e.sha == sha), None)
    if idx is None:
        return None
    for e in reversed(log[: idx + 1]):
        if e.tags:
            return min(e.tags, key=version_order_key)
    return None


def _bare(tag: str | None) -> str:
    return tag[1:] if tag and tag.startswith("v") and tag[1:2].isdigit() else (tag or "0")


_PAST_RELEASE = re.compile(r"^v(\d+\.\d+(?:\.\d+)?)-\d+-g[0-9a-f]+$")


def _next_release(described: str) -> str:
    """The release a fix carried past the branch's last tag ships in: ``v6.1.176-21-g..`` -> 6.1.177.

    Stable numbers the next release of a series by its sublevel; a describe that is no release
    plus commits (an rc, a tagless branch) is given as it is, never as a bare ``0``.
    """
    m = _PAST_RELEASE.match(described)
    kv = KernelVersion.try_parse(m.group(1)) if m else None
    if kv is None:
        return described
    return str(KernelVersion(kv.major, kv.minor, kv.patch + 1))


def _tip_row(repo: Repository, ref: str, sha: str, rules, cache: VerdictCache | None) -> SweepRow:
    return sweep(repo, [RefEntry(ref, ref, "branch", sha, "commit")], rules, cache)[0]


def _structural(row: SweepRow, targets: tuple[str, ...]) -> tuple[str, list[CheckResult]]:
    """``present`` / ``missing`` / ``not-applicable`` / ``unknown`` for the fix's checks at the tip."""
    checks = [c for r in row.results for c in r.checks if c.key in targets or c.id in targets]
    if not row.results or not checks:
        return "unknown", checks
    return str(worst(c.status for c in checks)), checks


def branch_status(
    repo: Repository,
    fix: UpstreamFix,
    ref: str,
    rules: tuple[Rule, ...],
    *,
    cache: VerdictCache | None = None,
    targets: tuple[str, ...] | None = None,
) -> BranchStatus:
    """Decide ``not-affected`` / ``fixed`` / ``needs-backport`` / ``regressed`` for ``ref``."""
    if repo.shallow:
        raise RepoError(
            f"{repo.path} is a shallow clone: ancestry and branch history would be incomplete",
            "run git fetch --unshallow first",
        )
    tip = repo.resolve(ref)
    tip_sha = tip.sha
    tip_tag = repo.describe(tip_sha) or ref  # a commit past a release is not that release
    targets = fix_targets(repo, fix, rules) if targets is None else targets
    row = _tip_row(repo, tip_tag if tip_tag != ref else ref, tip_sha, rules, cache)
    tip_version = row.version.version
    evidence: list[Evidence] = []
    disagree: list[str] = []

    # Affected? The Fixes: commits, when the repository has them.
    intro = [(abbrev, subj, repo.commit_exists(abbrev)) for abbrev, subj in fix.fixes]
    known = [(a, s, full) for a, s, full in intro if full]
    fix_full = fix.sha if fix.sha and len(fix.sha) == 40 else None
    base = None
    if fix.in_repo and fix_full:
        base = repo.merge_base(fix_full, tip_sha)
    elif known:
        base = repo.merge_base(known[0][2], tip_sha)
    elif tip_version:
        kv = KernelVersion.parse(tip_version)
        base = repo.commit_exists(f"v{kv.series}")
    rng = f"{base}..{tip_sha}" if base and base != tip_sha else tip_sha
    log = repo.log(rng) if base != tip_sha else []

    affected: bool | None = None
    if known:
        affected = False
        for abbrev, _, full in known:
            if repo.is_ancestor(full, tip_sha):
                affected = True
                evidence.append(
                    Evidence(
                        "introduced",
                        full,
                        repo.contained_in(full),
                        f"Fixes: {abbrev} is an ancestor of {ref}",
                    )
                )
                continue
            names = [e for e in log if any(s == full for _, s in upstream_refs(e.message))]
            if names:
                affected = True
                evidence.append(
                    Evidence(
                        "introduced",
                        names[-1].sha,
                        _release_of(log, names[-1].sha),
                        f"Fixes: {abbrev} was backported to {ref} as {names[-1].sha[:12]}",
                    )
                )
            else:
                evidence.append(
                    Evidence(
                        "introduced",
                        full,
                        repo.contained_in(full),
                        f"Fixes: {abbrev} is not in {ref}: the branch predates the bug",
                    )
                )

    structural, checks = _structural(row, targets)
    if affected is None:
        if structural in ("not-applicable",):
            affected = False
            why = "; ".join(c.message for c in checks[:1])
            evidence.append(
                Evidence(
                    "applicability",
                    tip_sha,
                    tip_tag,
                    f"the Fixes: commit is not in this repository; {why}",
                )
            )
        else:
            affected = True
            what = (
                "the Fixes: commit is not in this repository"
                if fix.fixes
                else "the fix has no Fixes: tag"
            )
            evidence.append(
                Evidence(
                    "applicability",
                    tip_sha,
                    tip_tag,
                    f"{what}; the checks it targets apply at {tip_tag} ({tip_version or 'version unknown'})",
                )
            )

    # Recorded? Ancestor, message markers, patch-id, subject.
    recorded: list[Evidence] = []
    if fix.in_repo and fix_full and repo.is_ancestor(fix_full, tip_sha):
        recorded.append(
            Evidence(
                "ancestor",
                fix_full,
                repo.contained_in(fix_full),
                f"{fix.short} is an ancestor of {ref}",
            )
        )
    if fix_full:
        for e in log:
            for form, sha in upstream_refs(e.message):
                if sha == fix_full:
                    line = next((ln.strip() for ln in e.message.splitlines() if sha in ln), "")
                    recorded.append(
                        Evidence(
                            form, e.sha, _release_of(log, e.sha), f'{e.sha[:12]} says "{line}"'
                        )
                    )
    if fix.patch_id and log:
        # every path the fix's diff names (a rename's source too): each enters its patch-id
        named = tuple(sorted({p for f in fix.mail.files for p in (f.source, f.target) if p}))
        for pid, sha in repo.patch_ids(rng, named or fix.paths).items():
            if pid == fix.patch_id and sha != fix_full:
                recorded.append(
                    Evidence(
                        "patch-id",
                        sha,
                        _release_of(log, sha),
                        f"{sha[:12]} has the same patch-id ({pid[:12]})",
                    )
                )
    strong_shas = {ev.sha for ev in recorded}
    for e in log:
        if (
            fix.subject
            and e.subject == fix.subject
            and e.sha != fix_full
            and e.sha not in strong_shas
        ):
            recorded.append(
                Evidence(
                    "subject", e.sha, _release_of(log, e.sha), f"{e.sha[:12]} has the same subject"
                )
            )
    reverted = {m.group(1) for e in log for m in _REVERT.finditer(e.message)}
    carriers = {ev.sha for ev in recorded}
    for e in log:
        for m in _REVERT.finditer(e.message):
            if m.group(1) in carriers:
                evidence.append(
                    Evidence(
                        "revert",
                        e.sha,
                        _release_of(log, e.sha),
                        f"{e.sha[:12]} reverts {m.group(1)[:12]}",
                    )
                )
    strong = [ev for ev in recorded if ev.kind != "subject"]
    if recorded and not strong:
        disagree.append(
            f"only the subject matches ({recorded[0].short}); no ancestry, upstream marker or patch-id confirms it"
        )
    evidence.extend(recorded)

    for c in checks:
        where = f"{c.path}:{c.line}" if c.path and c.line else (c.path or "?")
        evidence.append(
            Evidence(
                "structural",
                tip_sha,
                tip_tag,
                f"{c.key} {c.status}{'?' if c.uncertain else ''} at {tip_tag}: {where} {c.message}",
            )
        )
    if structural == "unknown":
        why = row.note or "the fix touches no function the rules check"
        evidence.append(Evidence("structural", tip_sha, tip_tag, f"no structural verdict: {why}"))
    if any(c.uncertain for c in checks):
        disagree.append("the structural verdict is uncertain (parse errors overlap the function)")

    # The carrier: the ancestor itself, else the oldest commit on the branch that records it.
    live = [ev for ev in recorded if ev.sha not in reverted]
    order = {e.sha: i for i, e in enumerate(log)}
    carrier = next((ev for ev in live if ev.kind == "ancestor"), None)
    if carrier is None and live:
        carrier = max(live, key=lambda ev: (order.get(ev.sha or "", -1), -RECORDING.index(ev.kind)))
    if recorded and not live:
        disagree.append("every commit that recorded the fix was reverted later")

    fixed_by = fixed_in = None
    if not affected:
        status = FixStatus.NOT_AFFECTED
        if live:
            disagree.append(
                f"the fix is recorded ({live[0].kind}: {live[0].short}) although the branch predates the bug"
            )
        if structural == "missing":
            disagree.append(
                f"the checker finds {', '.join(c.key for c in checks if c.status is Status.MISSING)} missing at {tip_tag} although the Fixes: commit is not in {ref}"
            )
    elif carrier is not None and structural == "missing":
        status = FixStatus.REGRESSED
        fixed_by, fixed_in = carrier.sha, carrier.ref
        disagree.append(
            f"the fix is recorded ({carrier.kind}: {carrier.short}) but the guard is missing at {tip_tag}"
        )
    elif carrier is not None:
        status = FixStatus.FIXED
        fixed_by, fixed_in = carrier.sha, carrier.ref
        if structural == "not-applicable":
            disagree.append(
                f"the fix is recorded but the checker says its checks do not apply at {tip_tag}"
            )
    elif structural == "present":
        status = FixStatus.FIXED
        disagree.append(
            f"the guard is present at {tip_tag} but no commit records the fix (no ancestor, upstream marker, patch-id or subject)"
        )
    else:
        status = FixStatus.NEEDS_BACKPORT
        if structural == "not-applicable":
            disagree.append(
                f"the Fixes: commit is in {ref} but the checker says the checks do not apply at {tip_tag}"
            )

    cve = None
    if status is not FixStatus.NOT_AFFECTED:
        if known:
            intro_v = _bare(repo.contained_in(known[0][2]))
            intro_sha = known[0][2][:12]
        else:
            intro_v = _feature_since(rules, targets)
            intro_sha = fix.fixes[0][0][:12] if fix.fixes else "0"
        fixed = (
            f"{_bare(fixed_in) if fixed_in else _next_release(tip_tag)}:{fixed_by[:12]}"
            if fixed_by and status is FixStatus.FIXED
            else "0:0"
        )
        cve = f"{intro_v}:{intro_sha}:{fixed}"
    return BranchStatus(
        ref,
        tip_tag,
        tip_version,
        status,
        fixed_by,
        fixed_in,
        tuple(evidence),
        cve,
        tuple(disagree),
        tip_sha,
        repo.remote_of(ref),
    )


def _feature_since(rules: tuple[Rule, ...], targets: tuple[str, ...]) -> str:
    sinces = [
        spec.feature.since
        for r in rules
        for spec in r.checks
        if spec.feature
        and spec.feature.since
        and any(t == spec.id or t.startswith(spec.id + "/") for t in targets)
    ]
    return min(sinces).series if sinces else "0"
