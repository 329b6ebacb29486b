#!/usr/bin/env python3
"""Verify the stable-backport corpus in bench/work/backports against bench/backport_corpus.json.

Stdlib only (uses the `git` binary for `git apply`). For every manifest entry:
  * stable.patch and upstream.patch exist;
  * pre/<path> and post/<path> hash (git blob id) to the manifest's pre_blob/post_blob;
  * the `index <old>..<new>` lines of stable.patch (where present) are prefixes of those ids;
  * `git apply --check stable.patch` succeeds on a copy of the pre-images, and applying it
    yields byte-identical post-images.
Exit status 1 on any mismatch, 0 otherwise.

Usage: python3 bench/verify_backport_corpus.py [--manifest PATH] [--root DIR] [-v]
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def index_lines(patch_text: str) -> dict:
    out = {}
    for m in re.finditer(
        r"^diff --git a/(\S+) b/\S+\n(?:[^\n]*\n)*?index ([0-9a-f]+)\.\.([0-9a-f]+)",
        patch_text,
        re.M,
    ):
        out.setdefault(m.group(1), (m.group(2), m.group(3)))
    return out


def check_entry(entry: dict, root: str, verbose: bool) -> list:
    errs = []
    d = os.path.join(root, entry["id"])
    if not os.path.isdir(d):
        return [f"missing directory {d}"]
    for name in ("stable.patch", "upstream.patch"):
        if not os.path.isfile(os.path.join(d, name)):
            errs.append(f"missing {name}")
    if errs:
        return errs
    expected_id = "{}-{}".format(entry["stable_version"], entry["upstream_commit"][:12])
    if entry["id"] != expected_id:
        errs.append("id {} != {}".format(entry["id"], expected_id))
    if not re.fullmatch(r"[0-9a-f]{40}", entry["upstream_commit"]):
        errs.append("upstream_commit is not 40 hex")
    patch_text = read(os.path.join(d, "stable.patch")).decode("utf-8", "replace")
    idx = index_lines(patch_text)
    paths = [f["path"] for f in entry["files"]]
    touched = set(re.findall(r"^diff --git a/(\S+) b/", patch_text, re.M)) or set(
        re.findall(r"^\+\+\+ b/(\S+)", patch_text, re.M)
    )
    if touched != set(paths):
        errs.append(f"stable.patch touches {sorted(touched)}, manifest lists {sorted(paths)}")
    for f in entry["files"]:
        p = f["path"]
        for side, key in (("pre", "pre_blob"), ("post", "post_blob")):
            fp = os.path.join(d, side, p)
            if not os.path.isfile(fp):
                errs.append(f"missing {side}/{p}")
                continue
            got = blob_id(read(fp))
            if got != f[key]:
                errs.append(f"{side}/{p} hashes to {got}, manifest says {f[key]}")
        if p in idx:
            old, new = idx[p]
            if not f["pre_blob"].startswith(old):
                errs.append(
                    "{}: index old {} does not match pre_blob {}".format(p, old, f["pre_blob"])
                )
            if not f["post_blob"].startswith(new):
                errs.append(
                    "{}: index new {} does not match post_blob {}".format(p, new, f["post_blob"])
                )
    if errs:
        return errs
    tmp = tempfile.mkdtemp(prefix="bpv-")
    try:
        for p in paths:
            dst = os.path.join(tmp, p)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(d, "pre", p), dst)
        patch = os.path.abspath(os.path.join(d, "stable.patch"))
        r = subprocess.run(
            ["git", "apply", "--check", patch], cwd=tmp, capture_output=True, text=True
        )
        if r.returncode:
            return [f"git apply --check failed: {r.stderr.strip()}"]
        r = subprocess.run(["git", "apply", patch], cwd=tmp, capture_output=True, text=True)
        if r.returncode:
            return [f"git apply failed: {r.stderr.strip()}"]
        for p in paths:
            if read(os.path.join(tmp, p)) != read(os.path.join(d, "post", p)):
                errs.append(f"applying stable.patch to pre/{p} does not give post/{p}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=os.path.join(HERE, "backport_corpus.json"))
    ap.add_argument("--root", default=os.path.join(HERE, "work", "backports"))
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    with open(a.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    bad = 0
    seen = set()
    for entry in manifest:
        errs = check_entry(entry, a.root, a.verbose)
        if entry["id"] in seen:
            errs.append("duplicate id")
        seen.add(entry["id"])
        if errs:
            bad += 1
            print("FAIL {}".format(entry["id"]))
            for e in errs:
                print("  " + e)
        elif a.verbose:
            print("ok   {}{}".format(entry["id"], "" if entry["adapted"] else " (clean)"))
    print(f"{len(manifest)} entries, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
