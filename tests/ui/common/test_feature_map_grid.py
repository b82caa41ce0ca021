"""The feature-map grid: every channel as a tile on one colour scale, clicks, tooltips, sizes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from cnnviz.ui.common.feature_map_grid import MIN_TILE_SIDE, SELECTED_COLOUR, FeatureMapGrid
from cnnviz.ui.common.value_colors import POSITIVE, ZERO


@pytest.fixture
def grid(qtbot) -> FeatureMapGrid:
    widget = FeatureMapGrid()
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tooltip_at(widget, pos: QPoint) -> str:
    QToolTip.hideText()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    return QToolTip.text()


def pixel(widget, pos: QPoint) -> QColor:
    return widget.grab().toImage().pixelColor(pos)


def test_every_channel_is_a_labelled_tile_and_32_maps_fit_without_scrolling(grid):
    grid.set_maps(np.random.default_rng(0).random((26, 26, 32)).astype(np.float32), "conv2d")
    rects = [grid.tile_rect(c) for c in range(32)]
    assert len(grid.tiles.images) == 32 and grid.tiles.labels[31] == "31"
    assert all(r.width() == r.height() >= 48 for r in rects)          # readable in a classroom
    assert all(not a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    viewport = grid.scroll.viewport()
    assert max(r.right() for r in rects) < viewport.width()
    assert max(r.bottom() for r in rects) < viewport.height()         # no scrolling needed
    assert "32 feature maps of 26×26" in grid.title_label.text()


def test_tile_size_adapts_few_big_many_small(grid):
    grid.set_maps(np.zeros((28, 28, 3), np.float32))
    assert grid.tile_rect(0).width() >= 150                           # 3 maps: big
    grid.set_maps(np.zeros((11, 11, 64), np.float32))
    sides = {grid.tile_rect(c).width() for c in range(64)}
    assert len(sides) == 1 and MIN_TILE_SIDE <= sides.pop() < 60
    assert grid.tile_rect(63).bottom() < grid.scroll.viewport().height()
    grid.set_maps(np.zeros((5, 5, 256), np.float32))                  # too many: scroll
    assert grid.tile_rect(0).width() >= MIN_TILE_SIDE
    assert grid.canvas.height() > grid.scroll.viewport().height()
    assert grid.tile_rect(255).right() < grid.scroll.viewport().width()


def test_narrowing_the_widget_rewraps_the_tiles(grid, qtbot):
    grid.set_maps(np.zeros((26, 26, 32), np.float32))
    wide_cols = grid.tiles.layout_info.cols
    grid.resize(320, 400)
    qtbot.waitUntil(lambda: grid.tiles.layout_info.cols < wide_cols)
    assert max(grid.tile_rect(c).right() for c in range(32)) < grid.scroll.viewport().width()


def test_one_shared_limit_so_a_weak_map_looks_weak(grid):
    maps = np.zeros((4, 4, 2), np.float32)
    maps[..., 0] = 1.0
    maps[..., 1] = 4.0
    grid.set_shared_scale(True)
    grid.set_maps(maps)
    assert "one colour scale" in grid.title_label.text()
    assert grid.legend.limit() == pytest.approx(4.0)
    strong = pixel(grid.canvas, grid.tile_rect(1).center())
    weak = pixel(grid.canvas, grid.tile_rect(0).center())
    assert (strong.red(), strong.green(), strong.blue()) == tuple(int(v) for v in POSITIVE)
    # a quarter of the way from white to red: far lighter than channel 1
    assert weak.green() == pytest.approx(ZERO[1] + (POSITIVE[1] - ZERO[1]) * 0.25, abs=2)


def test_each_map_on_its_own_scale_by_default_so_weak_maps_show_their_structure(grid):
    """Issue 12: feature maps were mostly pale (one strong map set the scale for all)."""
    maps = np.zeros((4, 4, 2), np.float32)
    maps[0, 0, 0], maps[..., 1] = 0.1, 40.0     # a weak map beside a very strong one
    grid.set_maps(maps)
    assert not grid.shared_scale()
    assert "own colour scale" in grid.title_label.text()
    weak_peak = pixel(grid.canvas, grid.tile_rect(0).topLeft() + QPoint(2, 2))
    assert (weak_peak.red(), weak_peak.green(), weak_peak.blue()) == tuple(int(v) for v in POSITIVE)
    assert "±0.100" in grid._tile_tooltip(0, 0, 0)
    grid.set_shared_scale(True)                 # the option: one scale, the weak map pale
    weak_peak = pixel(grid.canvas, grid.tile_rect(0).topLeft() + QPoint(2, 2))
    assert weak_peak.green() > 240


def test_clicking_a_tile_emits_its_channel_and_outlines_it(grid, qtbot):
    grid.set_maps(np.random.default_rng(1).normal(size=(13, 13, 16)).astype(np.float32))
    target = grid.tile_rect(5)
    with qtbot.waitSignal(grid.channel_clicked, timeout=1000) as signal:
        qtbot.mouseClick(grid.canvas, Qt.MouseButton.LeftButton, pos=target.center())
    assert signal.args == [5]
    assert grid.selected_channel() == 5
    assert pixel(grid.canvas, QPoint(target.left() - 1, target.center().y())) == SELECTED_COLOUR
    with qtbot.assertNotEmitted(grid.channel_clicked):               # a gap is not a tile
        qtbot.mouseClick(grid.canvas, Qt.MouseButton.LeftButton,
                         pos=QPoint(target.right() + 3, target.center().y()))


def test_set_selected_channel_outlines_without_emitting(grid, qtbot):
    grid.set_maps(np.zeros((8, 8, 6), np.float32))
    with qtbot.assertNotEmitted(grid.channel_clicked):
        grid.set_selected_channel(4)
    rect = grid.tile_rect(4)
    assert pixel(grid.canvas, QPoint(rect.left() - 1, rect.center().y())) == SELECTED_COLOUR
    other = grid.tile_rect(3)
    assert pixel(grid.canvas, QPoint(other.left() - 1, other.center().y())) != SELECTED_COLOUR
    grid.set_selected_channel(None)
    assert pixel(grid.canvas, QPoint(rect.left() - 1, rect.center().y())) != SELECTED_COLOUR


def test_tile_tooltip_gives_channel_value_and_min_max_mean(grid):
    maps = np.zeros((4, 4, 3), np.float32)
    maps[..., 2] = np.arange(16, dtype=np.float32).reshape(4, 4) - 4.0   # -4 … 11, mean 3.5
    grid.set_maps(maps)
    rect = grid.tile_rect(2)
    cell = rect.width() // 4
    text = tooltip_at(grid.canvas, QPoint(rect.left() + 3 * cell + 2, rect.top() + cell + 2))
    assert "Channel 2" in text
    assert "row 1, column 3: 3" in text                                  # 1 * 4 + 3 - 4
    assert "min -4" in text and "max 11" in text and "mean 3.50" in text


def test_a_vector_is_a_strip_of_cells_with_values_in_tooltips(grid, qtbot):
    values = np.linspace(-1, 1, 10).astype(np.float32)
    grid.set_maps(values[None], "dense_1")          # with its batch axis
    assert grid.is_vector() and grid.canvas is grid.strip
    rects = [grid.tile_rect(i) for i in range(10)]
    assert len({r.top() for r in rects}) == 1     # ten values read in one row
    assert rects[-1].right() < grid.scroll.viewport().width()
    assert "Unit 9: 1" in tooltip_at(grid.canvas, rects[9].center())
    with qtbot.waitSignal(grid.channel_clicked, timeout=1000) as signal:
        qtbot.mouseClick(grid.canvas, Qt.MouseButton.LeftButton, pos=rects[7].center())
    assert signal.args == [7]
    grid.set_maps(np.zeros(7744, np.float32))       # a Flatten output still fits the width
    assert grid.tile_rect(7743).right() < grid.scroll.viewport().width()
    assert grid.tile_rect(7743).width() >= 3


def test_going_back_from_vector_to_maps(grid):
    grid.set_maps(np.zeros(64, np.float32))
    grid.set_maps(np.zeros((5, 5, 4), np.float32))
    assert grid.canvas is grid.tiles and not grid.is_vector()
    assert grid.tile_rect(3).width() > 0


def test_shapes_that_are_not_maps_are_refused(grid):
    with pytest.raises(ValueError):
        grid.set_maps(np.zeros((2, 3, 4, 5), np.float32))
