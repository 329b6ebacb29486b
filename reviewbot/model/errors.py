"""One error hierarchy for the library.

Every error carries a one-line message and an optional hint; ``cli.py`` prints them on one
line of stderr and exits with ``exit_code``. Library code never calls ``sys.exit``.
"""

from __future__ import annotations


class ReviewbotError(Exception):
    """Base class: a problem the user can act on (bad input, missing ref, ...)."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class InputError(ReviewbotError):
    """A file, option or argument the user gave cannot be used."""


class SourceError(ReviewbotError):
    """A source file cannot be read or decoded."""


class RepoError(ReviewbotError):
    """The git repository, a ref or a blob is missing or unusable."""


class RuleError(ReviewbotError):
    """A rule file in queries/ is malformed."""


class PatchError(ReviewbotError):
    """A patch or mail is malformed, truncated, binary or unsafe."""
