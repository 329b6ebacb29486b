"""``reviewbot demo``: the bundled history, checked and reported, with no linux checkout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reviewbot.cli.common import (
    Format,
    FormatOpt,
    InputError,
    console,
    emit,
    run_command,
    verdict_cache,
)
from reviewbot.cli.config import settings_of


def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to build the demo history (default: the user cache)."),
    ] = None,
    fmt: FormatOpt = Format.text,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            help="Where to write report.html and report.md (default: git config reviewbot.outputDir, else <demo history>/report).",
        ),
    ] = None,
) -> None:
    """Build the bundled kernel-shaped demo history, check every release, and report the fix.

    Writes the stable report (HTML + Markdown) for the upstream isolate fix and prints where.
    """

    def work():
        from reviewbot.demo import build_demo, check_demo, report_demo
        from reviewbot.rules.spec import builtin_rules

        if directory is not None and directory.exists() and not directory.is_dir():
            raise InputError(f"{directory}: not a directory", "choose an empty or new --dir")
        path = build_demo(directory)
        results = check_demo(path)
        with verdict_cache(False) as cache:
            report, html_path, md_path = report_demo(
                path, settings_of(None).output_dir_or(output_dir), cache
            )
        if fmt is Format.text:
            from reviewbot.render import checks as render

            out = console()
            out.print(f"demo history: {path}")
            render.release_table(results, out)
            out.print(f'\nreport on {report.fix.short} ("{report.fix.subject}"):')
            for b in report.branches:
                extra = (
                    f" by {b.fixed_by[:12]} in {b.fixed_in}" if b.fixed_by and b.fixed_in else ""
                )
                out.print(f"  {b.branch:14} {b.tip:10} {b.status}{extra}")
            out.print(f"report: {html_path}\n        {md_path}")
        else:
            emit(results, builtin_rules(), fmt, root=path)

    run_command(work)
