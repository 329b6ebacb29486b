"""Issue 11: what a maintainer meets on the first day with a real checkout and a real terminal.

A branch past its last tag is named as ``git describe`` names it, in report and sweep alike;
commands fit the repository (its own remote, only the steps needed); a repository without
stable branches says what the default was; an upstream sha the repository lacks is named as
such; a guard loss is reported once; ``reviewbot.failClosed`` refuses what cannot be checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitenv import git, isolate_git, kernel_repo
from stable_history import build_stable
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.git.repository import Repository
from reviewbot.history.fixes import branch_status
from reviewbot.history.upstream import load_fix
from reviewbot.hooks.gate import gate_commit
from reviewbot.hooks.install import covered_paths, lookup_orders
from reviewbot.hooks.install import install as install_hooks
from reviewbot.rules.spec import builtin_rules

runner = CliRunner()
GUARD = (
    b"\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
)


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return build_stable(tmp_path_factory.mktemp("firstday") / "linux")


def _describe(path: Path, rev: str) -> str:
    return git(path, "describe", "--tags", "--match", "v[0-9]*", rev).stdout.decode().strip()


# --- item 2: the tip is what git describe says, never the tag it is past ---------------------


@pytest.mark.slow
def test_a_branch_past_its_tag_is_named_by_describe_and_agrees_with_sweep(history):
    path, shas = history
    # linux-6.1-cp.y: v6.1 lacks the isolate guard, a cherry-pick after the tag adds it
    described = _describe(path, "linux-6.1-cp.y")
    assert described.startswith("v6.1-1-g")
    repo = Repository(path)
    st = branch_status(repo, load_fix(repo, shas["fix"]), "linux-6.1-cp.y", builtin_rules())
    assert st.tip == described
    structural = [e.detail for e in st.evidence if e.kind == "structural"]
    assert structural and all(f"present at {described}:" in d for d in structural)
    assert not any("at v6.1:" in d or "at v6.1 " in d for d in structural)
    r = run("report", "--repo", str(path), "--fix", shas["fix"], "--branches", "linux-6.1-cp.y")
    assert r.exit_code == 0, r.output
    assert f"linux-6.1-cp.y  {described}" in r.stdout and "present at v6.1:" not in r.stdout
    # the sweep says the same thing of both refs: missing at the tag, present at the tip
    s = run("sweep", "--repo", str(path), "--tags", "v6.1", "--branches", "linux-6.1-cp.y")
    lines = {ln.split()[0]: ln for ln in s.stdout.splitlines() if ln.strip()}
    assert "isolate missing" in lines["v6.1"].lower(), s.stdout
    assert "isolate present" in lines["linux-6.1-cp.y"].lower(), s.stdout


def _state(results: list[dict], check: str) -> str:
    return next(c["status"] for r in results for c in r["checks"] if c["id"] == check)


@pytest.mark.slow
def test_timelines_hold_every_tag_of_the_series_in_the_branchs_history(tmp_path):
    path, shas = build_stable(tmp_path / "linux")
    # v6.1.25 becomes a tag of a tag (as re-signed vendor tags are): peeled to its commit
    git(path, "tag", "-a", "-m", "inner", "inner-tmp", shas["s6125"])
    git(path, "tag", "-f", "-a", "-m", "outer", "v6.1.25", "inner-tmp")
    git(path, "tag", "-d", "inner-tmp")
    assert b"\ntype tag\n" in git(path, "cat-file", "tag", "v6.1.25").stdout
    # v6.1.24 is reached only through a merge's second parent; v6.1.20 is another fork's tag
    make = b"VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 24\nEXTRAVERSION =\nNAME = x\n"
    blob = git(path, "hash-object", "-w", "--stdin", input=make).stdout.decode().strip()
    tree = (
        git(
            path,
            "mktree",
            input=git(path, "ls-tree", "v6.1").stdout.replace(
                git(path, "rev-parse", "v6.1:Makefile").stdout.strip(), blob.encode()
            ),
        )
        .stdout.decode()
        .strip()
    )
    side = (
        git(path, "commit-tree", tree, "-p", "v6.1", "-m", "Linux 6.1.24").stdout.decode().strip()
    )
    git(path, "tag", "v6.1.24", side)
    fork = (
        git(path, "commit-tree", tree, "-p", "v6.1", "-m", "Linux 6.1.20").stdout.decode().strip()
    )
    git(path, "tag", "-a", "-m", "fork", "v6.1.20", fork)
    merge = (
        git(
            path,
            "commit-tree",
            "linux-6.1.y^{tree}",
            "-p",
            "linux-6.1.y",
            "-p",
            side,
            "-m",
            "Merge 6.1.24",
        )
        .stdout.decode()
        .strip()
    )
    git(path, "update-ref", "refs/heads/linux-6.1.y", merge)

    r = run(
        "report",
        "--repo",
        str(path),
        "--fix",
        shas["fix"],
        "--branches",
        "linux-6.1.y",
        "-f",
        "json",
    )
    assert r.exit_code == 1, r.output
    (b,) = json.loads(r.stdout)["branches"]
    assert b["tip"] == _describe(path, "linux-6.1.y") and "-2-g" in b["tip"]
    releases = {x["ref"]: x["state"] for x in b["releases"]}
    assert list(releases) == ["v6.1", "v6.1.24", "v6.1.25", "linux-6.1.y"], releases
    # the sweep of the same refs says the same of each
    s = run(
        "sweep", "--repo", str(path), "--tags", "v6.1*", "--branches", "linux-6.1.y", "-f", "json"
    )
    by_ref: dict[str, list[dict]] = {}
    for item in json.loads(s.stdout)["results"]:
        by_ref.setdefault(item["ref"], []).append(item)
    assert "v6.1.20" in by_ref  # the sweep sees the fork's tag; the branch's timeline does not
    for ref, state in releases.items():
        assert _state(by_ref[ref], "isolate") == state, (ref, state)


# --- item 1: a tree imported as one commit is never formatted as a fix ----------------------


def test_report_refuses_a_root_commit_as_the_fix(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").stdout.decode().split()[0]
    git(repo, "branch", "linux-6.1.y")
    r = run("report", "--repo", str(repo), "--fix", root)
    assert r.exit_code == 2 and r.stdout == ""
    assert "is a root commit; give the fix commit itself" in r.stderr


# --- item 17: a fix after the branch's last release ships in the next one --------------------


@pytest.mark.slow
def test_cve_range_of_a_fixed_unreleased_branch_names_the_next_release(history):
    path, shas = history
    repo = Repository(path)
    st = branch_status(repo, load_fix(repo, shas["fix"]), "linux-6.1-cp.y", builtin_rules())
    assert st.status == "fixed" and st.fixed_in is None
    assert st.cve_range is not None and st.cve_range.endswith(f":6.1.1:{shas['bp61cp'][:12]}")
    assert ":0:" not in st.cve_range
    # a released fix keeps its release
    st = branch_status(repo, load_fix(repo, shas["fix"]), "linux-5.10.y", builtin_rules())
    assert st.cve_range is not None and st.cve_range.endswith(f":5.10.179:{shas['bp510'][:12]}")


# --- item 3: commands fit the repository ----------------------------------------------------


@pytest.mark.slow
def test_commands_use_the_branchs_own_remote_and_only_the_needed_steps(history, tmp_path):
    path, shas = history
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--no-checkout", "-o", "stable", str(path), str(clone)],
        check=True,
        capture_output=True,
    )
    r = run("report", "--repo", str(clone), "--fix", shas["fix"], "--branches", "linux-6.1.y")
    assert r.exit_code == 1, r.output
    assert "git fetch stable linux-6.1.y" in r.stdout
    assert "git checkout -b linux-6.1.y-backport FETCH_HEAD" in r.stdout
    assert f"git cherry-pick -x -s {shas['fix']}" in r.stdout
    assert "git commit -s" not in r.stdout and "kernel.org/pub/scm" not in r.stdout
    # a local branch: nothing to fetch
    r = run("report", "--repo", str(path), "--fix", shas["fix"], "--branches", "linux-6.1.y")
    assert "git fetch" not in r.stdout and "git checkout linux-6.1.y" in r.stdout


@pytest.mark.slow
def test_commands_for_a_mail_use_am_with_sign_off_and_no_extra_commit(history, tmp_path):
    path, shas = history
    mail = tmp_path / "0001-fix.patch"
    mail.write_bytes(git(path, "format-patch", "-1", "--stdout", shas["fix"]).stdout)
    bare = tmp_path / "nofix"
    # a repository without the fix commit: the same history up to v6.1 plus the stable branch
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--no-local",
            "--bare",
            "--single-branch",
            "-b",
            "linux-6.1.y",
            str(path),
            str(bare),
        ],
        check=True,
        capture_output=True,
    )
    r = run("report", "--repo", str(bare), "--fix", str(mail), "--branches", "linux-6.1.y")
    assert r.exit_code == 1, r.output
    assert f"git am -3 -s {mail}" in r.stdout and "git commit -s" not in r.stdout, r.stdout
    assert "git am --continue" in r.stdout


# --- item 4: no stable branches ---------------------------------------------------------


def test_report_without_stable_branches_says_the_default_and_how_to_choose(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    r = run("report", "--repo", str(repo), "--fix", "HEAD")
    assert r.exit_code == 2 and r.stdout == ""
    assert "'linux-*.y', the default" in r.stderr and "--branches" in r.stderr
    assert "no ref matches --branches" not in r.stderr


# --- item 12: a named upstream sha the repository lacks ---------------------------------


@pytest.mark.slow
def test_validate_names_an_upstream_sha_missing_from_the_repository(history, tmp_path):
    path, shas = history
    mail = git(path, "format-patch", "-1", "--stdout", shas["bp510"]).stdout
    missing = "0123456789abcdef0123456789abcdef01234567"
    patch = tmp_path / "bp.patch"
    patch.write_bytes(mail.replace(shas["fix"].encode(), missing.encode()))
    r = run("validate", "--repo", str(path), "--patch", str(patch), "--onto", "v5.10")
    assert "upstream commit 0123456789ab (named in the patch) is not in this repository" in r.stdout
    assert "--upstream FILE" in r.stdout and "no upstream fix given" not in r.stdout


# --- items 13 and 18: the hooks ---------------------------------------------------------


@pytest.fixture
def repo(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    return kernel_repo(tmp_path)


def _lossy_stable_patch(repo: Path, tmp_path: Path) -> Path:
    src = repo / "mm" / "khugepaged.c"
    src.write_bytes(src.read_bytes().replace(GUARD, b"", 1))
    msg = "mm/khugepaged: tidy the isolate loop\n\nCc: <stable@vger.kernel.org>\nSigned-off-by: Test Dev <dev@example.org>\n"
    git(repo, "commit", "-q", "-a", "--no-verify", "-m", msg)
    patch = tmp_path / "0001-tidy.patch"
    patch.write_bytes(git(repo, "format-patch", "-1", "--stdout").stdout)
    return patch


def test_sendemail_validate_reports_a_stable_patchs_guard_loss_once(repo, tmp_path):
    patch = _lossy_stable_patch(repo, tmp_path)
    r = run("hook", "run", "sendemail-validate", str(patch), "--repo", str(repo))
    assert r.exit_code == 1, r.output
    losses = [ln for ln in r.stderr.splitlines() if "isolate" in ln and "guard" in ln]
    assert len(losses) == 1, r.stderr
    assert "loses the uffd-wp guard of __collapse_huge_page_isolate()" in losses[0]
    assert r.stderr.rstrip().endswith("git send-email --no-validate")


def test_fail_closed_refuses_a_patch_that_does_not_apply(repo, tmp_path):
    patch = tmp_path / "stale.patch"
    patch.write_text(
        "--- a/mm/khugepaged.c\n+++ b/mm/khugepaged.c\n@@ -1,2 +1,2 @@\n-no such line\n+new line\n context\n"
    )
    r = run("hook", "run", "sendemail-validate", str(patch), "--repo", str(repo))
    assert r.exit_code == 0 and "does not apply" in r.stderr
    git(repo, "config", "reviewbot.failClosed", "true")
    r = run("hook", "run", "sendemail-validate", str(patch), "--repo", str(repo))
    assert r.exit_code == 1 and "does not apply" in r.stderr
    assert "reviewbot.failClosed refuses what cannot be checked" in r.stderr


@pytest.mark.slow
def test_fail_closed_hook_refuses_a_commit_when_its_python_is_gone(repo, tmp_path):
    gone = tmp_path / "venv" / "python"
    gone.parent.mkdir()
    os.symlink(sys.executable, gone)
    actions = install_hooks(repo, ["pre-commit"], covered_paths(builtin_rules()), python=str(gone))
    assert [a.action for a in actions] == ["installed"]
    gone.unlink()
    src = repo / "mm" / "khugepaged.c"
    src.write_bytes(src.read_bytes() + b"/* a comment */\n")
    git(repo, "add", "mm/khugepaged.c")
    before = git(repo, "rev-parse", "HEAD").stdout
    # default: let through, with a warning
    r1 = git(repo, "commit", "-q", "-m", "one", check=False)
    assert r1.returncode == 0 and b"is gone; guards not checked" in r1.stderr
    git(repo, "reset", "-q", "--soft", before.decode().strip())
    git(repo, "config", "reviewbot.failClosed", "true")
    r2 = git(repo, "commit", "-q", "-m", "two", check=False)
    assert r2.returncode == 1 and b"reviewbot.failClosed is set: refused" in r2.stderr
    assert git(repo, "rev-parse", "HEAD").stdout == before


# --- item 9: the hook guards mm/huge_memory.c only where khugepaged lives there --------------


def _hook_with_missing_python(repo: Path, tmp_path: Path) -> None:
    """Install pre-commit with a Python that does not exist: its message shows Python was due."""
    actions = install_hooks(
        repo, ["pre-commit"], lookup_orders(builtin_rules()), python=str(tmp_path / "no-python")
    )
    assert [a.action for a in actions] == ["installed"]


def _stage(repo: Path, path: str, text: bytes) -> None:
    p = repo / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes((p.read_bytes() if p.exists() else b"") + text)
    git(repo, "add", path)


def test_huge_memory_edit_does_not_start_python_where_khugepaged_c_exists(repo, tmp_path):
    _stage(repo, "mm/huge_memory.c", b"/* a comment */\n")
    git(repo, "commit", "-q", "--no-verify", "-m", "add huge_memory.c")
    _hook_with_missing_python(repo, tmp_path)
    _stage(repo, "mm/huge_memory.c", b"/* another comment */\n")
    r = git(repo, "commit", "-q", "-m", "comment", check=False)
    assert r.returncode == 0 and b"reviewbot" not in r.stderr  # decided in sh
    _stage(repo, "mm/khugepaged.c", b"/* a comment */\n")
    r = git(repo, "commit", "-q", "-m", "comment", check=False)
    assert r.returncode == 0 and b"no-python is gone" in r.stderr  # Python was due


def test_huge_memory_edit_is_checked_where_khugepaged_c_does_not_exist(repo, tmp_path):
    git(repo, "mv", "mm/khugepaged.c", "mm/huge_memory.c")
    git(repo, "commit", "-q", "--no-verify", "-m", "a pre-4.8 layout")
    _hook_with_missing_python(repo, tmp_path)
    _stage(repo, "mm/huge_memory.c", b"/* a comment */\n")
    r = git(repo, "commit", "-q", "-m", "comment", check=False)
    assert r.returncode == 0 and b"no-python is gone" in r.stderr


def test_pre_commit_warns_only_about_the_files_the_change_touches(repo):
    src = repo / "mm" / "khugepaged.c"
    src.write_bytes(src.read_bytes().replace(GUARD, b"", 1))
    git(repo, "commit", "-q", "-a", "--no-verify", "-m", "lose the isolate guard")
    _stage(repo, "mm/huge_memory.c", b"/* unrelated */\n")
    report = gate_commit(Repository(repo), builtin_rules(), strict=True)
    assert report.changes == () and not report.blocked
    # touching khugepaged.c itself still warns (strict refuses) about its missing guard
    _stage(repo, "mm/khugepaged.c", b"/* a comment */\n")
    report = gate_commit(Repository(repo), builtin_rules(), strict=True)
    assert [c.kind for c in report.changes] == ["still-missing"] and report.blocked
