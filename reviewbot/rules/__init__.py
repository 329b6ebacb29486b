"""Rules are data: load ``queries/*.toml`` rule files into typed, frozen specs.

May import: ``reviewbot.model``.
"""
