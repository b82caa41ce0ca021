"""The live summary table: Keras-like rows, error marking, totals and row clicks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from cnnviz.core.formatting import readable_size
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.ui.build.summary_table import (
    ERROR_BACKGROUND, NAME, NON_TRAINABLE, PARAMS, SHAPE, TYPE, SummaryTable,
)


def mnist_cnn() -> ModelSpec:
    """The tutorial MNIST CNN: 515,146 parameters in Keras's model.summary()."""
    return ModelSpec((28, 28, 1), [
        LayerSpec.make("Conv2D", filters=32, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("MaxPooling2D", pool_size=[2, 2]),
        LayerSpec.make("Conv2D", filters=64, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dense", units=64, activation="relu"),
        LayerSpec.make("Dense", units=10, activation="softmax"),
    ], name="mnist_cnn")


def broken_stack() -> ModelSpec:
    """Dense straight after a Conv2D (no Flatten): layer index 1 is invalid."""
    return ModelSpec((28, 28, 1), [
        LayerSpec.make("Conv2D", filters=8),
        LayerSpec.make("Dense", units=10),
        LayerSpec.make("Dense", units=10),
    ])


@pytest.fixture
def table(qtbot) -> SummaryTable:
    widget = SummaryTable()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def texts(widget: SummaryTable, row: int) -> list[str]:
    return [widget.table.item(row, column).text() for column in range(4)]


def row_center(widget: SummaryTable, row: int):
    return widget.table.visualItemRect(widget.table.item(row, NAME)).center()


def shown_totals(table: SummaryTable) -> str:
    """The totals line as read: its no-break spaces and word joiners as plain text."""
    return table.totals_label.text().replace("\xa0", " ").replace("\u2060", "")


def test_mnist_rows_match_keras_summary(table):
    table.set_report(analyze(mnist_cnn()))
    assert table.table.rowCount() == 7
    assert texts(table, 0) == ["input", "InputLayer", "(None, 28, 28, 1)", "0"]
    assert texts(table, 1) == ["conv2d", "Conv2D", "(None, 26, 26, 32)", "320"]
    assert texts(table, 2) == ["max_pooling2d", "MaxPooling2D", "(None, 13, 13, 32)", "0"]
    assert texts(table, 3) == ["conv2d_1", "Conv2D", "(None, 11, 11, 64)", "18,496"]
    assert texts(table, 4) == ["flatten", "Flatten", "(None, 7744)", "0"]
    assert texts(table, 5) == ["dense", "Dense", "(None, 64)", "495,680"]
    assert texts(table, 6) == ["dense_1", "Dense", "(None, 10)", "650"]
    alignment = table.table.item(5, PARAMS).textAlignment()
    assert alignment & Qt.AlignmentFlag.AlignRight
    assert shown_totals(table) == (
        "Total params: 515,146 (1.97 MB) · Trainable: 515,146 (1.97 MB) · "
        "Non-trainable: 0 (0.00 B)"
    )


def test_batch_norm_counts_non_trainable(table):
    spec = ModelSpec((8, 8, 3), [LayerSpec.make("Conv2D", filters=16),
                                 LayerSpec.make("BatchNormalization")])
    table.set_report(analyze(spec))
    assert texts(table, 2)[SHAPE] == "(None, 6, 6, 16)"
    assert texts(table, 2)[PARAMS] == "64"
    assert "Trainable: 480 (1.88 KB)" in shown_totals(table)
    assert "Non-trainable: 32 (128.00 B)" in shown_totals(table)


def test_readable_size_matches_keras():
    assert readable_size(0) == "0.00 B"
    assert readable_size(515_146 * 4) == "1.97 MB"
    assert readable_size(9_494_561 * 4) == "36.22 MB"


def test_invalid_layer_marked_and_later_rows_unknown(table):
    table.set_report(analyze(broken_stack()))
    bad = table.table.item(2, NAME)
    assert bad.background().color() == ERROR_BACKGROUND
    assert not bad.icon().isNull()
    assert "Flatten" in bad.toolTip()
    assert texts(table, 2)[SHAPE] == "—"
    assert texts(table, 3)[TYPE] == "Dense"
    assert texts(table, 3)[SHAPE] == "—" and texts(table, 3)[PARAMS] == "—"
    assert texts(table, 1)[SHAPE] == "(None, 26, 26, 8)"
    assert shown_totals(table).startswith("Total params: —")

    # Fixing the stack in place clears the marks on the reused rows.
    table.set_report(analyze(mnist_cnn()))
    assert table.table.item(2, NAME).icon().isNull()
    assert table.table.item(2, NAME).toolTip() == ""
    assert texts(table, 3)[SHAPE] == "(None, 11, 11, 64)"


def test_input_error_marks_input_row(table):
    table.set_report(analyze(ModelSpec((0, 28, 1), [LayerSpec.make("Flatten")])))
    assert table.table.item(0, NAME).background().color() == ERROR_BACKGROUND
    assert texts(table, 1)[SHAPE] == "—"


def test_click_on_row_emits_stack_index(table, qtbot):
    table.set_report(analyze(mnist_cnn()))
    viewport = table.table.viewport()
    with qtbot.waitSignal(table.layer_activated) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=row_center(table, 3))
    assert blocker.args == [2]
    # The Input row is not a layer.
    with qtbot.assertNotEmitted(table.layer_activated):
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=row_center(table, 0))


def test_each_click_emits_once(table, qtbot):
    table.set_report(analyze(mnist_cnn()))
    seen: list[int] = []
    table.layer_activated.connect(seen.append)
    viewport = table.table.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=row_center(table, 5))
    assert seen == [4]
    # Clicking the current row again announces it again (the other views may have moved on).
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=row_center(table, 5))
    assert seen == [4, 4]
    # Keyboard navigation announces the new row too.
    qtbot.keyClick(table.table, Qt.Key.Key_Down)
    assert seen == [4, 4, 5]


def test_select_layer_highlights_without_emitting(table, qtbot):
    table.set_report(analyze(mnist_cnn()))
    with qtbot.assertNotEmitted(table.layer_activated):
        table.select_layer(4)
    assert table.selected_layer() == 4
    table.select_layer(None)
    assert table.selected_layer() is None


def test_refresh_reuses_items_for_long_stacks(table):
    layers = [LayerSpec.make("Conv2D", filters=8, padding="same") for _ in range(60)]
    layers += [LayerSpec.make("BatchNormalization") for _ in range(40)]
    spec = ModelSpec((32, 32, 3), layers)
    table.set_report(analyze(spec))
    first_item = table.table.item(50, SHAPE)
    for filters in range(9, 20):  # one refresh per keystroke
        spec.layers[0].params["filters"] = filters
        table.set_report(analyze(spec))
    assert table.table.rowCount() == 101
    assert table.table.item(50, SHAPE) is first_item
    assert texts(table, 1)[SHAPE] == "(None, 32, 32, 19)"
    assert texts(table, 100)[SHAPE] == "(None, 32, 32, 8)"
    # Shrinking the stack drops rows.
    del spec.layers[10:]
    table.set_report(analyze(spec))
    assert table.table.rowCount() == 11


# ---------------------------------------------------------------- narrow tables


def shown_columns(widget: SummaryTable) -> dict[int, int]:
    """Each column on screen and its width."""
    header = widget.table.horizontalHeader()
    return {column: header.sectionSize(column) for column in range(5)
            if not widget.table.isColumnHidden(column)}


def at_width(widget: SummaryTable, qtbot, width: int) -> dict[int, int]:
    widget.resize(width, 300)
    qtbot.waitUntil(lambda: widget.table.width() == width)
    QApplication.processEvents()
    return shown_columns(widget)


def whole(widget: SummaryTable, column: int) -> bool:
    metrics = QFontMetrics(widget.table.font())
    size = widget.table.horizontalHeader().sectionSize(column)
    return all(size >= metrics.horizontalAdvance(widget.table.item(row, column).text()) + 8
               for row in range(widget.table.rowCount()))


def in_view(widget: SummaryTable, shown: dict[int, int]) -> bool:
    """Every shown column within the table's width: nothing scrolled out of sight."""
    return sum(shown.values()) <= widget.table.viewport().width()


def with_frozen_conv() -> ModelSpec:
    spec = mnist_cnn()
    spec.layers[0].trainable = False
    return spec


def test_a_wide_table_shows_every_column_whole(table, qtbot):
    table.set_report(analyze(mnist_cnn()))
    shown = at_width(table, qtbot, table.preferred_width() + 20)
    assert list(shown) == [NAME, TYPE, SHAPE, PARAMS, NON_TRAINABLE]
    assert all(whole(table, column) for column in shown) and in_view(table, shown)


def test_a_narrow_table_drops_an_all_zero_non_trainable_column_first(table, qtbot):
    table.set_report(analyze(mnist_cnn()))
    shown = at_width(table, qtbot, table.preferred_width() - 60)
    assert list(shown) == [NAME, TYPE, SHAPE, PARAMS]  # the totals line still says 0
    assert all(whole(table, column) for column in shown) and in_view(table, shown)


def test_a_frozen_layer_keeps_the_non_trainable_column_and_the_names_give_way(table, qtbot):
    table.set_report(analyze(with_frozen_conv()))
    shown = at_width(table, qtbot, table.preferred_width() - 60)
    assert list(shown) == [NAME, TYPE, SHAPE, PARAMS, NON_TRAINABLE]
    assert texts(table, 1)[NAME] == "❄ conv2d"
    assert table.table.item(1, NON_TRAINABLE).text() == "320"
    assert all(whole(table, column) for column in (SHAPE, PARAMS, NON_TRAINABLE))
    assert not (whole(table, NAME) and whole(table, TYPE))  # cut in the middle instead
    assert in_view(table, shown)


@pytest.mark.parametrize("frozen", [False, True])
def test_a_very_narrow_table_drops_the_types_but_never_a_number(table, qtbot, frozen):
    table.set_report(analyze(with_frozen_conv() if frozen else mnist_cnn()))
    # A third of the names' and types' width is more than they may lose.
    shown = at_width(table, qtbot, table.preferred_width() - (120 if frozen else 220))
    assert TYPE not in shown and NAME in shown
    numbers = [SHAPE, PARAMS] + ([NON_TRAINABLE] if frozen else [])
    assert all(column in shown and whole(table, column) for column in numbers)
    assert in_view(table, shown)
    # Widened again, every column comes back whole.
    shown = at_width(table, qtbot, table.preferred_width() + 20)
    assert len(shown) == 5 and all(whole(table, column) for column in shown)
