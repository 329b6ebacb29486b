"""Value types shared by every stage: check verdicts and results, status enums, kernel
versions and their one order key, and the library's error hierarchy.

Imports nothing from reviewbot; every other stage may import it.
"""
