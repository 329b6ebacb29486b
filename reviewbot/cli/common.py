"""What every command shares: option spellings, output formats, and the one place
library errors become one line on stderr.

Every command spells a shared option the same way (sqlite-utils style); heavy modules
(tree-sitter, GitPython) are imported inside the helpers so ``--help`` and the hooks start fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reviewbot.cli.config import (
    failure,
)
from reviewbot.model.errors import InputError


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


class TextJson(StrEnum):
    """For commands whose output has no SARIF shape (offer only formats that work)."""

    text = "text"
    json = "json"


class SweepFormat(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    md = "md"
    html = "html"
    sarif = "sarif"


class ReportFormat(StrEnum):
    text = "text"
    md = "md"
    html = "html"
    json = "json"


# Shared option spellings (every command spells them the same way).
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
TextOrJsonOpt = Annotated[
    TextJson, typer.Option("--format", "-f", help="Output format (text or json).")
]
SweepFormatOpt = Annotated[
    SweepFormat,
    typer.Option(
        "--format", "-f", help="Output format (jsonl: one result object per line, for streaming)."
    ),
]
ReportFormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]
RepoOpt = Annotated[
    Path | None,
    typer.Option("--repo", help="A linux git checkout (bare works); nothing is checked out."),
]

RuleOpt = Annotated[
    list[str] | None,
    typer.Option("--rule", help="Rule id to run (repeatable; default: all built-in rules)."),
]

RulesPathOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="A rule file, or a directory of *.toml rule files, added to the built-in rules "
        "(repeatable; default: git config reviewbot.rulesPath, else .reviewbot/rules/ in the "
        "repository).",
    ),
]

KernelVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--kernel-version",
        help="Kernel version of the source, e.g. 6.1.20 (default: the tree's Makefile).",
    ),
]

TagsOpt = Annotated[
    list[str] | None,
    typer.Option("--tags", help="Glob of tags to include, e.g. 'v5.10.*' (repeatable)."),
]

BranchesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--branches",
        help="Glob of branches to include, e.g. 'linux-*.y' (repeatable; remote-tracking branches match without their remote).",
    ),
]

SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Drop refs older than this kernel version, e.g. 5.4.")
]

OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the output to FILE instead of stdout.")
]

NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Neither read nor write the verdict cache ($XDG_CACHE_HOME/reviewbot)."
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"reviewbot: error: {message}", err=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    typer.echo(f"reviewbot: warning: {message}", err=True)


def console():
    from rich.console import Console

    # Colour only on a real terminal; NO_COLOR is honoured by rich itself.
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def note(message: str) -> None:
    """One informational line on stderr (what was read), never mixed into the output."""
    typer.echo(f"reviewbot: {message}", err=True)


def emit(results, rules, fmt: Format, root: Path | None = None, sha: str | None = None) -> None:
    """Print check results; ``root``: the repository root SARIF URIs are relative to;
    ``sha``: the commit a ``--repo`` check read (JSON names it next to the ref)."""
    from reviewbot.render import checks as render

    if fmt is Format.json:
        sys.stdout.write(render.to_json(results, sha=sha))
    elif fmt is Format.sarif:
        sys.stdout.write(render.to_sarif(results, rules, root=root))
    else:
        render.text(results, console())


def run_command(fn):
    """Call ``fn`` and turn library errors into one line on stderr + exit 2 (see
    :func:`reviewbot.cli.config.failure`; REVIEWBOT_TRACEBACK=1 shows a traceback)."""
    try:
        return fn()
    except typer.Exit:
        raise
    except BaseException as e:
        how = failure(e)
        if how is None:
            raise
        message, code = how
        if message is None:
            raise typer.Exit(code) from None
        raise fail(message, code) from None


def open_repo(repo_path: Path | None, required: bool = False):
    """The repository ``--repo`` names, else the one the current directory is in. ``required``:
    outside any repository that is a usage error (report and sweep say "not a git repository")."""
    from reviewbot.git.repository import Repository
    from reviewbot.model.errors import RepoError

    if repo_path is not None:
        return Repository(repo_path)
    try:
        return Repository(Path.cwd())
    except RepoError:
        if not required:
            raise
        raise InputError(
            "--repo is required outside a git repository",
            "give the linux checkout that holds the target refs",
        ) from None


def work_tree_top(directory: Path) -> Path | None:
    """The top of the git work tree ``directory`` is in; None outside one (or in a bare repo)."""
    from reviewbot.git.runner import run_git

    if not directory.is_dir():
        return None
    proc = run_git(["rev-parse", "--show-toplevel"], cwd=directory, timeout=30)
    out = proc.stdout.decode("utf-8", "surrogateescape").strip()
    return Path(out) if proc.returncode == 0 and out else None


def local_changes(top: Path, paths: list[str]) -> list[str]:
    """Which of ``paths`` (repository-relative) differ in the work tree at ``top`` from HEAD."""
    from reviewbot.git.runner import run_git

    wanted = sorted({p for p in paths if p})
    if not wanted:
        return []
    specs = [f":(literal){p}" for p in wanted]
    proc = run_git(["diff", "HEAD", "--name-only", "-z", "--", *specs], cwd=top, timeout=120)
    if proc.returncode != 0:
        return []
    return sorted(p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p)


def verdict_cache(no_cache: bool):
    from reviewbot.store.cache import VerdictCache

    cache = VerdictCache(None) if no_cache else VerdictCache.default()
    if cache.warning:
        warn(cache.warning)
    return cache


def in_output_dir(path: Path | None, settings) -> Path | None:
    """A relative ``-o FILE`` lands under ``reviewbot.outputDir`` when that is set."""
    if path is None or path.is_absolute() or settings.output_dir is None:
        return path
    return settings.output_dir / path


def write(output: Path | None, text: str) -> None:
    from reviewbot.checker.files import write_output

    if write_output(output, text):
        typer.echo(f"wrote {output}", err=True)


def read_patch(spec: str):
    from reviewbot.diffs.patches import read_mail
    from reviewbot.model.fileio import read_file

    if spec == "-":
        return read_mail(sys.stdin.buffer.read(), "stdin")
    return read_mail(read_file(Path(spec), "patch"), spec)
