"""Fixtures the CLI tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of the test's own (CNNVIZ_HOME): its run store, journals and bases."""
    folder = tmp_path / "home"
    monkeypatch.setenv("CNNVIZ_HOME", str(folder))
    return folder
