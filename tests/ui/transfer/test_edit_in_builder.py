"""The Transfer page's "Edit in the builder": the page's base, cut and head (and the data's
classes and channels) reach the builder as one undoable edit, the base one frozen layer."""

from __future__ import annotations

from pathlib import Path

from cnnviz.core.model.builder import build_model
from cnnviz.core.model.spec_params import PRETRAINED_BASE
from cnnviz.ui.common import dialogs
from cnnviz.ui.main_window import BUILD_TAB, PREBUILT_TAB
from tests.ui.app_window import shown_main_window
from tests.ui.transfer.test_transfer_view import offline, open_base

SAMPLE_MODEL = Path(__file__).parents[3] / "sample_models" / "mnist_cnn_small.keras"


def test_edit_in_the_builder_puts_the_transfer_model_into_the_builder(
        qtbot, tmp_path, monkeypatch):
    from tests.ui.transfer.test_transfer_view import LIMIT
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.ui.train.dataset_chooser import load_with_preview

    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    window = shown_main_window(qtbot, tmp_path, monkeypatch, 50, size=(1280, 720))
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_to_confirm",
                        lambda _p, title, _q, _c: asked.append(title) or True)
    window.workspace.data.set_loaded(load_with_preview("mnist-sample", LoadOptions(limit=LIMIT),
                                                       lambda *a: None))
    window.tabs.setCurrentIndex(PREBUILT_TAB)
    view = window.transfer_view
    assert not view.edit_button.isEnabled()                  # no base yet
    open_base(qtbot, view, "mobilenet_v2", weights="random", size=32)
    view.cut.setCurrentIndex(view.cut.findText("block_16_project_BN"))
    view.head_units.setValue(24)
    view.dropout.setValue(0.3)
    assert view.edit_button.isEnabled()
    before = window.document.spec.copy()
    with qtbot.waitSignal(view.edit_in_builder, timeout=120_000):
        view.edit_button.click()
    assert asked == ["Replace the model?"]                    # the tutorial CNN was there
    assert window.tabs.currentIndex() == BUILD_TAB
    spec = window.document.spec
    assert [l.type for l in spec.layers] == [PRETRAINED_BASE, "GlobalAveragePooling2D", "Dense",
                                             "Dropout", "Dense"]
    base = spec.layers[0]
    assert not base.trainable
    assert (base.params["source"], base.params["weights"], base.params["input_size"],
            base.params["cut"], base.params["input_channels"]) == \
        ("mobilenet_v2", "random", [32, 32], "block_16_project_BN", 1)
    assert spec.layers[2].params["units"] == 24 and spec.layers[3].params["rate"] == 0.3
    assert spec.layers[4].params["units"] == 10 and tuple(spec.input_shape) == (28, 28, 1)
    assert window.document.report.ok
    model = build_model(spec)
    assert model.count_params() == window.document.report.total_params
    assert window.builder.stack.current_layer() == 0
    window.document.undo()
    assert window.document.spec == before


def test_a_model_file_base_without_a_head_layer(qtbot, tmp_path, monkeypatch):
    from tests.ui.transfer.test_transfer_view import LIMIT
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.ui.train.dataset_chooser import load_with_preview

    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    window = shown_main_window(qtbot, tmp_path, monkeypatch, 50, size=(1280, 720))
    window.workspace.data.set_loaded(load_with_preview("mnist-sample", LoadOptions(limit=LIMIT),
                                                       lambda *a: None))
    window.tabs.setCurrentIndex(PREBUILT_TAB)
    view = window.transfer_view
    view._fetch = offline
    open_base(qtbot, view, str(SAMPLE_MODEL))
    view.head_units.setValue(0)
    view.dropout.setValue(0.0)
    with qtbot.waitSignal(view.edit_in_builder, timeout=120_000):
        view.edit_button.click()
    spec = window.document.spec
    types = [l.type for l in spec.layers]
    assert types[0] == PRETRAINED_BASE and types[-1] == "Dense" and "Dropout" not in types
    assert spec.layers[0].params["weights"] == "file"
    assert spec.layers[0].params["source"] == str(SAMPLE_MODEL.resolve())
    assert window.document.report.ok, window.document.report.error_message()
    assert window.builder.stack.model().index(0, 0).data().startswith(
        "❄ frozen mnist_cnn_small.keras · cut at ")
