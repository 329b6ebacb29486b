"""The command line: the only module that knows typer.

Library errors (``ReviewbotError``) become one line on stderr and exit code 2; findings exit 1;
a clean result exits 0. Heavy modules (tree-sitter, GitPython) are imported inside commands so
``reviewbot --help`` and the git hooks start fast.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from reviewbot.model.errors import InputError, ReviewbotError


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
            if type(e).__name__ == "NoArgsIsHelpError":  # bare "reviewbot" / "reviewbot hook": the help
                if message().strip():  # (typer's rich help is already printed; its message is empty)
                    show()
                sys.exit(e.exit_code)
            ctx = getattr(e, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            text = " ".join(message().split()).replace("Value error, ", "")  # pydantic's prefix
            typer.echo(f"reviewbot: error: {where}{text}{hint}", err=True)
            sys.exit(e.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    name="reviewbot",
    help="Structural review and stable backports for Linux kernel khugepaged uffd-wp guards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


# Shared option spellings (every command spells them the same way).
RepoOpt = Annotated[Path | None, typer.Option("--repo", help="A linux git checkout (bare works); nothing is checked out.")]
RuleOpt = Annotated[list[str] | None, typer.Option("--rule", help="Rule id to run (repeatable; default: all built-in rules).")]
KernelVersionOpt = Annotated[str | None, typer.Option("--kernel-version", help="Kernel version of the source, e.g. 6.1.20 (default: the tree's Makefile).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"reviewbot: error: {message}", err=True)
    return typer.Exit(code)


def _rules(ids: list[str] | None):
    from reviewbot.rules.spec import builtin_rules, get_rule

    return tuple(get_rule(i) for i in ids) if ids else builtin_rules()


def _settings(directory: Path | None):
    """``git config reviewbot.*`` as seen from ``directory`` (default: the cwd)."""
    from reviewbot.git.settings import load

    return load(directory)


def _console():
    from rich.console import Console

    # Colour only on a real terminal; NO_COLOR is honoured by rich itself.
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def _emit(results, rules, fmt: Format) -> None:
    from reviewbot.render import checks as render

    if fmt is Format.json:
        sys.stdout.write(render.to_json(results))
    elif fmt is Format.sarif:
        sys.stdout.write(render.to_sarif(results, rules))
    else:
        render.text(results, _console())


def _run(fn):
    """Call ``fn`` and turn library errors into one line on stderr + exit 2.

    OSErrors the library did not anticipate (a path that is a file, not a directory; a full
    disk) also become one line; anything else is a bug, said in one line too (set
    REVIEWBOT_TRACEBACK=1 to see the traceback).
    """
    try:
        return fn()
    except ReviewbotError as e:
        raise _fail(str(e)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    except BrokenPipeError:
        raise typer.Exit(1) from None
    except typer.Exit:
        raise
    except OSError as e:
        if os.environ.get("REVIEWBOT_TRACEBACK"):
            raise
        where = f"{e.filename}: " if e.filename else ""
        raise _fail(f"{where}{e.strerror or e}") from None
    except Exception as e:
        if os.environ.get("REVIEWBOT_TRACEBACK"):
            raise
        raise _fail(f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:200]} "
                    "(please report it; REVIEWBOT_TRACEBACK=1 shows the traceback)") from None


@app.command()
def check(
    files: Annotated[list[Path] | None, typer.Argument(help="C files to check (with --repo: paths inside the repository).")] = None,
    repo: RepoOpt = None,
    rev: Annotated[str | None, typer.Option("--rev", help="Revision to read with --repo (default HEAD).")] = None,
    kernel_version: KernelVersionOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    rule: RuleOpt = None,
) -> None:
    """Check khugepaged's uffd-wp guards (scan, isolate, file path) in files or at a ref.

    Exit 0 when every applicable guard is present, 1 when one is missing, 2 on bad input.
    """

    def work():
        from reviewbot.model.results import Status
        from reviewbot.model.versions import KernelVersion

        rules = _rules(_settings(repo).rules_or(rule))
        if repo is None and rev is not None:
            raise InputError("--rev needs --repo")
        if kernel_version is not None:
            KernelVersion.parse(kernel_version)
        if repo is not None:
            results = _check_repo(repo, rev, files, kernel_version, rules)
        else:
            from reviewbot.checker.files import check_files

            results = check_files(files, rules, kernel_version)
        _emit(results, rules, fmt)
        return any(c.status is Status.MISSING for r in results for c in r.checks)

    missing = _run(work)
    raise typer.Exit(1 if missing else 0)


def _check_repo(repo_path: Path, rev: str | None, files: list[Path] | None, kernel_version: str | None, rules):
    from reviewbot.git.repository import Repository, safe_repo_path
    from reviewbot.history.sweep import check_ref, version_at

    repo = Repository(repo_path)
    revision = repo.resolve(rev or "HEAD")
    paths = [safe_repo_path(str(f)) for f in files] if files else None
    version = version_at(repo, revision, rules, kernel_version)
    return check_ref(repo, revision, rules, paths, version)


@app.command()
def rules(fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text) -> None:
    """List the built-in rules and their checks."""

    def work():
        import json

        from reviewbot.rules.spec import builtin_rules

        rs = builtin_rules()
        if fmt is Format.text:
            for r in rs:
                typer.echo(f"{r.id} (version {r.version}): {r.title}")
                for c in r.checks:
                    since = f", from {c.feature.since.series}" if c.feature and c.feature.since else ""
                    sites = ", ".join(s.id for s in c.sites if s.id) or ", ".join(c.sites[0].functions)
                    typer.echo(f"  {c.id:8} {c.kind:9} {c.title} [{sites}{since}]")
        else:
            doc = [{"id": r.id, "version": r.version, "title": r.title, "checks": [c.id for c in r.checks]} for r in rs]
            typer.echo(json.dumps(doc, indent=2))

    _run(work)


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to build the demo history (default: the user cache).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Where to write report.html and report.md (default: git config reviewbot.outputDir, else <demo history>/report).")] = None,
) -> None:
    """Build the bundled kernel-shaped demo history, check every release, and report the fix.

    Writes the stable report (HTML + Markdown) for the upstream isolate fix and prints where.
    """

    def work():
        from reviewbot.demo import build_demo, check_demo, report_demo

        if directory is not None and directory.exists() and not directory.is_dir():
            raise InputError(f"{directory}: not a directory", "choose an empty or new --dir")
        path = build_demo(directory)
        results = check_demo(path)
        with _verdict_cache(False) as cache:
            report, html_path, md_path = report_demo(path, _settings(None).output_dir_or(output_dir), cache)
        if fmt is Format.text:
            from reviewbot.render import checks as render

            console = _console()
            console.print(f"demo history: {path}")
            render.release_table(results, console)
            console.print(f"\nreport on {report.fix.short} (\"{report.fix.subject}\"):")
            for b in report.branches:
                extra = f" by {b.fixed_by[:12]} in {b.fixed_in}" if b.fixed_by and b.fixed_in else ""
                console.print(f"  {b.branch:14} {b.tip:10} {b.status}{extra}")
            console.print(f"report: {html_path}\n        {md_path}")
        else:
            _emit(results, _rules(None), fmt)

    _run(work)


# --- issue 3: sweep a history, report a fix's status in every stable branch ---


class SweepFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"
    html = "html"
    sarif = "sarif"


class ReportFormat(StrEnum):
    text = "text"
    md = "md"
    html = "html"
    json = "json"


TagsOpt = Annotated[list[str] | None, typer.Option("--tags", help="Glob of tags to include, e.g. 'v5.10.*' (repeatable).")]
BranchesOpt = Annotated[list[str] | None, typer.Option("--branches", help="Glob of branches to include, e.g. 'linux-*.y' (repeatable; remote-tracking branches match without their remote).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Drop refs older than this kernel version, e.g. 5.4.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the output to FILE instead of stdout.")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the verdict cache ($XDG_CACHE_HOME/reviewbot).")]


def _warn(message: str) -> None:
    typer.echo(f"reviewbot: warning: {message}", err=True)


def _open_repo(repo_path: Path | None, required: bool = False):
    from reviewbot.git.repository import Repository

    if repo_path is None and required:
        raise InputError("--repo is required", "give the linux checkout that holds the target refs")
    return Repository(repo_path if repo_path is not None else Path.cwd())


def _verdict_cache(no_cache: bool):
    from reviewbot.store.cache import VerdictCache

    cache = VerdictCache(None) if no_cache else VerdictCache.default()
    if cache.warning:
        _warn(cache.warning)
    return cache


def _write(output: Path | None, text: str) -> None:
    from reviewbot.checker.files import write_output

    if write_output(output, text):
        typer.echo(f"wrote {output}", err=True)


@app.command()
def sweep(
    repo: RepoOpt = None,
    tags: TagsOpt = None,
    branches: BranchesOpt = None,
    since: SinceOpt = None,
    fmt: Annotated[SweepFormat, typer.Option("--format", "-f", help="Output format.")] = SweepFormat.text,
    output: OutputOpt = None,
    rule: RuleOpt = None,
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

        rules = _rules(_settings(repo).rules_or(rule))
        if since is not None:
            KernelVersion.parse(since)
        r = _open_repo(repo)
        refs = select_refs(r, tags, branches)  # (on a shallow clone its errors say so)
        if r.shallow:
            _warn(f"{r.path} is a shallow clone: refs outside the fetched history are not visible (git fetch --unshallow)")
        with _verdict_cache(no_cache) as cache, progress_bar("sweeping") as bar:
            rows = run_sweep(r, refs, rules, cache, progress=bar, since=since)
        if not rows:
            raise InputError(f"no selected ref is at or after {since}", "lower --since or widen the patterns")
        if fmt is SweepFormat.json:
            _write(output, sweep_render.to_json(rows))
        elif fmt is SweepFormat.sarif:
            _write(output, sweep_render.to_sarif_rows(rows, rules))
        elif fmt is SweepFormat.md:
            _write(output, sweep_render.markdown(rows))
        elif fmt is SweepFormat.html:
            _write(output, sweep_render.html(rows, f"reviewbot sweep of {r.path.name}"))
        elif output is not None:
            _write(output, plain_text(lambda c: sweep_render.text(rows, c)))
        else:
            sweep_render.text(rows, _console())
        return any(row.missing for row in rows)

    missing = _run(work)
    raise typer.Exit(1 if missing else 0)


@app.command()
def report(
    fix: Annotated[str, typer.Option("--fix", help="The fix: a commit (sha/ref) in the repository, or a format-patch/mbox file.")],
    repo: RepoOpt = None,
    branches: BranchesOpt = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.text,
    output: OutputOpt = None,
    rule: RuleOpt = None,
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

        rules = _rules(_settings(repo).rules_or(rule))
        r = _open_repo(repo)
        the_fix = load_fix(r, fix)
        with _verdict_cache(no_cache) as cache, progress_bar("checking branches") as bar:
            rep = build_report(r, the_fix, branches, rules, cache, progress=bar)
        render_fn = {ReportFormat.md: report_render.markdown, ReportFormat.html: report_render.html,
                     ReportFormat.json: report_render.to_json, ReportFormat.text: report_render.text}[fmt]
        _write(output, render_fn(rep))
        return bool(rep.actionable)

    actionable = _run(work)
    raise typer.Exit(1 if actionable else 0)


# --- issue 4: backport and validate ---


def _read_patch(spec: str):
    from reviewbot.diffs.patches import read_mail
    from reviewbot.model.fileio import read_file

    if spec == "-":
        return read_mail(sys.stdin.buffer.read(), "stdin")
    return read_mail(read_file(Path(spec), "patch"), spec)


def _text_only(fmt: Format, command: str) -> None:
    if fmt is Format.sarif:
        raise InputError(f"--format sarif is not available for {command}", "use text or json")


@app.command()
def backport(
    repo: RepoOpt = None,
    commit: Annotated[str | None, typer.Option("--commit", help="The upstream fix as a commit in the repository.")] = None,
    patch: Annotated[str | None, typer.Option("--patch", help="The upstream fix as a format-patch/mbox file ('-' for stdin).")] = None,
    onto: Annotated[list[str] | None, typer.Option("--onto", help="Target ref (repeatable).")] = None,
    branches: Annotated[list[str] | None, typer.Option("--branches", help="Every branch matching this glob, e.g. 'linux-*.y' (repeatable; remote-tracking branches match without their remote).")] = None,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Write one mail per generated target under DIR/<ref>/.")] = None,
    subject_prefix: Annotated[str | None, typer.Option("--subject-prefix", help="Subject prefix; {series} is the target's X.Y (default 'PATCH {series}').")] = None,
    mainline: Annotated[str | None, typer.Option("--mainline", help="Where to look for possible dependencies when the fix commit is not in the repository (default: master/main).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format (text or json).")] = Format.text,
    rule: RuleOpt = None,
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

        _text_only(fmt, "backport")
        rules = _rules(rule)
        if (commit is None) == (patch is None):
            raise InputError("give the fix with exactly one of --commit SHA or --patch FILE")
        if not onto and not branches:
            raise InputError("no target given", "use --onto REF (repeatable) or --branches GLOB")
        repository = _open_repo(repo, required=True)
        upstream = upstream_from_spec(repository, commit, None if patch is None else _read_patch(patch))
        if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
            raise InputError(f"--output-dir {output_dir}: not a directory")
        refs = list(onto or []) + (select_branches(repository, branches) if branches else [])
        main_sha = repository.resolve(mainline).sha if mainline else None
        run = run_backport(repository, upstream, refs, rules, prefix=subject_prefix, output_dir=output_dir, mainline=main_sha)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(run.to_json(), indent=2) + "\n")
        else:
            typer.echo("\n".join(run.lines()))
        return run.failed

    failed = _run(work)
    raise typer.Exit(1 if failed else 0)


@app.command()
def validate(
    repo: RepoOpt = None,
    patch: Annotated[str | None, typer.Option("--patch", help="The proposed backport (format-patch/mbox file, '-' for stdin).")] = None,
    onto: Annotated[str | None, typer.Option("--onto", help="The ref the backport is for.")] = None,
    upstream: Annotated[str | None, typer.Option("--upstream", help="The upstream fix: a commit or a patch file (default: the 'commit <sha> upstream.' line).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format (text or json).")] = Format.text,
    rule: RuleOpt = None,
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

        _text_only(fmt, "validate")
        rules = _rules(rule)
        if patch is None or onto is None:
            raise InputError("validate needs --patch FILE and --onto REF")
        repository = _open_repo(repo, required=True)
        proposed = _read_patch(patch)
        rev = repository.resolve(onto)
        up = None
        if upstream is not None:
            mail = _read_patch(upstream) if upstream == "-" or Path(upstream).is_file() else None
            up = upstream_from_spec(repository, upstream, mail, "--upstream")
        v = run_validate(repository, proposed, rev, rules, up)
        if fmt is Format.json:
            doc = {"schema": SCHEMA, "tool": {"name": "reviewbot", "version": __version__}, "validation": v.to_json()}
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        else:
            typer.echo(f"validate {proposed.subject!r} on {rev.name}" + (f" (upstream {v.upstream})" if v.upstream else " (no upstream fix)"))
            typer.echo("\n".join(v.lines()))
        return v.accepted

    accepted = _run(work)
    raise typer.Exit(0 if accepted else 1)



# --- issue 5: git hooks (pre-commit, sendemail-validate) ---

hook_app = typer.Typer(
    name="hook",
    help="Install, remove and run reviewbot's git hooks (pre-commit, sendemail-validate).",
    no_args_is_help=True,
)
app.add_typer(hook_app, name="hook")


class HookName(StrEnum):
    pre_commit = "pre-commit"
    sendemail_validate = "sendemail-validate"


HooksOpt = Annotated[list[str] | None, typer.Option("--hooks", help="Hooks, comma-separated or repeated (default: pre-commit,sendemail-validate).")]


def _hook_repo(repo: Path | None) -> Path:
    return repo if repo is not None else Path.cwd()


@hook_app.command("install")
def hook_install(
    repo: RepoOpt = None,
    hooks: HooksOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Keep an existing hook that is not reviewbot's and run it first.")] = False,
) -> None:
    """Install the git hooks (in the hooks directory git uses: core.hooksPath and worktrees honoured).

    An existing hook that is not reviewbot's is refused, or with --force kept and chained to.
    """

    def work():
        from reviewbot.hooks.install import covered_paths, install, parse_hooks
        from reviewbot.rules.spec import builtin_rules

        for action in install(_hook_repo(repo), parse_hooks(hooks), covered_paths(builtin_rules()), force):
            typer.echo(action.describe())

    _run(work)


@hook_app.command("uninstall")
def hook_uninstall(repo: RepoOpt = None, hooks: HooksOpt = None) -> None:
    """Remove reviewbot's git hooks and restore the hooks they chained to."""

    def work():
        from reviewbot.hooks.install import parse_hooks, uninstall

        for action in uninstall(_hook_repo(repo), parse_hooks(hooks)):
            typer.echo(action.describe())

    _run(work)


@hook_app.command("run")
def hook_run(
    hook: Annotated[HookName, typer.Argument(help="pre-commit, or sendemail-validate with the patch file.")],
    files: Annotated[list[Path] | None, typer.Argument(help="sendemail-validate: the patch (git may add a header file; ignored).")] = None,
    repo: RepoOpt = None,
    rule: RuleOpt = None,
    strict: Annotated[bool | None, typer.Option("--strict/--no-strict", help="Also refuse guards that were already missing (default: git config reviewbot.strict).")] = None,
) -> None:
    """Run a hook's check now (the installed hooks call this).

    Exit 0 to let the commit or mail through, 1 to refuse it, 2 on bad input.
    """

    def work():
        from reviewbot.git.repository import Repository
        from reviewbot.hooks.gate import run_hook

        settings = _settings(repo)
        rules = _rules(settings.rules_or(rule))
        messages, blocked = run_hook(Repository(_hook_repo(repo)), hook.value, files or [], rules, settings.strict_or(strict))
        for line in messages:
            typer.echo(line, err=True)
        return blocked

    raise typer.Exit(1 if _run(work) else 0)


def main() -> None:
    """Console-script entry point (every command already turns errors into one line)."""
    app()
