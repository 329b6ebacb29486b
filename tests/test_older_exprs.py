"""Later helpers an older tree lacks, written as the expressions they stand for
(``queries/api-renames.toml``, expression forms), and fixes that replace a whole body."""

from __future__ import annotations

from reviewbot.backport.apitable import api_exprs
from reviewbot.backport.relocate import relocate_file
from reviewbot.backport.rewrites import older_exprs
from reviewbot.diffs.mailfmt import apply_edits
from reviewbot.diffs.patches import read_mail

OLD_TREE = {"atomic_read", "virt_to_page", "pt_share_count"}  # no ptdesc helpers (before 6.5)


def _old(name: str) -> bool:
    return name in OLD_TREE


def _mail(diff: str):
    text = "From: A <a@example.org>\nSubject: [PATCH] x\n\nbody\n---\n" + diff
    return read_mail(text.encode()).files[0]


def test_the_table_forms_name_one_later_helper_each():
    forms = api_exprs()
    assert {"ptdesc_pmd_is_shared", "ptdesc_pmd_pts_count", "virt_to_ptdesc"} <= set(forms)
    for name, f in forms.items():
        assert f.new == f"{name}({', '.join(f.params)})" and f.params and f.since and f.api
        assert all(v in f.old for v in f.params)


def test_a_helper_is_spelled_older_until_the_tree_has_every_name():
    lines = [
        "\tif (!ptdesc_pmd_is_shared(virt_to_ptdesc(ptep)))",
        "\t\treturn 0;",
        "\ttlb_flush_pmd_table(tlb, virt_to_ptdesc(ptep), addr);",
    ]
    assert older_exprs(lines, _old) == (
        [
            "\tif (!atomic_read(&virt_to_page(ptep)->pt_share_count))",
            "\t\treturn 0;",
            "\ttlb_flush_pmd_table(tlb, virt_to_page(ptep), addr);",
        ],
        ["the ptdesc API"],
    )
    # a tree with the count helper (6.13 to 6.16) stops there; one with every helper keeps all
    mid = older_exprs(lines[:1], lambda n: n in {"ptdesc_pmd_pts_count", "virt_to_ptdesc"})
    assert mid == (["\tif (!ptdesc_pmd_pts_count(virt_to_ptdesc(ptep)))"], ["the ptdesc API"])
    assert older_exprs(lines, lambda n: True) == (lines, [])


def test_double_negation_goes_only_where_the_truth_alone_counts():
    def one(line: str, **kw) -> str:
        return older_exprs([line], _old, **kw)[0][0]

    # a value kept as a number keeps `!!`; a condition, `&&` and `!` only need its truth
    assert (
        one("\tshared = ptdesc_pmd_is_shared(p);")
        == "\tshared = !!atomic_read(&p->pt_share_count);"
    )
    assert (
        one("\tif (ptdesc_pmd_is_shared(p) && x)") == "\tif (atomic_read(&p->pt_share_count) && x)"
    )
    assert (
        one("\twhile ((ptdesc_pmd_is_shared(p)))") == "\twhile ((atomic_read(&p->pt_share_count)))"
    )
    assert one("\ty = x ? 1 : ptdesc_pmd_is_shared(p);") == (
        "\ty = x ? 1 : !!atomic_read(&p->pt_share_count);"
    )
    # the value a function returns: only a bool function's return is a truth value
    assert one("\treturn ptdesc_pmd_is_shared(p);", returns_bool=True) == (
        "\treturn atomic_read(&p->pt_share_count);"
    )
    assert one("\treturn ptdesc_pmd_is_shared(p);") == "\treturn !!atomic_read(&p->pt_share_count);"
    # an argument that is not a primary expression keeps its own parentheses
    assert one("\tif (ptdesc_pmd_pts_count(base + i))") == (
        "\tif (atomic_read(&(base + i)->pt_share_count))"
    )


def test_whole_definitions_read_their_own_return_type():
    lines = ["static bool shared(pte_t *p)", "{", "\treturn ptdesc_pmd_is_shared(p);", "}"]
    assert older_exprs(lines, _old, top=True)[0][2] == "\treturn atomic_read(&p->pt_share_count);"
    lines[0] = "static int shared(pte_t *p)"
    assert older_exprs(lines, _old, top=True)[0][2] == (
        "\treturn !!atomic_read(&p->pt_share_count);"
    )


OLDER_HEADER = (
    b"#ifdef CONFIG_OLD_SHARE\n"
    b"static inline bool pmd_shared(pte_t *pte)\n{\n"
    b"\treturn page_count(virt_to_page(pte)) > 1;\n}\n"
    b"#else\n"
    b"static inline bool pmd_shared(pte_t *pte)\n{\n\treturn false;\n}\n#endif\n"
)
SHARED_FIX = (
    "--- a/include/linux/x.h\n+++ b/include/linux/x.h\n"
    "@@ -10,7 +10,7 @@ static inline void reserve(int order)\n"
    " #ifdef CONFIG_NEW_SHARE\n"
    " static inline bool pmd_shared(pte_t *pte)\n {\n"
    "-\treturn page_count(virt_to_page(pte)) > 1;\n"
    "+\treturn ptdesc_pmd_is_shared(virt_to_ptdesc(pte));\n"
    " }\n #else\n static inline bool pmd_shared(pte_t *pte)\n"
)


def test_a_return_of_a_bool_function_gets_the_older_expression():
    p = relocate_file(_mail(SHARED_FIX), OLDER_HEADER, "include/linux/x.h", tree=_old)
    assert p.failures == (), p.failures
    assert "for the ptdesc API" in p.rewrites
    assert apply_edits(OLDER_HEADER, list(p.edits)) == OLDER_HEADER.replace(
        b"page_count(virt_to_page(pte)) > 1", b"atomic_read(&virt_to_page(pte)->pt_share_count)"
    )


def test_a_tree_without_the_field_the_expression_reads_refuses():
    p = relocate_file(
        _mail(SHARED_FIX),
        OLDER_HEADER,
        "include/linux/x.h",
        tree=lambda n: n in OLD_TREE - {"pt_share_count"},
    )
    assert p.method == "failed" and p.edits == ()
    assert "pt_share_count" in p.failures[0].reason


def test_a_tree_with_the_helpers_takes_the_fix_as_it_is():
    newer = OLDER_HEADER.replace(b"CONFIG_OLD_SHARE", b"CONFIG_NEW_SHARE")
    p = relocate_file(_mail(SHARED_FIX), newer, "include/linux/x.h", tree=lambda n: True)
    assert p.method == "exact" and p.failures == (), p.failures
    assert b"return ptdesc_pmd_is_shared(virt_to_ptdesc(pte));" in apply_edits(newer, list(p.edits))


def _no_ptdesc(name: str) -> bool:
    return not name.startswith(("ptdesc_", "virt_to_ptdesc"))


UNSHARE = (
    b"int unshare(struct tlb *tlb, struct vma *vma, pte_t *ptep)\n{\n"
    b"\tunsigned long sz = vma_size(vma);\n"
    b"\tstruct mm *mm = vma->mm;\n\n"
    b"\tassert_locked(vma->file);\n"
    b"\tassert_vma_locked(vma);\n"
    b"\tif (sz != PMD_SIZE)\n\t\treturn 0;\n"
    b"\tif (!atomic_read(&virt_to_page(ptep)->pt_share_count))\n\t\treturn 0;\n\n"
    b"\tclear_table(tlb, virt_to_page(ptep));\n"
    b"\treturn 1;\n}\n\n"
    b"void other(void)\n{\n\tunshare(0, 0, 0);\n}\n"
)
BODY_FIX = (
    "--- a/mm/x.c\n+++ b/mm/x.c\n"
    "@@ -20,15 +20,5 @@ static int prepare(void)\n"
    " int unshare(struct tlb *tlb, struct vma *vma, pte_t *ptep)\n {\n"
    "-\tunsigned long sz = vma_size(vma);\n"
    "-\tstruct mm *mm = vma->mm;\n"
    "-\n"
    "-\tif (sz != PMD_SIZE)\n-\t\treturn 0;\n"
    "-\tif (!ptdesc_pmd_is_shared(virt_to_ptdesc(ptep)))\n-\t\treturn 0;\n"
    "-\tassert_locked(vma->file);\n"
    "-\tassert_vma_locked(vma);\n"
    "-\tclear_table(tlb, virt_to_ptdesc(ptep));\n"
    "-\treturn 1;\n"
    "+\treturn __unshare(tlb, vma, ptep, true);\n"
    " }\n \n"
)


def test_a_body_upstream_replaces_goes_whole_when_its_statements_are_the_same():
    # The older tree checks the locks first; upstream had moved them below the early returns.
    got = relocate_file(_mail(BODY_FIX), UNSHARE, "mm/x.c", tree=_no_ptdesc)
    assert got.failures == (), got.failures
    out = apply_edits(UNSHARE, list(got.edits))
    assert out.startswith(
        b"int unshare(struct tlb *tlb, struct vma *vma, pte_t *ptep)\n{\n"
        b"\treturn __unshare(tlb, vma, ptep, true);\n}\n\nvoid other(void)"
    )


def test_a_body_with_a_statement_upstream_lacks_is_not_replaced():
    extra = UNSHARE.replace(b"\treturn 1;\n}", b"\tdec_tables(mm);\n\treturn 1;\n}")
    p = relocate_file(_mail(BODY_FIX), extra, "mm/x.c", tree=_no_ptdesc)
    assert p.method == "failed" and p.edits == ()


def test_a_body_whose_statement_says_something_else_is_not_replaced():
    other = UNSHARE.replace(b"\treturn 1;\n}", b"\treturn 2;\n}")
    p = relocate_file(_mail(BODY_FIX), other, "mm/x.c", tree=_no_ptdesc)
    assert p.method == "failed" and p.edits == ()


def test_lines_around_the_rewritten_call_stay_as_they_are():
    # a slice that opens a function body (its declarator lines read as blanks by the fragment
    # parser) keeps them; non-ASCII text before the call keeps its columns
    lines = [
        "static int f(pte_t *p,",
        "\t     int n)",
        "{",
        '\tpr_info("é"); if (ptdesc_pmd_is_shared(p)) return n;',
    ]
    out, apis = older_exprs(lines, _old)
    assert out[:3] == lines[:3] and apis == ["the ptdesc API"]
    assert out[3] == '\tpr_info("é"); if (atomic_read(&p->pt_share_count)) return n;'


def test_a_body_statement_only_a_learned_rewrite_pairs_is_not_the_same():
    # the target checks another lock (assert_other_locked(vma->file)) where upstream's body
    # has assert_vma_locked(vma): another callee, not the same statement re-expressed
    other = UNSHARE.replace(b"\tassert_vma_locked(vma);\n", b"\tassert_other_locked(vma->file);\n")
    p = relocate_file(
        _mail(BODY_FIX), other, "mm/x.c", tree=lambda n: n != "assert_vma_locked" and _no_ptdesc(n)
    )
    assert p.method == "failed" and p.edits == ()


# --- renamed symbols, a change between two later helpers, helpers the tree cannot take ------


def test_a_renamed_config_symbol_is_spelled_older_where_the_tree_has_only_that():
    from reviewbot.backport.apitable import older_symbols, symbol_renames

    assert all(r.new != r.old and r.since for r in symbol_renames().values())
    lines = [
        "#ifdef CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING",
        "\tif (IS_ENABLED(CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING_X))",
        "#endif /* CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING */",
    ]
    older = older_symbols(lines, lambda n: n == "CONFIG_ARCH_WANT_HUGE_PMD_SHARE")
    assert older == (
        [
            "#ifdef CONFIG_ARCH_WANT_HUGE_PMD_SHARE",
            "\tif (IS_ENABLED(CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING_X))",  # another word
            "#endif /* CONFIG_ARCH_WANT_HUGE_PMD_SHARE */",
        ],
        ["the hugetlb PMD sharing Kconfig symbol"],
    )
    # a tree with the new symbol, or without the old one, keeps the line as it is
    assert older_symbols(lines, lambda n: True) == (lines, [])
    assert older_symbols(lines, lambda n: False) == (lines, [])


def test_a_change_from_one_later_helper_to_another_is_nothing_to_do_in_an_older_tree():
    from reviewbot.backport.rewrites import same_when_older

    fn = [
        "int unshare(pte_t *ptep)",
        "{",
        "\tif (!atomic_read(&virt_to_page(ptep)->pt_share_count))",
        "\t\treturn 0;",
        "}",
    ]
    rem = ["\tif (!ptdesc_pmd_pts_count(virt_to_ptdesc(ptep)))"]
    add = ["\tif (!ptdesc_pmd_is_shared(virt_to_ptdesc(ptep)))"]
    assert same_when_older(rem, add, fn, _old)
    # the target's line says something else, or upstream's new line another thing: a change
    assert not same_when_older(rem, add, [x.replace("!atomic", "atomic") for x in fn], _old)
    assert not same_when_older(rem, ["\tif (ptdesc_pmd_is_shared(virt_to_ptdesc(ptep)))"], fn, _old)
    # no later helper on either side: an ordinary change
    assert not same_when_older(["\tif (!a)"], ["\tif (!a)"], ["\tif (!a)"], _old)


HELPERS_H = (
    "#ifndef _MM_TYPES_H\n#define _MM_TYPES_H\n\nstruct page {\n\tatomic_t pt_share_count;\n};\n"
    "\n#endif\n"
)
HUGETLB_C = (
    "int unshare(pte_t *ptep)\n{\n\tif (!atomic_read(&virt_to_page(ptep)->pt_share_count))\n"
    "\t\treturn 0;\n\tclear(ptep);\n\treturn 1;\n}\n\n"
    "int copy_range(pte_t *dst_pte)\n{\n\tif (page_count(virt_to_page(dst_pte)) > 1)\n"
    "\t\treturn 0;\n\tcopy(dst_pte);\n\treturn 1;\n}\n"
)


def _helper_fix(use: str = "ptdesc_pmd_is_shared(virt_to_ptdesc(dst_pte))") -> str:
    return (
        "From: A <a@example.org>\nSubject: [PATCH] mm/hugetlb: fix shared test\n\n---\n"
        "--- a/include/linux/mm_types.h\n+++ b/include/linux/mm_types.h\n"
        "@@ -10,3 +10,8 @@ static inline int ptdesc_pmd_pts_count(struct ptdesc *ptdesc)\n"
        " {\n \treturn atomic_read(&ptdesc->pt_share_count);\n }\n"
        "+\n+static inline bool ptdesc_pmd_is_shared(struct ptdesc *ptdesc)\n+{\n"
        "+\treturn !!ptdesc_pmd_pts_count(ptdesc);\n+}\n"
        "--- a/mm/hugetlb.c\n+++ b/mm/hugetlb.c\n"
        "@@ -1,6 +1,6 @@\n int unshare(pte_t *ptep)\n {\n"
        "-\tif (!ptdesc_pmd_pts_count(virt_to_ptdesc(ptep)))\n"
        "+\tif (!ptdesc_pmd_is_shared(virt_to_ptdesc(ptep)))\n"
        " \t\treturn 0;\n \tclear(ptep);\n \treturn 1;\n"
        "@@ -9,6 +9,6 @@ int unshare(pte_t *ptep)\n int copy_range(pte_t *dst_pte)\n {\n"
        "-\tif (page_count(virt_to_page(dst_pte)) > 1)\n"
        f"+\tif ({use})\n"
        " \t\treturn 0;\n \tcopy(dst_pte);\n \treturn 1;\n"
    )


def test_helpers_the_tree_cannot_take_are_left_out_and_spelled_older(tmp_path):
    import subprocess

    from reviewbot.backport.generate import backport_one
    from reviewbot.backport.outcome import TargetStatus
    from reviewbot.diffs.patches import parse_mail
    from reviewbot.git.repository import Repository
    from reviewbot.history.upstream import upstream_from_mail

    (tmp_path / "include/linux").mkdir(parents=True)
    (tmp_path / "mm").mkdir()
    (tmp_path / "include/linux/mm_types.h").write_text(HELPERS_H)
    (tmp_path / "mm/hugetlb.c").write_text(HUGETLB_C)
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "tree"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True, capture_output=True)
    repo = Repository(tmp_path)

    def run(mail: str):
        return backport_one(repo, upstream_from_mail(repo, parse_mail(mail)), repo.resolve(), ())

    t = run(_helper_fix())
    assert t.status == TargetStatus.GENERATED, t.reason
    assert any("left out include/linux/mm_types.h" in d for d in t.deviations)
    diff = (t.text or "").split("\ndiff --git", 1)[1]
    assert "+\tif (atomic_read(&virt_to_page(dst_pte)->pt_share_count))\n" in diff
    # the header is left out; unshare()'s change is the same code in this tree: no hunk
    assert "mm_types.h" not in diff and "ptdesc" not in diff
    assert diff.count("\n@@ ") == 1
    # a helper the table has no expression form for: the change needs it, so it refuses
    t = run(_helper_fix().replace("ptdesc_pmd_is_shared", "pmd_table_is_shared"))
    assert t.status == TargetStatus.FAILED
    assert any("pmd_table_is_shared" in f.reason for f in t.failures), t.failures


# --- helpers of two arguments; a hunk whose context calls later helpers ---------------------


def test_a_form_of_two_arguments_spells_each_in_its_place():
    flags = {"test_bit", "clear_bit"}.__contains__
    got = older_exprs(["\tif (mm_flags_test(MMF_VM_MERGEABLE, oldmm))"], flags)
    assert got == (["\tif (test_bit(MMF_VM_MERGEABLE, &oldmm->flags))"], ["the mm flags API"])
    got = older_exprs(["\tmm_flags_clear(MMF_VM_MERGE_ANY, vma->vm_mm);"], flags)
    assert got == (["\tclear_bit(MMF_VM_MERGE_ANY, &vma->vm_mm->flags);"], ["the mm flags API"])
    # a call with another number of arguments is not the helper's form
    assert older_exprs(["\tmm_flags_test(MMF_X);"], flags) == (["\tmm_flags_test(MMF_X);"], [])


KSM_H = (
    b"static inline void ksm_fork(struct mm_struct *mm, struct mm_struct *oldmm)\n{\n"
    b"\t/* best effort */\n\tif (test_bit(MMF_VM_MERGEABLE, &oldmm->flags))\n"
    b"\t\t__ksm_enter(mm);\n}\n"
)
KSM_FIX = (
    "--- a/include/linux/ksm.h\n+++ b/include/linux/ksm.h\n"
    "@@ -1,6 +1,9 @@\n"
    " static inline void ksm_fork(struct mm_struct *mm, struct mm_struct *oldmm)\n {\n"
    " \t/* best effort */\n"
    "-\tif (mm_flags_test(MMF_VM_MERGEABLE, oldmm))\n"
    "+\tif (mm_flags_test(MMF_VM_MERGEABLE, oldmm)) {\n"
    "+\t\tmm->ksm_rmap_items = 0;\n"
    " \t\t__ksm_enter(mm);\n"
    "+\t\tmm_flags_set(MMF_VM_MERGE_ANY, mm);\n"
    "+\t}\n }\n"
)


def test_a_hunk_whose_context_calls_a_later_helper_applies_as_the_tree_writes_it():
    has = lambda n: not n.startswith("mm_flags_")  # noqa: E731 - before 6.18
    p = relocate_file(_mail(KSM_FIX), KSM_H, "include/linux/ksm.h", tree=has)
    assert p.ok, p.failures
    got = apply_edits(KSM_H, list(p.edits))
    assert got == (
        b"static inline void ksm_fork(struct mm_struct *mm, struct mm_struct *oldmm)\n{\n"
        b"\t/* best effort */\n\tif (test_bit(MMF_VM_MERGEABLE, &oldmm->flags)) {\n"
        b"\t\tmm->ksm_rmap_items = 0;\n\t\t__ksm_enter(mm);\n"
        b"\t\tset_bit(MMF_VM_MERGE_ANY, &mm->flags);\n\t}\n}\n"
    )
    assert "for the mm flags API" in p.rewrites and p.method == "transformed"


def test_older_hunk_keeps_context_the_same_on_both_sides_or_gives_up():
    from reviewbot.backport.rewrites import older_hunk

    h = _mail(KSM_FIX).hunks[0]
    has = lambda n: not n.startswith("mm_flags_")  # noqa: E731
    got = older_hunk(h, has)
    assert got is not None
    assert ("-", "\tif (test_bit(MMF_VM_MERGEABLE, &oldmm->flags))") in got[0].lines
    assert older_hunk(h, lambda n: True) is None  # the tree has the helpers: nothing to do


def test_added_lines_of_a_rewritten_hunk_are_spelled_in_their_function():
    # the context names the later Kconfig symbol (the hunk does not apply as it is); the added
    # return of a bool function drops `!!` as it does anywhere in such a function
    target = (
        b"#ifdef CONFIG_ARCH_WANT_HUGE_PMD_SHARE\nstatic inline bool pmd_shared(pte_t *pte)\n{\n"
        b"\treturn page_count(virt_to_page(pte)) > 1;\n}\n#endif\n"
    )
    fix = (
        "--- a/include/linux/hugetlb.h\n+++ b/include/linux/hugetlb.h\n@@ -1,6 +1,6 @@\n"
        " #ifdef CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING\n"
        " static inline bool pmd_shared(pte_t *pte)\n {\n"
        "-\treturn page_count(virt_to_page(pte)) > 1;\n"
        "+\treturn ptdesc_pmd_is_shared(virt_to_ptdesc(pte));\n"
        " }\n #endif\n"
    )
    has = (OLD_TREE | {"CONFIG_ARCH_WANT_HUGE_PMD_SHARE", "page_count"}).__contains__
    p = relocate_file(_mail(fix), target, "include/linux/hugetlb.h", tree=has)
    assert p.ok, p.failures
    got = apply_edits(target, list(p.edits))
    assert b"\treturn atomic_read(&virt_to_page(pte)->pt_share_count);\n" in got
