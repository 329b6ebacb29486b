"""Kernel versions: parsing, ordering (the one sort key every ref list uses), and reading them
from a top-level Makefile."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering
from pathlib import Path

from reviewbot.model.errors import InputError

# Anchored at both ends: what follows the numbers is an rc and/or one ``-word`` local suffix
# (``v2.6.11-tree``), never free text, so ``6.1 ; rm -rf`` and ``5.10.x`` are not versions.
_VERSION_RE = re.compile(
    r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:-?(rc\d+))?(?:-([A-Za-z0-9][A-Za-z0-9._+~]*))?", re.ASCII
)


@total_ordering
@dataclass(frozen=True)
class KernelVersion:
    """A kernel release: 5.10.179, 6.3.0-rc1, 6.1 (== 6.1.0). rc releases sort before the release."""

    major: int
    minor: int
    patch: int = 0
    rc: int | None = None
    extra: str = ""

    @classmethod
    def parse(cls, text: str) -> KernelVersion:
        """Parse ``v5.10.9``, ``5.10``, ``6.3-rc1``, ``6.3.0-rc1`` (a leading ``v`` is allowed).

        The whole text must be a version: ``5.10.x`` or ``6.1 ; rm -rf`` raise InputError.
        """
        m = _VERSION_RE.fullmatch(text.strip())
        if not m:
            raise InputError(f"not a kernel version: {text!r}", "write it like 6.1.20 or v5.10")
        rc = int(m.group(4)[2:]) if m.group(4) else None
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), rc, m.group(5) or "")

    @classmethod
    def try_parse(cls, text: str) -> KernelVersion | None:
        """Like :meth:`parse`, but None for text that is not a kernel version."""
        try:
            return cls.parse(text)
        except InputError:
            return None

    def _key(self) -> tuple[int, int, int, int, int]:
        return (self.major, self.minor, self.patch, 0 if self.rc is not None else 1, self.rc or 0)

    def __lt__(self, other: KernelVersion) -> bool:
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KernelVersion) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def series(self) -> str:
        """``5.10`` for 5.10.179."""
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        return f"{s}-rc{self.rc}" if self.rc is not None else s


_NO_VERSION = KernelVersion(0, 0)
_SERIES_IN_NAME = re.compile(r"(\d+)\.(\d+)")

# (no version?, version, tie-breakers): sorts known versions first, in kernel order.
VersionOrderKey = tuple[bool, KernelVersion, tuple[str | bool, ...]]


def version_order_key(
    name_or_version: str | KernelVersion | None, *then: str | bool
) -> VersionOrderKey:
    """The sort key of kernel version order, for every list of refs, releases or branches.

    A string is parsed as a version or tag name (``v5.10.9``, ``6.3-rc1``). Versions sort
    numerically (v5.10.9 < v5.10.10) with rc releases before the release; anything without a
    version (None, an unparseable name) sorts after every version. Ties are broken by ``then``
    when given, else by the name itself, so the order never depends on the input order.
    """
    if isinstance(name_or_version, KernelVersion):
        kv: KernelVersion | None = name_or_version
    else:
        kv = KernelVersion.try_parse(name_or_version) if name_or_version else None
        if not then and name_or_version:
            then = (name_or_version,)
    return (kv is None, kv if kv is not None else _NO_VERSION, then)


def series_in_name(name: str) -> KernelVersion | None:
    """The series a branch name states: ``linux-5.10.y``, ``stable/linux-6.1.y`` -> 5.10, 6.1.

    The first ``X.Y`` in the name; None when it has none (``master``, ``mm-unstable``).
    """
    m = _SERIES_IN_NAME.search(name)
    return KernelVersion(int(m.group(1)), int(m.group(2))) if m else None


_MAKEFILE_VAR = re.compile(
    rb"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=[ \t]*(\S*)[ \t]*$", re.M
)


def version_from_makefile(data: bytes) -> KernelVersion | None:
    """Read VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION from a kernel's top-level Makefile."""
    found: dict[bytes, bytes] = {}
    for m in _MAKEFILE_VAR.finditer(data[:4096]):
        found.setdefault(m.group(1), m.group(2))
    try:
        major = int(found[b"VERSION"])
        minor = int(found[b"PATCHLEVEL"])
    except (KeyError, ValueError):
        return None
    try:
        patch = int(found.get(b"SUBLEVEL") or 0)
    except ValueError:
        patch = 0
    extra = found.get(b"EXTRAVERSION", b"").decode("ascii", "replace")
    rc = None
    rc_match = re.match(r"^-rc(\d+)", extra)
    if rc_match:
        rc, extra = int(rc_match.group(1)), extra[rc_match.end() :]
    return KernelVersion(major, minor, patch, rc, extra.lstrip("-"))


_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", re.M)


def defines_in(data: bytes | None, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` macro names a header #defines (uapi evidence of backports)."""
    if not data or not wanted:
        return set()
    return {m.group(1).decode() for m in _DEFINE.finditer(data)} & wanted


def tree_root(path: Path) -> Path | None:
    """The top of the kernel tree holding ``path`` (a Makefile with VERSION and an mm/ dir)."""
    for parent in path.resolve().parents:
        mk = parent / "Makefile"
        if (parent / "mm").is_dir() and mk.is_file():
            try:
                if version_from_makefile(mk.read_bytes()[:4096]) is not None:
                    return parent
            except OSError:
                return None
    return None
