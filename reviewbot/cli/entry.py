"""The ``reviewbot`` console script and ``python -m reviewbot``.

``hook run pre-commit`` runs on every commit that stages a guarded file (from the installed
hook script, or from the pre-commit framework's ``entry: reviewbot hook run pre-commit``): it
takes the lean path of :mod:`reviewbot.cli.hookrun`, which imports neither typer nor
GitPython. Everything else, and anything that path does not take, goes to the typer app.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line for ``sys.argv``."""
    if sys.argv[1:4] == ["hook", "run", "pre-commit"]:
        from reviewbot.cli.hookrun import main as hook_main

        code = hook_main(sys.argv[4:])
        if code is not None:
            sys.exit(code)
    from reviewbot.cli.app import main as app_main

    app_main()
