"""``reviewbot sweep``: ref selection, version order, per-blob reuse, the cache, and the formats."""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stable_history import build_stable
from typer.testing import CliRunner

from reviewbot.cli.app import app
from reviewbot.git.repository import Repository
from reviewbot.history.refs import select_refs
from reviewbot.history.sweep import check_ref, sweep
from reviewbot.rules.spec import builtin_rules
from reviewbot.store.cache import VerdictCache

runner = CliRunner()


def run(*args: str):
    # The histories are built for khugepaged-uffd-wp: one row per ref. Other built-in rules
    # (khugepaged-uffd-wp-swap) would add a row per ref each.
    if args and args[0] == "sweep" and "--rule" not in args:
        args = (*args, "--rule", "khugepaged-uffd-wp")
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    path, shas = build_stable(tmp_path_factory.mktemp("sweep") / "linux")
    return path, shas


def refs_of(doc: dict) -> list[str]:
    return [r["ref"] for r in doc["results"]]


@pytest.mark.slow
def test_rows_equal_check_ref_for_every_ref(history, tmp_path):
    """The sweep's memoised, cached verdicts are exactly what check_ref computes per ref."""
    path, _ = history
    repo = Repository(path)
    rules = builtin_rules()
    refs = select_refs(repo, ["*"], ["*"])
    cold = sweep(repo, refs, rules, VerdictCache(tmp_path / "c.sqlite3"))
    warm = sweep(repo, refs, rules, VerdictCache(tmp_path / "c.sqlite3"))
    assert cold == warm
    compared = 0
    for row in cold:
        if row.results:
            assert list(row.results) == check_ref(repo, repo.resolve(row.ref), rules), row.ref
            compared += 1
    assert compared >= 2 and compared >= len(cold) // 2, (compared, len(cold))


def test_version_order_rc_before_release_and_numeric_patch(history):
    path, _ = history
    r = run("sweep", "--repo", str(path), "--tags", "v5.10*", "--tags", "v6.3*", "--format", "json")
    assert r.exit_code == 1, r.output
    assert refs_of(json.loads(r.stdout)) == [
        "v5.10",
        "v5.10.9",
        "v5.10.10",
        "v5.10.179",
        "v6.3-rc1",
        "v6.3",
    ]


def test_same_blob_gets_the_verdict_of_each_version(history):
    """v5.6 and v5.7 share the khugepaged blob; uffd-wp exists only from 5.7 (cache context)."""
    path, shas = history
    repo = Repository(path)
    assert repo.blob_ids(["v5.6:mm/khugepaged.c"]) == repo.blob_ids(["v5.7:mm/khugepaged.c"])
    for _ in range(2):  # cold, then from the cache
        r = run(
            "sweep", "--repo", str(path), "--tags", "v5.6", "--tags", "v5.7", "--format", "json"
        )
        by = {
            res["ref"]: {c["id"]: c["status"] for c in res["checks"]}
            for res in json.loads(r.stdout)["results"]
        }
        assert by["v5.6"]["scan"] == "not-applicable"
        assert by["v5.7"]["scan"] == "present" and by["v5.7"]["isolate"] == "missing"


@pytest.mark.slow
def test_text_groups_consecutive_releases(history):
    path, _ = history
    r = run("sweep", "--repo", str(path), "--tags", "v5.*")
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert any(
        ln.startswith("v5.7 … v5.10.10 (4 refs") and "isolate MISSING" in ln for ln in lines
    ), r.stdout
    assert any(ln.startswith("v5.10.179 ") and "isolate present" in ln for ln in lines)
    assert "refs (" in lines[-1] and "with a missing guard" in lines[-1]
    assert r.stderr == ""  # no progress bar in a pipe


@pytest.mark.slow
def test_ref_lacking_the_file_gets_a_row_not_a_failure(history):
    path, _ = history
    r = run("sweep", "--repo", str(path), "--tags", "v6.9", "--tags", "v6.3", "--format", "json")
    assert r.exit_code == 0, r.output
    res = {x["ref"]: x for x in json.loads(r.stdout)["results"]}
    assert res["v6.9"]["checks"] == [] and "none of mm/khugepaged.c" in res["v6.9"]["note"]
    assert res["v6.9"]["kernel_version"] == "6.9.0"
    assert "note" not in res["v6.3"] and res["v6.3"]["checks"]
    r = run("sweep", "--repo", str(path), "--tags", "v6.9")
    assert "none of mm/khugepaged.c" in r.stdout


def test_since_and_branches(history):
    path, _ = history
    r = run(
        "sweep",
        "--repo",
        str(path),
        "--branches",
        "linux-*.y",
        "--since",
        "5.15",
        "--format",
        "json",
    )
    doc = json.loads(r.stdout)
    assert refs_of(doc) == ["linux-5.15.y", "linux-6.1-cp.y", "linux-6.1.y", "linux-6.2.y"]
    assert all(x["kind"] == "branch" and len(x["sha"]) == 40 for x in doc["results"])


def test_json_contract(history):
    path, _ = history
    doc = json.loads(run("sweep", "--repo", str(path), "--tags", "v6.1", "--format", "json").stdout)
    assert doc["schema"] == "reviewbot/1" and doc["tool"]["name"] == "reviewbot"
    (res,) = doc["results"]
    assert set(res) >= {
        "source",
        "ref",
        "kernel_version",
        "version_origin",
        "rule",
        "rule_version",
        "checks",
        "kind",
        "sha",
    }
    assert (
        res["ref"] == "v6.1"
        and res["source"] == "mm/khugepaged.c"
        and res["version_origin"] == "makefile"
    )
    assert {(c["id"], c["site"]) for c in res["checks"]} == {
        ("scan", None),
        ("isolate", None),
        ("file", "collapse"),
        ("file", "retract"),
    }


@pytest.mark.slow
def test_markdown_sarif_and_html(history, tmp_path):
    path, _ = history
    r = run("sweep", "--repo", str(path), "--tags", "v6.*", "--format", "md")
    assert r.stdout.startswith("| refs | count | kernel |") and "**MISSING**" in r.stdout
    sarif = json.loads(
        run("sweep", "--repo", str(path), "--tags", "v6.*", "--format", "sarif").stdout
    )
    props = [x["properties"]["ref"] for x in sarif["runs"][0]["results"]]
    assert sorted(props) == ["v6.1", "v6.1.25", "v6.2", "v6.3-rc1"]
    out = tmp_path / "sweep.html"
    r = run("sweep", "--repo", str(path), "--tags", "v6.*", "--format", "html", "-o", str(out))
    assert r.exit_code == 1 and r.stdout == "" and str(out) in r.stderr
    page = out.read_text()
    assert (
        page.startswith("<!DOCTYPE html>") and "<svg" in page and 'table class="sortable"' in page
    )
    assert "src=" not in page and "<link" not in page and "url(" not in page  # self-contained


@pytest.mark.slow
def test_cache_is_used_and_no_cache_leaves_nothing(history, tmp_path, monkeypatch):
    path, _ = history
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    db = tmp_path / "xdg" / "reviewbot" / "verdicts.sqlite3"
    r = run("sweep", "--repo", str(path), "--tags", "v*", "--no-cache", "--format", "json")
    assert r.exit_code == 1 and not db.exists()
    cold = run("sweep", "--repo", str(path), "--tags", "v*", "--format", "json").stdout
    assert db.exists()

    def no_reads(self, sha):
        raise AssertionError("a warm sweep must not read blobs")

    monkeypatch.setattr(Repository, "read_blob", no_reads)
    warm = run("sweep", "--repo", str(path), "--tags", "v*", "--format", "json")
    assert warm.exit_code == 1, warm.output
    assert warm.stdout == cold


def test_unusable_cache_degrades_with_a_warning(history, tmp_path, monkeypatch):
    path, _ = history
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    r = run("sweep", "--repo", str(path), "--tags", "v6.3")
    assert r.exit_code == 0, r.output
    assert "warning: verdict cache" in r.stderr and "isolate present" in r.stdout


def test_bare_repository_works(history, tmp_path):
    path, _ = history
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(path), str(bare)], check=True)
    r = run("sweep", "--repo", str(bare), "--tags", "v6.3*", "--format", "json")
    assert refs_of(json.loads(r.stdout)) == ["v6.3-rc1", "v6.3"]


def test_shallow_clone_warns_clearly(history, tmp_path):
    path, _ = history
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{path}", str(shallow)], check=True
    )
    r = run("sweep", "--repo", str(shallow), "--branches", "*")
    assert r.exit_code in (0, 1)
    assert "shallow clone" in r.stderr and "git fetch --unshallow" in r.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--tags", "v[5"], "bad pattern 'v[5'"),  # unbalanced bracket
        (["--tags", "v5..*"], "bad pattern"),  # '..' cannot be in a ref name
        (["--branches", ""], "empty pattern"),
        (["--tags", "v9.*"], "no ref in"),  # empty selection
        (["--tags", "v5.10.999"], "unknown tag 'v5.10.999'"),  # an exact name that does not exist
        (["--branches", "linux-9.9.y"], "unknown branch"),
        (["--tags", "v5.*", "--since", "7.0"], "no selected ref is at or after 7.0"),
        (["--tags", "v5.*", "--since", "banana"], "not a kernel version"),
    ],
)
def test_bad_selection_is_one_line_exit_2(history, args, needle):
    path, _ = history
    r = run("sweep", "--repo", str(path), *args)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout == "" and "Traceback" not in r.stderr


def test_not_a_repository(tmp_path):
    r = run("sweep", "--repo", str(tmp_path))
    assert r.exit_code == 2 and "not a git repository" in r.stderr


VENDOR = (
    'commit plain "Linux 5.4.249" tag v5.4.249\n'
    "  file Makefile = @makefile 5.4.249\n  file include/uapi/linux/userfaultfd.h = @uapi 5.4.0\n"
    "  file mm/khugepaged.c = @fixture v5.7.c\n"
    'commit vendor "uffd-wp backported" tag v5.4.250\n  file include/uapi/linux/userfaultfd.h = @uapi 5.7.0\n'
    'commit nomake "no Makefile" tag v5.4.251\n  delete Makefile\n'
)


def test_same_blob_under_backport_evidence_and_unknown_version(tmp_path):
    """One khugepaged blob: not applicable, applicable by uapi evidence, version unknown."""
    from histories import build

    path, _ = build(tmp_path / "vendor", VENDOR)
    repo = Repository(path)
    rules = builtin_rules()
    for _ in range(2):  # cold, then warm
        rows = sweep(
            repo, select_refs(repo, ["v*"], None), rules, VerdictCache(tmp_path / "c.sqlite3")
        )
        assert [r.ref for r in rows] == ["v5.4.249", "v5.4.250", "v5.4.251"]
        for row in rows:
            assert list(row.results) == check_ref(repo, repo.resolve(row.ref), rules), row.ref
    by = {r.ref: r for r in rows}
    assert str(by["v5.4.249"].status_of("scan")) == "not-applicable"
    assert str(by["v5.4.250"].status_of("scan")) == "present"
    assert "backported" in by["v5.4.250"].results[0].checks[0].message
    assert (
        by["v5.4.251"].version.version is None
        and by["v5.4.251"].results[0].version.origin == "unknown"
    )
    assert (
        str(by["v5.4.251"].status_of("scan")) == "present"
    )  # the uapi header still shows the feature


def test_tag_of_a_tree_gets_a_row(tmp_path):
    """linux has v2.6.11-tree, a tag of a tree object: a row that says so, not a failure."""
    from histories import build, era

    path, _ = build(
        tmp_path / "t", 'commit a "Linux 5.10" tag v5.10\n' + era("5.10.0", "v5.10.178.c")
    )
    subprocess.run(["git", "-C", str(path), "tag", "v2.6.11-tree", "HEAD^{tree}"], check=True)
    r = run("sweep", "--repo", str(path), "--format", "json")
    assert r.exit_code == 1, r.output
    res = json.loads(r.stdout)["results"]
    assert [x["ref"] for x in res] == ["v2.6.11-tree", "v5.10"]
    assert res[0]["checks"] == [] and "names a tree, not a commit" in res[0]["note"]


@pytest.mark.slow
@given(
    st.lists(
        st.tuples(st.integers(2, 7), st.integers(0, 20), st.integers(0, 300), st.integers(0, 8)),
        min_size=1,
        max_size=30,
        unique=True,
    )
)
def test_order_is_kernel_version_order(versions):
    """v5.10.9 < v5.10.10 and rc tags before the release, whatever order the refs come in."""
    from reviewbot.history.sweep import SweepRow, order_rows
    from reviewbot.model.results import VersionInfo
    from reviewbot.model.versions import KernelVersion

    names = sorted(
        {
            f"v{a}.{b}" + (f".{c}" if c and not rc else "") + (f"-rc{rc}" if rc else "")
            for a, b, c, rc in versions
        }
    )
    rows = [SweepRow(n, "tag", "0" * 40, VersionInfo(None, "unknown")) for n in reversed(names)]
    got = [r.ref for r in order_rows(rows)]
    assert got == sorted(names, key=KernelVersion.parse)
    for a, b in zip(got, got[1:], strict=False):
        assert KernelVersion.parse(a) <= KernelVersion.parse(b)
