"""Statement alignment: token comparison, renames, learned rewrites, fragments."""

from __future__ import annotations

import pytest

from reviewbot.backport import align, statements
from reviewbot.backport.known import Known, known_for, related_names, valid_rename
from reviewbot.backport.rewrites import page_wrappers, transform
from reviewbot.ctree import syntax


def known(target_fn: str, up_fn: str | None = None, tree=None) -> Known:
    unit = syntax.parse(target_fn.encode())
    fn = next(iter(unit.functions.values()))[0]
    up = None
    if up_fn is not None:
        up = next(iter(syntax.parse(up_fn.encode()).functions.values()))[0].node
    return known_for(unit, fn.node, up, tree)


def stmt(src: str) -> align.Item:
    side = statements.fragment(src.split("\n"))
    return statements.fragment_block(side).code_items()[0]


def test_fragment_closes_braces_and_marks_cut_statements():
    side = statements.fragment(
        [
            "\t\t\tresult = SCAN_PTE_NON_PRESENT;",
            "\t\t\tgoto out;",
            "\t\t}",
            "\t\tpage = vm_normal_page(vma, address, pteval);",
            "\t\tif (unlikely(!page)) {",
            "\t\t\tresult = SCAN_PAGE_NULL;",
        ]
    )
    items = statements.fragment_block(side).code_items()
    assert [(i.kind, i.cut_start, i.cut_end) for i in items] == [
        ("compound_statement", True, False),
        ("expression_statement", False, False),
        ("if_statement", False, True),
    ]
    assert statements.texts(items[0].code) == (
        "result",
        "=",
        "SCAN_PTE_NON_PRESENT",
        ";",
        "goto",
        "out",
        ";",
        "}",
    )
    assert (items[1].start, items[1].end) == (3, 3)


LOCAL = """static int f(struct vm_area_struct *vma, unsigned long address, pte_t *pte)
{
\tpage = vm_normal_page(vma, address, pteval);
\treturn 0;
}
"""


def test_rename_to_the_target_functions_own_declaration():
    k = known(LOCAL)
    m = align.compare_tokens(
        stmt("page = vm_normal_page(vma, addr, pteval);").code,
        stmt("page = vm_normal_page(vma, address, pteval);").code,
        k,
    )
    assert m.level == align.RENAMED and m.renames == (("id", "addr", "address"),)


@pytest.mark.parametrize(
    "kind, u, t, ok",
    [
        ("id", "addr", "address", True),  # address is the target function's parameter
        ("id", "vma", "address", False),  # vma exists in the target function: never renamed
        ("id", "SCAN_PTE_UFFD_WP", "SCAN_PTE_NON_PRESENT", False),  # unrelated constants
        (
            "id",
            "hpage_collapse_test_exit",
            "khugepaged_test_exit",
            True,
        ),  # shared tail: a renamed function
        ("id", "pte_uffd_wp", "pte_present", False),  # different predicates
        ("label", "out_unmap", "out", True),
    ],
)
def test_rename_validity(kind, u, t, ok):
    target = LOCAL.replace(
        "return 0;",
        "if (khugepaged_test_exit(mm) || pte_present(x) || SCAN_PTE_NON_PRESENT) goto out;\nout:\n\treturn 0;",
    )
    assert valid_rename(kind, u, t, known(target)) is ok


def test_a_name_the_target_tree_still_has_is_not_a_rename():
    target = LOCAL.replace("return 0;", "return khugepaged_test_exit(mm);")
    k = known(target, tree=lambda name: name == "hpage_collapse_test_exit")
    assert not valid_rename("id", "hpage_collapse_test_exit", "khugepaged_test_exit", k)


def test_rewrite_is_learned_by_anti_unification():
    u = stmt("if (mmap_write_trylock(mm)) {").cond
    t = stmt("if (down_write_trylock(&mm->mmap_sem)) {").cond
    m = align.rewrite_match(u, t, known(LOCAL))
    assert m.level == align.REWRITTEN
    (r,) = m.rewrites
    assert r.show() == "mmap_write_trylock(X) -> down_write_trylock(&X->mmap_sem)"
    out = transform(["\t\t\tmmap_write_trylock(vma->vm_mm);"], {}, [r], {})
    assert out.lines == ("\t\t\tdown_write_trylock(&vma->vm_mm->mmap_sem);",)


@pytest.mark.parametrize(
    "u, t",
    [
        (
            "if (pte_uffd_wp(pteval)) {",
            "if (!pte_present(pteval)) {",
        ),  # a negation is logic, not an API
        (
            "if (mmap_write_trylock(mm)) {",
            "if ((cc->is_khugepaged || is_target) && mmap_write_trylock(mm)) {",
        ),  # extension
        (
            "if (unlikely(!referenced)) {",
            "if (likely(writable)) {",
        ),  # the arguments change entirely
    ],
)
def test_semantic_changes_are_not_rewrites(u, t):
    assert not align.rewrite_match(stmt(u).cond, stmt(t).cond, known(LOCAL)).ok


def test_ptep_get_versus_dereference_is_a_rewrite():
    m = align.compare_items(
        stmt("pte_t pteval = ptep_get(_pte);"), stmt("pte_t pteval = *_pte;"), known(LOCAL)
    )
    assert m.level == align.REWRITTEN and m.rewrites[0].show() == "ptep_get(X) -> *X"


def test_heads_match_when_bodies_differ():
    u = stmt("if (!khugepaged_test_exit(mm))\n\tcollapse_and_free_pmd(mm, vma, addr, pmd);")
    t = stmt("if (!khugepaged_test_exit(mm)) {\n\tspinlock_t *ptl = pmd_lock(mm, pmd);\n}")
    assert align.compare_items(u, t, known(LOCAL)).level == align.HEAD


def test_conflicting_evidence_is_dropped():
    ev = align.Evidence()
    ev.renames += [
        ("id", "addr", "address"),
        ("id", "addr", "haddr"),
        ("id", "start_addr", "address"),
    ]
    renames, _, conflicts = ev.resolve()
    assert renames == {("id", "start_addr"): "address"}
    assert "addr" in conflicts


def test_transform_renames_code_and_function_names_in_comments():
    out = transform(
        [
            "\t/* See collapse_scan_pmd(); addr stays */",
            "\tif (addr < vma->vm_start)",
            "\t\tgoto out;",
        ],
        {("id", "addr"): "address", ("label", "out"): "out_unmap"},
        [],
        {"collapse_scan_pmd": "khugepaged_scan_pmd"},
    )
    assert out.lines == (
        "\t/* See khugepaged_scan_pmd(); addr stays */",
        "\tif (address < vma->vm_start)",
        "\t\tgoto out_unmap;",
    )
    assert set(out.renames) == {
        ("addr", "address"),
        ("out", "out_unmap"),
        ("collapse_scan_pmd", "khugepaged_scan_pmd"),
    }


def test_related_names():
    assert related_names("collapse_scan_pmd", "khugepaged_scan_pmd")
    assert related_names("pte_uffd", "pte_uffd_wp")
    assert not related_names("folio_test_large", "PageCompound")


def test_a_field_read_the_target_keeps_in_a_local_is_a_rewrite():
    target = LOCAL.replace("{\n", "{\n\tstruct mm_struct *mm = vma->vm_mm;\n", 1)
    m = align.compare_items(
        stmt("referenced += mmu_notifier_test_young(vma->vm_mm, address);"),
        stmt("referenced += mmu_notifier_test_young(mm, address);"),
        known(target),
    )
    assert m.level == align.REWRITTEN
    (r,) = m.rewrites
    assert r.show() == "vma->vm_mm -> mm"
    assert transform(["\tmmap_assert_locked(vma->vm_mm);"], {}, [r], {}).lines == (
        "\tmmap_assert_locked(mm);",
    )
    # without a local mm the same difference is no rewrite
    assert not align.compare_items(stmt("x(vma->vm_mm);"), stmt("x(mm);"), known(LOCAL)).ok


@pytest.mark.parametrize(
    "line, have, want",
    [
        ("\tfolio_unlock(page_folio(page));", {"unlock_page"}, "\tunlock_page(page);"),
        # the tree lacks the page helper: left as it is (valid, if not how stable writes it)
        ("\tfolio_unlock(page_folio(page));", set(), "\tfolio_unlock(page_folio(page));"),
        # two arguments: the page helper may order them otherwise
        (
            "\tfolio_add_lru_vma(page_folio(page), vma);",
            {"lru_cache_add_inactive_or_unevictable"},
            "\tfolio_add_lru_vma(page_folio(page), vma);",
        ),
        # a folio that is not page_folio() of something stays a folio call
        ("\tfolio_put(folio);", {"put_page"}, "\tfolio_put(folio);"),
    ],
)
def test_a_folio_call_on_page_folio_is_the_page_helper(line, have, want):
    assert page_wrappers([line], have.__contains__)[0] == [want]
