"""What a command runs with, and how it ends on an error: typer-free, so the pre-commit hook's
fast path (``hookrun``) shares it with every command without importing the CLI framework.

Settings come from ``git config reviewbot.*``; rules are the built-in ones plus the user's
(``--rules``, else ``reviewbot.rulesPath``, else the repository's ``.reviewbot/rules/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from reviewbot.model.errors import ReviewbotError

LOCAL_RULES = Path(".reviewbot") / "rules"


def local_rules_dir(directory: Path | None) -> Path | None:
    """``.reviewbot/rules/`` at the top of the worktree ``directory`` is in, if it exists."""
    start = (directory if directory is not None else Path.cwd()).expanduser().absolute()
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d / LOCAL_RULES if (d / LOCAL_RULES).is_dir() else None
    return None


def user_rule_paths(flag: list[Path] | None, directory: Path | None, settings=None) -> list[Path]:
    """Where user rules come from, the first that is set: ``--rules``, ``git config
    reviewbot.rulesPath``, the repository's ``.reviewbot/rules/`` (b4-style layering: the
    nearer setting replaces the farther one, so one rule file is never loaded twice)."""
    if flag:
        return list(flag)
    settings = settings if settings is not None else settings_of(directory)
    if settings.rules_path:
        return list(settings.rules_path)
    local = local_rules_dir(directory)
    return [local] if local is not None else []


def rules_of(
    ids: list[str] | None,
    paths: list[Path] | None = None,
    directory: Path | None = None,
    settings=None,
):
    """The rules to run: built-in plus user rules (see :func:`user_rule_paths`), then ``ids``
    selected among all of them (every rule when None)."""
    from reviewbot.rules.spec import builtin_rules, combine, load_rules, select

    user = load_rules(user_rule_paths(paths, directory, settings))
    return select(combine(builtin_rules(), user), ids)


def settings_of(directory: Path | None):
    """``git config reviewbot.*`` as seen from ``directory`` (default: the cwd)."""
    from reviewbot.git.settings import load

    return load(directory)


def failure(e: BaseException) -> tuple[str | None, int] | None:
    """How a command ends on ``e``: (its one line on stderr, or None for none; the exit code).

    None: let it propagate (not an error of ours, or REVIEWBOT_TRACEBACK=1 asks for the
    traceback). Library errors exit 2; OSErrors the library did not anticipate (a path that is
    a file, not a directory; a full disk) are one line too; anything else is a bug, said in
    one line.
    """
    if isinstance(e, ReviewbotError):
        return str(e), 2
    if isinstance(e, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(e, BrokenPipeError):
        return None, 1
    if not isinstance(e, Exception) or os.environ.get("REVIEWBOT_TRACEBACK"):
        return None
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or e}", 2
    return (
        f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:200]} "
        "(please report it; REVIEWBOT_TRACEBACK=1 shows the traceback)",
        2,
    )
