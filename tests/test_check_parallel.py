"""`check` of many files uses a worker per core: same results, same order, same first error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.checker import files as checked
from reviewbot.model.errors import InputError
from reviewbot.rules.spec import builtin_rules

ERAS = sorted((Path(__file__).parent.parent / "fixtures" / "eras").glob("*.c"))


def test_worker_count(monkeypatch):
    monkeypatch.delenv("REVIEWBOT_JOBS", raising=False)
    assert checked._workers(checked.PARALLEL_FROM - 1) == 1
    monkeypatch.setenv("REVIEWBOT_JOBS", "1")
    assert checked._workers(100) == 1
    monkeypatch.setenv("REVIEWBOT_JOBS", "3")
    assert checked._workers(100) == 3 and checked._workers(2) == 2


@pytest.mark.slow
def test_workers_give_the_results_of_one_process(monkeypatch):
    rules = builtin_rules()
    monkeypatch.setenv("REVIEWBOT_JOBS", "1")
    serial = checked.check_files(ERAS, rules, "6.1.20")
    monkeypatch.setenv("REVIEWBOT_JOBS", "2")
    parallel = checked.check_files(ERAS, rules, "6.1.20")
    # every era file defines the functions of every built-in rule: one result per file and rule
    assert len(serial) == len(ERAS) * len(rules) and len(ERAS) >= checked.PARALLEL_FROM
    assert parallel == serial


@pytest.mark.slow
def test_workers_raise_the_first_error_in_input_order(tmp_path, monkeypatch):
    bad = tmp_path / "not-khugepaged.c"
    bad.write_text("int main(void) { return 0; }\n")
    files = [*ERAS[:6], bad, *ERAS[6:12], tmp_path / "missing.c"]
    monkeypatch.setenv("REVIEWBOT_JOBS", "2")
    with pytest.raises(InputError) as e:
        checked.check_files(files, builtin_rules(), "6.1.20")
    assert "not-khugepaged.c: defines none of the functions" in str(e.value)
    assert e.value.hint is not None and "mm/khugepaged.c" in e.value.hint
