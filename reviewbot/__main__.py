"""``python -m reviewbot``: what the installed git hooks run (no console script needed).

``hook run pre-commit`` runs on every commit that stages a guarded file: it takes a lean path
that imports neither typer nor GitPython (``cli.hookrun``); everything else, and anything that
path does not take, goes to the full command line.
"""

import sys

if sys.argv[1:4] == ["hook", "run", "pre-commit"]:
    from reviewbot.cli.hookrun import main as hook_main

    code = hook_main(sys.argv[4:])
    if code is not None:
        sys.exit(code)

from reviewbot.cli.app import main  # noqa: E402

main()
