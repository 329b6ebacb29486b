"""A kernel-shaped history with stable branches, as the sweep and report tests need it.

Mainline: v5.4 → the scan fix (e1e267c7928f's shape) → v5.6 (same khugepaged blob as v5.7,
other kernel version) → v5.7 → v5.10 → v5.15 → v6.1 → v6.2 → v6.3-rc1 → the isolate fix
(``Fixes:`` the scan fix) → v6.3. Stable branches, one per way a fix is (or is not) recorded:

| branch            | what happens                                              | expected       |
|-------------------|-----------------------------------------------------------|----------------|
| linux-5.4.y       | forked before the Fixes: commit                           | not-affected   |
| linux-5.10.y      | ``commit <sha> upstream.`` (Greg), released in v5.10.179  | fixed          |
| linux-5.15.y      | ``[ Upstream commit <sha> ]`` (Sasha)                     | fixed          |
| linux-6.1-cp.y    | ``(cherry picked from commit <sha>)``                     | fixed          |
| linux-6.2.y       | same diff, other subject, no marker: equal patch-id only  | fixed          |
| linux-6.1.y       | nothing                                                   | needs-backport |
| linux-5.10-lost.y | Greg's backport, then a rework that drops the guard       | regressed      |

Tag ``v6.9`` sits on a side branch where mm/khugepaged.c was deleted (a ref lacking the file).
"""

from __future__ import annotations

from histories import build, era

FIX_SUBJECT = "mm/khugepaged: check again on anon uffd-wp during isolation"
FIX_BODY = (
    "  body Check the uffd-wp bit again in the isolate phase.\n"
    "  body\n"
    '  body Fixes: {sha12:scanfix} ("khugepaged: skip collapse if uffd-wp detected")\n'
    "  body Cc: <stable@vger.kernel.org>\n"
    "  body Signed-off-by: Demo Author <author@example.org>\n"
)


def _makefile(version: str) -> str:
    return f"  file Makefile = @makefile {version}\n"


SPEC = (
    f'commit v54 "Linux 5.4" tag v5.4\n{era("5.4.0", "v5.4.c")}'
    'commit scanfix "khugepaged: skip collapse if uffd-wp detected"\n  file mm/khugepaged.c = @fixture v5.7.c\n'
    f'commit v56 "Linux 5.6" tag v5.6\n{_makefile("5.6.0")}'
    f'commit v57 "Linux 5.7" tag v5.7\n{era("5.7.0", "v5.7.c")}'
    f'commit v510 "Linux 5.10" tag v5.10\n{era("5.10.0", "v5.10.178.c")}'
    f'commit v515 "Linux 5.15" tag v5.15\n{era("5.15.0", "v5.15.108.c")}'
    f'commit v61 "Linux 6.1" tag v6.1\n{era("6.1.0", "v6.1.25.c")}'
    f'commit v62 "Linux 6.2" tag v6.2\n{era("6.2.0", "v6.2.12.c")}'
    f'commit rc1 "Linux 6.3-rc1" tag v6.3-rc1\n{era("6.3.0-rc1", "v6.3-rc1.c")}'
    f'commit fix "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v6.3.c\n{FIX_BODY}'
    f'commit v63 "Linux 6.3" tag v6.3\n{_makefile("6.3.0")}'
    # a ref lacking the file
    "on scratch from v6.3\n"
    'commit nofile "drop khugepaged" tag v6.9\n  delete mm/khugepaged.c\n  file Makefile = @makefile 6.9.0\n'
    # not affected
    "on linux-5.4.y from v5.4\n"
    f'commit s54 "Linux 5.4.200" tag v5.4.200\n{_makefile("5.4.200")}'
    # Greg
    "on linux-5.10.y from v5.10\n"
    f'commit s5109 "Linux 5.10.9" tag v5.10.9\n{_makefile("5.10.9")}'
    f'commit s51010 "Linux 5.10.10" tag v5.10.10\n{_makefile("5.10.10")}'
    f'commit bp510 "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v5.10.179.c\n'
    "  body commit {sha:fix} upstream.\n  body\n  body Signed-off-by: Greg Kroah-Hartman <gregkh@example.org>\n"
    f'commit s510179 "Linux 5.10.179" tag v5.10.179\n{_makefile("5.10.179")}'
    # Sasha
    "on linux-5.15.y from v5.15\n"
    f'commit bp515 "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v5.15.109.c\n'
    "  body [ Upstream commit {sha:fix} ]\n  body\n  body Signed-off-by: Sasha Levin <sashal@example.org>\n"
    f'commit s515109 "Linux 5.15.109" tag v5.15.109\n{_makefile("5.15.109")}'
    # cherry-pick -x
    "on linux-6.1-cp.y from v6.1\n"
    f'commit bp61cp "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v6.1.26.c\n'
    "  body (cherry picked from commit {sha:fix})\n"
    # equal patch-id, nothing in the message
    "on linux-6.2.y from v6.2\n"
    'commit bp62 "mm: khugepaged: recheck uffd-wp while isolating"\n  file mm/khugepaged.c = @fixture v6.2.13.c\n'
    f'commit s6213 "Linux 6.2.13" tag v6.2.13\n{_makefile("6.2.13")}'
    # needs the backport
    "on linux-6.1.y from v6.1\n"
    f'commit s6125 "Linux 6.1.25" tag v6.1.25\n{_makefile("6.1.25")}'
    # recorded, then lost
    "on linux-5.10-lost.y from v5.10\n"
    f'commit bplost "{FIX_SUBJECT}"\n  file mm/khugepaged.c = @fixture v5.10.179.c\n'
    "  body commit {sha:fix} upstream.\n"
    'commit rework "mm: khugepaged: simplify the isolate loop"\n  file mm/khugepaged.c = @fixture v5.10.178.c\n'
)

EXPECTED = {
    "linux-5.4.y": "not-affected",
    "linux-5.10.y": "fixed",
    "linux-5.15.y": "fixed",
    "linux-6.1-cp.y": "fixed",
    "linux-6.2.y": "fixed",
    "linux-6.1.y": "needs-backport",
    "linux-5.10-lost.y": "regressed",
}


def build_stable(path, bare: bool = False):
    """Build the history; returns (path, label -> sha)."""
    return build(path, SPEC, bare=bare)
