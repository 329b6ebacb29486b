"""Patches and mails: parse format-patch / mbox files, and apply diffs in memory.

The unidiff adapter lives here. unidiff parses the diff; it drops the commit message, so the
mail headers come from the stdlib ``email`` parser and the trailers (``Fixes:``, ``Cc: stable``,
``Signed-off-by:``) from the message's last paragraph. Applying is exact, like ``git apply``:
context must match (a hunk may move, never fuzz); on failure we say which hunk and which line.

Bad input raises :class:`PatchError` with one precise line: binary, truncated, CRLF, not UTF-8,
or a path that leaves the repository (refused before anything is read or written).
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from typing import Literal

from unidiff import PatchedFile, PatchSet
from unidiff.errors import UnidiffParseError

from reviewbot.model.errors import PatchError
from reviewbot.model.paths import repo_relative

SHA40 = re.compile(r"\b[0-9a-f]{40}\b")
_FROM_LINE = re.compile(r"^From ([0-9a-f]{40}) ", re.M)
# A message starts at a ``From `` line carrying a sender and a date, as git mailsplit decides
# (its is_from_line): a body line "From the docs ..." in git format-patch output, which git
# does not quote, is not a separator. (The stdlib's mailbox.mbox splits at every "From "
# line, so it would cut such a patch in two.)
_MBOX_SPLIT = re.compile(r"^(?=From (?:[0-9a-f]{40}|\S+@\S+|-) .*\d{4}$)", re.M)
# mboxrd quoting (lore/public-inbox, b4, mutt): ">From " -> "From ", ">>From " -> ">From ".
_MBOXRD_QUOTED = re.compile(r"^>(>*From )", re.M)
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$")
_PREFIX = re.compile(r"^\s*\[([^\]]*)\]\s*")
#: How a backport names its upstream commit: Greg's, Sasha's, or ``git cherry-pick -x``.
UpstreamForm = Literal["greg", "sasha", "cherry-pick"]

UPSTREAM_FORMS: tuple[tuple[UpstreamForm, re.Pattern[str]], ...] = (
    ("greg", re.compile(r"^commit ([0-9a-f]{40}) upstream\.?\s*$", re.M)),
    ("sasha", re.compile(r"^\[ Upstream commit ([0-9a-f]{40}) \]\s*$", re.M)),
    ("cherry-pick", re.compile(r"^\(cherry picked from commit ([0-9a-f]{40})\)\s*$", re.M)),
)
_FIXES = re.compile(r"^([0-9a-f]{8,40})(?:\s+\(\"(.*)\"\))?", re.I)


@dataclass(frozen=True)
class Trailer:
    key: str
    value: str


@dataclass(frozen=True)
class Hunk:
    """One hunk in our own terms (so the rest of reviewbot never touches unidiff)."""

    source_start: int
    source_length: int
    target_start: int
    target_length: int
    section: str
    lines: tuple[tuple[str, str], ...]  # (' ' | '+' | '-', text without newline)

    @property
    def before(self) -> list[str]:
        return [t for k, t in self.lines if k in (" ", "-")]

    @property
    def after(self) -> list[str]:
        return [t for k, t in self.lines if k in (" ", "+")]

    @property
    def added(self) -> list[str]:
        return [t for k, t in self.lines if k == "+"]

    @property
    def removed(self) -> list[str]:
        return [t for k, t in self.lines if k == "-"]

    @property
    def start_index(self) -> int:
        """The 0-based line where the header says the pre-image starts.

        A header's start is 1-based, except for an empty pre-image (``-N,0``): that start names
        the line *after which* the hunk goes, which is already the 0-based insertion point.
        A malformed ``-0,N`` header with context gives -1; :func:`apply_file` clamps it.
        """
        return self.source_start - 1 if self.before else self.source_start

    def reversed(self) -> Hunk:
        """The hunk that undoes this one (``git apply -R``): sides swapped, ``+`` and ``-`` too."""
        flip = {"+": "-", "-": "+", " ": " "}
        return Hunk(
            self.target_start,
            self.target_length,
            self.source_start,
            self.source_length,
            self.section,
            tuple((flip[k], t) for k, t in self.lines),
        )


@dataclass(frozen=True)
class FilePatch:
    source: str | None  # None for a new file
    target: str | None  # None for a deleted file
    hunks: tuple[Hunk, ...]
    index: tuple[str, str, str | None] | None = (
        None  # (old blob, new blob, mode) from "index a..b mode"
    )

    @property
    def path(self) -> str:
        return self.target or self.source or ""

    def reversed(self) -> FilePatch:
        """The patch that undoes this one (``git apply -R``): paths, blobs and hunks swapped."""
        index = (self.index[1], self.index[0], self.index[2]) if self.index else None
        return FilePatch(self.target, self.source, tuple(h.reversed() for h in self.hunks), index)


@dataclass(frozen=True)
class Mail:
    """A patch mail (or a bare diff): headers, message, trailers and the file patches."""

    subject: str
    author: str | None
    date: str | None
    from_sha: str | None
    prefix: str | None  # "PATCH 5.10" from "[PATCH 5.10] ..."
    message: str  # the commit message body (no subject), trailers included
    trailers: tuple[Trailer, ...]
    files: tuple[FilePatch, ...]
    diff: str = field(repr=False, default="")

    def trailer_values(self, key: str) -> list[str]:
        return [t.value for t in self.trailers if t.key.lower() == key.lower()]

    @property
    def fixes(self) -> list[tuple[str, str | None]]:
        """``Fixes:`` tags as (abbreviated sha, subject)."""
        out = []
        for v in self.trailer_values("Fixes"):
            m = _FIXES.match(v.strip())
            if m:
                out.append((m.group(1).lower(), m.group(2)))
        return out

    @property
    def cc_stable(self) -> bool:
        return any(
            "stable@vger.kernel.org" in v or "stable@kernel.org" in v
            for v in self.trailer_values("Cc")
        )

    @property
    def upstream(self) -> list[tuple[UpstreamForm, str]]:
        """Upstream commits this mail says it backports: (form, sha)."""
        return upstream_refs(self.message)

    def file(self, path: str) -> FilePatch | None:
        return next((f for f in self.files if f.path == path), None)


def upstream_refs(message: str) -> list[tuple[UpstreamForm, str]]:
    """``commit X upstream.`` / ``[ Upstream commit X ]`` / ``(cherry picked from commit X)``."""
    out = []
    for form, rx in UPSTREAM_FORMS:
        out += [(form, m.group(1)) for m in rx.finditer(message)]
    return out


def _safe(path: str | None, what: str) -> str | None:
    if path is None or path == "/dev/null":
        return None
    p = path
    for prefix in ("a/", "b/"):
        if p.startswith(prefix):
            p = p[2:]
            break
    rel = repo_relative(p)
    if rel is None or p.startswith("~"):
        raise PatchError(f"{what}: path {path!r} leaves the repository; refusing the patch")
    return rel


def _decode(data: bytes, what: str) -> str:
    if b"\0" in data:
        raise PatchError(f"{what}: binary data (NUL bytes), not a patch")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise PatchError(
            f"{what}: not UTF-8 (byte 0x{data[e.start]:02x} on line {line})",
            "save the mail raw, without re-encoding",
        ) from None
    if "\r\n" in text:
        line = text[: text.index("\r\n")].count("\n") + 1
        raise PatchError(
            f"{what}: CRLF line endings (first on line {line}); the mail was mangled",
            "save it raw (git format-patch / b4 am)",
        )
    return text


def _trailers(message: str) -> tuple[Trailer, ...]:
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if not paragraphs:
        return ()
    out = []
    for row in paragraphs[-1].splitlines():
        m = _TRAILER.match(row.strip())
        if m:
            out.append(Trailer(m.group(1), m.group(2).strip()))
        elif row.strip().startswith("[") or row.startswith((" ", "\t")) or not row.strip():
            continue  # "[ backport notes ]" lines and folded values
        else:
            return tuple(out) if len(out) >= 2 else ()
    return tuple(out)


_INDEX = re.compile(r"^index ([0-9a-f]{4,40})\.\.([0-9a-f]{4,40})(?: (\d{6}))?\s*$")
_HEADER_PATHS = re.compile(
    r"^(?:diff --git (\S+) (\S+)|--- (\S+)|\+\+\+ (\S+)|rename (?:from|to) (\S+)|copy (?:from|to) (\S+))",
    re.M,
)


def _files(diff: str, what: str) -> tuple[FilePatch, ...]:
    # Refuse paths that leave the repository before handing anything to the parser.
    for m in _HEADER_PATHS.finditer(diff):
        for path in m.groups():
            if path is not None:
                _safe(path, what)
    if re.search(r"^(GIT binary patch|Binary files .* differ)$", diff, re.M):
        raise PatchError(f"{what}: binary patch; only text diffs are supported")
    try:
        ps = PatchSet(diff)
    except UnidiffParseError as e:
        msg = str(e)
        if "shorter than expected" in msg:
            raise PatchError(
                f"{what}: truncated patch ({msg.lower()})",
                "the hunk line counts do not match its body",
            ) from None
        raise PatchError(f"{what}: malformed diff ({' '.join(msg.split())})") from None
    out = []
    for pf in ps:
        out.append(_file(pf, what))
    return tuple(out)


def _file(pf: PatchedFile, what: str) -> FilePatch:
    src = _safe(pf.source_file, what)
    tgt = _safe(pf.target_file, what)
    if src and tgt and src != tgt and (src.startswith(tgt + "~") or src == tgt + ".orig"):
        src = tgt  # quilt/akpm style: `--- a/f~patch-name` or `--- a/f.orig` is f's backup copy
    hunks = []
    for h in pf:
        lines = tuple(
            (ln.line_type, ln.value.rstrip("\n")) for ln in h if ln.line_type in (" ", "+", "-")
        )
        hunks.append(
            Hunk(
                h.source_start,
                h.source_length,
                h.target_start,
                h.target_length,
                h.section_header,
                lines,
            )
        )
    index = None
    for row in pf.patch_info or ():
        m = _INDEX.match(str(row))
        if m:
            index = (m.group(1), m.group(2), m.group(3))
    return FilePatch(src, tgt, tuple(hunks), index)


def _header(msg: email.message.Message, name: str) -> str | None:
    """A header's value, decoded; the raw text when the stdlib's parser chokes on it.

    (``email.policy.default`` raises IndexError on e.g. ``From: Name <user@`` cut short.)
    """
    try:
        value = msg.get(name)
        return str(value) if value else None
    except Exception:
        raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
        return " ".join(str(raw).split()) if raw else None


def parse_mail(text: str, what: str = "patch") -> Mail:
    """Parse one format-patch mail, or a bare ``git diff``."""
    diff_at = re.search(r"^(diff --git |--- (a/|/dev/null))", text, re.M)
    if diff_at is None:
        raise PatchError(
            f"{what}: no diff found", "expected git format-patch output or a unified diff"
        )
    head, diff = text[: diff_at.start()], text[diff_at.start() :]
    sig = re.search(r"^-- ?$\n", diff, re.M)
    if sig:
        diff = diff[: sig.start()]
    files = _files(diff, what)
    if not files or not any(f.hunks for f in files):
        raise PatchError(f"{what}: the diff has no hunks")
    from_sha = None
    m = _FROM_LINE.match(head)
    if m:
        from_sha = m.group(1)
        head = head[head.index("\n") + 1 :]
    subject = author = date = prefix = None
    message = head
    if re.match(r"^[A-Za-z-]+: ", head):
        msg = email.message_from_string(head, policy=email.policy.default)
        subject = " ".join((_header(msg, "Subject") or "").split())
        pm = _PREFIX.match(subject)
        if pm:
            prefix, subject = pm.group(1), subject[pm.end() :]
        author = _header(msg, "From")
        date = _header(msg, "Date")
        payload = msg.get_payload()
        message = payload if isinstance(payload, str) else ""
    message = message.split("\n---\n")[0].rstrip() + "\n" if message.strip() else ""
    return Mail(
        subject=subject or "",
        author=author,
        date=date,
        from_sha=from_sha,
        prefix=prefix,
        message=message,
        trailers=_trailers(message),
        files=files,
        diff=diff,
    )


def read_mails(data: bytes, what: str = "patch") -> list[Mail]:
    """All patches in a format-patch file or mbox (one or many)."""
    text = _decode(data, what)
    if not text.strip():
        raise PatchError(f"{what}: empty")
    # Undo mboxrd quoting. Safe on plain format-patch output too: a diff line never starts
    # with ">" (it starts with " ", "+", "-" or "\\"), so only message lines can change.
    parts = [_MBOXRD_QUOTED.sub(r"\1", p) for p in _MBOX_SPLIT.split(text) if p.strip()]
    if len(parts) <= 1:
        return [parse_mail(parts[0] if parts else text, what)]
    mails = []
    for i, part in enumerate(parts, 1):
        if not re.search(r"^(diff --git |--- (a/|/dev/null))", part, re.M):
            continue  # a cover letter
        mails.append(parse_mail(part, f"{what} (mail {i})"))
    if not mails:
        raise PatchError(f"{what}: no patch in the mbox")
    return mails


def read_mail(data: bytes, what: str = "patch") -> Mail:
    """Exactly one patch; an mbox with several is refused with a clear line."""
    mails = read_mails(data, what)
    if len(mails) > 1:
        raise PatchError(
            f"{what}: holds {len(mails)} patches; give one patch at a time",
            "split it with git mailsplit",
        )
    return mails[0]


# --- applying -------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyFailure:
    """Why a hunk does not apply: the hunk, the line, what was expected and what is there."""

    hunk: int  # 1-based
    line: int | None  # line in the target blob where the mismatch is
    expected: str | None
    found: str | None
    reason: str

    def __str__(self) -> str:
        if self.line is not None:
            return f"hunk #{self.hunk}: line {self.line}: expected {self.expected!r}, found {self.found!r}"
        return f"hunk #{self.hunk}: {self.reason}"


@dataclass(frozen=True)
class Applied:
    data: bytes
    offsets: tuple[int, ...]  # where each hunk landed relative to its header (0 = exact)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def apply_file(
    original: bytes, fp: FilePatch, max_offset: int | None = None
) -> Applied | ApplyFailure:
    """Apply ``fp`` to ``original`` exactly (context must match; offsets allowed, no fuzz)."""
    lines = _lines(original)
    out: list[bytes] = []
    pos = 0  # next unconsumed line index in ``lines``
    offsets = []
    for i, h in enumerate(fp.hunks, 1):
        before = [t.encode() for t in h.before]
        after = [t.encode() for t in h.after]
        want = max(h.start_index, 0)
        at = _find(lines, before, want, pos, max_offset)
        if at is None:
            return _diagnose(lines, before, want, i)
        out.extend(lines[pos:at])
        out.extend(after)
        pos = at + len(before)
        offsets.append(at - want)
    out.extend(lines[pos:])
    return Applied(b"\n".join(out), tuple(offsets))


def _find(
    lines: list[bytes], block: list[bytes], want: int, lo: int, max_offset: int | None
) -> int | None:
    """Where ``block`` occurs at or after ``lo``, nearest to ``want`` (git apply's offsets)."""
    n = len(block)
    limit = len(lines) - n
    if n == 0:
        return min(max(want, lo), len(lines))
    delta = 0
    while max_offset is None or delta <= max_offset:
        candidates = (want,) if delta == 0 else (want - delta, want + delta)
        inside = False
        for at in candidates:
            if lo <= at <= limit:
                inside = True
                if lines[at : at + n] == block:
                    return at
        if not inside and want - delta < lo and want + delta > limit:
            return None
        delta += 1
    return None


def _diagnose(lines: list[bytes], block: list[bytes], want: int, hunk: int) -> ApplyFailure:
    """The first differing line when the hunk is laid at its best-matching position."""
    best, best_score = want, -1
    for at in range(0, max(len(lines) - len(block), 0) + 1):
        score = sum(1 for a, b in zip(lines[at : at + len(block)], block, strict=False) if a == b)
        if score > best_score or (score == best_score and abs(at - want) < abs(best - want)):
            best, best_score = at, score
    for k, expected in enumerate(block):
        found = lines[best + k] if best + k < len(lines) else None
        if found != expected:
            return ApplyFailure(
                hunk,
                best + k + 1,
                expected.decode("utf-8", "replace"),
                found.decode("utf-8", "replace") if found is not None else None,
                "context differs",
            )
    return ApplyFailure(hunk, None, None, None, "does not apply")
