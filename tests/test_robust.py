"""The checker never crashes, and its fast path agrees with the full parse.

Hypothesis feeds arbitrary bytes, truncations and mutations of the era fixtures (dropped and
duplicated lines, stray braces, #ifdef/#endif, deep nesting) through ``check_source``; every
input must yield verdicts or a clean ``ReviewbotError``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.checker.check import check_source, run_rule
from reviewbot.ctree import partialparse, syntax
from reviewbot.model.errors import ReviewbotError
from reviewbot.model.results import Status, VersionInfo
from reviewbot.rules.spec import get_rule

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ERAS = sorted((FIXTURES / "eras").glob("*.c"))
CASES = sorted((FIXTURES / "cases").glob("*.c"))
RULE = get_rule("khugepaged-uffd-wp")
SOURCES = [p.read_bytes() for p in ERAS]
SNIPPETS = [
    b"{",
    b"}",
    b"#ifdef CONFIG_X\n",
    b"#endif\n",
    b"#if 0\n",
    b"goto out;",
    b"continue;",
    b"if (pte_uffd_wp(pteval))",
    b"/*",
    b"*/",
    b"list_for_each_entry(p, h, lru) {",
    b"\\\n",
    b"\xe9",
]


def _check(data: bytes, version: str | None) -> None:
    v = VersionInfo(version, "flag") if version else VersionInfo(None, "unknown")
    try:
        results = check_source(data, "mm/khugepaged.c", (RULE,), v)
    except ReviewbotError as e:
        assert str(e).strip() and "\n" not in str(e)
        return
    lines = data.count(b"\n") + 1
    for r in results:
        # Every check of the rule answers, once per site, about this input and nothing else.
        assert {c.id for c in r.checks} == {c.id for c in RULE.checks}, r.checks
        assert len({c.key for c in r.checks}) == len(r.checks), r.checks
        for c in r.checks:
            assert c.status in Status and c.message.strip() and isinstance(c.uncertain, bool)
            assert c.line is None or 1 <= c.line <= lines, (c.line, lines)
            assert c.function is None or c.function.encode() in data, c.function


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.sampled_from([None, "6.1.20", "4.4.0"]))
def test_arbitrary_bytes_never_crash(data, version):
    _check(data, version)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SOURCES))), st.floats(0, 1), st.sampled_from([None, "6.1.20"]))
def test_truncated_fixtures_never_crash(i, frac, version):
    src = SOURCES[i]
    _check(src[: int(len(src) * frac)], version)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(SOURCES))),
    st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["drop", "dup", "insert"]),
            st.sampled_from(SNIPPETS),
        ),
        max_size=8,
    ),
    st.sampled_from([None, "6.3.0"]),
)
def test_mutated_fixtures_never_crash(i, edits, version):
    lines = SOURCES[i].split(b"\n")
    for pos, op, snippet in edits:
        k = pos % max(len(lines), 1)
        if op == "drop" and lines:
            del lines[k]
        elif op == "dup" and lines:
            lines.insert(k, lines[k])
        else:
            lines.insert(k, snippet)
    _check(b"\n".join(lines), version)


def test_deep_nesting_is_uncertain_not_a_crash():
    body = b"if (x) {" * 3000 + b"y();" + b"}" * 3000
    src = (
        b"static int __collapse_huge_page_isolate(struct vm_area_struct *vma, unsigned long address, pte_t *pte)\n{\n"
        b"\tpte_t *_pte;\n\tfor (_pte = pte; _pte < pte + HPAGE_PMD_NR; _pte++) {\n\t\tpte_t pteval = *_pte;\n\t\t"
        + body
        + b"\n\t}\n\treturn 0;\n}\n"
    )
    _check(src, "6.1.20")
    (result,) = check_source(src, "mm/khugepaged.c", (RULE,), VersionInfo("6.1.20", "flag"))
    iso = next(c for c in result.checks if c.id == "isolate")
    # Found, not analysed: the verdict says so, and never claims a guard it could not see.
    assert iso.function == "__collapse_huge_page_isolate"
    assert iso.uncertain and "nested too deeply" in iso.message, iso
    assert iso.status is Status.MISSING, iso


@pytest.mark.parametrize("path", ERAS + CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_partial_parse_agrees_with_full_parse(path):
    """The fast path (only the rule's functions parsed) gives the verdicts of a full parse."""
    data = path.read_bytes()
    version = VersionInfo("6.1.20", "flag")
    partial = partialparse.parse_functions(
        data, path.name, set(RULE.all_functions), {n for g in RULE.names.values() for n in g}
    )
    if partial is None:
        assert path in CASES, "every era fixture is in kernel style: the fast path must take it"
        return
    full = syntax.parse(data, path.name)
    a = run_rule(RULE, [partial], version, path.name)
    b = run_rule(RULE, [full], version, path.name)
    assert a.checks == b.checks
