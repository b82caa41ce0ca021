"""The Build view with sequences: the input editor's image/sequence choice, the palette's
groups, 1-D fields in the properties, and 1-D shapes in the stack, summary and diagram."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.shapes import analyze
from cnnviz.ui import main_window
from cnnviz.ui.build.architecture_diagram import ArchitectureDiagram, boxes_for_report
from cnnviz.ui.build.summary_table import SummaryTable
from cnnviz.ui.common import dialogs
from cnnviz.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    ini = tmp_path / "settings.ini"
    monkeypatch.setattr(main_window, "settings",
                        lambda: QSettings(str(ini), QSettings.Format.IniFormat))
    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, title, text: errors.append(text))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda _p, _name: "discard")
    win = MainWindow()
    win.errors = errors
    qtbot.addWidget(win, before_close_func=lambda w: w.document.mark_saved(w.document.path))
    win.show()
    qtbot.waitExposed(win)
    return win


def choose_kind(editor, text: str) -> None:
    """Pick an input kind as the user does: the combo's `activated`, not a code change."""
    index = editor.kind_combo.findText(text)
    editor.kind_combo.setCurrentIndex(index)
    editor.kind_combo.activated.emit(index)


def test_the_input_becomes_a_sequence_and_back_in_one_undo_each(window):
    editor, document = window.builder.input_editor, window.document
    assert editor.kind_combo.currentText() == "Image"
    assert editor.pages.currentWidget().isAncestorOf(editor.height_box)
    choose_kind(editor, "Sequence")
    assert document.spec.input_shape == (150, 1)
    assert editor.pages.currentWidget().isAncestorOf(editor.steps_box)
    assert not editor.height_box.isVisible() and editor.steps_box.isVisible()
    # The tutorial's Conv2D cannot take a sequence: the editor says so in words.
    assert "Conv2D needs an image (height × width × channels), but it gets a sequence of " \
           "150 steps × 1 channel" in document.report.error_message()
    editor.steps_box.setValue(500)
    editor.sequence_channels_box.setValue(6)  # more channels than an image may have
    assert document.spec.input_shape == (500, 6)
    document.undo()  # the typing, as one step
    assert document.spec.input_shape == (150, 1)
    document.undo()  # the switch
    assert document.spec.input_shape == (28, 28, 1)
    assert editor.kind_combo.currentText() == "Image" and editor.height_box.value() == 28
    choose_kind(editor, "Sequence")  # the last sequence shape this editor showed comes back
    assert document.spec.input_shape == (150, 1)


def test_a_sequence_preset_shows_its_input_and_single_number_kernels(window):
    window.builder.apply_preset("keras_sequence_1d")
    editor = window.builder.input_editor
    assert editor.kind_combo.currentText() == "Sequence"
    assert (editor.steps_box.value(), editor.sequence_channels_box.value()) == (64, 100)
    props = window.builder.properties
    window.builder.stack.select_layer(0)
    kernel = props.field("kernel_size").editors()
    assert len(kernel) == 1 and kernel[0].value() == 3  # one box: "3", not "3×3"
    padding = props.field("padding").editors()[0]
    assert [padding.itemText(i) for i in range(padding.count())] == ["valid", "same", "causal"]
    padding.setCurrentText("causal")
    props.field("dilation_rate").editors()[0].setValue(2)
    layer = window.document.spec.layers[0]
    assert (layer.params["padding"], layer.params["dilation_rate"]) == ("causal", 2)
    assert window.document.report.layers[0].output_shape == (64, 64)  # causal keeps the steps
    text = window.builder.stack.model().index(0, 0).data(Qt.ItemDataRole.DisplayRole)
    assert text == "Conv1D 64 filters 3, dilation 2, padding causal, relu → 64×64"


def test_pooling_strides_follow_the_pool_size_until_set(window):
    window.builder.apply_preset("keras_sequence_1d")
    window.builder.stack.select_layer(2)  # MaxPooling1D(3)
    auto, box = window.builder.properties.field("strides").editors()
    assert auto.isChecked() and not box.isEnabled()
    auto.setChecked(False)
    box.setValue(2)
    assert window.document.spec.layers[2].params["strides"] == 2
    assert window.document.report.layers[2].output_shape == (29, 64)  # (60 - 3) // 2 + 1
    auto.setChecked(True)
    assert window.document.spec.layers[2].params["strides"] is None
    assert window.document.report.total_params == 105_729


def test_the_palette_puts_the_layers_that_fit_first(window):
    palette = window.builder.palette
    assert palette.group_order() == ["Images (H × W × C)", "Any shape", "Sequences (steps × C)"]
    window.builder.apply_preset("signal_fcn")
    assert palette.group_order() == ["Sequences (steps × C)", "Any shape", "Images (H × W × C)"]
    names = [palette.item(i).text() for i in range(palette.count())]
    assert names.index("Conv1D") < names.index("Dense") < names.index("Conv2D")
    conv2d = palette.findItems("Conv2D", Qt.MatchFlag.MatchExactly)[0]
    assert "this model's input is not one" in conv2d.toolTip()
    header = palette.findItems("Any shape", Qt.MatchFlag.MatchExactly)[0]
    assert not header.flags() & Qt.ItemFlag.ItemIsSelectable
    count = len(window.document.spec.layers)
    palette.itemActivated.emit(header)  # a header adds nothing
    assert len(window.document.spec.layers) == count
    window.builder.stack.select_layer(count - 1)
    palette.itemActivated.emit(palette.findItems("Conv1D", Qt.MatchFlag.MatchExactly)[0])
    added = window.document.spec.layers[window.builder.stack.current_layer()]
    assert added.type == "Conv1D" and added.params["activation"] == "relu"


def test_summary_and_diagram_show_sequence_shapes(qtbot):
    report = analyze(preset_spec("signal_fcn"))
    boxes = boxes_for_report(report)
    assert [(b.type_label, b.shape_label) for b in boxes][:2] == [
        ("Input", "150×1"), ("Conv1D", "150×32")]
    assert boxes[-2].type_label == "GlobalAvg" and boxes[-2].kind == "vector"
    assert {b.category for b in boxes} >= {"conv", "pool", "norm", "dense"}
    # A sequence is a plate: as tall as its steps, shallower than an image of that height.
    image = boxes_for_report(analyze(preset_spec("mnist_cnn")))[0]
    assert boxes[0].depth_units < image.depth_units
    assert boxes[1].thickness_units > boxes[0].thickness_units  # 32 channels vs 1

    table = SummaryTable()
    qtbot.addWidget(table)
    table.set_report(report)
    assert [table.table.item(1, c).text() for c in range(4)] == [
        "conv1d", "Conv1D", "(None, 150, 32)", "288"]
    diagram = ArchitectureDiagram()
    qtbot.addWidget(diagram)
    diagram.resize(900, 220)
    diagram.set_report(report)
    rects = [diagram.box_rect(i) for i in range(-1, len(report.layers))]
    assert all(not r.isEmpty() for r in rects)
    assert all(a.right() < b.left() for a, b in zip(rects, rects[1:]))
