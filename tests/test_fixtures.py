"""Every fixture file states its expected verdicts in its header; this test checks them all.

Keys of ``expect``/``expect-line``/``expect-via``/... name a check (``scan``, ``isolate``,
``file``) or a file-path site (``collapse``, ``retract``). For ``file`` the status is the
aggregate over its sites (missing wins). The expected line of a case is marked on the line
itself (``/* expect-line: isolate */``); era fixtures give it as a number in the header.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixture_header import ANNOTATION, read

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
    version = (
        VersionInfo(exp.kernel_version, "flag")
        if exp.kernel_version
        else VersionInfo(None, "unknown")
    )
    (result,) = check_source(
        path.read_bytes(), path.name, (get_rule("khugepaged-uffd-wp"),), version
    )
    summary = "\n".join(
        f"  {c.key}: {c.status} {c.function} L{c.line} via={c.via} unc={c.uncertain} | {c.message}"
        for c in result.checks
    )
    for key, status in exp.status.items():
        checks = _select(result, key)
        assert checks, f"no check {key}\n{summary}"
        got = result.status_of(key) if key in ("scan", "isolate", "file") else checks[0].status
        assert str(got) == status, f"{key}: expected {status}, got {got}\n{summary}"
    for key, name in exp.function.items():
        assert any(c.function == name for c in _select(result, key)), (
            f"{key}: function {name}\n{summary}"
        )
    for key, line in exp.line.items():
        assert any(c.line == line for c in _select(result, key)), f"{key}: line {line}\n{summary}"
    for key, via in exp.via.items():
        assert any(c.via == via for c in _select(result, key)), f"{key}: via {via}\n{summary}"
    for key in exp.uncertain:
        assert any(c.uncertain for c in _select(result, key)), (
            f"{key}: not marked uncertain\n{summary}"
        )
    for key in exp.status:
        if key not in exp.uncertain:
            assert not any(c.uncertain for c in _select(result, key)), (
                f"{key}: unexpectedly uncertain\n{summary}"
            )
    for key, needle in exp.messages:
        msgs = [c.message for c in _select(result, key)]
        assert any(needle.lower() in m.lower() for m in msgs), (
            f"{key}: message lacks {needle!r}\n{summary}"
        )


def test_every_fixture_has_an_expectation():
    assert len(FILES) >= 40
    for p in FILES:
        assert read(p).status, p


@pytest.mark.parametrize("path", sorted(ROOT.glob("eras/*.c")), ids=lambda p: p.name)
def test_every_role_is_found_again_under_a_new_name(path: Path):
    """Rename each examined function (definition and callers) to a name no alias list has:
    the fingerprint must find it, report the new name, and reach the same verdict."""
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


def _verdicts(data: bytes, name: str):
    version = VersionInfo("6.1.20", "flag")
    return [
        c
        for r in check_source(data, name, (get_rule("khugepaged-uffd-wp"),), version)
        for c in r.checks
    ]


ANNOTATED = [p for p in FILES if ANNOTATION.search(p.read_bytes())]


@pytest.mark.parametrize("path", ANNOTATED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_annotations_do_not_change_what_the_checker_sees(path: Path):
    """An annotation is a comment at the end of a line: without it, every verdict, message and
    line is the same (so it cannot be what makes a fixture pass)."""
    data = path.read_bytes()
    stripped = ANNOTATION.sub(b"", data)
    assert stripped != data
    assert stripped.count(b"\n") == data.count(b"\n")
    assert _verdicts(stripped, path.name) == _verdicts(data, path.name)
    for line in data.split(b"\n"):
        m = ANNOTATION.search(line)
        if m:
            assert line[: m.start()].strip(), (
                f"{path.name}: annotation on a line of its own: {line!r}"
            )
            assert not line[m.end() :].strip(), (
                f"{path.name}: annotation not at the end of its line: {line!r}"
            )


def test_fixtures_mark_their_lines_with_annotations_not_numbers():
    assert len(ANNOTATED) >= 55 and set(ANNOTATED) <= set(FILES)
    assert {p.parent.name for p in ANNOTATED} == {"cases", "eras"}
    for p in FILES:
        header = p.read_text("utf-8", errors="replace").split("*/", 1)[0]
        assert not re.search(r"expect-line:.*=", header), f"{p.name}: absolute expect-line"


@pytest.mark.parametrize(
    "header, body, error",
    [
        ("expect-line: isolate", "\tcall();\n", "lines annotated []"),
        ("expect-line: isolate", "\tcall(); /* expect-line: scan */\n", "lines annotated ['scan']"),
        ("", "\tcall(); /* expect-line: isolate */\n", "lists [], lines annotated ['isolate']"),
        (
            "expect-line: isolate",
            "\ta(); /* expect-line: isolate */\n\tb(); // expect-line: isolate\n",
            "annotated twice",
        ),
        ("expect-line: isolate=3", "\tcall();\n", "annotate the line instead"),
    ],
)
def test_a_missing_or_stray_annotation_is_an_error(tmp_path, header, body, error):
    case = tmp_path / "cases"
    case.mkdir()
    p = case / "x.c"
    p.write_text(
        f"/*\n * reviewbot-fixture: x\n * expect: isolate=present\n * {header}\n */\nvoid f(void)\n{{\n{body}}}\n"
    )
    with pytest.raises(ValueError, match=re.escape(error)):
        read(p)


def test_annotation_gives_the_line_it_sits_on(tmp_path):
    p = tmp_path / "x.c"
    p.write_text(
        "/*\n * expect: isolate=present scan=missing\n * expect-line: scan isolate\n */\n"
        "void f(void)\n{\n\ta(); /* expect-line: isolate */\n\t/*\n\t * b() // expect-line: scan\n\t */\n}\n"
    )
    assert read(p).line == {"isolate": 7, "scan": 9}


def test_the_demo_trees_carry_neither_header_nor_annotations():
    from reviewbot.demo import fixture_text

    eras = [p for p in ANNOTATED if p.parent.name == "eras"]
    assert eras
    for p in eras:
        text = fixture_text(p.name)
        assert b"expect-line" not in text and b"reviewbot-fixture" not in text, p.name
        # only the markers go: every other byte of the fixture's body is kept
        assert len(text.splitlines()) == len(
            p.read_bytes().split(b"*/", 1)[1].lstrip(b"\n").splitlines()
        )
