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
    TextJson,
    TextOrJsonOpt,
    emit,
    local_changes,
    note,
    rules_of,
    run_command,
    settings_of,
    work_tree_top,
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
        root = sha = None
        if repo is not None:
            results, root, sha = check_repo(repo, rev, files, kernel_version, rules)
        elif not files and (top := work_tree_top(Path.cwd())) is not None:
            from reviewbot.checker.files import check_tree

            results = check_tree(top, rules, kernel_version)
            root = top
            note(f"checked the working tree of {top}: {', '.join(r.source for r in results)}")
        else:
            from reviewbot.checker.files import check_files

            results = check_files(files, rules, kernel_version)
        emit(results, rules, fmt, root=root, sha=sha)
        return any(c.status is Status.MISSING for r in results for c in r.checks)

    missing = run_command(work)
    raise typer.Exit(1 if missing else 0)


def check_repo(
    repo_path: Path, rev: str | None, files: list[Path] | None, kernel_version: str | None, rules
):
    """Check a revision: the rule's own files, or exactly the paths given, each on its own.

    Returns the results, the repository root (SARIF URIs are relative to it) and the sha read.
    """
    from reviewbot.checker.files import check_named
    from reviewbot.git.repository import Repository, safe_repo_path
    from reviewbot.history.sweep import check_ref, version_at

    repo = Repository(repo_path)
    revision = repo.resolve(rev or "HEAD")
    version = version_at(repo, revision, rules, kernel_version)
    if not files:
        results = check_ref(repo, revision, rules, None, version)
    else:
        results = []
        for f in files:
            path = safe_repo_path(str(f))
            data = repo.blob(revision, path)
            if data is None:
                raise InputError(f"{path}: no file of that name exists at {revision.name}")
            results += check_named(data, path, rules, version, ref=revision.name)
    top = work_tree_top(repo_path)
    if rev is None and top is not None:
        changed = local_changes(top, [c.path or r.source for r in results for c in r.checks])
        if changed:
            note(
                f"read HEAD ({revision.sha[:12]}), not the working tree: {', '.join(changed)} "
                "has local changes (check FILE reads them)"
            )
    return results, top or repo_path.resolve(), revision.sha


def rules(
    fmt: TextOrJsonOpt = TextJson.text,
) -> None:
    """List the built-in rules and their checks."""

    def work():
        import json

        from reviewbot.rules.spec import builtin_rules

        rs = builtin_rules()
        if fmt is TextJson.text:
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
