"""The on-disk verdict cache: an embedded SQLite database under ``$XDG_CACHE_HOME/reviewbot``.

A sweep over thousands of releases meets the same few hundred blobs again and again, and a
second sweep meets all of them again. Verdicts are keyed by what determines them:

- ``verdicts``: (blob id, path, rule id, rule version, tool version, context) -> the serialized
  checks (and the extra files a check had to look into). ``context`` is ``all`` (the blob
  checked with every feature applying) or ``none`` (no feature applying): the sweep derives
  each ref's verdicts from these two with the ref's own applicability (``check.applicability``),
  since the same blob is "not applicable" in 5.4 and checked in 5.10. For refs with no known
  kernel version it is ``unknown:<digest of the uapi evidence>``, checked as is.
- ``blobinfo``: (blob id, kind) -> small facts read from other blobs (the kernel version a
  Makefile declares, the defines a uapi header has), so a warm sweep reads no blob at all.

The tool version folds in a digest of the package's sources and rule files, so a changed
checker never serves stale verdicts; opening the cache deletes the verdicts of every other tool
version, so the file stays as big as one version's verdicts, however often reviewbot changes.
A cache that cannot be opened or written (read-only home, corrupt file) degrades to no cache and
says why in :attr:`VerdictCache.warning`. ``with VerdictCache(path) as cache:`` writes what is
pending and closes the database at the end of the block, whatever happens in it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import TracebackType
from typing import Any

from reviewbot import __version__
from reviewbot.model.results import CheckResult

SCHEMA_VERSION = 1
_CHUNK = 400  # SQLite's default limit on host parameters is 999 (older builds)


def digest_inputs(package: Traversable, queries: Traversable) -> Iterator[tuple[str, Traversable]]:
    """What the tool digest reads, in its order: (name, file).

    Every module of ``package`` and of its subpackages (``checker/flow.py``), then every rule
    file in ``queries``.
    """
    pending = [("", package)]
    while pending:  # every subpackage, in a stable order
        prefix, folder = pending.pop()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            name = prefix + entry.name
            if entry.is_dir() and entry.joinpath("__init__.py").is_file():
                pending.append((name + "/", entry))
            elif entry.name.endswith(".py") and entry.is_file():
                yield name, entry
    for entry in sorted(queries.iterdir(), key=lambda e: e.name):
        if entry.is_file():
            yield entry.name, entry


def source_digest(package: Traversable, queries: Traversable) -> str:
    """A digest of the names and bytes of :func:`digest_inputs` (12 hex digits)."""
    h = hashlib.sha256()
    for name, entry in digest_inputs(package, queries):
        h.update(name.encode() + b"\0" + entry.read_bytes())
    return h.hexdigest()[:12]


@cache
def tool_version() -> str:
    """``0.1.0+<digest>``: the package version and a digest of its code and rule files.

    Any change to the package's modules invalidates cached verdicts: safer than listing the
    modules that decide them (a new checker module would be forgotten), and it costs ~1 ms.
    """
    return f"{__version__}+{source_digest(resources.files('reviewbot'), resources.files('reviewbot.queries'))}"


def default_path() -> Path:
    """``$XDG_CACHE_HOME/reviewbot/verdicts.sqlite3`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewbot" / "verdicts.sqlite3"


def checks_to_json(checks: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """Everything needed to rebuild the checks (``to_json`` plus the title)."""
    return [{**c.to_json(), "title": c.title} for c in checks]


def checks_from_json(rows: list[dict[str, Any]]) -> tuple[CheckResult, ...]:
    """The checks :func:`checks_to_json` wrote."""
    return tuple(CheckResult.from_json(r) for r in rows)


VerdictKey = tuple[str, str, str, int, str]  # (blob, path, rule, rule_version, context)


class VerdictCache:
    """Verdicts and blob facts in SQLite; ``VerdictCache(None)`` is a cache that remembers nothing."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.warning: str | None = None
        self.tool = tool_version()
        self._db: sqlite3.Connection | None = None
        self._pending_verdicts: list[tuple[str, str, str, int, str, str, str]] = []
        self._pending_info: list[tuple[str, str, str]] = []
        if path is not None:
            self._open(Path(path))

    def __enter__(self) -> VerdictCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @classmethod
    def default(cls) -> VerdictCache:
        """The user's cache."""
        return cls(default_path())

    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=10)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS verdicts (
                    blob TEXT NOT NULL, path TEXT NOT NULL, rule TEXT NOT NULL,
                    rule_version INTEGER NOT NULL, tool_version TEXT NOT NULL, context TEXT NOT NULL,
                    data TEXT NOT NULL,
                    PRIMARY KEY (blob, path, rule, rule_version, tool_version, context)
                ) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS blobinfo (
                    blob TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
                    PRIMARY KEY (blob, kind)
                ) WITHOUT ROWID;
                """
            )
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                db.commit()
            elif row[0] != str(SCHEMA_VERSION):
                db.close()
                self.warning = f"cache {path} has schema {row[0]}, expected {SCHEMA_VERSION}: not used (delete it to rebuild)"
                return
            self._db = db
            self._prune(db)
        except (sqlite3.Error, OSError) as e:
            self.warning = f"verdict cache {path} unusable ({e}); continuing without it"
            self._db = None

    def _prune(self, db: sqlite3.Connection) -> None:
        """Delete the verdicts of other tool versions: no run of this version can use them.

        A prune that fails (a read-only file, another process holding the lock too long) is
        left for the next run; the cache works the same without it.
        """
        with contextlib.suppress(sqlite3.Error):
            # Look first: a DELETE takes the write lock even when it deletes nothing.
            if db.execute(
                "SELECT 1 FROM verdicts WHERE tool_version != ? LIMIT 1", (self.tool,)
            ).fetchone():
                with db:
                    db.execute("DELETE FROM verdicts WHERE tool_version != ?", (self.tool,))

    # --- blob facts -----------------------------------------------------------------------

    def get_info(self, kind: str, blobs: Iterable[str]) -> dict[str, Any]:
        """Decoded facts of ``kind`` for the blobs that have one (as :meth:`put_info` got them)."""
        out: dict[str, Any] = {}
        if self._db is None:
            return out
        wanted = sorted(set(blobs))
        try:
            for i in range(0, len(wanted), _CHUNK):
                part = wanted[i : i + _CHUNK]
                q = f"SELECT blob, data FROM blobinfo WHERE kind = ? AND blob IN ({','.join('?' * len(part))})"
                for blob, data in self._db.execute(q, (kind, *part)):
                    out[blob] = json.loads(data)
        except (sqlite3.Error, ValueError) as e:
            self._fail(e)
        return out

    def put_info(self, kind: str, blob: str, value: object) -> None:
        """Remember a JSON-serialisable fact about a blob (written at the next :meth:`flush`)."""
        if self._db is not None:
            self._pending_info.append((blob, kind, json.dumps(value)))

    # --- verdicts -------------------------------------------------------------------------

    def get_verdicts(self, keys: Iterable[VerdictKey]) -> dict[VerdictKey, dict[str, Any]]:
        """Stored values for the keys that have one (bulk: one query per few hundred blobs)."""
        out: dict[VerdictKey, dict[str, Any]] = {}
        if self._db is None:
            return out
        wanted = set(keys)
        blobs = sorted({k[0] for k in wanted})
        try:
            for i in range(0, len(blobs), _CHUNK):
                part = blobs[i : i + _CHUNK]
                q = (
                    f"SELECT blob, path, rule, rule_version, context, data FROM verdicts "
                    f"WHERE tool_version = ? AND blob IN ({','.join('?' * len(part))})"
                )
                for blob, path, rule, rule_version, context, data in self._db.execute(
                    q, (self.tool, *part)
                ):
                    key = (blob, path, rule, rule_version, context)
                    if key in wanted:
                        out[key] = json.loads(data)
        except (sqlite3.Error, ValueError) as e:
            self._fail(e)
        return out

    def put_verdict(self, key: VerdictKey, value: dict[str, Any]) -> None:
        """Remember a blob's verdicts under ``key`` (written at the next :meth:`flush`)."""
        if self._db is not None:
            blob, path, rule, rule_version, context = key
            self._pending_verdicts.append(
                (blob, path, rule, rule_version, self.tool, context, json.dumps(value))
            )

    def flush(self) -> None:
        """Write what was put since the last flush, in one transaction."""
        if self._db is None or not (self._pending_verdicts or self._pending_info):
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    self._pending_verdicts,
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO blobinfo VALUES (?, ?, ?)", self._pending_info
                )
        except sqlite3.Error as e:
            self._fail(e)
        self._pending_verdicts.clear()
        self._pending_info.clear()

    def close(self) -> None:
        """Write what is pending and close the database (the cache then remembers nothing)."""
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _fail(self, e: Exception) -> None:
        self.warning = f"verdict cache {self.path} failed ({e}); continuing without it"
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
