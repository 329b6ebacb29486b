"""Check C files on disk: the kernel version and uapi evidence of the tree they live in."""

from __future__ import annotations

import sys
from pathlib import Path

from reviewbot.checker.check import check_source
from reviewbot.model.errors import InputError
from reviewbot.model.fileio import read_file, write_atomic
from reviewbot.model.results import FileResult, VersionInfo
from reviewbot.model.versions import KernelVersion, defines_in, tree_root, version_from_makefile
from reviewbot.rules.spec import Rule, evidence_headers


def file_version(path: Path, rules: tuple[Rule, ...], kernel_version: str | None) -> VersionInfo:
    """``--kernel-version``, else the Makefile of the kernel tree ``path`` is in, else unknown.

    The tree's ``include/uapi/linux/userfaultfd.h`` adds feature evidence (vendor backports).
    """
    root = tree_root(path) if path.exists() else None
    evidence: set[str] = set()
    if root is not None:
        for header, names in sorted(evidence_headers(rules).items()):
            if (root / header).is_file():
                evidence |= defines_in((root / header).read_bytes(), names)
    found = tuple(sorted(evidence))
    if kernel_version:
        return VersionInfo(
            str(KernelVersion.parse(kernel_version)), "flag", "--kernel-version", found
        )
    if (
        root is not None
        and (kv := version_from_makefile((root / "Makefile").read_bytes())) is not None
    ):
        return VersionInfo(str(kv), "makefile", str(root / "Makefile"), found)
    return VersionInfo(None, "unknown", "", found)


def check_files(
    files: list[Path] | None, rules: tuple[Rule, ...], kernel_version: str | None = None
) -> list[FileResult]:
    """Check each file against ``rules``.

    A rule none of whose functions a file defines has nothing to say about it and is left out;
    a file defining none of the functions of any rule is an error.
    """
    if not files:
        raise InputError("no FILE given", "pass C files, or --repo PATH to read a linux checkout")
    results = []
    for f in files:
        data = read_file(f, "C file")
        checked = check_source(data, str(f), rules, file_version(f, rules, kernel_version))
        found = [r for r in checked if any(c.function is not None for c in r.checks)]
        if not found:
            names = ", ".join(r.rule for r in checked)
            raise InputError(
                f"{f}: defines none of the functions rule {names} examines"
                if len(checked) == 1
                else f"{f}: defines none of the functions rules {names} examine",
                "khugepaged lives in mm/khugepaged.c (mm/huge_memory.c before 4.8)",
            )
        results.extend(found)
    return results


def write_output(output: Path | None, text: str) -> bool:
    """Write ``text`` to ``output`` (stdout when None); True when a file was written."""
    if output is None:
        sys.stdout.write(text)
        return False
    write_atomic(output, text)
    return True
