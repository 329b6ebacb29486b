#!/usr/bin/env python3
"""Verify a tree of real kernel files against bench/real_sources.json.

The kernel files themselves are never committed: they live under
bench/work/real/<version>/<path> (git-ignored).  This script does not
download anything; it recomputes the git blob id of every file listed in the
manifest (as `git hash-object` would) and reports missing or mismatched files.

Usage: python3 bench/fetch_real_sources.py [--manifest M] [--root DIR] [-q]
Exit status: 0 all present and matching, 1 any mismatch, 2 only missing files.
"""

import argparse
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def blob_id(path):
    with open(path, "rb") as fh:
        data = fh.read()
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", default=os.path.join(HERE, "real_sources.json"))
    ap.add_argument("--root", default=os.path.join(HERE, "work", "real"))
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    with open(args.manifest) as fh:
        entries = json.load(fh)
    ok = missing = bad = 0
    for e in entries:
        for rel, want in sorted(e["files"].items()):
            path = os.path.join(args.root, e["version"], rel)
            if not os.path.isfile(path):
                missing += 1
                print(f"MISSING  {e['version']}/{rel}  ({e['repository']})")
                continue
            got = blob_id(path)
            if got != want:
                bad += 1
                print(f"MISMATCH {e['version']}/{rel}  want {want} got {got}")
            else:
                ok += 1
                if not args.quiet:
                    print(f"ok       {e['version']}/{rel}  {got}")
    print(f"{len(entries)} versions: {ok} ok, {missing} missing, {bad} mismatched")
    if bad:
        return 1
    if missing:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
