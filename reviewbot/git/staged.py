"""What a commit would record for a few paths: the index against HEAD, in two git processes.

The pre-commit hook runs on every commit that stages a guarded file, so this module stays
small: plain ``git`` through :mod:`reviewbot.git.runner`, no GitPython. One ``git diff-index
--cached`` (the only command that reads the whole index: on a kernel tree that is most of the
cost) says which paths are staged and the blob ids on both sides; one ``git cat-file --batch``
reads the blobs. Both honour ``GIT_INDEX_FILE``: ``git commit -a`` and ``git commit PATH`` hand
their hooks a temporary index. Nothing is written, not even a stat-refresh of the index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.git.runner import run_git
from reviewbot.model.errors import InputError, RepoError
from reviewbot.model.paths import repo_relative

#: The diff statuses whose new side is no committable blob: deleted, unmerged (a conflict).
_NO_NEW_BLOB = frozenset("DU")


@dataclass(frozen=True)
class StagedSnapshot:
    """The index against HEAD for some paths, with the content of both sides.

    ``head`` also holds the extra files asked for (a Makefile, headers); on an unborn branch
    (no commit yet) it is all None and ``index`` holds the extra files' staged content too.
    """

    staged: tuple[str, ...]  # the paths whose index entry differs from HEAD, sorted
    head: dict[str, bytes | None]
    index: dict[str, bytes | None]
    unborn: bool = False


def _fail(args: Sequence[str], stderr: bytes, cwd: str | os.PathLike[str]) -> RepoError:
    return RepoError(
        f"git {args[0]} failed in {cwd}: {' '.join(stderr.decode('utf-8', 'replace').split())}"
    )


def _git(cwd: str | os.PathLike[str], *args: str, stdin: bytes | None = None) -> bytes:
    proc = run_git(args, cwd=cwd, stdin=stdin, timeout=120)
    if proc.returncode != 0:
        raise _fail(args, proc.stderr, cwd)
    return proc.stdout


def _checked(paths: Sequence[str]) -> list[str]:
    out = []
    for p in paths:
        rel = repo_relative(p)
        if rel is None or "\n" in rel:
            raise InputError(
                f"path {p!r} cannot be read from the index",
                "give a path relative to the repository root",
            )
        out.append(rel)
    return out


def read_blobs(cwd: str | os.PathLike[str], specs: Sequence[str]) -> list[bytes | None]:
    """The content of each object spec (``HEAD:mm/khugepaged.c``, a blob id) in one ``git
    cat-file --batch``; None for one that is missing or not a blob (a tree, a gitlink)."""
    if not specs:
        return []
    out = _git(cwd, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    found: list[bytes | None] = []
    pos = 0
    for _ in specs:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<spec> missing", "<spec> ambiguous"
            found.append(None)
            continue
        size = int(header[2])
        found.append(out[pos : pos + size] if header[1] == b"blob" else None)
        pos += size + 1
    return found


def _unborn_head(cwd: str | os.PathLike[str]) -> bool:
    """True on an unborn branch; False when HEAD is a commit; RepoError outside a repository."""
    args = ["rev-parse", "-q", "--verify", "HEAD^{commit}"]
    proc = run_git(args, cwd=cwd, timeout=60)
    if proc.returncode in (0, 1):  # 1: -q --verify found no HEAD commit
        return proc.returncode == 1
    if b"not a git repository" in proc.stderr:
        raise RepoError(f"{cwd}: not a git repository")
    raise _fail(args, proc.stderr, cwd)


def read_staged(
    cwd: str | os.PathLike[str], paths: Sequence[str], extra: Sequence[str] = ()
) -> StagedSnapshot:
    """Which of ``paths`` the index changes against HEAD, and both sides' content of them.

    ``extra``: files read at HEAD only (the kernel version's Makefile and headers), or from
    the index on an unborn branch. Conflict stages and gitlinks are no committable source:
    their staged content is None.
    """
    paths = _checked(paths)
    extra = [p for p in _checked(extra) if p not in paths]
    specs = [f":(top,literal){p}" for p in paths]
    args = [
        "diff-index",
        "--cached",
        "-z",
        "--no-renames",
        "--ignore-submodules",
        "HEAD",
        "--",
        *specs,
    ]
    proc = run_git(args, cwd=cwd, timeout=120)
    if proc.returncode != 0:
        if not _unborn_head(cwd):
            raise _fail(args, proc.stderr, cwd)
        return _unborn(cwd, paths, extra)
    fields = proc.stdout.split(b"\0")
    new_ids: dict[str, str | None] = {}
    for meta, raw in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.decode().split()  # ":100644 100644 <old> <new> M"
        if len(parts) != 5:
            continue
        path = raw.decode("utf-8", "surrogateescape")
        dst_mode, dst, status = parts[1], parts[3], parts[4][:1]
        committable = status not in _NO_NEW_BLOB and not dst_mode.startswith("160")
        new_ids[path] = dst if committable else None
    want = [p for p in new_ids if p in paths]
    wanted_ids = [i for i in (new_ids[p] for p in want) if i is not None]
    blobs = read_blobs(cwd, [f"HEAD:{p}" for p in paths + extra] + wanted_ids)
    head = dict(zip(paths + extra, blobs, strict=False))
    by_id = dict(zip(wanted_ids, blobs[len(paths) + len(extra) :], strict=False))
    index = {
        p: ((by_id.get(i) if (i := new_ids[p]) is not None else None) if p in new_ids else head[p])
        for p in paths
    }
    return StagedSnapshot(tuple(sorted(want)), head, index)


def _unborn(cwd: str | os.PathLike[str], paths: list[str], extra: list[str]) -> StagedSnapshot:
    """Before the first commit: every path in the index is staged, HEAD has nothing."""
    specs = [f":(top,literal){p}" for p in paths + extra]
    ids: dict[str, str] = {}
    present: set[str] = set()  # in the index at all, a conflict included (not a gitlink)
    for entry in _git(cwd, "ls-files", "-s", "-z", "--full-name", "--", *specs).split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        fields = meta.decode().split()
        if len(fields) != 3 or fields[0].startswith("160"):
            continue
        path = raw.decode("utf-8", "surrogateescape")
        present.add(path)
        if fields[2] == "0":
            ids[path] = fields[1]
    order = [p for p in paths + extra if p in ids]
    blobs = dict(zip(order, read_blobs(cwd, [ids[p] for p in order]), strict=False))
    index = {p: blobs.get(p) for p in paths + extra}
    staged = tuple(sorted(p for p in paths if p in present))
    return StagedSnapshot(staged, dict.fromkeys(paths + extra), index, unborn=True)
