"""The command line: the only place that imports typer.

One module per command group; library errors become one line on stderr and exit code 2.
"""
