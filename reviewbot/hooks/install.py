"""Install and uninstall reviewbot's git hooks (``pre-commit``, ``sendemail-validate``).

The installed scripts are POSIX shell. They decide *before starting Python* whether reviewbot
has anything to look at: the paths the rules cover are written into the script at install time,
so ``pre-commit`` asks ``git diff --cached --quiet -- <paths>`` and ``sendemail-validate`` greps
the patch's diff headers; a commit or patch that touches none of them costs one git (or grep)
process. Only then does the script run ``python -m reviewbot hook run ...`` (``gate.py``).

Safety: a hook that is not ours is never overwritten silently. Without ``force`` install
refuses (before writing anything); with ``force`` it renames the existing hook to
``<hook>.reviewbot-chained`` and our script runs it first (same arguments; its failure is the
hook's failure). Uninstall removes only our scripts and puts a chained hook back. The hooks
directory comes from ``git rev-parse --git-path hooks``, which honours ``core.hooksPath`` and
resolves linked worktrees to the shared hooks directory. Nothing here imports GitPython or
tree-sitter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.git.runner import run_git
from reviewbot.model.errors import InputError, RepoError
from reviewbot.model.fileio import write_atomic

HOOKS = ("pre-commit", "sendemail-validate")
MARKER = "# reviewbot-hook:"
CHAINED = ".reviewbot-chained"
SCRIPT_VERSION = 2


@dataclass(frozen=True)
class HookAction:
    """What install/uninstall did to one hook."""

    hook: str
    path: Path
    action: str  # installed | updated | chained | removed | restored | absent | not-ours
    chained: Path | None = None

    def describe(self) -> str:
        """One line for the user."""
        if self.action == "chained":
            return f"{self.hook}: installed {self.path}; the existing hook was kept as {self.chained} and runs first"
        if self.action == "restored":
            return f"{self.hook}: removed reviewbot's hook; restored the previous hook from {self.chained}"
        if self.action == "not-ours":
            return f"{self.hook}: {self.path} is not reviewbot's hook; left alone"
        if self.action == "absent":
            return f"{self.hook}: no reviewbot hook in {self.path.parent}"
        return f"{self.hook}: {self.action} {self.path}"


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_git(args, cwd=directory, timeout=60)


def hooks_dir(repo: str | os.PathLike) -> Path:
    """The directory git runs hooks from for ``repo`` (``core.hooksPath`` and worktrees honoured)."""
    directory = Path(repo).expanduser()
    if not directory.exists():
        raise RepoError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise RepoError(f"{directory}: not a git repository")
    proc = _git(directory, "rev-parse", "--git-path", "hooks")
    if proc.returncode != 0:
        raise RepoError(f"{directory}: not a git repository")
    out = proc.stdout.decode("utf-8", "surrogateescape").strip()
    path = Path(out)
    return path if path.is_absolute() else (directory / path).resolve()


def covered_paths(rules) -> list[str]:
    """Every path a rule looks at, in first-seen order (written into the hook scripts)."""
    return list(dict.fromkeys(p for r in rules for p in r.paths))


def lookup_orders(rules) -> list[tuple[str, ...]]:
    """Each rule's paths in lookup order (``mm/khugepaged.c`` before ``mm/huge_memory.c``).

    The pre-commit script guards a rule's paths up to the first one present in the work tree:
    the later ones hold the code only in trees without it (huge_memory.c before 4.8).
    """
    return list(dict.fromkeys(tuple(r.paths) for r in rules if r.paths))


def _sq(text: str) -> str:
    """Single-quote ``text`` for sh."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _header(hook: str) -> str:
    return (
        "#!/bin/sh\n"
        f"{MARKER} {hook} v{SCRIPT_VERSION} (installed by 'reviewbot hook install'; 'reviewbot hook uninstall' removes it)\n"
        "# The guarded paths below were written at install time, so a change that touches none of\n"
        "# them is decided here without starting Python.\n"
    )


def _chain(hook: str) -> str:
    return (
        # ${0%/*}, not $(dirname): a fork and an exec less on every commit
        f'chained="${{0%/*}}/{hook}{CHAINED}"\n'
        'if [ -x "$chained" ]; then\n'
        '\t"$chained" "$@" || exit $?\n'
        "fi\n"
    )


def _launch(hook: str, python: str, args: str) -> str:
    return (
        f"python={_sq(python)}\n"
        'if [ ! -x "$python" ]; then\n'
        # only on this failure path: git config costs a process, the common path stays lean
        '\tif [ "$(git config --bool reviewbot.failClosed 2>/dev/null)" = true ]; then\n'
        f'\t\techo "reviewbot: $python is gone and reviewbot.failClosed is set: refused (run reviewbot hook install again, or bypass with --no-verify)" >&2\n'
        "\t\texit 1\n"
        "\tfi\n"
        f'\techo "reviewbot: $python is gone; guards not checked (run reviewbot hook install again, or reviewbot hook uninstall)" >&2\n'
        "\texit 0\n"
        "fi\n"
        f'exec "$python" -m reviewbot hook run {hook}{args}\n'
    )


def _pathspecs(groups: Sequence[str | tuple[str, ...]]) -> str:
    """sh that sets ``$@`` to the guarded pathspecs: each group up to its first present path."""
    out = ["set --\n"]
    for group in groups:
        paths = (group,) if isinstance(group, str) else group
        if len(paths) == 1:
            out.append(f'set -- "$@" {_sq(":(literal)" + paths[0])}\n')
            continue
        # lookup order: a later path holds the code only where the earlier ones are absent
        out.append(
            f"for p in {' '.join(_sq(p) for p in paths)}; do\n"
            '\tset -- "$@" ":(literal)$p"\n'
            '\t[ -f "$p" ] && break\n'
            "done\n"
        )
    return "".join(out)


def script(
    hook: str,
    paths: Sequence[str | tuple[str, ...]],
    python: str,
    rules_paths: tuple[str, ...] = (),
) -> str:
    """The shell script for ``hook``: chain, cheap pre-filter, then Python.

    ``paths``: guarded paths, or groups of them in lookup order (:func:`lookup_orders`).
    ``rules_paths`` (absolute) are recorded as ``--rules`` options: the hook runs the rules it
    was installed with.
    """
    rules = "".join(f" --rules {_sq(r)}" for r in rules_paths)
    flat = list(dict.fromkeys(p for g in paths for p in ((g,) if isinstance(g, str) else g)))
    if hook == "pre-commit":
        body = (
            _pathspecs(paths)
            + 'git diff --cached --quiet --no-ext-diff --no-textconv --ignore-submodules -- "$@"\n'
            "[ $? -eq 0 ] && exit 0  # 0: no guarded path staged (1: staged; other: let reviewbot say why)\n"
        )
        return _header(hook) + _chain(hook) + body + _launch(hook, python, rules)
    if hook == "sendemail-validate":
        alternation = "|".join(re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", p) for p in flat)
        pattern = rf"^(diff --git a/|--- a/|\+\+\+ b/)({alternation})([[:space:]]|$)"
        body = (
            f'grep -Eq -e {_sq(pattern)} -- "$1"\n'
            "[ $? -eq 1 ] && exit 0  # 1: the patch touches no guarded path (2: unreadable; let reviewbot say why)\n"
        )
        return _header(hook) + _chain(hook) + body + _launch(hook, python, f'{rules} "$@"')
    raise InputError(f"unknown hook {hook!r}", f"known hooks: {', '.join(HOOKS)}")


def is_ours(path: Path) -> bool:
    """True when ``path`` is a hook script reviewbot installed."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return MARKER.encode() in head


def parse_hooks(names: list[str] | None) -> list[str]:
    """Validate hook names (``pre-commit,sendemail-validate`` or repeated flags)."""
    if not names:
        return list(HOOKS)
    out: list[str] = []
    for item in names:
        for name in item.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in HOOKS:
                raise InputError(f"unknown hook {name!r}", f"known hooks: {', '.join(HOOKS)}")
            out.append(name)
    if not out:
        raise InputError("no hook named", f"known hooks: {', '.join(HOOKS)}")
    return list(dict.fromkeys(out))


def _write(path: Path, text: str) -> None:
    """Write an executable script atomically (a reader never sees half a hook)."""
    write_atomic(path, text, mode=0o755)


def install(
    repo: str | os.PathLike,
    hooks: list[str],
    paths: Sequence[str | tuple[str, ...]],
    force: bool = False,
    python: str | None = None,
    rules_paths: tuple[str, ...] = (),
) -> list[HookAction]:
    """Install ``hooks`` into ``repo``'s hooks directory; see the module docstring for safety.

    Every refusal is decided before anything is written, so a refused install changes nothing.
    """
    directory = hooks_dir(repo)
    python = python or sys.executable
    plan: list[tuple[str, Path, Path | None, str]] = []
    for hook in hooks:
        path = directory / hook
        chained = directory / f"{hook}{CHAINED}"
        exists = path.exists() or path.is_symlink()
        if exists and path.is_dir():
            raise InputError(f"{path} is a directory, not a hook")
        if exists and not is_ours(path):
            if not force:
                raise InputError(
                    f"{path}: an existing {hook} hook is not reviewbot's; not overwriting it",
                    "pass --force to keep it and run it before reviewbot's",
                )
            if chained.exists() or chained.is_symlink():
                raise InputError(f"{chained} already exists; move it away first")
            plan.append((hook, path, chained, "chained"))
        else:
            plan.append(
                (
                    hook,
                    path,
                    chained if chained.exists() else None,
                    "updated" if exists else "installed",
                )
            )
    directory.mkdir(parents=True, exist_ok=True)
    done = []
    for hook, path, previous, action in plan:
        if action == "chained":
            assert previous is not None  # planned with its destination above
            os.rename(path, previous)
        _write(path, script(hook, paths, python, rules_paths))
        done.append(HookAction(hook, path, action, previous))
    return done


def uninstall(repo: str | os.PathLike, hooks: list[str]) -> list[HookAction]:
    """Remove reviewbot's hooks from ``repo`` and restore chained hooks; others stay."""
    directory = hooks_dir(repo)
    done = []
    for hook in hooks:
        path = directory / hook
        chained = directory / f"{hook}{CHAINED}"
        has_chain = chained.exists() or chained.is_symlink()
        if path.exists() or path.is_symlink():
            if not is_ours(path):
                done.append(HookAction(hook, path, "not-ours"))
                continue
            path.unlink()
        elif not has_chain:
            done.append(HookAction(hook, path, "absent"))
            continue
        if has_chain:
            os.rename(chained, path)
            done.append(HookAction(hook, path, "restored", chained))
        else:
            done.append(HookAction(hook, path, "removed"))
    return done
