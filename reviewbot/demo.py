"""The bundled demo: a small kernel-shaped git history built from the era fixtures.

Mainline (``master``) walks the eras from 4.4 to 7.1, with the upstream isolate fix
(dd47ac428c3f's shape) as its own commit between v6.3-rc1 and v6.3; stable branches
``linux-X.Y.y`` carry releases before and after the backport, each recorded the way stable
really records it (``commit <sha> upstream.``, ``[ Upstream commit <sha> ]``, ``cherry-pick -x``);
``mm-unstable`` carries the 2026 mm-tree shape. It lets every command run with no linux
checkout. The history is built once into the user's cache directory (or ``--dir``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reviewbot.git.fastimport import HistoryBuilder
from reviewbot.model.fileio import package_dir, write_atomic
from reviewbot.model.versions import KernelVersion, version_order_key

DEMO_VERSION = 2
FIX_SUBJECT = "mm/khugepaged: check again on anon uffd-wp during isolation"
FIX_BODY = """\
Hugh found that we didn't check the uffd-wp bit of a PTE again in the isolate
phase of a collapse: the scan dropped its locks, so a PTE can gain the bit in
between, and collapsing it into a huge PMD silently loses the protection.

Check it again right after the non-present check, as the scan does.

Link: https://lkml.kernel.org/r/demo-uffd-wp-isolate@example.org
Fixes: {fixes} ("khugepaged: skip collapse if uffd-wp detected")
Reported-by: Demo Reporter <reporter@example.org>
Signed-off-by: Demo Author <author@example.org>
Cc: <stable@vger.kernel.org>
"""
FIX_AUTHOR = "Demo Author <author@example.org>"


@dataclass(frozen=True)
class Release:
    """One release in the demo: tag and era fixture; the kernel version is the tag's."""

    tag: str
    fixture: str

    @property
    def version(self) -> str:
        """``v5.10`` -> ``5.10.0``, ``v6.3-rc1`` -> ``6.3.0-rc1``: what the Makefile says."""
        return str(KernelVersion.parse(self.tag))


def _releases(table: str) -> list[Release]:
    """Releases from ``tag:fixture`` words (one table, no repeated constructor calls)."""
    return [Release(*word.split(":")) for word in table.split()]


MAINLINE = _releases("""
    v4.4:v4.4.c v5.4:v5.4.c v5.7:v5.7.c v5.10:v5.10.178.c v5.15:v5.15.108.c v6.0:v6.0.19.c
    v6.1:v6.1.25.c v6.2:v6.2.12.c v6.3-rc1:v6.3-rc1.c
""")
AFTER_FIX = _releases(
    "v6.3:v6.3.c v6.5:v6.5.c v6.6:v6.6.c v6.18:v6.18.c v6.19:v6.19.c v7.0:v7.0.c v7.1:v7.1.c"
)
# (branch, base tag, releases before the fix, the fixed release, how the fix is recorded)
STABLE: list[tuple[str, str, list[Release], Release | None, str | None]] = [
    ("linux-5.4.y", "v5.4", [Release("v5.4.200", "v5.4.c")], None, None),
    (
        "linux-5.10.y",
        "v5.10",
        [Release("v5.10.178", "v5.10.178.c")],
        Release("v5.10.179", "v5.10.179.c"),
        "greg",
    ),
    (
        "linux-5.15.y",
        "v5.15",
        [Release("v5.15.108", "v5.15.108.c")],
        Release("v5.15.109", "v5.15.109.c"),
        "greg",
    ),
    # 6.0 went end-of-life before the fix: its last release still needs it.
    ("linux-6.0.y", "v6.0", [Release("v6.0.19", "v6.0.19.c")], None, None),
    (
        "linux-6.1.y",
        "v6.1",
        [Release("v6.1.25", "v6.1.25.c")],
        Release("v6.1.26", "v6.1.26.c"),
        "sasha",
    ),
    (
        "linux-6.2.y",
        "v6.2",
        [Release("v6.2.12", "v6.2.12.c")],
        Release("v6.2.13", "v6.2.13.c"),
        "cherry-pick",
    ),
    ("linux-6.6.y", "v6.6", [Release("v6.6.30", "v6.6.c")], None, None),
]


def fixture_text(name: str) -> bytes:
    """An era fixture's source as it would be in a tree: expectation header and annotations removed.

    Fixtures mark the line a verdict points at with ``/* expect-line: KEY */`` at its end
    (tests read it); the demo's trees, fixes and backports must not carry the marker.
    """
    data = package_dir("reviewbot.fixtures").joinpath("eras", name).read_bytes()
    if data.startswith(b"/*") and b"reviewbot-fixture:" in data[: data.find(b"*/")]:
        data = data[data.find(b"*/") + 2 :].lstrip(b"\n")
    return _ANNOTATION.sub(b"", data)


_ANNOTATION = re.compile(rb" /\* expect-line: [a-z ]+ \*/$", re.M)


def makefile(version: str) -> bytes:
    v = KernelVersion.parse(version)
    extra = f"-rc{v.rc}" if v.rc is not None else ""
    return (
        "# SPDX-License-Identifier: GPL-2.0\n"
        f"VERSION = {v.major}\nPATCHLEVEL = {v.minor}\nSUBLEVEL = {v.patch}\nEXTRAVERSION = {extra}\n"
        "NAME = Demo Kernel\n\nall:\n\t@echo demo tree: nothing to build\n"
    ).encode()


def uapi_header(version: str) -> bytes:
    """include/uapi/linux/userfaultfd.h with the feature defines of that era."""
    v = KernelVersion.parse(version)
    lines = [
        "/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */",
        "#ifndef _LINUX_USERFAULTFD_H",
        "#define _LINUX_USERFAULTFD_H",
        "",
        "#define UFFDIO_REGISTER_MODE_MISSING\t((__u64)1<<0)",
    ]
    if v >= KernelVersion(5, 7):
        lines.append("#define UFFDIO_REGISTER_MODE_WP\t\t((__u64)1<<1)")
        lines.append("#define UFFDIO_WRITEPROTECT_MODE_WP\t((__u64)1<<0)")
    if v >= KernelVersion(5, 19):
        lines.append("#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM\t(1<<12)")
    lines += ["", "#endif /* _LINUX_USERFAULTFD_H */", ""]
    return "\n".join(lines).encode()


def tree(release: Release) -> dict[str, bytes | None]:
    """The files of a release: Makefile, uapi header, khugepaged where it lived in that era."""
    v = KernelVersion.parse(release.version)
    src = fixture_text(release.fixture)
    files: dict[str, bytes | None] = {
        "Makefile": makefile(release.version),
        "include/uapi/linux/userfaultfd.h": uapi_header(release.version),
    }
    if v < KernelVersion(4, 8):
        files["mm/huge_memory.c"] = src
        files["mm/khugepaged.c"] = None
    else:
        files["mm/khugepaged.c"] = src
        files["mm/huge_memory.c"] = (
            b"// SPDX-License-Identifier: GPL-2.0\n/* Transparent huge pages (khugepaged moved to mm/khugepaged.c in 4.8). */\n"
        )
    return files


def stable_message(style: str, sha: str, body: str) -> str:
    """The fix as each stable maintainer records a backport (DOMAIN.md §6)."""
    if style == "greg":
        return f"{FIX_SUBJECT}\n\ncommit {sha} upstream.\n\n{body}Signed-off-by: Greg Kroah-Hartman <gregkh@example.org>\n"
    if style == "sasha":
        return f"{FIX_SUBJECT}\n\n[ Upstream commit {sha} ]\n\n{body}Signed-off-by: Sasha Levin <sashal@example.org>\n"
    return f"{FIX_SUBJECT}\n\n{body}(cherry picked from commit {sha})\nSigned-off-by: Stable Maintainer <stable@example.org>\n"


def _digest() -> str:
    h = hashlib.sha256(f"demo-{DEMO_VERSION}".encode())
    for entry in sorted(
        package_dir("reviewbot.fixtures").joinpath("eras").iterdir(), key=lambda e: e.name
    ):
        h.update(entry.name.encode())
        h.update(entry.read_bytes())
    return h.hexdigest()[:12]


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewbot" / f"demo-{_digest()}"


def populate(builder: HistoryBuilder) -> dict[str, str]:
    """Write the demo history into ``builder``; returns named shas (``fix``, ``e1e267``...)."""
    named: dict[str, int] = {}
    prev: dict[str, bytes] = {}

    def release_commit(branch: str, rel: Release, message: str | None = None) -> int:
        files = tree(rel)
        changed = {
            p: c for p, c in files.items() if prev.get(p) != c and not (c is None and p not in prev)
        }
        mark = builder.commit(branch, changed, message or f"Linux {rel.version}")
        prev.update({p: c for p, c in files.items() if c is not None})
        for p, c in files.items():
            if c is None:
                prev.pop(p, None)
        builder.tag(rel.tag, mark)
        return mark

    marks: dict[str, int] = {}
    for rel in MAINLINE:
        if rel.tag == "v5.7":
            # e1e267c7928f's shape: the scan learns the uffd-wp check (one commit before v5.7).
            named["scan-fix"] = builder.commit(
                "master",
                {"mm/khugepaged.c": fixture_text("v5.7.c")},
                "khugepaged: skip collapse if uffd-wp detected\n\nDon't collapse the huge PMD if there is any userfault write protected\nsmall PTEs.\n\nSigned-off-by: Demo Author <author@example.org>\n",
                author=FIX_AUTHOR,
            )
            prev["mm/khugepaged.c"] = fixture_text("v5.7.c")
        marks[rel.tag] = release_commit("master", rel)
    shas = builder.flush()
    body = FIX_BODY.format(fixes=shas[named["scan-fix"]][:12])
    fixed = fixture_text("v6.3.c")
    named["fix"] = builder.commit(
        "master", {"mm/khugepaged.c": fixed}, f"{FIX_SUBJECT}\n\n{body}", author=FIX_AUTHOR
    )
    prev["mm/khugepaged.c"] = fixed
    for rel in AFTER_FIX:
        marks[rel.tag] = release_commit("master", rel)
    shas = builder.flush()
    fix_sha = shas[named["fix"]]
    stable_body = body
    for branch, base, before, after, style in STABLE:
        prev = dict(_tree_at(base))
        first = True
        for rel in before:
            files = tree(rel)
            changed = {p: c for p, c in files.items() if prev.get(p) != c and c is not None}
            mark = builder.commit(
                branch, changed, f"Linux {rel.version}", parent=marks[base] if first else None
            )
            first = False
            prev.update({p: c for p, c in files.items() if c is not None})
            builder.tag(rel.tag, mark)
        if after is not None:
            assert style is not None  # every fixed branch says how the fix was recorded
            src = fixture_text(after.fixture)
            named[f"backport-{branch}"] = builder.commit(
                branch,
                {"mm/khugepaged.c": src},
                stable_message(style, fix_sha, stable_body),
                author=FIX_AUTHOR,
            )
            mark = builder.commit(
                branch, {"Makefile": makefile(after.version)}, f"Linux {after.version}"
            )
            builder.tag(after.tag, mark)
    builder.commit(
        "mm-unstable",
        {"mm/khugepaged.c": fixture_text("mm-2026.c")},
        "mm: khugepaged: share the PTE checks of scan and isolate in collapse_check_pte()",
        parent=marks["v7.1"],
    )
    shas = builder.flush()
    return {k: shas[m] for k, m in named.items()}


def _tree_at(tag: str) -> dict[str, bytes]:
    rel = next(r for r in MAINLINE + AFTER_FIX if r.tag == tag)
    return {p: c for p, c in tree(rel).items() if c is not None}


def build_demo(directory: Path | None = None) -> Path:
    """Build the demo history (once) and return its path."""
    target = Path(directory) if directory is not None else default_dir()
    if (target / "reviewbot-demo-complete").exists():
        return target
    if target.exists() and any(target.iterdir()):
        from reviewbot.model.errors import InputError

        raise InputError(
            f"{target} exists and is not a reviewbot demo history", "choose an empty or new --dir"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=target.parent))
    try:
        populate(HistoryBuilder(tmp / "repo.git"))
        (tmp / "repo.git" / "reviewbot-demo-complete").write_text(f"{_digest()}\n")
        if target.exists():
            target.rmdir()
        (tmp / "repo.git").rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def demo_refs(repo) -> list[str]:
    """Every tag in version order, then the mm-unstable branch."""
    tags = [t.name for t in repo.repo.tags]
    tags.sort(key=version_order_key)
    return tags + ["mm-unstable"]


def check_demo(path: Path):
    """Check every release of the demo history; one FileResult per ref."""
    from reviewbot.git.repository import Repository
    from reviewbot.history.sweep import check_ref
    from reviewbot.rules.spec import builtin_rules

    repo = Repository(path)
    rules = builtin_rules()
    results = []
    for ref in demo_refs(repo):
        results.extend(check_ref(repo, repo.resolve(ref), rules))
    return results


def demo_fix_sha(repo) -> str:
    """The upstream isolate fix on the demo's master (found by its subject)."""
    for entry in repo.log("master"):
        if entry.subject == FIX_SUBJECT:
            return entry.sha
    from reviewbot.model.errors import RepoError

    raise RepoError(
        f"{repo.path}: the demo history has no commit {FIX_SUBJECT!r}",
        "delete it and run reviewbot demo again",
    )


def report_demo(path: Path, output_dir: Path | None = None, cache=None):
    """The full report on the demo history: where the upstream fix stands in every stable branch.

    Writes ``report.html`` and ``report.md`` into ``output_dir`` (default: ``<demo>/report``)
    and returns the report and the two paths.
    """
    from reviewbot.git.repository import Repository
    from reviewbot.history.report import build_report
    from reviewbot.history.upstream import load_fix
    from reviewbot.render import report as report_render
    from reviewbot.rules.spec import builtin_rules

    repo = Repository(path)
    fix = load_fix(repo, demo_fix_sha(repo))
    report = build_report(repo, fix, ["linux-*.y"], builtin_rules(), cache)
    out = Path(output_dir) if output_dir is not None else Path(path) / "report"
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / "report.html", out / "report.md"
    write_atomic(html_path, report_render.html(report))
    write_atomic(md_path, report_render.markdown(report))
    return report, html_path, md_path
