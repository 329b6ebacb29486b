"""The git hooks, installed into real repositories and run by real ``git commit``.

pre-commit must check the staged blob (the index git is about to record — including the
temporary index of ``git commit -a`` / ``git commit PATH``), never the worktree;
sendemail-validate applies the mailed patch in memory. Installing never overwrites a hook that
is not ours silently, and uninstalling puts it back.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from gitenv import PATCH, git, isolate_git, kernel_repo
from histories import build, era
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.demo import fixture_text, makefile
from reviewbot.hooks.install import CHAINED, MARKER, covered_paths, hooks_dir, script
from reviewbot.hooks.install import install as install_hooks
from reviewbot.rules.spec import builtin_rules

runner = CliRunner()
GUARD = (
    b"\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;\n\t\t}\n"
)
SRC = "mm/khugepaged.c"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    return kernel_repo(tmp_path)


def run(*args: str):
    return runner.invoke(app, list(args))


def guard_line(data: bytes) -> int:
    """Line of the first (isolate) uffd-wp guard."""
    return data[: data.index(GUARD)].count(b"\n") + 1


def drop_guard(repo: Path) -> int:
    """Remove the isolate guard from the worktree copy; returns the line it was on."""
    src = repo / SRC
    data = src.read_bytes()
    line = guard_line(data)
    src.write_bytes(data.replace(GUARD, b"", 1))
    return line


def harmless(repo: Path, path: str = SRC) -> None:
    p = repo / path
    p.write_bytes(p.read_bytes() + b"/* a harmless comment */\n")


def commit(repo: Path, *args: str):
    return git(repo, "commit", "-q", "-m", "test", *args, check=False)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.decode().strip()


def install(repo: Path, *extra: str):
    r = run("hook", "install", "--repo", str(repo), *extra)
    assert r.exit_code == 0, r.output
    return r


# --- pre-commit through git commit -----------------------------------------------------


@pytest.mark.slow
def test_lost_guard_blocks_the_commit_and_names_rule_function_line(repo):
    install(repo)
    line = drop_guard(repo)
    git(repo, "add", SRC)
    before = head(repo)
    p = commit(repo)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert head(repo) == before
    assert "khugepaged-uffd-wp isolate" in err
    assert "__collapse_huge_page_isolate()" in err
    assert f"{SRC}:{line}" in err
    assert "git commit --no-verify" in err
    assert commit(repo, "--no-verify").returncode == 0  # the bypass works


@pytest.mark.slow
def test_harmless_edit_of_the_guarded_file_passes_quietly(repo):
    install(repo)
    harmless(repo)
    git(repo, "add", SRC)
    p = commit(repo)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""


@pytest.mark.slow
def test_the_index_is_checked_not_the_worktree(repo):
    install(repo)
    harmless(repo)
    git(repo, "add", SRC)
    drop_guard(repo)  # unstaged: not part of this commit
    p = commit(repo)
    assert p.returncode == 0, p.stderr
    # ...and the reverse: a good worktree does not hide a bad index.
    git(repo, "add", SRC)
    (repo / SRC).write_bytes(git(repo, "show", f"HEAD:{SRC}").stdout)
    p = commit(repo)
    assert p.returncode == 1 and b"loses the uffd-wp guard" in p.stderr


@pytest.mark.slow
@pytest.mark.parametrize("how", [["-a"], [SRC]], ids=["commit -a", "commit PATH"])
def test_temporary_index_of_commit_a_and_commit_path(repo, how):
    # git hands these hooks a temporary index (GIT_INDEX_FILE); the removal is only there.
    install(repo)
    drop_guard(repo)
    p = commit(repo, *how)
    assert p.returncode == 1, p.stderr
    assert b"__collapse_huge_page_isolate" in p.stderr


@pytest.mark.slow
def test_guard_already_missing_at_head_warns_unless_strict(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo, _ = build(
        tmp_path / "linux", 'commit r "Linux 6.1.25" tag v6.1.25\n' + era("6.1.25", "v6.1.25.c")
    )
    install(repo)
    harmless(repo)
    git(repo, "add", SRC)
    p = commit(repo)
    assert p.returncode == 0, p.stderr
    assert (
        b"warning: __collapse_huge_page_isolate() has no uffd-wp guard in the staged version (nor in HEAD)"
        in p.stderr
    )
    git(repo, "config", "reviewbot.strict", "true")
    harmless(repo)
    git(repo, "add", SRC)
    p = commit(repo)
    assert p.returncode == 1
    assert b"strict" in p.stderr and b"--no-verify" in p.stderr


@pytest.mark.slow
def test_first_commit_on_an_unborn_branch(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = tmp_path / "new"
    git(tmp_path, "init", "-q", str(repo))
    install(repo)
    (repo / "mm").mkdir()
    (repo / "Makefile").write_bytes(makefile("6.1.25"))
    (repo / SRC).write_bytes(fixture_text("v6.1.25.c"))
    git(repo, "add", ".")
    p = commit(repo)
    assert p.returncode == 0, p.stderr  # nothing was lost: a warning only
    assert b"warning:" in p.stderr and b"isolate" in p.stderr


def test_the_shell_decides_before_python_starts(repo, tmp_path):
    # The installed script runs Python only when a guarded path is staged.
    calls = tmp_path / "calls"
    fake = tmp_path / "fake-python"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 0\n')
    fake.chmod(0o755)
    install_hooks(
        repo, ["pre-commit", "sendemail-validate"], covered_paths(builtin_rules()), python=str(fake)
    )
    harmless(repo, "README")
    git(repo, "add", "README")
    assert commit(repo).returncode == 0
    assert not calls.exists()
    harmless(repo)
    git(repo, "add", SRC)
    assert commit(repo).returncode == 0
    assert calls.read_text().split() == ["-m", "reviewbot", "hook", "run", "pre-commit"]
    hooks = hooks_dir(repo)
    other = tmp_path / "other.patch"
    other.write_text("--- a/README\n+++ b/README\n@@ -1 +1 @@\n-kernel\n+Kernel\n")
    assert git(repo, "rev-parse", "HEAD").returncode == 0
    assert subprocess.run([str(hooks / "sendemail-validate"), str(other)], cwd=repo).returncode == 0
    assert len(calls.read_text().splitlines()) == 1  # README only: no Python
    assert subprocess.run([str(hooks / "sendemail-validate"), str(PATCH)], cwd=repo).returncode == 0
    assert calls.read_text().splitlines()[-1].split()[-1] == str(PATCH)


def test_missing_interpreter_warns_and_lets_the_commit_through(repo):
    install_hooks(
        repo, ["pre-commit"], covered_paths(builtin_rules()), python="/nonexistent/python"
    )
    harmless(repo)
    git(repo, "add", SRC)
    p = commit(repo)
    assert p.returncode == 0 and b"is gone" in p.stderr


# --- install / uninstall ----------------------------------------------------------------


def test_install_writes_executable_scripts_with_the_guarded_paths(repo):
    r = install(repo)
    hooks = repo / ".git" / "hooks"
    for name in ("pre-commit", "sendemail-validate"):
        p = hooks / name
        text = p.read_text()
        assert MARKER in text and "mm/khugepaged" in text and sys.executable in text
        assert p.stat().st_mode & stat.S_IXUSR
        assert f"{name}: installed {p}" in r.stdout
    r = install(repo, "--hooks", "pre-commit")
    assert "pre-commit: updated" in r.stdout


def test_foreign_hook_is_refused_without_force_and_nothing_is_written(repo):
    hooks = repo / ".git" / "hooks"
    mine = hooks / "pre-commit"
    mine.write_text("#!/bin/sh\nexit 0\n")
    r = run("hook", "install", "--repo", str(repo))
    assert r.exit_code == 2
    assert "not reviewbot's" in r.stderr and "--force" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert mine.read_text() == "#!/bin/sh\nexit 0\n"
    assert not (hooks / "sendemail-validate").exists()  # refused before writing anything


@pytest.mark.slow
def test_force_chains_to_the_existing_hook_and_uninstall_restores_it(repo, tmp_path):
    hooks = repo / ".git" / "hooks"
    mine = hooks / "pre-commit"
    ran = tmp_path / "ran"
    original = f"#!/bin/sh\necho mine >> {ran}\nexit ${{MINE_EXIT:-0}}\n"
    mine.write_text(original)
    mine.chmod(0o750)
    r = install(repo, "--force")
    assert "kept as" in r.stdout
    assert (hooks / f"pre-commit{CHAINED}").read_text() == original
    harmless(repo)
    git(repo, "add", SRC)
    assert commit(repo).returncode == 0
    assert ran.read_text() == "mine\n"
    harmless(repo)
    git(repo, "add", SRC)
    p = git(repo, "commit", "-q", "-m", "x", check=False, env={"MINE_EXIT": "3"})
    assert p.returncode != 0  # the chained hook's failure is the hook's failure
    drop_guard(repo)
    git(repo, "add", SRC)
    assert commit(repo).returncode == 1  # ours still runs after it
    assert ran.read_text().count("mine") == 3
    r = run("hook", "uninstall", "--repo", str(repo))
    assert r.exit_code == 0 and "restored" in r.stdout
    assert mine.read_text() == original
    assert stat.S_IMODE(mine.stat().st_mode) == 0o750
    assert not (hooks / f"pre-commit{CHAINED}").exists()
    assert not (hooks / "sendemail-validate").exists()


def test_uninstall_leaves_foreign_hooks_alone(repo):
    mine = repo / ".git" / "hooks" / "pre-commit"
    mine.write_text("#!/bin/sh\nexit 0\n")
    r = run("hook", "uninstall", "--repo", str(repo))
    assert r.exit_code == 0
    assert "not reviewbot's hook; left alone" in r.stdout
    assert "sendemail-validate: no reviewbot hook" in r.stdout
    assert mine.exists()


@pytest.mark.slow
def test_worktree_uses_the_shared_hooks_directory(repo, tmp_path):
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(wt))
    install(wt)
    assert (repo / ".git" / "hooks" / "pre-commit").exists()
    drop_guard(wt)
    git(wt, "add", SRC)
    p = commit(wt)
    assert p.returncode == 1 and b"__collapse_huge_page_isolate" in p.stderr
    git(wt, "checkout", "-q", "HEAD", "--", SRC)
    harmless(wt)
    git(wt, "add", SRC)
    assert commit(wt).returncode == 0


@pytest.mark.slow
def test_core_hooks_path_is_honoured(repo, tmp_path):
    shared = tmp_path / "shared-hooks"
    git(repo, "config", "core.hooksPath", str(shared))
    install(repo)
    assert (shared / "pre-commit").exists() and not (
        repo / ".git" / "hooks" / "pre-commit"
    ).exists()
    drop_guard(repo)
    git(repo, "add", SRC)
    assert commit(repo).returncode == 1


def test_install_refuses_a_directory_that_is_not_a_repository(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    r = run("hook", "install", "--repo", str(plain))
    assert r.exit_code == 2 and "not a git repository" in r.stderr
    assert list(plain.iterdir()) == []


def test_script_quotes_odd_interpreter_paths(tmp_path):
    text = script("pre-commit", ["mm/khugepaged.c"], "/opt/it's here/python")
    assert "python='/opt/it'\"'\"'s here/python'" in text


# --- sendemail-validate -----------------------------------------------------------------


def format_patch(repo: Path, rev: str = "HEAD") -> bytes:
    return git(repo, "format-patch", "-1", "--stdout", rev).stdout


def lossy_commit(repo: Path) -> None:
    drop_guard(repo)
    git(repo, "commit", "-q", "-a", "--no-verify", "-m", "mm/khugepaged: tidy the isolate loop")


def validate(repo: Path, patch: Path, *extra: str):
    return run("hook", "run", "sendemail-validate", str(patch), "--repo", str(repo), *extra)


def test_patch_losing_a_guard_is_refused_whatever_the_checkout(repo, tmp_path):
    lossy_commit(repo)
    data = format_patch(repo)
    patch = tmp_path / "0001-tidy.patch"
    patch.write_bytes(data)
    r = validate(repo, patch)  # HEAD already has it: the From sha's parent is the base
    assert r.exit_code == 1, r.output
    assert "the patch loses the uffd-wp guard of __collapse_huge_page_isolate()" in r.stderr
    assert "git send-email --no-validate" in r.stderr
    unknown = data.replace(data[5:45], b"0" * 40, 1)  # a sha this repository does not have
    patch.write_bytes(unknown)
    r = validate(repo, patch)  # already at HEAD: reverse-applied
    assert r.exit_code == 1 and "HEAD without the patch" in r.stderr
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    r = validate(repo, patch)  # not yet committed: applied to HEAD
    assert r.exit_code == 1 and "(at mm/khugepaged.c:" in r.stderr


def test_harmless_patch_passes(repo, tmp_path):
    harmless(repo)
    git(repo, "commit", "-q", "-a", "--no-verify", "-m", "comment")
    patch = tmp_path / "ok.patch"
    patch.write_bytes(format_patch(repo))
    r = validate(repo, patch)
    assert r.exit_code == 0 and r.stderr == ""


def test_patch_that_does_not_apply_warns_unless_strict(repo, tmp_path):
    patch = tmp_path / "stale.patch"
    patch.write_text(
        "--- a/mm/khugepaged.c\n+++ b/mm/khugepaged.c\n@@ -1,2 +1,2 @@\n-no such line\n+new line\n context\n"
    )
    r = validate(repo, patch)
    assert r.exit_code == 0 and "does not apply" in r.stderr and "hunk #1" in r.stderr
    assert validate(repo, patch, "--strict").exit_code == 1


def test_mbox_with_several_patches_is_checked_one_by_one(repo, tmp_path):
    harmless(repo)
    git(repo, "commit", "-q", "-a", "--no-verify", "-m", "comment")
    lossy_commit(repo)
    mbox = git(repo, "format-patch", "-2", "--stdout").stdout
    patch = tmp_path / "series.mbox"
    patch.write_bytes(mbox)
    r = validate(repo, patch)
    assert r.exit_code == 1
    assert "series.mbox (patch 2): khugepaged-uffd-wp isolate" in r.stderr
    assert "(patch 1)" not in r.stderr


def test_cc_stable_patch_goes_through_backport_validation(repo, tmp_path, monkeypatch):
    harmless(repo)
    git(
        repo,
        "commit",
        "-q",
        "-a",
        "--no-verify",
        "-m",
        "mm: comment\n\nCc: stable@vger.kernel.org\nSigned-off-by: A <a@example.org>",
    )
    patch = tmp_path / "stable.patch"
    patch.write_bytes(format_patch(repo))
    monkeypatch.delitem(sys.modules, "reviewbot.backport.validate", raising=False)
    seen = {}

    def fake_validate(repo_, mail, onto, rules, upstream=None, *, strict=False):
        seen["onto"] = onto.sha
        return types.SimpleNamespace(
            accepted=False, reasons=["touches functions the upstream fix does not"]
        )

    fake = types.ModuleType("reviewbot.backport.validate")
    fake.validate = fake_validate
    monkeypatch.setitem(sys.modules, "reviewbot.backport.validate", fake)
    r = validate(repo, patch)
    assert r.exit_code == 1
    assert "backport validation rejects it: touches functions the upstream fix does not" in r.stderr
    assert seen["onto"] == git(repo, "rev-parse", "HEAD~1").stdout.decode().strip()


def test_cc_stable_without_the_validate_module_is_a_note(repo, tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def no_validate(name, *a, **k):
        if name == "reviewbot.backport.validate":
            raise ModuleNotFoundError("No module named 'reviewbot.validate'", name=name)
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", no_validate)
    harmless(repo)
    git(
        repo,
        "commit",
        "-q",
        "-a",
        "--no-verify",
        "-m",
        "mm: comment\n\nCc: stable@vger.kernel.org\nSigned-off-by: A <a@example.org>",
    )
    patch = tmp_path / "stable.patch"
    patch.write_bytes(format_patch(repo))
    r = validate(repo, patch)
    assert r.exit_code == 0
    assert "backport validation skipped" in r.stderr


@pytest.mark.slow
def test_installed_sendemail_validate_script_end_to_end(repo, tmp_path):
    install(repo)
    lossy_commit(repo)
    patch = tmp_path / "0001.patch"
    patch.write_bytes(format_patch(repo))
    hook = hooks_dir(repo) / "sendemail-validate"
    env = {k: v for k, v in os.environ.items() if k != "GIT_DIR"}
    p = subprocess.run([str(hook), str(patch)], cwd=repo, capture_output=True, env=env)
    assert p.returncode == 1 and b"loses the uffd-wp guard" in p.stderr


def test_ctrl_c_while_writing_a_hook_leaves_no_temporary_file(repo, monkeypatch):
    import reviewbot.hooks.install as hook_module

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(hook_module.os, "replace", interrupted)
    r = run("hook", "install", "--repo", str(repo))
    assert r.exit_code == 130 and r.stderr.strip() == "reviewbot: error: interrupted"
    hooks = repo / ".git" / "hooks"
    assert not [p for p in hooks.iterdir() if p.name.startswith(".")]
    assert not (hooks / "pre-commit").exists()
