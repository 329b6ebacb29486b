"""Rendering: text (rich), JSON, JSONL, SARIF, Markdown and HTML views of results, sweeps and
reports; the terminal progress bar.

Renderers take typed results and return strings. May import every stage below it.
"""
