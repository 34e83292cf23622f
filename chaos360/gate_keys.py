"""Where the gate's pytest plugin (conftest.py) leaves what the CLI reads after the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.outcome import Outcome

OUTCOMES = pytest.StashKey[list[Outcome]]()
INTERRUPTED_RUN = pytest.StashKey[Path | None]()
