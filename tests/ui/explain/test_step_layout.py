"""StepLayout on its own: given grids, legends, a size and the data's texts, it places them."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from cnnviz.ui.common.value_colors import ColorLegend
from cnnviz.ui.explain.views.grid_painting import Run, ValueGrid
from cnnviz.ui.explain.views.step_view_layout import StepContent, StepLayout

ROW = [["window", "→", "result"]]
COLUMN = [["window"], ["→"], ["result"]]


def make_layout(qtbot, tables):
    host = QWidget()
    qtbot.addWidget(host)
    grids = {key: ValueGrid() for key in ("input", "output", "window", "result")}
    grids["input"].set_values(np.zeros((12, 12)), 1.0)
    grids["output"].set_values(np.zeros((6, 6)), 1.0)
    grids["window"].set_values(np.zeros((2, 2)), 1.0)
    grids["result"].set_values(np.zeros((1, 1)), 1.0)
    legends = {"values": ColorLegend(host)}
    layout = StepLayout(grids["input"], grids["output"],
                        {"window": grids["window"], "result": grids["result"]}, tables,
                        legends, (("values", "Values", "tip"),), QFont())
    return layout, grids, legends, host


def content(lines=1, note=""):
    calculation = [[Run("max(1.00, 2.00, 3.00, 4.00) = 4.00")] for _ in range(lines)]
    return StepContent(lambda key: key, calculation, [], note)


def test_arrange_places_every_part_inside_the_size_without_overlap(qtbot):
    layout, grids, legends, _host = make_layout(qtbot, [ROW, COLUMN])
    layout.arrange(900.0, 560.0, QFont(), 1.0, content(note="padding, not counted"))
    rects = [grid.rect() for grid in grids.values()] + [layout.calc_rect,
                                                        QRectF(legends["values"].geometry())]
    area = QRectF(0, 0, 900, 560)
    for index, rect in enumerate(rects):
        assert rect.width() > 0 and area.contains(rect), (index, rect)
        for other in rects[index + 1:]:
            assert not rect.intersects(other)
    assert set(layout.titles) == {"input", "output", "window", "result"}
    assert [text for text, _rect in layout.operators] == ["→"]
    assert layout.padding_swatch is not None and layout.padding_swatch[2] == "padding, not counted"
    assert [label for label, _rect in layout.legend_labels] == ["Values"]


def test_a_longer_calculation_gets_more_lines_and_keeps_them_until_reset(qtbot):
    layout, _grids, _legends, _host = make_layout(qtbot, [ROW])
    layout.arrange(900.0, 560.0, QFont(), 1.0, content(lines=1))
    one_line = layout.calc_rect.height()
    layout.arrange(900.0, 560.0, QFont(), 1.0, content(lines=3))
    assert layout.reserved_lines == 3 and layout.calc_rect.height() > 2.5 * one_line
    layout.arrange(900.0, 560.0, QFont(), 1.0, content(lines=1))
    assert layout.reserved_lines == 3          # the text below does not jump with each step
    layout.reset_reserved_lines()
    layout.arrange(900.0, 560.0, QFont(), 1.0, content(lines=1))
    assert layout.calc_rect.height() == one_line
