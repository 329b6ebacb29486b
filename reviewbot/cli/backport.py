"""``reviewbot backport`` and ``reviewbot validate``: stable mails generated, and proposed ones reviewed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from reviewbot.cli.common import (
    Format,
    FormatOpt,
    InputError,
    RepoOpt,
    RuleOpt,
    RulesPathOpt,
    TextJson,
    TextOrJsonOpt,
    open_repo,
    read_patch,
    run_command,
    work_tree_top,
)
from reviewbot.cli.config import rules_of, settings_of


def backport(
    repo: RepoOpt = None,
    commit: Annotated[
        str | None, typer.Option("--commit", help="The upstream fix as a commit in the repository.")
    ] = None,
    patch: Annotated[
        str | None,
        typer.Option(
            "--patch", help="The upstream fix as a format-patch/mbox file ('-' for stdin)."
        ),
    ] = None,
    onto: Annotated[
        list[str] | None, typer.Option("--onto", help="Target ref (repeatable).")
    ] = None,
    branches: Annotated[
        list[str] | None,
        typer.Option(
            "--branches",
            help="Every branch matching this glob, e.g. 'linux-*.y' (repeatable; remote-tracking branches match without their remote).",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            help="Write one mail per generated target under DIR/<ref>/ (default: git config reviewbot.outputDir, else none).",
        ),
    ] = None,
    subject_prefix: Annotated[
        str | None,
        typer.Option(
            "--subject-prefix",
            help="Subject prefix; {series} is the target's X.Y (default 'PATCH {series}').",
        ),
    ] = None,
    mainline: Annotated[
        str | None,
        typer.Option(
            "--mainline",
            help="Where to look for possible dependencies when the fix commit is not in the repository (default: master/main).",
        ),
    ] = None,
    fmt: TextOrJsonOpt = TextJson.text,
    rule: RuleOpt = None,
    rules_path: RulesPathOpt = None,
) -> None:
    """Generate stable backports that apply with git am, one per target ref.

    Each target is generated (exact, relocated or transformed, validated before it is written),
    already-fixed, not-affected, or failed with the hunk, the missing anchor, the nearest
    candidate and possible dependencies. Exit 0 when nothing failed, 1 when a target failed,
    2 on bad input.
    """

    def work():
        import json

        from reviewbot.backport.generate import backport as run_backport
        from reviewbot.history.refs import select_branches
        from reviewbot.history.upstream import upstream_from_spec

        settings = settings_of(repo)
        rules = rules_of(settings.rules_or(rule), rules_path, repo, settings)
        out_dir = settings.output_dir_or(output_dir)
        if (commit is None) == (patch is None):
            raise InputError("give the fix with exactly one of --commit SHA or --patch FILE")
        if not onto and not branches:
            raise InputError("no target given", "use --onto REF (repeatable) or --branches GLOB")
        repository = open_repo(repo, required=True)
        upstream = upstream_from_spec(
            repository, commit, None if patch is None else read_patch(patch)
        )
        if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
            raise InputError(f"--output-dir {out_dir}: not a directory")
        refs = list(onto or []) + (select_branches(repository, branches) if branches else [])
        main_sha = repository.resolve(mainline).sha if mainline else None
        run = run_backport(
            repository,
            upstream,
            refs,
            rules,
            prefix=subject_prefix,
            output_dir=out_dir,
            mainline=main_sha,
        )
        if fmt is TextJson.json:
            sys.stdout.write(json.dumps(run.to_json(), indent=2) + "\n")
        else:
            typer.echo("\n".join(run.lines()))
        return run.failed

    failed = run_command(work)
    raise typer.Exit(1 if failed else 0)


def validate(
    patch_arg: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATCH]",
            help="The proposed backport, as with --patch (reviewbot validate --onto REF PATCH).",
            show_default=False,
        ),
    ] = None,
    repo: RepoOpt = None,
    patch: Annotated[
        str | None,
        typer.Option(
            "--patch", help="The proposed backport (format-patch/mbox file, '-' for stdin)."
        ),
    ] = None,
    onto: Annotated[str | None, typer.Option("--onto", help="The ref the backport is for.")] = None,
    upstream: Annotated[
        str | None,
        typer.Option(
            "--upstream",
            help="The upstream fix: a commit or a patch file (default: the 'commit <sha> upstream.' line).",
        ),
    ] = None,
    fmt: FormatOpt = Format.text,
    rule: RuleOpt = None,
    rules_path: RulesPathOpt = None,
    strict: Annotated[
        bool | None,
        typer.Option(
            "--strict/--no-strict",
            help="Refuse any deviation from upstream, even a documented one (default: git config reviewbot.strict).",
        ),
    ] = None,
) -> None:
    """Validate a proposed backport: applies, parses, guards, scope, equivalence, need.

    Exit 0 when accepted, 1 when a check fails, 2 on bad input.
    """

    def work():
        import json

        from reviewbot import __version__
        from reviewbot.backport.validate import validate as run_validate
        from reviewbot.history.upstream import upstream_from_spec
        from reviewbot.model.results import SCHEMA

        settings = settings_of(repo)
        rules = rules_of(settings.rules_or(rule), rules_path, repo, settings)
        if patch is not None and patch_arg is not None and patch != patch_arg:
            raise InputError(f"two backports given: {patch_arg} and --patch {patch}; give one")
        proposal = patch if patch is not None else patch_arg
        if proposal is None or onto is None:
            raise InputError("validate needs --patch FILE (or PATCH) and --onto REF")
        repository = open_repo(repo, required=True)
        proposed = read_patch(proposal)
        rev = repository.resolve(onto)
        up = None
        if upstream is not None:
            mail = read_patch(upstream) if upstream == "-" or Path(upstream).is_file() else None
            up = upstream_from_spec(repository, upstream, mail, "--upstream")
        v = run_validate(repository, proposed, rev, rules, up, strict=settings.strict_or(strict))
        if fmt is Format.sarif:
            from reviewbot.render.validation import to_sarif

            root = work_tree_top(repository.path) or repository.path
            sys.stdout.write(to_sarif(v, proposed, root))
        elif fmt is Format.json:
            doc = {
                "schema": SCHEMA,
                "tool": {"name": "reviewbot", "version": __version__},
                "validation": v.to_json(),
            }
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            typer.echo(
                f"validate {proposed.subject!r} on {rev.name}"
                + (f" (upstream {v.upstream})" if v.upstream else " (no upstream fix)")
            )
            typer.echo("\n".join(v.lines()))
        return v.accepted

    accepted = run_command(work)
    raise typer.Exit(0 if accepted else 1)
