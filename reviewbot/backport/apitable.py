"""The data table of known kernel API renames (``queries/api-renames.toml``).

Generation (``known.valid_rename``: an upstream callee may become the older tree's name) and
validation (``drift``: a backport that uses the old name is equivalent, noted the way stable
notes it) read the same table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from reviewbot.model.fileio import package_dir


@dataclass(frozen=True)
class Rename:
    """One known API rename (``queries/api-renames.toml``)."""

    new: str
    old: str
    since: str
    api: str


@cache
def api_renames() -> dict[tuple[str, str], Rename]:
    """(name upstream uses, name an older tree uses) -> the rename, from the data table."""
    text = package_dir("reviewbot.queries").joinpath("api-renames.toml").read_text("utf-8")
    out = {}
    for row in tomllib.loads(text).get("rename", []):
        r = Rename(str(row["new"]), str(row["old"]), str(row["since"]), str(row["api"]))
        out[(r.new, r.old)] = r
    return out
