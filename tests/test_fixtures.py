"""Every fixture file states its expected verdicts in its header; this test checks them all.

Keys of ``expect``/``expect-line``/``expect-via``/... name a check (``scan``, ``isolate``,
``file``) or a file-path site (``collapse``, ``retract``). For ``file`` the status is the
aggregate over its sites (missing wins). The expected line of a case is marked on the line
itself (``/* expect-line: isolate */``); era fixtures give it as a number in the header.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from fixture_header import ANNOTATION, read

from reviewbot.checker.check import check_source
from reviewbot.model.results import VersionInfo
from reviewbot.rules.spec import builtin_rules, get_rule, parse_rule

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
    # Every built-in rule runs: a header key names a check id (or site) of whichever rule has it.
    results = check_source(path.read_bytes(), path.name, builtin_rules(), version)
    result = replace(results[0], checks=tuple(c for r in results for c in r.checks))
    summary = "\n".join(
        f"  {c.key}: {c.status} {c.function} L{c.line} via={c.via} unc={c.uncertain} | {c.message}"
        for c in result.checks
    )
    for key, status in exp.status.items():
        checks = _select(result, key)
        assert checks, f"no check {key}\n{summary}"
        got = result.status_of(key) if key in {c.id for c in checks} else checks[0].status
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


# A rule whose predicate takes the page, not the PTE: values computed from the current entry
# (vm_normal_page(), page_folio(), a context struct a checker helper fills) are that entry.
KSM_RULE = """
schema = 1
id = "isolate-ksm"
version = 1
title = "isolate refuses KSM pages"
help = "test rule"
paths = ["mm/khugepaged.c"]
[names]
ksm = ["PageKsm", "folio_test_ksm"]
[[checks]]
id = "ksm"
kind = "loop-bail"
title = "isolate bails out on a KSM page"
functions = ["__collapse_huge_page_isolate"]
predicate = "ksm"
entry_type = "pte_t"
entry_readers = ["ptep_get"]
[checks.assume]
pte_present = true
pte_none = false
"""

KSM_LOOP = """
struct pte_check_ctx { struct folio *folio; int result; };

static int pte_check_fail(struct pte_check_ctx *ctx, int result)
{
	ctx->result = result;
	return PTE_CHECK_FAIL;
}

static int collapse_check_pte(pte_t pteval, unsigned long addr, struct pte_check_ctx *ctx)
{
	struct page *page;

	if (!pte_present(pteval))
		return pte_check_fail(ctx, SCAN_PTE_NON_PRESENT);
	page = vm_normal_page(ctx->vma, addr, pteval);
	ctx->folio = page_folio(page);
	return PTE_CHECK_SUCCEED;
}

static int __collapse_huge_page_isolate(struct vm_area_struct *vma, unsigned long start_addr,
					pte_t *pte)
{
	struct pte_check_ctx ctx = { 0 };
	struct page *page;
	struct folio *folio;
	unsigned long addr;
	pte_t *_pte, pteval;
	int result = SCAN_FAIL, i;

	for (i = 0; i < HPAGE_PMD_NR; i++) {
		_pte = pte + i;
		addr = start_addr + i * PAGE_SIZE;
		pteval = ptep_get(_pte);
		if (collapse_check_pte(pteval, addr, &ctx) == PTE_CHECK_FAIL) {
			result = ctx.result;
			goto out;
		}
		page = vm_normal_page(vma, addr, pteval);
		folio = page_folio(page);
		GUARD
		folio_isolate_lru(folio);
	}
	return SCAN_SUCCEED;
out:
	return result;
}
"""


@pytest.mark.parametrize(
    ("guard", "status", "needle"),
    [
        ("if (PageKsm(page)) { result = SCAN_PAGE_KSM; goto out; }", "present", "PageKsm(page)"),
        ("if (folio_test_ksm(folio)) goto out;", "present", "folio_test_ksm(folio)"),
        ("if (folio_test_ksm(ctx.folio)) goto out;", "present", "folio_test_ksm(ctx.folio)"),
        ("if (folio_test_ksm(folio)) continue;", "missing", "does not leave the loop"),
        ("if (PageKsm(first_page)) goto out;", "missing", "tests another entry (`first_page`)"),
    ],
)
def test_a_predicate_on_a_value_derived_from_the_entry_tests_the_entry(guard, status, needle):
    rule = parse_rule(tomllib.loads(KSM_RULE), "test")
    src = KSM_LOOP.replace("GUARD", guard).encode()
    (res,) = check_source(src, "mm/khugepaged.c", (rule,), VersionInfo(None, "unknown"))
    (c,) = res.checks
    assert (str(c.status), c.uncertain) == (status, False), c.message
    assert needle in c.message, c.message
