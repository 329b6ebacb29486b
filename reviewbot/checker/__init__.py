"""The checker: locate a rule's functions, build their control flow, decide every guard,
and explain a near-miss; check files on disk.

May import: ``model``, the adapters (``ctree``), ``rules``.
"""
