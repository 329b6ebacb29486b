"""The C-tree adapter: tree-sitter parsing, queries, functions and parse-error classification.

The only place that imports tree_sitter. May import: ``reviewbot.model``.
"""
