"""Settings from ``git config reviewbot.*``, b4 style: defaults, then git config, then flags.

Read with one ``git config`` process (no GitPython: the hooks start fast), from the repository
the command works on, so system, global, repository and worktree config all count the way git
layers them. Keys (case-insensitive, like every git config key):

- ``reviewbot.rules`` — rule ids to run, comma- or space-separated; may be given several times;
- ``reviewbot.strict`` — boolean: the hooks also block on guards that were already missing;
- ``reviewbot.outputDir`` — default directory for commands that write files (``-o``,
  ``--output-dir``); a relative one is relative to the repository's top, not the cwd.
- ``reviewbot.rulesPath`` — rule files or directories to add to the built-in rules (may be
  given several times; relative to the repository), like ``--rules``.
- ``reviewbot.failClosed`` — boolean: refuse what cannot be checked (the hook's Python is gone,
  a patch does not apply) instead of letting it through with a warning.

Flags always override: ``Settings.rules_or(flag)``, ``strict_or(flag)``, ``output_dir_or(flag)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reviewbot.git.runner import run_git
from reviewbot.model.errors import InputError, RepoError

_TRUE = {"true", "yes", "on", "1", ""}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Settings:
    """The ``reviewbot.*`` settings in effect for one repository (empty when unset)."""

    rules: tuple[str, ...] = ()
    strict: bool = False
    output_dir: Path | None = None
    rules_path: tuple[Path, ...] = ()
    fail_closed: bool = False
    origin: dict[str, str] | None = None  # key -> raw value, for messages

    def rules_or(self, flag: list[str] | None) -> list[str] | None:
        """Rule ids: the flag when given, else the config, else None (every built-in rule)."""
        return list(flag) if flag else (list(self.rules) or None)

    def strict_or(self, flag: bool | None) -> bool:
        """Strictness: the flag when given (``--strict``/``--no-strict``), else the config."""
        return self.strict if flag is None else flag

    def output_dir_or(self, flag: Path | None, default: Path | None = None) -> Path | None:
        """Output directory: the flag, else ``reviewbot.outputDir``, else ``default``."""
        return flag if flag is not None else (self.output_dir or default)


def parse_bool(key: str, value: str) -> bool:
    """A git-config boolean (true/yes/on/1, false/no/off/0; a bare key is true)."""
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise InputError(f"git config {key}: {value!r} is not a boolean", "use true or false")


def parse_entries(entries: list[tuple[str, str]], base: Path | None = None) -> Settings:
    """Build :class:`Settings` from ``(key, value)`` pairs as ``git config -z --get-regexp`` gives them."""
    rules: list[str] = []
    strict = False
    output_dir = None
    rules_path: list[Path] = []
    fail_closed = False
    raw: dict[str, str] = {}
    for key, value in entries:
        k = key.lower()
        raw[k] = value
        if k == "reviewbot.rules":
            rules += [r for r in value.replace(",", " ").split() if r]
        elif k == "reviewbot.strict":
            strict = parse_bool(key, value)
        elif k == "reviewbot.failclosed":
            fail_closed = parse_bool(key, value)
        elif k == "reviewbot.outputdir":
            p = Path(value).expanduser()
            output_dir = p if p.is_absolute() or base is None else base / p
        elif k == "reviewbot.rulespath":
            p = Path(value).expanduser()
            rules_path.append(p if p.is_absolute() or base is None else base / p)
    return Settings(
        tuple(dict.fromkeys(rules)), strict, output_dir, tuple(rules_path), fail_closed, raw
    )


def load(directory: str | os.PathLike | None = None) -> Settings:
    """Read ``reviewbot.*`` from git config as seen from ``directory`` (default: the cwd).

    Outside a repository only the system and global config count; without git, no settings.
    """
    cwd = Path(directory).expanduser() if directory is not None else Path.cwd()
    if not cwd.is_dir():
        cwd = cwd.parent if cwd.parent.is_dir() else Path.cwd()
    try:
        proc = run_git(["config", "-z", "--get-regexp", r"^reviewbot\."], cwd=cwd, timeout=30)
    except RepoError:  # no git at all: nothing configured
        return Settings()
    if proc.returncode not in (0, 1):  # 1: no such key
        return Settings()
    entries = []
    for item in proc.stdout.decode("utf-8", "replace").split("\0"):
        if not item:
            continue
        key, _, value = item.partition("\n")
        entries.append((key, value))
    return parse_entries(entries, _top(cwd) if _relative_output_dir(entries) else cwd)


def _relative_output_dir(entries: list[tuple[str, str]]) -> bool:
    return any(
        k.lower() == "reviewbot.outputdir" and not Path(v).expanduser().is_absolute()
        for k, v in entries
    )


def _top(cwd: Path) -> Path:
    """Where a relative ``reviewbot.outputDir`` starts: the work tree's top (a bare
    repository's git dir), so it means the same from any subdirectory; else ``cwd``."""
    proc = run_git(["rev-parse", "--show-toplevel", "--absolute-git-dir"], cwd=cwd, timeout=30)
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if proc.returncode == 0 and len(lines) == 2:
        return Path(lines[0])
    proc = run_git(["rev-parse", "--absolute-git-dir"], cwd=cwd, timeout=30)
    out = proc.stdout.decode("utf-8", "surrogateescape").strip()
    return Path(out) if proc.returncode == 0 and out else cwd
