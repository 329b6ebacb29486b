"""``reviewbot check`` and ``reviewbot rules``: guards in files or at a ref, and the rules that define them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reviewbot.cli.common import (
    Format,
    FormatOpt,
    InputError,
    KernelVersionOpt,
    RepoOpt,
    RuleOpt,
    emit,
    rules_of,
    run_command,
    settings_of,
)


def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="C files to check (with --repo: paths inside the repository)."),
    ] = None,
    repo: RepoOpt = None,
    rev: Annotated[
        str | None, typer.Option("--rev", help="Revision to read with --repo (default HEAD).")
    ] = None,
    kernel_version: KernelVersionOpt = None,
    fmt: FormatOpt = Format.text,
    rule: RuleOpt = None,
) -> None:
    """Check khugepaged's uffd-wp guards (scan, isolate, file path) in files or at a ref.

    Exit 0 when every applicable guard is present, 1 when one is missing, 2 on bad input.
    """

    def work():
        from reviewbot.model.results import Status
        from reviewbot.model.versions import KernelVersion

        rules = rules_of(settings_of(repo).rules_or(rule))
        if repo is None and rev is not None:
            raise InputError("--rev needs --repo")
        if kernel_version is not None:
            KernelVersion.parse(kernel_version)
        if repo is not None:
            results = check_repo(repo, rev, files, kernel_version, rules)
        else:
            from reviewbot.checker.files import check_files

            results = check_files(files, rules, kernel_version)
        emit(results, rules, fmt)
        return any(c.status is Status.MISSING for r in results for c in r.checks)

    missing = run_command(work)
    raise typer.Exit(1 if missing else 0)


def check_repo(
    repo_path: Path, rev: str | None, files: list[Path] | None, kernel_version: str | None, rules
):
    from reviewbot.git.repository import Repository, safe_repo_path
    from reviewbot.history.sweep import check_ref, version_at

    repo = Repository(repo_path)
    revision = repo.resolve(rev or "HEAD")
    paths = [safe_repo_path(str(f)) for f in files] if files else None
    version = version_at(repo, revision, rules, kernel_version)
    return check_ref(repo, revision, rules, paths, version)


def rules(
    fmt: FormatOpt = Format.text,
) -> None:
    """List the built-in rules and their checks."""

    def work():
        import json

        from reviewbot.rules.spec import builtin_rules

        rs = builtin_rules()
        if fmt is Format.text:
            for r in rs:
                typer.echo(f"{r.id} (version {r.version}): {r.title}")
                for c in r.checks:
                    since = (
                        f", from {c.feature.since.series}" if c.feature and c.feature.since else ""
                    )
                    sites = ", ".join(s.id for s in c.sites if s.id) or ", ".join(
                        c.sites[0].functions
                    )
                    typer.echo(f"  {c.id:8} {c.kind:9} {c.title} [{sites}{since}]")
        else:
            doc = [
                {
                    "id": r.id,
                    "version": r.version,
                    "title": r.title,
                    "checks": [c.id for c in r.checks],
                }
                for r in rs
            ]
            typer.echo(json.dumps(doc, indent=2))

    run_command(work)
