"""The command line: the typer application, its entry point, and the command groups it joins.

The only package that knows typer. Library errors (``ReviewbotError``) become one line on
stderr and exit code 2 (``common.run_command``); findings exit 1; a clean result exits 0.
One module per command group: ``check`` (check, rules), ``demo``, ``history`` (sweep, report),
``backport`` (backport, validate), ``hooks`` (hook install|uninstall|run).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from reviewbot.cli import backport, check, demo, history, hooks


class _OneLineErrors(TyperGroup):
    """Usage errors (bad option value, unknown command) as one line on stderr, exit 2.

    typer would draw a multi-line box; a hook or a script wants one line it can grep.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except typer.Abort:
            typer.echo("reviewbot: error: aborted", err=True)
            sys.exit(1)
        except Exception as e:
            show, message = getattr(e, "show", None), getattr(e, "format_message", None)
            if message is None or not isinstance(getattr(e, "exit_code", None), int):
                raise
            if (
                type(e).__name__ == "NoArgsIsHelpError"
            ):  # bare "reviewbot" / "reviewbot hook": the help
                if (
                    message().strip()
                ):  # (typer's rich help is already printed; its message is empty)
                    show()
                sys.exit(e.exit_code)
            ctx = getattr(e, "ctx", None)
            # "reviewbot: error: reviewbot: ..." says the program twice: name only subcommands.
            sub = ctx is not None and ctx.parent is not None
            where = f"{ctx.command_path}: " if sub else ""
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            text = " ".join(message().split()).replace("Value error, ", "")  # pydantic's prefix
            typer.echo(f"reviewbot: error: {where}{text}{hint}", err=True)
            sys.exit(e.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    name="reviewbot",
    help="Structural review and stable backports for Linux kernel guards that rule files define.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from reviewbot import __version__

        typer.echo(f"reviewbot {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Structural review and stable backports for Linux kernel khugepaged uffd-wp guards."""


app.command()(check.check)
app.add_typer(check.rules_app, name="rules")
app.command()(demo.demo)
app.command()(history.sweep)
app.command()(history.report)
app.command()(backport.backport)
app.command()(backport.validate)
app.add_typer(hooks.hook_app, name="hook")


def main() -> None:
    """Console-script entry point (every command already turns errors into one line)."""
    app()
