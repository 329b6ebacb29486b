"""Paths inside a repository: the one rule for "does this path stay in the repository?".

A path from the command line, a patch header or git config is normalised here once; the git
adapter and the diff adapter both refuse what this refuses.
"""

from __future__ import annotations

from pathlib import PurePosixPath


def repo_relative(path: str) -> str | None:
    """``path`` normalised, or None when it leaves the repository (absolute, ``..``, empty)."""
    pp = PurePosixPath(path)
    if pp.is_absolute() or ".." in pp.parts or not pp.parts:
        return None
    return str(pp)
