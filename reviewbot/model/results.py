"""Data that flows between the stages: check verdicts and per-source results.

Everything here is frozen and ordered deterministically so reports and snapshots are stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SCHEMA = "reviewbot/1"


class Status(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"


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

    def to_json(self) -> dict:
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
    def from_json(cls, d: dict) -> CheckResult:
        """Rebuild a check from :meth:`to_json` output (``title`` is optional)."""
        return cls(
            id=d["id"], status=Status(d["status"]), message=d["message"], site=d.get("site"),
            function=d.get("function"), path=d.get("path"), line=d.get("line"), via=d.get("via"),
            uncertain=bool(d.get("uncertain")), vma_level=bool(d.get("vma_level")),
            conditional=tuple(d.get("conditional") or ()), title=d.get("title", ""),
        )


@dataclass(frozen=True)
class VersionInfo:
    """Which kernel version a source belongs to and how we know it."""

    version: str | None  # "6.1.20", "6.3.0-rc1" or None
    origin: str  # "flag" | "makefile" | "inferred" | "unknown"
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
        return self.version.version

    @property
    def missing(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is Status.MISSING)

    def status_of(self, check_id: str) -> Status:
        """Aggregate status of a check id over its sites (missing wins, then present)."""
        states = {c.status for c in self.checks if c.id == check_id}
        for s in (Status.MISSING, Status.PRESENT, Status.NOT_APPLICABLE):
            if s in states:
                return s
        return Status.NOT_APPLICABLE

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "ref": self.ref,
            "kernel_version": self.version.version,
            "version_origin": self.version.origin,
            "rule": self.rule,
            "rule_version": self.rule_version,
            "checks": [c.to_json() for c in self.checks],
        }
