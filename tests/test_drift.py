"""Backports equal to upstream modulo the drift between the trees (hand-written fixtures)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.backport import ctokens, drift, edits, misplaced
from reviewbot.backport.validate import INTENT_VERSION, VerdictStatus, validate_files
from reviewbot.diffs.patches import parse_mail
from reviewbot.history.upstream import UpstreamFix

TARGET = """\
static int scan_one(struct thing *t, int nr)
{
\tint ret = 0;

\tif (!t)
\t\treturn -EINVAL;
\twhile (nr--) {
\t\tif (old_busy(t))
\t\t\tcontinue;
\t\tret += poke(t);
\t}
\treturn ret;
}
"""


def _mail(hunk: str) -> str:
    return (
        "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n--- a/mm/x.c\n+++ b/mm/x.c\n" + hunk
    )


UPSTREAM = _mail(
    "@@ -7,6 +7,11 @@ static int scan_one(struct thing *t, int nr)\n"
    " \twhile (nr--) {\n"
    " \t\tif (old_busy(t))\n"
    " \t\t\tcontinue;\n"
    "+\t\t/* Yet, actually, check the folio: close the race. */\n"
    "+\t\tif (folio_test_locked(t->folio)) {\n"
    "+\t\t\tresult = SCAN_LOCKED;\n"
    "+\t\t\tgoto out_unlock;\n"
    "+\t\t}\n"
    " \t\tret += poke(t);\n"
    " \t}\n"
    " \treturn ret;\n"
)


def _backport(
    cond: str, body: list[str], comment: str = "Check the page: close the race.", after: str = ""
) -> str:
    lines = "".join(f"+\t\t\t{x}\n" for x in body)
    n = 6 + 3 + len(body) + bool(after)
    return _mail(
        f"@@ -7,6 +7,{n} @@ static int scan_one(struct thing *t, int nr)\n"
        " \twhile (nr--) {\n"
        " \t\tif (old_busy(t))\n"
        " \t\t\tcontinue;\n"
        f"+\t\t/* {comment} */\n"
        f"+\t\tif ({cond}) {{\n"
        + lines
        + "+\t\t}\n"
        + (f"+\t\t{after}\n" if after else "")
        + " \t\tret += poke(t);\n"
        " \t}\n"
        " \treturn ret;\n"
    )


def _vs(upstream: str, backport: str, target: str) -> drift.Drift:
    """Compare two mails' changes on ``target`` (mm/x.c), every name existing in the tree."""
    return drift.compare(
        parse_mail(upstream), parse_mail(backport), {"mm/x.c": target}, lambda n: True
    )


def _compare(backport: str) -> drift.Drift:
    return drift.compare(
        parse_mail(UPSTREAM), parse_mail(backport), {"mm/x.c": TARGET}, lambda name: False
    )


def test_api_drift_and_missing_label_are_deviations() -> None:
    d = _compare(_backport("PageLocked(t->page)", ["continue;"]))
    assert d.equivalent, d.differences
    assert any("folio_test_locked" in x for x in d.deviations)
    # comment words ("Yet", "actually", "close") are never taken for identifiers
    assert not any("Yet" in x or "close" in x for x in d.deviations)


def test_negated_condition_is_refused() -> None:
    d = _compare(_backport("!PageLocked(t->page)", ["continue;"]))
    assert not d.equivalent
    assert any("!" in x for x in d.differences)


def test_exit_the_target_does_not_use_here_is_refused() -> None:
    d = _compare(_backport("PageLocked(t->page)", ["break;"]))
    assert not d.equivalent


def test_dropped_exit_is_refused() -> None:
    d = _compare(_backport("PageLocked(t->page)", ["poke(t);"]))
    assert not d.equivalent


def test_statement_upstream_does_not_add_is_refused() -> None:
    d = _compare(_backport("PageLocked(t->page)", ["continue;"], after="poke(t);"))
    assert not d.equivalent


def test_statement_moved_into_another_block_is_refused() -> None:
    up = _mail(
        "@@ -4,6 +4,7 @@ static int scan_one(struct thing *t, int nr)\n"
        " \n"
        " \tif (!t)\n"
        " \t\treturn -EINVAL;\n"
        "+\tret = prepare(t);\n"
        " \twhile (nr--) {\n"
        " \t\tif (old_busy(t))\n"
        " \t\t\tcontinue;\n"
    )
    moved = _mail(
        "@@ -4,6 +4,7 @@ static int scan_one(struct thing *t, int nr)\n"
        " \n"
        " \tif (!t)\n"
        " \t\treturn -EINVAL;\n"
        " \twhile (nr--) {\n"
        "+\t\tret = prepare(t);\n"
        " \t\tif (old_busy(t))\n"
        " \t\t\tcontinue;\n"
    )
    d = _vs(up, moved, TARGET)
    assert not d.equivalent
    assert d.moved and "while (nr--) {" in d.moved[0]


def test_validate_accepts_with_deviations_unless_strict() -> None:
    upstream = UpstreamFix(parse_mail(UPSTREAM), None, {})
    patch = parse_mail(_backport("PageLocked(t->page)", ["continue;"]))
    targets = {"mm/x.c": TARGET.encode()}
    v = validate_files(targets, patch, (), INTENT_VERSION, upstream=upstream)
    eq = v.verdict("equivalence")
    assert v.accepted, v.lines()
    assert eq.status == VerdictStatus.PASS and "with deviations" in eq.message
    assert any(x.startswith("[ ") and "folio_test_locked" in x for x in eq.details)
    strict = validate_files(targets, patch, (), INTENT_VERSION, upstream=upstream, strict=True)
    assert not strict.accepted
    assert strict.verdict("equivalence").status == VerdictStatus.FAIL


def test_missing_label_inlined_as_cleanup_then_own_exit() -> None:
    d = _compare(_backport("PageLocked(t->page)", ["unlock(t);", "continue;"]))
    assert d.equivalent, d.differences
    assert any("out_unlock" in x for x in d.deviations)


def test_comment_reflow_only_is_equivalent_without_deviation() -> None:
    same = UPSTREAM.replace(
        "/* Yet, actually, check the folio: close the race. */",
        "/* Yet, actually, check the folio:\n+\t\t * close the race. */",
    ).replace("+7,11 @@", "+7,12 @@")
    d = _compare(same)
    assert d.equivalent and not d.deviations and not d.differences


def test_api_rename_from_the_table_is_a_noted_deviation_even_where_both_names_exist() -> None:
    up = UPSTREAM.replace("result = SCAN_LOCKED;", "folio_put(t->folio);").replace(
        "goto out_unlock;", "continue;"
    )
    bp = _backport("PageLocked(t->page)", ["put_page(t->page);", "continue;"])
    d = _vs(up, bp, TARGET)
    assert d.equivalent, d.differences
    assert d.deviations == ("mm/x.c: adjusted for the folio API",)
    negated = _backport("!PageLocked(t->page)", ["put_page(t->page);", "continue;"])
    d = _vs(up, negated, TARGET)
    assert not d.equivalent


def test_renames_table_loads_and_is_not_a_rule() -> None:
    from reviewbot.backport.apitable import api_renames
    from reviewbot.rules.spec import builtin_rules

    table = api_renames()
    assert table[("mmap_write_trylock", "down_write_trylock")].since == "5.8"
    assert all(r.new != r.old and r.since and r.api for r in table.values())
    assert "api-renames" not in {r.id for r in builtin_rules()}


def test_declared_counts_keyword_types_but_not_statements() -> None:
    assert ctokens.declared(["\tbool busy = false;", "\tunsigned long nr;", "\tint *p;"]) == {
        "busy",
        "nr",
        "p",
    }
    assert ctokens.declared(["\treturn ret;", "\tgoto out;", "\telse poke;"]) == set()


SPLIT_UP = _mail(
    "@@ -2,4 +2,5 @@ static int scan_one(struct thing *t, int nr)\n"
    " {\n"
    " \tint ret = 0;\n"
    "+\tbool busy = old_busy(t);\n"
    " \n"
    " \tif (!t)\n"
)


def _split(with_declaration: bool) -> str:
    decl = "+\tbool busy;\n" if with_declaration else ""
    return _mail(
        f"@@ -2,5 +2,{6 + with_declaration} @@ static int scan_one(struct thing *t, int nr)\n"
        " {\n"
        " \tint ret = 0;\n" + decl + " \n"
        "+\tbusy = old_busy(t);\n"
        " \tif (!t)\n"
        " \t\treturn -EINVAL;\n"
    )


def test_split_declaration_is_a_deviation_but_a_dropped_declaration_is_not() -> None:
    up = parse_mail(SPLIT_UP)
    d = drift.compare(up, parse_mail(_split(True)), {"mm/x.c": TARGET}, lambda n: True)
    assert d.equivalent, d.differences
    d = drift.compare(up, parse_mail(_split(False)), {"mm/x.c": TARGET}, lambda n: True)
    assert not d.equivalent
    assert any("busy" in x and "undeclared" in x for x in d.differences)


GET_UP = _mail(
    "@@ -5,5 +5,7 @@ static int scan_one(struct thing *t, int nr)\n"
    " \tif (!t)\n"
    " \t\treturn -EINVAL;\n"
    "+\tif (!folio_busy(t->folio))\n"
    "+\t\tfolio_get(t->folio);\n"
    " \twhile (nr--) {\n"
    " \t\tif (old_busy(t))\n"
    " \t\t\tcontinue;\n"
)


def test_statement_moved_is_found_modulo_renamed_calls() -> None:
    same = (
        "@@ -5,5 +5,7 @@ static int scan_one(struct thing *t, int nr)\n"
        " \tif (!t)\n"
        " \t\treturn -EINVAL;\n"
        "+\tif (!old_busy(t))\n"
        "+\t\tget_page(t->page);\n"
        " \twhile (nr--) {\n"
        " \t\tif (old_busy(t))\n"
        " \t\t\tcontinue;\n"
    )
    up = parse_mail(GET_UP)
    d = drift.compare(up, parse_mail(_mail(same)), {"mm/x.c": TARGET}, lambda n: "old" in n)
    assert not d.moved, d.moved
    # the call now sits in the loop and the new test governs the loop: another block
    moved = (
        "@@ -5,5 +5,7 @@ static int scan_one(struct thing *t, int nr)\n"
        " \tif (!t)\n"
        " \t\treturn -EINVAL;\n"
        "+\tif (!old_busy(t))\n"
        " \twhile (nr--) {\n"
        "+\t\tget_page(t->page);\n"
        " \t\tif (old_busy(t))\n"
        " \t\t\tcontinue;\n"
    )
    d = drift.compare(up, parse_mail(_mail(moved)), {"mm/x.c": TARGET}, lambda n: "old" in n)
    assert not d.equivalent
    assert d.moved and "get_page(t->page);" in d.moved[0] and "folio_busy" in d.moved[0]


def test_continuation_line_of_a_call_is_not_a_statement_of_its_own() -> None:
    up = _mail(
        "@@ -10,3 +10,3 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\tret += poke_all(t,\n"
        "-\t\t\t\tnr);\n"
        "+\t\tret += poke_all(t, nr,\n"
        "+\t\t\t\tflags);\n"
        " \t}\n"
    )
    # the target's call has an extra argument: the first line stays, only the second changes
    bp = _mail(
        "@@ -10,3 +10,3 @@ static int scan_one(struct thing *t, int nr)\n"
        " \t\tret += old_poke_all(t->page, 0,\n"
        "-\t\t\t\tnr);\n"
        "+\t\t\t\tnr, flags);\n"
        " \t}\n"
    )
    target = "\t\tret += old_poke_all(t->page, 0,\n\t\t\t\tnr);\n"
    assert misplaced.moved(parse_mail(up).files[0], parse_mail(bp).files[0], target) == []


def test_branch_hints_carry_no_meaning() -> None:
    up = _mail(
        "@@ -10,2 +10,2 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\tif (unlikely(owner(t) != me || !folio_ready(t->folio))) {\n"
        "+\t\tif (unlikely(owner(t) != me) || !folio_ready(t->folio)) {\n"
        " \t\t\tput(t);\n"
    )
    # the target tests less; the backport only drops the hint around what it has
    bp = _mail(
        "@@ -10,2 +10,2 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\tif (unlikely(!old_ready(t))) {\n"
        "+\t\tif (!old_ready(t)) {\n"
        " \t\t\tput(t);\n"
    )
    d = drift.compare(parse_mail(up), parse_mail(bp), {"mm/x.c": TARGET}, lambda n: "old" in n)
    assert d.equivalent, d.differences
    # the hint is not a licence to change the test it wraps
    bp_neg = bp.replace("+\t\tif (!old_ready(t)) {", "+\t\tif (old_ready(t)) {")
    d = drift.compare(parse_mail(up), parse_mail(bp_neg), {"mm/x.c": TARGET}, lambda n: "old" in n)
    assert not d.equivalent


def test_without_hints_keeps_a_wrapper_cut_by_the_hunk() -> None:
    toks = ctokens.tokens(["if (likely(a) && unlikely(b ||"])
    assert edits.without_hints(toks) == ["if", "(", "a", "&&", "unlikely", "(", "b", "||"]


NEG_UP = _mail(
    "@@ -10,3 +10,3 @@ static int scan_one(struct thing *t, int nr)\n"
    " \t\tif (!queue_add(t) ||\n"
    "-\t\t    is_big(t) || disabled())\n"
    "+\t\t    !fits_cache(t) || disabled())\n"
    " \t\t\tflush(t);\n"
)


def test_a_target_testing_the_negation_gets_the_negated_edit() -> None:
    # the target tests the opposite: "!is_big(t)" becomes "fits_cache(t)"
    bp = _mail(
        "@@ -10,3 +10,3 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\tif (queue_add(t) && !is_big(t) &&\n"
        "-\t\t    !disabled())\n"
        "+\t\tif (queue_add(t) &&\n"
        "+\t\t    fits_cache(t) && !disabled())\n"
        " \t\t\treturn;\n"
    )
    d = _vs(NEG_UP, bp, TARGET)
    assert d.equivalent, d.differences
    assert any("!is_big" in x for x in d.deviations)
    # "!fits_cache(t)" there would test the opposite
    wrong = bp.replace("+\t\t    fits_cache(t) &&", "+\t\t    !fits_cache(t) &&")
    d = _vs(NEG_UP, wrong, TARGET)
    assert not d.equivalent
    # outside a condition "!!x" is not "x": the value is 0 or 1
    value = _mail(
        "@@ -10,1 +10,1 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\tret = !is_big(t) + 1;\n"
        "+\t\tret = fits_cache(t) + 1;\n"
    )
    up_value = _mail(
        "@@ -10,1 +10,1 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\tret = is_big(t) + 1;\n"
        "+\t\tret = !fits_cache(t) + 1;\n"
    )
    d = _vs(up_value, value, TARGET)
    assert not d.equivalent


TWO_FNS_UP = _mail(
    "@@ -3,3 +3,3 @@ void add_folio(struct folio *folio)\n"
    " \tfolio_get(folio);\n"
    "-\tif (!queue_add(folio) || is_big(folio))\n"
    "+\tif (!queue_add(folio) || !fits_cache(folio))\n"
    " \t\tflush();\n"
    "@@ -13,3 +13,3 @@ void add_new_folio(struct folio *folio)\n"
    " \tfolio_get(folio);\n"
    "-\tif (!queue_add(new_one(folio)) || is_big(folio))\n"
    "+\tif (!queue_add(new_one(folio)) || !fits_cache(folio))\n"
    " \t\tflush();\n"
)
TWO_FNS_BP = _mail(
    "@@ -3,3 +3,3 @@ void add_folio(struct folio *folio)\n"
    " \tfolio_get(folio);\n"
    "-\tif (!queue_add(folio) || is_big(folio))\n"
    "+\tif (!queue_add(folio) || !fits_cache(folio))\n"
    " \t\tflush();\n"
)


def _two_fns_target(second: str) -> str:
    return (
        "void add_folio(struct folio *folio)\n{\n\tfolio_get(folio);\n"
        "\tif (!queue_add(folio) || is_big(folio))\n\t\tflush();\n}\n\n" + second
    )


def test_a_hunk_in_code_the_target_never_had_may_be_left_out() -> None:
    # the target's counterpart of the second function is older code (a page, not a folio)
    target = _two_fns_target(
        "void add_new_page(struct page *page)\n{\n\tget_page(page);\n"
        "\tif (!queue_add(new_one(page)) || PageHead(page))\n\t\tflush();\n}\n"
    )
    d = _vs(TWO_FNS_UP, TWO_FNS_BP, target)
    assert d.equivalent, d.differences
    assert any("add_new_folio() left out" in x for x in d.deviations)


def test_a_hunk_the_target_could_take_is_not_left_out() -> None:
    # the target has the function: leaving its hunk out drops part of the fix
    same_name = _two_fns_target(
        "void add_new_folio(struct folio *folio)\n{\n\tfolio_get(folio);\n"
        "\tif (!queue_add(new_one(folio)) || PageHead(folio))\n\t\tflush();\n}\n"
    )
    # or it has the very lines the hunk changes, under another name
    same_lines = _two_fns_target(
        "void add_fresh(struct folio *folio)\n{\n\tfolio_get(folio);\n"
        "\tif (!queue_add(new_one(folio)) || is_big(folio))\n\t\tflush();\n}\n"
    )
    for target in (same_name, same_lines):
        d = _vs(TWO_FNS_UP, TWO_FNS_BP, target)
        assert not d.equivalent


REWRITE_UP = _mail(
    "@@ -5,8 +5,14 @@ static int fill_all(struct thing *t, int nr)\n"
    " \tdo {\n"
    "-\t\tif (WARN_ON(!slot_free(slot_get(t))))\n"
    "-\t\t\treturn -EBUSY;\n"
    "-\t\tif (WARN_ON(!t->page))\n"
    "-\t\t\treturn -ENOMEM;\n"
    "-\t\tif (WARN_ON(!slot_valid(page_slot(t->page))))\n"
    "-\t\t\treturn -EINVAL;\n"
    "+\t\tif (WARN_ON(!slot_free(slot_get(t)))) {\n"
    "+\t\t\terr = -EBUSY;\n"
    "+\t\t\tbreak;\n"
    "+\t\t}\n"
    "+\t\tif (WARN_ON(!t->page)) {\n"
    "+\t\t\terr = -ENOMEM;\n"
    "+\t\t\tbreak;\n"
    "+\t\t}\n"
    "+\t\tif (WARN_ON(!slot_valid(page_slot(t->page)))) {\n"
    "+\t\t\terr = -EINVAL;\n"
    "+\t\t\tbreak;\n"
    "+\t\t}\n"
    " \t} while (next(t));\n"
)
REWRITE_TARGET = (
    "static int fill_all(struct thing *t, int nr)\n{\n\tint err = 0;\n\n\tdo {\n"
    "\t\tif (WARN_ON(!slot_free(*t->slot)))\n\t\t\treturn -EBUSY;\n"
    "\t\tif (WARN_ON(!t->page))\n\t\t\treturn -ENOMEM;\n"
    "\t} while (next(t));\n\treturn err;\n}\n"
)


def _rewrite_bp(second: bool = True) -> str:
    rows = [
        "-\t\tif (WARN_ON(!slot_free(*t->slot)))\n",
        "-\t\t\treturn -EBUSY;\n",
        "-\t\tif (WARN_ON(!t->page))\n" if second else " \t\tif (WARN_ON(!t->page))\n",
        "-\t\t\treturn -ENOMEM;\n" if second else " \t\t\treturn -ENOMEM;\n",
        "+\t\tif (WARN_ON(!slot_free(*t->slot))) {\n",
        "+\t\t\terr = -EBUSY;\n",
        "+\t\t\tbreak;\n",
        "+\t\t}\n",
    ]
    if second:
        rows += ["+\t\tif (WARN_ON(!t->page)) {\n", "+\t\t\terr = -ENOMEM;\n"]
        rows += ["+\t\t\tbreak;\n", "+\t\t}\n"]
    n_old = 1 + sum(r[0] in " -" for r in rows) + 1
    n_new = 1 + sum(r[0] in " +" for r in rows) + 1
    return _mail(
        f"@@ -5,{n_old} +5,{n_new} @@ static int fill_all(struct thing *t, int nr)\n"
        " \tdo {\n" + "".join(rows) + " \t} while (next(t));\n"
    )


def test_a_statement_the_target_never_had_may_be_left_out_of_a_rewrite() -> None:
    up = parse_mail(REWRITE_UP)
    d = drift.compare(up, parse_mail(_rewrite_bp()), {"mm/x.c": REWRITE_TARGET}, lambda n: True)
    assert d.equivalent, d.differences
    assert d.deviations == (
        "mm/x.c: upstream's change of "
        "`if (WARN_ON(!slot_valid(page_slot(t->page))))` "
        "left out: the target does not have it",
    )
    # the target has the second statement: leaving its change out is a difference
    d = drift.compare(
        up, parse_mail(_rewrite_bp(False)), {"mm/x.c": REWRITE_TARGET}, lambda n: True
    )
    assert not d.equivalent


LOCAL_UP = _mail(
    "@@ -1,2 +1,4 @@ void split_one(struct thing *t, struct folio *folio)\n"
    " {\n"
    "+\tbool gone = is_gone(t->entry);\n"
    "+\n"
    " \tlock(t);\n"
    "@@ -8,6 +10,5 @@ void split_one(struct thing *t, struct folio *folio)\n"
    " \t */\n"
    "-\tif (is_huge(t->entry) ||\n"
    "-\t    is_gone(t->entry)) {\n"
    "-\t\tif (folio && folio != entry_folio(t->entry))\n"
    "+\tif (is_huge(t->entry) || gone) {\n"
    "+\t\tif (folio && (gone || folio != entry_folio(t->entry)))\n"
    " \t\t\treturn;\n"
    " \t\tsplit_locked(t);\n"
)


def _local_bp(cond: str) -> str:
    return _mail(
        "@@ -20,4 +20,4 @@ void old_split(struct thing *t, struct page *page)\n"
        " \tif (page) {\n"
        "-\t\tif (page != entry_page(t->entry))\n"
        f"+\t\tif ({cond})\n"
        " \t\t\tgoto out;\n"
        " \t}\n"
    )


def test_a_local_written_out_and_a_term_that_needs_no_parentheses() -> None:
    # the target tests `page` in an outer if: the new term joins the one operand left
    bp = _local_bp("is_gone(t->entry) || page != entry_page(t->entry)")
    d = drift.compare(parse_mail(LOCAL_UP), parse_mail(bp), {"mm/x.c": ""}, lambda n: True)
    assert d.equivalent, d.differences
    assert any("local gone written out as `is_gone(t->entry)`" in x for x in d.deviations)
    for wrong in (
        "!is_gone(t->entry) || page != entry_page(t->entry)",  # negated
        "is_gone(t->entry) && page != entry_page(t->entry)",  # another operator
        # the term joins two operands, not one: the meaning depends on how they group
        "page && is_gone(t->entry) || page != entry_page(t->entry)",
    ):
        d = drift.compare(
            parse_mail(LOCAL_UP), parse_mail(_local_bp(wrong)), {"mm/x.c": ""}, lambda n: True
        )
        assert not d.equivalent, wrong


def test_a_split_declaration_that_drops_the_value_is_refused() -> None:
    # the declaration is there, its initialisation is not: the local is never set
    only_decl = _mail(
        "@@ -2,4 +2,5 @@ static int scan_one(struct thing *t, int nr)\n"
        " {\n"
        " \tint ret = 0;\n"
        "+\tbool busy;\n"
        " \n"
        " \tif (!t)\n"
    )
    d = _vs(SPLIT_UP, only_decl, TARGET)
    assert not d.equivalent


def test_removing_a_statement_upstream_keeps_is_refused_also_across_drift() -> None:
    up = _mail(
        "@@ -10,6 +10,3 @@ static int scan_one(struct thing *t, int nr)\n"
        " \t\tfolio_unlock(t->folio);\n"
        "-\t\tif (folio_is_device(t->folio))\n"
        "-\t\t\tfolio_put(t->folio);\n"
        "-\t\telse\n"
        "-\t\t\tfolio_putback(t->folio);\n"
        "+\t\tfolio_put(t->folio);\n"
        " \t}\n"
    )

    def bp(keep_put: bool) -> str:
        put = "+\t\tput_page(t->page);\n" if keep_put else ""
        return _mail(
            f"@@ -10,6 +10,{2 + keep_put} @@ static int scan_one(struct thing *t, int nr)\n"
            " \t\tunlock_page(t->page);\n"
            "-\t\tif (is_device_page(t->page))\n"
            "-\t\t\tput_page(t->page);\n"
            "-\t\telse\n"
            "-\t\t\tputback_page(t->page);\n" + put + " \t}\n"
        )

    has = lambda n: "folio" not in n  # noqa: E731 - the target predates folios
    d = drift.compare(parse_mail(up), parse_mail(bp(True)), {"mm/x.c": TARGET}, has)
    assert d.equivalent, d.differences
    # without the added put the reference is never dropped: a statement upstream keeps is gone
    d = drift.compare(parse_mail(up), parse_mail(bp(False)), {"mm/x.c": TARGET}, has)
    assert not d.equivalent


def test_a_statement_put_before_the_line_it_must_follow_is_refused() -> None:
    up = _mail(
        "@@ -10,5 +10,4 @@ static int scan_one(struct thing *t, int nr)\n"
        " \tif (t->next != t) {\n"
        " \t\tfolio_unlock(t->next);\n"
        "-\t\tif (folio_is_device(t->next))\n"
        "-\t\t\tfolio_putback(t->next);\n"
        "+\t\tfolio_put(t->next);\n"
        " \t}\n"
    )

    def bp(put_first: bool) -> str:
        put = "+\t\tput_page(t->next);\n"
        return _mail(
            "@@ -10,5 +10,4 @@ static int scan_one(struct thing *t, int nr)\n"
            " \tif (t->next != t) {\n" + (put if put_first else "") + " \t\tunlock_page(t->next);\n"
            "-\t\tif (is_device_page(t->next))\n"
            "-\t\t\tputback_page(t->next);\n" + ("" if put_first else put) + " \t}\n"
        )

    has = lambda n: "folio" not in n  # noqa: E731 - the target predates folios
    d = drift.compare(parse_mail(up), parse_mail(bp(False)), {"mm/x.c": TARGET}, has)
    assert d.equivalent, d.differences
    d = drift.compare(parse_mail(up), parse_mail(bp(True)), {"mm/x.c": TARGET}, has)
    assert not d.equivalent
    assert any("comes before `unlock_page ( t -> next ) ;`" in x for x in d.moved), d.moved


def test_a_statement_the_target_has_in_older_terms_is_not_left_out() -> None:
    # the target's first statement reads the slot the older way; leaving its change out is a
    # difference, though the line upstream removes is not in the target as such
    bp = _mail(
        "@@ -7,2 +7,4 @@ static int fill_all(struct thing *t, int nr)\n"
        "-\t\tif (WARN_ON(!t->page))\n"
        "-\t\t\treturn -ENOMEM;\n"
        "+\t\tif (WARN_ON(!t->page)) {\n"
        "+\t\t\terr = -ENOMEM;\n"
        "+\t\t\tbreak;\n"
        "+\t\t}\n"
    )
    d = _vs(REWRITE_UP, bp, REWRITE_TARGET)
    assert not d.equivalent


def test_an_argument_added_is_the_same_edit_whichever_comma_the_diff_takes() -> None:
    up = _mail(
        "@@ -10,2 +10,2 @@ static int scan_one(struct thing *t, int nr)\n"
        "-\t\treturn fill(vma, dst_start,\n"
        "-\t\t\t    src_start, len, flags);\n"
        "+\t\treturn fill(vma, dst_start, src_start,\n"
        "+\t\t\t    len, changing, flags);\n"
    )
    # the older call has other arguments after len: the diff says ", changing" there
    bp = _mail(
        "@@ -10,3 +10,3 @@ static int scan_one(struct thing *t, int nr)\n"
        " \t\treturn old_fill(mm, vma, dst_start,\n"
        "-\t\t\t\tsrc_start, len, mode,\n"
        "-\t\t\t\tcopy);\n"
        "+\t\t\t\tsrc_start, len, changing,\n"
        "+\t\t\t\tmode, copy);\n"
    )
    d = _vs(up, bp, TARGET)
    assert d.equivalent, d.differences
    assert d.deviations == (), d.deviations


def test_a_put_moved_back_before_a_line_the_target_spells_differently_is_refused() -> None:
    up = _mail(
        "@@ -10,5 +10,5 @@ static int scan_one(struct thing *t, int nr)\n"
        " \tif (unlikely(err)) {\n"
        "-\t\tfolio_put(folio);\n"
        " \t\tset_default(folio_page(folio, 0));\n"
        "+\t\tfolio_put(folio);\n"
        " \t\tif (err == -EEXIST)\n"
        " \t\t\tgoto retry;\n"
    )

    def bp(fixed: bool) -> str:
        first, last = ("-", "+") if fixed else ("+", "-")
        return _mail(
            "@@ -10,5 +10,5 @@ static int scan_one(struct thing *t, int nr)\n"
            " \tif (unlikely(err)) {\n"
            + (f"{first}\t\tput_page(page);\n" if fixed else "+\t\tput_page(page);\n")
            + ("" if fixed else "-\t\tput_page(page);\n")
            + " \t\tset_default(page);\n"
            + (f"{last}\t\tput_page(page);\n" if fixed else "")
            + " \t\tif (err == -EEXIST)\n"
            " \t\t\tgoto retry;\n"
        )

    has = lambda n: "folio" not in n  # noqa: E731 - the target predates folios
    d = drift.compare(parse_mail(up), parse_mail(bp(True)), {"mm/x.c": TARGET}, has)
    assert not d.moved, d.moved
    # the put back where it was, before the line it must follow: the fix undone
    d = drift.compare(parse_mail(up), parse_mail(bp(False)), {"mm/x.c": TARGET}, has)
    assert any("comes before `set_default ( page ) ;`" in x for x in d.moved), d.moved


def test_the_line_an_added_statement_follows_is_an_existing_line_with_a_name_in_common() -> None:
    # upstream adds the lock after a line the older tree lacks (folio_clear(zero)); the
    # backport adds it where the older tree's code is, before lines of its own and before
    # count_event(ALLOC): neither is "the line upstream puts it after" (only `( ) ;` alike)
    up = _mail(
        "@@ -10,3 +10,5 @@ static int get_zero(void)\n"
        " \tfolio_clear(zero);\n"
        "+\tspin_lock(&zero_lock);\n"
        "+\tstore(huge_zero, zero);\n"
        " \tcount_event(ALLOC);\n"
        " \treturn 1;\n"
    )
    bp = _mail(
        "@@ -10,2 +10,4 @@ static int get_zero(void)\n"
        "+\tspin_lock(&zero_lock);\n"
        "+\tstore(huge_zero, zero);\n"
        " \tcount_event(ALLOC);\n"
        " \treturn 1;\n"
    )
    assert misplaced.reordered(parse_mail(up).files[0], parse_mail(bp).files[0]) == []


def test_a_line_changed_in_place_upstream_is_not_re_added_elsewhere() -> None:
    up = _mail(
        "@@ -10,4 +10,4 @@ static int scan_one(struct thing *t, int nr)\n"
        " \t\tunsigned long pfn;\n"
        "-\t\tpfn = get_pfn(entry, walk->vma, addr);\n"
        "+\t\tpfn = get_pfn(entry, vma, addr);\n"
        " \t\tif (pfn == -1)\n"
        " \t\t\tcontinue;\n"
    )

    def bp(in_place: bool) -> str:
        new = "+\t\tpfn = get_pfn(pte[i], vma, addr);\n"
        return _mail(
            "@@ -9,5 +9,5 @@ static int scan_one(struct thing *t, int nr)\n"
            " \tfor (i = 0; i < nr; i++) {\n"
            + ("" if in_place else new)
            + " \t\tunsigned long pfn;\n"
            "-\t\tpfn = get_pfn(pte[i], walk->vma, addr);\n"
            + (new if in_place else "")
            + " \t\tif (pfn == -1)\n"
            " \t\t\tcontinue;\n"
        )

    d = _vs(up, bp(True), TARGET)
    assert d.equivalent, d.differences
    # the same two lines, but the new one now runs before the local is declared
    d = _vs(up, bp(False), TARGET)
    assert any("is added away from" in x for x in d.moved), d.moved


# the target already tests the flag its own way elsewhere (a braceless if)
SPELLED_TARGET = """\
static int fill_one(struct thing *t, bool *busy)
{
\tif (busy && READ_ONCE(*busy))
\t\treturn -EAGAIN;
\tif (t->other && READ_ONCE(*t->other))
\t\treturn -EBUSY;
\treturn poke(t);
}
"""


def _busy_mail(cond: str, body: str = "err = -EAGAIN;") -> str:
    return _mail(
        "@@ -10,3 +10,7 @@ static int fill_one(struct thing *t, bool *busy)\n"
        " \t\tlock_it(t);\n"
        f"+\t\tif ({cond}) {{\n"
        f"+\t\t\t{body}\n"
        "+\t\t\tbreak;\n"
        "+\t\t}\n"
        " \t\tt = NULL;\n"
        " \t\tgoto retry;\n"
    )


def _busy(cond: str, body: str = "err = -EAGAIN;", target: str = SPELLED_TARGET) -> drift.Drift:
    up = _busy_mail("busy && atomic_read(busy)")
    return _vs(up, _busy_mail(cond, body), target)


def test_a_test_written_the_way_the_target_writes_it_is_a_deviation() -> None:
    d = _busy("busy && READ_ONCE(*busy)")
    assert d.equivalent, d.differences
    # the note names only the part that differs
    want = (
        "adjusted: `atomic_read ( busy )` written as the target writes it, `READ_ONCE ( * busy )`"
    )
    assert any(x.endswith(want) for x in d.deviations), d.deviations


def test_the_target_s_spelling_does_not_excuse_another_test() -> None:
    # negated, on another operand, or a spelling the target never uses: a different test
    negated = SPELLED_TARGET.replace("busy && READ_ONCE", "busy && !READ_ONCE")
    assert not _busy("busy && !READ_ONCE(*busy)", target=negated).equivalent
    assert not _busy("t->other && READ_ONCE(*t->other)").equivalent
    assert not _busy("busy && READ_ONCE(*busy) && t").equivalent
    assert not _busy("busy && smp_load_acquire(busy)").equivalent
    # the test as the target writes it, but another statement under it
    assert not _busy("busy && READ_ONCE(*busy)", body="err = -EBUSY;").equivalent


# the target tracks in a local of its own what upstream's tree reads from the flags
DEAD_TARGET = """\
static int run_one(struct thing *t, struct lockish *m)
{
\tbool locked = false;
\tint flags = 0;

\tif (busy(t)) {
\t\tlock_it(m);
\t\tlocked = true;
\t\tflags |= F_LOCKED;
\t}
\tpoke(t);
\tif (locked)
\t\tunlock_it(m);
\tfinish(t);
\treturn 0;
}
"""

DEAD_UP = _mail(
    "@@ -5,9 +5,9 @@ static int run_one(struct thing *t, struct lockish *m)\n"
    " \tif (busy(t)) {\n"
    " \t\tlock_it(m);\n"
    " \t\tflags |= F_LOCKED;\n"
    " \t}\n"
    " \tpoke(t);\n"
    "-\tif (flags & F_LOCKED)\n"
    "-\t\tunlock_it(m);\n"
    " \tfinish(t);\n"
    "+\tif (flags & F_LOCKED)\n"
    "+\t\tunlock_it(m);\n"
    " \treturn 0;\n"
)


def _dead_bp(store: str = "locked = true;", keep_use: bool = False) -> str:
    use = " \tkeep(locked);\n" if keep_use else ""
    return _mail(
        f"@@ -3,{13 + keep_use} +3,{11 + keep_use} @@ static int run_one(struct thing *t, struct lockish *m)\n"
        "-\tbool locked = false;\n"
        " \tint flags = 0;\n"
        " \n"
        " \tif (busy(t)) {\n"
        " \t\tlock_it(m);\n"
        f"-\t\t{store}\n"
        " \t\tflags |= F_LOCKED;\n"
        " \t}\n"
        " \tpoke(t);\n"
        "-\tif (locked)\n"
        "-\t\tunlock_it(m);\n"
        " \tfinish(t);\n"
        "+\tif (flags & F_LOCKED)\n"
        "+\t\tunlock_it(m);\n" + use + " \treturn 0;\n"
    )


def _dead(bp: str, target: str = DEAD_TARGET) -> drift.Drift:
    return _vs(DEAD_UP, bp, target)


def test_a_local_of_the_target_removed_with_every_use_is_a_deviation() -> None:
    d = _dead(_dead_bp())
    assert d.equivalent, d.differences
    assert any("the target's local locked removed with its every use" in x for x in d.deviations)


def test_a_local_still_read_or_a_store_that_calls_is_not_dead() -> None:
    # the local is still read after the backport: its stores were not dead
    kept = DEAD_TARGET.replace("\treturn 0;", "\tkeep(locked);\n\treturn 0;")
    assert not _dead(_dead_bp(keep_use=True), kept).equivalent
    # the store calls something: removing it loses the call
    target = DEAD_TARGET.replace("locked = true;", "locked = try_it(m);")
    assert not _dead(_dead_bp(store="locked = try_it(m);"), target).equivalent


INC_TARGET = (
    "#include <linux/mm.h>\n#include <linux/sched.h>\n\n"
    "static int scan_one(struct thing *t, int nr)\n{\n\tint ret = 0;\n\n"
    "\twhile (nr--) {\n\t\tret += poke(t);\n\t}\n\treturn ret;\n}\n"
)
INC_UP = _mail(
    "@@ -8,3 +8,4 @@ static int scan_one(struct thing *t, int nr)\n"
    " \twhile (nr--) {\n+\t\twalk_page_range_vma(t);\n \t\tret += poke(t);\n \t}\n"
)
PAGEWALK_H = (
    "#ifndef _LINUX_PAGEWALK_H\n#define _LINUX_PAGEWALK_H\n"
    "struct mm_walk_ops {\n\tint (*pmd_entry)(void);\n};\n"
    "int walk_page_range_vma(struct thing *t);\n#endif\n"
)


def _inc_bp(line: str) -> str:
    return _mail(
        f"@@ -1,5 +1,6 @@\n #include <linux/mm.h>\n+{line}\n #include <linux/sched.h>\n \n"
        " static int scan_one(struct thing *t, int nr)\n {\n"
        "@@ -8,3 +9,4 @@ static int scan_one(struct thing *t, int nr)\n"
        " \twhile (nr--) {\n+\t\twalk_page_range_vma(t);\n \t\tret += poke(t);\n \t}\n"
    )


def test_an_include_the_older_file_lacks_is_a_deviation_when_the_header_declares_what_the_fix_uses():
    files = {"include/linux/pagewalk.h": PAGEWALK_H, "include/linux/rmap.h": "void rmap(void);\n"}

    def vs(line: str, header=files.get) -> drift.Drift:
        return drift.compare(
            parse_mail(INC_UP),
            parse_mail(_inc_bp(line)),
            {"mm/x.c": INC_TARGET},
            lambda n: True,
            header,
        )

    d = vs("#include <linux/pagewalk.h>")
    assert d.equivalent, d.differences
    assert d.deviations == (
        "mm/x.c: added #include <linux/pagewalk.h>, which the older file lacks: "
        "it declares walk_page_range_vma",
    )
    # a header that declares nothing the change uses, one the tree lacks, or no way to read
    # the tree: a difference like any other added line
    for line, header in (
        ("#include <linux/rmap.h>", files.get),
        ("#include <linux/nothere.h>", files.get),
        ("#include <linux/pagewalk.h>", None),
    ):
        d = vs(line, header)
        assert not d.equivalent and "include" in d.differences[0], line
    # merely mentioning the name (in a comment, in a call) is not declaring it
    mention = {
        "include/linux/pagewalk.h": "/* walk_page_range_vma */\nvoid f(void) { walk_page_range_vma(0); }\n"
    }
    assert not vs("#include <linux/pagewalk.h>", mention.get).equivalent


def test_validate_judges_an_added_include_by_the_header_it_reads():
    up = UpstreamFix(parse_mail(INC_UP), None, {})
    v = validate_files(
        {"mm/x.c": INC_TARGET.encode()},
        parse_mail(_inc_bp("#include <linux/pagewalk.h>")),
        (),
        INTENT_VERSION,
        upstream=up,
        tree=lambda n: True,
        header={"include/linux/pagewalk.h": PAGEWALK_H}.get,
    )
    assert v.accepted, v.lines()
    eq = v.verdict("equivalence")
    assert "with deviations" in eq.message
    assert any("#include <linux/pagewalk.h>" in x for x in eq.details)


def test_validate_on_a_repository_reads_the_header_at_the_ref(tmp_path):
    import subprocess

    from reviewbot.backport.validate import validate
    from reviewbot.git.repository import Repository

    (tmp_path / "mm").mkdir()
    (tmp_path / "include/linux").mkdir(parents=True)
    (tmp_path / "mm/x.c").write_text(INC_TARGET)
    (tmp_path / "include/linux/pagewalk.h").write_text(PAGEWALK_H)
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "tree"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True, capture_output=True)
    repo = Repository(tmp_path)
    v = validate(
        repo,
        parse_mail(_inc_bp("#include <linux/pagewalk.h>")),
        repo.resolve("HEAD"),
        (),
        upstream=parse_mail(INC_UP),
    )
    assert v.accepted, v.lines()
    bad = validate(
        repo,
        parse_mail(_inc_bp("#include <linux/nothere.h>")),
        repo.resolve("HEAD"),
        (),
        upstream=parse_mail(INC_UP),
    )
    assert not bad.accepted


def _goto_target(label: bool, own_exit: str = "return err;") -> str:
    return (
        "static int apply(struct ctx *c)\n{\n\tint err = 0;\n\n"
        "\terr = set_attrs(c);\n\tif (err)\n\t\t"
        + own_exit
        + "\n\tcommit(c);\n"
        + ("out:\n\tput(c);\n" if label else "")
        + "\treturn 0;\n}\n"
    )


_GOTO_UP = _mail(
    "@@ -4,4 +4,9 @@ static int apply(struct ctx *c)\n"
    " \n"
    "+\tif (!c->interval) {\n+\t\terr = -EINVAL;\n+\t\tgoto out;\n+\t}\n+\n"
    " \terr = set_attrs(c);\n \tif (err)\n \t\tgoto out;\n"
)


def _goto_bp(own_exit: str, added: str) -> str:
    n = 4 + added.count("\n")
    return _mail(
        f"@@ -4,4 +4,{n} @@ static int apply(struct ctx *c)\n"
        " \n" + added + f" \terr = set_attrs(c);\n \tif (err)\n \t\t{own_exit}\n"
    )


def test_a_goto_to_a_label_the_target_lacks_is_its_own_return_of_the_value():
    # upstream sets err and jumps to out; the older function has no out: and returns err
    # where upstream jumps: `return -EINVAL;` is the same exit
    ret = "+\tif (!c->interval)\n+\t\treturn -EINVAL;\n+\n"
    d = _vs(_GOTO_UP, _goto_bp("return err;", ret), _goto_target(False))
    assert d.equivalent, d.differences
    assert any("`err = -EINVAL; goto out;` as `return -EINVAL;`" in x for x in d.deviations)
    # the function has the label: the jump is what it should keep
    assert not _vs(_GOTO_UP, _goto_bp("return err;", ret), _goto_target(True)).equivalent
    # the function does not leave by returning err: no evidence for the rewrite
    other = _goto_target(False, "return -EIO;")
    assert not _vs(_GOTO_UP, _goto_bp("return -EIO;", ret), other).equivalent
    # another value, or no test at all, is another exit
    wrong = "+\tif (!c->interval)\n+\t\treturn -EBUSY;\n+\n"
    assert not _vs(_GOTO_UP, _goto_bp("return err;", wrong), _goto_target(False)).equivalent
    bare = "+\treturn -EINVAL;\n+\n"
    assert not _vs(_GOTO_UP, _goto_bp("return err;", bare), _goto_target(False)).equivalent


def test_a_return_for_a_missing_label_is_no_deviation_where_the_target_jumps_too():
    # the backport's context returns err after one test and jumps to the target's own fail:
    # after another: upstream's out may be that label, so the return is not its exit
    tail = " \terr = flush(c);\n \tif (err)\n \t\tgoto fail;\n"
    up = _mail(
        "@@ -4,8 +4,13 @@ static int apply(struct ctx *c)\n \n"
        "+\tif (!c->interval) {\n+\t\terr = -EINVAL;\n+\t\tgoto out;\n+\t}\n+\n"
        " \terr = set_attrs(c);\n \tif (err)\n \t\tgoto out;\n \tcommit(c);\n" + tail
    )
    bp = _mail(
        "@@ -4,8 +4,11 @@ static int apply(struct ctx *c)\n \n"
        "+\tif (!c->interval)\n+\t\treturn -EINVAL;\n+\n"
        " \terr = set_attrs(c);\n \tif (err)\n \t\treturn err;\n \tcommit(c);\n" + tail
    )
    target = (
        "static int apply(struct ctx *c)\n{\n\tint err = 0;\n\n\terr = set_attrs(c);\n"
        "\tif (err)\n\t\treturn err;\n\tcommit(c);\n\terr = flush(c);\n\tif (err)\n"
        "\t\tgoto fail;\n\treturn 0;\nfail:\n\tundo(c);\n\treturn err;\n}\n"
    )
    assert not _vs(up, bp, target).equivalent


def test_a_difference_reads_as_c_in_word_diff_notation() -> None:
    d = _compare(_backport("!PageLocked(t->page)", ["continue;"]))
    shown = " ".join(d.differences)
    # the tokens are written back as C, the edit marked as `git diff --word-diff` marks it
    assert "the backport {+if (!PageLocked(t->page)) { continue; }+}" in shown
    assert "upstream {+if (folio_test_locked(t->folio)) {" in shown


@pytest.mark.parametrize(
    "c",
    [
        "rv = -EHWPOISON;",
        "f(*p, &q);",
        "a = b - c * d;",
        "if (p->x) return;",
        "x[i] = ~y;",
        "#include <linux/shmem_fs.h>",
        "if (a < b && c > d)",
    ],
)
def test_join_writes_tokens_back_as_c_is_written(c: str) -> None:
    assert ctokens.join(ctokens.tokens([c])) == c


def test_a_long_region_is_cut_to_its_differences() -> None:
    same = [f"+tok{i}" for i in range(80)]
    r = edits.Region(tuple([*same, "+>", *same]), tuple([*same, "+<", *same]))
    shown = r.show()
    assert len(shown) < 200
    assert shown == (
        "upstream -> the backport: … {+tok77 tok78 tok79 > tok0 tok1 tok2+} … -> "
        "… {+tok77 tok78 tok79 < tok0 tok1 tok2+} …"
    )
    assert edits.Region((), ("+x",)).show() == "upstream (nothing), the backport {+x+}"


_SIGNED = st.lists(
    st.tuples(
        st.sampled_from(["+", "-", ""]),
        st.sampled_from(["x", "(", ")", "-", "*", ";", "=", "if", ""]),
    ).map(lambda t: t[0] + t[1]),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_SIGNED, _SIGNED)
def test_a_region_always_shows_as_one_line(up: list[str], bp: list[str]) -> None:
    shown = edits.Region(tuple(up), tuple(bp)).show()
    assert "\n" not in shown and shown.startswith("upstream")


def _two_files(header_hunk: str | None, x_line: str) -> str:
    out = "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n"
    if header_hunk is not None:
        out += "--- a/include/linux/h.h\n+++ b/include/linux/h.h\n" + header_hunk
    return out + (
        "--- a/mm/x.c\n+++ b/mm/x.c\n"
        "@@ -7,3 +7,3 @@ static int scan_one(struct thing *t, int nr)\n"
        " \twhile (nr--) {\n"
        "-\t\tif (old_busy(t))\n"
        f"+\t\t{x_line}\n"
        " \t\t\tcontinue;\n"
    )


NEW_HELPER = (
    "@@ -30,6 +30,11 @@ static inline int desc_count(struct desc *d)\n"
    " {\n \treturn atomic_read(&d->count);\n }\n"
    "+\n+static inline bool desc_is_shared(struct desc *d)\n+{\n"
    "+\treturn !!desc_count(d);\n+}\n"
    " #else\n static inline void desc_init(struct desc *d)\n {\n"
)


def _lacks_helpers(name: str) -> bool:
    return name not in ("desc_is_shared", "desc_count")


def test_a_new_helper_the_backport_does_not_use_may_be_left_out():
    # upstream adds desc_is_shared() and calls it; the older tree's backport writes what the
    # helper stands for instead, so it needs no helper at all
    up = parse_mail(_two_files(NEW_HELPER, "if (desc_is_shared(t->desc))"))
    bp = parse_mail(_two_files(None, "if (atomic_read(&t->desc->count))"))
    d = drift.compare(up, bp, {"mm/x.c": TARGET}, _lacks_helpers)
    assert d.equivalent, d.differences
    assert (
        "include/linux/h.h: left out (defines desc_is_shared, which the backport does not use)"
        in d.deviations
    )


def test_a_new_helper_the_backport_calls_cannot_be_left_out():
    up = parse_mail(_two_files(NEW_HELPER, "if (desc_is_shared(t->desc))"))
    bp = parse_mail(_two_files(None, "if (desc_is_shared(t->desc))"))
    d = drift.compare(up, bp, {"mm/x.c": TARGET}, _lacks_helpers)
    assert not d.equivalent
    assert "include/linux/h.h: upstream changes it, the backport does not" in d.differences


def test_a_header_hunk_that_changes_code_is_not_a_new_helper():
    changed = NEW_HELPER.replace(
        " \treturn atomic_read(&d->count);\n", "-\treturn atomic_read(&d->count);\n+\treturn 0;\n"
    ).replace("@@ -30,6 +30,11 @@", "@@ -30,6 +30,11 @@")
    up = parse_mail(_two_files(changed, "if (desc_is_shared(t->desc))"))
    bp = parse_mail(_two_files(None, "if (atomic_read(&t->desc->count))"))
    d = drift.compare(up, bp, {"mm/x.c": TARGET}, _lacks_helpers)
    assert not d.equivalent


TWO_FUNCTIONS = """\
static void keep(struct page *page)
{
\tstruct folio *folio = page_folio(page);

\tfolio_get(folio);
}

static void restore(struct hstate *h, struct page *page)
{
\tif (!h->surplus && private_lock(h) &&
\t    folio_test_anon(page_folio(page)))
\t\tset_restore(page_folio(page));
}
"""


def _restore_fix(added: str) -> str:
    return (
        "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n--- a/mm/x.c\n+++ b/mm/x.c\n"
        "@@ -9,4 +9,5 @@ static void restore(struct hstate *h, struct page *page)\n"
        " {\n"
        " \tif (!h->surplus && private_lock(h) &&\n"
        f"+\t    {added}\n"
        " \t    folio_test_anon(page_folio(page)))\n"
        " \t\tset_restore(page_folio(page));\n"
    )


def test_a_local_only_other_functions_have_is_one_the_target_lacks():
    # upstream's restore() has a `folio` local; the target's only has `page`, and the backport
    # says page_folio(page) where upstream says folio
    up = parse_mail(_restore_fix("!folio_mapped(folio) &&"))
    bp = parse_mail(_restore_fix("!folio_mapped(page_folio(page)) &&"))
    d = drift.compare(up, bp, {"mm/x.c": TWO_FUNCTIONS}, lambda n: True)
    assert d.equivalent, d.differences
    assert "mm/x.c: adjusted: folio not in the target" in d.deviations


def test_a_backport_that_loses_upstreams_negation_is_rejected():
    up = parse_mail(_restore_fix("!folio_mapped(folio) &&"))
    bp = parse_mail(_restore_fix("folio_mapped(page_folio(page)) &&"))
    d = drift.compare(up, bp, {"mm/x.c": TWO_FUNCTIONS}, lambda n: True)
    assert not d.equivalent


RETRACT_FILE = """\
static int scan(struct mm *mm)
{
\tint result = 0;

\treturn result;
}

static void retract(struct mm *mm, struct vma *vma)
{
\tfor (; vma; vma = vma->next) {
\t\tif (write_trylock(mm)) {
\t\t\tclear(vma);
\t\t\twrite_unlock(mm);
\t\t}
\t}
}
"""


def _retract(body: list[str]) -> str:
    added = "".join(f"+\t\t\t\t{x}\n" for x in body)
    return (
        "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n--- a/mm/x.c\n+++ b/mm/x.c\n"
        f"@@ -11,4 +11,{6 + len(body)} @@ static void retract(struct mm *mm, struct vma *vma)\n"
        " \t\tif (skip(vma))\n"
        " \t\t\tcontinue;\n"
        " \t\tif (write_trylock(mm)) {\n"
        "+\t\t\tif (vma->anon) {\n" + added + "+\t\t\t}\n"
        " \t\t\tclear(vma);\n"
    )


def test_an_inlined_exit_must_keep_the_statements_around_an_assignment_it_drops():
    # upstream sets `result` (only scan() has one) and jumps to a label retract() lacks; the
    # backport drops the assignment and writes the label's exit: unlock, then continue
    up = parse_mail(_retract(["result = SCAN_ANON;", "goto unlock_next;"]))
    shipped = parse_mail(_retract(["write_unlock(mm);", "continue;"]))
    d = drift.compare(up, shipped, {"mm/x.c": RETRACT_FILE}, lambda n: n != "unlock_next")
    assert d.equivalent, d.differences
    # ... and one that only continues (the lock stays held) is not the same change
    dropped = parse_mail(_retract(["continue;"]))
    d = drift.compare(up, dropped, {"mm/x.c": RETRACT_FILE}, lambda n: n != "unlock_next")
    assert not d.equivalent


LOCK_TARGET = """\
static void remove_pages(struct inode *inode)
{
\tfor (i = 0; i < nr; i++) {
\t\tstruct page *page = pages[i];

\t\tif (unlikely(page_mapped(page))) {
\t\t\tunmap_page(inode, page);
\t\t}
\t\tlock_page(page);
\t\tremove_page(page);
\t}
}
"""


def test_a_statement_put_inside_a_block_upstream_keeps_it_out_of_is_moved():
    # upstream takes the folio lock before testing whether the folio is mapped (its `if` has
    # no braces); the older tree's `if (unlikely(page_mapped(page))) {` is the same test said
    # with pages: a lock_page() inside it is taken only when mapped -- another meaning
    up = parse_mail(
        "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n--- a/mm/x.c\n+++ b/mm/x.c\n"
        "@@ -3,5 +3,5 @@ static bool remove_one(struct folio *folio)\n"
        "+\tfolio_lock(folio);\n"
        " \tif (unlikely(folio_mapped(folio)))\n"
        " \t\tunmap_folio(inode, folio);\n"
        " \n"
        "-\tfolio_lock(folio);\n"
        " \tremove_folio(folio);\n"
    )

    def bp(inside: bool) -> drift.Drift:
        lines = (
            " \t\tif (unlikely(page_mapped(page))) {\n+\t\t\tlock_page(page);\n"
            if inside
            else "+\t\tlock_page(page);\n \t\tif (unlikely(page_mapped(page))) {\n"
        )
        mail = (
            "From: A <a@example.org>\nSubject: [PATCH] fix\n\n---\n--- a/mm/x.c\n+++ b/mm/x.c\n"
            "@@ -6,5 +6,5 @@ static void remove_pages(struct inode *inode)\n"
            + lines
            + " \t\t\tunmap_page(inode, page);\n \t\t}\n-\t\tlock_page(page);\n \t\tremove_page(page);\n"
        )
        return drift.compare(
            up, parse_mail(mail), {"mm/x.c": LOCK_TARGET}, lambda n: "folio" not in n
        )

    assert bp(inside=False).equivalent, bp(inside=False).differences
    d = bp(inside=True)
    assert not d.equivalent and any(
        "sits under `if (unlikely(page_mapped(page))) {`" in x for x in d.moved
    )
