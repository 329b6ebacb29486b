"""A progress bar on stderr when it is a terminal; silent in pipes (rich)."""

from __future__ import annotations

import sys


class ProgressBar:
    """A rich progress bar on stderr when it is a terminal; nothing at all in pipes."""

    def __init__(self, what: str):
        self.what = what
        self.bar = None
        self.task = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn(self.what),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.__enter__()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(self.what, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


def progress_bar(what: str) -> ProgressBar:
    """A context manager that is also the ``progress(done, total)`` callback sweeps call."""
    return ProgressBar(what)
