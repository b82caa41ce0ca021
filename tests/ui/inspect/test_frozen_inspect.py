"""An opened transfer model (a frozen base nested in it) shows its frozen layers in the
Inspect graph and header, with trainable / non-trainable counts equal to Keras's."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cnnviz.core.model.builder import load_model_file, save_model_file
from cnnviz.core.transfer.bases import open_base
from cnnviz.core.transfer.transfer_model import build_transfer_model, unfreeze_top_layers
from cnnviz.ui.inspect.model_graph import frozen_state
from tests.ui.app_window import shown_main_window

SAMPLE = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"


def _count(weights: list) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_main_window(qtbot, tmp_path, monkeypatch, 64, size=(1280, 800))


def _transfer_file(tmp_path: Path, fine_tune: int = 0) -> Path:
    transfer = build_transfer_model(open_base(SAMPLE), (28, 28, 1), 3, head_units=8)
    if fine_tune:
        unfreeze_top_layers(transfer, fine_tune)
    return save_model_file(transfer.model, tmp_path / f"transfer_{fine_tune}.keras")


def _open(window, qtbot, path: Path):
    window.open_path(str(path))
    qtbot.waitUntil(lambda: not window.models.busy and window.models.info is not None,
                    timeout=60_000)
    return window.models


@pytest.mark.parametrize("fine_tune", [0, 3])  # 3: conv2d_1 and up trainable
def test_a_transfer_models_frozen_base_is_drawn_frozen_with_keras_counts(window, qtbot,
                                                                        tmp_path, fine_tune):
    path = _transfer_file(tmp_path, fine_tune)
    keras_model = load_model_file(path)
    tab = _open(window, qtbot, path)
    info = tab.info
    assert info.trainable_params == _count(keras_model.trainable_weights)
    assert info.non_trainable_params == _count(keras_model.non_trainable_weights)
    layers = {layer.name: layer for layer in info.layers}
    base = next(layer for layer in keras_model.layers if hasattr(layer, "layers"))
    row = layers[base.name]
    assert (row.trainable_params, row.non_trainable_params) == (
        _count(base.trainable_weights), _count(base.non_trainable_weights))
    assert frozen_state(row) == ("frozen" if fine_tune == 0 else "partly")
    assert frozen_state(layers["head_classes"]) == ""
    canvas = tab.inspect.graph.canvas
    tip = canvas.tooltip_for(info.layers.index(row))
    if fine_tune == 0:
        assert f"Frozen: its {row.params:,} parameters are not trained." in tip
        assert "❄ 1 frozen layer " in tab._summary_text()
    else:
        assert (f"Partly frozen: {row.non_trainable_params:,} of its {row.params:,} "
                f"parameters are not trained.") in tip
        assert "❄ 1 partly frozen layer " in tab._summary_text()
    head_tip = canvas.tooltip_for(info.layers.index(layers["head_classes"]))
    assert "frozen" not in head_tip.lower()
