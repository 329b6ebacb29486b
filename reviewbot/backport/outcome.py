"""What a backport run answers: per target a status, the patch or why there is none.

:class:`BackportRun` holds the upstream fix and one :class:`TargetResult` per target, and
renders itself as the text report and the JSON document (``SCHEMA``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypedDict

from reviewbot import __version__
from reviewbot.backport.places import Failure
from reviewbot.backport.relocate import Method
from reviewbot.backport.verdicts import Validation
from reviewbot.history.upstream import UpstreamFix
from reviewbot.model.results import SCHEMA


class TargetStatus(StrEnum):
    """What happened for one target: a patch, or why there is none."""

    GENERATED = "generated"
    ALREADY_FIXED = "already-fixed"
    NOT_AFFECTED = "not-affected"
    FAILED = "failed"


@dataclass(frozen=True)
class Dependency:
    """A commit that may be needed first (it changed text the target lacks)."""

    sha: str
    subject: str

    def __str__(self) -> str:
        return f'{self.sha[:12]} ("{self.subject}")'


@dataclass(frozen=True)
class TargetResult:
    """What happened for one target ref."""

    ref: str
    sha: str
    kernel_version: str | None
    status: TargetStatus
    method: Method | None = None
    patch: str | None = None
    deviations: tuple[str, ...] = ()
    learned: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    reason: str | None = None
    failures: tuple[Failure, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    validation: Validation | None = None
    warnings: tuple[str, ...] = ()
    text: str | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {
            "ref": self.ref,
            "sha": self.sha,
            "kernel_version": self.kernel_version,
            "status": self.status,
            "method": self.method,
            "patch": self.patch,
            "deviations": list(self.deviations),
            "learned_rewrites": list(self.learned),
            "evidence": list(self.evidence),
            "reason": self.reason,
            "failures": [f.to_json() for f in self.failures],
            "possible_dependencies": [
                {"sha": d.sha, "subject": d.subject} for d in self.dependencies
            ],
            "warnings": list(self.warnings),
            "validation": self.validation.to_json() if self.validation else None,
        }


class TargetId(TypedDict):
    """The fields every :class:`TargetResult` of one target shares."""

    ref: str
    sha: str
    kernel_version: str | None


@dataclass(frozen=True)
class BackportRun:
    """The upstream fix and one result per target."""

    upstream: UpstreamFix
    targets: tuple[TargetResult, ...]

    @property
    def failed(self) -> bool:
        return any(t.status == TargetStatus.FAILED for t in self.targets)

    def lines(self) -> list[str]:
        """The text report: one line per target, then its deviations, reasons or evidence."""
        out = [f"upstream: {self.upstream.label}"]
        width = max((len(t.ref) for t in self.targets), default=0)
        pad = " " * (width + 2)
        for t in self.targets:
            lead = f"{t.ref.ljust(width)}  {t.status:<13}"
            if t.status == TargetStatus.GENERATED:
                out.append(f"{lead}  {t.method:<11}  {t.patch or '(not written: no --output-dir)'}")
                out += [f"{pad}{d}" for d in t.deviations]
            elif t.status == TargetStatus.FAILED:
                out.append(f"{lead}  {t.reason}")
                out += [f"{pad}{f.reason}" for f in t.failures[1:]]
                out += [f"{pad}nearest candidate: {f.nearest}" for f in t.failures if f.nearest]
                if t.dependencies:
                    out.append(f"{pad}possible dependencies:")
                    out += [f"{pad}  {d}" for d in t.dependencies]
            else:
                out.append(f"{lead}  {t.evidence[0] if t.evidence else ''}")
                out += [f"{pad}{e}" for e in t.evidence[1:]]
            out += [f"{pad}warning: {w}" for w in t.warnings]
        return out

    def to_json(self) -> dict:
        m = self.upstream.mail
        return {
            "schema": SCHEMA,
            "tool": {"name": "reviewbot", "version": __version__},
            "upstream": {"sha": self.upstream.sha, "subject": m.subject, "author": m.author},
            "targets": [t.to_json() for t in self.targets],
        }
