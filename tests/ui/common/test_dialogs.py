"""The save dialog's answer: a name typed without a suffix gets the expected one."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from cnnviz.ui.common import dialogs


@pytest.mark.parametrize("picked, wanted", [("/tmp/chart", "/tmp/chart.png"),
                                            ("/tmp/chart.svg", "/tmp/chart.svg"),
                                            ("", "")])
def test_a_name_without_a_suffix_gets_the_default_one(qtbot, monkeypatch, picked, wanted):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (picked, ""))
    assert dialogs.get_save_path(None, "Save chart", "chart.png", dialogs.CHART_FILTER,
                                 ".png") == wanted
