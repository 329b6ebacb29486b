"""``python -m reviewbot``: what the installed git hooks run (no console script needed)."""

from reviewbot.cli.entry import main

main()
