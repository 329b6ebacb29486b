"""Git hooks: install and uninstall them, and what the installed hooks check.

May import every stage below it (up to ``backport``).
"""
