"""A pre-built base in the builder, through the real widgets: the palette's "Pre-built base…"
opens the dialog, MobileNetV2 (random weights: ImageNet's cannot be downloaded here) is
prepared in the background and inserted frozen with a head as one undoable edit; its
properties are read-only with "Change base…"; the stack, summary and diagram name it and
count like Keras; a spec saved and opened again works, and a missing base file is said in
words and prepared again."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication

from cnnviz.core.model.builder import build_model
from cnnviz.core.model.spec import LayerSpec, ModelSpec, save_spec
from cnnviz.core.model.spec_params import PRETRAINED_BASE
from cnnviz.core.transfer.base_blocks import prepare_base_block
from cnnviz.ui.build.architecture_diagram import boxes_for_report
from cnnviz.ui.build.layer_palette import BASE_ENTRY
from cnnviz.ui.build.summary_table import NAME, NON_TRAINABLE, PARAMS, TYPE
from cnnviz.ui.common.pretrained_bases import transfer_spec
from tests.ui.app_window import shown_main_window


def _count(weights) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> LayerSpec:
    folder = tmp_path_factory.mktemp("bases")
    return prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32),
                              input_channels=1, folder=folder)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    return shown_main_window(qtbot, tmp_path, monkeypatch, 50, size=(1280, 720))


def _prepare_in_dialog(qtbot, dialog, size=32, weights="random"):
    qtbot.waitUntil(lambda: dialog.cut.isEnabled() and dialog.cut.count() > 1, timeout=60_000)
    dialog.weights.setCurrentIndex(dialog.weights.findData(weights))
    dialog.size.setValue(size)
    with qtbot.waitSignal(dialog.prepared, timeout=120_000) as blocker:
        dialog.prepare_button.click()
    return blocker.args[0]


def test_the_palette_entry_prepares_a_base_and_inserts_it_with_a_head_undoably(window, qtbot):
    builder, document = window.builder, window.document
    palette = builder.palette
    plain = [palette.item(r).data(Qt.ItemDataRole.UserRole) for r in range(palette.count())]
    assert PRETRAINED_BASE not in plain                        # not a blank layer
    document.apply(ModelSpec((28, 28, 1), [], "empty"), "Clear")
    builder.classes_source = lambda: 3
    palette.itemActivated.emit(palette.base_entry())
    dialog = builder.base_dialog
    assert dialog is not None and dialog.isVisible() and palette.base_entry().text() == BASE_ENTRY
    assert dialog.source() == "mobilenet_v2"
    qtbot.waitUntil(lambda: dialog.cut.count() > 1, timeout=60_000)
    assert dialog.cut.currentData() == "out_relu"             # the network's default cut
    assert "(default)" in dialog.cut.currentText()
    layer = _prepare_in_dialog(qtbot, dialog)
    assert not dialog.isVisible()
    spec = document.spec
    assert [l.type for l in spec.layers] == [PRETRAINED_BASE, "GlobalAveragePooling2D", "Dense",
                                             "Dropout", "Dense"]
    base = spec.layers[0]
    assert not base.trainable and base.params["input_channels"] == 1
    assert Path(base.params["block_file"]).is_file() and base.params == layer.params
    assert spec.layers[2].params["units"] == 128 and spec.layers[4].params["units"] == 3
    assert spec.layers[4].params["activation"] == "softmax"
    assert document.report.ok, document.report.error_message()
    assert document.undo_text == "Add MobileNetV2 · cut at out_relu"
    # One row, named after the network, drawn frozen, with its output shape.
    shown = builder.stack.model().index(0, 0).data()
    assert shown.startswith("❄ frozen MobileNetV2 · cut at out_relu") and "1×1×1280" in shown
    box = boxes_for_report(document.report, builder.diagram.diagram._labels)[1]
    assert box.frozen and box.type_label == "❄ MobileNetV2 · cut at out_relu"
    document.undo()
    assert document.spec.layers == [] and not builder.missing_box.isVisible()
    document.redo()
    assert document.spec.layers[0].params == layer.params and len(document.spec.layers) == 5


def test_on_a_stack_the_base_goes_to_the_top_alone(window, qtbot, prepared):
    builder, document = window.builder, window.document
    before = [l.type for l in document.spec.layers]
    builder._base_prepared(prepared, None)
    assert [l.type for l in document.spec.layers] == [PRETRAINED_BASE, *before]
    assert not document.spec.layers[0].trainable
    document.undo()
    assert [l.type for l in document.spec.layers] == before


def test_properties_are_read_only_and_change_base_replaces_it_keeping_frozen(window, qtbot,
                                                                             prepared):
    builder, document = window.builder, window.document
    document.reset(transfer_spec(prepared, (28, 28, 1), 10), None)
    document.apply(document.spec, "same")                     # nothing: no edit
    builder.stack.set_frozen([0], False)                      # unfrozen: the flag must stay
    builder.stack.select_layer(0)
    editor = builder.properties
    values = {k: v.text() for k, v in editor.base_values.items()}
    assert values["base"] == "mobilenet_v2 (random weights), cut at 'out_relu', 32×32"
    assert values["output"] == "1×1×1280"
    report = document.report.layers[0]
    assert values["params"] == (f"{report.params:,}: {report.trainable:,} trainable, "
                                f"{report.non_trainable:,} not trained")
    assert not editor.findChildren(QAbstractSpinBox)          # nothing measured is typed in
    assert not editor.prepare_again_button.isVisible()
    editor.change_base_button.click()
    dialog = builder.base_dialog
    assert dialog.windowTitle() == "Change the pre-built base"
    assert (dialog.source(), dialog.size.value(), dialog.weights.currentData()) == \
        ("mobilenet_v2", 32, "random")
    qtbot.waitUntil(lambda: dialog.cut.count() > 1, timeout=60_000)
    assert dialog.cut.currentData() == "out_relu"
    dialog.cut.setCurrentIndex(dialog.cut.findData("block_16_project_BN"))
    _prepare_in_dialog(qtbot, dialog, size=40)
    base = document.spec.layers[0]
    assert base.trainable and base.params["cut"] == "block_16_project_BN"
    assert base.params["input_size"] == [40, 40] and len(document.spec.layers) == 5
    assert document.undo_text == "Change base to MobileNetV2 · cut at block_16_project_BN"
    assert "320" in editor.base_values["output"].text()
    document.undo()
    assert document.spec.layers[0].params == prepared.params


def test_the_builder_counts_equal_keras(window, prepared):
    builder, document = window.builder, window.document
    document.reset(transfer_spec(prepared, (28, 28, 1), 10, head_units=32), None)
    model = build_model(document.spec)
    table = builder.summary.table
    for row, layer in enumerate(model.layers, start=1):
        total = _count(layer.weights)
        assert table.item(row, NAME).text().endswith(layer.name)
        assert table.item(row, PARAMS).text() == f"{total:,}"
        assert table.item(row, NON_TRAINABLE).text() == f"{_count(layer.non_trainable_weights):,}"
    report = document.report
    assert report.trainable_params == _count(model.trainable_weights)
    assert report.non_trainable_params == _count(model.non_trainable_weights)
    assert table.item(1, NAME).text() == "❄ pretrained_base"
    assert table.item(1, TYPE).text() == "MobileNetV2 · cut at out_relu"


def test_saved_and_opened_again_works_and_a_missing_file_is_prepared_again(window, qtbot,
                                                                          prepared, tmp_path):
    builder, document = window.builder, window.document
    copy_file = tmp_path / "copy.keras"
    shutil.copy(prepared.params["block_file"], copy_file)
    layer = LayerSpec(prepared.type, dict(prepared.params, block_file=str(copy_file)),
                      trainable=False)
    path = tmp_path / "transfer.json"
    save_spec(transfer_spec(layer, (28, 28, 1), 10), path)
    assert window.open_path(path)
    assert document.spec.layers[0].params == layer.params and document.report.ok
    assert not builder.missing_box.isVisible()
    build_model(document.spec)                                # it still builds
    copy_file.unlink()                                        # another computer, say
    assert window.open_path(path, confirmed=True)
    assert builder.missing_box.isVisible()
    assert "is not on this computer" in builder.missing_text.text()
    builder.stack.select_layer(0)
    qtbot.waitUntil(builder.properties.prepare_again_button.isVisible)   # shown once laid out
    assert "Missing" in builder.properties.base_values["file"].text()
    builder.properties.prepare_again_button.click()
    qtbot.waitUntil(lambda: not builder.missing_box.isVisible(), timeout=120_000)
    fresh = document.spec.layers[0].params["block_file"]
    assert Path(fresh).is_file() and Path(fresh).parent == tmp_path / "home" / "bases"
    assert document.undo_text == "Prepare the base again"
    assert document.report.ok
    QApplication.processEvents()
    assert not builder.properties.prepare_again_button.isVisible()


def test_offline_imagenet_is_said_in_words_and_random_weights_are_offered(window, qtbot,
                                                                          tmp_path, monkeypatch):
    from tests.ui.transfer.test_transfer_view import offline

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    builder, document = window.builder, window.document
    builder.fetch = offline
    before = document.spec.copy()
    dialog = builder.open_base_dialog()
    qtbot.waitUntil(lambda: dialog.cut.count() > 1, timeout=60_000)
    dialog.size.setValue(32)
    assert dialog.weights.currentData() == "imagenet"
    assert "not on this computer" in dialog.details.text()
    assert dialog.prepare_button.text() == "Download and prepare"
    dialog.prepare_button.click()
    qtbot.waitUntil(lambda: dialog.problem.isVisible(), timeout=60_000)
    message = dialog.problem.text()
    assert "Traceback" not in message and "mobilenet" in message.replace("\u200b", "").lower()
    assert dialog.random_button.isVisible() and dialog.isVisible()
    assert document.spec == before                            # nothing inserted
    with qtbot.waitSignal(dialog.prepared, timeout=120_000):
        dialog.random_button.click()
    assert document.spec.layers[0].params["weights"] == "random"


def test_cancel_stops_preparing_and_inserts_nothing(window, qtbot):
    builder, document = window.builder, window.document
    before = document.spec.copy()
    dialog = builder.open_base_dialog()
    dialog.weights.setCurrentIndex(dialog.weights.findData("random"))
    dialog.size.setValue(32)
    dialog.prepare_button.click()
    assert dialog.busy and dialog.progress.isVisible() and not dialog.prepare_button.isEnabled()
    dialog.cancel_button.click()
    assert not dialog.busy and dialog.isVisible() and dialog.stage.text() == "Cancelled."
    assert dialog.prepare_button.isEnabled()
    qtbot.wait(200)
    qtbot.waitUntil(lambda: dialog._prepare.threads_alive == 0, timeout=60_000)
    assert document.spec == before and dialog.layer is None
    dialog.cancel_button.click()                              # idle: Cancel closes
    assert not dialog.isVisible()


def test_a_sequence_input_is_told_that_a_base_needs_images(window):
    builder, document = window.builder, window.document
    document.reset(ModelSpec((150, 1), [LayerSpec.new("Conv1D")], "series"), None)
    builder.palette.itemActivated.emit(builder.palette.base_entry())
    assert builder.base_dialog is None
    assert window.failures and "this model's input is a sequence" in window.failures[-1]


def test_a_download_shows_its_bytes_and_cancel_stops_it(window, qtbot, tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    released = threading.Event()

    def slow_fetch(url, target, report):
        report(1_000_000, 4_000_000)
        released.wait(30)
        report(2_000_000, 4_000_000)       # raises once cancelled
        raise AssertionError("the download went on after Cancel")

    builder, document = window.builder, window.document
    builder.fetch = slow_fetch
    before = document.spec.copy()
    dialog = builder.open_base_dialog()
    dialog.size.setValue(96)
    dialog.prepare_button.click()
    qtbot.waitUntil(lambda: dialog.progress.maximum() == 1000, timeout=60_000)
    assert dialog.progress.value() == 250 and dialog.progress.format() == "1.0 of 4.0 MB"
    assert "mobilenet_v2_weights" in dialog.stage.text()
    dialog.cancel_button.click()
    released.set()
    assert not dialog.busy and dialog.stage.text() == "Cancelled." and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog._prepare.threads_alive == 0, timeout=60_000)
    assert document.spec == before and dialog.problem.isHidden()


def test_closing_while_a_base_is_preparing_waits_for_its_thread(window, qtbot):
    builder = window.builder
    dialog = builder.open_base_dialog()
    dialog.weights.setCurrentIndex(dialog.weights.findData("random"))
    dialog.size.setValue(32)
    dialog.prepare_button.click()
    assert dialog.busy
    builder.shutdown()                     # what the window does when it closes
    assert dialog._prepare.threads_alive == 0
