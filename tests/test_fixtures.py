"""Every fixture file states its expected verdicts in its header; this test checks them all.

Keys of ``expect``/``expect-line``/``expect-via``/... name a check (``scan``, ``isolate``,
``file``) or a file-path site (``collapse``, ``retract``). For ``file`` the status is the
aggregate over its sites (missing wins).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_header import read

from reviewbot.checker.check import check_source
from reviewbot.model.results import VersionInfo
from reviewbot.rules.spec import get_rule

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


@pytest.mark.parametrize("path", sorted(ROOT.glob("eras/*.c")), ids=lambda p: p.name)
def test_every_role_is_found_again_under_a_new_name(path: Path):
    """Rename each examined function (definition and callers) to a name no alias list has:
    the fingerprint must find it, report the new name, and reach the same verdict."""
    import re

    exp = read(path)
    version = VersionInfo(exp.kernel_version or "7.1.0", "flag")
    rule = get_rule("khugepaged-uffd-wp")
    data = path.read_text()
    (base,) = check_source(data.encode(), path.name, (rule,), version)
    renamed = 0
    for c in base.checks:
        if c.function is None or str(c.status) == "not-applicable":
            continue
        new = "renamed_" + c.function.lstrip("_")
        mutated = re.sub(rf"\b{re.escape(c.function)}\b", new, data)
        (res,) = check_source(mutated.encode(), path.name, (rule,), version)
        (again,) = [x for x in res.checks if x.key == c.key]
        assert (again.function, again.status) == (new, c.status), again.message
        assert "fingerprint" in again.message or "called by" in again.message
        renamed += 1
    assert renamed or {str(c.status) for c in base.checks} == {"not-applicable"}
