"""Patch-ids of a branch's commits: the answer of ``git log -p --full-diff | git patch-id``,
without diffing commits that cannot match (a tree imported as one commit), memoised per commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitenv import git

from reviewbot.git.repository import Repository


def _commit(
    repo: Path, files: dict[str, str | None], msg: str, mode: dict[str, str] | None = None
) -> str:
    for path, text in files.items():
        p = repo / path
        if text is None:
            git(repo, "rm", "-q", path)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        git(repo, "add", path)
    for path, m in (mode or {}).items():
        git(repo, "update-index", f"--chmod={m}", path)
    git(repo, "commit", "-q", "--allow-empty", "-m", msg)
    return git(repo, "rev-parse", "HEAD").stdout.decode().strip()


def _reference(repo: Path, rng: str, paths: tuple[str, ...]) -> dict[str, str]:
    """The plain pipeline reviewbot used to run, held in memory: the answer to match."""
    diff = git(
        repo, "log", "-p", "--full-diff", "--no-merges", "--format=commit %H", rng, "--", *paths
    ).stdout
    out = subprocess.run(
        ["git", "-C", str(repo), "patch-id", "--stable"],
        input=diff,
        capture_output=True,
        check=True,
    )
    found: dict[str, str] = {}
    for row in out.stdout.decode().splitlines():
        pid, _, sha = row.partition(" ")
        found.setdefault(pid, sha)
    return found


def test_patch_ids_match_the_full_pipeline_for_every_commit_that_could_match(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    body = "".join(f"line {i}\n" for i in range(40))
    # the root: an imported tree, the watched file among many others
    _commit(
        repo,
        {"mm/khugepaged.c": body, **{f"drivers/f{i}.c": body + str(i) for i in range(30)}},
        "import",
    )
    fixed = body.replace("line 7\n", "line 7 guarded\n")
    alone = _commit(repo, {"mm/khugepaged.c": fixed}, "fix alone")
    _commit(repo, {"mm/khugepaged.c": body}, "undo")
    # the same change plus hunkless changes elsewhere: a mode change, an empty new file
    with_extras = _commit(
        repo,
        {"mm/khugepaged.c": fixed, "drivers/empty.c": ""},
        "fix and harmless extras",
        mode={"drivers/f3.c": "+x"},
    )
    _commit(repo, {"mm/khugepaged.c": body}, "undo again")
    # the same change plus a real hunk elsewhere: a different patch-id
    mixed = _commit(repo, {"mm/khugepaged.c": fixed, "drivers/f4.c": "changed\n"}, "fix and more")
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").stdout.decode().strip()
    paths = ("mm/khugepaged.c",)
    want = _reference(repo, "HEAD", paths)
    r = Repository(repo)
    got = r.patch_ids("HEAD", paths)
    # every commit that changes no other file, with the pipeline's id
    assert got == {p: s for p, s in want.items() if s not in (root, mixed, with_extras)}
    fix_id = r.patch_id_of(git(repo, "show", alone).stdout.decode())
    assert want[fix_id] == alone and got[fix_id] == alone
    # a mode change or an empty file elsewhere still enters the id: such a commit is not diffed
    assert with_extras in want.values() and fix_id not in [
        p for p, s in want.items() if s == with_extras
    ]
    assert with_extras not in r._commit_patch_ids
    # the imported root and the commit with a real hunk elsewhere: listed, never diffed
    assert root in want.values() and mixed in want.values()
    assert root not in r._commit_patch_ids and mixed not in r._commit_patch_ids


def test_patch_ids_are_memoised_per_commit_across_ranges(tmp_path, monkeypatch):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    _commit(repo, {"a.c": "one\n"}, "root")
    first = _commit(repo, {"a.c": "two\n"}, "first")
    second = _commit(repo, {"a.c": "three\n"}, "second")
    r = Repository(repo)
    calls: list[list[str]] = []
    import reviewbot.git.repository as mod

    real = mod.pipe_git

    def counting(producer, consumer, **kw):
        calls.append([a for a in producer if len(a) == 40])
        return real(producer, consumer, **kw)

    monkeypatch.setattr(mod, "pipe_git", counting)
    assert r.patch_ids(first, ("a.c",)) == _reference(repo, first, ("a.c",))
    assert r.patch_ids(second, ("a.c",)) == _reference(repo, second, ("a.c",))
    # the second range diffed only the commits the first had not
    assert calls[0] == [first, git(repo, "rev-parse", "HEAD~2").stdout.decode().strip()]
    assert calls[1] == [second]
    assert len(calls) == 2


def test_a_renaming_commit_is_a_candidate_when_both_names_are_given(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    body = "".join(f"line {i}\n" for i in range(40))
    _commit(repo, {"mm/old.c": body, "other.c": "x\n"}, "root")
    git(repo, "mv", "mm/old.c", "mm/new.c")
    (repo / "mm" / "new.c").write_text(body.replace("line 3\n", "line 3 fixed\n"))
    git(repo, "add", "mm/new.c")
    git(repo, "commit", "-q", "-m", "rename and fix")
    sha = git(repo, "rev-parse", "HEAD").stdout.decode().strip()
    r = Repository(repo)
    both = ("mm/new.c", "mm/old.c")
    assert r.patch_ids("HEAD", both) == {
        p: s for p, s in _reference(repo, "HEAD", both).items() if s == sha
    }
    assert sha in r.patch_ids("HEAD", both).values()
    # named by its new path only, the rename's source lies outside: it cannot match such a fix
    assert sha not in r.patch_ids("HEAD~0", ("mm/new.c",)).values()
