"""What validating a backport answers: one :class:`Verdict` per check, the :class:`Validation`
of a patch on a target, and whether the target needs the fix (:class:`Need`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VerdictStatus(StrEnum):
    """One check's verdict."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # the check cannot run (the patch does not apply, no upstream fix)


class NeedStatus(StrEnum):
    """Whether a target needs the fix."""

    NEEDS_BACKPORT = "needs-backport"
    ALREADY_FIXED = "already-fixed"
    NOT_AFFECTED = "not-affected"


@dataclass(frozen=True)
class Verdict:
    """One check's result: ``pass``, ``fail`` or ``skip``, a message and details."""

    id: str
    status: VerdictStatus
    message: str
    details: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "message": self.message,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class Validation:
    """Per-check verdicts for one patch on one target."""

    ref: str | None
    verdicts: tuple[Verdict, ...]
    upstream: str | None = None

    @property
    def accepted(self) -> bool:
        return all(v.status != VerdictStatus.FAIL for v in self.verdicts)

    def verdict(self, check_id: str) -> Verdict:
        return next(v for v in self.verdicts if v.id == check_id)

    @property
    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == VerdictStatus.FAIL]

    @property
    def reasons(self) -> list[str]:
        """One line per failed check (what the git hooks print)."""
        return [
            f"{v.id}: {v.message}" + (f" ({v.details[0].strip()})" if v.details else "")
            for v in self.failed
        ]

    def lines(self) -> list[str]:
        """The text report: one line per check with its details, then the verdict."""
        out: list[str] = []
        for x in self.verdicts:
            out.append(f"  {x.id:<12} {x.status:<5} {x.message}")
            out += [f"  {'':<12} {'':<5}   {d}" for d in x.details]
        out.append(
            "accepted" if self.accepted else f"rejected: {', '.join(x.id for x in self.failed)}"
        )
        return out

    def to_json(self) -> dict:
        return {
            "ref": self.ref,
            "upstream": self.upstream,
            "accepted": self.accepted,
            "checks": [v.to_json() for v in self.verdicts],
        }


@dataclass(frozen=True)
class Need:
    """Whether a target needs the fix, with the evidence."""

    status: NeedStatus
    evidence: tuple[str, ...]
