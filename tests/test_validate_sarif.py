"""``validate --format sarif`` (issue 11): one SARIF 2.1.0 result per failed check, located in
the patched file relative to the repository root, with the hunk's region when it is known."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sarif_pydantic as sarif  # test extra: the SARIF 2.1.0 object model
from test_validate import AFTER_NON_PRESENT, GUARD, PATCHES, UPSTREAM, after, proposal, run
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.demo import populate
from reviewbot.diffs.mailfmt import Edit
from reviewbot.git.fastimport import HistoryBuilder
from reviewbot.render.validation import to_sarif

runner = CliRunner()


def results_of(text: str) -> list[dict]:
    doc = json.loads(text)
    sarif.Sarif.model_validate(doc)  # the 2.1.0 shape, not just any JSON
    assert doc["version"] == "2.1.0" and "schema" not in doc
    (run_,) = doc["runs"]
    ids = [d["id"] for d in run_["tool"]["driver"]["rules"]]
    for res in run_["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]  # the index points at its descriptor
    return run_["results"]


def uri_and_region(res: dict) -> tuple[str, dict | None]:
    (loc,) = res["locations"]
    phys = loc["physicalLocation"]
    assert phys["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    return phys["artifactLocation"]["uri"], phys.get("region")


def test_one_error_per_failed_check_with_its_message_and_details():
    p = proposal(Edit(AFTER_NON_PRESENT, 0, (GUARD[0], GUARD[1], "\t\t\tcontinue;", GUARD[3])))
    v = run(p)
    results = results_of(to_sarif(v, p, Path("/src/linux")))
    assert [r["ruleId"] for r in results] == [x.id for x in v.failed] == ["guards", "equivalence"]
    (hunk,) = p.files[0].hunks
    for res, verdict in zip(results, v.failed, strict=True):
        assert res["level"] == "error"
        text = res["message"]["text"]
        assert text.startswith(verdict.message) and verdict.details
        assert all(d in text for d in verdict.details)
        # the patch has one hunk: that is where the check failed, in the target's lines
        assert uri_and_region(res) == (
            "mm/khugepaged.c",
            {"startLine": hunk.source_start, "endLine": hunk.source_start + hunk.source_length - 1},
        )


def test_a_hunk_that_does_not_apply_is_located_at_the_mismatching_line():
    v = run(UPSTREAM)
    (res,) = results_of(to_sarif(v, UPSTREAM, Path("/src/linux")))
    (detail,) = v.verdict("applies").details
    assert res["ruleId"] == "applies" and "hunk #1: line 162:" in detail
    assert uri_and_region(res) == ("mm/khugepaged.c", {"startLine": 162})


def test_a_check_over_several_hunks_names_the_file_without_a_region():
    p = proposal(
        Edit(AFTER_NON_PRESENT, 0, GUARD),
        Edit(after("result = SCAN_PAGE_NULL;", 1), 1, ("\t\t\tresult = SCAN_FAIL;",)),
    )
    v = run(p)
    results = results_of(to_sarif(v, p, Path("/src/linux")))
    assert [r["ruleId"] for r in results] == ["scope", "equivalence"]
    assert uri_and_region(results[0]) == ("mm/khugepaged.c", None)  # which hunk is not known


def test_an_accepted_patch_has_no_results_but_names_its_root():
    p = proposal(Edit(AFTER_NON_PRESENT, 0, GUARD))
    doc = json.loads(to_sarif(run(p), p, Path("/src/linux")))
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///src/linux/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "linux"
    named = populate(HistoryBuilder(path, bare=False))
    return path, named


@pytest.mark.slow
def test_cli_sarif_matches_the_json_verdicts_and_keeps_stderr_clean(demo, tmp_path, monkeypatch):
    path, named = demo
    up = next(PATCHES.glob("0001-*.patch"))
    monkeypatch.chdir(tmp_path)  # URIs are relative to the repository, not to where we stand
    args = ["validate", "--repo", str(path), "--patch", str(up), "--onto", "v5.15.108"]
    args += ["--upstream", named["fix"]]
    r = runner.invoke(app, [*args, "--format", "sarif"])
    assert r.exit_code == 1 and r.stderr == ""
    results = results_of(r.stdout)
    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    failed = [c for c in doc["validation"]["checks"] if c["status"] == "fail"]
    assert [res["ruleId"] for res in results] == [c["id"] for c in failed] == ["applies"]
    uri, region = uri_and_region(results[0])
    assert uri == "mm/khugepaged.c" and region is not None and region["startLine"] > 0
    root = json.loads(r.stdout)["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == path.resolve().as_uri() + "/"


@pytest.mark.slow
def test_cli_sarif_of_an_accepted_backport_is_empty_and_exits_0(demo, tmp_path):
    path, named = demo
    patch = tmp_path / "backport.patch"
    patch.write_text(
        subprocess.run(
            ["git", "-C", str(path), "format-patch", "-1", "--stdout"]
            + [named["backport-linux-5.10.y"]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    r = runner.invoke(
        app,
        ["validate", "--repo", str(path), "--patch", str(patch), "--onto", "v5.10.178"]
        + ["-f", "sarif"],
    )
    assert r.exit_code == 0 and r.stderr == ""
    assert results_of(r.stdout) == []
