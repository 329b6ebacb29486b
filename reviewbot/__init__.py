"""reviewbot: structural review and stable backports for Linux kernel khugepaged uffd-wp guards."""

__version__ = "0.1.0"
