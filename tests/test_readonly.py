"""Read-only everywhere: every command leaves the user's repository as it found it.

For each command registered in the typer app (groups included) the table below holds
invocations — good input and bad input — run against a repository with staged, unstaged and
untracked changes. Before and after each: the index file's bytes, ``git status --porcelain=v2``,
``git for-each-ref``, the config, every file of the worktree and of ``.git`` (hooks excepted
for ``hook install/uninstall``, the only commands allowed to write, and only there) must be
identical, and the temporary directory must be empty again.

A command added to the app without an entry here fails ``test_every_command_has_an_entry``:
add its invocations (``{repo}``, ``{patch}``, ``{out}`` are substituted).
"""

from __future__ import annotations

import tempfile

import pytest
from gitenv import PATCH, dirty, isolate_git, kernel_repo, snapshot
from typer.testing import CliRunner

from reviewbot.cli.app import app

# command name -> invocations. Cover the paths that touch the repository: reads at refs, the
# index, patches applied in memory, errors half-way.
INVOCATIONS: dict[str, list[tuple[int, list[str]]]] = {
    "check": [
        (0, ["check", "--repo", "{repo}"]),
        (1, ["check", "--repo", "{repo}", "--rev", "v6.1.25", "--format", "json"]),
        (
            1,
            [
                "check",
                "--repo",
                "{repo}",
                "--rev",
                "v6.1.25",
                "--format",
                "sarif",
                "mm/khugepaged.c",
            ],
        ),
        (0, ["check", "{repo}/mm/khugepaged.c"]),
        (2, ["check", "--repo", "{repo}", "--rev", "no-such-ref"]),
    ],
    "rules": [(0, ["rules"]), (0, ["rules", "--format", "json"])],
    "rules test": [(0, ["rules", "test"])],
    "sweep": [
        (1, ["sweep", "--repo", "{repo}", "--no-cache"]),
        (
            0,
            ["sweep", "--repo", "{repo}", "--tags", "v6.1.26", "--format", "json"],
        ),  # with the verdict cache
        (1, ["sweep", "--repo", "{repo}", "--format", "html", "-o", "{out}/sweep.html"]),
        (2, ["sweep", "--repo", "{repo}", "--tags", "nomatch*"]),
    ],
    "report": [
        (
            0,
            [
                "report",
                "--repo",
                "{repo}",
                "--fix",
                "{patch}",
                "--branches",
                "master",
                "--no-cache",
            ],
        ),
        (
            0,
            [
                "report",
                "--repo",
                "{repo}",
                "--fix",
                "v6.1.26",
                "--branches",
                "master",
                "--format",
                "json",
            ],
        ),
        (
            0,
            [
                "report",
                "--repo",
                "{repo}",
                "--fix",
                "{patch}",
                "--branches",
                "master",
                "--format",
                "md",
                "-o",
                "{out}/r.md",
            ],
        ),
        (2, ["report", "--repo", "{repo}", "--fix", "no-such-commit"]),
    ],
    "demo": [(0, ["demo", "--dir", "{out}/demo", "--format", "json"])],
    "backport": [
        (
            0,
            [
                "backport",
                "--repo",
                "{repo}",
                "--patch",
                "{patch}",
                "--onto",
                "v6.1.25",
                "--output-dir",
                "{out}/bp",
            ],
        ),
        (
            0,
            [
                "backport",
                "--repo",
                "{repo}",
                "--patch",
                "{patch}",
                "--onto",
                "v6.1.26",
                "--onto",
                "HEAD",
                "--format",
                "json",
            ],
        ),
        (2, ["backport", "--repo", "{repo}", "--patch", "{patch}", "--onto", "no-such-ref"]),
    ],
    "validate": [
        (0, ["validate", "--repo", "{repo}", "--patch", "{patch}", "--onto", "v6.1.25"]),
        (
            1,
            [
                "validate",
                "--repo",
                "{repo}",
                "--patch",
                "{patch}",
                "--onto",
                "v6.1.26",
                "--upstream",
                "{patch}",
                "--format",
                "json",
            ],
        ),
        (2, ["validate", "--repo", "{repo}", "--patch", "{patch}"]),
    ],
    "hook install": [
        (0, ["hook", "install", "--repo", "{repo}"]),
        (2, ["hook", "install", "--repo", "{repo}", "--hooks", "nope"]),
    ],
    "hook uninstall": [(0, ["hook", "uninstall", "--repo", "{repo}"])],
    "hook run": [
        (0, ["hook", "run", "pre-commit", "--repo", "{repo}"]),
        (0, ["hook", "run", "pre-commit", "--repo", "{repo}", "--strict"]),
        (0, ["hook", "run", "sendemail-validate", "{patch}", "--repo", "{repo}"]),
        (2, ["hook", "run", "sendemail-validate", "{repo}/missing.patch", "--repo", "{repo}"]),
    ],
}
WRITES_HOOKS = {"hook install", "hook uninstall"}


def registered_commands() -> list[str]:
    """Every command name of the app, ``group sub`` for commands of sub-apps."""

    def name(cmd) -> str:
        return cmd.name or cmd.callback.__name__.replace("_", "-")

    names = [name(c) for c in app.registered_commands]
    for group in app.registered_groups:
        gname = group.name or group.typer_instance.info.name
        names += [f"{gname} {name(c)}" for c in group.typer_instance.registered_commands]
        if group.typer_instance.info.invoke_without_command:  # ``rules`` runs bare, too
            names.append(gname)
    return names


def test_every_command_has_an_entry():
    names = registered_commands()
    assert "hook run" in names and "check" in names
    missing = sorted(set(names) - set(INVOCATIONS))
    assert not missing, (
        f"commands without read-only invocations in tests/test_readonly.py: {missing}"
    )
    stale = sorted(set(INVOCATIONS) - set(names))
    assert not stale, f"entries for commands that do not exist: {stale}"


# Building the whole demo history takes seconds: that invocation belongs to the slow tier.
SLOW = {"demo"}
CASES = [
    pytest.param(
        name, code, args, id=" ".join(args), marks=[pytest.mark.slow] if name in SLOW else []
    )
    for name, rows in INVOCATIONS.items()
    for code, args in rows
]


@pytest.mark.parametrize("name, code, args", CASES)
def test_command_leaves_repository_untouched(name, code, args, tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    dirty(repo)
    out = tmp_path / "out"
    out.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.chdir(repo)  # commands that default to the cwd act on the repository too
    argv = [a.format(repo=repo, patch=PATCH, out=out) for a in args]
    before = snapshot(repo, allow_hooks=name in WRITES_HOOKS)
    r = CliRunner().invoke(app, argv)
    after = snapshot(repo, allow_hooks=name in WRITES_HOOKS)
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr, r.exception)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    for key in before:
        assert before[key] == after[key], f"{' '.join(argv)} changed {key}"
    assert list(tmp.iterdir()) == [], (
        f"{' '.join(argv)} left temporary files: {list(tmp.iterdir())}"
    )


def test_snapshot_sees_the_changes_it_guards_against(tmp_path, monkeypatch):
    # The guard itself must be able to fail: each kind of change shows up in the snapshot.
    from gitenv import git

    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    dirty(repo)
    base = snapshot(repo)
    git(repo, "tag", "extra")
    assert snapshot(repo)["refs"] != base["refs"]
    git(repo, "tag", "-d", "extra")
    git(repo, "reset", "-q", "README")
    git(repo, "add", "README")
    assert snapshot(repo)["index"] != base["index"]
    git(repo, "reset", "-q", "README")
    (repo / "untracked.txt").write_text("changed\n")
    assert snapshot(repo)["worktree"] != base["worktree"]
    git(repo, "config", "reviewbot.strict", "true")
    assert snapshot(repo)["config"] != base["config"]


def test_every_command_including_groups_has_help():
    for name in registered_commands():
        r = CliRunner().invoke(app, [*name.split(), "--help"])
        assert r.exit_code == 0, name
        assert "Usage" in r.stdout, name
    for group in app.registered_groups:
        for cmd in group.typer_instance.registered_commands:
            assert (cmd.callback.__doc__ or "").strip(), cmd.callback.__name__
