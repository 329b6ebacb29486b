"""The diff and mail adapter: unidiff parsing, format-patch/mbox mails, exact in-memory apply,
hunk reversal, and writing unified diffs and ``git am``-ready mails.

The only place that imports unidiff. May import: ``reviewbot.model``.
"""
