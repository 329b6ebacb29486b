"""check_first_present: the first existing path is checked; later ones only while a function is missing."""

from __future__ import annotations

from pathlib import Path

from reviewbot.checker.check import check_first_present, check_source, functions_missing
from reviewbot.model.results import VersionInfo
from reviewbot.rules.spec import get_rule

ERAS = Path(__file__).resolve().parent.parent / "fixtures" / "eras"
V = VersionInfo("6.6.0", "flag")


def test_none_when_no_path_exists():
    assert check_first_present(lambda p: None, get_rule("khugepaged-uffd-wp"), V, "x") is None


def test_first_existing_path_is_checked_and_later_ones_are_not_read_when_complete():
    rule = get_rule("khugepaged-uffd-wp")
    data = (ERAS / "v6.6.c").read_bytes()
    read: list[str] = []

    def reader(path: str) -> bytes | None:
        read.append(path)
        return data if path == rule.paths[1] else None

    checked = check_first_present(reader, rule, V, "ref")
    assert checked is not None
    (expected,) = check_source(data, rule.paths[1], (rule,), V, ref="ref")
    assert checked.result == expected
    assert not functions_missing(checked.result.checks)
    assert checked.extra_paths == ()
    assert read == list(rule.paths[:2])  # the third path is never read


def test_later_paths_are_searched_while_a_function_is_missing():
    rule = get_rule("khugepaged-uffd-wp")
    data = (ERAS / "v6.6.c").read_bytes()
    files = {"a.c": b"int unrelated(void) { return 0; }\n", "b.c": None, "c.c": data}
    checked = check_first_present(files.get, rule, V, None, ["a.c", "b.c", "c.c"])
    assert checked is not None
    assert checked.result.source == "a.c"
    assert checked.extra_paths == ("c.c",)
    assert not functions_missing(checked.result.checks)
