"""Freezing layers in the builder: the Frozen box and Ctrl+F are undoable edits, and the
stack, the summary and the diagram show frozen layers with Keras's counts."""

from __future__ import annotations

import math

from PySide6.QtCore import QItemSelectionModel, Qt

from cnnviz.core.model.builder import build_model
from cnnviz.core.model.presets import preset_spec
from cnnviz.ui.build.architecture_diagram import boxes_for_report
from cnnviz.ui.build.layer_stack import LAYER_ROLE
from cnnviz.ui.build.summary_table import NAME, NON_TRAINABLE, PARAMS
from tests.ui.app_window import shown_main_window


def _count(weights: list) -> int:
    return sum(math.prod(int(d) for d in w.shape) for w in weights)


def _window(qtbot, tmp_path, monkeypatch):
    win = shown_main_window(qtbot, tmp_path, monkeypatch, 50, size=(1280, 720))
    win.document.reset(preset_spec("small_vgg_cifar10"), None)
    return win


def test_the_frozen_box_freezes_one_layer_undoably(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot, tmp_path, monkeypatch)
    stack, editor, document = win.builder.stack, win.builder.properties, win.document
    stack.select_layer(0)
    assert not editor.frozen_box.isChecked()
    qtbot.mouseClick(editor.frozen_box, Qt.MouseButton.LeftButton)
    assert not document.spec.layers[0].trainable
    assert document.undo_text == "Freeze conv2d"
    row = document.report.layers[0]
    assert (row.trainable, row.non_trainable) == (0, row.params) and row.params == 896
    assert "Frozen: its 896 parameters are not trained." in stack.model().index(0, 0).data(
        Qt.ItemDataRole.ToolTipRole)
    document.undo()
    assert document.spec.layers[0].trainable and not editor.frozen_box.isChecked()
    document.redo()
    assert editor.frozen_box.isChecked()


def test_ctrl_f_freezes_the_selected_layers_and_the_views_count_like_keras(qtbot, tmp_path,
                                                                         monkeypatch):
    win = _window(qtbot, tmp_path, monkeypatch)
    stack, document = win.builder.stack, win.document
    stack.select_layer(0)
    for row in (1, 2, 3):
        stack.selectionModel().select(stack.model().index(row, 0),
                                      QItemSelectionModel.SelectionFlag.Select)
    assert stack.selected_layers() == [0, 1, 2, 3]
    stack.setFocus()
    qtbot.keyClick(stack, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert [layer.trainable for layer in document.spec.layers[:5]] == [False] * 4 + [True]
    assert document.undo_text == "Freeze 4 layers"
    assert [stack.model().index(r, 0).data(LAYER_ROLE).trainable for r in range(5)] == \
        [False] * 4 + [True]

    # The summary and its totals equal what Keras builds from the same spec.
    model = build_model(document.spec)
    table = win.builder.summary.table
    for row, layer in enumerate(model.layers, start=1):
        assert table.item(row, PARAMS).text() == f"{layer.count_params():,}"
        assert table.item(row, NON_TRAINABLE).text() == f"{_count(layer.non_trainable_weights):,}"
        assert table.item(row, NAME).text().startswith("❄ ") == (not layer.trainable)
    totals = win.builder.summary.totals_label.text().replace("\xa0", " ").replace("\u2060", "")
    assert f"Trainable: {_count(model.trainable_weights):,} " in totals
    assert f"Non-trainable: {_count(model.non_trainable_weights):,} " in totals

    # The diagram marks the same layers.
    boxes = boxes_for_report(document.report)[1:]
    assert [box.frozen for box in boxes[:5]] == [True] * 4 + [False]
    assert boxes[0].type_label.startswith("❄") and "not trained" in boxes[0].tooltip

    # Ctrl+F again on an all-frozen selection unfreezes; one undo brings the freeze back.
    qtbot.keyClick(stack, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert all(layer.trainable for layer in document.spec.layers)
    document.undo()
    assert [layer.trainable for layer in document.spec.layers[:5]] == [False] * 4 + [True]


def test_the_context_menu_freezes_up_to_a_layer_and_unfreezes_all(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot, tmp_path, monkeypatch)
    stack, document = win.builder.stack, win.document
    stack.select_layer(2)
    actions = {a.text(): a for a in stack.context_menu().actions() if a.text()}
    assert list(actions) == ["Freeze layer", "Freeze layers 1–3", "Duplicate", "Delete"]
    actions["Freeze layers 1–3"].trigger()
    assert [layer.trainable for layer in document.spec.layers[:4]] == [False] * 3 + [True]
    assert document.undo_text == "Freeze 3 layers"
    actions = {a.text(): a for a in stack.context_menu().actions() if a.text()}
    assert "Unfreeze 3 layers" in actions  # the frozen layers stay selected
    actions["Unfreeze all layers"].trigger()
    assert all(layer.trainable for layer in document.spec.layers)
