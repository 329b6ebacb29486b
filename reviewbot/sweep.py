"""From refs to verdicts: check the rule's files at a revision of a kernel repository."""

from __future__ import annotations

from .check import check_source
from .errors import RepoError
from .model import FileResult, VersionInfo
from .rules import Rule
from .source import Repository, Revision
from .syntax import parse
from .versions import KernelVersion, defines_in


def version_at(repo: Repository, rev: Revision, rules: tuple[Rule, ...], override: str | None = None) -> VersionInfo:
    """Kernel version at ``rev`` (Makefile, or ``override``) plus uapi feature evidence."""
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        for feature in rule.features:
            for path, define in feature.evidence:
                wanted.setdefault(path, set()).add(define)
    evidence: set[str] = set()
    for path, names in sorted(wanted.items()):
        evidence |= defines_in(repo.blob(rev, path), names)
    if override:
        return VersionInfo(str(KernelVersion.parse(override)), "flag", "--kernel-version", tuple(sorted(evidence)))
    kv = repo.version(rev)
    if kv is None:
        return VersionInfo(None, "unknown", f"no kernel Makefile at {rev.name}", tuple(sorted(evidence)))
    return VersionInfo(str(kv), "makefile", f"Makefile at {rev.name}", tuple(sorted(evidence)))


def check_ref(
    repo: Repository, rev: Revision, rules: tuple[Rule, ...], paths: list[str] | None = None,
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
        present = [(p, data) for p in candidates if (data := repo.blob(rev, p)) is not None]
        if not present:
            raise RepoError(f"none of {', '.join(candidates)} exists at {rev.name}")
        path, data = present[0]
        (result,) = check_source(data, path, (rule,), version, ref=rev.name)
        extra = []
        for other_path, other in present[1:]:
            if not any(c.function is None and c.status.value != "not-applicable" for c in result.checks):
                break
            extra.append(parse(other, other_path))
            (result,) = check_source(data, path, (rule,), version, ref=rev.name, extra_units=extra)
        out.append(result)
    return out
