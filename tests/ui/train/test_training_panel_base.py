"""The Train view on a builder spec with a pre-built base whose prepared file is missing (a
spec copied from another computer): it prepares the base in the training thread, says so,
and trains the head with the base left frozen."""

from __future__ import annotations

from pathlib import Path


import dataclasses

from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.transfer.base_blocks import prepare_base_block
from cnnviz.ui.common import dialogs
from cnnviz.ui.train.training_panel import TrainingPanel
from cnnviz.workspace import Workspace


def test_the_train_view_prepares_a_missing_base_and_trains_the_head(qtbot, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNVIZ_RECORD_RUNS", "0")
    base = prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32),
                              input_channels=1)
    Path(base.params["block_file"]).unlink()
    failures: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, _t, text: failures.append(text))
    monkeypatch.setattr(dialogs, "show_failure",
                        lambda _p, _t, text, details="": failures.append(text))
    workspace = Workspace(ModelSpec((28, 28, 1), [
        base, LayerSpec.new("GlobalAveragePooling2D"),
        LayerSpec.make("Dense", units=10, activation="softmax")], "on_mobilenet"))
    panel = TrainingPanel(workspace)
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
    original_options = panel.chooser.options
    monkeypatch.setattr(panel.chooser, "options",
                        lambda: dataclasses.replace(original_options(), limit=96))
    panel.resize(1280, 720)
    panel.show()
    with qtbot.waitSignal(panel.chooser.loaded, timeout=60_000):
        panel.chooser.select_source("mnist-sample")
    assert panel.start_button.isEnabled()
    panel.settings.epochs.setValue(1)
    panel.settings.batch_size.setValue(32)
    stages: list[str] = []
    with qtbot.waitSignal(workspace.run.finished, timeout=120_000):
        panel.start_button.click()
        panel.worker.stage.connect(stages.append)
    assert failures == []
    assert any(stage.startswith("Preparing the pre-built base") for stage in stages)
    # Prepared again in the data folder (ensure_base_blocks names the file with the cut
    # spelled out, so it may differ from the deleted one's name).
    assert list((tmp_path / "home" / "bases").glob("mobilenet_v2-random-32x32x1-*.keras"))
    assert panel.history.epochs_done == 1
    assert "Test accuracy" in panel.status.text()
    trained = panel.model.layers[0]
    assert trained.name == "pretrained_base" and not trained.trainable
