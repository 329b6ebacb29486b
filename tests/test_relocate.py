"""The relocation ladder on blobs: exact, relocated, transformed, present, failed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reviewbot.backport.arity import Params
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


def _placed(
    fix,
    data: bytes,
    path: str = "mm/x.c",
    tree=lambda n: True,
    method: str | None = None,
) -> bytes:
    """``data`` with ``fix`` placed by relocate_file (by default every name in the tree), which
    must not fail (and must have placed it by ``method`` when given)."""
    p = relocate_file(fix, data, path, tree=tree)
    assert p.failures == (), p.failures
    assert method is None or p.method == method, p.method
    return apply_edits(data, list(p.edits))


def _refused(fix, data: bytes, path: str = "mm/x.c", tree=lambda n: True, **kw):
    """relocate_file refuses to place ``fix`` in ``data`` (by default every name in the
    tree): no edit at all. Returns the result (its failures say why)."""
    p = relocate_file(fix, data, path, tree=tree, **kw)
    assert p.method == "failed" and p.edits == (), p.edits
    return p


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
    assert _placed(fp, target, tree=None, method="relocated") == target.replace(
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
    _refused(_mail(FOLIO_FIX), twice, tree=None)


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
    assert _placed(fp, target, tree=None) == target.replace(
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
    assert _placed(fp, target, tree=None, method="relocated") == target.replace(
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
    _refused(fp, target, tree=None)


RETRACT = (
    b"void retract(struct address_space *mapping, pgoff_t pgoff)\n{\n"
    b"\tstruct vm_area_struct *vma;\n\tunsigned long addr;\n\n"
    b"\tvma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff) {\n"
    b"\t\tif (vma->anon_vma)\n\t\t\tcontinue;\n"
    b"\t\taddr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);\n"
    b"\t\tcollapse(vma, addr);\n\t}\n}\n"
)


def test_a_change_to_part_of_a_statement_keeps_the_targets_other_tokens():
    # Upstream wraps one operand of a condition the older tree spells with fewer operands:
    # the wrapper goes around the same operand, the rest of the target's statement stays.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -6,6 +6,6 @@ void retract(struct address_space *mapping)\n"
        " \tvma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff) {\n"
        " \t\tunsigned long addr;\n"
        "-\t\tif (vma->anon_vma || !vma_suitable(vma))\n"
        "+\t\tif (READ_ONCE(vma->anon_vma) || !vma_suitable(vma))\n"
        " \t\t\tcontinue;\n"
        " \t\taddr = start_of(vma, pgoff);\n"
        " \t\tif (addr & ~HPAGE_PMD_MASK)\n"
    )
    assert _placed(fp, RETRACT, tree=None, method="relocated") == RETRACT.replace(
        b"if (vma->anon_vma)", b"if (READ_ONCE(vma->anon_vma))"
    )


def test_an_operand_added_to_a_condition_over_lines_keeps_the_targets_layout():
    target = (
        b"int split(struct page *page, pmd_t *pmd)\n{\n"
        b"\tif (!page || page != pmd_page(*pmd) ||\n\t    pmd_none(*pmd))\n\t\treturn 0;\n"
        b"\treturn 1;\n}\n"
    )
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,3 +3,3 @@ int split(struct folio *folio, pmd_t *pmd)\n"
        "-\tif (!folio || folio != pmd_folio(*pmd) || pmd_none(*pmd))\n"
        "+\tif (!folio || !pmd_present(*pmd) || folio != pmd_folio(*pmd) || pmd_none(*pmd))\n"
        " \t\treturn 0;\n \treturn 1;\n"
    )
    assert _placed(fp, target, tree=None) == target.replace(
        b"!page || page", b"!page || !pmd_present(*pmd) || page"
    )


def test_a_part_of_a_statement_that_does_not_align_is_refused():
    # The operand upstream wraps is not in the target's statement at all: refused, not guessed.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -6,6 +6,6 @@ void retract(struct address_space *mapping)\n"
        " \tvma_interval_tree_foreach(vma, &mapping->i_mmap, pgoff, pgoff) {\n"
        " \t\tunsigned long addr;\n"
        "-\t\tif (vma->vm_ops || !vma_suitable(vma))\n"
        "+\t\tif (READ_ONCE(vma->vm_ops) || !vma_suitable(vma))\n"
        " \t\t\tcontinue;\n"
        " \t\taddr = start_of(vma, pgoff);\n"
        " \t\tif (addr & ~HPAGE_PMD_MASK)\n"
    )
    _refused(fp, RETRACT, tree=None)


RELEASE = (
    b"static void release(struct work_struct *work)\n{\n"
    b"\tstruct wb *wb = container_of(work, struct wb, release_work);\n"
    b"\tstruct blkcg *blkcg = css_to_blkcg(wb->blkcg_css);\n\n"
    b"\tmutex_lock(&wb->bdi->release_mutex);\n\twb_shutdown(wb);\n\n"
    b"\tcss_put(wb->memcg_css);\n\tcss_put(wb->blkcg_css);\n"
    b"\tmutex_unlock(&wb->bdi->release_mutex);\n\n"
    b"\t/* last online user */\n\tblkcg_unpin_online(blkcg);\n\n"
    b"\tfprop_destroy(&wb->memcg_completions);\n\twb_exit(wb);\n}\n"
)
MOVE_DOWN = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -8,11 +8,12 @@ static void release(struct work_struct *work)\n"
    " \twb_shutdown(wb);\n \n \tcss_put(wb->memcg_css);\n"
    "-\tcss_put(wb->blkcg_css);\n-\tmutex_unlock(&wb->bdi->release_mutex);\n"
    " \n \t/* last online user */\n \tblkcg_unpin_online(wb->blkcg_css);\n \n"
    "+\tcss_put(wb->blkcg_css);\n+\tmutex_unlock(&wb->bdi->release_mutex);\n+\n"
    " \tfprop_destroy(&wb->memcg_completions);\n \n \tspin_lock_irq(&cgwb_lock);\n"
)


def test_a_local_derived_from_an_expression_is_not_that_expression():
    # The older tree passes `blkcg` (= css_to_blkcg(wb->blkcg_css)) where upstream passes
    # wb->blkcg_css: no rewrite wb->blkcg_css -> blkcg is learned for the added lines; the
    # call still anchors the move (its argument differs, the statement corresponds).
    p = relocate_file(_mail(MOVE_DOWN), RELEASE, "mm/x.c")
    assert p.failures == (), p.failures
    assert not p.rewrites and not p.learned
    assert apply_edits(RELEASE, list(p.edits)) == RELEASE.replace(
        b"\tcss_put(wb->blkcg_css);\n\tmutex_unlock(&wb->bdi->release_mutex);\n", b""
    ).replace(
        b"blkcg_unpin_online(blkcg);\n\n",
        b"blkcg_unpin_online(blkcg);\n\n\tcss_put(wb->blkcg_css);\n"
        b"\tmutex_unlock(&wb->bdi->release_mutex);\n\n",
    )


COLLECT = (
    b"static unsigned long collect(struct page **pages, unsigned long nr)\n{\n"
    b"\tunsigned long i, collected = 0;\n\tstruct folio *prev = NULL;\n"
    b"\tbool drain_allow = true;\n\n"
    b"\tfor (i = 0; i < nr; i++) {\n\t\tstruct folio *folio = page_folio(pages[i]);\n\n"
    b"\t\tif (drain_allow && folio_ref_count(folio) != 1) {\n"
    b"\t\t\tlru_add_drain_all();\n\t\t\tdrain_allow = false;\n\t\t}\n"
    b"\t\tcollected++;\n\t}\n\treturn collected;\n}\n"
)
NEW_LOCAL = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,7 +3,7 @@ static unsigned long collect(\n"
    " \t\tstruct pages_or_folios *pofs)\n {\n \tunsigned long collected = 0;\n"
    "-\tbool drain_allow = true;\n \tstruct folio *folio;\n+\tint drained = 0;\n"
    " \tlong i = 0;\n \n"
    "@@ -20,5 +20,5 @@ static unsigned long collect(\n"
    " \t\tif (drain_allow && folio_ref_count(folio) != 1) {\n"
    " \t\t\tlru_add_drain_all();\n-\t\t\tdrain_allow = false;\n+\t\t\tdrained = 2;\n"
    " \t\t}\n \t\tcollected++;\n"
)


def test_a_new_local_takes_the_place_of_the_one_the_fix_removes():
    # The hunk starts in the function's parameter list; the new local's neighbours upstream
    # are not in the older tree: it replaces the declaration the same hunk removes, and the
    # next hunk may use it.
    fp = _mail(NEW_LOCAL)
    assert _placed(fp, COLLECT, tree=None) == COLLECT.replace(
        b"\tbool drain_allow = true;\n", b"\tint drained = 0;\n"
    ).replace(b"\t\t\tdrain_allow = false;\n", b"\t\t\tdrained = 2;\n")


FAULT = (
    b"static int fault(struct vm_fault *vmf)\n{\n\tstruct page *page;\n\tint err;\n\n"
    b"\tpage = alloc_page(GFP_KERNEL);\n\terr = add_to_cache(page, vmf->pgoff);\n"
    b"\tif (unlikely(err)) {\n\t\tput_page(page);\n\t\t/*\n\t\t * Undo the mapping first.\n"
    b"\t\t */\n\t\tset_default(page);\n\t\treturn err;\n\t}\n\treturn 0;\n}\n"
)


def test_a_known_api_rename_carries_the_older_call_into_the_added_lines():
    # folio_put(folio) is put_page(page) in the older tree (queries/api-renames.toml): the
    # removed line is found as such and the moved call is written the older way.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -8,8 +8,8 @@ static int fault(struct vm_fault *vmf)\n"
        " \tif (unlikely(err)) {\n-\t\tfolio_put(folio);\n \t\t/*\n \t\t * Undo the mapping first.\n"
        " \t\t */\n \t\tset_default(folio_page(folio, 0));\n+\t\tfolio_put(folio);\n"
        " \t\treturn err;\n \t}\n"
    )
    assert _placed(fp, FAULT, tree=None) == FAULT.replace(b"\t\tput_page(page);\n", b"").replace(
        b"\t\tset_default(page);\n", b"\t\tset_default(page);\n\t\tput_page(page);\n"
    )


def test_a_folio_call_is_never_given_a_page():
    # Only the local's rename is known (folio -> page) and no table entry converts
    # folio_mark_dirty(): refused rather than folio_mark_dirty(page).
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -8,8 +8,9 @@ static int fault(struct vm_fault *vmf)\n"
        " \tif (unlikely(err)) {\n \t\tput_page(folio);\n \t\t/*\n \t\t * Undo the mapping first.\n"
        " \t\t */\n \t\tset_default(folio);\n+\t\tfolio_mark_dirty(folio);\n"
        " \t\treturn err;\n \t}\n"
    )
    _refused(fp, FAULT, tree=None)


def test_an_insertion_diff_began_inside_the_next_comment_slides_before_it():
    # diff wrote the new comment + check as starting after the next comment's `/*`; the older
    # tree indents that comment otherwise, the change still goes in front of it, whole.
    target = (
        b"void scan(struct mm *mm, struct vma *vma)\n{\n\tif (trylock(mm)) {\n\t\t/*\n"
        b"\t\t * Skip uffd-wp.\n\t\t */\n\t\tif (skip(vma))\n\t\t\tgoto unlock;\n"
        b"\t\tcollapse(vma);\nunlock:\n\t\tunlock(mm);\n\t}\n}\n"
    )
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,5 +3,10 @@ void scan(struct mm *mm, struct vma *vma)\n"
        " \tif (trylock(mm)) {\n \t\t/*\n+\t\t * Re-check.\n+\t\t */\n"
        "+\t\tif (vma->anon_vma)\n+\t\t\tgoto unlock;\n+\t\t/*\n"
        " \t\t * Skip uffd-wp.\n \t\t */\n \t\tif (skip(vma))\n"
    )
    p = relocate_file(fp, target.replace(b"\t\t/*\n\t\t * Skip", b"\t\t/*\n\t\t *  Skip"), "mm/x.c")
    assert p.failures == (), p.failures
    got = apply_edits(target.replace(b" * Skip", b" *  Skip"), list(p.edits))
    assert (
        b"{\n\t\t/*\n\t\t * Re-check.\n\t\t */\n\t\tif (vma->anon_vma)\n\t\t\tgoto unlock;\n\t\t/*\n\t\t *  Skip"
        in got
    )


LOOK = (
    b"void look_around(struct walk *pvmw)\n{\n\tint i;\n\tunsigned long start;\n"
    b"\tunsigned long end;\n\tunsigned long bitmap[4] = {};\n"
    b"\tstruct folio *folio = pfn_folio(pvmw->pfn);\n\n\tif (contended(pvmw->ptl))\n\t\treturn;\n\n"
    b"\tstart = max(pvmw->address & PMD_MASK, pvmw->vma->vm_start);\n"
    b"\tend = min(pvmw->address | ~PMD_MASK, pvmw->vma->vm_end - 1) + 1;\n\tscan(start, end);\n}\n"
)


def test_a_new_local_next_to_a_shared_declaration_and_statements_rewritten_one_for_one():
    # The new local's upstream neighbour before it (another new local upstream) is not in the
    # older tree, the one after it is, word for word; the two assignments lose `pvmw->` in
    # front of vma where the older tree spells their first operand otherwise.
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -4,3 +4,4 @@ void look_around(struct walk *pvmw)\n"
        " \tint young = 0;\n \tunsigned long addr = pvmw->address;\n"
        "+\tstruct vm_area_struct *vma = pvmw->vma;\n"
        " \tstruct folio *folio = pfn_folio(pvmw->pfn);\n"
        "@@ -12,4 +13,4 @@ void look_around(struct walk *pvmw)\n"
        " \n-\tstart = max(addr & PMD_MASK, pvmw->vma->vm_start);\n"
        "-\tend = min(addr | ~PMD_MASK, pvmw->vma->vm_end - 1) + 1;\n"
        "+\tstart = max(addr & PMD_MASK, vma->vm_start);\n"
        "+\tend = min(addr | ~PMD_MASK, vma->vm_end - 1) + 1;\n \n"
    )
    assert _placed(fp, LOOK, tree=None) == LOOK.replace(
        b"\tstruct folio *folio",
        b"\tstruct vm_area_struct *vma = pvmw->vma;\n\tstruct folio *folio",
    ).replace(b", pvmw->vma->vm_", b", vma->vm_")


def test_a_callee_renamed_in_the_context_is_renamed_in_a_later_change_of_the_hunk():
    # The context above the first change reads pmdp_get_lockless() where the older tree has
    # pmd_read_atomic() (a known API rename); the second change of the same hunk adds another
    # call to it: written the older way.
    target = (
        b"static long copy(struct mm *mm, pmd_t *dst_pmd)\n{\n\tpmd_t dst_pmdval;\n\tlong err = 0;\n\n"
        b"\tdst_pmdval = pmd_read_atomic(dst_pmd);\n\tif (unlikely(pmd_trans_huge(dst_pmdval))) {\n"
        b"\t\terr = -EEXIST;\n\t\tgoto out;\n\t}\n\tif (unlikely(pmd_none(dst_pmdval)))\n"
        b"\t\terr = alloc(mm, dst_pmd);\n\tif (unlikely(pmd_bad(*dst_pmd)))\n\t\terr = -EFAULT;\nout:\n"
        b"\treturn err;\n}\n"
    )
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -6,8 +6,9 @@ static long copy(struct mm *mm, pmd_t *dst_pmd)\n"
        " \tdst_pmdval = pmdp_get_lockless(dst_pmd);\n-\tif (unlikely(pmd_trans_huge(dst_pmdval))) {\n"
        "-\t\terr = -EEXIST;\n-\t\tgoto out;\n-\t}\n \tif (unlikely(pmd_none(dst_pmdval)))\n"
        " \t\terr = alloc(mm, dst_pmd);\n+\tdst_pmdval = pmdp_get_lockless(dst_pmd);\n"
        "+\tif (unlikely(pmd_trans_huge(dst_pmdval))) {\n+\t\terr = -EEXIST;\n+\t\tgoto out;\n+\t}\n"
        " \tif (unlikely(pmd_bad(*dst_pmd)))\n"
    )
    got = _placed(fp, target, tree=None)
    assert got.count(b"dst_pmdval = pmd_read_atomic(dst_pmd);") == 2 and b"pmdp_get" not in got


UFFD = (
    b"static __always_inline ssize_t copy_hugetlb(struct mm_struct *dst_mm,\n"
    b"\t\t\t\t\t      unsigned long dst_start,\n\t\t\t\t\t      unsigned long len,\n"
    b"\t\t\t\t\t      enum copy_mode mode,\n\t\t\t\t\t      bool wp_copy)\n{\n"
    b"\tlong err = 0;\n\n\terr = step(dst_mm, dst_start, len);\n\treturn err;\n}\n\n"
    b"extern ssize_t copy_hugetlb(struct mm_struct *dst_mm,\n\t\t\t\t      unsigned long dst_start,\n"
    b"\t\t\t\t      unsigned long len,\n\t\t\t\t      enum copy_mode mode,\n"
    b"\t\t\t\t      bool wp_copy);\n\n"
    b"static __always_inline ssize_t copy_all(struct mm_struct *dst_mm, unsigned long dst_start,\n"
    b"\t\t\t\t\t unsigned long len, atomic_t *mmap_changing,\n\t\t\t\t\t enum copy_mode mode, bool wp_copy)\n{\n"
    b"\tcount(dst_mm);\n\tif (huge(dst_mm))\n\t\treturn  copy_hugetlb(dst_mm, dst_start, len, mode,\n"
    b"\t\t\t\t\t     wp_copy);\n\treturn 0;\n}\n"
)
UFFD_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -2,5 +2,6 @@ static __always_inline ssize_t mfill_hug\n"
    " \t\t\t\t\t      unsigned long dst_start,\n \t\t\t\t\t      unsigned long len,\n"
    "+\t\t\t\t\t      atomic_t *mmap_changing,\n \t\t\t\t\t      uffd_flags_t flags)\n"
    " {\n \tstruct mm_struct *dst_mm = dst_vma->vm_mm;\n"
    "@@ -20,3 +21,4 @@ extern ssize_t mfill_hugetlb(stru\n"
    " \t\t\t\t    unsigned long dst_start,\n \t\t\t\t    unsigned long len,\n"
    "+\t\t\t\t    atomic_t *mmap_changing,\n \t\t\t\t    uffd_flags_t flags);\n"
    "@@ -40,5 +42,5 @@ retry:\n \tcount(dst_mm);\n \tif (huge(dst_mm))\n"
    "-\t\treturn  mfill_hugetlb(dst_mm, dst_start, len, flags);\n"
    "+\t\treturn  mfill_hugetlb(dst_mm, dst_start, len, mmap_changing, flags);\n"
    " \treturn 0;\n \n"
)


def test_a_parameter_added_to_a_function_its_prototype_and_its_call():
    # Upstream renamed the function (its @@ lines name it cut off, or a label): each hunk
    # places where it fits; the new parameter goes after the one both trees share, and the
    # call line that grows past 80 columns is refilled the way a maintainer does.
    got = _placed(_mail(UFFD_FIX), UFFD, tree=None).decode()
    assert got.count("atomic_t *mmap_changing,") == 3, got
    assert (
        "\t\t\t\t\t      unsigned long len,\n\t\t\t\t\t      atomic_t *mmap_changing,\n\t\t\t\t\t      enum"
        in got
    )
    assert (
        "\t\t\t\t      atomic_t *mmap_changing,\n\t\t\t\t      enum copy_mode mode,\n\t\t\t\t      bool wp_copy);"
        in got
    )
    assert (
        "\t\treturn  copy_hugetlb(dst_mm, dst_start, len, mmap_changing,\n\t\t\t\t\t     mode, wp_copy);"
        in got
    )


def test_a_new_prototype_goes_at_the_end_of_the_run_the_context_starts():
    # Upstream adds a forward declaration after others the older tree lacks; git's @@ line
    # shows the first declaration of the run, which both trees have.
    target = (
        b"#include <linux/mm.h>\n\n/* Forward declaration */\n"
        b"static int acct_memory(struct hstate *h, long delta);\n\n"
        b"static inline void unlock_pool(struct pool *p)\n{\n\tkfree(p);\n}\n"
    )
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n"
        "@@ -4,5 +4,7 @@ static int acct_memory(struct hstate *h, long delta);\n"
        " static void lock_free(struct vm_area_struct *vma);\n"
        " static void lock_alloc(struct vm_area_struct *vma);\n"
        "+static void unshare_pmds(struct vm_area_struct *vma,\n"
        "+\t\tunsigned long start, unsigned long end);\n"
        " \n static inline bool pool_is_free(struct pool *p)\n {\n"
    )
    assert _placed(fp, target, tree=None) == target.replace(
        b"long delta);\n",
        b"long delta);\nstatic void unshare_pmds(struct vm_area_struct *vma,\n"
        b"\t\tunsigned long start, unsigned long end);\n",
    )


def test_a_new_parameter_the_older_tree_types_otherwise_is_refused():
    # 5.10 passes a `bool *mmap_changing` where upstream adds an `atomic_t *` one: the same
    # name with another type is another change (stable rewrote its uses), not this one.
    older = UFFD.replace(b"atomic_t *mmap_changing", b"bool *mmap_changing")
    _refused(_mail(UFFD_FIX), older, tree=None)


def test_a_comment_the_older_tree_wraps_otherwise_is_replaced_whole():
    # Upstream rewrites a comment the older tree wraps at other words (class e); the new
    # comment text mentions `folio`, which is no identifier.
    target = (
        b"static bool unmap_one(struct page *page)\n{\n\tif (shared(page)) {\n\t\tflush(page);\n"
        b"\t\t/*\n\t\t * The ref count of the PMD page was dropped\n"
        b"\t\t * which is part of the way map counting\n\t\t * is done for shared PMDs.\n\t\t */\n"
        b"\t\tgoto done;\n\t}\ndone:\n\treturn true;\n}\n"
    )
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -5,7 +5,6 @@ static bool unmap_one(struct folio *folio)\n"
        " \t\t\tflush(folio);\n \t\t\t/*\n"
        "-\t\t\t * The ref count of the PMD page was\n-\t\t\t * dropped which is part of the way map\n"
        "-\t\t\t * counting is done for shared PMDs.\n"
        "+\t\t\t * The PMD table was unmapped,\n+\t\t\t * consequently unmapping the folio.\n"
        " \t\t\t */\n \t\t\tgoto done;\n"
    )
    assert _placed(fp, target, tree=None) == (
        target.split(b"\t\t * The ref")[0]
        + b"\t\t * The PMD table was unmapped,\n\t\t * consequently unmapping the folio.\n\t\t */\n"
        + b"\t\tgoto done;\n\t}\ndone:\n\treturn true;\n}\n"
    )


def test_new_code_before_a_function_definition_is_not_a_change_to_its_declarator():
    # The hunk adds a helper in front of scan_next(); its context shows scan_next()'s first
    # lines. The helper is not a parameter of scan_next(): nothing is edited into its declarator.
    target = (
        b"static bool skip_item(int i)\n{\n\treturn i > 3;\n}\n\n"
        b"static struct item *scan_next(struct page **page)\n{\n\tstruct mm *mm;\n\n\treturn 0;\n}\n"
    )
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -5,6 +5,11 @@ static bool skip_item(struct\n"
        " \treturn true;\n }\n \n+static int next_entry(int a)\n+{\n+\treturn a;\n+}\n+\n"
        " static struct item *scan_next(struct page **page)\n {\n \tstruct mm *mm;\n"
    )
    p = relocate_file(fp, target, "mm/x.c")
    assert p.method == "failed" or b"int next_entry" in apply_edits(target, list(p.edits))
    assert not any("declarator" in f.reason for f in p.failures), p.failures
    if p.edits:
        got = apply_edits(target, list(p.edits))
        assert b"scan_next(struct page **page)\n{" in got


HEADER = (
    b"#ifdef CONFIG_HUGETLB\nint isolate(struct page *page);\n"
    b"int get_huge(unsigned long pfn, int flags);\nvoid putback(struct page *page);\n"
    b"#else\nstatic inline int isolate(struct page *page)\n{\n\treturn 0;\n}\n\n"
    b"static inline int get_huge(unsigned long pfn, int flags)\n{\n\treturn 0;\n}\n\n"
    b"static inline void putback(struct page *page)\n{\n}\n#endif\n"
)


def test_a_prototype_and_a_stub_upstream_deletes_go_whatever_their_parameters():
    # Upstream deletes get_huge()'s prototype and stub, which have one more parameter there;
    # the older tree's own prototype and stub of that name go (g).
    fp = _mail(
        "--- a/include/x.h\n+++ b/include/x.h\n@@ -2,5 +2,3 @@ int isolate(struct folio *f\n"
        " int isolate(struct folio *folio);\n-int get_huge(unsigned long pfn, int flags,\n"
        "-\t\t\t\tbool *cleared);\n void putback(struct folio *folio);\n \n"
        "@@ -10,11 +8,5 @@ static inline int isolate(struct f\n"
        " {\n \treturn 0;\n }\n-\n-static inline int get_huge(unsigned long pfn, int flags,\n"
        "-\t\t\t\t\tbool *cleared)\n-{\n-\treturn 0;\n-}\n \n static inline void putback(struct folio *folio)\n"
    )
    assert _placed(fp, HEADER, "include/x.h", tree=None) == HEADER.replace(
        b"int get_huge(unsigned long pfn, int flags);\n", b""
    ).replace(
        b"static inline int get_huge(unsigned long pfn, int flags)\n{\n\treturn 0;\n}\n\n", b""
    )


REPORT = (
    b"static void print_page_info(struct page *page)\n{\n\tshow(page);\n}\n\n"
    b"static void print_trailer(struct cache *s, struct page *page, u8 *p)\n{\n\tshow(page);\n}\n\n"
    b"void object_err(struct cache *s, struct page *page, u8 *object, char *reason)\n{\n"
    b'\tslab_bug(s, "%s", reason);\n\tprint_trailer(s, page, object);\n}\n'
)
SLAB_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -14,5 +14,10 @@ void object_err(struct cache *s, struct slab *slab,\n"
    " \t\treturn;\n \n \tslab_bug(s, reason);\n-\tprint_trailer(s, slab, object);\n"
    "+\tif (!object || !valid_pointer(s, slab, object)) {\n+\t\tprint_slab_info(slab);\n"
    '+\t\tpr_err("Invalid pointer 0x%p\\n", object);\n+\t} else {\n'
    "+\t\tprint_trailer(s, slab, object);\n+\t}\n \tadd_taint(TAINT_BAD_PAGE);\n"
)


def test_a_helper_named_after_a_renamed_local_takes_the_targets_word():
    # slab -> page is learned from the removed call; print_slab_info(), which the older tree
    # lacks, is print_page_info() there (a name the file has).
    p = relocate_file(
        _mail(SLAB_FIX), REPORT, "mm/x.c", tree=lambda n: n in {"valid_pointer", "pr_err"}
    )
    assert p.failures == (), p.failures
    out = apply_edits(REPORT, list(p.edits))
    assert b"\t\tprint_page_info(page);\n" in out and b"slab_info" not in out
    assert b"if (!object || !valid_pointer(s, page, object)) {" in out


def test_a_renamed_word_gives_no_name_the_tree_lacks():
    # without print_page_info in the file or the tree the name is not invented: refused
    data = REPORT.replace(b"print_page_info", b"dump_page_info")
    p = relocate_file(_mail(SLAB_FIX), data, "mm/x.c", tree=lambda n: n in {"valid_pointer"})
    assert p.method == "failed" and "print_slab_info" in p.failures[0].reason


WALK = (
    b"void walk_pgd(struct state *st, struct mm_struct *mm)\n{\n\tconst struct range *r = st->range;\n\n"
    b"\tmmap_write_lock(mm);\n\twhile (r->start != r->end) {\n\t\twalk_range(mm, r->start, r->end);\n"
    b"\t\tr++;\n\t}\n\tmmap_write_unlock(mm);\n\n\t/* Flush out the last page */\n"
    b"\tst->note_page(st, 0, -1, 0);\n}\n"
)
WALK_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -8,6 +8,7 @@ void walk_pgd(struct state *st, struct mm_struct *mm)\n"
    " \t\tr++;\n \t}\n \tmmap_write_unlock(mm);\n+\tput_online_mems();\n \n"
    " \t/* Flush out the last page */\n \tst->note_page_flush(st);\n"
)


def test_a_change_next_to_code_the_target_never_had_goes_by_the_shared_neighbour():
    # The statement after the change (note_page_flush) is a later API the older tree does not
    # have in any form: the change goes after the one statement both trees share.
    assert _placed(_mail(WALK_FIX), WALK) == WALK.replace(
        b"\tmmap_write_unlock(mm);\n", b"\tmmap_write_unlock(mm);\n\tput_online_mems();\n"
    )


@pytest.mark.parametrize(
    "change",
    [
        # the shared neighbour occurs twice: no unique place
        (
            b"\tmmap_write_unlock(mm);\n\n",
            b"\tmmap_write_unlock(mm);\n\tmmap_write_unlock(mm);\n\n",
        ),
        # the other neighbour is in the target, elsewhere: the trees disagree on the order
        (b"\tmmap_write_lock(mm);\n", b"\tst->note_page_flush(st);\n\tmmap_write_lock(mm);\n"),
    ],
    ids=["neighbour-twice", "other-neighbour-elsewhere"],
)
def test_one_neighbour_alone_never_guesses(change):
    _refused(_mail(WALK_FIX), WALK.replace(*change))


def test_a_bare_exit_is_no_anchor_on_its_own():
    # `return 0;` is the one statement matching and the next one is not in the target: a bare
    # exit says nothing about where the change goes
    fp = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,4 +3,5 @@ int f(int a)\n"
        " \tdo_one(a);\n \treturn 0;\n+\tlater_api(a);\n \tnew_flush(a);\n }\n"
    )
    data = b"int f(int a)\n{\n\tif (a)\n\t\tdo_two(a);\n\treturn 0;\n}\n"
    p = relocate_file(fp, data, "mm/x.c", tree=lambda n: True)
    assert p.method == "failed"


MAP_PTES = (
    b"static int map_ptes(pte_t *pte, struct page **pages, int *nr)\n{\n\tint err = 0;\n\n"
    b"\tdo {\n\t\tstruct page *page = pages[*nr];\n\n\t\tif (WARN_ON(!pte_none(*pte)))\n"
    b"\t\t\treturn -EBUSY;\n\t\tif (WARN_ON(!page))\n\t\t\treturn -ENOMEM;\n"
    b"\t\tset_pte(pte, page);\n\t\t(*nr)++;\n\t} while (pte++, more());\n\treturn err;\n}\n"
)
EXITS_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -7,11 +7,17 @@ static int map_ptes(pte_t *pte, struct page **pages, int *nr)\n"
    " \t\tstruct page *page = pages[*nr];\n \n"
    "-\t\tif (WARN_ON(!pte_none(ptep_get(pte))))\n-\t\t\treturn -EBUSY;\n"
    "-\t\tif (WARN_ON(!page))\n-\t\t\treturn -ENOMEM;\n"
    "-\t\tif (WARN_ON(!pfn_valid(page_to_pfn(page))))\n-\t\t\treturn -EINVAL;\n"
    "+\t\tif (WARN_ON(!pte_none(ptep_get(pte)))) {\n+\t\t\terr = -EBUSY;\n+\t\t\tbreak;\n+\t\t}\n"
    "+\t\tif (WARN_ON(!page)) {\n+\t\t\terr = -ENOMEM;\n+\t\t\tbreak;\n+\t\t}\n"
    "+\t\tif (WARN_ON(!pfn_valid(page_to_pfn(page)))) {\n+\t\t\terr = -EINVAL;\n+\t\t\tbreak;\n"
    "+\t\t}\n \n \t\tset_pte(pte, page);\n \t\t(*nr)++;\n"
)


def test_statements_rewritten_one_for_one_leave_out_the_one_the_target_never_had():
    # The older tree has the first two checks (one reads *pte where upstream has ptep_get())
    # and not the pfn_valid() one: the two it has are rewritten, nothing else is added.
    assert _placed(_mail(EXITS_FIX), MAP_PTES) == MAP_PTES.replace(
        b"\t\tif (WARN_ON(!pte_none(*pte)))\n\t\t\treturn -EBUSY;\n"
        b"\t\tif (WARN_ON(!page))\n\t\t\treturn -ENOMEM;\n",
        b"\t\tif (WARN_ON(!pte_none(*pte))) {\n\t\t\terr = -EBUSY;\n\t\t\tbreak;\n\t\t}\n"
        b"\t\tif (WARN_ON(!page)) {\n\t\t\terr = -ENOMEM;\n\t\t\tbreak;\n\t\t}\n",
    )


@pytest.mark.parametrize(
    "change",
    [
        # the third check is there in another form (another argument): not code it never had
        (
            b"\t\tset_pte(",
            b"\t\tif (WARN_ON(!pfn_valid(pfn_of(page))))\n\t\t\treturn -EIO;\n\t\tset_pte(",
        ),
        # the checks the target has do not stand together
        (b"\t\tif (WARN_ON(!page))", b"\t\tprepare(page);\n\t\tif (WARN_ON(!page))"),
    ],
    ids=["third-check-changed", "checks-apart"],
)
def test_a_left_out_statement_must_be_absent_and_the_kept_ones_together(change):
    data = MAP_PTES.replace(*change)
    _refused(_mail(EXITS_FIX), data)


UNMAP = (
    b"static bool unmap_one(struct page *page)\n{\n\twhile (walk(page)) {\n"
    b"\t\tif (shared(page)) {\n\t\t\tflush(page);\n\t\t\t/*\n"
    b"\t\t\t * The ref count of the table was dropped, which is\n"
    b"\t\t\t * part of the way counting is done.\n\t\t\t */\n"
    b"\t\t\twalk_done(page);\n\t\t\tbreak;\n\t\t}\n\t}\n\treturn true;\n}\n"
)
TWO_COPIES = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -5,7 +5,5 @@ static bool unmap_one(struct folio *folio)\n"
    " \t\t\t\tflush(folio);\n \t\t\t\t/*\n"
    "-\t\t\t\t * The ref count of the table was\n-\t\t\t\t * dropped, which is part of the way\n"
    "-\t\t\t\t * counting is done.\n+\t\t\t\t * The table was unmapped.\n"
    " \t\t\t\t */\n \t\t\t\tgoto walk_done;\n"
    "@@ -30,7 +28,5 @@ static bool migrate_one(struct folio *folio)\n"
    " \t\t\t\tflush(folio);\n \t\t\t\t/*\n"
    "-\t\t\t\t * The ref count of the table was\n-\t\t\t\t * dropped, which is part of the way\n"
    "-\t\t\t\t * counting is done.\n+\t\t\t\t * The table was unmapped.\n"
    " \t\t\t\t */\n \t\t\t\twalk_done(folio);\n"
)


def test_a_comment_upstream_has_twice_is_changed_once_where_the_target_has_it():
    # migrate_one() was split off unmap_one() upstream, copying the comment; the older tree
    # has the one copy (wrapped otherwise): both hunks land on it and it changes once.
    p = relocate_file(_mail(TWO_COPIES), UNMAP, "mm/x.c", tree=lambda n: True)
    assert p.failures == (), p.failures
    assert apply_edits(UNMAP, list(p.edits)) == UNMAP.replace(
        b"\t\t\t * The ref count of the table was dropped, which is\n"
        b"\t\t\t * part of the way counting is done.\n",
        b"\t\t\t * The table was unmapped.\n",
    )
    assert any("made once" in w for w in p.warnings)


WRITEBACK = (
    b"static int writeback(struct entry *entry, struct page *page)\n{\n\tint ret;\n\n"
    b"\tspin_lock(&tree->lock);\n\tif (search(tree, entry->offset) != entry) {\n"
    b"\t\tspin_unlock(&tree->lock);\n\t\tdelete_from_cache(page_folio(page));\n"
    b"\t\tret = -ENOMEM;\n\t\tgoto fail;\n\t}\n\tspin_unlock(&tree->lock);\n"
    b"\tput_page(page);\n\treturn 0;\nfail:\n\treturn ret;\n}\n"
)
UNLOCK_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -6,6 +6,8 @@ static int writeback(struct entry *entry)\n"
    " \tif (search(tree, swp_offset(entry->swpentry)) != entry) {\n"
    " \t\tspin_unlock(&tree->lock);\n \t\tdelete_from_cache(folio);\n"
    "+\t\tfolio_unlock(folio);\n+\t\tfolio_put(folio);\n \t\treturn -ENOMEM;\n \t}\n"
    " \tspin_unlock(&tree->lock);\n"
)


def test_a_return_is_the_older_functions_exit_path_and_folio_calls_its_page_helpers():
    # upstream returns -ENOMEM where the older function sets ret and jumps to its exit; its
    # folio is page_folio(page) there, so folio_unlock()/folio_put() are the page helpers
    have = {"unlock_page", "put_page"}
    assert _placed(_mail(UNLOCK_FIX), WRITEBACK, tree=lambda n: n in have) == WRITEBACK.replace(
        b"\t\tdelete_from_cache(page_folio(page));\n",
        b"\t\tdelete_from_cache(page_folio(page));\n\t\tunlock_page(page);\n\t\tput_page(page);\n",
    )


def test_an_assignment_without_the_jump_is_not_the_same_exit():
    data = WRITEBACK.replace(b"\t\tret = -ENOMEM;\n\t\tgoto fail;\n", b"\t\tret = -ENOMEM;\n")
    _refused(_mail(UNLOCK_FIX), data)


def test_a_change_after_code_the_target_never_had_goes_above_the_shared_statement():
    # mirror case: the statement before the change (a later API) is not in the older tree; the
    # change goes right above the statement after it, above the comment upstream keeps between
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -9,6 +9,7 @@ void walk_pgd(struct state *st, struct mm_struct *mm)\n"
        " \t\tr++;\n \t}\n \tst->note_page_flush(st);\n+\tput_online_mems();\n \n"
        " \t/* Flush out the last page */\n \tmmap_write_unlock(mm);\n"
    )
    data = (
        b"void walk_pgd(struct state *st, struct mm_struct *mm)\n{\n\tmmap_write_lock(mm);\n"
        b"\twhile (r->start != r->end) {\n\t\twalk_range(mm, r->start, r->end);\n\t\tr++;\n\t}\n"
        b"\tst->note_page(st, 0, -1, 0);\n\n\t/* Flush out the last page */\n"
        b"\tmmap_write_unlock(mm);\n}\n"
    )
    assert _placed(fix, data) == data.replace(
        b"\n\t/* Flush out the last page */\n",
        b"\tput_online_mems();\n\n\t/* Flush out the last page */\n",
    )


def test_exact_context_with_a_name_the_tree_lacks_takes_the_rewrite_learned_from_the_function():
    # the hunk's context is in the target as is, but its added line calls mmap_write_unlock(),
    # which the older tree spells up_write(&mm->mmap_sem) further down the same function: with
    # upstream's pre-image the rewrite is learned there; from the hunk alone it is refused
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,7 +1,9 @@ int drop(struct mm_struct *mm)\n"
        " int drop(struct mm_struct *mm)\n {\n \tint ret = 0;\n \n"
        " \tif (!trylock(mm))\n \t\treturn -EAGAIN;\n"
        "+\tif (gone(mm))\n+\t\tmmap_write_unlock(mm);\n \tcount++;\n"
    )
    head = b"int drop(struct mm_struct *mm)\n{\n\tint ret = 0;\n\n\tif (!trylock(mm))\n"
    head += b"\t\treturn -EAGAIN;\n\tcount++;\n"
    up = head + b"\tmmap_write_unlock(mm);\n\treturn 0;\n}\n"
    data = head + b"\tup_write(&mm->mmap_sem);\n\treturn 0;\n}\n"
    have = {"up_write", "mmap_sem", "trylock", "count", "gone"}
    p = relocate_file(fix, data, "mm/x.c", upstream_pre=up, tree=lambda n: n in have)
    assert p.failures == (), p.failures
    assert p.rewrites == ("mmap_write_unlock(X) -> up_write(&X->mmap_sem)",)
    assert apply_edits(data, list(p.edits)) == data.replace(
        b"\t\treturn -EAGAIN;\n",
        b"\t\treturn -EAGAIN;\n\tif (gone(mm))\n\t\tup_write(&mm->mmap_sem);\n",
    )
    alone = relocate_file(fix, data, "mm/x.c", tree=lambda n: n in have)
    assert alone.method == "failed"
    assert "mmap_write_unlock does not exist in the tree" in alone.failures[0].reason


_OPENING_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,6 +1,9 @@ static int handle(int cmd,\n"
    " static int handle(int cmd,\n \t\tstruct k *k)\n {\n"
    "+\tif (cmd != 1 && k->nr != 1)\n+\t\treturn -EINVAL;\n+\n"
    " \tswitch (cmd) {\n \tcase 0:\n \t\treturn on(k);\n"
)


def _opening_target(decls: str) -> bytes:
    return (
        "static int handle(int cmd,\n\t\tstruct k *k)\n{\n" + decls + "\t/* first */\n"
        "\tswitch (cmd) {\n\tcase 0:\n\t\treturn on(k);\n\tdefault:\n\t\tbreak;\n\t}\n"
        "\treturn 0;\n}\n"
    ).encode()


@pytest.mark.parametrize("decls", ["", "\tbool wait = true;\n\tint n;\n\n"], ids=["none", "plain"])
def test_a_check_opening_the_function_goes_after_the_targets_declarations(decls):
    # upstream's check opens the body; the older function starts with locals of its own, and
    # kernel C declares first: the check goes after them (and their blank line)
    data = _opening_target(decls)
    check = b"\tif (cmd != 1 && k->nr != 1)\n\t\treturn -EINVAL;\n\n"
    assert _placed(_mail(_OPENING_FIX), data) == data.replace(
        b"\t/* first */\n", check + b"\t/* first */\n"
    )


@pytest.mark.parametrize(
    "decl", ["\tspinlock_t *ptl = lock_it(k);\n\n", "\tint nr = k->nr;\n\n", "\tint v = *p;\n\n"]
)
def test_a_check_is_never_put_after_a_declaration_that_reads_or_calls(decl):
    # the initialiser would run before the check that may guard it: no guess
    data = _opening_target(decl)
    _refused(_mail(_OPENING_FIX), data)


_POOL_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -10,6 +10,9 @@ void __init pool_alloc_and_meta(void)\n"
    " \tif (!interval)\n \t\treturn;\n \n"
    "+\tif (hw_tags())\n+\t\treturn;\n+\n"
    " \t/* the arch may have set the pool up */\n \tif (pool)\n \t\treturn;\n"
)


def _pools(first: str) -> bytes:
    return (
        f"void __init {first}(void)\n{{\n\tif (!interval)\n\t\treturn;\n\n"
        "\t/* set up by the arch: skip */\n\tif (pool)\n\t\treturn;\n\tpool = get();\n}\n\n"
        "void __init pool_start(void)\n{\n\tif (!interval)\n\t\treturn;\n\n"
        "\t/* set up by the arch: skip */\n\tif (pool)\n\t\treturn;\n\tstart();\n}\n"
    ).encode()


def test_of_two_functions_taking_the_change_the_one_named_like_upstreams_is_chosen():
    # upstream's function was renamed later (pool_alloc -> pool_alloc_and_meta) and its comment
    # reworded; the change places in two functions of the older file, and only one has a name
    # upstream's extends
    data = _pools("pool_alloc")
    assert _placed(_mail(_POOL_FIX), data) == data.replace(
        b"\t\treturn;\n\n\t/* set up",
        b"\t\treturn;\n\n\tif (hw_tags())\n\t\treturn;\n\n\t/* set up",
        1,
    )
    # neither name is related: no guess
    p = relocate_file(_mail(_POOL_FIX), _pools("pool_setup"), "mm/x.c", tree=lambda n: True)
    assert p.method == "failed" and "places in" in p.failures[0].reason


_NEW_HELPER_FIX = (
    "--- a/include/linux/x.h\n+++ b/include/linux/x.h\n"
    "@@ -10,6 +10,12 @@ static inline bool gfp_io_fs(gfp_t gfp)\n"
    " \treturn (gfp & (IO | FS)) == (IO | FS);\n }\n \n"
    "+/* Can this allocation compact? */\n"
    "+static inline bool compaction_allowed(gfp_t gfp)\n+{\n+\treturn gfp & IO;\n+}\n+\n"
    " extern gfp_t thp_gfp_mask(struct vm_area_struct *vma);\n \n #ifdef CONFIG_CONTIG\n"
)
_OLD_HEADER = (
    b"extern struct page *alloc_vma(gfp_t gfp_mask, int order,\n"
    b"\t\t\tstruct vm_area_struct *vma);\n\n"
    b"#ifdef CONFIG_PM\nbool suspended(void);\n#endif /* CONFIG_PM */\n\n"
    b"#ifdef CONFIG_CONTIG\nint contig(void);\n#endif\n"
)


def test_a_new_helper_between_code_the_older_header_lacks_goes_above_the_line_both_have():
    # upstream's neighbours (gfp_io_fs(), thp_gfp_mask()) are later code; the older header has
    # '#ifdef CONFIG_CONTIG' once: the helper goes right above it, never into a prototype that
    # merely shares tokens with upstream's context (alloc_vma)
    helper = (
        b"/* Can this allocation compact? */\nstatic inline bool compaction_allowed(gfp_t gfp)\n"
        b"{\n\treturn gfp & IO;\n}\n\n"
    )
    assert _placed(_mail(_NEW_HELPER_FIX), _OLD_HEADER, "include/linux/x.h") == _OLD_HEADER.replace(
        b"#ifdef CONFIG_CONTIG\n", helper + b"#ifdef CONFIG_CONTIG\n"
    )


@pytest.mark.parametrize(
    "header",
    [
        _OLD_HEADER.replace(b"#ifdef CONFIG_CONTIG\n", b""),  # no line both have
        _OLD_HEADER + b"#ifdef CONFIG_CONTIG\nint other(void);\n#endif\n",  # twice
        _OLD_HEADER + b"static inline bool compaction_allowed(gfp_t gfp)\n{\n\treturn 0;\n}\n",
    ],
    ids=["no-anchor", "ambiguous", "already-there"],
)
def test_a_new_helper_without_one_clear_place_is_refused(header):
    _refused(_mail(_NEW_HELPER_FIX), header, "include/linux/x.h")


def test_a_removed_line_matches_the_target_without_sparses_cast_to_its_own_type():
    # upstream removes `int io = (__force int)(gfp & IO);`; the older tree never had the cast
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,6 +1,6 @@ int compact(gfp_t gfp)\n"
        " int compact(gfp_t gfp)\n {\n"
        "-\tint io = (__force int)(gfp & IO);\n+\tbool io = allowed(gfp);\n"
        " \tstruct zone *zone;\n \n \tif (!io)\n"
    )
    data = b"int compact(gfp_t gfp)\n{\n\tint io = gfp & IO;\n\tstruct zone *zone;\n\n\tif (!io)\n\t\treturn 0;\n\treturn 1;\n}\n"
    assert _placed(fix, data, tree=lambda n: True) == data.replace(
        b"\tint io = gfp & IO;\n", b"\tbool io = allowed(gfp);\n"
    )
    # a cast to another type than the local's is a different statement
    other = data.replace(b"\tint io = gfp & IO;\n", b"\tlong io = gfp & IO;\n")
    assert relocate_file(fix, other, "mm/x.c", tree=lambda n: True).method == "failed"


_EXIT_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -4,6 +4,12 @@ static int apply(struct ctx *c)\n"
    " \terr = set_attrs(c);\n \tif (err)\n \t\tgoto out;\n \n"
    "+\tif (!c->interval) {\n+\t\terr = -EINVAL;\n+\t\tgoto out;\n+\t}\n"
    "+\tif (c->busy)\n+\t\tgoto out;\n"
    " \tcommit(c);\n \tpublish(c);\n"
)


def _exit_target(exit_: str, label: str = "") -> bytes:
    return (
        "static int apply(struct ctx *c)\n{\n\tint err = 0;\n\n\terr = set_attrs(c);\n"
        f"\tif (err)\n\t\t{exit_}\n\n\tcommit(c);\n\tpublish(c);\n{label}\treturn err;\n}}\n"
    ).encode()


def test_a_jump_to_a_label_the_function_lacks_becomes_its_own_exit():
    # upstream jumps to out:, which the older function never had; where upstream's context
    # tests err and jumps, the older function returns err: that is the exit, the value
    # returned directly and the one-statement block without braces
    data = _exit_target("return err;")
    p = relocate_file(_mail(_EXIT_FIX), data, "mm/x.c", tree=lambda n: True)
    assert p.failures == (), p.failures
    assert apply_edits(data, list(p.edits)) == data.replace(
        b"\n\tcommit(c);",
        b"\n\tif (!c->interval)\n\t\treturn -EINVAL;\n\tif (c->busy)\n\t\treturn err;\n\tcommit(c);",
    )
    assert "err = -EINVAL; goto out -> return -EINVAL" in p.rewrites
    assert "goto out -> return err;" in p.rewrites


@pytest.mark.parametrize(
    "data",
    [
        _exit_target("return -EIO;").replace(
            b"\t\treturn -EIO;\n\n\tcommit",
            b"\t\treturn -EIO;\n\n\tif (err)\n\t\treturn err;\n\tcommit",
        ),
        _exit_target("break;"),
    ],
    ids=["exits-disagree", "no-return"],
)
def test_a_jump_without_one_clear_exit_in_the_target_is_refused(data):
    p = relocate_file(_mail(_EXIT_FIX), data, "mm/x.c", tree=lambda n: True)
    assert p.method == "failed" and "label out does not exist" in p.failures[0].reason


def test_a_jump_to_a_label_the_function_has_stays_a_jump():
    data = _exit_target("goto out;", label="out:\n")
    assert b"goto out;\n\t}\n\tif (c->busy)\n\t\tgoto out;" in _placed(_mail(_EXIT_FIX), data)


_ARITY_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,4 +3,6 @@ static void split_test(struct t *t)\n"
    " \tr = new_region(t);\n \tif (!r) {\n"
    '+\t\tdestroy_target(t, NULL);\n+\t\tskip("region alloc fail");\n'
    " \t\treturn;\n \t}\n"
)
_ARITY_TARGET = (
    b"static void split_test(struct t *t)\n{\n\tr = new_region(t);\n\tif (!r) {\n\t\treturn;\n\t}\n"
    b"\tuse(r);\n\tdestroy_target(t);\n}\n"
)


def test_a_call_passing_a_later_parameter_drops_it_where_the_tree_declares_fewer():
    # upstream passes destroy_target() a second argument 6.x added (NULL: none); the older
    # file calls it with one and the tree declares one: the call drops the NULL
    p = relocate_file(
        _mail(_ARITY_FIX),
        _ARITY_TARGET,
        "mm/x.c",
        tree=lambda n: True,
        params={"destroy_target": Params(1)}.get,
    )
    assert p.failures == (), p.failures
    assert apply_edits(_ARITY_TARGET, list(p.edits)) == _ARITY_TARGET.replace(
        b"\tif (!r) {\n", b'\tif (!r) {\n\t\tdestroy_target(t);\n\t\tskip("region alloc fail");\n'
    )
    assert "destroy_target(…, NULL) -> destroy_target(…)" in p.rewrites


@pytest.mark.parametrize(
    "params, failed",
    [
        ({}.get, False),
        ({"destroy_target": Params(2)}.get, False),
        ({"destroy_target": Params(1)}.get, True),
    ],
    ids=["no-declaration", "declared-as-upstream", "non-null-extra"],
)
def test_a_call_is_fitted_only_when_the_declaration_confirms_it(params, failed):
    # no declaration found (a macro, a variadic function, no repository): the call is left as
    # upstream wrote it; a declaration agreeing with upstream: the same; an extra argument
    # that is not NULL: no guess, refused
    fix = _ARITY_FIX if not failed else _ARITY_FIX.replace("(t, NULL)", "(t, r)")
    p = relocate_file(_mail(fix), _ARITY_TARGET, "mm/x.c", tree=lambda n: True, params=params)
    if failed:
        assert p.method == "failed"
        assert (
            "destroy_target() takes 1 argument in this tree, the change passes 2"
            in p.failures[0].reason
        )
    else:
        assert p.failures == ()
        assert b"destroy_target(t, NULL);" in apply_edits(_ARITY_TARGET, list(p.edits))


def test_declared_parameters_are_read_from_prototypes_and_definitions():
    from reviewbot.backport.arity import declared_params

    h = b"void destroy_target(struct t *t);\nint pr(const char *fmt, ...);\nint none(void);\n"
    h += b"static inline long two(int a,\n\t\tint b)\n{\n\treturn a + b;\n}\n"
    h += b"#define skip(test, fmt, ...) do_skip(test, fmt, ##__VA_ARGS__)\n#define one(x) (x)\n"
    assert declared_params(h, "x.h", "destroy_target") == Params(1)
    assert declared_params(h, "x.h", "pr") == Params(1, variadic=True)
    assert declared_params(h, "x.h", "none") == Params(0)
    assert declared_params(h, "x.h", "two") == Params(2)
    assert declared_params(h, "x.h", "skip") == Params(2, variadic=True)
    assert declared_params(h, "x.h", "one") == Params(1)
    assert declared_params(h, "x.h", "missing") is None


def test_a_call_with_fewer_arguments_than_a_variadic_one_fixes_is_refused():
    # upstream's own call lacks the first argument (`skip("...")` for skip(test, fmt, ...));
    # the tree's macro takes at least two: the line would not compile, so no backport
    target = _ARITY_TARGET.replace(b"\tuse(r);\n", b'\tuse(r);\n\tskip(t, "done %d", 1);\n')
    fix = _ARITY_FIX.replace("destroy_target(t, NULL);", "destroy_target(t);")
    variadic = {"skip": Params(2, variadic=True), "destroy_target": Params(1)}.get
    p = relocate_file(_mail(fix), target, "mm/x.c", tree=lambda n: True, params=variadic)
    assert p.method == "failed"
    assert "skip() takes at least 2 arguments in this tree, the change passes 1" in (
        p.failures[0].reason
    )
    # with the argument it compiles there, and places
    ok = fix.replace('skip("region alloc fail")', 'skip(t, "region alloc fail")')
    p = relocate_file(_mail(ok), target, "mm/x.c", tree=lambda n: True, params=variadic)
    assert p.failures == (), p.failures
    assert b'skip(t, "region alloc fail");' in apply_edits(target, list(p.edits))


def test_a_call_lacking_the_names_the_fix_s_other_calls_pass_first_gets_them():
    # upstream's own slip, as in a damon kunit fix: one `skip("...")` among `skip(t, "...")`
    # calls of skip(test, fmt, ...): the names the other calls pass first go first (as stable
    # wrote it); other calls that disagree, or pass an expression, leave it refused
    target = _ARITY_TARGET.replace(b"\tuse(r);\n", b'\tuse(r);\n\tskip(t, "done %d", 1);\n')
    variadic = {"skip": Params(2, variadic=True), "destroy_target": Params(1)}.get
    fix = _ARITY_FIX.replace("destroy_target(t, NULL);", "destroy_target(t);")

    def place(others: str):
        text = fix.replace(" \t\treturn;\n", others + " \t\treturn;\n", 1)
        text = text.replace("+3,6", f"+3,{6 + others.count('+')}")
        return relocate_file(_mail(text), target, "mm/x.c", tree=lambda n: True, params=variadic)

    p = place('+\t\tskip(t, "alloc fail %d", 2);\n')
    assert p.failures == (), p.failures
    got = apply_edits(target, list(p.edits))
    assert b'\t\tskip(t, "region alloc fail");\n\t\tskip(t, "alloc fail %d", 2);\n' in got
    assert "skip(…) -> skip(t, …)" in p.rewrites
    for other in ('+\t\tskip(r, "alloc fail");\n', '+\t\tskip(t->x, "alloc fail");\n'):
        wrong = other.replace('"alloc fail"', '"x"')
        both = place(other + wrong.replace("skip(r", "skip(t").replace("skip(t->x", "skip(t"))
        assert both.method == "failed", other
        assert "skip() takes at least 2 arguments" in both.failures[0].reason


_SEALS_H = (
    b"#ifndef _X_H\n#define _X_H\n\n#ifdef CONFIG_SEALS\n"
    b"extern long seal_fcntl(struct file *file, unsigned long arg);\n#else\n"
    b"static inline long seal_fcntl(struct file *f, unsigned long a)\n{\n\treturn -EINVAL;\n}\n"
    b"#endif\n\n#endif /* _X_H */\n"
)
_SEALS_FIX = (
    "--- a/include/linux/x.h\n+++ b/include/linux/x.h\n"
    "@@ -4,6 +4,7 @@\n #ifdef CONFIG_SEALS\n"
    " extern long seal_fcntl(struct file *file, unsigned int arg);\n"
    " struct folio *seal_alloc(struct file *f);\n"
    "+unsigned int *seals_ptr(struct file *file);\n"
    " #else\n static inline long seal_fcntl(struct file *f, unsigned int a)\n {\n"
    "@@ -13,6 +14,16 @@ static inline struct folio *seal_alloc(struct file *f)\n"
    " {\n \treturn ERR_PTR(-EINVAL);\n }\n"
    "+\n+static inline unsigned int *seals_ptr(struct file *file)\n+{\n+\treturn NULL;\n+}\n"
    " #endif\n \n"
    "+static inline unsigned int seals(struct file *file)\n+{\n"
    "+\treturn *seals_ptr(file);\n+}\n+\n"
    " #endif /* _X_H */\n"
)


def test_a_prototype_and_its_stub_go_into_the_branches_of_the_same_conditional():
    # the older header lacks seal_alloc() on both sides: the prototype goes at the end of the
    # run after '#ifdef CONFIG_SEALS', the stub right above its '#endif' (the conditional the
    # patch shows opening), the new helper above the include guard's end
    got = _placed(_mail(_SEALS_FIX), _SEALS_H, "include/linux/x.h")
    assert got == _SEALS_H.replace(
        b"unsigned long arg);\n#else\n",
        b"unsigned long arg);\nunsigned int *seals_ptr(struct file *file);\n#else\n",
    ).replace(
        b"\treturn -EINVAL;\n}\n#endif\n\n#endif /* _X_H */\n",
        b"\treturn -EINVAL;\n}\n\nstatic inline unsigned int *seals_ptr(struct file *file)\n{\n"
        b"\treturn NULL;\n}\n#endif\n\nstatic inline unsigned int seals(struct file *file)\n{\n"
        b"\treturn *seals_ptr(file);\n}\n\n#endif /* _X_H */\n",
    )


def test_a_stub_is_not_put_before_an_endif_of_another_conditional():
    # the older header's only bare '#endif' closes CONFIG_OTHER, which the patch never shows
    other = _SEALS_H.replace(b"#ifdef CONFIG_SEALS", b"#ifdef CONFIG_OTHER")
    _refused(_mail(_SEALS_FIX), other, "include/linux/x.h")


def test_a_new_helper_goes_above_the_kernel_doc_of_the_definition_after_it():
    fix = _mail(
        "--- a/include/linux/x.h\n+++ b/include/linux/x.h\n"
        "@@ -3,6 +3,11 @@ void dump_obj(void *object);\n"
        " static inline void dump_obj(void *object) {}\n #endif\n \n"
        "+static inline bool sealed(int seals)\n+{\n+\treturn seals & SEAL_WRITE;\n+}\n+\n"
        " /**\n  * check_write - Check for write seals\n  */\n"
    )
    data = (
        b"extern int nr_pages;\n\n/**\n * check_write - Check for write seals\n */\n"
        b"static inline int check_write(int seals)\n{\n\treturn 0;\n}\n"
    )
    assert _placed(fix, data, "include/linux/x.h") == data.replace(
        b"\n/**\n",
        b"\nstatic inline bool sealed(int seals)\n{\n\treturn seals & SEAL_WRITE;\n}\n\n/**\n",
    )


_LABEL_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -5,7 +5,7 @@ static int add_dirs(struct scheme *s)\n"
    " \t\tgoto put_pattern_out;\n \terr = set_marks(s);\n \tif (err)\n"
    "-\t\tgoto put_quotas_out;\n+\t\tgoto rmdir_put_quotas_out;\n"
    " \terr = set_stats(s);\n \tif (err)\n \t\tgoto put_marks_out;\n"
    "@@ -14,7 +14,8 @@ static int add_dirs(struct scheme *s)\n"
    " put_marks_out:\n \tput(s->marks);\n \ts->marks = NULL;\n"
    "-put_quotas_out:\n+rmdir_put_quotas_out:\n+\tquotas_rm_dirs(s->quotas);\n"
    " \tput(s->quotas);\n \ts->quotas = NULL;\n put_pattern_out:\n"
)
_LABEL_TARGET = (
    b"static int add_dirs(struct scheme *s)\n{\n\tint err;\n\n\terr = set_quotas(s);\n\tif (err)\n"
    b"\t\tgoto put_pattern_out;\n\terr = set_marks(s);\n\tif (err)\n\t\tgoto put_quotas_out;\n"
    b"\terr = set_stats(s);\n\tif (err)\n\t\tgoto put_marks_out;\n\treturn 0;\n\n"
    b"put_marks_out:\n\tput(s->marks);\n\ts->marks = NULL;\nput_quotas_out:\n\tput(s->quotas);\n"
    b"\ts->quotas = NULL;\nput_pattern_out:\n\tput(s->pattern);\n\treturn err;\n}\n"
)


def test_a_jump_to_a_label_another_hunk_of_the_fix_adds_is_placed():
    data = _LABEL_TARGET.replace(b"\terr = set_quotas(s);\n", b"\terr = set_quotas(s); /* 6.1 */\n")
    got = _placed(_mail(_LABEL_FIX), data)
    assert b"\t\tgoto rmdir_put_quotas_out;\n" in got
    assert b"rmdir_put_quotas_out:\n\tquotas_rm_dirs(s->quotas);\n\tput(s->quotas);\n" in got


def test_a_label_added_in_another_function_does_not_count():
    fix = _LABEL_FIX.replace(
        "@@ -14,7 +14,8 @@ static int add_dirs(struct scheme *s)",
        "@@ -14,7 +14,8 @@ static int rm_dirs(struct scheme *s)",
    )
    data = _LABEL_TARGET.replace(b"\terr = set_quotas(s);\n", b"\terr = set_quotas(s); /* 6.1 */\n")
    p = relocate_file(_mail(fix), data, "mm/x.c", tree=lambda n: True)
    assert p.method == "failed"
    assert any("label rmdir_put_quotas_out does not exist" in f.reason for f in p.failures)


def test_a_new_include_goes_after_the_nearest_include_both_files_have():
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,6 +3,7 @@\n"
        " #include <linux/oom.h>\n #include <linux/sched/mm.h>\n #include <linux/ksm.h>\n"
        "+#include <linux/memfd.h>\n \n #include <linux/uaccess.h>\n #include <asm/cacheflush.h>\n"
    )
    data = b"#include <linux/pkeys.h>\n#include <linux/oom.h>\n#include <linux/sched/mm.h>\n\n#include <linux/uaccess.h>\n"
    assert _placed(fix, data, tree=lambda n: True) == data.replace(
        b"sched/mm.h>\n", b"sched/mm.h>\n#include <linux/memfd.h>\n"
    )
    # already included: nothing to add
    have = data + b"#include <linux/memfd.h>\n"
    assert (
        apply_edits(have, list(relocate_file(fix, have, "mm/x.c", tree=lambda n: True).edits))
        == have
    )


def test_a_hunk_that_rewrites_a_definitions_first_line_changes_that_function():
    # the @@ line names the function before; the change makes the next one non-static
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -5,7 +5,7 @@ static int wait_for_pins(struct address_space *m)\n"
        " \treturn error;\n }\n \n"
        "-static unsigned int *seals_ptr(struct file *file)\n+unsigned int *seals_ptr(struct file *file)\n"
        " {\n \tif (shmem_file(file))\n \t\treturn &SHMEM_I(file)->seals;\n"
    )
    data = (
        b"static int wait_for_pins(struct address_space *m)\n{\n\tint error = 0;\n\n\treturn error;\n}\n\n"
        b"static unsigned int *seals_ptr(struct file *file)\n{\n\tif (shmem_file(file))\n"
        b"\t\treturn &SHMEM_I(file)->seals;\n\treturn NULL;\n}\n"
    )
    assert _placed(fix, data) == data.replace(b"static unsigned int *", b"unsigned int *")


def test_a_statement_of_a_later_api_is_written_and_found_the_older_way():
    # vm_flags_clear() (6.3) is `vma->vm_flags &= ~(F);` before it (queries/api-renames.toml)
    from reviewbot.backport.apitable import canonical, older_forms

    assert canonical("vma->vm_flags &= ~(VM_MAYWRITE);") == "vm_flags_clear(vma, VM_MAYWRITE);"
    assert canonical("vmf->vma->vm_flags &= ~VM_WRITE;") == "vm_flags_clear(vmf->vma, VM_WRITE);"
    assert canonical("vma->vm_flags &= ~VM_A | VM_B;") == "vma->vm_flags &= ~VM_A | VM_B;"
    lines = ["\t\tvm_flags_clear(vma, VM_MAYWRITE);"]
    assert older_forms(lines, lambda n: False) == (
        ["\t\tvma->vm_flags &= ~(VM_MAYWRITE);"],
        ["the vm_flags API"],
    )
    assert older_forms(lines, lambda n: n == "vm_flags_clear") == (lines, [])
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,6 +1,6 @@ static int check_write(int seals, struct vm_area_struct *vma)\n"
        " static int check_write(int seals, struct vm_area_struct *vma)\n {\n"
        "-\tif (vma->vm_flags & VM_SHARED)\n-\t\tvm_flags_clear(vma, VM_MAYWRITE);\n"
        "+\tif (sealed(seals))\n+\t\tvm_flags_clear(vma, VM_WRITE);\n"
        " \treturn 0;\n }\n"
    )
    data = (
        b"static int check_write(int seals, struct vm_area_struct *vma)\n{\n"
        b"\tif (vma->vm_flags & VM_SHARED)\n\t\tvma->vm_flags &= ~(VM_MAYWRITE);\n\treturn 0;\n}\n"
    )
    assert _placed(fix, data, tree=lambda n: n != "vm_flags_clear") == data.replace(
        b"\tif (vma->vm_flags & VM_SHARED)\n\t\tvma->vm_flags &= ~(VM_MAYWRITE);\n",
        b"\tif (sealed(seals))\n\t\tvma->vm_flags &= ~(VM_WRITE);\n",
    )


def test_a_new_helper_is_not_put_under_a_config_the_patch_never_shows():
    # the one line both headers have sits inside '#ifdef CONFIG_NUMA' in the older header:
    # above it the helper would only exist with that config
    data = (
        _OLD_HEADER.replace(
            b"#ifdef CONFIG_CONTIG\n", b"#ifdef CONFIG_NUMA\n#ifdef CONFIG_CONTIG\n"
        )
        + b"#endif\n\nint tail(void);\n"
    )
    p = relocate_file(_mail(_NEW_HELPER_FIX), data, "include/linux/x.h", tree=lambda n: True)
    assert p.method == "failed" and p.edits == ()
    guarded = b"#ifndef _X_H\n#define _X_H\n" + _OLD_HEADER + b"#endif /* _X_H */\n"
    p = relocate_file(_mail(_NEW_HELPER_FIX), guarded, "include/linux/x.h", tree=lambda n: True)
    assert p.failures == (), p.failures  # the include guard is no config, nor is a
    # conditional that wraps the rest of the header (#ifdef __KERNEL__)


def test_a_new_include_never_joins_a_conditional_include():
    fix = _mail(
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,6 +3,7 @@\n"
        " #include <linux/oom.h>\n #include <linux/sched/mm.h>\n #include <linux/ksm.h>\n"
        "+#include <linux/memfd.h>\n \n #include <linux/uaccess.h>\n #include <asm/cacheflush.h>\n"
    )
    data = (
        b"#include <linux/oom.h>\n#ifdef CONFIG_NUMA\n#include <linux/sched/mm.h>\n#endif\n\n"
        b"#include <linux/uaccess.h>\nint f(void);\n"
    )
    _refused(fix, data)


def test_a_jump_is_not_rewritten_when_the_same_test_also_jumps_in_the_target():
    # the older function returns err after one `if (err)` and jumps to its own fail: after
    # another: upstream's out: may be that fail:, so no exit is learned
    data = (
        _exit_target("return err;")
        .replace(
            b"\tcommit(c);\n", b"\tcommit(c);\n\terr = flush(c);\n\tif (err)\n\t\tgoto fail;\n"
        )
        .replace(b"\treturn err;\n}\n", b"\treturn err;\nfail:\n\tundo(c);\n\treturn err;\n}\n")
    )
    p = relocate_file(_mail(_EXIT_FIX), data, "mm/x.c", tree=lambda n: True)
    assert p.method == "failed" and "label out does not exist" in p.failures[0].reason


_OPS_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -5,9 +5,17 @@ static int range_walk(pte_t *ptep, unsigned long hmask,\n"
    " #define range_walk\tNULL\n #endif\n \n"
    "+static int test_walk(unsigned long start, unsigned long end,\n+\t\t     struct mm_walk *walk)\n"
    "+{\n+\t/* pages mapped into VM_PFNMAP too */\n+\treturn 0;\n+}\n+\n"
    " static const struct mm_walk_ops poison_walk_ops = {\n"
    " \t.pmd_entry = pte_range,\n \t.hugetlb_entry = range_walk,\n"
    "+\t.test_walk = test_walk,\n"
    " \t.walk_lock = PGWALK_RDLOCK,\n };\n \n"
)
_OPS_TARGET = (
    b"#ifdef CONFIG_HUGETLB_PAGE\nstatic int range_walk(pte_t *ptep, unsigned long hmask)\n{\n"
    b"\treturn 0;\n}\n#else\n#define range_walk\tNULL\n#endif\n\n"
    b"static const struct mm_walk_ops hwp_walk_ops = {\n\t.pmd_entry = pte_range,\n"
    b"\t.hugetlb_entry = range_walk,\n};\n\nint kill(void);\n"
)


def test_a_member_and_its_function_join_the_ops_struct_the_older_file_names_otherwise():
    # the older file calls the initializer hwp_walk_ops and has no .walk_lock: the new
    # function goes above the struct of that type holding upstream's members, the new member
    # after the one before it
    assert _placed(_mail(_OPS_FIX), _OPS_TARGET) == _OPS_TARGET.replace(
        b"#endif\n\nstatic const",
        b"#endif\n\nstatic int test_walk(unsigned long start, unsigned long end,\n"
        b"\t\t     struct mm_walk *walk)\n{\n\t/* pages mapped into VM_PFNMAP too */\n\treturn 0;\n}\n\n"
        b"static const",
    ).replace(
        b"\t.hugetlb_entry = range_walk,\n",
        b"\t.hugetlb_entry = range_walk,\n\t.test_walk = test_walk,\n",
    )


def test_a_member_is_not_guessed_between_two_initializers_of_the_type():
    two = (
        _OPS_TARGET
        + b"\nstatic const struct mm_walk_ops other_ops = {\n\t.pmd_entry = pte_range,\n\t.hugetlb_entry = range_walk,\n};\n"
    )
    _refused(_mail(_OPS_FIX), two)


_SHIFT_H = (
    b"#ifdef CONFIG_HUGE\nstatic inline unsigned order_of(struct hs *h)\n{\n\treturn h->order;\n}\n\n"
    b"static inline unsigned shift_of(struct hs *h)\n{\n\treturn h->order + PAGE_SHIFT;\n}\n\n"
    b"static inline bool is_big(struct hs *h)\n{\n\treturn order_of(h) > MAX_ORDER;\n}\n"
    b"#endif\n"
)
_INDEX_FIX = (
    "--- a/include/linux/x.h\n+++ b/include/linux/x.h\n"
    "@@ -9,6 +9,11 @@ static inline unsigned shift_of(s\n"
    " \treturn h->order + PAGE_SHIFT;\n }\n \n"
    "+static inline unsigned long index_of(struct hs *h, unsigned long a)\n+{\n"
    "+\treturn a >> shift_of(h);\n+}\n+\n"
    " static inline bool order_is_big(unsigned int order)\n {\n \treturn order > MAX_ORDER;\n"
)


def test_a_new_definition_follows_the_function_the_hunk_names_when_the_next_one_is_new():
    # upstream's next function (order_is_big) came later; the context before the change is the
    # end of shift_of() in both trees: the new function goes right after it, in its #ifdef
    got = _placed(_mail(_INDEX_FIX), _SHIFT_H, "include/linux/x.h")
    assert got == _SHIFT_H.replace(
        b"PAGE_SHIFT;\n}\n\n",
        b"PAGE_SHIFT;\n}\n\nstatic inline unsigned long index_of(struct hs *h, unsigned long a)\n"
        b"{\n\treturn a >> shift_of(h);\n}\n\n",
    )


def test_a_new_definition_is_refused_when_the_named_functions_end_differs():
    other = _SHIFT_H.replace(b"h->order + PAGE_SHIFT;", b"PAGE_SHIFT + h->order;")
    _refused(_mail(_INDEX_FIX), other, "include/linux/x.h")


_APPLY = (
    b"static int apply_params(void)\n{\n\tunsigned int hot, cold;\n\tint err = 0;\n\n"
    b"\terr = set_attrs(ctx, &mon_attrs);\n\tif (err)\n\t\treturn err;\n\n"
    b"\terr = set_quota(ctx, hot, cold);\n\tif (err)\n\t\treturn err;\n\treturn 0;\n}\n"
)
_INTERVAL_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -8,6 +8,9 @@ static int apply_params(void)\n"
    " \tif (err)\n \t\treturn err;\n \n"
    "+\tif (!mon_attrs.sample_interval)\n+\t\treturn -EINVAL;\n+\n"
    " \terr = set_attrs(ctx, &mon_attrs);\n \tif (err)\n \t\treturn err;\n"
)


def test_a_change_after_an_error_check_of_code_the_target_lacks_goes_above_its_first_code():
    # upstream's change follows `if (err) return err;` of a call the older function does not
    # make; the statement after it is where the target's code starts: right above it
    got = _placed(_mail(_INTERVAL_FIX), _APPLY)
    assert got == _APPLY.replace(
        b"\terr = set_attrs(",
        b"\tif (!mon_attrs.sample_interval)\n\t\treturn -EINVAL;\n\n\terr = set_attrs(",
    )


def test_a_change_after_an_error_check_is_refused_when_code_precedes_the_anchor():
    # the target does something before that statement: above or below it is a guess
    data = _APPLY.replace(b"\terr = set_attrs(", b"\tlock_ctx(ctx);\n\terr = set_attrs(")
    _refused(_mail(_INTERVAL_FIX), data)


TWO_FUNCTIONS = (
    b"static void keep(struct page *page)\n{\n\tstruct folio *folio = page_folio(page);\n\n"
    b"\tfolio_get(folio);\n}\n\n"
    b"static void restore(struct hstate *h, struct page *page)\n{\n"
    b"\tif (!h->surplus && private_lock(h) &&\n\t    folio_test_anon(page_folio(page)))\n"
    b"\t\tset_restore(page_folio(page));\n}\n"
)
FOLIO_LOCAL_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -9,4 +9,5 @@ static void restore(struct hstate *h, struct page *page)\n"
    " {\n"
    " \tif (!h->surplus && private_lock(h) &&\n"
    "+\t    !folio_mapped(folio) &&\n"
    " \t    folio_test_anon(page_folio(page)))\n"
    " \t\tset_restore(page_folio(page));\n"
)


def test_a_local_only_other_functions_declare_is_refused():
    # `folio` is a local of keep(), not of restore(): the added line would not compile there,
    # although the file uses the name
    reason = _refused(_mail(FOLIO_LOCAL_FIX), TWO_FUNCTIONS).failures[0].reason
    assert "folio is not declared in restore()" in reason


def test_the_same_line_places_where_the_function_declares_the_local():
    own = TWO_FUNCTIONS.replace(
        b"struct page *page)\n{\n\tif", b"struct page *page)\n{\n\tstruct folio *folio;\n\n\tif"
    )
    fix = FOLIO_LOCAL_FIX.replace("@@ -9,4 +9,5 @@", "@@ -11,4 +11,5 @@").replace(
        " {\n \tif", " \n \tif"
    )
    assert b"\t    !folio_mapped(folio) &&\n" in _placed(_mail(fix), own)


def test_a_parameter_the_fix_adds_may_be_used_by_its_other_hunks():
    # keep() has a local `changing`; restore() gets it as a new parameter in hunk #1 and
    # uses it in hunk #2: the fix declares it, so it is restore()'s own
    target = TWO_FUNCTIONS.replace(b"struct folio *folio = page_folio(page);", b"int changing;")
    fix = (
        "--- a/mm/x.c\n+++ b/mm/x.c\n"
        "@@ -8,3 +8,4 @@ static void keep(struct page *page)\n"
        " static void restore(struct hstate *h, struct page *page,\n"
        "+\t\t    int changing,\n"
        " \t\t    bool wp)\n"
        " {\n"
        "@@ -12,3 +13,4 @@ static void restore(struct hstate *h, struct page *page,\n"
        " \t    folio_test_anon(page_folio(page)))\n"
        " \t\tset_restore(page_folio(page));\n"
        "+\tWARN_ON(changing);\n"
        " }\n"
    )
    target = target.replace(
        b"static void restore(struct hstate *h, struct page *page)\n",
        b"static void restore(struct hstate *h, struct page *page,\n\t\t    bool wp)\n",
    )
    got = _placed(_mail(fix), target)
    assert b"\t\t    int changing,\n\t\t    bool wp)\n{\n" in got
    assert b"\t\tset_restore(page_folio(page));\n\tWARN_ON(changing);\n}\n" in got


LOOPS = (
    b"int move_tables(struct vma *vma, unsigned long old, unsigned long end)\n{\n"
    b"\tunsigned long sz = PMD_SIZE;\n\n"
    b"\tfor (; old < end; old += sz) {\n"
    b"\t\tsrc = old_offset(mm, old, sz);\n"
    b"\t\tif (!src)\n\t\t\tcontinue;\n"
    b"\t}\n"
    b"\treturn 0;\n}\n"
)
LOOP_START_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -4,4 +4,6 @@ int move_tables(struct vma *vma, unsigned long old, unsigned long end)\n"
    " \n"
    " \tfor (; old < end; old += sz) {\n"
    "+\t\tconst unsigned long last = (old | mask) - old;\n"
    "+\n"
    " \t\tsrc = walk_table(vma, old, sz);\n"
    " \t\tif (!src)\n"
)


def test_a_change_opening_a_block_goes_first_in_the_one_block_whose_owner_matches():
    # the statement after it is written with another API in the older tree (walk_table() is
    # old_offset() there): the loop head both trees share places it
    got = _placed(_mail(LOOP_START_FIX), LOOPS)
    assert (
        b"old += sz) {\n\t\tconst unsigned long last = (old | mask) - old;\n\n\t\tsrc = old_" in got
    )


def test_two_blocks_with_that_owner_refuse():
    twice = LOOPS.replace(
        b"\treturn 0;\n}", b"\tfor (; old < end; old += sz) {\n\t\tkick(old);\n\t}\n\treturn 0;\n}"
    )
    _refused(_mail(LOOP_START_FIX), twice)


SPLIT_TARGET = (
    b"static struct scheme *new_scheme(void)\n{\n\treturn make_scheme(&marks);\n}\n\n"
    b"static int apply_parameters(void)\n{\n\tstruct scheme *scheme;\n\tint err = 0;\n\n"
    b"\terr = set_attrs(ctx);\n\treturn err;\n}\n"
)
SPLIT_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -3,9 +3,14 @@ static struct scheme *new_scheme(void)\n"
    " \treturn make_scheme(&marks);\n"
    " }\n"
    " \n"
    "+static void copy_status(struct scheme *dst, struct scheme *src)\n"
    "+{\n"
    "+\tdst->charged = src->charged;\n"
    "+}\n"
    "+\n"
    " static int apply_parameters(void)\n"
    " {\n"
    "-\tstruct scheme *scheme;\n"
    "+\tstruct scheme *scheme, *old;\n"
    " \tstruct filter *filter;\n"
    " \tint err = 0;\n"
    " \n"
)


def test_a_hunk_changing_two_functions_places_each_change_on_its_own():
    # the older apply_parameters() has no `filter` local: the hunk does not apply as it is,
    # but its new function goes after new_scheme() and its declaration change in place
    got = _placed(_mail(SPLIT_FIX), SPLIT_TARGET)
    assert got == SPLIT_TARGET.replace(
        b"}\n\nstatic int apply",
        b"}\n\nstatic void copy_status(struct scheme *dst, struct scheme *src)\n{\n"
        b"\tdst->charged = src->charged;\n}\n\nstatic int apply",
    ).replace(b"\tstruct scheme *scheme;\n", b"\tstruct scheme *scheme, *old;\n")


def test_split_at_definitions_keeps_the_line_counts():
    from reviewbot.backport.targetfn import split_at_definitions

    (h,) = _mail(SPLIT_FIX).hunks
    first, second = split_at_definitions(h)
    assert (first.source_start, first.source_length, first.target_length) == (3, 3, 8)
    assert (second.source_start, second.source_length) == (6, 6)
    assert (second.target_start, second.target_length) == (11, 6)
    assert first.lines + second.lines == h.lines
    assert second.section == "static int apply_parameters(void)"


APPLY = (
    b"static int apply(void)\n{\n\tstruct scheme *scheme;\n\tint err = 0;\n\n"
    b"\terr = set_attrs(ctx);\n\tif (err)\n\t\treturn err;\n\n"
    b"\tscheme = new_scheme();\n\tif (!scheme)\n\t\treturn -ENOMEM;\n"
    b"\tset_schemes(ctx, &scheme, 1);\n\treturn 0;\n}\n"
)
APPLY_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -10,5 +10,8 @@ static int apply(void)\n"
    " \tscheme = new_scheme();\n"
    " \tif (!scheme)\n"
    " \t\treturn -ENOMEM;\n"
    "+\tif (!list_empty(&ctx->schemes))\n"
    "+\t\tcopy_status(scheme, ctx);\n"
    "+\n"
    " \tif (skip_anon) {\n"
    " \t\tfilter = new_filter(ANON, true);\n"
)


def test_a_test_of_a_flag_the_tree_lacks_is_not_the_targets_error_check():
    # `if (skip_anon) {` (a parameter 6.1 lacks) is not `if (err) return err;` renamed: the
    # statement after the change is absent from the target, the one before anchors it
    got = _placed(_mail(APPLY_FIX), APPLY, tree=lambda n: n != "skip_anon")
    assert (
        b"\t\treturn -ENOMEM;\n\tif (!list_empty(&ctx->schemes))\n\t\tcopy_status(scheme, ctx);\n"
        in got
    )


def test_added_lines_after_a_reworded_comment_are_still_read_as_code():
    # a group's added lines: the end of a reworded comment (its `*/` is a context line the
    # group does not hold), then code; the code's names are checked all the same
    from reviewbot.backport.known import Known
    from reviewbot.backport.symbols import unknown_symbols

    known = Known(
        frozenset({"folio", "page", "vma"}),
        frozenset(),
        frozenset(),
        frozenset({"folio_put"}),
        frozenset(),
    )
    lines = [
        "\t\t\t * drop the folio refcount. The folio won't be freed, as",
        "\t\t\t * we took a reference just above.",
        "\t\t\tfolio_remove_rmap_pte(folio, page, vma);",
        "\t\t\tfolio_put(folio);",
    ]
    assert unknown_symbols(lines, known) == (["folio_remove_rmap_pte"], [])


def test_new_parameters_come_only_from_a_declarator_the_hunk_shows():
    from reviewbot.backport.decls import new_parameters

    body = [
        ("+", "\t\t\tfolio_remove_rmap_pte(folio, page, vma);"),
        (" ", "\t\tif (pte_present(pte))"),
    ]
    assert new_parameters(body) == set()
    opened = [(" ", "}"), (" ", ""), (" ", "static int f(int a,"), ("+", "\t\t int b)"), (" ", "{")]
    assert new_parameters(opened) == {"b"}


UNDER_CALLER_LOCK = (
    b"static int migrate(struct mm_struct *mm, int dest)\n{\n\tstruct vm_area_struct *vma;\n\n"
    b"\tvma = find_vma(mm, 0);\n\tqueue_range(mm, vma->vm_start, dest);\n\treturn 0;\n}\n"
)
EARLY_UNLOCK_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -5,4 +5,8 @@ static int migrate(struct mm_struct *mm, int dest)\n"
    " \n"
    " \tmmap_read_lock(mm);\n"
    " \tvma = find_vma(mm, 0);\n"
    "+\tif (unlikely(!vma)) {\n"
    "+\t\tmmap_read_unlock(mm);\n"
    "+\t\treturn 0;\n"
    "+\t}\n"
    " \tqueue_range(mm, vma->vm_start, dest);\n"
)


def test_a_release_of_a_lock_the_older_function_never_takes_is_left_out():
    # upstream's function takes the mmap lock itself; the older one runs under its caller's:
    # the early return must not unlock (queries/lock-pairs.toml). The release goes, and the
    # braces of the block it leaves with one statement (as stable wrote 6.1's migrate_to_node)
    p = relocate_file(_mail(EARLY_UNLOCK_FIX), UNDER_CALLER_LOCK, "mm/x.c", tree=lambda n: True)
    assert p.ok, p.failures
    got = apply_edits(UNDER_CALLER_LOCK, list(p.edits))
    assert b"\tvma = find_vma(mm, 0);\n\tif (unlikely(!vma))\n\t\treturn 0;\n\tqueue_range" in got
    assert b"mmap_read_unlock" not in got
    assert any("without mmap_read_unlock(mm)" in r for r in p.rewrites)
    assert any("left out mmap_read_unlock(mm)" in w for w in p.warnings)


def test_a_release_inside_another_statement_is_refused():
    fix = EARLY_UNLOCK_FIX.replace(
        "+\t\tmmap_read_unlock(mm);\n+\t\treturn 0;\n", "+\t\treturn mmap_read_unlock(mm), 0;\n"
    ).replace("+5,8", "+5,7")
    reason = _refused(_mail(fix), UNDER_CALLER_LOCK).failures[0].reason
    assert "releases mmap_read_unlock(mm), which upstream takes before it" in reason


def test_an_unpaired_release_keeps_the_braces_of_a_block_with_two_statements():
    fix = EARLY_UNLOCK_FIX.replace(
        "+\t\treturn 0;\n", "+\t\tcount_fail();\n+\t\treturn 0;\n"
    ).replace("+5,8", "+5,9")
    p = relocate_file(_mail(fix), UNDER_CALLER_LOCK, "mm/x.c", tree=lambda n: True)
    assert p.ok, p.failures
    got = apply_edits(UNDER_CALLER_LOCK, list(p.edits))
    assert b"\tif (unlikely(!vma)) {\n\t\tcount_fail();\n\t\treturn 0;\n\t}\n" in got


def test_the_same_release_places_where_the_function_takes_the_lock():
    taking = UNDER_CALLER_LOCK.replace(
        b"\tvma = find_vma", b"\tmmap_read_lock(mm);\n\tvma = find_vma"
    ).replace(b"\treturn 0;\n}", b"\tmmap_read_unlock(mm);\n\treturn 0;\n}")
    got = _placed(_mail(EARLY_UNLOCK_FIX), taking)
    assert b"\tif (unlikely(!vma)) {\n\t\tmmap_read_unlock(mm);\n\t\treturn 0;\n\t}\n" in got


def test_a_fix_partly_present_is_placed_with_a_warning():
    # hunk #1's line is already in the target (an earlier partial backport), hunk #2's is not
    target = b"int f(int a)\n{\n\tcheck(a);\n\tuse(a);\n\treturn a;\n}\n"
    fix = (
        "--- a/mm/x.c\n+++ b/mm/x.c\n"
        "@@ -1,3 +1,4 @@\n int f(int a)\n {\n+\tcheck(a);\n \tuse(a);\n"
        "@@ -4,2 +5,3 @@ int f(int a)\n \treturn a;\n+\t/* done */\n }\n"
    )
    p = relocate_file(_mail(fix), target, "mm/x.c", tree=lambda n: True)
    assert p.failures == () and p.edits
    assert any("1 of the fix's hunks are already in mm/x.c" in w for w in p.warnings), p.warnings


SYSCALLS = (
    b"static int helper(unsigned long start)\n{\n\tunsigned long len = start;\n\n\treturn len;\n}\n\n"
    b"SYSCALL_DEFINE3(remap_pages, unsigned long, start, unsigned long, size,\n"
    b"\t\tunsigned long, flags)\n{\n\tstruct vm_area_struct *vma;\n\tlong ret = -EINVAL;\n\n"
    b"\tvma = vma_lookup(mm, start);\n\tif (!vma)\n\t\tgoto out;\n\tret = remap(vma, size);\n"
    b"out:\n\treturn ret;\n}\n"
)
SYSCALL_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -12,5 +12,7 @@ SYSCALL_DEFINE3(remap_pages, unsigned long, start, unsigned long, size,\n"
    " \tvma = vma_lookup(mm, start);\n"
    " \tif (!vma)\n"
    " \t\tgoto out;\n"
    "+\tif (start + size > vma->vm_end)\n"
    "+\t\tgoto out;\n"
    " \tret = remap(vma, size);\n"
    " out:\n"
)


def test_a_system_call_is_a_function_named_by_its_macro():
    from reviewbot.ctree import syntax

    unit = syntax.parse(SYSCALLS, "mm/x.c")
    (fn,) = unit.functions["remap_pages"]
    assert (fn.start_line, fn.end_line) == (10, 20)
    assert syntax.syscall_params(fn.body) == ["start", "size", "flags"]


def test_a_change_inside_a_system_call_places_with_its_labels_and_parameters():
    # the target's lines moved down: the change goes inside remap_pages(), whose `out:` label
    # and parameters (start, size: helper() has a local `start` too) are its own
    moved = SYSCALLS.replace(b"static int helper", b"/* moved */\n\nstatic int helper")
    got = _placed(_mail(SYSCALL_FIX), moved)
    assert b"\t\tgoto out;\n\tif (start + size > vma->vm_end)\n\t\tgoto out;\n\tret = remap(" in got


def test_a_missing_label_outside_any_known_function_is_said_without_a_name():
    from reviewbot.backport.known import Known
    from reviewbot.backport.symbols import symbols_ok
    from reviewbot.diffs.mailfmt import Edit

    empty = frozenset()
    failures: list = []
    known = Known(empty, empty, empty, empty, empty)
    assert not symbols_ok([Edit(0, 0, ("\tgoto out;",))], known, 2, None, "v6.1", failures, [])
    assert failures[0].reason == (
        "hunk #2: label out does not exist in the function the hunk places in at v6.1"
    )


TYPO_TARGET = (
    b"void unmap_range(struct tlb *tlb)\n{\n\tend_vma(tlb);\n\n\t/*\n"
    b"\t * If we unshared PMDs, the TLB flush was not recorded in the gather. We could\n"
    b"\t * defer the flush until now, since the last refernece would not be dropped.\n"
    b"\t */\n\tif (force_flush)\n\t\tflush_tlb(tlb);\n}\n"
)
TYPO_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -20,7 +20,5 @@ void unmap_range(struct tlb *tlb)\n"
    " \n"
    " \t/*\n"
    "-\t * If we unshared PMDs, the TLB flush was not recorded in the gather. We\n"
    "-\t * could defer the flush until now, since the last reference would not\n"
    "-\t * be dropped.\n"
    "+\t * Nothing protects a previously-shared page table: flush the TLB now.\n"
    " \t */\n"
    " \tif (force_flush)\n"
)


def test_a_reworded_comment_matches_an_older_one_with_one_misspelt_word():
    # the older tree spells "refernece" and wraps otherwise: still the comment upstream rewrites
    got = _placed(_mail(TYPO_FIX), TYPO_TARGET)
    assert (
        b"\t/*\n\t * Nothing protects a previously-shared page table: flush the TLB now.\n\t */\n"
        in got
    )
    # two words that differ are another comment
    _refused(_mail(TYPO_FIX), TYPO_TARGET.replace(b"the gather", b"the gaather"))


def test_tokens_a_change_removes_at_the_end_of_a_head_leave_no_blank_behind():
    # upstream `if (page_count(p) > 1) {` -> `if (shared(p)) {`; the older head has no brace
    # (one statement): the condition changes there, without a blank before the `)`
    target = (
        b"int f(int *p)\n{\n\tfor (;;) {\n\t\tx();\n\n\t\t/* a comment */\n"
        b"\t\tif (page_count(p) > 1)\n\t\t\tcontinue;\n\n\t\ty();\n\t}\n}\n"
    )
    fix = (
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -4,9 +4,9 @@ int f(int *p)\n \t\tx();\n \n"
        " \t\t/* a comment */\n-\t\tif (page_count(p) > 1) {\n+\t\tif (shared(p)) {\n"
        " \t\t\taddr |= mask;\n \t\t\tcontinue;\n \t\t}\n \n \t\ty();\n"
    )
    p = relocate_file(_mail(fix), target, "mm/x.c", tree=lambda n: True)
    assert p.ok, p.failures
    got = apply_edits(target, list(p.edits))
    assert b"\t\tif (shared(p))\n\t\t\tcontinue;\n" in got


def test_a_rewritten_comment_and_the_head_below_it_are_found_one_by_one():
    # one run rewrites a comment and an `if` head; the older tree has the same comment and a
    # head without its brace: the comment and the head change there each on its own
    target = (
        b"int f(int *p)\n{\n\tfor (;;) {\n\t\tx();\n\n\t\t/*\n\t\t * old comment\n\t\t */\n"
        b"\t\tif (page_count(p) > 1)\n\t\t\tcontinue;\n\n\t\ty();\n\t}\n}\n"
    )
    fix = (
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -4,11 +4,10 @@ int f(int *p)\n \t\tx();\n \n"
        "-\t\t/*\n-\t\t * old comment\n-\t\t */\n-\t\tif (page_count(p) > 1) {\n"
        "+#ifdef CONFIG_SHARE\n+\t\t/* new comment */\n+\t\tif (shared(p)) {\n"
        " \t\t\taddr |= mask;\n \t\t\tcontinue;\n \t\t}\n \n \t\ty();\n"
    )
    p = relocate_file(_mail(fix), target, "mm/x.c", tree=lambda n: True)
    assert p.ok, p.failures
    got = apply_edits(target, list(p.edits))
    want = b"\t\tx();\n\n#ifdef CONFIG_SHARE\n\t\t/* new comment */\n\t\tif (shared(p))\n\t\t\tcontinue;\n"
    assert want in got
    # a comment the older tree does not have is not "found" by the split
    other = target.replace(b"old comment", b"another note on sharing")
    assert not relocate_file(_mail(fix), other, "mm/x.c", tree=lambda n: True).ok


def test_groups_keep_a_run_whole_unless_both_sides_lead_with_a_comment():
    from reviewbot.backport.places import groups
    from reviewbot.diffs.patches import Hunk

    def runs(lines):
        h = Hunk(1, 0, 1, 0, "", tuple(lines))
        return [(g.pre, g.removed, g.added) for g in groups(h)]

    both = [("-", "\t/* a */"), ("-", "\tx();"), ("+", "\t/* b */"), ("+", "\ty();")]
    assert runs(both) == [(0, ["\t/* a */"], ["\t/* b */"]), (1, ["\tx();"], ["\ty();"])]
    code_only = [("-", "\t/* a */"), ("-", "\tx();"), ("+", "\ty();")]
    assert runs(code_only) == [(0, ["\t/* a */", "\tx();"], ["\ty();"])]
    open_comment = [("-", "\t/* a"), ("-", "\tx();"), ("+", "\t/* b */"), ("+", "\ty();")]
    assert len(runs(open_comment)) == 1


def test_a_scoped_guard_block_parses_as_the_kernel_writes_it():
    # `scoped_guard(spinlock, &lock) { ... }` (<linux/cleanup.h>): tree-sitter wants a `;`
    # after the macro call; like `list_for_each_entry(...) {` that is no parse error
    from reviewbot.ctree import syntax

    src = (
        b"static unsigned long scan(void)\n{\n\tstruct page *zero;\n\n"
        b"\tscoped_guard(spinlock, &zero_lock) {\n\t\tif (!take())\n\t\t\treturn 0;\n"
        b"\t\tzero = huge_zero;\n\t}\n\treturn put(zero);\n}\n"
    )
    unit = syntax.parse(src, "mm/x.c")
    fn = unit.function("scan")
    assert fn is not None and unit.errors_in(fn.node) == []
    # a call of another name before a block is still an error
    other = syntax.parse(src.replace(b"scoped_guard", b"guarded_by"), "mm/x.c")
    assert other.errors_in(other.function("scan").node) != []


_UNPOISON = (
    b"int unpoison(unsigned long pfn)\n{\n\tstruct page *page;\n\tstruct page *p;\n"
    b"\tint ret = -EBUSY;\n\n\tp = pfn_to_page(pfn);\n\tpage = compound_head(p);\n\n"
    b"\tif (!PageHWPoison(p))\n\t\tgoto unlock;\n\tret = 0;\nunlock:\n\treturn ret;\n}\n"
)


def _zero_folio_fix(cond: str = "is_huge_zero_folio(folio)") -> str:
    return (
        "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -9,4 +9,9 @@ int unpoison(unsigned long pfn)\n"
        " \n"
        f"+\tif ({cond}) {{\n+\t\tret = -EOPNOTSUPP;\n+\t\tgoto unlock;\n+\t}}\n+\n"
        " \tif (!PageHWPoison(p))\n \t\tgoto unlock;\n \tret = 0;\n"
    )


def test_upstream_s_folio_is_the_head_page_of_an_older_function():
    # 6.1's unpoison_memory() has `page = compound_head(p)` where upstream has
    # `folio = page_folio(p)`: a folio call of the API table on it is the page helper on page
    has = {"is_huge_zero_page", "PageHWPoison", "compound_head", "EOPNOTSUPP"}.__contains__
    p = relocate_file(_mail(_zero_folio_fix()), _UNPOISON, "mm/x.c", tree=has)
    assert p.ok, p.failures
    got = apply_edits(_UNPOISON, list(p.edits))
    assert b"\tif (is_huge_zero_page(page)) {\n\t\tret = -EOPNOTSUPP;\n" in got
    assert ("is_huge_zero_folio()", "is_huge_zero_page()") in p.renames


def test_a_folio_use_no_page_helper_spells_keeps_the_change_refused():
    has = {"is_huge_zero_page", "PageHWPoison", "compound_head", "EOPNOTSUPP"}.__contains__
    # a folio call the table has no page helper for: the folio stays, and is not declared
    fix = _zero_folio_fix("is_huge_zero_folio(folio) || folio_test_foo(folio)")
    assert not relocate_file(_mail(fix), _UNPOISON, "mm/x.c", tree=has).ok
    # two locals set to a head page: which one upstream's folio is, is not known
    two = _UNPOISON.replace(b"\tint ret", b"\tstruct page *hpage = compound_head(p);\n\tint ret")
    fix = _zero_folio_fix().replace("@@ -9,4 +9,9 @@", "@@ -10,4 +10,9 @@")
    assert not relocate_file(_mail(fix), two, "mm/x.c", tree=has).ok
