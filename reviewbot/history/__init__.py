"""History: select refs, sweep them, decide where a fix stands in each stable branch, and
build the report.

May import: ``model``, the adapters, ``rules``, ``checker``.
"""
