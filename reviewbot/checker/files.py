"""Check C files on disk: the kernel version and uapi evidence of the tree they live in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from reviewbot.checker.check import check_first_present, check_source
from reviewbot.model.errors import InputError, ReviewbotError, SourceError
from reviewbot.model.fileio import read_file, write_atomic
from reviewbot.model.results import FileResult, VersionInfo
from reviewbot.model.versions import KernelVersion, defines_in, tree_root, version_from_makefile
from reviewbot.rules.records import Rule
from reviewbot.rules.spec import evidence_headers


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

    A rule none of whose functions the source defines has nothing to say about it and is left
    out; a source defining the functions of no rule at all is an error, whether it came from
    disk or from a revision: the user named it, so it is checked or refused, never half-read.
    """
    checked = check_source(data, name, rules, version, ref=ref)
    results = [r for r in checked if any(c.function is not None for c in r.checks)]
    if not results:
        names = ", ".join(r.rule for r in checked)
        where = f"{name}{' at ' + ref if ref else ''}"
        looks = sorted({p for r in checked for p in _paths(rules, r.rule)})
        raise InputError(
            f"{where}: defines none of the functions rule {names} examines"
            if len(checked) == 1
            else f"{where}: defines none of the functions rules {names} examine",
            f"the rules look in {', '.join(looks)}",
        )
    return results


# Below this many files one process is faster than starting workers: the pool costs ~0.1-0.2 s
# of CPU (importing multiprocessing, forking, pickling rules and results; bench/RESULTS.md)
# and a real mm/khugepaged.c ~15-20 ms to check.
PARALLEL_FROM = 16


def _check_one(f: Path, rules: tuple[Rule, ...], kernel_version: str | None) -> list[FileResult]:
    data = read_file(f, "C file")
    return check_named(data, str(f), rules, file_version(f, rules, kernel_version))


def _check_chunk(
    files: list[Path], rules: tuple[Rule, ...], kernel_version: str | None
) -> list[FileResult] | tuple[str, str, str | None]:
    """A worker's share; a library error comes back as (class name, message, hint), because
    pickling a :class:`ReviewbotError` would drop its hint."""
    try:
        return [r for f in files for r in _check_one(f, rules, kernel_version)]
    except ReviewbotError as e:
        return (type(e).__name__, e.message, e.hint)


def _workers(n_files: int) -> int:
    """Worker processes for ``n_files``: REVIEWBOT_JOBS when set (1: one process), else one
    per usable core once there are enough files to pay for them."""
    jobs = os.environ.get("REVIEWBOT_JOBS", "").strip()
    if jobs.isdigit() and int(jobs) > 0:
        return min(int(jobs), n_files)
    if n_files < PARALLEL_FROM:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_files // (PARALLEL_FROM // 2)))


def check_files(
    files: list[Path] | None, rules: tuple[Rule, ...], kernel_version: str | None = None
) -> list[FileResult]:
    """Check each file against ``rules``; a file defining none of a rule's functions is an error.

    Many files are checked by one forked worker per core (contiguous chunks, so the results
    and the first error are in input order, as in one process).
    """
    if not files:
        raise InputError("no FILE given", "pass C files, or --repo PATH to read a linux checkout")
    workers = _workers(len(files))
    if workers == 1:
        return [r for f in files for r in _check_one(f, rules, kernel_version)]
    import multiprocessing  # only when there are workers: start-up time
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return [r for f in files for r in _check_one(f, rules, kernel_version)]

    size = -(-len(files) // workers)
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    # fork: the workers inherit the parsed rules and the loaded parser (no re-import).
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=ctx) as pool:
        parts = list(
            pool.map(_check_chunk, chunks, [rules] * len(chunks), [kernel_version] * len(chunks))
        )
    results: list[FileResult] = []
    errors = {c.__name__: c for c in (InputError, SourceError, ReviewbotError)}
    for part in parts:
        if isinstance(part, tuple):
            name, message, hint = part
            raise errors.get(name, ReviewbotError)(message, hint)
        results += part
    return results


def _paths(rules: tuple[Rule, ...], rule_id: str) -> tuple[str, ...]:
    return next((r.paths for r in rules if r.id == rule_id), ())


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
