"""The Disk Space dialog on real cache files in a CNNVIZ_HOME of the test's own: sizes shown,
Clear asks first, cancelling deletes nothing, clearing frees and the sizes are measured again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnviz.core.formatting import readable_size
from cnnviz.core.transfer.features import FeatureCache, Features, save_features_npz
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.cache_dialog import MEASURING, CacheDialog


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("CNNVIZ_HOME", str(folder))
    cache = FeatureCache("model file sha256:00", "mnist-sample")
    for layer in ("conv2d", "dense"):
        features = Features(values=np.ones((30, 64), np.float32), labels=np.zeros(30, np.int64),
                            indices=np.arange(30), layer=layer, base="tiny",
                            reduction="flattened", layer_shape=(64,))
        path = cache.path_for(f"key of {layer}")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_features_npz(path, features, extra={"cache_key": np.array(f"key of {layer}")})
    (folder / "bases").mkdir()
    (folder / "bases" / "mobilenet_v2-imagenet-96x96x1-00.keras").write_bytes(b"k" * 4096)
    return folder


def open_dialog(qtbot) -> CacheDialog:
    dialog = CacheDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.measured, timeout=10_000):
        dialog.show()
    return dialog


def test_shows_each_cache_and_clearing_asks_first(qtbot, home, monkeypatch):
    cached = sorted((home / "feature_cache").glob("features-*.npz"))
    size = sum(path.stat().st_size for path in cached)
    dialog = open_dialog(qtbot)
    features, bases = dialog.rows["features"], dialog.rows["bases"]
    assert features.size.text() == f"2 files, {readable_size(size)}"
    assert bases.size.text() == "1 file, 4.00 KB"
    assert features.folder.text() == str(home / "feature_cache") and features.folder.isReadOnly()
    assert "Kept under 2.00 GB" in features.cost.text()
    assert "computed again" in features.cost.text() and "deleted cannot be" in bases.cost.text()
    assert dialog.total.text() == f"Total: {readable_size(size + 4096)}"

    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_to_confirm",
                        lambda _parent, _title, question, _confirm: asked.append(question) or False)
    qtbot.mouseClick(features.clear_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and str(home / "feature_cache") in asked[0]
    assert all(path.exists() for path in cached)               # cancelled: nothing deleted
    assert features.clear_button.isEnabled() and features.outcome.isHidden()

    monkeypatch.setattr(dialogs, "ask_to_confirm", lambda *_args: True)
    with qtbot.waitSignal(dialog.measured, timeout=10_000):
        qtbot.mouseClick(features.clear_button, Qt.MouseButton.LeftButton)
    assert not any(path.exists() for path in cached)
    assert features.size.text() == "empty" and not features.clear_button.isEnabled()
    assert features.outcome.text() == f"Freed {readable_size(size)} (2 files)."
    assert bases.size.text() == "1 file, 4.00 KB" and bases.clear_button.isEnabled()
    assert (home / "bases" / "mobilenet_v2-imagenet-96x96x1-00.keras").exists()
    assert dialog.total.text() == "Total: 4.00 KB"


def test_measure_again_sees_files_written_meanwhile(qtbot, home):
    dialog = open_dialog(qtbot)
    (home / "bases" / "resnet50-imagenet-96x96x3-01.keras").write_bytes(b"k" * 2048)
    with qtbot.waitSignal(dialog.measured, timeout=10_000):
        qtbot.mouseClick(dialog.refresh_button, Qt.MouseButton.LeftButton)
        assert dialog.rows["bases"].size.text() == MEASURING
    assert dialog.rows["bases"].size.text() == "2 files, 6.00 KB"


def test_the_file_menu_opens_it(qtbot, home, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from cnnviz.ui import main_window
    from cnnviz.ui.common import cache_dialog

    monkeypatch.setattr(main_window, "settings", lambda: QSettings(
        str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    opened: list[CacheDialog] = []
    monkeypatch.setattr(cache_dialog.CacheDialog, "exec", lambda self: opened.append(self) or 0)
    window = main_window.MainWindow()
    qtbot.addWidget(window)
    action = window.actions["disk_space"]
    assert action in window.menuBar().actions()[0].menu().actions()
    assert action.text().replace("&", "") == "Disk Space…"
    action.trigger()
    assert len(opened) == 1 and opened[0].windowTitle() == "Disk space used by cnnviz"
    qtbot.waitUntil(lambda: opened[0].rows["bases"].size.text() == "1 file, 4.00 KB")
