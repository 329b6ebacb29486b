"""The on-disk store: the SQLite verdict cache.

May import: ``reviewbot.model``.
"""
