"""The test environment itself: git sees no user or system configuration, and hypothesis is
derandomised in CI. These guard tests/conftest.py, which every other test relies on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gitenv import GIT_OVERRIDES, isolate_git
from hypothesis import settings


def git_config(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "config", *args], capture_output=True, text=True, cwd=cwd)


def test_every_test_has_its_own_empty_global_git_config(tmp_path):
    home = tmp_path / "home"
    assert os.environ["HOME"] == str(home)
    assert os.environ["GIT_CONFIG_GLOBAL"] == str(home / ".gitconfig")
    assert os.environ["GIT_CONFIG_NOSYSTEM"] == "1"
    assert os.environ["XDG_CACHE_HOME"] == str(home / ".cache")
    assert (home / ".gitconfig").read_text() == ""
    # Nothing in the global scope, and writing to it writes the test's own file.
    assert git_config("--global", "--list").stdout == ""
    assert git_config("--global", "user.name", "Scoped Tester").returncode == 0
    assert "Scoped Tester" in (home / ".gitconfig").read_text()
    shown = git_config("--global", "--show-origin", "--get", "user.name").stdout
    assert shown == f"file:{home / '.gitconfig'}\tScoped Tester\n"
    for var in GIT_OVERRIDES:
        assert var not in os.environ, var
    for who in ("AUTHOR", "COMMITTER"):
        assert os.environ[f"GIT_{who}_NAME"] == "Test Dev"
        assert os.environ[f"GIT_{who}_EMAIL"] == "dev@example.org"


def test_a_global_config_in_the_real_home_is_not_seen(tmp_path, monkeypatch):
    # A developer's ~/.gitconfig (and ~/.config/git/config), a GIT_DIR left in the shell, a
    # config injected on the command line: isolate_git (what conftest applies) drops them all.
    real = tmp_path / "real-home"
    (real / ".config" / "git").mkdir(parents=True)
    (real / ".gitconfig").write_text(
        "[user]\n\tname = Leaked Name\n[core]\n\thooksPath = /leaked/hooks\n"
    )
    (real / ".config" / "git" / "config").write_text("[user]\n\temail = leaked@example.org\n")
    monkeypatch.setenv("HOME", str(real))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(real / ".config"))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'user.name'='Injected'")
    assert (
        git_config("--get", "user.name", cwd=tmp_path).stdout.strip() == "Injected"
    )  # the leak is real

    isolate_git(monkeypatch, tmp_path / "isolated")
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for key in ("user.name", "user.email", "core.hooksPath"):
        r = git_config("--get", key, cwd=repo)
        assert (r.returncode, r.stdout) == (1, ""), (key, r.stdout)
    assert git_config("--global", "--list").stdout == ""
    ident = subprocess.run(
        ["git", "var", "GIT_COMMITTER_IDENT"], capture_output=True, text=True, cwd=repo, check=True
    )
    assert ident.stdout.startswith("Test Dev <dev@example.org> ")


def test_isolate_git_called_again_changes_nothing(tmp_path, monkeypatch):
    before = dict(os.environ)
    isolate_git(monkeypatch, tmp_path)
    assert dict(os.environ) == before


@pytest.fixture(scope="module")
def module_git_config():
    # Module-scoped fixtures run before any per-test fixture: the session isolation covers them.
    return (
        os.environ["GIT_CONFIG_GLOBAL"],
        os.environ["HOME"],
        git_config("--global", "--list").stdout,
    )


def test_module_scoped_fixtures_are_isolated_too(module_git_config, tmp_path_factory):
    config, home, listed = module_git_config
    base = str(tmp_path_factory.getbasetemp())
    assert config.startswith(base) and home.startswith(base)
    assert listed == ""


def test_hypothesis_profile_follows_ci():
    ci = settings.get_profile("ci")
    assert (ci.derandomize, ci.print_blob, ci.deadline, ci.database) == (True, True, None, None)
    assert settings.default.derandomize is bool(os.environ.get("CI"))
    if os.environ.get("CI"):
        assert settings.default.database is None and settings.default.print_blob
