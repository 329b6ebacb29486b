"""``reviewbot hook install|uninstall|run``: the git hooks."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reviewbot.cli.common import RepoOpt, RuleOpt, RulesPathOpt, run_command
from reviewbot.cli.config import rules_of, settings_of

hook_app = typer.Typer(
    name="hook",
    help="Install, remove and run reviewbot's git hooks (pre-commit, sendemail-validate).",
    no_args_is_help=True,
)


class HookName(StrEnum):
    pre_commit = "pre-commit"
    sendemail_validate = "sendemail-validate"


HooksOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--hooks",
        help="Hooks, comma-separated or repeated (default: pre-commit,sendemail-validate).",
    ),
]


def hook_repo(repo: Path | None) -> Path:
    return repo if repo is not None else Path.cwd()


def hook_install(
    repo: RepoOpt = None,
    hooks: HooksOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Keep an existing hook that is not reviewbot's and run it first."
        ),
    ] = False,
    rules_path: RulesPathOpt = None,
) -> None:
    """Install the git hooks (in the hooks directory git uses: core.hooksPath and worktrees honoured).

    An existing hook that is not reviewbot's is refused, or with --force kept and chained to.
    --rules is recorded in the hooks (as absolute paths), so they run the same rules.
    """

    def work():
        from reviewbot.hooks.install import install, lookup_orders, parse_hooks

        rules = rules_of(None, rules_path, repo)  # a bad rule file is refused before writing
        recorded = tuple(str(p.expanduser().absolute()) for p in rules_path or [])
        for action in install(
            hook_repo(repo), parse_hooks(hooks), lookup_orders(rules), force, rules_paths=recorded
        ):
            typer.echo(action.describe())

    run_command(work)


def hook_uninstall(repo: RepoOpt = None, hooks: HooksOpt = None) -> None:
    """Remove reviewbot's git hooks and restore the hooks they chained to."""

    def work():
        from reviewbot.hooks.install import parse_hooks, uninstall

        for action in uninstall(hook_repo(repo), parse_hooks(hooks)):
            typer.echo(action.describe())

    run_command(work)


def hook_run(
    hook: Annotated[
        HookName,
        typer.Argument(
            metavar="HOOK", help="pre-commit, or sendemail-validate with the patch file."
        ),
    ],
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[FILE]...",
            help="sendemail-validate: the patch (git may add a header file; ignored).",
        ),
    ] = None,
    repo: RepoOpt = None,
    rule: RuleOpt = None,
    rules_path: RulesPathOpt = None,
    strict: Annotated[
        bool | None,
        typer.Option(
            "--strict/--no-strict",
            help="Also refuse guards that were already missing (default: git config reviewbot.strict).",
        ),
    ] = None,
) -> None:
    """Run a hook's check now (the installed hooks call this).

    Exit 0 to let the commit or mail through, 1 to refuse it, 2 on bad input.
    """

    def work():
        from reviewbot.git.repository import Repository
        from reviewbot.hooks.gate import run_hook

        settings = settings_of(repo)
        rules = rules_of(settings.rules_or(rule), rules_path, repo, settings)
        messages, blocked = run_hook(
            Repository(hook_repo(repo)),
            hook.value,
            files or [],
            rules,
            settings.strict_or(strict),
            settings.fail_closed,
        )
        for line in messages:
            typer.echo(line, err=True)
        return blocked

    raise typer.Exit(1 if run_command(work) else 0)


hook_app.command("install")(hook_install)
hook_app.command("uninstall")(hook_uninstall)
hook_app.command("run")(hook_run)
