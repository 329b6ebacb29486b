"""Rules are data: a second rule written in TOML only, and rule-file validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.checker.check import check_source
from reviewbot.model.errors import RuleError
from reviewbot.model.results import Status, VersionInfo
from reviewbot.rules.spec import builtin_rules, load_rule_file, parse_rule

RULE = Path(__file__).parent / "rules" / "item-lock.toml"

GUARDED = b"""
struct item { int flags; };
static int drain_items(struct item *items, int n)
{
	struct item *it;
	int done = 0;

	for (it = items; it < items + n; it++) {
		struct item cur = item_get(it);
		if (!item_present(cur))
			continue;
		if (unlikely(item_locked(cur)))
			return -EBUSY;
		consume(cur);
		done++;
	}
	trace_items_drained(done);
	return done;
}
"""


def _run(src: bytes):
    (res,) = check_source(src, "lib/items.c", (load_rule_file(RULE),), VersionInfo(None, "unknown"))
    (c,) = res.checks
    return c


def test_second_rule_finds_guard():
    c = _run(GUARDED)
    assert c.status is Status.PRESENT, c.message
    assert c.function == "drain_items"
    assert c.line == 12


def test_second_rule_rejects_continue():
    c = _run(GUARDED.replace(b"return -EBUSY;", b"continue;"))
    assert c.status is Status.MISSING
    assert "continue" in c.message


def test_second_rule_rejects_test_in_absent_branch():
    src = GUARDED.replace(
        b"if (!item_present(cur))\n\t\t\tcontinue;",
        b"if (!item_present(cur)) {\n\t\t\tif (item_locked(cur))\n\t\t\t\treturn -EBUSY;\n\t\t\tcontinue;\n\t\t}",
    ).replace(b"\t\tif (unlikely(item_locked(cur)))\n\t\t\treturn -EBUSY;\n", b"")
    c = _run(src)
    assert c.status is Status.MISSING
    assert "absent-item branch" in c.message


def test_second_rule_finds_renamed_function_by_fingerprint():
    c = _run(GUARDED.replace(b"drain_items(struct", b"drain_all_items(struct"))
    assert c.status is Status.PRESENT
    assert c.function == "drain_all_items"
    assert "fingerprint" in c.message


def test_builtin_rule_loads():
    (rule,) = [r for r in builtin_rules() if r.id == "khugepaged-uffd-wp"]
    assert [c.id for c in rule.checks] == ["scan", "isolate", "file"]
    assert {"pte_uffd_wp", "pte_uffd"} <= rule.checks[1].predicates


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"schema": 2, "id": "x", "checks": []}, "schema"),
        ({"schema": 1, "checks": []}, "'id'"),
        (
            {
                "schema": 1,
                "id": "x",
                "checks": [{"id": "a", "kind": "grep", "predicate": "p", "functions": ["f"]}],
            },
            "unknown kind",
        ),
        (
            {
                "schema": 1,
                "id": "x",
                "names": {},
                "checks": [
                    {"id": "a", "kind": "loop-bail", "predicate": "nope", "functions": ["f"]}
                ],
            },
            "not a group",
        ),
        (
            {
                "schema": 1,
                "id": "x",
                "names": {"p": ["p"]},
                "checks": [
                    {
                        "id": "a",
                        "kind": "vma-bail",
                        "predicate": "p",
                        "sites": [{"id": "s", "functions": ["f"]}],
                    }
                ],
            },
            "actions",
        ),
    ],
)
def test_bad_rules_are_refused(data, needle):
    with pytest.raises(RuleError) as e:
        parse_rule(data, "test.toml")
    assert needle in str(e.value)
