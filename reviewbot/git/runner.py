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


def _env() -> dict[str, str]:
    """The environment of every git run: never an optional lock (not even an index refresh)."""
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}


def _cannot_start(e: OSError) -> RepoError:
    """The one wording for "git could not be started"."""
    if isinstance(e, FileNotFoundError):
        return RepoError("git is not installed", "install git and make sure it is on PATH")
    return RepoError(f"cannot run git: {e.strerror}")


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
            env=_env(),
        )
    except subprocess.TimeoutExpired:
        raise RepoError(f"git {' '.join(args[:2])} did not finish within {timeout:g} s") from None
    except OSError as e:
        raise _cannot_start(e) from None


def pipe_git(
    producer: Sequence[str],
    consumer: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """``git *producer | git *consumer``: the consumer's stdout.

    The producer's output streams through an OS pipe and never enters Python, so a diff of
    any size (a tree imported as one commit: gigabytes) costs the two processes' memory only.
    Raises :class:`RepoError` when either git fails or runs past ``timeout`` seconds.
    """
    env = _env()
    where = Path(cwd) if cwd is not None else None
    try:
        first = subprocess.Popen(
            ["git", *producer],
            cwd=where,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError as e:
        raise _cannot_start(e) from None
    assert first.stdout is not None  # stdout=PIPE above
    try:
        second = subprocess.Popen(
            ["git", *consumer],
            cwd=where,
            stdin=first.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError as e:
        first.kill()
        first.wait()
        raise _cannot_start(e) from None
    first.stdout.close()  # the consumer holds the only read end: the producer sees EPIPE if it dies
    try:
        out, err2 = second.communicate(timeout=timeout)
        _, err1 = first.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for p in (first, second):
            p.kill()
            p.wait()
        raise RepoError(
            f"git {' '.join(producer[:2])} did not finish within {timeout:g} s"
        ) from None
    for args, proc, err in ((producer, first, err1), (consumer, second, err2)):
        if proc.returncode != 0:
            msg = " ".join(err.decode("utf-8", "replace").split())
            raise RepoError(f"git {args[0]} failed: {msg or f'exit {proc.returncode}'}")
    return out
