"""Check C files on disk: the kernel version and uapi evidence of the tree they live in."""

from __future__ import annotations

import sys
from pathlib import Path

from reviewbot.checker.check import check_first_present, check_source
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


def check_named(
    data: bytes,
    name: str,
    rules: tuple[Rule, ...],
    version: VersionInfo,
    ref: str | None = None,
) -> list[FileResult]:
    """Check one named source (a file, or a path at a ref) on its own against ``rules``.

    A source defining none of a rule's functions is an error, whether it came from disk or
    from a revision: the user named it, so it is checked or refused, never reported half-read.
    """
    results = []
    for result in check_source(data, name, rules, version, ref=ref):
        if all(c.function is None for c in result.checks):
            raise InputError(
                f"{name}{' at ' + ref if ref else ''}: defines none of the functions rule {result.rule} examines",
                "khugepaged lives in mm/khugepaged.c (mm/huge_memory.c before 4.8)",
            )
        results.append(result)
    return results


def check_files(
    files: list[Path] | None, rules: tuple[Rule, ...], kernel_version: str | None = None
) -> list[FileResult]:
    """Check each file against ``rules``; a file defining none of a rule's functions is an error."""
    if not files:
        raise InputError("no FILE given", "pass C files, or --repo PATH to read a linux checkout")
    results = []
    for f in files:
        data = read_file(f, "C file")
        results += check_named(data, str(f), rules, file_version(f, rules, kernel_version))
    return results


def check_tree(
    root: Path, rules: tuple[Rule, ...], kernel_version: str | None = None
) -> list[FileResult]:
    """Check each rule's files as they are on disk under ``root`` (a work tree), first found first.

    What ``check`` does with no FILE inside a checkout: the files the developer is editing,
    named relative to ``root`` the way a repository path is.
    """
    out = []
    for rule in rules:

        def read(rel: str) -> bytes | None:
            p = root / rel
            return read_file(p, "C file") if p.is_file() else None

        present = next((root / p for p in rule.paths if (root / p).is_file()), None)
        if present is None:
            raise InputError(
                f"no FILE given, and none of {', '.join(rule.paths)} exists in the working tree {root}",
                "pass C files, or --repo PATH to read a linux checkout",
            )
        version = file_version(present, rules, kernel_version)
        checked = check_first_present(read, rule, version, None)
        if checked is None:  # (the file vanished between the two looks)
            raise InputError(f"none of {', '.join(rule.paths)} exists in {root}")
        out.append(checked.result)
    return out


def write_output(output: Path | None, text: str) -> bool:
    """Write ``text`` to ``output`` (stdout when None); True when a file was written."""
    if output is None:
        sys.stdout.write(text)
        return False
    write_atomic(output, text)
    return True
