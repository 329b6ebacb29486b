"""``reviewbot hook run pre-commit`` as the installed hook (or the pre-commit framework) runs it,
without typer.

Every commit that stages a guarded file starts Python; importing the CLI framework, GitPython
and the diff parser would cost more than the check itself. So ``cli.entry`` hands the exact
command lines the installed hook uses (``hook run pre-commit`` with ``--rules``, ``--rule``,
``--repo``, ``--strict``/``--no-strict``) to :func:`main` here, which runs the same library
call as ``reviewbot hook run`` (:func:`reviewbot.hooks.precommit.run_precommit`) with the same
settings, rules, messages and exit codes. Anything else (``--help``, a typo, a FILE) returns
None and goes to the full command line, which says what is wrong.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.cli.config import failure, rules_of, settings_of


@dataclass
class _Args:
    repo: Path | None = None
    rule: list[str] = field(default_factory=list)
    rules_path: list[Path] = field(default_factory=list)
    strict: bool | None = None


def parse(argv: list[str]) -> _Args | None:
    """The options after ``hook run pre-commit``; None for anything this path does not take."""
    args = _Args()
    it = iter(argv)
    for word in it:
        name, eq, value = word.partition("=")
        if word in ("--strict", "--no-strict"):
            args.strict = word == "--strict"
            continue
        if name not in ("--repo", "--rule", "--rules"):
            return None
        if not eq:
            value = next(it, "")
        if not value or value.startswith("-"):
            return None
        if name == "--repo":
            if args.repo is not None:
                return None
            args.repo = Path(value)
        elif name == "--rule":
            args.rule.append(value)
        else:
            args.rules_path.append(Path(value))
    if args.repo is not None and not args.repo.is_dir():
        return None  # the full command line names the problem
    return args


def main(argv: list[str]) -> int | None:
    """Run the pre-commit hook for ``argv`` (after ``hook run pre-commit``): its exit code, or
    None when ``argv`` is for the full command line."""
    args = parse(argv)
    if args is None:
        return None
    try:
        from reviewbot.hooks.precommit import run_precommit

        settings = settings_of(args.repo)
        rules = rules_of(settings.rules_or(args.rule or None), args.rules_path, args.repo, settings)
        lines, blocked = run_precommit(
            args.repo if args.repo is not None else Path.cwd(),
            rules,
            settings.strict_or(args.strict),
            settings.fail_closed,
        )
    except BaseException as e:
        how = failure(e)
        if how is None:
            raise
        message, code = how
        if message is not None:
            print(f"reviewbot: error: {message}", file=sys.stderr)
        return code
    for line in lines:
        print(line, file=sys.stderr)
    return 1 if blocked else 0
