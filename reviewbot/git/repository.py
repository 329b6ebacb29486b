"""The GitPython adapter: open a repository, resolve refs, read blobs at ``ref:path``.

Nothing here writes to the repository: blobs are read from the object database (GitPython
keeps one ``git cat-file --batch`` process per repository), never checked out.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import git
from gitdb.exc import BadName, BadObject

from reviewbot.git.runner import pipe_git, run_git
from reviewbot.model.errors import InputError, RepoError
from reviewbot.model.paths import repo_relative
from reviewbot.model.versions import KernelVersion, version_from_makefile


def safe_repo_path(path: str) -> str:
    """Refuse paths that leave the repository (``../``, absolute paths); normalise the rest."""
    rel = repo_relative(path.replace("\\", "/"))
    if rel is None:
        raise InputError(
            f"path {path!r} is outside the repository",
            "give a path relative to the repository root",
        )
    return rel


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
        self._refs: tuple[RefEntry, ...] | None = None
        self._contained: dict[str, str | None] = {}
        self._raw_candidates: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self._commit_patch_ids: dict[str, str | None] = {}
        # whole-tree look-ups (git grep over a commit): an answer depends only on the commit
        # and the question, and backport and validate ask the same ones many times
        self._words: dict[tuple[str, str, tuple[str, ...]], bool] = {}
        self._defs: dict[tuple[str, str, tuple[str, ...], bool, bool], list[str]] = {}

    @property
    def _cwd(self) -> str:
        """Where the subprocess git commands of this view run (the work tree, or a bare git dir)."""
        return str(self.repo.working_tree_dir or self.repo.git_dir)

    @property
    def top(self) -> Path:
        """The top of the work tree (the git directory of a bare repository)."""
        return Path(self._cwd)

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
            _ = commit.size  # GitPython trusts a full 40-hex sha until its object is read
        except (BadName, BadObject, ValueError, KeyError, TypeError, git.GitCommandError) as e:
            # KeyError/TypeError: "HEAD:path" names a blob or tree, not a commit
            hint = (
                "the clone is shallow: fetch more history"
                if self.shallow
                else "check the name with git rev-parse"
            )
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

    def missing_folder(self, rev: Revision, path: str) -> str | None:
        """The outermost folder of ``path`` the tree at ``rev`` lacks (``rust`` for
        ``rust/bindings/x.h`` in 5.10), or None when every folder of ``path`` is there."""
        parts = safe_repo_path(path).split("/")[:-1]
        tree = rev.commit.tree
        for k, part in enumerate(parts):
            try:
                tree = tree / part
            except KeyError:
                return "/".join(parts[: k + 1])
            if tree.type != "tree":
                return "/".join(parts[: k + 1])
        return None

    def version(self, rev: Revision) -> KernelVersion | None:
        """The kernel version the top-level Makefile declares at ``rev``."""
        data = self.blob(rev, "Makefile")
        return version_from_makefile(data) if data else None

    # --- bulk access (sweeps and reports over thousands of refs) -------------------------

    def list_refs(self) -> list[RefEntry]:
        """Every tag, local branch and remote-tracking branch, peeled (one ``git for-each-ref``, memoised)."""
        if self._refs is not None:
            return list(self._refs)
        fmt = "%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)"
        out = self.repo.git.for_each_ref(
            f"--format={fmt}", "refs/tags", "refs/heads", "refs/remotes"
        )
        refs = []
        for row in out.splitlines():
            parts = row.split(" ", 4)
            if len(parts) != 5:
                continue
            sha, typ, peeled, ptype, full = parts
            if peeled:
                sha, typ = peeled, ptype
            if full.startswith("refs/tags/"):
                kind, name = "tag", full[len("refs/tags/") :]
            elif full.startswith("refs/heads/"):
                kind, name = "branch", full[len("refs/heads/") :]
            else:
                kind, name = "remote", full[len("refs/remotes/") :]
                if name.endswith("/HEAD"):
                    continue
            refs.append(RefEntry(name, full, kind, sha, typ))
        nested = [i for i, r in enumerate(refs) if r.type == "tag"]
        if nested:
            # ``%(*objectname)`` peels one level; a tag of a tag still names a tag object, and
            # every reader (sweep, timelines) wants the commit at the end of the chain.
            with tempfile.TemporaryFile() as f:
                f.write("".join(f"{refs[i].sha}^{{}}\n" for i in nested).encode())
                f.seek(0)
                out = self.repo.git.cat_file("--batch-check=%(objectname) %(objecttype)", istream=f)
            for i, row in zip(nested, out.splitlines(), strict=False):
                sha, _, typ = row.partition(" ")
                if typ and len(sha) >= 40:
                    refs[i] = replace(refs[i], sha=sha, type=typ)
        self._refs = tuple(refs)
        return refs

    def tags_merged(self, rev: str, refnames: Sequence[str]) -> set[str]:
        """Which of the tags ``refnames`` (full names) point into the history of ``rev``.

        One ``git for-each-ref --merged`` over ``refs/tags``: every ancestor counts, not only
        the first-parent line, as ``git describe`` and ``git tag --merged`` see a branch. The
        names are filtered here rather than passed as patterns, which git would match one by
        one against every tag.
        """
        if not refnames:
            return set()
        out = self.repo.git.for_each_ref(f"--merged={rev}", "--format=%(refname)", "refs/tags")
        wanted = set(refnames)
        return {line for line in out.splitlines() if line in wanted}

    def blob_ids(self, specs: list[str]) -> list[str | None]:
        """Object ids of ``rev:path`` specs in one ``git cat-file --batch-check`` (None: absent or not a blob)."""
        if not specs:
            return []
        with tempfile.TemporaryFile() as f:
            f.write("\n".join(specs).encode() + b"\n")
            f.seek(0)
            out = self.repo.git.cat_file("--batch-check=%(objectname) %(objecttype)", istream=f)
        rows = out.splitlines()
        if len(rows) != len(specs):  # pragma: no cover - git answers one line per input line
            raise RepoError(f"git cat-file answered {len(rows)} lines for {len(specs)} objects")
        ids: list[str | None] = []
        for row in rows:
            sha, _, typ = row.partition(" ")
            ids.append(sha if typ == "blob" and len(sha) >= 40 else None)
        return ids

    def read_blob(self, sha: str) -> bytes:
        """A blob's bytes from the object database (GitPython's persistent ``cat-file --batch``)."""
        try:
            return self.repo.odb.stream(bytes.fromhex(sha)).read()
        except (BadObject, ValueError) as e:
            raise RepoError(f"object {sha} is missing from {self.path}") from e

    def commit_exists(self, sha: str) -> str | None:
        """The full sha of a commit named by ``sha`` (abbreviated or a ref), or None."""
        try:
            return self.repo.commit(sha).hexsha
        except (BadName, BadObject, ValueError, git.GitCommandError):
            return None

    def is_ancestor(self, ancestor: str, rev: str) -> bool:
        """``git merge-base --is-ancestor``."""
        return self.repo.is_ancestor(ancestor, rev)  # type: ignore[arg-type]  # GitPython accepts any rev (stubs say Commit)

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            bases = self.repo.merge_base(a, b)
        except git.GitCommandError:
            return None
        return bases[0].hexsha if bases else None

    def log(self, rev_range: str, paths: tuple[str, ...] = ()) -> list[LogEntry]:
        """Commits in ``rev_range``, newest first, with messages and the tags on them (one ``git log``)."""
        fmt = "%H%x1f%P%x1f%D%x1f%B%x1e"
        args = [
            "--topo-order",
            "--no-show-signature",
            f"--format={fmt}",
            "--decorate-refs=refs/tags/",
            rev_range,
        ]
        if paths:
            args += ["--", *paths]
        try:
            out = self.repo.git.log(*args, strip_newline_in_stdout=False)
        except git.GitCommandError as e:
            raise RepoError(f"git log {rev_range} failed: {e.stderr.strip()}") from e
        entries = []
        for rec in out.split("\x1e"):
            rec = rec.lstrip("\n")
            if not rec:
                continue
            sha, parents, deco, body = rec.split("\x1f", 3)
            tags = tuple(
                d.strip()[len("tag: ") :] for d in deco.split(",") if d.strip().startswith("tag: ")
            )
            entries.append(LogEntry(sha, tuple(parents.split()), tags, body))
        return entries

    def patch_ids(self, rev_range: str, paths: tuple[str, ...] = ()) -> dict[str, str]:
        """``git patch-id --stable`` of every non-merge commit in the range touching ``paths``: id -> sha.

        The ids are of each commit's whole diff (``--full-diff``), as ``git patch-id`` would
        give for ``git log -p --full-diff -- paths``, for the commits that can share an id with
        a change of ``paths`` alone: those that change no other file (give every path the
        change names, a rename's source too). So a tree imported as one commit (a gigabyte of
        diff) is never diffed. The rest stream ``git log -p`` into ``git patch-id`` through a
        pipe, never through Python, and each commit's id is memoised, so several targets
        sharing history pay once.
        """
        key = (rev_range, paths)
        if key not in self._raw_candidates:
            self._raw_candidates[key] = self._patch_id_candidates(rev_range, paths)
        candidates = self._raw_candidates[key]
        todo = [sha for sha in candidates if sha not in self._commit_patch_ids]
        for i in range(0, len(todo), 256):  # bounded argv
            chunk = todo[i : i + 256]
            self._commit_patch_ids.update(dict.fromkeys(chunk))  # no diff: no id
            out = pipe_git(
                [
                    "log",
                    "-p",
                    "--no-walk=unsorted",
                    "--full-diff",
                    "--no-color",
                    "--no-show-signature",
                    "--no-ext-diff",
                    "--format=commit %H",
                    *chunk,
                    "--",
                ],
                ["patch-id", "--stable"],
                cwd=self._cwd,
            )
            for row in out.decode().splitlines():
                pid, _, sha = row.partition(" ")
                self._commit_patch_ids[sha] = pid
        found: dict[str, str] = {}
        for sha in candidates:
            known = self._commit_patch_ids.get(sha)
            if known:
                found.setdefault(known, sha)
        return found

    def _patch_id_candidates(self, rev_range: str, paths: tuple[str, ...]) -> list[str]:
        """Non-merge commits of the range touching ``paths`` and no other file (newest first).

        Two ``git log`` listings, no diff: those touching ``paths``, then which of them touch
        anything else (git stops at the first differing file, so an imported tree costs
        milliseconds). Every file a diff names enters its patch-id (even a mode change, an
        empty file or a rename: the ``diff --git`` header is hashed), so those are dropped.
        """
        touching = self._log_shas(["--no-merges", rev_range], paths)
        if not paths or not touching:
            return touching
        elsewhere: set[str] = set()
        outside = [":/", *(f":(top,exclude,literal){p}" for p in paths)]
        for i in range(0, len(touching), 256):  # bounded argv
            elsewhere.update(
                self._log_shas(["--no-walk=unsorted", *touching[i : i + 256]], outside)
            )
        return [sha for sha in touching if sha not in elsewhere]

    def _log_shas(self, args: list[str], pathspecs: Sequence[str]) -> list[str]:
        cmd = ["log", "--format=%H", *args]
        if pathspecs:
            cmd += ["--", *pathspecs]
        proc = run_git(cmd, cwd=self._cwd)
        if proc.returncode != 0:
            msg = " ".join(proc.stderr.decode("utf-8", "replace").split())
            raise RepoError(f"git log failed in {self.path}: {msg}")
        return proc.stdout.decode().split()

    def patch_id_of(self, text: str) -> str | None:
        """``git patch-id --stable`` of a diff or mail."""
        row = self._patch_id(text).split("\n", 1)[0]
        return row.split(" ", 1)[0] or None

    def _patch_id(self, text: str) -> str:
        with tempfile.TemporaryFile() as f:
            f.write(text.encode("utf-8", "surrogateescape"))
            f.seek(0)
            return self.repo.git.patch_id("--stable", istream=f)

    def format_patch(self, sha: str, *, renames: bool = True) -> str:
        """The commit as a format-patch mail (``git format-patch -1 --stdout``).

        ``renames=False`` adds ``--no-renames``: a rename is then a deletion and a creation, so
        every hunk names the path its pre-image lives at.
        """
        flags = () if renames else ("--no-renames",)
        return self.repo.git.format_patch(
            "-1", "--stdout", "--no-signature", *flags, sha, strip_newline_in_stdout=False
        )

    def contained_in(self, sha: str) -> str | None:
        """The oldest release tag containing ``sha`` (``git describe --contains``, memoised), or None."""
        if sha not in self._contained:
            try:
                name = self.repo.git.describe("--contains", "--match", "v[0-9]*", sha)
                self._contained[sha] = re.split(r"[~^]", name.strip(), maxsplit=1)[0] or None
            except git.GitCommandError:
                self._contained[sha] = None
        return self._contained[sha]

    def describe(self, rev: str) -> str | None:
        """``rev`` named after the newest release tag it contains, as ``git describe --tags`` does.

        The tag itself on a release (``v6.1.176``), ``v6.1.176-21-g75dababcb`` for a commit 21
        past it: never the bare tag for a commit that is not the release. None without tags.
        """
        try:
            return self.repo.git.describe("--tags", "--match", "v[0-9]*", rev).strip() or None
        except git.GitCommandError:
            return None

    def remote_of(self, ref: str) -> tuple[str, str] | None:
        """(remote, branch) when ``ref`` names a remote-tracking branch (``stable/linux-6.1.y``).

        None for a local branch, a tag or a sha: those are fetched from nowhere.
        """
        entry = next((r for r in self.list_refs() if ref in (r.name, r.full)), None)
        if entry is None or entry.kind != "remote":
            return None
        name = entry.full[len("refs/remotes/") :]
        # remote names may hold a slash: the longest configured remote that prefixes the ref
        remotes = sorted((r.name for r in self.repo.remotes), key=len, reverse=True)
        remote = next((r for r in remotes if name.startswith(r + "/")), name.split("/", 1)[0])
        return remote, name[len(remote) + 1 :]

    def identity(self) -> str | None:
        """``Name <email>`` from the repository's git config (read only), or None when unset."""
        reader = self.repo.config_reader()
        try:
            name = reader.get_value("user", "name", "")
            email = reader.get_value("user", "email", "")
        except Exception:  # noqa: BLE001 - configparser raises a zoo of errors for odd configs
            return None
        return f"{name} <{email}>" if name and email else None

    def blob_by_prefix(self, prefix: str) -> bytes | None:
        """A blob named by an abbreviated id (a diff's ``index`` line), if the repository has it."""
        try:
            full = self.repo.git.rev_parse("--verify", "-q", f"{prefix}^{{blob}}")
            return self.read_blob(full.strip())
        except (git.GitCommandError, ValueError, RepoError):
            return None

    def has_word(self, rev: Revision, word: str, globs: tuple[str, ...]) -> bool:
        """Does ``word`` occur as a whole word in a file matching ``globs`` at ``rev``? (git grep)"""
        key = (rev.sha, word, tuple(globs))
        if key not in self._words:
            try:
                self.repo.git.grep("-q", "-w", "-F", "-e", word, rev.sha, "--", *globs)
                self._words[key] = True
            except git.GitCommandError:  # exit 1: no match
                self._words[key] = False
        return self._words[key]

    def files_defining(
        self,
        rev: Revision,
        name: str,
        globs: tuple[str, ...],
        prefix: bool = False,
        macros: bool = False,
    ) -> list[str]:
        """Files matching ``globs`` at ``rev`` with a line that starts a definition of ``name``
        (with ``prefix``, of a name starting so; with ``macros``, a function-like ``#define``
        of it too).

        A definition line starts at column 0 with a type or storage class and has ``name(`` on
        it (the kernel's style for function definitions and prototypes).
        """
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            return []
        key = (rev.sha, name, tuple(globs), prefix, macros)
        if key not in self._defs:
            self._defs[key] = self._grep_definitions(rev, name, globs, prefix, macros)
        return list(self._defs[key])

    def _grep_definitions(
        self, rev: Revision, name: str, globs: tuple[str, ...], prefix: bool, macros: bool
    ) -> list[str]:
        rest = "[A-Za-z0-9_]*" if prefix else ""
        patterns = ["-e", rf"^[A-Za-z_][^;=(]*[^A-Za-z0-9_]{name}{rest}[[:space:]]*\("]
        if macros:
            patterns += ["-e", rf"^#[[:space:]]*define[[:space:]]+{name}{rest}\("]
        try:
            out = self.repo.git.grep("-l", "-E", *patterns, rev.sha, "--", *globs)
        except git.GitCommandError:  # exit 1: no match
            return []
        return [row.split(":", 1)[1] for row in out.splitlines() if ":" in row]

    def pickaxe(self, needle: str, span: list[str], paths: list[str]) -> list[tuple[str, int, str]]:
        """Commits in ``span`` that add or remove ``needle`` in ``paths`` (``git log -S``).

        Each as (sha, commit time, subject); empty when git refuses the span.
        """
        try:
            out = self.repo.git.log("--format=%H%x00%ct%x00%s", "-S", needle, *span, "--", *paths)
        except git.GitCommandError:
            return []
        rows = []
        for row in out.splitlines():
            sha, when, subject = row.split("\0", 2)
            rows.append((sha, int(when), subject))
        return rows

    # The index (what ``git commit`` will record) is read by ``staged.read_staged``, with git
    # itself and without GitPython: the pre-commit hook starts no heavier than it must.

    def head(self) -> Revision | None:
        """HEAD, or None on an unborn branch (before the first commit)."""
        if not self.repo.head.is_valid():
            return None
        return self.resolve("HEAD")


@dataclass(frozen=True)
class RefEntry:
    """A ref as listed: short name (``v5.10.9``, ``linux-5.10.y``, ``stable/linux-5.10.y``)."""

    name: str
    full: str
    kind: str  # "tag" | "branch" | "remote"
    sha: str
    type: str  # type of the peeled object: "commit" (or "tree"/"blob" for odd tags)


@dataclass(frozen=True)
class LogEntry:
    """One commit of a ``git log`` scan."""

    sha: str
    parents: tuple[str, ...]
    tags: tuple[str, ...]
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()
