"""One way to run the git command line: every subprocess git call of reviewbot goes through here.

GitPython (``repository``) covers reading objects; the few commands it does not (``git config``
before a repository is opened, hook paths, ``fast-import``) run here, with the same
environment (no optional locks: reviewbot never takes the index lock just to read) and a
timeout, so a hung git never hangs a commit hook.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from reviewbot.model.errors import RepoError

#: Seconds a single git command may take before reviewbot gives up on it.
DEFAULT_TIMEOUT = 600.0


def run_git(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git *args`` and return the finished process (bytes out, any exit code).

    Raises :class:`RepoError` when git cannot be started or runs past ``timeout`` seconds;
    the exit code is the caller's to judge (``git config`` exits 1 for "no such key").
    """
    command = ["git", *args]
    try:
        return subprocess.run(
            command,
            cwd=Path(cwd) if cwd is not None else None,
            input=stdin,
            capture_output=True,
            check=False,
            timeout=timeout,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except FileNotFoundError:
        raise RepoError("git is not installed", "install git and make sure it is on PATH") from None
    except subprocess.TimeoutExpired:
        raise RepoError(f"git {' '.join(args[:2])} did not finish within {timeout:g} s") from None
    except OSError as e:
        raise RepoError(f"cannot run git: {e.strerror}") from None
