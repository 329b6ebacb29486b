"""The verdict cache: a context manager, bounded to one tool version, keyed by every module."""

from __future__ import annotations

import shutil
import sqlite3
from importlib import resources
from pathlib import Path

import pytest

import reviewbot
from reviewbot.store import cache as cache_module
from reviewbot.store.cache import VerdictCache, digest_inputs, source_digest, tool_version

KEY = ("0" * 40, "mm/khugepaged.c", "khugepaged-uffd-wp", 1, "all")


def rows(db: Path, table: str = "verdicts") -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def test_the_digest_reads_every_module_of_every_subpackage():
    names = [
        n
        for n, _ in digest_inputs(
            resources.files("reviewbot"), resources.files("reviewbot.queries")
        )
    ]
    assert {
        "checker/flow.py",
        "store/cache.py",
        "history/sweep.py",
        "cli/app.py",
        "demo.py",
    } <= set(names)
    assert any(n.endswith(".toml") for n in names)  # the rule files too
    assert tool_version().endswith(
        "+" + source_digest(resources.files("reviewbot"), resources.files("reviewbot.queries"))
    )


def test_a_change_in_a_subpackage_module_changes_the_digest(tmp_path):
    package = tmp_path / "reviewbot"
    shutil.copytree(
        Path(reviewbot.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    queries = tmp_path / "queries"
    queries.mkdir()
    for entry in resources.files("reviewbot.queries").iterdir():
        if entry.is_file():
            (queries / entry.name).write_bytes(entry.read_bytes())
    before = source_digest(package, queries)
    assert source_digest(package, queries) == before
    flow = package / "checker" / "flow.py"
    flow.write_bytes(flow.read_bytes() + b"\n# a changed checker must not serve old verdicts\n")
    assert source_digest(package, queries) != before


def test_opening_prunes_the_verdicts_of_other_tool_versions(tmp_path, monkeypatch):
    db = tmp_path / "c.sqlite3"
    monkeypatch.setattr(cache_module, "tool_version", lambda: "0.1.0+old")
    with VerdictCache(db) as old:
        old.put_verdict(KEY, {"checks": []})
        old.put_info("makefile-version", "1" * 40, "5.10.0")
    assert [r[4] for r in rows(db)] == ["0.1.0+old"]
    with VerdictCache(db) as same:  # the same version keeps its rows
        assert same.get_verdicts([KEY]) == {KEY: {"checks": []}}
    monkeypatch.setattr(cache_module, "tool_version", lambda: "0.1.0+new")
    with VerdictCache(db) as new:
        assert new.get_verdicts([KEY]) == {}
        assert rows(db) == []  # gone as soon as the new version opened the cache
        new.put_verdict(KEY, {"checks": [{"id": "scan"}]})
    assert [r[4] for r in rows(db)] == ["0.1.0+new"]
    assert len(rows(db, "blobinfo")) == 1  # blob facts do not depend on the tool version


def test_the_cache_is_a_context_manager_that_writes_and_closes(tmp_path):
    db = tmp_path / "c.sqlite3"
    with pytest.raises(KeyboardInterrupt), VerdictCache(db) as cache:
        cache.put_verdict(KEY, {"checks": []})
        raise KeyboardInterrupt
    assert len(rows(db)) == 1  # what was computed before the interruption is kept
    assert cache.get_verdicts([KEY]) == {}  # closed: remembers nothing any more
    with VerdictCache(None) as nothing:
        nothing.put_verdict(KEY, {"checks": []})
        assert nothing.get_verdicts([KEY]) == {} and nothing.warning is None
