"""``reviewbot sweep`` and ``reviewbot report``: a history's verdicts, and where a fix stands in every stable branch."""

from __future__ import annotations

from typing import Annotated

import typer

from reviewbot.cli.common import (
    BranchesOpt,
    InputError,
    NoCacheOpt,
    OutputOpt,
    RepoOpt,
    ReportFormat,
    ReportFormatOpt,
    RuleOpt,
    RulesPathOpt,
    SinceOpt,
    SweepFormat,
    SweepFormatOpt,
    TagsOpt,
    console,
    in_output_dir,
    open_repo,
    run_command,
    verdict_cache,
    warn,
    work_tree_top,
    write,
)
from reviewbot.cli.config import rules_of, settings_of


def sweep(
    repo: RepoOpt = None,
    tags: TagsOpt = None,
    branches: BranchesOpt = None,
    since: SinceOpt = None,
    fmt: SweepFormatOpt = SweepFormat.text,
    output: OutputOpt = None,
    rule: RuleOpt = None,
    rules_path: RulesPathOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Check every selected release and branch: one row per ref, in kernel version order.

    Each distinct blob is parsed once and verdicts are cached on disk. Exit 0 when every
    applicable guard is present in every ref, 1 when a ref misses one, 2 on bad input.
    """

    def work():
        from reviewbot.history.refs import select_refs
        from reviewbot.history.sweep import sweep as run_sweep
        from reviewbot.model.versions import KernelVersion
        from reviewbot.render import sweep as sweep_render
        from reviewbot.render.checks import plain_text
        from reviewbot.render.progress import progress_bar

        settings = settings_of(repo)
        rules = rules_of(settings.rules_or(rule), rules_path, repo, settings)
        out = in_output_dir(output, settings)
        if since is not None:
            KernelVersion.parse(since)
        r = open_repo(repo)
        refs = select_refs(r, tags, branches)  # (on a shallow clone its errors say so)
        if r.shallow:
            warn(
                f"{r.path} is a shallow clone: refs outside the fetched history are not visible (git fetch --unshallow)"
            )
        with verdict_cache(no_cache) as cache, progress_bar("sweeping") as bar:
            rows = run_sweep(r, refs, rules, cache, progress=bar, since=since)
        if not rows:
            raise InputError(
                f"no selected ref is at or after {since}", "lower --since or widen the patterns"
            )
        if fmt is SweepFormat.json:
            write(out, sweep_render.to_json(rows))
        elif fmt is SweepFormat.jsonl:
            write(out, sweep_render.to_jsonl(rows))
        elif fmt is SweepFormat.sarif:
            write(out, sweep_render.to_sarif_rows(rows, rules, work_tree_top(r.path) or r.path))
        elif fmt is SweepFormat.md:
            write(out, sweep_render.markdown(rows))
        elif fmt is SweepFormat.html:
            write(out, sweep_render.html(rows, f"reviewbot sweep of {r.path.name}"))
        elif out is not None:
            write(out, plain_text(lambda c: sweep_render.text(rows, c)))
        else:
            sweep_render.text(rows, console())
        return any(row.missing for row in rows)

    missing = run_command(work)
    raise typer.Exit(1 if missing else 0)


def report(
    fix: Annotated[
        str,
        typer.Option(
            "--fix",
            help="The fix: a commit (sha/ref) in the repository, or a format-patch/mbox file.",
        ),
    ],
    repo: RepoOpt = None,
    branches: BranchesOpt = None,
    fmt: ReportFormatOpt = ReportFormat.text,
    output: OutputOpt = None,
    rule: RuleOpt = None,
    rules_path: RulesPathOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Where a fix stands in every stable branch: not-affected, fixed, needs-backport or regressed.

    Exit 0 when no branch needs work, 1 when a branch needs the backport or regressed, 2 on
    bad input.
    """

    def work():
        from reviewbot.history.report import build_report
        from reviewbot.history.upstream import load_fix
        from reviewbot.render import report as report_render
        from reviewbot.render.progress import progress_bar

        settings = settings_of(repo)
        rules = rules_of(settings.rules_or(rule), rules_path, repo, settings)
        r = open_repo(repo)
        the_fix = load_fix(r, fix)
        with verdict_cache(no_cache) as cache, progress_bar("checking branches") as bar:
            rep = build_report(r, the_fix, branches, rules, cache, progress=bar)
        render_fn = {
            ReportFormat.md: report_render.markdown,
            ReportFormat.html: report_render.html,
            ReportFormat.json: report_render.to_json,
            ReportFormat.text: report_render.text,
        }[fmt]
        write(in_output_dir(output, settings), render_fn(rep))
        return bool(rep.actionable)

    actionable = run_command(work)
    raise typer.Exit(1 if actionable else 0)
