"""The CLI through typer's CliRunner: stdout, stderr and exit codes, on real git histories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from histories import build, era
from typer.testing import CliRunner

from reviewbot.cli.app import app

FIX = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_every_command_has_help():
    for cmd in app.registered_commands:
        assert (cmd.callback.__doc__ or "").strip(), cmd.callback.__name__
        r = run(cmd.name or cmd.callback.__name__, "--help")
        assert r.exit_code == 0
        assert "Usage" in r.stdout and r.stdout.strip(), cmd.callback.__name__


def _commands_of_groups() -> list[tuple[list[str], object]]:
    out = []
    for group in app.registered_groups:
        gname = group.name or group.typer_instance.info.name
        for cmd in group.typer_instance.registered_commands:
            out.append(([gname, cmd.name or cmd.callback.__name__.replace("_", "-")], cmd))
    return out


def test_every_subcommand_of_a_group_has_help():
    subcommands = _commands_of_groups()
    assert {" ".join(argv) for argv, _ in subcommands} >= {
        "hook install",
        "hook uninstall",
        "hook run",
    }
    for argv, cmd in subcommands:
        doc = (cmd.callback.__doc__ or "").strip()
        assert doc, argv
        r = run(*argv, "--help")
        assert r.exit_code == 0, (argv, r.stdout, r.stderr)
        assert r.stdout.strip() and "Usage: " in r.stdout and " ".join(argv) in r.stdout, (
            argv,
            r.stdout,
        )
        # The help shows the command's own description, not only the usage line.
        assert doc.split()[0] in r.stdout, (argv, doc, r.stdout)


def test_check_file_missing_guard_exits_1():
    r = run("check", str(FIX / "eras/v6.1.25.c"), "--kernel-version", "6.1.25")
    assert r.exit_code == 1, r.output
    assert "missing" in r.stdout and "isolate" in r.stdout
    assert "1 missing (isolate)" in r.stdout
    assert r.stderr == ""


def test_check_file_all_present_exits_0():
    r = run("check", str(FIX / "eras/v6.1.26.c"), "--kernel-version", "6.1.26")
    assert r.exit_code == 0, r.output
    assert "4 present" in r.stdout


def test_check_json_contract():
    r = run(
        "check", str(FIX / "eras/v5.10.178.c"), "--kernel-version", "5.10.178", "--format", "json"
    )
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == "reviewbot/1"
    # Every built-in rule reports on the file: the uffd-wp rule and its swap-entry companion.
    assert [x["rule"] for x in doc["results"]] == ["khugepaged-uffd-wp", "khugepaged-uffd-wp-swap"]
    res = doc["results"][0]
    assert (
        res["ref"] is None
        and res["kernel_version"] == "5.10.178"
        and res["rule"] == "khugepaged-uffd-wp"
    )
    by = {(c["id"], c["site"]): c for c in res["checks"]}
    assert by[("scan", None)]["status"] == "present"
    assert by[("scan", None)]["function"] == "khugepaged_scan_pmd"
    assert by[("isolate", None)]["status"] == "missing"
    assert by[("file", "collapse")]["status"] == "not-applicable"
    for c in res["checks"]:
        assert set(c) >= {"id", "status", "function", "line", "via", "uncertain", "message"}


def test_check_sarif_has_one_result_per_missing_guard():
    r = run("check", str(FIX / "eras/v6.2.12.c"), "--kernel-version", "6.2.12", "--format", "sarif")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["version"] == "2.1.0"
    run0 = doc["runs"][0]
    ids = [d["id"] for d in run0["tool"]["driver"]["rules"]]
    assert "khugepaged-uffd-wp/isolate" in ids and "khugepaged-uffd-wp/file/retract" in ids
    (result,) = run0["results"]
    assert result["ruleId"] == "khugepaged-uffd-wp/isolate"
    assert ids[result["ruleIndex"]] == result["ruleId"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] > 0


def test_unknown_version_is_inferred_and_said():
    r = run("check", str(FIX / "eras/mm-2026.c"), "--format", "json")
    assert r.exit_code == 0, r.stdout
    res = json.loads(r.stdout)["results"][0]
    assert res["kernel_version"] is None and res["version_origin"] == "inferred"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["check", "/nonexistent/khugepaged.c"], "no such file"),
        (["check", "--rev", "v1"], "--rev needs --repo"),
        (["check"], "no FILE given"),
        (["check", "x.c", "--kernel-version", "banana"], "not a kernel version"),
        (["check", "--repo", "/nonexistent"], "no such directory"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    r = run(*args)
    assert r.exit_code == 2
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "khugepaged.c"
    p.write_bytes(b"static int x;\0\0\0")
    r = run("check", str(p))
    assert r.exit_code == 2 and "binary" in r.stderr


def test_not_a_repository(tmp_path):
    r = run("check", "--repo", str(tmp_path))
    assert r.exit_code == 2 and "not a git repository" in r.stderr


SPEC = (
    'commit old "Linux 4.4" tag v4.4\n'
    + era("4.4.0", "v4.4.c", huge_memory=True)
    + 'commit r510 "Linux 5.10.178" tag v5.10.178\n'
    + era("5.10.178", "v5.10.178.c")
    + "  delete mm/huge_memory.c\n"
    + 'commit r61 "Linux 6.1.26" tag v6.1.26\n'
    + era("6.1.26", "v6.1.26.c")
    + 'commit nofile "drop it" tag v9.9\n  delete mm/khugepaged.c\n'
)


@pytest.mark.slow
def test_repo_mode_reads_blobs_at_refs_and_leaves_repo_untouched(tmp_path):
    repo, _ = build(tmp_path / "linux", SPEC)
    before = (repo / ".git" / "index").read_bytes()
    r = run("check", "--repo", str(repo), "--rev", "v5.10.178", "--format", "json")
    assert r.exit_code == 1
    res = json.loads(r.stdout)["results"][0]
    assert (
        res["ref"] == "v5.10.178"
        and res["kernel_version"] == "5.10.178"
        and res["version_origin"] == "makefile"
    )
    r = run("check", "--repo", str(repo), "--rev", "v4.4", "--format", "json")
    assert r.exit_code == 0
    res = json.loads(r.stdout)["results"][0]
    assert res["source"] == "mm/huge_memory.c"
    assert {c["status"] for c in res["checks"]} == {"not-applicable"}
    r = run("check", "--repo", str(repo), "--rev", "v6.1.26")
    assert r.exit_code == 0 and "present" in r.stdout
    assert (repo / ".git" / "index").read_bytes() == before


def test_repo_mode_errors(tmp_path):
    repo, _ = build(tmp_path / "linux", SPEC)
    r = run("check", "--repo", str(repo), "--rev", "v0.0-nope")
    assert r.exit_code == 2 and "unknown revision" in r.stderr
    r = run("check", "--repo", str(repo), "--rev", "v9.9")
    assert r.exit_code == 2 and "exists at v9.9" in r.stderr
    r = run("check", "--repo", str(repo), "../etc/passwd")
    assert r.exit_code == 2 and "outside the repository" in r.stderr


@pytest.mark.slow
def test_demo_runs_on_bundled_history(tmp_path):
    r = run("demo", "--dir", str(tmp_path / "demo"))
    assert r.exit_code == 0, r.output
    assert "v5.10.179" in r.stdout and "mm-unstable" in r.stdout
    assert "with a missing guard" in r.stdout


@pytest.mark.slow
def test_sarif_validates_against_the_sarif_2_1_0_model(tmp_path):
    import sarif_pydantic as sarif  # test extra: the SARIF 2.1.0 object model

    files = [
        str(FIX / "eras/v5.10.178.c"),
        str(FIX / "cases/file-missing-negated.c"),
        str(FIX / "eras/v6.6.c"),
    ]
    r = run("check", *files, "--kernel-version", "6.6.0", "--format", "sarif")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    model = sarif.Sarif.model_validate(doc)
    assert model.version == "2.1.0"
    results = doc["runs"][0]["results"]
    assert {x["ruleId"] for x in results} >= {
        "khugepaged-uffd-wp/isolate",
        "khugepaged-uffd-wp/file/retract",
    }
    assert all(x["level"] in ("error", "warning") for x in results)


def test_file_without_any_rule_function_is_an_input_error(tmp_path):
    p = tmp_path / "huge_memory.c"
    p.write_text(
        "// SPDX-License-Identifier: GPL-2.0\nstatic int thp_enabled(void)\n{\n\treturn 1;\n}\n"
    )
    r = run("check", str(p), "--kernel-version", "6.1.0")
    assert r.exit_code == 2
    assert "defines none of the functions" in r.stderr and r.stdout == ""


def test_reserved_register_mode_wp_is_no_evidence(tmp_path):
    """UFFDIO_REGISTER_MODE_WP is defined (reserved) from 4.3: a 5.4 tree's header defining it
    only is no backport of uffd-wp (the real 4.4.155 and 5.4.273 headers do so)."""
    spec = (
        'commit v54 "Linux 5.4" tag v5.4.200\n'
        "  file Makefile = @makefile 5.4.200\n"
        "  file include/uapi/linux/userfaultfd.h = @text #define UFFDIO_REGISTER_MODE_WP ((__u64)1<<1)\n"
        "  file mm/khugepaged.c = @fixture v5.4.c\n"
    )
    repo, _ = build(tmp_path / "v54", spec)
    r = run("check", "--repo", str(repo), "--rev", "v5.4.200", "--format", "json")
    assert r.exit_code == 0, r.stdout
    res = json.loads(r.stdout)["results"][0]
    by = {(c["id"], c["site"]): c for c in res["checks"]}
    assert by[("isolate", None)]["status"] == "not-applicable"
    assert "backported" not in by[("isolate", None)]["message"]


def test_vendor_backport_evidence_makes_old_kernel_applicable(tmp_path):
    """A 4.18 vendor tree whose uapi header has UFFDIO_WRITEPROTECT_MODE_WP: anon checks apply."""
    spec = (
        'commit rhel "vendor 4.18 with uffd-wp backported" tag v4.18.0-vendor\n'
        "  file Makefile = @makefile 4.18.0\n"
        "  file include/uapi/linux/userfaultfd.h = @text #define UFFDIO_WRITEPROTECT_MODE_WP ((__u64)1<<0)\n"
        "  file mm/khugepaged.c = @fixture v5.10.178.c\n"
    )
    repo, _ = build(tmp_path / "vendor", spec)
    r = run("check", "--repo", str(repo), "--rev", "v4.18.0-vendor", "--format", "json")
    assert r.exit_code == 1, r.stdout
    res = json.loads(r.stdout)["results"][0]
    by = {(c["id"], c["site"]): c for c in res["checks"]}
    assert res["kernel_version"] == "4.18.0"
    assert by[("isolate", None)]["status"] == "missing"
    assert "backported" in by[("isolate", None)]["message"]
    assert by[("file", "retract")]["status"] == "not-applicable"
