"""Helpers for tests that run real git in tmp_path: an isolated git environment, a kernel-shaped
repository with a dirty worktree, and a snapshot of everything a command must not change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from histories import build, era

FIX = Path(__file__).resolve().parent.parent / "fixtures"
PATCH = next((FIX / "patches").glob("0001-*.patch"))

# Two 6.1 releases: v6.1.25 lacks the isolate guard, v6.1.26 (master) has it.
SPEC = (
    'commit r6125 "Linux 6.1.25" tag v6.1.25\n'
    + era("6.1.25", "v6.1.25.c")
    + "  file README = @text kernel\n"
    'commit r6126 "Linux 6.1.26" tag v6.1.26\n' + era("6.1.26", "v6.1.26.c")
)


def isolate_git(monkeypatch, tmp_path: Path) -> None:
    """No user or system git config, a fixed identity: tests see only what they set up.

    tests/conftest.py applies it to every test; calling it again with the same ``tmp_path``
    sets the same values, so explicit calls are harmless.
    """
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.touch()  # an empty global config: `git config --global` reads and writes only this
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # the verdict cache and demo history
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test Dev")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "dev@example.org")
    for var in GIT_OVERRIDES:
        monkeypatch.delenv(var, raising=False)


# Variables that would point git somewhere else than the repository a test names, or change
# what it reads (a developer's shell, or a test run from inside a git hook, may have them set).
GIT_OVERRIDES = (
    "GIT_DIR",
    "GIT_INDEX_FILE",
    "GIT_WORK_TREE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_DATE",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_OPTIONAL_LOCKS",
    "GIT_QUARANTINE_PATH",
    "GIT_PREFIX",
    "REVIEWBOT_TRACEBACK",
)


def git(
    repo: Path, *args: str, check: bool = True, env: dict | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess:
    """Run git in ``repo``; output as text."""
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        check=check,
        input=input,
        env={**os.environ, **(env or {})},
    )


def kernel_repo(tmp_path: Path, name: str = "linux") -> Path:
    """A non-bare kernel-shaped repository at v6.1.26 (every guard present)."""
    repo, _ = build(tmp_path / name, SPEC)
    return repo


def dirty(repo: Path) -> None:
    """Staged, unstaged and untracked changes, so status and index are not trivial."""
    src = repo / "mm" / "khugepaged.c"
    src.write_bytes(src.read_bytes().replace(b"// SPDX", b"/* staged */\n// SPDX", 1))
    git(repo, "add", "mm/khugepaged.c")
    (repo / "README").write_text("kernel\nunstaged edit\n")
    (repo / "untracked.txt").write_text("scratch\n")


def _tree_digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in skip):
            continue
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def snapshot(repo: Path, allow_hooks: bool = False) -> dict:
    """Everything a read-only command must leave as it was."""
    quiet = {"GIT_OPTIONAL_LOCKS": "0"}  # the snapshot itself must not refresh the index
    gitdir = repo / ".git"
    return {
        "index": (gitdir / "index").read_bytes(),
        "status": git(
            repo, "status", "--porcelain=v2", "--untracked-files=all", "--ignored", env=quiet
        ).stdout,
        "refs": git(repo, "for-each-ref", env=quiet).stdout,
        "config": (gitdir / "config").read_bytes(),
        "worktree": _tree_digest(repo, (".git",)),
        "gitdir": _tree_digest(gitdir, ("hooks",) if allow_hooks else ()),
    }
