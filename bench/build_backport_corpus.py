#!/usr/bin/env python3
"""Rebuild the pre- and post-images of the stable-backport corpus from Debian kernel sources.

Kernel code is never committed: the corpus lives in bench/work/backports (git-ignored), one
folder per manifest entry (bench/backport_corpus.json) holding the two mails, stable.patch and
upstream.patch, as the public archives carry them. This script finds, for every file of an
entry, the exact stable pre-image among copies of Debian's ``linux-source-*`` packages extracted
under --deb (one folder per release, e.g. ``linux-source-6.1_6.1.170/mm/khugepaged.c``):

  1. a release's copy whose git blob id is the manifest's pre_blob;
  2. a later release's copy with stable.patch reverse-applied (the release shipped this fix);
  3. that copy with, first, other corpus backports or the entry's own ``aux/NN-rev.patch``
     reverse-applied (later fixes of the same file in the same release), or ``aux/NN-fwd.patch``
     applied (earlier fixes of the same series).

The post-image is the pre-image with stable.patch applied by ``git apply``; both are checked
against the manifest's blob ids. Stdlib and the git binary only.

Usage: python3 bench/build_backport_corpus.py [--deb /work/deb/x] [--only ID ...] [-v]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE / "work" / "backports"


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def apply(data: bytes, patch: Path, path: str, reverse: bool) -> bytes | None:
    """``data`` as file ``path`` with ``patch``'s section for it applied (or reversed)."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp, path)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
        cmd = ["git", "apply", f"--include={path}", "--whitespace=nowarn"]
        cmd += ["-R"] if reverse else []
        r = subprocess.run(cmd + [str(patch)], cwd=tmp, capture_output=True)
        return f.read_bytes() if r.returncode == 0 else None


def touches(patch: Path, path: str) -> bool:
    text = patch.read_text("utf-8", "replace")
    return f"a/{path}\n" in text or f"a/{path} " in text


def debian_copies(deb: Path, path: str, major: str) -> list[tuple[str, bytes]]:
    """Every extracted release's copy of ``path``, the entry's own stable series first."""
    out = []
    for tree in sorted(deb.iterdir()):
        f = tree / path
        if f.is_file():
            out.append((tree.name, f.read_bytes()))
    out.sort(key=lambda c: (f"_{major}." not in c[0], c[0]))
    return out


def chains(entry: dict, corpus: list[dict], path: str) -> list[list[tuple[Path, bool]]]:
    """Patch sequences to try before reverse-applying stable.patch: none, then each other
    corpus backport of this file in the same stable series (reversed), then the aux patches."""
    own = ROOT / entry["id"]
    major = entry["stable_version"].rsplit(".", 1)[0]
    out: list[list[tuple[Path, bool]]] = [[]]
    for other in corpus:
        sp = ROOT / other["id"] / "stable.patch"
        if (
            other["id"] != entry["id"]
            and other["stable_version"].rsplit(".", 1)[0] == major
            and sp.is_file()
            and touches(sp, path)
        ):
            out.append([(sp, True)])
    aux = sorted((own / "aux").glob("*.patch")) if (own / "aux").is_dir() else []
    if aux:
        out.append([(p, p.name.endswith("-rev.patch")) for p in aux if touches(p, path)])
    return out


def build(entry: dict, corpus: list[dict], deb: Path, verbose: bool) -> list[str]:
    d = ROOT / entry["id"]
    sp = d / "stable.patch"
    if not sp.is_file() or not (d / "upstream.patch").is_file():
        return ["stable.patch or upstream.patch not fetched yet"]
    major = entry["stable_version"].rsplit(".", 1)[0]
    errs = []
    for f in entry["files"]:
        path, want = f["path"], f["pre_blob"]
        pre, how = None, ""
        for name, data in debian_copies(deb, path, major):
            for chain in chains(entry, corpus, path):
                cur: bytes | None = data
                for p, rev in chain:
                    cur = apply(cur, p, path, rev) if cur is not None else None
                for last in (False, True):
                    got = apply(cur, sp, path, True) if last and cur is not None else cur
                    if got is not None and blob_id(got) == want:
                        pre = got
                        steps = [f"{'-' if r else '+'}{p.parent.name}/{p.name}" for p, r in chain]
                        how = " ".join([name, *steps, *(["-stable.patch"] if last else [])])
                        break
                if pre is not None:
                    break
            if pre is not None:
                break
        if pre is None:
            errs.append(f"{path}: no Debian copy gives pre_blob {want[:12]}")
            continue
        post = apply(pre, sp, path, False)
        if post is None or blob_id(post) != f["post_blob"]:
            errs.append(f"{path}: stable.patch does not give post_blob {f['post_blob'][:12]}")
            continue
        for side, data in (("pre", pre), ("post", post)):
            out = d / side / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        if verbose:
            print(f"  {entry['id']} {path}: {how}")
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=HERE / "backport_corpus.json")
    ap.add_argument("--deb", type=Path, default=Path(os.environ.get("DEB_TREES", "/work/deb/x")))
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    corpus = json.loads(a.manifest.read_text())
    bad = 0
    for entry in corpus:
        if a.only and not any(entry["id"].startswith(o) or o in entry["id"] for o in a.only):
            continue
        errs = build(entry, corpus, a.deb, a.verbose)
        print(f"{'ok ' if not errs else 'BAD'} {entry['id']}" + "".join(f"\n    {e}" for e in errs))
        bad += bool(errs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
