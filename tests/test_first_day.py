"""What a maintainer meets on the first day (issue 11): repo mode and file mode agree, a bare
``check`` reads the work tree, output fits terminals and logs, SARIF paths are repository
relative, every offered format works, versions are parsed strictly, and settings are honoured.

CLI tests go through CliRunner (stdout and stderr apart) on real git histories in tmp_path.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from histories import build, era
from rich.console import Console
from typer.testing import CliRunner

from reviewbot.checker.files import check_files
from reviewbot.cli.app import app
from reviewbot.demo import fixture_text
from reviewbot.diffs.mailfmt import git_date, mail
from reviewbot.model.errors import InputError
from reviewbot.model.versions import KernelVersion
from reviewbot.render import checks as render
from reviewbot.rules.spec import builtin_rules

FIX = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


SPEC = (
    'commit rel "Linux 6.1.25" tag v6.1.25\n'
    + era("6.1.25", "v6.1.25.c")
    + "  file mm/huge_memory.c = @text int unrelated(void) { return 0; }\n"
    + "  file mm/copy.c = @fixture v6.1.26.c\n"
)


@pytest.fixture
def linux(tmp_path) -> Path:
    repo, _ = build(tmp_path / "linux", SPEC)
    return repo


# --- item 14: versions are parsed strictly ------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [
        ("6.1", "6.1.0"),
        ("6.1.20", "6.1.20"),
        ("v6.1.20", "6.1.20"),
        ("6.3-rc1", "6.3.0-rc1"),
        ("6.3.0-rc1", "6.3.0-rc1"),
        (" v5.10 ", "5.10.0"),
    ],
)
def test_version_forms_still_accepted(text, want):
    assert str(KernelVersion.parse(text)) == want


@pytest.mark.parametrize("text", ["6.1 ; rm -rf", "5.10.x", "6.1.", "6.1.20.1", "6.1.20 foo", "6"])
def test_version_with_trailing_text_is_refused(text):
    with pytest.raises(InputError, match="not a kernel version"):
        KernelVersion.parse(text)
    assert KernelVersion.try_parse(text) is None


@pytest.mark.parametrize("bad", ["6.1 ; rm -rf", "5.10.x"])
def test_cli_refuses_a_version_with_trailing_text(linux, bad):
    r = run("check", str(FIX / "eras/v6.1.25.c"), "--kernel-version", bad)
    assert r.exit_code == 2 and r.stdout == ""
    assert "not a kernel version" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run("sweep", "--repo", str(linux), "--since", bad, "--no-cache")
    assert r.exit_code == 2 and "not a kernel version" in r.stderr


# --- item 5: every path given is checked or refused, the same way in both modes ------------


def test_repo_mode_refuses_a_path_defining_none_of_the_functions_like_file_mode(linux):
    r = run("check", "--repo", str(linux), "mm/huge_memory.c")
    assert r.exit_code == 2 and r.stdout == ""
    assert "mm/huge_memory.c at HEAD: defines none of the functions" in r.stderr
    r = run("check", str(linux / "mm/huge_memory.c"))
    assert r.exit_code == 2 and r.stdout == ""
    assert "defines none of the functions" in r.stderr


def test_repo_mode_checks_every_path_given(linux):
    r = run(
        "check",
        "--repo",
        str(linux),
        "mm/khugepaged.c",
        "mm/copy.c",
        "-f",
        "json",
        "--rule",
        "khugepaged-uffd-wp",
    )
    assert r.exit_code == 1, r.stderr
    by_source = {res["source"]: res for res in json.loads(r.stdout)["results"]}
    assert set(by_source) == {"mm/khugepaged.c", "mm/copy.c"}
    status = {s: {c["id"]: c["status"] for c in res["checks"]} for s, res in by_source.items()}
    assert status["mm/khugepaged.c"]["isolate"] == "missing"
    assert status["mm/copy.c"]["isolate"] == "present"
    # the same two files on disk give the same verdicts
    r2 = run(
        "check",
        str(linux / "mm/khugepaged.c"),
        str(linux / "mm/copy.c"),
        "-f",
        "json",
        "--rule",
        "khugepaged-uffd-wp",
    )
    on_disk = [
        {c["id"]: c["status"] for c in res["checks"]} for res in json.loads(r2.stdout)["results"]
    ]
    assert on_disk == [status["mm/khugepaged.c"], status["mm/copy.c"]]


def test_repo_mode_refuses_a_second_path_that_is_bad(linux):
    for second, needle in (
        ("mm/huge_memory.c", "defines none of the functions"),
        ("mm/nothere.c", "mm/nothere.c: no file of that name exists at HEAD"),
    ):
        r = run("check", "--repo", str(linux), "mm/khugepaged.c", second)
        assert r.exit_code == 2 and r.stdout == "", (second, r.stdout)
        assert needle in r.stderr and len(r.stderr.splitlines()) == 1


def test_repo_json_names_the_sha_next_to_the_ref(linux):
    head = subprocess.run(
        ["git", "-C", str(linux), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    r = run("check", "--repo", str(linux), "-f", "json", "--rule", "khugepaged-uffd-wp")
    (res,) = json.loads(r.stdout)["results"]
    assert res["ref"] == "HEAD" and res["sha"] == head


# --- item 6: a bare ``check`` inside a work tree --------------------------------------------


def test_check_without_file_reads_the_work_tree_and_says_so(linux, monkeypatch):
    monkeypatch.chdir(linux / "mm")
    r = run("check", "-f", "json")
    assert r.exit_code == 1, r.stderr
    # both built-in rules read the same file: it is named once
    assert r.stderr == f"reviewbot: checked the working tree of {linux}: mm/khugepaged.c\n"
    results = json.loads(r.stdout)["results"]
    assert {x["rule"] for x in results} == {"khugepaged-uffd-wp", "khugepaged-uffd-wp-swap"}
    (res,) = [x for x in results if x["rule"] == "khugepaged-uffd-wp"]
    assert res["source"] == "mm/khugepaged.c" and res["ref"] is None
    assert res["kernel_version"] == "6.1.25"
    # the developer fixes the file: the bare check sees it, --repo . says it read HEAD
    (linux / "mm/khugepaged.c").write_bytes(fixture_text("v6.1.26.c"))
    r = run("check")
    assert r.exit_code == 0, r.stdout
    r = run("check", "--repo", ".")
    assert r.exit_code == 1
    assert "read HEAD (" in r.stderr and "mm/khugepaged.c has local changes" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert "isolate: missing" in r.stdout


def test_check_without_file_outside_a_work_tree_still_asks_for_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("check")
    assert r.exit_code == 2 and "no FILE given" in r.stderr


# --- item 7: text output for terminals and logs ---------------------------------------------


def test_piped_text_is_compiler_style_lines():
    r = run(
        "check",
        str(FIX / "eras/v6.1.25.c"),
        "--kernel-version",
        "6.1.25",
        "--rule",
        "khugepaged-uffd-wp",
    )
    assert r.exit_code == 1 and r.stderr == ""
    lines = r.stdout.splitlines()
    src = str(FIX / "eras/v6.1.25.c")
    isolate = [x for x in lines if ": isolate: missing: " in x]
    assert len(isolate) == 1
    assert re.match(re.escape(src) + r":\d+: isolate: missing: .+\(in \w+\)$", isolate[0])
    assert not any(ch in r.stdout for ch in "│┃━")  # no table
    assert " - " not in r.stdout  # no empty via column
    assert "1 missing (isolate)" in lines[-1]


def _results():
    return check_files([FIX / "eras/v6.1.25.c"], builtin_rules(), "6.1.25") + check_files(
        [FIX / "eras/v6.2.12.c"], builtin_rules(), "6.2.12"
    )


@pytest.mark.parametrize("width", [60, 80, 100, 140, 200])
def test_terminal_output_never_splits_an_identifier(width):
    results = _results()
    buf = io.StringIO()
    render.text(results, Console(file=buf, width=width, force_terminal=True, no_color=True))
    out = buf.getvalue()
    for r in results:
        for c in r.checks:
            assert c.function and c.function in out, (width, c.function)
    table = "┃" in out
    assert table == (width >= max(render.table_width(r) for r in results)), width
    if table:
        header = next(x for x in out.splitlines() if "┃" in x)
        assert "via" not in header and "function" in header  # empty columns dropped
    else:
        assert any(": isolate: missing: " in x for x in out.splitlines())


# --- item 10: SARIF artifact URIs relative to the repository root ---------------------------


def _sarif_locations(stdout: str):
    doc = json.loads(stdout)
    out = []
    for run_ in doc["runs"]:
        base = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        for res in run_["results"]:
            art = res["locations"][0]["physicalLocation"]["artifactLocation"]
            out.append((art["uriBaseId"], art["uri"], base))
    return out


def test_sarif_uris_are_relative_to_the_tree_root_for_files(linux, monkeypatch):
    monkeypatch.chdir(linux / "include")
    root = linux.resolve().as_uri() + "/"
    for given in ("../mm/khugepaged.c", str((linux / "mm/khugepaged.c").resolve())):
        r = run("check", given, "-f", "sarif")
        assert r.exit_code == 1, r.stderr
        assert _sarif_locations(r.stdout) == [("%SRCROOT%", "mm/khugepaged.c", root)], given


def test_sarif_uris_are_relative_to_the_repository(linux, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("check", "--repo", str(linux), "-f", "sarif")
    assert _sarif_locations(r.stdout) == [
        ("%SRCROOT%", "mm/khugepaged.c", linux.resolve().as_uri() + "/")
    ]
    r = run("sweep", "--repo", str(linux), "-f", "sarif", "--no-cache")
    assert r.exit_code == 1, r.stderr
    assert _sarif_locations(r.stdout) == [
        ("%SRCROOT%", "mm/khugepaged.c", linux.resolve().as_uri() + "/")
    ]


# --- item 8 and 17: sweep Markdown/HTML give the reason; JSON Lines for streaming -----------


def test_sweep_markdown_and_html_show_the_reason(linux):
    (res,) = check_files(
        [linux / "mm/khugepaged.c"],
        tuple(r for r in builtin_rules() if r.id == "khugepaged-uffd-wp"),
    )
    (miss,) = res.missing
    for fmt in ("md", "html"):
        r = run(
            "sweep", "--repo", str(linux), "-f", fmt, "--no-cache", "--rule", "khugepaged-uffd-wp"
        )
        assert r.exit_code == 1, r.stderr
        words = miss.message.split("(")[0].strip()
        assert words in r.stdout.replace("&#x27;", "'"), fmt
        assert f"{miss.function}:{miss.line}" in r.stdout


def test_sweep_jsonl_is_one_object_per_line(linux):
    r = run(
        "sweep", "--repo", str(linux), "-f", "jsonl", "--no-cache", "--rule", "khugepaged-uffd-wp"
    )
    assert r.exit_code == 1, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["schema"] == "reviewbot/1" and obj["ref"] == "v6.1.25" and obj["checks"]


# --- item 17: --version, one prefix, the hook metavar ---------------------------------------


def test_version_option_and_error_prefix_once():
    from reviewbot import __version__

    r = run("--version")
    assert r.exit_code == 0 and r.stdout == f"reviewbot {__version__}\n"
    r = run("--bogus")
    assert r.exit_code == 2
    assert r.stderr.startswith("reviewbot: error: No such option: --bogus")
    r = run("check", "--bogus")
    assert r.stderr.startswith("reviewbot: error: reviewbot check: No such option")


def test_hook_run_usage_names_its_arguments():
    r = run("hook", "run", "--help")
    assert r.exit_code == 0
    usage = " ".join(r.stdout.split())
    assert "HOOK" in usage and "[FILE]..." in usage and "{hook}:" not in usage


# --- item 17: generated mails start like git format-patch's -------------------------------


def test_mail_from_line_names_the_sha_and_date_is_git_shaped():
    sha = "70876948e041f8e7500673755eb014dcb0c5d5c1"
    text = mail(
        subject="s",
        prefix="PATCH",
        author="A <a@example.org>",
        date="Mon, 07 Sep 2020 01:02:03 -0700",
        body="b\n",
        diff="",
        sha=sha,
    )
    assert text.startswith(f"From {sha} Mon Sep 17 00:00:00 2001\n")
    assert "\nDate: Mon, 7 Sep 2020 01:02:03 -0700\n" in text
    no_date = mail(subject="s", prefix="", author="a@example.org", date=None, body="", diff="")
    assert no_date.startswith("From " + "0" * 40)
    (line,) = [x for x in no_date.splitlines() if x.startswith("Date: ")]
    assert re.fullmatch(
        r"Date: [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", line
    )


def test_git_date_reads_any_rfc2822_form():
    assert git_date("Sun, 13 Sep 2020 23:26:40 +0000") == "Sun, 13 Sep 2020 23:26:40 +0000"
    assert git_date("13 Sep 2020 23:26:40 +0200") == "Sun, 13 Sep 2020 23:26:40 +0200"
