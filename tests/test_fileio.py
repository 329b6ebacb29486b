"""model.fileio: atomic writes, and never replacing what is not a regular file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reviewbot.model import fileio
from reviewbot.model.errors import InputError


def test_a_device_is_written_through_never_replaced(monkeypatch):
    """``-o /dev/null`` once renamed a temporary file over the device node itself."""

    def no_replace(*a, **k):
        raise AssertionError("os.replace on a device")

    monkeypatch.setattr(fileio.os, "replace", no_replace)
    assert fileio.write_atomic(Path(os.devnull), "report\n") is True
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_regular_file_is_replaced_whole_and_left_alone_when_unchanged(tmp_path):
    out = tmp_path / "sub" / "report.md"
    assert fileio.write_atomic(out, "one\n") is True
    assert out.read_text() == "one\n"
    assert fileio.write_atomic(out, "one\n") is False  # unchanged: not rewritten
    assert fileio.write_atomic(out, "two\n") is True and out.read_text() == "two\n"
    assert [p.name for p in out.parent.iterdir()] == ["report.md"]  # no temporary file left


def test_an_unwritable_place_is_one_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        fileio.write_atomic(blocker / "report.md", "x")
