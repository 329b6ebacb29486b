"""The GitPython adapter: open a repository, resolve refs, read blobs at ``ref:path``.

Nothing here writes to the repository: blobs are read from the object database (GitPython
keeps one ``git cat-file --batch`` process per repository), never checked out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git
from gitdb.exc import BadName, BadObject

from .errors import InputError, RepoError
from .versions import KernelVersion, version_from_makefile


def safe_repo_path(path: str) -> str:
    """Refuse paths that leave the repository (``../``, absolute paths); normalise the rest."""
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise InputError(f"path {path!r} is outside the repository", "give a path relative to the repository root")
    return str(p)


@dataclass(frozen=True)
class Revision:
    """A resolved ref: what the user typed and the commit it names."""

    name: str
    sha: str
    commit: git.Commit


class Repository:
    """A read-only view of a git repository."""

    def __init__(self, path: str | os.PathLike):
        p = Path(path).expanduser()
        if not p.exists():
            raise RepoError(f"{p}: no such directory")
        try:
            self.repo = git.Repo(p, search_parent_directories=True)
        except git.InvalidGitRepositoryError as e:
            raise RepoError(f"{p}: not a git repository") from e
        except git.GitError as e:  # pragma: no cover - unusual git failures
            raise RepoError(f"{p}: cannot open the repository: {e}") from e
        self.path = p

    @property
    def git_dir(self) -> Path:
        return Path(self.repo.git_dir)

    @property
    def shallow(self) -> bool:
        """True for a shallow clone (history is cut; ancestry answers may be wrong)."""
        return (Path(self.repo.common_dir) / "shallow").exists()

    def resolve(self, rev: str = "HEAD") -> Revision:
        """Resolve a ref, tag, branch or sha to a commit; unknown refs raise RepoError."""
        try:
            commit = self.repo.commit(rev)
        except (BadName, BadObject, ValueError, git.GitCommandError) as e:
            hint = "the clone is shallow: fetch more history" if self.shallow else "check the name with git rev-parse"
            raise RepoError(f"unknown revision {rev!r} in {self.path}", hint) from e
        return Revision(rev, commit.hexsha, commit)

    def blob(self, rev: Revision, path: str) -> bytes | None:
        """The bytes of ``path`` at ``rev``, or None when the file does not exist there."""
        path = safe_repo_path(path)
        try:
            obj = rev.commit.tree / path
        except KeyError:
            return None
        if obj.type != "blob":
            return None
        return obj.data_stream.read()

    def blob_id(self, rev: Revision, path: str) -> str | None:
        try:
            obj = rev.commit.tree / safe_repo_path(path)
        except KeyError:
            return None
        return obj.hexsha if obj.type == "blob" else None

    def version(self, rev: Revision) -> KernelVersion | None:
        """The kernel version the top-level Makefile declares at ``rev``."""
        data = self.blob(rev, "Makefile")
        return version_from_makefile(data) if data else None
