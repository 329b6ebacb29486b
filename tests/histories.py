"""Build test git histories from a readable text spec (real git, in tmp_path).

Spec, one statement per line (a line whose first non-blank character is ``#`` is a comment):

    on linux-5.10.y from v5.10
    commit fix "mm/khugepaged: check again" tag v6.3
      file mm/khugepaged.c = @fixture v6.3.c
      file Makefile = @makefile 6.3.0
      file include/uapi/linux/userfaultfd.h = @uapi 6.3.0
      file README = @text hello world
      delete mm/huge_memory.c
      body commit {sha:fix} upstream.
      author Jane Dev <jane@example.org>

``{sha:label}`` (``{sha12:label}``: abbreviated) in a body is replaced by the sha of an earlier commit (the history is flushed
to git first). Returns the repository path and label -> sha.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from reviewbot.demo import fixture_text, makefile, uapi_header
from reviewbot.git.fastimport import AUTHOR, HistoryBuilder

_SHA = re.compile(r"\{sha(12)?:([\w.-]+)\}")


def _content(spec: str) -> bytes:
    kind, _, arg = spec.partition(" ")
    if kind == "@fixture":
        return fixture_text(arg.strip())
    if kind == "@makefile":
        return makefile(arg.strip())
    if kind == "@uapi":
        return uapi_header(arg.strip())
    if kind == "@text":
        return (arg + "\n").encode()
    raise ValueError(f"unknown content {spec!r}")


def build(path: Path, spec: str, bare: bool = False) -> tuple[Path, dict[str, str]]:
    b = HistoryBuilder(path, bare=bare)
    labels: dict[str, int] = {}
    tags: dict[str, int] = {}
    branch = "master"
    start: int | None = None
    pending: dict | None = None

    def sha(label: str) -> str:
        if labels[label] not in b.shas:
            b.flush()
        return b.shas[labels[label]]

    def finish():
        nonlocal pending, start
        if pending is None:
            return
        body = "\n".join(pending["body"])
        body = _SHA.sub(lambda m: sha(m.group(2))[:12] if m.group(1) else sha(m.group(2)), body)
        message = pending["subject"] + ("\n\n" + body if body else "") + "\n"
        mark = b.commit(branch, pending["files"], message, parent=start, author=pending["author"])
        start = None
        labels[pending["label"]] = mark
        if pending["tag"]:
            b.tag(pending["tag"], mark)
            tags[pending["tag"]] = mark
        pending = None

    for raw in spec.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.strip().startswith("#"):
            continue
        if not line.startswith((" ", "\t")):
            finish()
            words = shlex.split(line)
            if words[0] == "on":
                branch = words[1]
                start = None
                if len(words) == 4 and words[2] == "from":
                    start = tags.get(words[3], labels.get(words[3]))
                    if start is None:
                        raise ValueError(f"unknown start {words[3]!r}")
            elif words[0] == "commit":
                tag = words[4] if len(words) > 4 and words[3] == "tag" else None
                pending = {
                    "label": words[1],
                    "subject": words[2],
                    "tag": tag,
                    "files": {},
                    "body": [],
                    "author": AUTHOR,
                }
            else:
                raise ValueError(f"unknown statement {line!r}")
            continue
        stripped = line.strip()
        key, _, rest = stripped.partition(" ")
        if key == "file":
            p, _, content = rest.partition(" = ")
            pending["files"][p.strip()] = _content(content.strip())
        elif key == "delete":
            pending["files"][rest.strip()] = None
        elif key == "body":
            pending["body"].append(rest)
        elif key == "author":
            pending["author"] = rest
        else:
            raise ValueError(f"unknown line {stripped!r}")
    finish()
    b.flush()
    if not bare:
        import subprocess

        subprocess.run(
            ["git", "-C", str(path), "checkout", "-q", "-f", "master"],
            check=True,
            capture_output=True,
        )
    return path, {label: b.shas[m] for label, m in labels.items()}


def era(version: str, fixture: str, huge_memory: bool = False) -> str:
    """Spec lines for a release tree: Makefile, uapi header and the khugepaged source."""
    path = "mm/huge_memory.c" if huge_memory else "mm/khugepaged.c"
    return (
        f"  file Makefile = @makefile {version}\n"
        f"  file include/uapi/linux/userfaultfd.h = @uapi {version}\n"
        f"  file {path} = @fixture {fixture}\n"
    )
