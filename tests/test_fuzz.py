"""Fuzzing: more than 10,000 mutated and generated inputs through the parsers and the CLI.

Mutations of the fixtures (seeded, so a failure reproduces): truncations, byte flips, random
bytes, deleted/duplicated/swapped lines, CRLF, and inserted kernel-isms (macros, braces,
``#ifdef``/``#if 0``, ``list_for_each_entry``, NUL, hunk headers, ``../`` paths). Generated
inputs come from hypothesis strategies (unified diffs; isolate loops built from statements).

The contract: parsers return or raise a ``ReviewbotError`` (never anything else); the CLI exits
0, 1 or 2, with exactly one ``reviewbot: error:`` line on stderr for 2 and never an internal
error. ``PLAN`` fixes how many mutated inputs each test runs (≥ 10,000 in total; hypothesis
adds its own). ``REVIEWBOT_FUZZ_REPORT=file.json`` makes the module write what ran
(``bench/fuzz.py`` uses it for bench/RESULTS.md).
"""

from __future__ import annotations

import difflib
import json
import os
import random
import time
from pathlib import Path

import pytest
from gitenv import PATCH, isolate_git, kernel_repo, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reviewbot.checker.check import check_source
from reviewbot.cli.app import app
from reviewbot.ctree.syntax import parse
from reviewbot.demo import fixture_text
from reviewbot.diffs.patches import ApplyFailure, apply_file, read_mails
from reviewbot.model.errors import ReviewbotError
from reviewbot.model.results import Status, VersionInfo
from reviewbot.rules.spec import builtin_rules, get_rule

FIX = Path(__file__).resolve().parent.parent / "fixtures"
C_SOURCES = [p.read_bytes() for p in sorted(FIX.glob("eras/*.c")) + sorted(FIX.glob("cases/*.c"))]
RULES = builtin_rules()
UFFD_WP = (get_rule("khugepaged-uffd-wp"),)  # the generated loops exercise its isolate check
VERSIONS = [
    VersionInfo("6.1.20", "flag"),
    VersionInfo("5.10.178", "flag"),
    VersionInfo("4.4.0", "flag"),
    VersionInfo(None, "unknown"),
]

PLAN = {
    "patches": 4500,
    "c-parse": 2000,
    "c-check": 2500,
    "cli-check": 600,
    "cli-hook": 400,
    "cli-pre-commit": 150,
}
COUNTS: dict[str, int] = {}
SECONDS: dict[str, float] = {}


def _pair_diff(old: str, new: str) -> bytes:
    a, b = fixture_text(old).decode().splitlines(True), fixture_text(new).decode().splitlines(True)
    body = "".join(difflib.unified_diff(a, b, "a/mm/khugepaged.c", "b/mm/khugepaged.c", n=3))
    return f"diff --git a/mm/khugepaged.c b/mm/khugepaged.c\n{body}".encode()


PATCHES = [
    (PATCH.read_bytes(), "v6.3-rc1.c"),
    (_pair_diff("v5.10.178.c", "v5.10.179.c"), "v5.10.178.c"),
    (_pair_diff("v6.1.26.c", "v6.1.25.c"), "v6.1.26.c"),  # a patch that drops the guard
    (_pair_diff("v6.18.c", "v6.19.c"), "v6.18.c"),
]

SNIPPETS = [
    b"{",
    b"}",
    b"{\n",
    b"}\n",
    b"(",
    b")",
    b";",
    b"\0",
    b"\r\n",
    b"\xff\xfe",
    b"\xe9",
    b"/*",
    b"*/",
    b'"',
    b"'",
    b"\\\n",
    b"#ifdef CONFIG_USERFAULTFD\n",
    b"#ifndef CONFIG_MMU\n",
    b"#if 0\n",
    b"#else\n",
    b"#endif\n",
    b"#define X(a) {\n",
    b"list_for_each_entry(p, &head, lru) {\n",
    b"__releases(&mm->mmap_lock)\n",
    b"static int __init f(void)\n",
    b"if (pte_uffd_wp(pteval)) goto out;\n",
    b"if (!pte_uffd_wp(pteval)) continue;\n",
    b"if (userfaultfd_wp(vma)) return 0;\n",
    b"goto out;\n",
    b"out:\n",
    b"for (;;) {\n",
    b"while (1)\n",
    b"switch (x) { case 1: break; }\n",
    b"do { } while (0);\n",
    b"@@ -1,3 +1,4 @@\n",
    b"@@ -0,0 +1 @@\n",
    b"+++ b/../outside.c\n",
    b"--- /dev/null\n",
    b"--- a/mm/khugepaged.c\n",
    b"diff --git a/x b/x\n",
    b"GIT binary patch\n",
    b"rename from mm/khugepaged.c\n",
    b"-- \n",
    b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n",
    b"Subject: [PATCH 5.10] x\n",
    b"Cc: stable@vger.kernel.org\n",
    b"\n\n",
    b"+\n",
    b"-\n",
    b" \n",
    b"\\ No newline at end of file\n",
]
SWAPS = [
    (b"pte_uffd_wp", b"pte_uffd"),
    (b"goto out", b"continue"),
    (b"if (", b"if (!"),
    (b"{", b""),
    (b"}", b""),
    (b"@@ -", b"@@ +"),
    (b"+\t", b"-\t"),
    (b"-\t", b" \t"),
    (b"\n", b"\r\n"),
    (b"a/mm/", b"a/../"),
    (b"pte_present", b"pte_none"),
    (b"__collapse_huge_page_isolate", b"isolate_renamed"),
    (b"\t", b"    "),
    (b"(", b""),
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of ``data``."""
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(10)
        if not data:
            data = rng.choice(SNIPPETS)
            continue
        i = rng.randrange(len(data))
        if op == 0:
            data = data[:i]
        elif op == 1:
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]
        elif op == 2:
            data = data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]
        elif op in (3, 4, 5):
            lines = data.split(b"\n")
            j, k = rng.randrange(len(lines)), rng.randrange(len(lines))
            if op == 3:
                del lines[j]
            elif op == 4:
                lines.insert(j, lines[k])
            else:
                lines[j], lines[k] = lines[k], lines[j]
            data = b"\n".join(lines)
        elif op == 6:
            at = data.rfind(b"\n", 0, i) + 1
            data = data[:at] + rng.choice(SNIPPETS) + data[at:]
        elif op == 7:
            data = data[:i] + rng.choice(SNIPPETS) + data[i:]
        else:
            old, new = rng.choice(SWAPS)
            n = data.count(old)
            if n:
                k = rng.randrange(n)
                at = -1
                for _ in range(k + 1):
                    at = data.find(old, at + 1)
                data = data[:at] + new + data[at + len(old) :]
    return data


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    out = os.environ.get("REVIEWBOT_FUZZ_REPORT")
    if out:
        Path(out).write_text(
            json.dumps(
                {"counts": COUNTS, "seconds": SECONDS, "total": sum(COUNTS.values())}, indent=2
            )
        )


def _count(name: str, n: int, started: float) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + n
    SECONDS[name] = SECONDS.get(name, 0.0) + time.perf_counter() - started


@pytest.mark.slow
def test_plan_reaches_ten_thousand_inputs():
    assert sum(PLAN.values()) >= 10_000
    # ... of distinct inputs: the seeded mutations must not collapse onto a few repeats (or onto
    # the unmutated sources, which the other tests already cover).
    rng = random.Random(5000)
    originals = {hash(s) for s in C_SOURCES} | {hash(p) for p, _ in PATCHES}
    pools = [C_SOURCES] * (
        PLAN["c-parse"] + PLAN["c-check"] + PLAN["cli-check"] + PLAN["cli-pre-commit"]
    )
    pools += [[p for p, _ in PATCHES]] * (PLAN["patches"] + PLAN["cli-hook"])
    inputs = {
        hash(mutate(rng.choice(pool), rng)) for pool in pools
    }  # hashes, not 10,000 source copies
    assert len(inputs - originals) >= 0.9 * sum(PLAN.values()), len(inputs - originals)


# --- parsers --------------------------------------------------------------------------


@pytest.mark.slow
def test_fuzz_patch_parsing_and_apply():
    rng = random.Random(5001)
    started = time.perf_counter()
    bases = {name: fixture_text(name) for _, name in PATCHES}
    parsed = 0
    for _ in range(PLAN["patches"]):
        source, base = rng.choice(PATCHES)
        data = mutate(source, rng)
        try:
            mails = read_mails(data, "fuzz.patch")
        except ReviewbotError as e:
            assert str(e).startswith("fuzz.patch"), e
            continue
        parsed += 1
        for mail in mails:
            for fp in mail.files:
                out = apply_file(bases[base], fp)
                assert isinstance(out, ApplyFailure) or isinstance(out.data, bytes)
    _count("patches", PLAN["patches"], started)
    assert 0 < parsed < PLAN["patches"]  # the mutations reach both outcomes


@pytest.mark.slow
def test_fuzz_c_parse():
    rng = random.Random(5002)
    started = time.perf_counter()
    outcomes: set[bool] = set()
    for _ in range(PLAN["c-parse"]):
        data = mutate(rng.choice(C_SOURCES), rng)
        unit = parse(data, "fuzz.c")
        root = unit.root
        assert (
            root.type == "translation_unit" or root.is_error
        ) and 0 <= root.start_byte <= root.end_byte <= len(data)
        assert data[root.end_byte :].strip(b" \t\r\n\f\v") == b"", "the tree must cover every token"
        bad = unit.bad_errors
        assert all(n.is_error or n.is_missing for n in bad)
        assert not bad or root.has_error
        outcomes.add(bool(bad))
        for name, defs in unit.functions.items():
            for f in defs:
                assert f.name == name and 1 <= f.start_line <= f.end_line <= data.count(b"\n") + 1
                assert root.start_byte <= f.node.start_byte < f.node.end_byte <= root.end_byte
    _count("c-parse", PLAN["c-parse"], started)
    assert outcomes == {False, True}  # the mutations reach both clean and broken parses


@pytest.mark.slow
def test_fuzz_check_source():
    rng = random.Random(5003)
    started = time.perf_counter()
    statuses: set[Status] = set()
    for _ in range(PLAN["c-check"]):
        data = mutate(rng.choice(C_SOURCES), rng)
        try:
            results = check_source(data, "fuzz.c", RULES, rng.choice(VERSIONS))
        except ReviewbotError as e:
            assert "NUL" in str(e), e
            continue
        assert [r.rule for r in results] == [r.id for r in RULES]
        for c in (c for res in results for c in res.checks):
            statuses.add(c.status)
            assert c.line is None or c.line >= 1
            assert c.message
    _count("c-check", PLAN["c-check"], started)
    assert statuses == {Status.PRESENT, Status.MISSING, Status.NOT_APPLICABLE}


# --- the CLI --------------------------------------------------------------------------


def assert_contract(r, argv) -> None:
    assert r.exception is None or isinstance(r.exception, SystemExit), (argv, repr(r.exception))
    assert r.exit_code in (0, 1, 2), (argv, r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, (argv, r.stderr)
    if r.exit_code == 2:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("reviewbot: error: "), (argv, r.stderr)


@pytest.mark.slow
def test_fuzz_cli_check(tmp_path):
    rng = random.Random(5004)
    runner = CliRunner()
    started = time.perf_counter()
    target = tmp_path / "khugepaged.c"
    codes = set()
    for _ in range(PLAN["cli-check"]):
        target.write_bytes(mutate(rng.choice(C_SOURCES), rng))
        argv = ["check", str(target), "--format", rng.choice(["text", "json", "sarif"])]
        if rng.random() < 0.7:
            argv += ["--kernel-version", rng.choice(["6.1.20", "5.10.178", "7.1", "4.4"])]
        r = runner.invoke(app, argv)
        assert_contract(r, argv)
        if r.exit_code in (0, 1) and "text" not in argv:
            json.loads(r.stdout)
        codes.add(r.exit_code)
    _count("cli-check", PLAN["cli-check"], started)
    assert codes == {0, 1, 2}


@pytest.mark.slow
def test_fuzz_cli_sendemail_validate(tmp_path):
    rng = random.Random(5005)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(mp, tmp_path)
        repo = kernel_repo(tmp_path)
        before = snapshot(repo)
        started = time.perf_counter()
        target = tmp_path / "fuzz.patch"
        codes = set()
        sources = [p for p, _ in PATCHES]
        for _ in range(PLAN["cli-hook"]):
            target.write_bytes(mutate(rng.choice(sources), rng))
            argv = ["hook", "run", "sendemail-validate", str(target), "--repo", str(repo)]
            if rng.random() < 0.3:
                argv.append("--strict")
            r = runner.invoke(app, argv)
            assert_contract(r, argv)
            codes.add(r.exit_code)
        _count("cli-hook", PLAN["cli-hook"], started)
        assert snapshot(repo) == before  # hundreds of runs later, still untouched
    assert codes == {0, 1, 2}


@pytest.mark.slow
def test_fuzz_cli_pre_commit(tmp_path):
    # Mutated sources staged in a real index: the hook reads them from there.
    from gitenv import git

    rng = random.Random(5006)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(mp, tmp_path)
        repo = kernel_repo(tmp_path)
        original = (repo / "mm" / "khugepaged.c").read_bytes()
        started = time.perf_counter()
        codes = set()
        for _ in range(PLAN["cli-pre-commit"]):
            (repo / "mm" / "khugepaged.c").write_bytes(mutate(original, rng))
            git(repo, "add", "mm/khugepaged.c")
            argv = ["hook", "run", "pre-commit", "--repo", str(repo)]
            r = runner.invoke(app, argv)
            assert_contract(r, argv)
            codes.add(r.exit_code)
        _count("cli-pre-commit", PLAN["cli-pre-commit"], started)
    assert {0, 1} <= codes


# --- hypothesis: generated diffs and generated isolate loops --------------------------

C_LINE = st.sampled_from(
    [
        "\t\tif (!pte_present(pteval)) {",
        "\t\t\tresult = SCAN_PTE_NON_PRESENT;",
        "\t\t\tgoto out;",
        "\t\t}",
        "\t\tif (pte_uffd_wp(pteval)) {",
        "\t\tpage = vm_normal_page(vma, address, pteval);",
        "",
        "#ifdef CONFIG_USERFAULTFD",
        "#endif",
        "\t\t/* comment */",
        "\t\tcontinue;",
        "\t\tpte_t pteval = *_pte;",
    ]
)
PATH = st.sampled_from(
    [
        "mm/khugepaged.c",
        "mm/collapse.c",
        "README",
        "../evil.c",
        "/etc/passwd",
        "a b.c",
        "mm/khugepaged.c\t2024",
    ]
)


@st.composite
def unified_diffs(draw) -> bytes:
    path = draw(PATH)
    out = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    for _ in range(draw(st.integers(1, 3))):
        lines = draw(st.lists(st.tuples(st.sampled_from(" +-"), C_LINE), min_size=0, max_size=8))
        old = sum(1 for k, _ in lines if k != "+") + draw(st.integers(-1, 1))
        new = sum(1 for k, _ in lines if k != "-") + draw(st.integers(-1, 1))
        start = draw(st.integers(0, 200))
        out.append(f"@@ -{start},{old} +{start},{new} @@")
        out += [k + t for k, t in lines]
    return ("\n".join(out) + draw(st.sampled_from(["\n", "", "\n\n", "\n-- \n2.39.5\n"]))).encode()


@pytest.mark.slow
@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(unified_diffs())
def test_generated_diffs_parse_or_are_refused(data):
    started = time.perf_counter()
    base = fixture_text("v6.1.26.c")
    try:
        mails = read_mails(data, "gen.patch")
    except ReviewbotError as e:
        assert str(e).startswith("gen.patch")
    else:
        for fp in mails[0].files:
            assert ".." not in fp.path and not fp.path.startswith("/")
            out = apply_file(base, fp)
            assert isinstance(out, ApplyFailure) or isinstance(out.data, bytes)
    _count("hypothesis-diffs", 1, started)


STATEMENT = st.recursive(
    st.sampled_from(
        [
            "result = SCAN_FAIL;",
            "goto out;",
            "continue;",
            "break;",
            "return result;",
            "none_or_zero++;",
            "page = vm_normal_page(vma, address, pteval);",
            "referenced++;",
            "if (pte_uffd_wp(pteval)) goto out;",
            "if (pte_uffd_wp(pteval)) result = SCAN_PTE_UFFD_WP;",
            "if (!pte_uffd_wp(pteval)) continue;",
        ]
    ),
    lambda inner: st.one_of(
        st.builds(
            lambda c, b: f"if ({c}) {{ {b} }}",
            st.sampled_from(
                [
                    "!pte_present(pteval)",
                    "pte_none(pteval)",
                    "pte_uffd_wp(pteval)",
                    "unlikely(pte_uffd_wp(pteval))",
                    "pte_uffd_wp(*pte)",
                    "!pte_present(pteval) || pte_uffd_wp(pteval)",
                    "cc->is_khugepaged",
                ]
            ),
            inner,
        ),
        st.builds(lambda b: f"#ifdef CONFIG_USERFAULTFD\n{b}\n#endif", inner),
        st.builds(lambda b: f"#if 0\n{b}\n#endif", inner),
        st.builds(lambda a, b: f"{a} {b}", inner, inner),
    ),
    max_leaves=6,
)


def isolate_loop(body: list[str], name: str = "__collapse_huge_page_isolate") -> str:
    """An isolate function whose PTE loop runs ``body`` (one statement string per line)."""
    return (
        f"static int {name}(struct vm_area_struct *vma, unsigned long address, pte_t *pte,\n"
        "\t\t\t\t\tstruct collapse_control *cc, struct list_head *compound_pagelist)\n{\n"
        "\tstruct page *page = NULL;\n\tpte_t *_pte;\n\tint none_or_zero = 0, result = SCAN_FAIL, referenced = 0;\n"
        "\tfor (_pte = pte; _pte < pte + HPAGE_PMD_NR; _pte++, address += PAGE_SIZE) {\n"
        "\t\tpte_t pteval = *_pte;\n\t\t" + "\n\t\t".join(body) + "\n\t}\n"
        "out:\n\trelease_pte_pages(pte, _pte, compound_pagelist);\n"
        "\ttrace_mm_collapse_huge_page_isolate(page, none_or_zero, referenced, 0, result);\n\treturn result;\n}\n"
    )


def isolate_verdict(src: str):
    (res,) = check_source(src.encode(), "gen.c", UFFD_WP, VersionInfo("6.1.20", "flag"))
    return next(c for c in res.checks if c.id == "isolate")


def unguarded(iso) -> bool:
    """No guard: missing, or a loop no iteration of which can complete (a bare "goto out;"),
    which is vacuously guarded and said to be uncertain."""
    return iso.status is Status.MISSING or (iso.uncertain and "no path completes" in iso.message)


GUARD_STMT = "if (pte_uffd_wp(pteval)) goto out;"


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(STATEMENT, max_size=6), st.data())
def test_generated_isolate_loops(body, data):
    """Metamorphic properties that hold on every generated loop, whatever its verdict."""
    started = time.perf_counter()
    src = isolate_loop(body)
    iso = isolate_verdict(src)
    verdict = (iso.status, iso.uncertain)
    assert iso.function == "__collapse_huge_page_isolate"
    assert iso.status in (Status.PRESENT, Status.MISSING), iso
    if "pte_uffd_wp" not in src:
        # No predicate anywhere: the guard cannot be there.
        assert unguarded(iso), iso

    # Comments and blank lines between statements never change the verdict.
    noisy = [
        s
        for stmt in body
        for s in (data.draw(st.sampled_from(["", "/* pte_uffd_wp */", "// goto out;"])), stmt)
    ]
    again = isolate_verdict(isolate_loop(noisy))
    assert (again.status, again.uncertain) == verdict, (again, iso)

    # Every statement naming the predicate compiled out (#if 0): the guard is never there.
    dead = [f"#if 0\n{s}\n#endif" if "pte_uffd_wp" in s else s for s in body]
    assert unguarded(isolate_verdict(isolate_loop(dead))), dead

    # The function renamed to a name no alias list has: the fingerprint finds it, same verdict.
    renamed = isolate_verdict(isolate_loop(body, "collapse_isolate_renamed"))
    assert (renamed.function, renamed.status, renamed.uncertain) == (
        "collapse_isolate_renamed",
        *verdict,
    ), renamed

    # The older spelling of the predicate (pte_uffd) is the same predicate.
    alias = isolate_verdict(src.replace("pte_uffd_wp(", "pte_uffd("))
    assert (alias.status, alias.uncertain) == verdict, alias

    # The real guard first in the loop always makes it present.
    assert isolate_verdict(isolate_loop([GUARD_STMT, *body])).status is Status.PRESENT

    # The same guard negated bails out only on PTEs without the bit: on a uffd-wp PTE the loop
    # goes on as before, so the verdict is the body's own (in particular a negated guard never
    # makes a missing guard present).
    negated = isolate_verdict(
        isolate_loop([GUARD_STMT.replace("(pte_uffd_wp", "(!pte_uffd_wp"), *body])
    )
    assert (negated.status, negated.uncertain) == verdict, (negated, iso)
    _count("hypothesis-c", 1, started)


def test_negated_guard_in_a_loop_that_always_bails_is_not_the_guard():
    """CI's derandomised counterexample: every present PTE leaves the loop anyway, so a negated
    uffd-wp test decides nothing; the verdict is the vacuous one, still uncertain."""
    body = ["if (!pte_present(pteval)) { continue; }", "goto out;"]
    plain = isolate_verdict(isolate_loop(body))
    negated = isolate_verdict(
        isolate_loop([GUARD_STMT.replace("(pte_uffd_wp", "(!pte_uffd_wp"), *body])
    )
    assert (plain.status, plain.uncertain) == (Status.PRESENT, True), plain
    assert "no path completes" in plain.message, plain
    assert (negated.status, negated.uncertain) == (Status.PRESENT, True), negated
    assert "no path completes" in negated.message, negated
    assert "pte_uffd_wp" not in negated.message, negated
    # The real guard in front of the same body is still named.
    guarded = isolate_verdict(isolate_loop([GUARD_STMT, *body]))
    assert guarded.status is Status.PRESENT and "pte_uffd_wp(pteval)" in guarded.message, guarded
