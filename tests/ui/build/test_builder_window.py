"""The builder driven through its real widgets: keys, clicks, drops, dialogs answered."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.ui.common import dialogs
from cnnviz.ui import main_window
from cnnviz.ui.build.layer_stack import ROW_MIME, TYPE_MIME
from cnnviz.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    ini = tmp_path / "settings.ini"
    monkeypatch.setattr(main_window, "settings",
                        lambda: QSettings(str(ini), QSettings.Format.IniFormat))
    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, title, text: errors.append(text))
    # A modal box nobody answers would hang the run; tests that care replace this answer.
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda _p, _name: "discard")
    win = MainWindow()
    win.errors = errors
    # pytest-qt closes its widgets before fixtures tear down, so mark the document clean
    # right before the close: no "save changes?" question on teardown.
    qtbot.addWidget(win, before_close_func=lambda w: w.document.mark_saved(w.document.path))
    win.show()
    qtbot.waitExposed(win)
    return win


def types(win: MainWindow) -> list[str]:
    return [layer.type for layer in win.document.spec.layers]


def test_opens_on_the_tutorial_mnist_cnn(window):
    assert types(window) == ["Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "Dense"]
    assert window.document.report.total_params == 515_146
    assert "515,146" in window._status.text()
    assert window.builder.stack.current_layer() == 0


def test_palette_enter_adds_below_selection_and_undo_removes_it(window, qtbot):
    stack, palette = window.builder.stack, window.builder.palette
    stack.select_layer(3)  # Flatten
    palette.setFocus()
    row = [palette.item(i).text() for i in range(palette.count())].index("Dropout")
    palette.setCurrentRow(row)
    QTest.keyClick(palette, Qt.Key.Key_Return)
    assert types(window)[4] == "Dropout"
    assert stack.current_layer() == 4
    assert window.builder.properties._title.text() == "5. Dropout"
    window.actions["undo"].trigger()
    assert "Dropout" not in types(window)
    window.actions["redo"].trigger()
    assert types(window)[4] == "Dropout"


def test_typing_a_value_updates_shapes_params_and_undoes_in_one_step(window, qtbot):
    stack, props = window.builder.stack, window.builder.properties
    stack.select_layer(2)  # second Conv2D, 64 filters
    box = props.field("filters").editors()[0]
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "16")
    report = window.document.report
    assert window.document.spec.layers[2].params["filters"] == 16
    assert report.layers[2].output_shape == (11, 11, 16)
    assert report.layers[2].params == 3 * 3 * 32 * 16 + 16
    assert report.layers[4].params == 11 * 11 * 16 * 64 + 64  # the Dense after Flatten follows
    assert stack.current_layer() == 2 and box.hasFocus()  # editing does not steal focus
    window.document.undo()  # "1" then "16" were one edit of one field
    assert window.document.spec.layers[2].params["filters"] == 64
    assert box.value() == 64


def test_keyboard_reorder_delete_duplicate(window, qtbot):
    stack = window.builder.stack
    stack.setFocus()
    stack.select_layer(1)
    QTest.keyClick(stack, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert types(window)[:3] == ["Conv2D", "Conv2D", "MaxPooling2D"]
    assert stack.current_layer() == 2
    QTest.keyClick(stack, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert types(window)[:4] == ["Conv2D", "Conv2D", "MaxPooling2D", "MaxPooling2D"]
    assert stack.current_layer() == 3
    QTest.keyClick(stack, Qt.Key.Key_Delete)
    assert types(window)[:4] == ["Conv2D", "Conv2D", "MaxPooling2D", "Flatten"]
    assert stack.current_layer() == 3  # the row that took the deleted one's place
    QTest.keyClick(stack, Qt.Key.Key_Up)
    QTest.keyClick(stack, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert types(window)[:3] == ["Conv2D", "MaxPooling2D", "Conv2D"]
    # Ctrl+Z three times (through the real shortcut) returns to the tutorial CNN.
    for _ in range(3):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert types(window)[:3] == ["Conv2D", "Conv2D", "MaxPooling2D"]
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert types(window) == ["Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense", "Dense"]
    QTest.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert types(window)[:3] == ["Conv2D", "Conv2D", "MaxPooling2D"]


def test_drag_and_drop_reorders_and_inserts_from_palette(window):
    stack = window.builder.stack
    model = stack.model()
    # A row dragged from position 0 and dropped before row 3 lands at position 2.
    data = model.mimeData([model.index(0)])
    assert data.hasFormat(ROW_MIME)
    assert model.dropMimeData(data, Qt.DropAction.MoveAction, 3, 0, model.index(-1))
    assert types(window)[:3] == ["MaxPooling2D", "Conv2D", "Conv2D"]
    assert stack.current_layer() == 2
    palette = window.builder.palette
    item = palette.findItems("BatchNormalization", Qt.MatchFlag.MatchExactly)[0]
    data = palette.mimeData([item])
    assert data.hasFormat(TYPE_MIME)
    assert model.dropMimeData(data, Qt.DropAction.CopyAction, 1, 0, model.index(-1))
    assert types(window)[1] == "BatchNormalization"
    assert window.document.report.layers[1].output_shape == (14, 14, 1)


def test_invalid_edit_marks_the_layer_with_its_message(window, qtbot):
    stack, props = window.builder.stack, window.builder.properties
    stack.select_layer(0)
    kernel = props.field("kernel_size").editors()
    kernel[0].setValue(30)
    report = window.document.report
    assert report.layers[0].error is not None
    assert "30×30 kernel is larger than its 28×28 input" in report.layers[0].error
    assert "padding='same'" in props._message.text()
    assert "Layer 1" in window._status.text()
    assert all(r.output_shape is None for r in report.layers)
    tip = stack.model().data(stack.model().index(0), Qt.ItemDataRole.ToolTipRole)
    assert "larger than" in tip
    # Fixing it with padding='same' clears the mark.
    props.field("padding").editors()[0].setCurrentText("same")
    assert window.document.report.ok
    assert props._message.text() == ""


def test_preset_is_one_undoable_edit(window):
    window.builder.apply_preset("dense_baseline")
    assert types(window) == ["Flatten", "Dense", "Dense"]
    assert window.document.report.total_params == 101_770
    window.document.undo()
    assert window.document.report.total_params == 515_146


def test_input_shape_editor_changes_every_shape(window):
    editor = window.builder.input_editor
    editor.channels_box.setValue(3)
    editor.height_box.setValue(32)
    editor.width_box.setValue(32)
    report = window.document.report
    assert window.document.spec.input_shape == (32, 32, 3)
    assert report.layers[0].output_shape == (30, 30, 32)
    assert report.layers[0].params == 3 * 3 * 3 * 32 + 32


def test_save_then_open_round_trip_with_non_ascii_path(window, tmp_path, monkeypatch):
    target = tmp_path / "modèles ü" / "réseau 1.json"
    target.parent.mkdir()
    monkeypatch.setattr(dialogs, "get_save_path", lambda *a: str(target))
    window.builder.apply_preset("lenet5")
    assert window.document.modified
    assert window.save()
    assert not window.document.modified
    assert window.windowTitle().startswith("réseau 1.json")
    saved = ModelSpec.from_json(target.read_text(encoding="utf-8"))
    assert saved == window.document.spec
    window.new_document()
    assert types(window)[0] == "Conv2D" and window.document.path is None
    assert window.open_path(target)
    assert window.document.spec == saved
    assert window.recent_files()[0] == str(target.resolve())
    assert not window.document.can_undo  # opening starts a fresh history


def test_unsaved_changes_prompt_cancel_keeps_and_discard_replaces(window, monkeypatch):
    window.builder.stack.select_layer(0)
    window.builder.stack.remove_current()
    answers = iter(["cancel", "discard"])
    asked: list[str] = []

    def ask(_parent, name):
        asked.append(name)
        return next(answers)

    monkeypatch.setattr(dialogs, "ask_save_changes", ask)
    window.new_document()
    assert len(types(window)) == 5  # cancelled: nothing lost
    window.new_document()
    assert len(types(window)) == 6
    assert asked == ["Untitled", "Untitled"]


def test_bad_files_give_messages_and_change_nothing(window, tmp_path):
    before = window.document.spec.copy()
    cases = {
        "broken.json": '{"input_shape": [28, 28, 1], "layers": [',
        "unknown.json": json.dumps({"input_shape": [28, 28, 1], "layers": [{"type": "Conv3D"}]}),
        "range.json": json.dumps({"input_shape": [28, 28, 1],
                                  "layers": [{"type": "Dropout", "params": {"rate": 1.5}}]}),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert not window.open_path(tmp_path / name)
    assert not window.open_path(tmp_path / "vanished.json")
    assert window.document.spec == before
    assert len(window.errors) == 4
    assert "not valid JSON" in window.errors[0]
    assert "Conv3D" in window.errors[1]
    assert "rate" in window.errors[2]
    assert "No such file" in window.errors[3]


def test_saving_onto_a_read_only_file_keeps_it_and_says_so(window, tmp_path, monkeypatch):
    target = tmp_path / "locked.json"
    target.write_text("previous", encoding="utf-8")
    target.chmod(0o444)
    monkeypatch.setattr(dialogs, "get_save_path", lambda *a: str(target))
    assert not window.save_as()
    assert target.read_text(encoding="utf-8") == "previous"
    assert "read-only" in window.errors[-1]
    gone = tmp_path / "gone" / "x.json"
    monkeypatch.setattr(dialogs, "get_save_path", lambda *a: str(gone))
    assert not window.save_as()
    assert "does not exist" in window.errors[-1]


def test_recent_files_menu_lists_and_opens(window, tmp_path, monkeypatch):
    paths = []
    for i in range(3):
        path = tmp_path / f"spec{i}.json"
        path.write_text(ModelSpec((8, 8, 1), [LayerSpec.make("Flatten")]).to_json(), encoding="utf-8")
        assert window.open_path(path)
        paths.append(path)
    window._fill_recent_menu()
    titles = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert titles[:3] == ["&1 spec2.json", "&2 spec1.json", "&3 spec0.json"]
    window.recent_menu.actions()[2].trigger()
    assert window.document.path == paths[0].resolve()


def test_export_python_code_writes_a_script(window, tmp_path, monkeypatch):
    target = tmp_path / "model.py"
    monkeypatch.setattr(dialogs, "get_save_path", lambda *a: str(target))
    assert window.export_code()
    text = target.read_text(encoding="utf-8")
    compile(text, str(target), "exec")
    assert "keras.Sequential" in text and "Conv2D(32" in text.replace(" ", "").replace("filters=", "")


def test_a_hundred_layer_stack_stays_editable(window):
    layers = [LayerSpec.make("Conv2D", filters=4, padding="same") for _ in range(98)]
    layers += [LayerSpec.make("Flatten"), LayerSpec.make("Dense", units=10)]
    window.document.apply(ModelSpec((16, 16, 1), layers), "big")
    window.builder.stack.select_layer(50)
    window.builder.properties.field("filters").editors()[0].setValue(8)
    report = window.document.report
    assert report.layers[50].output_shape == (16, 16, 8)
    assert report.layers[51].params == 3 * 3 * 8 * 4 + 4
    assert window.builder.stack.model().rowCount() == 100


def test_fits_a_small_1024x640_screen(window, qtbot):
    window.resize(1024, 640)
    qtbot.wait(50)
    assert window.width() == 1024 and window.height() == 640
    # Every part of the builder keeps a usable size.
    for widget in (window.builder.stack, window.builder.palette, window.builder.summary,
                   window.builder.diagram, window.builder.properties):
        assert widget.isVisible()
        assert widget.width() >= 120 and widget.height() >= 60, widget
    # Nothing is cut off sideways: no horizontal scroll bar on the palette or the properties.
    palette = window.builder.palette
    assert not palette.horizontalScrollBar().isVisible()
    properties_scroll = window.builder.properties.parentWidget().parentWidget()
    assert not properties_scroll.horizontalScrollBar().isVisible()
    assert window.builder.properties.width() <= properties_scroll.viewport().width()


def test_ctrl_z_in_a_property_box_undoes_the_model_edit(window):
    """Ctrl+Z typed in a spin box (which takes it for its own text otherwise) moves the
    model's history by exactly one step: not zero, and not two (the window's Undo too)."""
    document, props = window.document, window.builder.properties
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    window.builder.stack.select_layer(2)  # second Conv2D, 64 filters
    props.field("padding").editors()[0].setCurrentText("same")
    box = props.field("filters").editors()[0]
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "16")
    assert document.spec.layers[2].params["filters"] == 16
    QTest.keyClick(box, Qt.Key.Key_Z, ctrl)
    layer = document.spec.layers[2]
    assert (layer.params["filters"], layer.params["padding"]) == (64, "same")
    assert document.can_redo and document.redo_text.startswith("Change filters")
    assert box.value() == 64 and box.hasFocus()
    QTest.keyClick(box, Qt.Key.Key_Z, ctrl | shift)
    assert document.spec.layers[2].params["filters"] == 16 and not document.can_redo
    QTest.keyClick(box, Qt.Key.Key_Z, ctrl)
    QTest.keyClick(box, Qt.Key.Key_Z, ctrl)
    assert document.spec.layers[2].params["padding"] == "valid"
    QTest.keyClick(box, Qt.Key.Key_Y, ctrl)
    assert document.spec.layers[2].params["padding"] == "same"
    # The input-shape boxes too.
    height = window.builder.input_editor.height_box
    height.setFocus()
    height.selectAll()
    QTest.keyClicks(height, "32")
    assert document.spec.input_shape == (32, 28, 1)
    QTest.keyClick(height, Qt.Key.Key_Z, ctrl)
    assert document.spec.input_shape == (28, 28, 1) and document.can_redo
    assert height.value() == 28


def test_ctrl_z_in_the_name_box_undoes_uncommitted_typing_first(window):
    document, props = window.document, window.builder.properties
    window.builder.stack.select_layer(0)
    name = props._name_edit
    name.setFocus()
    QTest.keyClicks(name, "edges")
    QTest.keyClick(name, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert name.text() == "" and not document.can_undo  # the typing went, the model is as it was
    QTest.keyClicks(name, "edges")
    QTest.keyClick(name, Qt.Key.Key_Return)
    assert document.spec.layers[0].name == "edges"
    QTest.keyClick(name, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert document.spec.layers[0].name is None and document.can_redo


def test_kernel_size_boxes_are_linked_with_a_toggle_for_non_square(window):
    document, props, stack = window.document, window.builder.properties, window.builder.stack
    stack.select_layer(0)
    first, second, square = props.field("kernel_size").editors()
    assert square.isChecked() and square.text() == "square"
    first.setFocus()
    first.selectAll()
    QTest.keyClicks(first, "40")
    assert document.spec.layers[0].params["kernel_size"] == [40, 40]  # not 40×3
    assert second.value() == 40
    assert "40×40 kernel is larger than its 28×28 input" in document.report.layers[0].error
    document.undo()  # "4", "40" and the linked second box: one step
    assert document.spec.layers[0].params["kernel_size"] == [3, 3] and not document.can_undo
    assert (first.value(), second.value()) == (3, 3)
    # Unlinked: a non-square kernel.
    square.setChecked(False)
    second.setValue(1)
    assert document.spec.layers[0].params["kernel_size"] == [3, 1]
    # A layer with a non-square kernel shows its boxes unlinked; linking squares it.
    stack.select_layer(2)
    stack.select_layer(0)
    first, second, square = props.field("kernel_size").editors()
    assert not square.isChecked()
    square.setChecked(True)
    assert document.spec.layers[0].params["kernel_size"] == [3, 3]
    # Strides and pool size are linked pairs as well.
    props.field("strides").editors()[0].setValue(2)
    assert document.spec.layers[0].params["strides"] == [2, 2]
    stack.select_layer(1)
    props.field("pool_size").editors()[1].setValue(3)
    assert document.spec.layers[1].params["pool_size"] == [3, 3]


def test_a_conv2d_from_the_palette_starts_with_relu_and_says_why(window):
    stack, palette, props = window.builder.stack, window.builder.palette, window.builder.properties
    stack.select_layer(1)
    for layer_type in ("Conv2D", "Dense"):
        item = palette.findItems(layer_type, Qt.MatchFlag.MatchExactly)[0]
        palette.itemActivated.emit(item)
        row = stack.current_layer()
        assert window.document.spec.layers[row].params["activation"] == "relu"
        combo = props.field("activation").editors()[0]
        assert combo.currentText() == "relu"
        assert "Keras's own default is linear" in combo.toolTip()


def test_the_builder_refuses_to_grow_past_the_layer_limit_in_words(window, tmp_path):
    """Issue 13: a 10,000-layer spec crashed `train`; the builder refuses before building."""
    from cnnviz.core.model.spec import MAX_LAYERS

    full = ModelSpec((4, 4, 1), [LayerSpec.make("Flatten")]
                     + [LayerSpec.make("Dense", units=2) for _ in range(MAX_LAYERS - 1)])
    window.document.apply(full, "full")
    stack, model = window.builder.stack, window.builder.stack.model()
    stack.select_layer(3)
    stack.insert_layer("Dropout")                      # the palette's Add
    QTest.keyClick(stack, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # duplicate
    palette = window.builder.palette
    item = palette.findItems("Dropout", Qt.MatchFlag.MatchExactly)[0]
    assert not model.dropMimeData(palette.mimeData([item]), Qt.DropAction.CopyAction, 1, 0,
                                  model.index(-1))     # a drop from the palette
    assert len(window.document.spec.layers) == MAX_LAYERS
    assert len(window.errors) == 3
    assert all(f"at most {MAX_LAYERS:,}" in text for text in window.errors)

    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps(dict(full.to_dict(), layers=full.to_dict()["layers"] * 10)),
                    encoding="utf-8")
    assert not window.open_path(huge)
    assert "10,000 layers" in window.errors[-1]
    assert len(window.document.spec.layers) == MAX_LAYERS
