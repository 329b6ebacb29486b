"""One ref selector for sweep, report and backport: globs, remote-tracking names, version order."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import cast

import pytest
from gitenv import isolate_git
from histories import build, era
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.git.repository import RefEntry, Repository
from reviewbot.history.refs import match_refs, select_branches, select_refs
from reviewbot.model.errors import InputError, RepoError

runner = CliRunner()

# Mainline v5.10 and v6.1, then the isolate fix (v6.1.26's file); a stable branch per series.
SPEC = (
    f'commit v510 "Linux 5.10" tag v5.10\n{era("5.10.0", "v5.10.178.c")}'
    f'commit v61 "Linux 6.1" tag v6.1\n{era("6.1.0", "v6.1.25.c")}'
    'commit fix "mm/khugepaged: check again on anon uffd-wp during isolation"\n'
    "  file mm/khugepaged.c = @fixture v6.1.26.c\n"
    "on linux-5.10.y from v5.10\n"
    'commit r510 "Linux 5.10.178" tag v5.10.178\n  file Makefile = @makefile 5.10.178\n'
    "on linux-6.1.y from v6.1\n"
    'commit r61 "Linux 6.1.25" tag v6.1.25\n  file Makefile = @makefile 6.1.25\n'
)


@pytest.fixture
def clone(tmp_path, monkeypatch) -> tuple[Path, dict[str, str]]:
    """A clone of the history: the stable branches exist only as origin/linux-*.y."""
    isolate_git(monkeypatch, tmp_path)
    upstream, shas = build(tmp_path / "upstream", SPEC)
    path = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(upstream), str(path)], check=True)
    return path, shas


def backport_targets(path: Path, shas: dict[str, str], *args: str) -> list[str]:
    r = runner.invoke(
        app, ["backport", "--repo", str(path), "--commit", shas["fix"], "--format", "json", *args]
    )
    assert r.exit_code in (0, 1), r.output
    return [t["ref"] for t in json.loads(r.stdout)["targets"]]


def test_backport_branches_match_remote_tracking_names(clone):
    path, shas = clone
    assert backport_targets(path, shas, "--branches", "linux-*.y") == [
        "origin/linux-5.10.y",
        "origin/linux-6.1.y",
    ]


def test_backport_branches_is_repeatable(clone):
    path, shas = clone
    got = backport_targets(path, shas, "--branches", "linux-6.*", "--branches", "linux-5.10.y")
    assert got == ["origin/linux-5.10.y", "origin/linux-6.1.y"]  # version order, not option order


def test_backport_prefers_the_local_branch_of_the_same_name(clone):
    path, shas = clone
    subprocess.run(
        ["git", "-C", str(path), "branch", "-q", "linux-6.1.y", "origin/linux-6.1.y"], check=True
    )
    assert backport_targets(path, shas, "--branches", "linux-*.y") == [
        "origin/linux-5.10.y",
        "linux-6.1.y",
    ]


@pytest.mark.parametrize(
    "patterns, needle",
    [
        (["nothing-*"], "no branch matches 'nothing-*'"),
        (
            ["linux-*.y", "linux-4.4.y"],
            "no branch matches 'linux-4.4.y'",
        ),  # an exact name must exist
        (["[a-"], "bad pattern"),
    ],
)
def test_backport_branches_that_match_nothing_exit_2(clone, patterns, needle):
    path, shas = clone
    args = [a for p in patterns for a in ("--branches", p)]
    r = runner.invoke(app, ["backport", "--repo", str(path), "--commit", shas["fix"], *args])
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and r.stdout == ""


def test_sweep_and_backport_select_the_same_branches(clone):
    path, _ = clone
    repo = Repository(path)
    swept = sorted(r.name for r in select_refs(repo, None, ["linux-*.y"]))
    assert (
        swept
        == select_branches(repo, ["linux-*.y"])
        == ["origin/linux-5.10.y", "origin/linux-6.1.y"]
    )


class StubRepo:
    """Just what the selector asks of a repository."""

    shallow = False
    path = Path("/stub")

    def __init__(self, refs: list[tuple[str, str]]):
        prefix = {"tag": "refs/tags/", "branch": "refs/heads/", "remote": "refs/remotes/"}
        self.refs = [
            RefEntry(name, prefix[kind] + name, kind, "0" * 40, "commit") for kind, name in refs
        ]

    def list_refs(self) -> list[RefEntry]:
        return list(self.refs)


def stub(refs: list[tuple[str, str]]) -> Repository:
    return cast(Repository, StubRepo(refs))


def test_branches_sort_by_the_series_in_their_names():
    repo = stub(
        [
            ("branch", n)
            for n in ("master", "linux-6.1.y", "linux-5.10.y", "linux-5.9.y", "linux-4.19.y")
        ]
    )
    got = select_branches(repo, ["*"])
    assert got == ["linux-4.19.y", "linux-5.9.y", "linux-5.10.y", "linux-6.1.y", "master"]


def test_match_refs_reports_each_pattern():
    repo = stub(
        [
            ("tag", "v5.10"),
            ("tag", "v5.10.1"),
            ("remote", "stable/linux-5.10.y"),
            ("branch", "linux-5.10.y"),
        ]
    )
    sel = match_refs(repo, ["v5.10*", "v9*"], ["linux-*"])
    assert [(h.option, h.pattern, [r.name for r in h.refs]) for h in sel.patterns] == [
        ("--tags", "v5.10*", ["v5.10", "v5.10.1"]),
        ("--tags", "v9*", []),
        ("--branches", "linux-*", ["stable/linux-5.10.y", "linux-5.10.y"]),
    ]
    assert [h.pattern for h in sel.unmatched] == ["v9*"]
    # one ref per name: the local branch wins over the remote-tracking one, where the remote was
    assert [r.name for r in sel.refs] == ["v5.10", "v5.10.1", "linux-5.10.y"]


def test_select_refs_errors():
    repo = stub([("tag", "v5.10"), ("branch", "master")])
    with pytest.raises(RepoError, match="unknown tag 'v5.11'"):
        select_refs(repo, ["v5.11"])
    with pytest.raises(RepoError, match=r"no ref in /stub matches --tags 'v9\*' --branches 'x\*'"):
        select_refs(repo, ["v9*"], ["x*"])
    with pytest.raises(InputError, match="bad pattern"):
        select_refs(repo, None, ["a..b"])
    assert [r.name for r in select_refs(repo)] == ["v5.10"]
