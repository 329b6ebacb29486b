"""The git adapter: GitPython behind one module (``repository``), one subprocess runner for
the git commands GitPython does not cover, ``git config`` settings, and history building with
``git fast-import`` (demo, tests, bench).

The only place that imports GitPython. May import: ``reviewbot.model``.
"""
