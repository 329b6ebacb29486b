import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402
from gitenv import isolate_git  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs with CI=true: there a hypothesis failure must reproduce from the log alone (fixed
# seeds, the failing example's blob printed, no example database carried between runs).
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session", autouse=True)
def _hermetic_git_session(tmp_path_factory):
    """Module- and session-scoped fixtures run git before any per-test fixture: isolate them too."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(mp, tmp_path_factory.mktemp("session-git"))
        yield


@pytest.fixture(autouse=True)
def _hermetic_git(tmp_path, monkeypatch):
    """Every test: no user or system git config, a fixed identity, no GIT_DIR-style overrides,
    and its own XDG cache, so no verdict cache or demo history leaks between tests."""
    isolate_git(monkeypatch, tmp_path)
