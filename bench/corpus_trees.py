#!/usr/bin/env python3
"""Fair target trees for bench/backport_corpus_bench.py: a real stable tree under each pre-image.

A maintainer ports a fix inside a whole checkout, so a tool may look up a macro in include/ or a
helper in another mm/ file. Each corpus entry's target is therefore the nearest Debian
``linux-source-<series>`` tree (the version closest to and not newer than the entry's
``base_version`` when one exists, else the nearest newer one) with the entry's exact pre-image
files on top.

Cost is kept down by building every Debian tree once into one shared bare repository,
``bench/work/corpus-bench/trees.git`` (git stores the blobs the versions share once), with one
persistent worktree per Debian version under ``bench/work/corpus-bench/trees/``. An entry's target
is a root commit whose tree is that base tree with the pre-image blobs swapped in (``read-tree`` +
``update-index`` in a private index, no checkout), so switching the worktree to it rewrites only
the few files that differ. Everything is reused across runs; delete the folder to rebuild.

The Debian trees come from ``/work/deb/x/linux-source-<series>_<version>/`` (see
``--trees-from``): the Debian source tarball's ``mm/``, ``include/``, ``arch/*/mm/``, ``lib/``,
``kernel/`` and ``fs/`` folders (no Makefiles, no ``arch/*/include/``), about 9-11k files per
version. A folder counts once its extraction finished (its ``.done`` marker exists); a base is
rebuilt when that marker is newer than the base (the folder was extracted again).

    python bench/corpus_trees.py [--trees-from DIR]   # build (or reuse) and list the trees
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.model.versions import KernelVersion, version_order_key  # noqa: E402

# resolved: bench/work may be a symlink shared by several worktrees of the project
WORK = (ROOT / "bench" / "work").resolve() / "corpus-bench"
DEBIAN_TREES = Path("/work/deb/x")
# Fixed identity and dates: the same inputs give the same commits on every run.
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}
_SRC = re.compile(r"linux-source-(\d+\.\d+)_(\d+\.\d+\.\d+)")


def git(
    cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None, data: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run git in ``cwd`` with the bench identity (plus ``env``), ``data`` on stdin."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**ENV, **(env or {})},
        input=data,
        capture_output=True,
        check=False,
    )
    if check and proc.returncode:
        raise RuntimeError(
            f"git {' '.join(args)} in {cwd}: {proc.stderr.decode(errors='replace').strip()}"
        )
    return proc


@dataclass(frozen=True)
class DebianTree:
    """One extracted Debian linux-source tree."""

    version: KernelVersion
    name: str  # the upstream version the package carries, e.g. 6.1.170
    path: Path
    stamp: int  # when its extraction finished (the ``.done`` marker's mtime, ns)


def debian_trees(where: Path = DEBIAN_TREES) -> list[DebianTree]:
    """Every finished ``linux-source-<series>_<version>/`` under ``where``, in version order."""
    out = []
    for d in where.glob("linux-source-*_*"):
        m = _SRC.fullmatch(d.name)
        kv = KernelVersion.try_parse(m.group(2)) if m else None
        done = d / ".done"
        if kv is None or m is None or not done.is_file() or not (d / "mm").is_dir():
            continue
        out.append(DebianTree(kv, m.group(2), d, done.stat().st_mtime_ns))
    return sorted(out, key=lambda t: version_order_key(t.version, t.name))


def nearest_tree(base: str, trees: list[DebianTree]) -> DebianTree | None:
    """The tree of ``base``'s series closest to and not newer than it, else the nearest newer one.

    ``base`` is a corpus ``base_version`` ("6.1.152 (+ 5c07ebb372d6 from the same release)"):
    its first word is the version. None when no tree of the series exists.
    """
    kv = KernelVersion.parse(base.split()[0])
    same = [t for t in trees if (t.version.major, t.version.minor) == (kv.major, kv.minor)]
    older = [t for t in same if t.version.patch <= kv.patch]
    if older:
        return max(older, key=lambda t: t.version.patch)
    return min(same, key=lambda t: t.version.patch, default=None)


def version_makefile(version: str) -> bytes:
    """A top-level Makefile declaring ``version`` (e.g. 6.1.152) the way the kernel's does."""
    kv = KernelVersion.parse(version)
    return (
        f"# SPDX-License-Identifier: GPL-2.0\nVERSION = {kv.major}\nPATCHLEVEL = {kv.minor}\n"
        f"SUBLEVEL = {kv.patch}\nEXTRAVERSION =\n"
    ).encode()


class TreeStore:
    """The shared bare repository of base trees and one worktree per Debian version."""

    def __init__(self, work: Path = WORK) -> None:
        self.git_dir = work / "trees.git"
        self.worktrees = work / "trees"
        work.mkdir(parents=True, exist_ok=True)
        # one run at a time per folder: a second one waits instead of switching our worktrees
        self._lock = (work / "lock").open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        if not (self.git_dir / "HEAD").is_file():
            self.git_dir.mkdir(parents=True, exist_ok=True)
            git(self.git_dir, "init", "-q", "--bare")
        # a worktree folder deleted by hand must not block a new one of the same name
        git(self.git_dir, "worktree", "prune")

    def base(self, tree: DebianTree) -> str:
        """The commit holding ``tree`` (built on first use: some seconds per version)."""
        ref = f"refs/heads/debian/{tree.name}"
        got = git(self.git_dir, "rev-parse", "-q", "--verify", ref, check=False)
        if got.returncode == 0:
            sha = got.stdout.decode().strip()
            # the commit records the extraction it was built from: reuse it only for that one
            msg = git(self.git_dir, "log", "-1", "--format=%B", sha).stdout.decode()
            if f"stamp {tree.stamp}" in msg:
                return sha
        index = self.git_dir / f"index-{tree.name}"
        env = {"GIT_INDEX_FILE": str(index)}
        where = ["--git-dir", str(self.git_dir), "--work-tree", str(tree.path)]
        # -f: the Debian tarball is the release as shipped, .gitignore patterns included
        git(tree.path, *where, "add", "-A", "-f", ".", ":(exclude).done", env=env)
        sha = git(self.git_dir, "write-tree", env=env).stdout.decode().strip()
        msg = f"Debian linux-source {tree.name} from {tree.path}\n\nstamp {tree.stamp}\n"
        commit = git(self.git_dir, "commit-tree", sha, "-m", msg).stdout.decode().strip()
        git(self.git_dir, "update-ref", ref, commit)
        index.unlink()
        return commit

    def worktree(self, tree: DebianTree) -> Path:
        """The persistent worktree of ``tree``'s version (checked out once)."""
        wt = self.worktrees / tree.name
        if not (wt / ".git").exists():
            self.worktrees.mkdir(parents=True, exist_ok=True)
            git(self.git_dir, "worktree", "add", "-q", "-f", "--detach", str(wt), self.base(tree))
        return wt

    def target(
        self, tree: DebianTree, label: str, pre: dict[str, bytes], version: str
    ) -> tuple[Path, str]:
        """The worktree of ``tree`` checked out at a root commit: the tree with ``pre`` on top.

        The extracts carry no top-level Makefile, the file a kernel tree's version is read from;
        the target gets one that declares ``version`` (the entry's stable base) and nothing else.
        """
        base = self.base(tree)
        index = self.git_dir / "index-entry"
        env = {"GIT_INDEX_FILE": str(index)}
        git(self.git_dir, "read-tree", base, env=env)
        files = dict(pre)
        if git(self.git_dir, "cat-file", "-e", f"{base}:Makefile", check=False).returncode:
            files["Makefile"] = version_makefile(version)
        for rel, data in files.items():
            blob = git(self.git_dir, "hash-object", "-w", "--stdin", data=data).stdout.decode()
            git(
                self.git_dir,
                "update-index",
                "--add",
                "--cacheinfo",
                f"100644,{blob.strip()},{rel}",
                env=env,
            )
        sha = git(self.git_dir, "write-tree", env=env).stdout.decode().strip()
        index.unlink()
        msg = f"{label}: stable pre-image on Debian linux-source {tree.name}"
        commit = git(self.git_dir, "commit-tree", sha, "-m", msg).stdout.decode().strip()
        git(self.git_dir, "update-ref", f"refs/bench/{label}", commit)
        wt = self.worktree(tree)
        # a run stopped inside ``git am`` leaves its session behind: never inherit it
        git(wt, "am", "--abort", check=False)
        git(wt, "checkout", "-q", "-f", "--detach", commit)
        git(wt, "clean", "-qfdx")
        return wt, commit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trees-from", type=Path, default=DEBIAN_TREES)
    args = ap.parse_args()
    store = TreeStore()
    for t in debian_trees(args.trees_from):
        t0 = time.monotonic()
        sha = store.base(t)
        n = len(git(store.git_dir, "ls-tree", "-r", "--name-only", sha).stdout.splitlines())
        print(f"{t.name}: {sha[:12]} {n} files ({time.monotonic() - t0:.1f} s) from {t.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
