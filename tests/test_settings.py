"""Settings: defaults, then ``git config reviewbot.*`` (system/global/repo), then flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitenv import git, isolate_git, kernel_repo
from histories import build, era
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.git.settings import Settings, load, parse_bool, parse_entries
from reviewbot.model.errors import InputError

runner = CliRunner()


@pytest.mark.parametrize(
    "value, expected",
    [
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("1", True),
        ("", True),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("0", False),
    ],
)
def test_git_booleans(value, expected):
    assert parse_bool("reviewbot.strict", value) is expected


def test_bad_boolean_names_the_key():
    with pytest.raises(InputError, match=r"git config reviewbot\.strict: 'maybe' is not a boolean"):
        parse_bool("reviewbot.strict", "maybe")


def test_entries_layer_and_keys_are_case_insensitive(tmp_path):
    s = parse_entries(
        [
            ("reviewbot.rules", "a, b"),
            ("reviewbot.rules", "c a"),
            ("reviewbot.strict", "false"),
            ("reviewbot.Strict", "true"),
            ("reviewbot.outputdir", "reports"),
        ],
        base=tmp_path,
    )
    assert s.rules == ("a", "b", "c")  # later files may add rules; duplicates collapse
    assert s.strict is True  # the last value wins, as in git
    assert s.output_dir == tmp_path / "reports"


def test_flags_override_settings(tmp_path):
    s = Settings(rules=("x",), strict=True, output_dir=tmp_path / "cfg")
    assert s.rules_or(None) == ["x"] and s.rules_or(["y"]) == ["y"]
    assert s.strict_or(None) is True and s.strict_or(False) is False
    assert (
        s.output_dir_or(None) == tmp_path / "cfg"
        and s.output_dir_or(tmp_path / "flag") == tmp_path / "flag"
    )
    assert Settings().output_dir_or(None, Path("default")) == Path("default")
    assert Settings().rules_or(None) is None


def test_load_reads_repository_and_global_config(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    assert load(repo) == Settings(origin={})
    git(tmp_path, "config", "--global", "reviewbot.strict", "true")
    assert load(repo).strict is True
    assert load(tmp_path).strict is True  # outside any repository: global config only
    git(repo, "config", "reviewbot.strict", "false")  # the repository's config wins
    git(repo, "config", "reviewbot.outputDir", "/srv/reports")
    s = load(repo)
    assert s.strict is False and s.output_dir == Path("/srv/reports")


def test_check_takes_rules_from_config_and_the_flag_wins(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo = kernel_repo(tmp_path)
    git(repo, "config", "reviewbot.rules", "no-such-rule")
    r = runner.invoke(app, ["check", "--repo", str(repo)])
    assert r.exit_code == 2 and "unknown rule 'no-such-rule'" in r.stderr
    r = runner.invoke(app, ["check", "--repo", str(repo), "--rule", "khugepaged-uffd-wp"])
    assert r.exit_code == 0, r.output


def test_hook_strictness_from_config_and_flags(tmp_path, monkeypatch):
    isolate_git(monkeypatch, tmp_path)
    repo, _ = build(
        tmp_path / "linux", 'commit r "Linux 6.1.25" tag v6.1.25\n' + era("6.1.25", "v6.1.25.c")
    )
    src = repo / "mm" / "khugepaged.c"
    src.write_bytes(src.read_bytes() + b"/* comment */\n")
    git(repo, "add", "mm/khugepaged.c")
    args = ["hook", "run", "pre-commit", "--repo", str(repo)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "warning:" in r.stderr
    git(repo, "config", "reviewbot.strict", "yes")
    r = runner.invoke(app, args)
    assert r.exit_code == 1 and "strict" in r.stderr
    assert runner.invoke(app, [*args, "--no-strict"]).exit_code == 0
    git(repo, "config", "reviewbot.strict", "perhaps")
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and r.stderr.strip() == (
        "reviewbot: error: git config reviewbot.strict: 'perhaps' is not a boolean (hint: use true or false)"
    )
