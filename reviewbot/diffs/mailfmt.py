"""Write patches: unified diffs from line edits, diffstat, and ``git am``-ready mails.

Pure text, no git: hunks are cut from the *target* blob (so every context line is the target's
own and ``git apply`` needs no fuzz), merged and headed the way ``git diff`` does (three lines of
context, the nearest preceding line that starts with a letter as the section), and the blob ids
in the ``index`` line are computed like ``git hash-object``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.utils import formataddr, parseaddr, parsedate_to_datetime

CONTEXT = 3
_FUNCNAME = re.compile(r"^[A-Za-z_$]")


@dataclass(frozen=True)
class Edit:
    """Replace ``remove`` lines starting at 0-based line ``start`` of the target with ``add``."""

    start: int
    remove: int
    add: tuple[str, ...]


def blob_id(data: bytes) -> str:
    """The git blob id of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def split_lines(data: bytes) -> tuple[list[str], bool]:
    """Lines of a blob and whether it ends with a newline."""
    text = data.decode("utf-8", "replace")
    if text == "":
        return [], True
    nl = text.endswith("\n")
    lines = text.split("\n")
    if nl:
        lines.pop()
    return lines, nl


def apply_edits(data: bytes, edits: list[Edit]) -> bytes:
    """The target blob with ``edits`` applied (edits must not overlap)."""
    lines, nl = split_lines(data)
    out: list[str] = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.remove)):
        if e.start < pos:
            raise ValueError("overlapping edits")
        out.extend(lines[pos : e.start])
        out.extend(e.add)
        pos = e.start + e.remove
    out.extend(lines[pos:])
    text = "\n".join(out) + ("\n" if nl or not lines else "")
    return text.encode()


def _range(start: int, length: int) -> str:
    # unified diff: 1-based start; an empty range names the line before it
    if length == 0:
        return f"{start},0"
    return f"{start + 1}" if length == 1 else f"{start + 1},{length}"


def _section(lines: list[str], before: int) -> str:
    for k in range(before - 1, -1, -1):
        if _FUNCNAME.match(lines[k]):
            return lines[k].rstrip()[:80].rstrip()
    return ""


def minimal(data: bytes, edits: list[Edit]) -> list[Edit]:
    """``edits`` without the lines each one removes and adds again unchanged at its start or
    end (a parameter added before a refilled line): the same result, the diff a maintainer
    would write."""
    lines, _ = split_lines(data)
    out = []
    for e in edits:
        start, remove, add = e.start, e.remove, list(e.add)
        while remove and add and start < len(lines) and lines[start] == add[0]:
            start, remove, add = start + 1, remove - 1, add[1:]
        while remove and add and lines[start + remove - 1] == add[-1]:
            remove, add = remove - 1, add[:-1]
        out.append(Edit(start, remove, tuple(add)))
    return out


def hunks(data: bytes, edits: list[Edit], context: int = CONTEXT) -> list[str]:
    """Unified-diff hunks (text, each ending with a newline) for ``edits`` on ``data``."""
    lines, nl = split_lines(data)
    edits = sorted((e for e in edits if e.remove or e.add), key=lambda e: e.start)
    groups: list[list[Edit]] = []
    for e in edits:
        if groups and e.start - (groups[-1][-1].start + groups[-1][-1].remove) <= 2 * context:
            groups[-1].append(e)
        else:
            groups.append([e])
    out = []
    delta = 0  # lines added minus removed by the groups already written
    for g in groups:
        first, last = g[0], g[-1]
        a = max(first.start - context, 0)
        b = min(last.start + last.remove + context, len(lines))
        body: list[str] = []
        pos = a
        for e in g:
            body.extend(" " + lines[k] for k in range(pos, e.start))
            body.extend("-" + lines[k] for k in range(e.start, e.start + e.remove))
            body.extend("+" + t for t in e.add)
            pos = e.start + e.remove
        body.extend(" " + lines[k] for k in range(pos, b))
        old_len = b - a
        new_len = old_len + sum(len(e.add) - e.remove for e in g)
        if not nl and b == len(lines):
            if pos >= len(lines):
                raise ValueError("cannot change the last line of a file without a final newline")
            body.append("\\ No newline at end of file")
        header = f"@@ -{_range(a, old_len)} +{_range(a + delta, new_len)} @@"
        sec = _section(lines, a)
        out.append(header + (" " + sec if sec else "") + "\n" + "\n".join(body) + "\n")
        delta += new_len - old_len
    return out


def file_diff(path: str, old: bytes, edits: list[Edit], mode: str | None = "100644") -> str:
    """A ``diff --git`` section for one modified file."""
    new = apply_edits(old, edits)
    head = f"diff --git a/{path} b/{path}\n"
    head += f"index {blob_id(old)[:12]}..{blob_id(new)[:12]}" + (f" {mode}" if mode else "") + "\n"
    head += f"--- a/{path}\n+++ b/{path}\n"
    return head + "".join(hunks(old, edits))


def diffstat(files: list[tuple[str, int, int]]) -> str:
    """``git diff --stat`` for (path, insertions, deletions) rows (bars scaled past 50 columns)."""
    if not files:
        return ""
    width = max(len(p) for p, _, _ in files)
    total_w = max(len(str(a + d)) for _, a, d in files)
    most = max(a + d for _, a, d in files)
    room = max(72 - width - total_w - 4, 10)
    rows = []
    for p, a, d in files:
        if most > room:
            sa, sd = (a * room + most - 1) // most, (d * room + most - 1) // most
        else:
            sa, sd = a, d
        rows.append(
            f" {p.ljust(width)} | {str(a + d).rjust(total_w)} {'+' * sa}{'-' * sd}".rstrip()
        )
    ins, dels = sum(a for _, a, _ in files), sum(d for _, _, d in files)
    n = len(files)
    summary = f" {n} file{'s' if n != 1 else ''} changed"
    if ins or not dels:
        summary += f", {ins} insertion{'s' if ins != 1 else ''}(+)"
    if dels:
        summary += f", {dels} deletion{'s' if dels != 1 else ''}(-)"
    return "\n".join(rows) + "\n" + summary + "\n"


def slug(subject: str, limit: int = 52) -> str:
    """``git format-patch``'s file name for a subject (without number and suffix)."""
    s = re.sub(r"[^A-Za-z0-9._]+", "-", subject)
    s = re.sub(r"\.+", ".", s).strip("-.")
    return s[:limit].rstrip("-.") or "patch"


def _address(value: str) -> str:
    name, addr = parseaddr(value)
    if not addr:
        return value
    if name and not name.isascii():
        return formataddr((str(Header(name, "utf-8")), addr))
    return formataddr((name, addr)) if name else addr


_NO_SHA = "0" * 40


def git_date(value: str | None, now: datetime | None = None) -> str:
    """The ``Date:`` git format-patch writes (``Sun, 13 Sep 2020 23:26:40 +0000``).

    ``value``, an author date in any RFC 2822 form, is rewritten that way; without one (a bare
    diff) or when it cannot be read, the time now, as git writes for a new commit.
    """
    when = None
    if value:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            when = parsedate_to_datetime(value)
    if when is None or when.tzinfo is None:
        when = (now or datetime.now(UTC)).astimezone()
    return f"{when:%a}, {when.day} {when:%b %Y %H:%M:%S %z}"


def mail(
    *,
    subject: str,
    prefix: str,
    author: str,
    date: str | None,
    body: str,
    diff: str,
    stat: str = "",
    signature: str = "reviewbot",
    sha: str | None = None,
) -> str:
    """A format-patch style mail (``git am`` reads it; ``git send-email`` can send it).

    Its mbox ``From <sha>`` line names ``sha`` (the upstream commit, as ``git format-patch``
    names the commit it formats; zeros when unknown); ``Date:`` is :func:`git_date` of ``date``.
    """
    subj = f"[{prefix}] {subject}" if prefix else subject
    head = [
        f"From {sha or _NO_SHA} Mon Sep 17 00:00:00 2001",
        f"From: {_address(author)}",
        f"Date: {git_date(date)}",
    ]
    if not subj.isascii():
        head.append(f"Subject: {Header(subj, 'utf-8').encode()}")
    else:
        head.append(f"Subject: {subj}")
    if not (body + diff).isascii():
        head += [
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: 8bit",
        ]
    text = "\n".join(head) + "\n\n" + body.rstrip("\n") + "\n---\n"
    if stat:
        text += stat + "\n"
    text += diff
    text += f"-- \n{signature}\n\n"
    return text
