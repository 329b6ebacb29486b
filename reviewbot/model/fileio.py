"""Files on disk, the same way for every stage: read an input, write an output atomically.

Every writer goes through :func:`write_atomic`, so a reader (git running a hook, a browser
opening a report, ``git am`` reading a mail) never sees half a file, and an interrupted write
leaves no temporary file behind. Failures are :class:`InputError` / :class:`SourceError` with
one line, as the CLI prints them.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

from reviewbot.model.errors import InputError, SourceError


def package_dir(package: str) -> Path | Traversable:
    """The directory of a data package (``reviewbot.queries``): a plain :class:`Path` when it
    is on disk, else what :func:`importlib.resources.files` gives (a zip, say).

    ``importlib.resources`` costs some 20 ms of start-up (it imports the zip readers), which
    every hook run and command would pay to read a few files that sit on disk.
    """
    spec = importlib.import_module(package).__spec__
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if Path(location).is_dir():
            return Path(location)
    from importlib import resources

    return resources.files(package)


def read_file(path: Path, what: str = "file") -> bytes:
    """Read an input file; missing files, directories and unreadable files are input errors."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a {what}")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise SourceError(f"{path}: cannot read: {e.strerror}") from None


def write_atomic(
    path: Path, data: bytes | str, *, mode: int | None = None, hint: str | None = None
) -> bool:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    Creates missing parent folders; ``mode`` sets the permission bits (an executable hook);
    a file that already holds exactly ``data`` is left untouched (idempotent re-runs keep
    their mtime). Returns True when the file was written.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and not path.is_file():
        # A device or a pipe (``-o /dev/null``, ``-o /dev/stdout``): renaming a temporary file
        # over it would replace the device node itself, so write through it instead.
        try:
            with open(path, "wb") as fh:
                fh.write(raw)
        except OSError as e:
            raise InputError(f"{path}: cannot write: {e.strerror}", hint) from None
        return True
    if path.is_file() and mode is None and path.read_bytes() == raw:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror}", hint) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {e.strerror}", hint) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
