"""``python -m reviewbot``: what the installed git hooks run (no console script needed)."""

from .cli import main

main()
