"""Build git histories from text with ``git fast-import`` (the demo, tests and bench use it).

Commits, branches and tags are described in Python (or parsed from a text spec by the tests'
helper) and streamed to one ``git fast-import`` process, so a history of thousands of tags
takes a second. Dates are fixed, so the same description always yields the same shas.
This module only ever writes into the new repository it is given, never into the user's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.git.runner import run_git
from reviewbot.model.errors import RepoError

AUTHOR = "Demo Maintainer <maintainer@example.org>"
EPOCH = 1_600_000_000


@dataclass
class _Commit:
    mark: int
    branch: str
    message: str
    files: dict[str, bytes | None]
    parent: int | None
    author: str
    when: int
    merge: tuple[int, ...] = ()


@dataclass
class HistoryBuilder:
    """Accumulate commits and tags; :meth:`flush` writes them and returns mark -> sha."""

    path: Path
    bare: bool = True
    _commits: list[_Commit] = field(default_factory=list)
    _tags: list[tuple[str, int, str | None]] = field(default_factory=list)
    _heads: dict[str, int] = field(default_factory=dict)
    _next: int = 1
    shas: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not (self.path / ("HEAD" if self.bare else ".git")).exists():
            self.path.mkdir(parents=True, exist_ok=True)
            args = (
                ["init", "-q", "-b", "master"]
                + (["--bare"] if self.bare else [])
                + [str(self.path)]
            )
            _run(args)

    def commit(
        self,
        branch: str,
        files: Mapping[str, bytes | str | None],
        message: str,
        *,
        parent: int | None = None,
        author: str = AUTHOR,
        when: int | None = None,
        merge: tuple[int, ...] = (),
    ) -> int:
        """Add a commit on ``branch`` (from its head, or from ``parent``); returns its mark.

        ``files`` maps paths to new contents (bytes or str) or None to delete them.
        """
        mark = self._next
        self._next += 1
        base = parent if parent is not None else self._heads.get(branch)
        data = {p: (c.encode() if isinstance(c, str) else c) for p, c in files.items()}
        self._commits.append(
            _Commit(mark, branch, message, data, base, author, when or EPOCH + mark * 3600, merge)
        )
        self._heads[branch] = mark
        return mark

    def tag(self, name: str, mark: int, message: str | None = None) -> None:
        """Tag a commit (annotated when ``message`` is given)."""
        self._tags.append((name, mark, message))

    def head(self, branch: str) -> int | None:
        return self._heads.get(branch)

    def flush(self) -> dict[int, str]:
        """Run ``git fast-import`` on everything added since the last flush."""
        out: list[bytes] = []
        for c in self._commits:
            out.append(f"commit refs/heads/{c.branch}\nmark :{c.mark}\n".encode())
            out.append(
                f"author {c.author} {c.when} +0000\ncommitter {c.author} {c.when} +0000\n".encode()
            )
            msg = c.message.encode() if c.message.endswith("\n") else (c.message + "\n").encode()
            out.append(b"data %d\n%s" % (len(msg), msg))
            if c.parent is not None:
                out.append(f"from {self._ref(c.parent)}\n".encode())
            for m in c.merge:
                out.append(f"merge {self._ref(m)}\n".encode())
            for path, content in sorted(c.files.items()):
                if content is None:
                    out.append(f"D {path}\n".encode())
                else:
                    out.append(f"M 100644 inline {path}\n".encode())
                    out.append(b"data %d\n%s\n" % (len(content), content))
            out.append(b"\n")
        for name, mark, message in self._tags:
            if message is None:
                out.append(f"reset refs/tags/{name}\nfrom {self._ref(mark)}\n\n".encode())
            else:
                msg = (message if message.endswith("\n") else message + "\n").encode()
                out.append(
                    f"tag {name}\nfrom {self._ref(mark)}\ntagger {AUTHOR} {EPOCH + mark * 3600} +0000\n".encode()
                )
                out.append(b"data %d\n%s\n" % (len(msg), msg))
        marks = self.path / ("reviewbot-marks" if self.bare else ".git/reviewbot-marks")
        args = [
            "-C",
            str(self.path),
            "fast-import",
            "--quiet",
            "--force",
            f"--export-marks={marks}",
        ]
        if marks.exists():
            args.append(f"--import-marks={marks}")
        _run(args, b"".join(out))
        self._commits.clear()
        self._tags.clear()
        for row in marks.read_text().splitlines():
            label, sha = row.split()  # ":<mark> <sha>"
            self.shas[int(label[1:])] = sha
        return dict(self.shas)

    def _ref(self, mark: int) -> str:
        sha = self.shas.get(mark)
        return sha if sha is not None else f":{mark}"


def _run(args: list[str], stdin: bytes | None = None) -> None:
    proc = run_git(args, stdin=stdin)
    if proc.returncode != 0:
        raise RepoError(
            f"git {' '.join(args[:3])} failed: {proc.stderr.decode(errors='replace').strip()}"
        )
