"""Kinds and states that reports print and serialise: refs, a fix's status in a branch, and
the state of one release on a timeline.

They are ``StrEnum`` so their values are the very strings the text, JSON and HTML output has
always carried (``str(member)``, f-strings and ``json.dumps`` give the value), and they compare
equal to those strings, so code that still holds a plain string keeps working.
"""

from __future__ import annotations

from enum import StrEnum

from reviewbot.model.results import Status


class RefKind(StrEnum):
    """What a ref is: a tag, a local branch, or a remote-tracking branch (``origin/linux-5.10.y``)."""

    TAG = "tag"
    BRANCH = "branch"
    REMOTE = "remote"


class FixStatus(StrEnum):
    """Where a fix stands in one stable branch."""

    NOT_AFFECTED = "not-affected"
    FIXED = "fixed"
    NEEDS_BACKPORT = "needs-backport"
    REGRESSED = "regressed"

    @property
    def actionable(self) -> bool:
        """A maintainer has work to do: backport the fix, or restore it."""
        return self in (FixStatus.NEEDS_BACKPORT, FixStatus.REGRESSED)


# The order reports count statuses in: work to do first.
FIX_STATUS_ORDER = (
    FixStatus.NEEDS_BACKPORT,
    FixStatus.REGRESSED,
    FixStatus.FIXED,
    FixStatus.NOT_AFFECTED,
)


class CellState(StrEnum):
    """The colour of one ref on a timeline: the worst verdict there, or no file to check."""

    PRESENT = "present"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"
    NO_FILE = "no-file"

    @classmethod
    def of(cls, status: Status) -> CellState:
        """The cell of a check status (the same string)."""
        return cls(status.value)
