"""Every fixture file states its expected verdicts in its header; this test checks them all.

Keys of ``expect``/``expect-line``/``expect-via``/... name a check (``scan``, ``isolate``,
``file``) or a file-path site (``collapse``, ``retract``). For ``file`` the status is the
aggregate over its sites (missing wins).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_header import read

from reviewbot.check import check_source
from reviewbot.model import VersionInfo
from reviewbot.rules import get_rule

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
FILES = sorted(ROOT.glob("eras/*.c")) + sorted(ROOT.glob("cases/*.c"))


def _select(result, key):
    """The check results a header key refers to: a check id or a site id."""
    found = [c for c in result.checks if c.id == key and c.site is None]
    found += [c for c in result.checks if c.site == key]
    if not found:
        found = [c for c in result.checks if c.id == key]
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path):
    exp = read(path)
    version = VersionInfo(exp.kernel_version, "flag") if exp.kernel_version else VersionInfo(None, "unknown")
    (result,) = check_source(path.read_bytes(), path.name, (get_rule("khugepaged-uffd-wp"),), version)
    summary = "\n".join(f"  {c.key}: {c.status} {c.function} L{c.line} via={c.via} unc={c.uncertain} | {c.message}" for c in result.checks)
    for key, status in exp.status.items():
        checks = _select(result, key)
        assert checks, f"no check {key}\n{summary}"
        got = result.status_of(key) if key in ("scan", "isolate", "file") else checks[0].status
        assert str(got) == status, f"{key}: expected {status}, got {got}\n{summary}"
    for key, name in exp.function.items():
        assert any(c.function == name for c in _select(result, key)), f"{key}: function {name}\n{summary}"
    for key, line in exp.line.items():
        assert any(c.line == line for c in _select(result, key)), f"{key}: line {line}\n{summary}"
    for key, via in exp.via.items():
        assert any(c.via == via for c in _select(result, key)), f"{key}: via {via}\n{summary}"
    for key in exp.uncertain:
        assert any(c.uncertain for c in _select(result, key)), f"{key}: not marked uncertain\n{summary}"
    for key in exp.status:
        if key not in exp.uncertain:
            assert not any(c.uncertain for c in _select(result, key)), f"{key}: unexpectedly uncertain\n{summary}"
    for key, needle in exp.messages:
        msgs = [c.message for c in _select(result, key)]
        assert any(needle.lower() in m.lower() for m in msgs), f"{key}: message lacks {needle!r}\n{summary}"


def test_every_fixture_has_an_expectation():
    assert len(FILES) >= 40
    for p in FILES:
        assert read(p).status, p
