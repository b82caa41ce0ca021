"""A saved transfer model opens in the builder from the Inspect view: its base becomes a
Pre-built base layer that keeps the trained weights (prepared in the background)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnviz.core.model.builder import build_model, save_model_file
from cnnviz.core.model.spec_params import PRETRAINED_BASE
from cnnviz.core.transfer.bases import open_base
from cnnviz.core.transfer.transfer_model import build_transfer_model
from cnnviz.ui.main_window import BUILD_TAB
from tests.ui.app_window import shown_main_window

SAMPLE_MODEL = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"


def test_a_transfer_model_opens_in_the_builder_with_its_base(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    transfer = build_transfer_model(open_base(str(SAMPLE_MODEL)), (28, 28, 1), 4,
                                    head_units=8, dropout=0.0)
    path = tmp_path / "transfer.keras"
    save_model_file(transfer.model, path)
    window = shown_main_window(qtbot, tmp_path, monkeypatch, 50, size=(1280, 720))
    window.open_path(str(path))
    tab = window.models
    qtbot.waitUntil(lambda: not tab.busy and tab.opened is not None, timeout=60_000)
    button = tab.inspect.edit_button
    assert button.isEnabled(), button.toolTip()
    button.click()
    actions = window.opened_actions
    assert actions.preparing is not None            # saved in the background
    qtbot.waitUntil(lambda: actions.preparing is None, timeout=60_000)
    assert window.failures == []
    assert window.tabs.currentIndex() == BUILD_TAB
    spec = window.document.spec
    assert [layer.type for layer in spec.layers] == [PRETRAINED_BASE, "Dense", "Dense"]
    base = spec.layers[0]
    assert not base.trainable and Path(base.params["block_file"]).parent == \
        tmp_path / "home" / "bases"
    # The network with its weights is kept out of the caches, which File > Disk Space clears.
    assert Path(base.params["source"]).parent == tmp_path / "home" / "saved_bases"
    assert window.document.report.ok
    model = build_model(spec)
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(model.layers[0](images)),
                               np.asarray(transfer.base_part(images)), atol=1e-6)
    if os.environ.get("CNNVIZ_SHOTS"):
        window.grab().save(os.path.join(os.environ["CNNVIZ_SHOTS"], "builder_1280x720.png"))
