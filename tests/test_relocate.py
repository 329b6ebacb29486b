"""The relocation ladder on blobs: exact, relocated, transformed, present, failed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reviewbot.backport.relocate import groups, relocate_file
from reviewbot.demo import fixture_text
from reviewbot.diffs.mailfmt import apply_edits
from reviewbot.diffs.patches import read_mail
from reviewbot.rules.spec import builtin_rules

PATCHES = Path(__file__).resolve().parent.parent / "fixtures" / "patches"
FIX_A = read_mail(next(PATCHES.glob("0001-*.patch")).read_bytes()).files[0]
FIX_B = read_mail(next(PATCHES.glob("0002-*.patch")).read_bytes()).files[0]
FIX_C = read_mail(next(PATCHES.glob("0003-*.patch")).read_bytes()).files[0]
RULES = builtin_rules()


def place(fp, era: str | bytes, pre: str | None = None, **kw):
    data = fixture_text(era) if isinstance(era, str) else era
    return relocate_file(
        fp,
        data,
        "mm/khugepaged.c",
        upstream_pre=fixture_text(pre) if pre else None,
        rules=RULES,
        **kw,
    )


@pytest.mark.parametrize("pre", [None, "v6.3-rc1.c"], ids=["hunk-only", "with-pre-image"])
@pytest.mark.parametrize(
    "era, fixed, method",
    [
        ("v5.10.178.c", "v5.10.179.c", "relocated"),
        ("v5.15.108.c", "v5.15.109.c", "relocated"),
        ("v6.1.25.c", "v6.1.26.c", "exact"),
        ("v6.2.12.c", "v6.2.13.c", "exact"),
        ("v6.3-rc1.c", "v6.3.c", "exact"),
    ],
)
def test_isolate_fix_lands_where_stable_put_it(era, fixed, method, pre):
    p = place(FIX_A, era, pre)
    assert p.method == method and p.failures == ()
    assert apply_edits(fixture_text(era), list(p.edits)) == fixture_text(fixed)


def test_offsets_alone_stay_exact():
    p = place(FIX_A, b"/* one */\n/* two */\n" + fixture_text("v6.2.12.c"))
    assert p.method == "exact" and p.edits[0].start > 0


def test_the_same_change_is_never_added_twice():
    once = apply_edits(fixture_text("v7.1.c"), list(place(FIX_B, "v7.1.c").edits))
    assert place(FIX_B, once).method == "present"


def test_ambiguous_anchors_are_refused():
    data = fixture_text("v5.10.179.c").decode()
    start = data.index(
        "\t\tif (pte_uffd_wp(pteval)) {\n\t\t\tresult = SCAN_PTE_UFFD_WP;\n\t\t\tgoto out;"
    )
    block = data[start : data.index("\t\tif (unlikely(!page)) {", start)]
    twice = (data[:start] + block + block + data[start + len(block) :]).encode()
    p = place(FIX_B, twice)
    assert p.method == "failed" and "refusing to guess" in p.failures[0].reason


def test_a_label_the_target_calls_differently_is_mapped():
    data = fixture_text("v5.10.179.c").decode()
    isolate = data.index("__collapse_huge_page_isolate(struct")
    end = data.index("\n}\n", isolate)
    body = (
        data[isolate:end]
        .replace("goto out;", "goto out_release;")
        .replace("\nout:\n", "\nout_release:\n")
    )
    target = (data[:isolate] + body + data[end:]).encode()
    p = place(FIX_B, target)
    assert p.method == "relocated", p.failures
    assert ("out", "out_release") in p.renames
    assert "\t\t\tgoto out_release;" in p.edits[0].add and "\t\t\tgoto out;" not in p.edits[0].add


def test_a_symbol_the_target_tree_lacks_fails_and_names_it():
    p = place(FIX_B, "v5.10.179.c", tree=lambda name: name != "SCAN_ADDRESS_RANGE")
    assert p.method == "relocated"  # SCAN_ADDRESS_RANGE is in the file: the tree is not asked
    no_range = fixture_text("v5.10.179.c").replace(b"\tSCAN_ADDRESS_RANGE,\n", b"")
    p = place(FIX_B, no_range, tree=lambda name: name != "SCAN_ADDRESS_RANGE")
    assert p.method == "failed"
    assert "SCAN_ADDRESS_RANGE does not exist in the tree" in p.failures[0].reason
    assert p.failures[0].needles == ("SCAN_ADDRESS_RANGE",)
    # without a repository the tree is unknown: placed, with a warning to check
    p = place(FIX_B, no_range)
    assert p.method == "relocated" and any("SCAN_ADDRESS_RANGE" in w for w in p.warnings)


def test_transformed_in_both_modes():
    for pre in (None, "v5.10.178.c"):
        p = place(FIX_C, "v5.4.c", pre)
        assert p.method == "transformed", p.failures
        assert p.rewrites == ("mmap_write_unlock(X) -> up_write(&X->mmap_sem)",)
        assert "\t\t\t\tup_write(&mm->mmap_sem);" in p.edits[0].add


def test_removed_lines_are_found_by_tokens_and_replaced():
    # A hunk with a removal, relocated into a tree where the statement moved and is indented differently.
    fp = replace(
        FIX_A,
        hunks=(
            replace(
                FIX_A.hunks[0],
                lines=tuple(
                    [(" ", t) for k, t in FIX_A.hunks[0].lines if k == " "][:3]
                    + [
                        ("-", "\t\tpage = vm_normal_page(vma, address, pteval);"),
                        ("+", "\t\tpage = vm_normal_page(vma, address, pteval); /* x */"),
                    ]
                    + [(" ", "\t\tif (unlikely(!page) || unlikely(is_zone_device_page(page))) {")]
                ),
            ),
        ),
    )
    assert [(len(g.removed), len(g.added)) for g in groups(fp.hunks[0])] == [(1, 1)]
    p = place(fp, "v5.10.178.c")
    assert p.method == "relocated", p.failures
    (e,) = p.edits
    assert (
        e.remove == 1
        and fixture_text("v5.10.178.c").decode().split("\n")[e.start]
        == "\t\tpage = vm_normal_page(vma, address, pteval);"
    )


def test_context_that_matches_in_another_function_is_not_exact():
    # The upstream context occurs verbatim only in some other function: git am would put the
    # guard there. reviewbot places it in the isolate function, by structure.
    decoy = (
        b"\nstatic int decoy(struct vm_area_struct *vma, unsigned long address, pte_t pteval)\n{\n"
        b"\tstruct page *page;\n\tint result;\n\n\tfor (;;) {\n"
        b"\t\tif (!pte_present(pteval)) {\n\t\t\tresult = SCAN_PTE_NON_PRESENT;\n\t\t\tgoto out;\n\t\t}\n"
        b"\t\tpage = vm_normal_page(vma, address, pteval);\n"
        b"\t\tif (unlikely(!page) || unlikely(is_zone_device_page(page))) {\n\t\t\tresult = SCAN_PAGE_NULL;\n\t\t\tgoto out;\n\t\t}\n"
        b"\t}\nout:\n\treturn result;\n}\n"
    )
    target = fixture_text("v5.10.178.c") + decoy
    p = place(FIX_A, target)
    assert p.method == "relocated" and p.functions == (
        (1, "__collapse_huge_page_isolate", "__collapse_huge_page_isolate"),
    )
    assert apply_edits(target, list(p.edits)) == fixture_text("v5.10.179.c") + decoy


def _mail(diff: str):
    text = "From: A <a@example.org>\nSubject: [PATCH] x\n\nbody\n---\n" + diff
    return read_mail(text.encode()).files[0]


OLDER = (
    b"int first(int a)\n{\n\tint b = a;\n\n\treturn b;\n}\n\n"
    b"int last(int c)\n{\n\treturn c + 1;\n}\n"
)


def test_a_new_function_after_another_one_applies_at_file_scope():
    # The hunk's header names the function before the insertion (git's funcname line), but the
    # new function goes between two functions: exact, not "a change inside first()".
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -4,5 +4,10 @@ int first(int a)\n"
        " \n \treturn b;\n }\n \n+int middle(int m)\n+{\n+\treturn m;\n+}\n+\n int last(int c)\n"
    )
    p = relocate_file(fp, b"/* moved down */\n" + OLDER, "mm/x.c")
    assert p.method == "exact" and p.failures == (), p.failures
    assert b"}\n\nint middle(int m)\n{\n\treturn m;\n}\n\nint last" in apply_edits(
        b"/* moved down */\n" + OLDER, list(p.edits)
    )


def test_a_context_line_with_another_access_path_still_anchors():
    # Upstream reads `p->flags.f` where the target has `p->flags`: the anchor matches as a
    # rewrite, the added line goes between the same two statements.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -4,6 +4,7 @@ void prep(struct page *p)\n"
        " \n \treset_a(p);\n \tp->flags.f &= ~MASK;\n"
        "+\tp->private = 0;\n \treset_b(p, order);\n \treset_c(p);\n \treset_d(p);\n"
    )
    target = (
        b"void prep(struct page *p)\n{\n\tint x = 0;\n\n\treset_a(p);\n\tp->flags &= ~MASK;\n"
        b"\treset_b(p, order);\n\treset_c(p);\n\treset_d(p);\n}\n"
    )
    p = relocate_file(fp, target, "mm/x.c")
    assert p.failures == () and p.method == "relocated", p.failures
    assert apply_edits(target, list(p.edits)) == target.replace(
        b"~MASK;\n", b"~MASK;\n\tp->private = 0;\n"
    )


DRIFTED = (
    b"static void split_locked(struct vm_area_struct *vma, pmd_t *pmd)\n{\n"
    b"\tstruct page *page = pmd_page(*pmd);\n\n"
    b"\tif (!vma_is_anonymous(vma)) {\n"
    b"\t\tif (!PageDirty(page) && pmd_dirty(*pmd))\n\t\t\tset_page_dirty(page);\n"
    b"\t\tif (!PageReferenced(page) && pmd_young(*pmd))\n\t\t\tSetPageReferenced(page);\n"
    b"\t\tpage_remove_rmap(page, vma, true);\n\t\tput_page(page);\n\t}\n"
    b"\tadd_counter(vma->vm_mm, counter_of(page), -NR);\n}\n"
)
FOLIO_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -9,7 +9,9 @@ static void split_locked(struct vm_area_struct *vma, pmd_t *pmd)\n"
    " \t\tif (!folio_test_referenced(folio) && pmd_young(*pmd))\n"
    " \t\t\tfolio_set_referenced(folio);\n"
    " \t\tfolio_remove_rmap_pmd(folio, page, vma);\n"
    "+\t\tadd_counter(vma->vm_mm, counter_of(folio), -NR);\n"
    " \t\tfolio_put(folio);\n"
    "+\t\treturn;\n"
    " \t}\n"
    " \tadd_counter(vma->vm_mm, counter_of(folio), -NR);\n"
    " }\n"
)


def test_statements_that_correspond_in_drifted_words_anchor_the_change():
    # Upstream speaks folios where the older tree has pages: no neighbour of either insertion
    # matches by rules, but the statements around correspond one by one (same kind, most
    # tokens in common) and the block ends line up; the local spelt differently is renamed.
    p = relocate_file(_mail(FOLIO_FIX), DRIFTED, "mm/x.c")
    assert p.failures == () and p.method == "relocated", p.failures
    assert p.renames == (("folio", "page"),) and p.adjusted
    assert apply_edits(DRIFTED, list(p.edits)) == DRIFTED.replace(
        b"\t\tput_page(page);\n\t}\n",
        b"\t\tadd_counter(vma->vm_mm, counter_of(page), -NR);\n\t\tput_page(page);\n"
        b"\t\treturn;\n\t}\n",
    )


def test_correspondence_alone_never_guesses_between_two_places():
    # The same drifted block twice in the function: two equally good places, refused.
    body = DRIFTED.split(b"{\n", 1)[1].rsplit(b"}\n", 1)[0]
    inner = body.split(b"\tif (!vma_is_anonymous(vma)) {\n", 1)[1].split(b"\t}\n", 1)[0]
    twice = DRIFTED.replace(
        b"\tadd_counter(", b"\tif (vma->vm_file) {\n" + inner + b"\t}\n\tadd_counter(", 1
    )
    p = relocate_file(_mail(FOLIO_FIX), twice, "mm/x.c")
    assert p.method == "failed" and p.edits == ()


def test_a_hunk_that_starts_at_the_end_of_a_comment_parses_its_code():
    # The hunk's first context line closes a block comment: `*/` is no code, and the statement
    # after it (its argument spelt otherwise in the older tree) still anchors the change.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -5,5 +5,6 @@ void reserve(int order)\n"
        "  \t */\n \tper_node = DIV_ROUND_UP(size,\n \t\t\t\tnodes_weight(mask));\n"
        "+\tper_node = round_up(per_node, PAGE_SIZE << order);\n"
        ' \tpr_info("reserve %lu MiB\\n",\n \t\tper_node / SZ_1M);\n'
    )
    target = (
        b"void reserve(int order)\n{\n\tunsigned long per_node;\n\n"
        b"\t/*\n\t * Spread it evenly.\n\t */\n\tper_node = DIV_ROUND_UP(size, nr_nodes);\n"
        b'\tpr_info("reserve %lu MiB\\n",\n\t\tper_node / SZ_1M);\n}\n'
    )
    p = relocate_file(fp, target, "mm/x.c")
    assert p.failures == (), p.failures
    assert apply_edits(target, list(p.edits)) == target.replace(
        b"nr_nodes);\n", b"nr_nodes);\n\tper_node = round_up(per_node, PAGE_SIZE << order);\n"
    )


def test_a_function_the_folio_conversion_renamed_is_found_by_its_words():
    # Upstream changes mlock_new_folio(); the older tree calls it mlock_new_page(): the one
    # function whose name has the same words, API nouns aside, is the function to change.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,3 +3,4 @@ void mlock_new_folio(struct folio *folio)\n"
        " \tcount_a(folio);\n \tcount_b(folio);\n+\tcount_new(folio);\n \tcount_c(folio);\n"
    )
    target = (
        b"void mlock_old_page(struct page *page)\n{\n\tcount_a(page);\n\tcount_c(page);\n}\n\n"
        b"void mlock_new_page(struct page *page)\n{\n\tcount_a(page);\n\tcount_b(page);\n"
        b"\tcount_c(page);\n}\n"
    )
    p = relocate_file(fp, target, "mm/x.c")
    assert p.failures == () and p.method == "relocated", p.failures
    assert apply_edits(target, list(p.edits)) == target.replace(
        b"\tcount_b(page);\n", b"\tcount_b(page);\n\tcount_new(page);\n"
    )


def test_two_functions_with_the_same_words_are_not_guessed_between():
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,3 +3,4 @@ void mlock_new_folio(struct folio *folio)\n"
        " \tcount_a(folio);\n \tcount_b(folio);\n+\tcount_new(folio);\n \tcount_c(folio);\n"
    )
    body = b"{\n\tcount_a(page);\n\tcount_b(page);\n\tcount_c(page);\n}\n"
    target = (
        b"void mlock_new_page(struct page *page)\n"
        + body
        + (b"\nvoid mlock_new_pages(struct page *page)\n" + body)
    )
    p = relocate_file(fp, target, "mm/x.c")
    assert p.method == "failed" and p.edits == ()
