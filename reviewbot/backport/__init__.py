"""Backports: read C into statements, align two versions of a function, place an upstream
change in a target tree, validate a proposed backport, and generate stable mails.

May import: ``model``, the adapters, ``rules``, ``checker``, ``history``.
"""
