"""From refs to verdicts: check the rule's files at one revision, or sweep thousands of refs.

:func:`check_ref` checks one revision. ``refs.select_refs`` picks refs by glob and
:func:`sweep` checks them all, reading each distinct blob once and reusing verdicts from the
on-disk cache (cache.py); its per-blob work is exactly ``check_ref``'s (same parse and
``run_rule`` calls), only memoised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from reviewbot.checker.check import (
    applicability,
    check_first_present,
    functions_missing,
    tree_version,
)
from reviewbot.git.repository import RefEntry, Repository, Revision
from reviewbot.history.refs import name_version, tag_version
from reviewbot.model.errors import RepoError, SourceError
from reviewbot.model.kinds import RefKind
from reviewbot.model.results import CheckResult, FileResult, Status, VersionInfo, worst
from reviewbot.model.versions import (
    KernelVersion,
    VersionOrderKey,
    defines_in,
    version_from_makefile,
    version_order_key,
)
from reviewbot.rules.records import Rule
from reviewbot.rules.spec import evidence_headers
from reviewbot.store.cache import VerdictCache, VerdictKey, checks_from_json, checks_to_json


def version_at(
    repo: Repository, rev: Revision, rules: tuple[Rule, ...], override: str | None = None
) -> VersionInfo:
    """Kernel version at ``rev`` (Makefile, or ``override``) plus uapi feature evidence."""
    return tree_version(lambda path: repo.blob(rev, path), rev.name, rules, override)


def check_ref(
    repo: Repository,
    rev: Revision,
    rules: tuple[Rule, ...],
    paths: list[str] | None = None,
    version: VersionInfo | None = None,
) -> list[FileResult]:
    """Check each rule at ``rev``: its files where they live in that era (first found first).

    A rule's later paths (``mm/collapse.c``, ``mm/huge_memory.c``) are searched only when a
    function was not found in the earlier ones, so pre-4.8 trees and a future split both work.
    """
    version = version or version_at(repo, rev, rules)
    out: list[FileResult] = []
    for rule in rules:
        candidates = paths or list(rule.paths)
        blobs = {p: repo.blob(rev, p) for p in candidates}
        checked = check_first_present(blobs.get, rule, version, rev.name, candidates)
        if checked is None:
            raise RepoError(f"none of {', '.join(candidates)} exists at {rev.name}")
        out.append(checked.result)
    return out


# --- the sweep --------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRow:
    """One ref of a sweep: its kernel version and one result per rule, or why there is none."""

    ref: str
    kind: RefKind
    sha: str
    version: VersionInfo
    results: tuple[FileResult, ...] = ()
    note: str | None = None  # "none of mm/khugepaged.c, ... exists at v2.6.11"

    @property
    def kernel(self) -> KernelVersion | None:
        """The kernel version of the ref (its Makefile's), None when unknown."""
        return KernelVersion.try_parse(self.version.version) if self.version.version else None

    @property
    def source(self) -> str | None:
        """The file the first rule was checked in, None when none exists at the ref."""
        return self.results[0].source if self.results else None

    def status_of(self, check_id: str) -> Status | None:
        """Aggregate status of a check over the rules (missing wins); None when nothing was checked."""
        return worst(
            r.status_of(check_id) for r in self.results if any(c.id == check_id for c in r.checks)
        )

    @property
    def missing(self) -> bool:
        """Some rule misses a guard at this ref."""
        return any(r.missing for r in self.results)

    def uncertain(self, check_id: str) -> bool:
        """Some verdict of the check at this ref is uncertain (parse errors, incomplete analysis)."""
        return any(c.uncertain for r in self.results for c in r.checks if c.id == check_id)


Progress = Callable[[int, int], None]
# The files a rule is checked in at one ref, first found first: (path, blob id).
Present = list[tuple[str, str]]
# A blob's verdicts in one mode: the checks, the extra files they looked into, an inferred version.
Verdicts = tuple[tuple[CheckResult, ...], list[tuple[str, str]], VersionInfo | None]

# A blob's verdicts depend on the kernel version only through ``check.applicability``: each
# check either applies (perhaps with a reason appended to its message) or is "not applicable:
# <reason>". So each blob is checked at most twice, with every feature applying and with none
# applying, and each ref's verdicts are derived from those two with its own applicability.
_ALL = VersionInfo("9999.0.0", "makefile", "every feature applies")
_NONE = VersionInfo("0.0.0", "makefile", "no feature applies")


class _Engine:
    """Reads each blob once and runs ``check_source`` once per (blob, mode); memoised."""

    def __init__(
        self, repo: Repository, cache: VerdictCache, stored: dict[VerdictKey, dict[str, Any]]
    ):
        self.repo = repo
        self.cache = cache
        self.stored = stored
        self._data: dict[str, bytes] = {}
        self._memo: dict[VerdictKey, Verdicts] = {}
        self._derived: dict[
            tuple[tuple[tuple[str, str], ...], str, tuple[tuple[str, tuple[bool, str]], ...]],
            tuple[CheckResult, ...],
        ] = {}
        self.checked = 0

    def data(self, blob: str) -> bytes:
        """The blob's bytes, read once."""
        if blob not in self._data:
            self._data[blob] = self.repo.read_blob(blob)
        return self._data[blob]

    def forget(self, blob: str) -> None:
        """Drop a blob read only for a small fact (a Makefile), so memory stays flat."""
        self._data.pop(blob, None)

    def _run(
        self, rule: Rule, present: Present, version: VersionInfo, ref: str
    ) -> tuple[FileResult, list[tuple[str, str]]]:
        """Exactly ``check_ref`` for one rule: the first file, then later ones while functions are missing."""
        blobs = dict(present)
        checked = check_first_present(
            lambda p: self.data(blobs[p]), rule, version, ref, [p for p, _ in present]
        )
        assert checked is not None  # every path in ``present`` exists
        self.checked += 1
        return checked.result, [(p, blobs[p]) for p in checked.extra_paths]

    def checks(
        self,
        rule: Rule,
        present: Present,
        mode: str,
        version: VersionInfo,
        ref: str,
    ) -> tuple[tuple[CheckResult, ...], VersionInfo | None]:
        """(checks, inferred version or None) for ``mode`` ``all``/``none``/``unknown:<digest>``."""
        key: VerdictKey = (present[0][1], present[0][0], rule.cache_id, rule.version, mode)
        extras_now = present[1:]
        hit = self._memo.get(key)
        if hit is None and key in self.stored:
            value = self.stored[key]
            stored_inferred = value.get("inferred")
            hit = (
                checks_from_json(value["checks"]),
                [tuple(e) for e in value.get("extras", [])],
                VersionInfo(None, "inferred", stored_inferred["detail"], version.evidence)
                if stored_inferred
                else None,
            )
        if hit is not None:
            checks, extras, inferred = hit
            k = len(extras)
            # Valid when it used the same extra files this ref has, and would not have used more.
            if extras == extras_now[:k] and (k == len(extras_now) or not functions_missing(checks)):
                self._memo[key] = hit
                return checks, inferred
        if mode == "all":
            version = _ALL
        elif mode == "none":
            version = _NONE
        result, extras = self._run(rule, present, version, ref)
        inferred = result.version if result.version.origin == "inferred" else None
        self._memo[key] = (result.checks, extras, inferred)
        self.cache.put_verdict(
            key,
            {
                "checks": checks_to_json(result.checks),
                "extras": [list(e) for e in extras],
                "inferred": {"detail": inferred.detail} if inferred else None,
            },
        )
        return result.checks, inferred

    def result(self, rule: Rule, present: Present, version: VersionInfo, ref: str) -> FileResult:
        """The ``FileResult`` ``check_ref`` gives for this rule at a ref of ``version``."""
        path = present[0][0]
        if version.version is None:
            mode = "unknown:" + hashlib.sha1(json.dumps(version.evidence).encode()).hexdigest()[:16]
            checks, inferred = self.checks(rule, present, mode, version, ref)
            return FileResult(path, rule.id, checks, ref, inferred or version, rule.version)
        applies = {spec.id: applicability(spec.feature, version, [], None) for spec in rule.checks}
        derived_key = (tuple(present), rule.id, tuple(sorted(applies.items())))
        if derived_key in self._derived:
            return FileResult(path, rule.id, self._derived[derived_key], ref, version, rule.version)
        structural, _ = self.checks(rule, present, "all", version, ref)
        inapplicable: tuple[CheckResult, ...] = ()
        if not all(ok for ok, _ in applies.values()):
            inapplicable, _ = self.checks(rule, present, "none", version, ref)
        out: list[CheckResult] = []
        for c in structural:
            ok, reason = applies[c.id]
            if ok:
                out.append(replace(c, message=f"{c.message} ({reason})") if reason else c)
            else:
                na = next(x for x in inapplicable if x.id == c.id and x.site == c.site)
                out.append(replace(na, message=f"not applicable: {reason}"))
        self._derived[derived_key] = tuple(out)
        return FileResult(path, rule.id, tuple(out), ref, version, rule.version)


def _modes(rule: Rule, version: VersionInfo) -> list[str]:
    """The verdict contexts a ref of ``version`` needs for ``rule`` (see ``_ALL``/``_NONE``)."""
    if version.version is None:
        return ["unknown:" + hashlib.sha1(json.dumps(version.evidence).encode()).hexdigest()[:16]]
    applies = [applicability(spec.feature, version, [], None)[0] for spec in rule.checks]
    return ["all"] + ([] if all(applies) else ["none"])


def sweep(
    repo: Repository,
    refs: list[RefEntry],
    rules: tuple[Rule, ...],
    cache: VerdictCache | None = None,
    progress: Progress | None = None,
    since: str | None = None,
) -> list[SweepRow]:
    """Check every ref; each distinct blob is read and checked once, verdicts come from the cache.

    Git is asked in bulk: one ``cat-file --batch-check`` for the blob ids of every ref's files,
    then only the blobs no cached verdict covers are read. Refs without the rule's file get a
    row saying so. Rows come back in kernel version order (rc before the release); ``since``
    drops refs older than that version.
    """
    if cache is None:
        with VerdictCache(None) as scratch:
            return sweep(repo, refs, rules, scratch, progress, since)
    floor = KernelVersion.parse(since) if since else None
    if floor is not None:
        refs = [r for r in refs if (v := name_version(r)) is None or v >= floor]
    evidence = evidence_headers(rules)
    paths = ["Makefile", *sorted(evidence)] + [
        p for p in dict.fromkeys(p for r in rules for p in r.paths) if p not in evidence
    ]
    commits = sorted({r.sha for r in refs if r.type == "commit"})
    ids = repo.blob_ids([f"{c}:{p}" for c in commits for p in paths])
    # commit -> {path: blob id} of the paths that exist there
    table = {
        c: {
            p: blob
            for p, blob in zip(paths, ids[i * len(paths) : (i + 1) * len(paths)], strict=True)
            if blob
        }
        for i, c in enumerate(commits)
    }
    engine = _Engine(repo, cache, {})

    # Kernel versions (Makefile) and uapi evidence, by blob id: cached, else read once.
    makefiles = {t["Makefile"] for t in table.values() if "Makefile" in t}
    mk_versions = cache.get_info("makefile-version", makefiles)
    to_read = sorted(makefiles - set(mk_versions))
    total = len(to_read) + len(refs)  # progress: Makefiles to read, then refs to check
    for i, blob in enumerate(to_read, 1):
        kv = version_from_makefile(engine.data(blob)[:4096])
        engine.forget(blob)
        mk_versions[blob] = str(kv) if kv else None
        cache.put_info("makefile-version", blob, mk_versions[blob])
        if progress is not None and i % 64 == 0:
            progress(i, total)
    defines: dict[tuple[str, str], list[str]] = {}
    for path, names in sorted(evidence.items()):
        kind = f"defines:{path}:{','.join(sorted(names))}"
        blobs = {t[path] for t in table.values() if path in t}
        got = cache.get_info(kind, blobs)
        for blob in sorted(blobs):
            if blob not in got:
                got[blob] = sorted(defines_in(engine.data(blob), names))
                cache.put_info(kind, blob, got[blob])
            defines[(path, blob)] = list(got[blob])

    # What each ref needs; then one bulk cache lookup for all of it.
    plans: list[tuple[RefEntry, VersionInfo, list[tuple[Rule, Present]]]] = []
    for ref in refs:
        if ref.type != "commit":
            plans.append(
                (
                    ref,
                    VersionInfo(None, "unknown", f"{ref.name} names a {ref.type}, not a commit"),
                    [],
                )
            )
            continue
        t = table[ref.sha]
        ev = sorted({d for p in evidence if p in t for d in defines[(p, t[p])]})
        mk = mk_versions.get(t["Makefile"]) if "Makefile" in t else None
        if mk:
            vi = VersionInfo(mk, "makefile", f"Makefile at {ref.name}", tuple(ev))
        else:
            vi = VersionInfo(None, "unknown", f"no kernel Makefile at {ref.name}", tuple(ev))
        if (
            floor is not None
            and name_version(ref) is None
            and (vi.version is None or KernelVersion.parse(vi.version) < floor)
        ):
            continue
        plans.append(
            (ref, vi, [(rule, [(p, t[p]) for p in rule.paths if p in t]) for rule in rules])
        )
    keys = {
        (present[0][1], present[0][0], rule.cache_id, rule.version, mode)
        for _, vi, per_rule in plans
        for rule, present in per_rule
        if present
        for mode in _modes(rule, vi)
    }
    engine.stored = cache.get_verdicts(keys)

    rows: list[SweepRow] = []
    for done, (ref, vi, per_rule) in enumerate(plans, 1):
        if ref.type != "commit":
            rows.append(SweepRow(ref.name, RefKind(ref.kind), ref.sha, vi, (), vi.detail))
            continue
        results: list[FileResult] = []
        notes: list[str] = []
        for rule, present in per_rule:
            if not present:
                notes.append(f"none of {', '.join(rule.paths)} exists at {ref.name}")
                continue
            try:
                results.append(engine.result(rule, present, vi, ref.name))
            except SourceError as e:
                notes.append(e.message)
        rows.append(
            SweepRow(
                ref.name, RefKind(ref.kind), ref.sha, vi, tuple(results), "; ".join(notes) or None
            )
        )
        if progress is not None:
            progress(len(to_read) + done, len(to_read) + len(plans))
    cache.flush()
    return order_rows(rows)


def _order_key(row: SweepRow) -> VersionOrderKey:
    # A tag's name states its version; a branch (or an odd tag) has its Makefile's.
    kv = tag_version(row.ref, row.kind) or row.kernel
    return version_order_key(kv, row.kind != RefKind.TAG, row.ref)


def order_rows(rows: list[SweepRow]) -> list[SweepRow]:
    """Kernel version order (v5.10.9 < v5.10.10, rc before the release), tags before branches."""
    return sorted(rows, key=_order_key)
