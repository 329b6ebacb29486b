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
    RulesPathOpt,
    TextJson,
    TextOrJsonOpt,
    emit,
    local_changes,
    note,
    run_command,
    work_tree_top,
)
from reviewbot.cli.config import rules_of, settings_of


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
    rules_path: RulesPathOpt = None,
) -> None:
    """Check khugepaged's uffd-wp guards (scan, isolate, file path) in files or at a ref.

    Exit 0 when every applicable guard is present, 1 when one is missing, 2 on bad input.
    """

    def work():
        from reviewbot.model.results import Status
        from reviewbot.model.versions import KernelVersion

        settings = settings_of(repo)
        rules = rules_of(settings.rules_or(rule), rules_path, repo, settings)
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
            note(
                f"checked the working tree of {top}: {', '.join(dict.fromkeys(r.source for r in results))}"
            )
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


rules_app = typer.Typer(
    name="rules",
    help="The rules (built-in and your own) and their checks; 'rules test' runs their examples.",
    invoke_without_command=True,
)


@rules_app.callback()
def rules(
    ctx: typer.Context,
    fmt: TextOrJsonOpt = TextJson.text,
    rules_path: RulesPathOpt = None,
) -> None:
    """List the rules (built-in plus --rules / reviewbot.rulesPath / .reviewbot/rules/) and their checks."""
    if ctx.invoked_subcommand is not None:
        return

    def work():
        import json

        rs = rules_of(None, rules_path, None)
        if fmt is TextJson.text:
            for r in rs:
                origin = "" if not r.digest else f" from {r.origin}"
                typer.echo(f"{r.id} (version {r.version}{origin}): {r.title}")
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


@rules_app.command("test")
def rules_test(
    rules_path: RulesPathOpt = None,
    rule: RuleOpt = None,
) -> None:
    """Run the rules' own examples ([[tests]] in each rule file): one line per example.

    Exit 0 when every example gives its expected verdicts, 1 when one does not, 2 on a bad
    rule file.
    """

    def work():
        from reviewbot.checker.examples import run_examples

        outcomes = run_examples(rules_of(rule, rules_path, None))
        for o in outcomes:
            mark = "ok  " if o.passed else "FAIL"
            typer.echo(f"{mark} {o.rule}: {o.example.name} [{o.example.origin}]")
            for f in o.failures:
                typer.echo(f"     {f}")
        failed = sum(not o.passed for o in outcomes)
        typer.echo(f"{len(outcomes)} examples, {failed} failed", err=True)
        return failed

    raise typer.Exit(1 if run_command(work) else 0)
