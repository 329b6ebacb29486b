"""Data that flows between the stages: check verdicts and per-source results.

Everything here is frozen and ordered deterministically so reports and snapshots are stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

SCHEMA = "reviewbot/1"


class Status(StrEnum):
    """A check's verdict at one site (the ``status`` string of the JSON output)."""

    PRESENT = "present"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"


# Worst first: one missing guard decides a group of checks, then one present guard.
_SEVERITY = (Status.MISSING, Status.PRESENT, Status.NOT_APPLICABLE)


def worst(statuses: Iterable[Status]) -> Status | None:
    """The status that wins for a group of checks: missing, else present, else not applicable.

    None when there is nothing to judge; each caller says what an empty group means for it.
    """
    seen = set(statuses)
    return next((s for s in _SEVERITY if s in seen), None)


# Where a kernel version came from: --kernel-version, the tree's Makefile, the functions
# the source defines, or nowhere.
VersionOrigin = Literal["flag", "makefile", "inferred", "unknown"]


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check (``scan``, ``isolate``, ``file``) at one site.

    ``line`` is the guard's line when present, the nearest near-miss when missing (or None).
    ``via`` names the helper the guard was found through. ``conditional`` names the
    ``CONFIG_`` symbol(s) the guard depends on. ``uncertain`` is set when parse errors overlap
    the examined function or the analysis could not complete.
    """

    id: str
    status: Status
    message: str
    site: str | None = None
    function: str | None = None
    path: str | None = None
    line: int | None = None
    via: str | None = None
    uncertain: bool = False
    vma_level: bool = False
    conditional: tuple[str, ...] = ()
    title: str = ""

    @property
    def key(self) -> str:
        """``isolate`` or ``file/retract``: the id used in rule metadata and summaries."""
        return self.id if self.site is None else f"{self.id}/{self.site}"

    def to_json(self) -> dict[str, Any]:
        """The JSON object of one check (schema ``reviewbot/1``)."""
        return {
            "id": self.id,
            "site": self.site,
            "status": str(self.status),
            "function": self.function,
            "path": self.path,
            "line": self.line,
            "via": self.via,
            "uncertain": self.uncertain,
            "vma_level": self.vma_level,
            "conditional": list(self.conditional),
            "message": self.message,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CheckResult:
        """Rebuild a check from :meth:`to_json` output (``title`` is optional)."""
        return cls(
            id=d["id"],
            status=Status(d["status"]),
            message=d["message"],
            site=d.get("site"),
            function=d.get("function"),
            path=d.get("path"),
            line=d.get("line"),
            via=d.get("via"),
            uncertain=bool(d.get("uncertain")),
            vma_level=bool(d.get("vma_level")),
            conditional=tuple(d.get("conditional") or ()),
            title=d.get("title", ""),
        )


@dataclass(frozen=True)
class VersionInfo:
    """Which kernel version a source belongs to and how we know it."""

    version: str | None  # "6.1.20", "6.3.0-rc1" or None
    origin: VersionOrigin
    detail: str = ""  # e.g. "Makefile at v6.1.20", "inferred >= 6.1 from hpage_collapse_scan_pmd"
    evidence: tuple[str, ...] = ()  # uapi feature defines seen (vendor backports)


@dataclass(frozen=True)
class FileResult:
    """All check verdicts of one rule on one source (a file, or a blob at a ref)."""

    source: str
    rule: str
    checks: tuple[CheckResult, ...]
    ref: str | None = None
    version: VersionInfo = field(default_factory=lambda: VersionInfo(None, "unknown"))
    rule_version: int = 1

    @property
    def kernel_version(self) -> str | None:
        """The kernel version string (``6.1.20``), None when unknown."""
        return self.version.version

    @property
    def missing(self) -> tuple[CheckResult, ...]:
        """The checks whose guard is missing."""
        return tuple(c for c in self.checks if c.status is Status.MISSING)

    def status_of(self, check_id: str) -> Status:
        """Aggregate status of a check id over its sites (missing wins, then present)."""
        return worst(c.status for c in self.checks if c.id == check_id) or Status.NOT_APPLICABLE

    def to_json(self) -> dict[str, Any]:
        """The JSON object of one result (schema ``reviewbot/1``)."""
        return {
            "source": self.source,
            "ref": self.ref,
            "kernel_version": self.version.version,
            "version_origin": self.version.origin,
            "rule": self.rule,
            "rule_version": self.rule_version,
            "checks": [c.to_json() for c in self.checks],
        }
