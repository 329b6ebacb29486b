"""The value types' shared rules: kernel version order and "the worst status wins"."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from reviewbot.model.kinds import CellState, FixStatus, RefKind
from reviewbot.model.results import Status, worst
from reviewbot.model.versions import KernelVersion, series_in_name, version_order_key


def test_version_order_rc_before_release_numeric_and_unparseable_last():
    names = ["master", "v6.3", "v5.10.10", "v6.3-rc1", "v5.10", "linux-next", "v5.10.9", "v4.4"]
    assert sorted(names, key=version_order_key) == [
        "v4.4",
        "v5.10",
        "v5.10.9",
        "v5.10.10",
        "v6.3-rc1",
        "v6.3",
        "linux-next",
        "master",
    ]


def test_version_order_ties_break_by_name_or_by_what_the_caller_gives():
    assert sorted(["v5.10.0", "v5.10"], key=version_order_key) == ["v5.10", "v5.10.0"]
    kv = KernelVersion(5, 10)
    assert version_order_key(kv, False, "b") < version_order_key(kv, True, "a")
    assert version_order_key(None) > version_order_key("v99.0")
    assert version_order_key("") == version_order_key(None)


@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 30), st.integers(0, 300), st.integers(0, 9)),
        max_size=20,
    )
)
def test_version_order_agrees_with_kernel_version_order(parts):
    names = [f"v{a}.{b}.{c}" + (f"-rc{rc}" if rc else "") for a, b, c, rc in parts]
    got = sorted(names, key=version_order_key)
    assert [KernelVersion.parse(n) for n in got] == sorted(KernelVersion.parse(n) for n in names)


def test_series_in_branch_names():
    assert series_in_name("linux-5.10.y") == KernelVersion(5, 10)
    assert series_in_name("stable/linux-6.1.y") == KernelVersion(6, 1)
    assert series_in_name("mm-unstable") is None


def test_worst_status_wins():
    assert worst([Status.PRESENT, Status.MISSING, Status.NOT_APPLICABLE]) is Status.MISSING
    assert worst([Status.NOT_APPLICABLE, Status.PRESENT]) is Status.PRESENT
    assert worst(iter([Status.NOT_APPLICABLE])) is Status.NOT_APPLICABLE
    assert worst([]) is None


def test_enums_print_and_serialise_as_their_values():
    for member in (RefKind.REMOTE, FixStatus.NEEDS_BACKPORT, CellState.NO_FILE):
        assert str(member) == f"{member}" == member.value
        assert json.dumps({"k": member}) == json.dumps({"k": member.value})
        assert json.dumps([member], indent=2) == json.dumps([member.value], indent=2)
    assert FixStatus("regressed").actionable and not FixStatus("fixed").actionable
    assert CellState.of(Status.NOT_APPLICABLE) is CellState.NOT_APPLICABLE
