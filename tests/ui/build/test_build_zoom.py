"""The Build view at a projector's sizes and zooms: everything follows the zoom, nothing is cut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextLayout
from PySide6.QtWidgets import QApplication

from cnnviz.core.formatting import dims_text
from cnnviz.core.model.layer_text import layer_summary
from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.shapes import analyze
from cnnviz.ui.build.architecture_diagram import ArchitectureDiagramView
from cnnviz.ui.build.summary_table import NAME, PARAMS, SHAPE, TYPE
from cnnviz.ui.common.zoom import zoom_of_app
from tests.ui.app_window import shown_main_window

SIZES = [(1024, 768), (1280, 720)]


@pytest.fixture
def zoom(qapp):
    zoom = zoom_of_app()
    yield zoom
    zoom.set_factor(1.0)
    zoom.set_presenting(False)
    QApplication.processEvents()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, zoom):
    return shown_main_window(qtbot, tmp_path, monkeypatch, train_limit=50)


def settle(window, size, zoom, factor):
    zoom.set_factor(factor)
    window.resize(*size)
    for _ in range(4):
        QApplication.processEvents()


def lines_of(label) -> list[str]:
    """The lines a word-wrapped label breaks its text into at its present width."""
    layout = QTextLayout(label.text(), label.font())
    width = label.contentsRect().width() - 2 * label.margin()
    layout.beginLayout()
    lines = []
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        lines.append(label.text()[line.textStart():line.textStart() + line.textLength()])
    layout.endLayout()
    return lines


@pytest.mark.parametrize("factor", [1.0, 1.5])
@pytest.mark.parametrize("size", SIZES)
def test_summary_totals_never_break_inside_a_total(window, zoom, size, factor):
    settle(window, size, zoom, factor)
    label = window.builder.summary.totals_label
    lines = [line.replace("\xa0", " ").replace("\u2060", "").strip(" ·")
             for line in lines_of(label)]
    totals = ["Total params: 515,146 (1.97 MB)", "Trainable: 515,146 (1.97 MB)",
              "Non-trainable: 0 (0.00 B)"]
    # Each line is one or more whole totals: "(0.00 B)" never starts a line of its own.
    assert " · ".join(lines) == " · ".join(totals)
    for line in lines:
        assert all(part in totals for part in line.split(" · ")), lines
    assert label.height() >= label.heightForWidth(label.width())  # every line shown


def test_property_title_follows_the_zoom(window, zoom):
    title = window.builder.properties._title
    normal = title.font().pointSizeF()
    settle(window, (1280, 720), zoom, 1.5)
    assert title.font().pointSizeF() == pytest.approx(normal * 1.5)
    assert title.font().pointSizeF() > QApplication.font().pointSizeF()  # still a title
    description = window.builder.properties._description
    assert description.font().pointSizeF() == pytest.approx(QApplication.font().pointSizeF())


@pytest.mark.parametrize("size", SIZES)
def test_nothing_in_the_build_view_is_cut_at_150_percent(window, zoom, size):
    settle(window, size, zoom, 1.5)
    builder = window.builder
    font_height = QFontMetrics(QApplication.font()).height()
    # Palette: every name whole, no sideways scrolling; chips as large as the text.
    palette = builder.palette
    assert not palette.horizontalScrollBar().isVisible()
    assert palette.viewport().width() >= palette.sizeHintForColumn(0)
    assert palette.iconSize().height() >= QFontMetrics(palette.font()).ascent() * 0.9
    # Properties: no sideways scrolling.
    assert not builder.properties_scroll.horizontalScrollBar().isVisible()
    # Layer rows: as tall as the text; a row whose settings do not fit beside the type and
    # the shape gets a second line for them instead of cutting them to "32 filters…".
    stack = builder.stack
    metrics = QFontMetrics(stack.font())
    bold = QFont(stack.font())
    bold.setBold(True)
    bold_metrics = QFontMetrics(bold)
    two_line_rows = 0
    for row, (layer, report) in enumerate(zip(window.document.spec.layers,
                                              window.document.report.layers)):
        height = stack.visualRect(stack.model().index(row, 0)).height()
        assert height >= font_height + 8
        one_line = (metrics.horizontalAdvance("000 ") + bold_metrics.horizontalAdvance(layer.type)
                    + metrics.horizontalAdvance(layer_summary(layer))
                    + bold_metrics.horizontalAdvance(dims_text(report.output_shape)))
        if one_line + 40 > stack.viewport().width():
            assert height >= 2 * metrics.height(), layer.type
            two_line_rows += 1
    if size == (1024, 768):
        assert two_line_rows > 0  # this size does need them
    # Summary: rows as tall as the text, every cell's text whole (the table may scroll).
    table = builder.summary.table
    header = table.horizontalHeader()
    assert table.rowHeight(1) >= QFontMetrics(table.font()).height() + 4
    for row in range(table.rowCount()):
        for column in (NAME, TYPE, SHAPE, PARAMS):
            text = table.item(row, column).text()
            assert header.sectionSize(column) >= QFontMetrics(table.font()).horizontalAdvance(text) + 8


def test_zoom_grows_the_summary_rows_and_columns(window, zoom):
    settle(window, (1920, 1080), zoom, 1.0)
    table = window.builder.summary.table
    row_height = table.rowHeight(1)
    shape_width = table.horizontalHeader().sectionSize(SHAPE)
    settle(window, (1920, 1080), zoom, 1.5)
    assert table.rowHeight(1) >= row_height * 1.3
    assert table.horizontalHeader().sectionSize(SHAPE) >= shape_width * 1.3


def test_diagram_scrolls_instead_of_cutting_its_labels_at_a_large_zoom(qtbot, zoom):
    view = ArchitectureDiagramView()
    qtbot.addWidget(view)
    view.set_report(analyze(preset_spec("mnist_cnn")))
    view.resize(500, 170)
    view.show()
    zoom.set_factor(2.5)
    QApplication.processEvents()
    diagram = view.diagram
    label_lines = (QFontMetrics(diagram.font()).height() + 2) * 2
    for index in range(-1, 6):
        assert diagram.box_rect(index).bottom() + 10 + label_lines <= diagram.height()
    assert diagram.height() > view.viewport().height()
    qtbot.waitUntil(view.verticalScrollBar().isVisible, timeout=2000)


@pytest.mark.parametrize("preset", ["mnist_cnn", "signal_fcn"])
def test_at_1024_presenting_the_build_page_fits_the_window_width(window, zoom, preset):
    """The three columns at their least width fit 1024 px at presentation zoom: the input row
    wraps under its kind and the preset box is no wider than its prompt, so the page does
    not scroll sideways and the properties are not cut at the right edge."""
    window.document.reset(preset_spec(preset), None)
    zoom.set_presenting(True)
    settle(window, (1024, 768), zoom, 1.5)
    page = window.tabs.widget(0)
    assert not page.horizontalScrollBar().isVisible()
    assert window.builder.input_editor.is_two_rows()
    settle(window, (1920, 1080), zoom, 1.5)
    assert not window.builder.input_editor.is_two_rows()


def test_a_long_type_beside_its_shape_moves_the_shape_to_a_second_line(window, zoom):
    """'BatchNormalization' and '150×32' do not fit side by side at 1024 px presenting: the
    shape goes to the row's second line instead of the two running together."""
    window.document.reset(preset_spec("signal_fcn"), None)
    zoom.set_presenting(True)
    settle(window, (1024, 768), zoom, 1.5)
    stack = window.builder.stack
    delegate = stack.itemDelegate()
    layers, reports = window.document.spec.layers, window.document.report.layers
    moved = {layer.type for layer, report in zip(layers, reports)
             if delegate.shape_below(stack.font(), layer, report)}
    assert moved == {"BatchNormalization", "GlobalAveragePooling1D"}
    row = next(i for i, layer in enumerate(layers) if layer.type == "BatchNormalization")
    assert stack.visualRect(stack.model().index(row, 0)).height() >= \
        2 * QFontMetrics(stack.font()).height()
    settle(window, (1920, 1080), zoom, 1.5)
    assert not any(delegate.shape_below(stack.font(), layer, report)
                   for layer, report in zip(layers, reports))


@pytest.mark.parametrize("size", SIZES)
def test_presenting_the_summary_keeps_every_parameter_count_in_view(window, zoom, size):
    """On a projector the summary takes up to 60 % of its row, and gives up the all-zero
    Non-trainable column or cuts names before a parameter count scrolls out of sight."""
    zoom.set_presenting(True)
    settle(window, size, zoom, 1.0)
    table = window.builder.summary.table
    header = table.horizontalHeader()
    shown = [column for column in range(header.count()) if not table.isColumnHidden(column)]
    assert PARAMS in shown and SHAPE in shown
    assert sum(header.sectionSize(column) for column in shown) <= table.viewport().width()
    metrics = QFontMetrics(table.font())
    for row in range(table.rowCount()):
        for column in (SHAPE, PARAMS):
            text = table.item(row, column).text()
            assert header.sectionSize(column) >= metrics.horizontalAdvance(text) + 8


def test_the_summary_keeps_the_width_the_user_drags_it_to(window, zoom, qtbot):
    settle(window, (1280, 720), zoom, 1.0)
    builder = window.builder
    bottom = builder.splitters[2]
    handle = bottom.handle(1)
    start = handle.rect().center()
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(handle, start + QPoint(150, 0))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=start + QPoint(150, 0))
    chosen = bottom.sizes()
    # An edit that lengthens a name refreshes the summary; the user's width stays.
    spec = window.document.spec.copy()
    spec.layers[4].name = "a_much_longer_name_for_this_dense_layer"
    window.document.apply(spec, "rename")
    settle(window, (1280, 720), zoom, 1.0)
    assert bottom.sizes() == chosen
