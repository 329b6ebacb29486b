"""The pre-commit hook's reading of the index (``git.staged``) and its lean start (issue 11, item 9).

``read_staged`` answers, in two git processes, which guarded paths the index changes against
HEAD and what both sides hold; ``python -m reviewbot hook run pre-commit`` runs it without
importing typer or GitPython, with the same output and exit codes as the full command line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from gitenv import git, kernel_repo

from reviewbot.git.staged import read_blobs, read_staged
from reviewbot.model.errors import RepoError

SRC = "mm/khugepaged.c"
GUARD = (
    b"\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
)


@pytest.fixture
def repo(tmp_path):
    return kernel_repo(tmp_path)


def _head(repo: Path, path: str) -> bytes:
    return git(repo, "show", f"HEAD:{path}").stdout


def test_nothing_staged_gives_heads_content_on_both_sides(repo):
    snap = read_staged(repo, [SRC, "mm/collapse.c"], ["Makefile"])
    assert snap.staged == () and not snap.unborn
    assert snap.head[SRC] == snap.index[SRC] == _head(repo, SRC)
    assert snap.head["mm/collapse.c"] is None and snap.index["mm/collapse.c"] is None
    assert snap.head["Makefile"] == _head(repo, "Makefile")


def test_the_staged_blob_not_the_worktree(repo):
    src = repo / SRC
    staged = src.read_bytes() + b"/* staged */\n"
    src.write_bytes(staged)
    git(repo, "add", SRC)
    src.write_bytes(b"/* unstaged */\n")
    snap = read_staged(repo, [SRC])
    assert snap.staged == (SRC,)
    assert snap.index[SRC] == staged and snap.head[SRC] == _head(repo, SRC)


def test_a_deleted_path_has_no_staged_content(repo):
    git(repo, "rm", "-q", "--cached", SRC)
    snap = read_staged(repo, [SRC])
    assert snap.staged == (SRC,) and snap.index[SRC] is None and snap.head[SRC] is not None


def test_a_conflict_is_staged_with_no_committable_content(repo):
    base = _head(repo, SRC)
    git(repo, "checkout", "-q", "-b", "side")
    (repo / SRC).write_bytes(base.replace(GUARD, b"", 1))
    git(repo, "commit", "-q", "-am", "side")
    git(repo, "checkout", "-q", "master")
    (repo / SRC).write_bytes(base.replace(GUARD, GUARD.replace(b"goto out", b"goto out2"), 1))
    git(repo, "commit", "-q", "-am", "main")
    assert git(repo, "merge", "-q", "side", check=False).returncode != 0
    snap = read_staged(repo, [SRC])
    assert snap.staged == (SRC,) and snap.index[SRC] is None


def test_from_a_subdirectory_paths_are_from_the_top(repo):
    src = repo / SRC
    src.write_bytes(src.read_bytes() + b"/* x */\n")
    git(repo, "add", SRC)
    snap = read_staged(repo / "mm", [SRC], ["Makefile"])
    assert snap.staged == (SRC,) and snap.head["Makefile"] == _head(repo, "Makefile")


def test_an_unborn_branch_stages_everything_in_the_index(tmp_path):
    repo = tmp_path / "new"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "mm").mkdir()
    (repo / SRC).write_bytes(b"int x;\n")
    (repo / "Makefile").write_bytes(b"VERSION = 6\nPATCHLEVEL = 1\n")
    git(repo, "add", SRC, "Makefile")
    snap = read_staged(repo, [SRC, "mm/collapse.c"], ["Makefile"])
    assert snap.unborn and snap.staged == (SRC,)
    assert snap.head[SRC] is None and snap.index[SRC] == b"int x;\n"
    assert snap.index["Makefile"] == b"VERSION = 6\nPATCHLEVEL = 1\n"


def test_outside_a_repository_is_an_error(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(RepoError, match="not a git repository"):
        read_staged(tmp_path / "plain", [SRC])


def test_read_blobs_missing_trees_and_blobs(repo):
    got = read_blobs(repo, [f"HEAD:{SRC}", "HEAD:mm", "HEAD:nope.c", "HEAD:Makefile"])
    assert got[0] == _head(repo, SRC) and got[1] is None and got[2] is None
    assert got[3] == _head(repo, "Makefile")


# --- the lean start of python -m reviewbot hook run pre-commit ----------------------------

_PROBE = """
import runpy, sys
sys.argv = ["reviewbot", *sys.argv[1:]]
try:
    runpy.run_module("reviewbot", run_name="__main__")
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in ("typer", "click", "git", "gitdb", "unidiff") if m in sys.modules)
print("HEAVY=" + ",".join(heavy) + " CODE=" + str(code))
"""


def _module(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args], cwd=repo, capture_output=True, text=True
    )


def _heavy(out: str) -> str:
    return out.rsplit("HEAVY=", 1)[-1]


def test_pre_commit_imports_neither_typer_nor_gitpython_and_says_what_the_cli_says(
    repo, monkeypatch
):
    src = repo / SRC
    src.write_bytes(src.read_bytes().replace(GUARD, b"", 1))
    git(repo, "add", SRC)
    lean = _module(repo, "hook", "run", "pre-commit")
    assert _heavy(lean.stdout).startswith(" CODE=1"), lean.stdout + lean.stderr
    assert "loses the uffd-wp guard of __collapse_huge_page_isolate()" in lean.stderr
    # the full command line (typer, GitPython) says exactly the same
    from typer.testing import CliRunner

    from reviewbot.cli.app import app

    monkeypatch.chdir(repo)
    r = CliRunner().invoke(app, ["hook", "run", "pre-commit"])
    assert r.exit_code == 1 and r.stderr == lean.stderr


def test_anything_else_goes_to_the_full_command_line(repo):
    # --help, an unknown option, a missing --repo: typer parses them and says what is wrong
    helped = _module(repo, "hook", "run", "pre-commit", "--help")
    assert "typer" in _heavy(helped.stdout) and "CODE=0" in helped.stdout
    odd = _module(repo, "hook", "run", "pre-commit", "--frobnicate")
    assert "CODE=2" in odd.stdout and "--frobnicate" in odd.stderr
    missing = _module(repo, "hook", "run", "pre-commit", "--repo", str(repo / "nope"))
    assert "CODE=2" in missing.stdout and "no such directory" in missing.stderr
    # the options the installed hook passes stay on the lean path
    rules = repo / "no-rules.d"
    rules.mkdir()
    lean = _module(repo, "hook", "run", "pre-commit", "--rules", str(rules), "--strict")
    assert _heavy(lean.stdout).startswith(" CODE=0"), lean.stdout + lean.stderr


def test_the_console_script_takes_the_same_lean_path():
    # the pre-commit framework runs `reviewbot hook run pre-commit` (the console script)
    import tomllib

    root = Path(__file__).resolve().parent.parent
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["reviewbot"] == "reviewbot.cli.entry:main"
    assert "reviewbot.cli.entry" in (root / "reviewbot" / "__main__.py").read_text()
