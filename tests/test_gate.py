"""gate.py: verdict comparison, in-memory reverse apply, and tree-level cases (moves, deletions)."""

from __future__ import annotations

import pytest
from gitenv import PATCH, git, isolate_git, kernel_repo
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.demo import fixture_text
from reviewbot.diffs.patches import ApplyFailure, apply_file, read_mail
from reviewbot.hooks.gate import Change, check_blobs, compare
from reviewbot.model.results import CheckResult, FileResult, Status
from reviewbot.model.results import VersionInfo as V
from reviewbot.rules.spec import get_rule

P, M, NA = Status.PRESENT, Status.MISSING, Status.NOT_APPLICABLE
RULE = get_rule("khugepaged-uffd-wp")


def result(**statuses) -> FileResult:
    return FileResult(
        "mm/khugepaged.c",
        RULE.id,
        tuple(CheckResult(k, s, "m", function="f", line=3) for k, s in statuses.items()),
    )


@pytest.mark.parametrize(
    "before, after, kind",
    [
        ({"isolate": P}, {"isolate": M}, "lost"),  # the case the hook exists for
        ({"isolate": P}, None, "lost"),  # the file is gone from the tree
        ({"isolate": M}, {"isolate": M}, "still-missing"),  # warn; strict refuses
        (None, {"isolate": M}, "missing"),  # a new file without the guard
        ({"isolate": NA}, {"isolate": M}, "missing"),  # e.g. a version bump made it apply
        ({"isolate": M}, {"isolate": P}, "restored"),
        ({"isolate": P}, {"isolate": P}, None),  # harmless
        ({"isolate": NA}, {"isolate": NA}, None),
        ({"isolate": P}, {"isolate": NA}, None),
    ],
)
def test_compare(before, after, kind):
    changes = compare(
        RULE.id, result(**before) if before else None, result(**after) if after else None
    )
    assert [c.kind for c in changes] == ([kind] if kind else [])


def test_only_lost_blocks_unless_strict():
    lost, warn = Change("r", "k", "lost", None, None), Change("r", "k", "still-missing", None, None)
    assert lost.blocks(False) and lost.blocks(True)
    assert not warn.blocks(False) and warn.blocks(True)
    assert not Change("r", "k", "restored", None, None).blocks(True)


def test_reverse_undoes_a_patch_exactly():
    fp = read_mail(PATCH.read_bytes()).files[0]
    old = fixture_text("v6.3-rc1.c")
    new = apply_file(old, fp)
    assert not isinstance(new, ApplyFailure)
    back = apply_file(new.data, fp.reversed())
    assert not isinstance(back, ApplyFailure) and back.data == old
    assert isinstance(apply_file(old, fp.reversed()), ApplyFailure)


def test_check_blobs_follows_the_rule_paths_in_order():
    version = V("4.4.0", "flag")
    old_layout = {"mm/huge_memory.c": fixture_text("v4.4.c"), "mm/khugepaged.c": None}
    res = check_blobs(old_layout, RULE, version, None)
    assert res is not None and res.source == "mm/huge_memory.c"
    assert check_blobs({}, RULE, version, None) is None


@pytest.fixture
def repo(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    return kernel_repo(tmp_path)


def pre_commit(repo):
    return CliRunner().invoke(app, ["hook", "run", "pre-commit", "--repo", str(repo)])


def test_deleting_the_guarded_file_loses_every_guard(repo):
    git(repo, "rm", "-q", "mm/khugepaged.c")
    r = pre_commit(repo)
    assert r.exit_code == 1
    assert "none of the rule's files is left in the staged version" in r.stderr
    assert "scan" in r.stderr and "isolate" in r.stderr


def test_moving_the_code_to_the_next_rule_path_keeps_the_guards(repo):
    git(repo, "mv", "mm/khugepaged.c", "mm/collapse.c")  # the split discussed for the mm tree
    r = pre_commit(repo)
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""


def test_nothing_staged_is_a_quick_pass(repo):
    (repo / "mm" / "khugepaged.c").write_bytes(b"/* worktree only */\n")
    r = pre_commit(repo)
    assert r.exit_code == 0 and r.stderr == ""
