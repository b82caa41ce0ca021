"""1-D outputs and filters: the feature-map grid draws a (steps, channels) output as one line
plot (or heat strip) per channel, the filter grid draws Conv1D filters as stem plots."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from cnnviz.ui.common.feature_map_grid import (
    LINES,
    LINES_MAX_CHANNELS,
    SELECTED_COLOUR,
    STRIPS,
    FeatureMapGrid,
)
from cnnviz.ui.common.filter_grid import MEAN, STACKED, FilterGrid
from cnnviz.ui.common.series_plots import (
    HEADROOM,
    SeriesPlot,
    line_path,
    stem_x,
    value_y,
)
from cnnviz.ui.common.value_colors import NEGATIVE, POSITIVE


@pytest.fixture
def maps(qtbot) -> FeatureMapGrid:
    widget = FeatureMapGrid()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def filters(qtbot) -> FilterGrid:
    widget = FilterGrid()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tooltip_at(widget, pos: QPoint) -> str:
    QToolTip.hideText()
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos)))
    return QToolTip.text()


def reddish(colour: QColor) -> bool:
    return colour.red() > colour.blue() + 60


def bluish(colour: QColor) -> bool:
    return colour.blue() > colour.red() + 60


def test_a_sequence_output_is_one_line_plot_per_channel_on_one_scale(maps, qtbot):
    steps = np.arange(40, dtype=np.float32)
    output = np.stack([np.where(steps == 10, 2.0, 0.0), -0.5 * np.ones(40)], 1).astype(np.float32)
    maps.set_maps(output, "conv1d")
    assert maps.is_series() and maps.series_mode() == LINES and maps.shared_scale()
    assert maps.canvas is maps.rows
    assert "2 channels of 40 steps" in maps.title_label.text()
    assert "one scale, ±2" in maps.title_label.text()
    first, second = maps.tile_rect(0), maps.tile_rect(1)
    assert first.width() > 500 and second.top() > first.bottom()   # rows, full width
    # On one scale: channel 1's constant -0.5 sits a quarter of the way down from zero.
    image = maps.rows.grab().toImage()
    rect = QRectF(second)
    y = round(value_y(-0.5, rect, maps.limit))
    x = round(rect.left() + rect.width() * 0.5)
    column = [image.pixelColor(x, yy) for yy in range(second.top() + 1, second.bottom())]
    darkest = min(range(len(column)), key=lambda i: column[i].lightness()) + second.top() + 1
    assert abs(darkest - y) <= 2
    # The spike at step 10 of channel 0 reaches the top of its plot.
    spike_x = round(QRectF(first).left() + 10 * QRectF(first).width() / 39)
    top_pixels = [image.pixelColor(spike_x + dx, first.top() + 2) for dx in (-1, 0, 1)]
    assert any(c.lightness() < 200 for c in top_pixels)
    # Hover and click, as the 2-D grid.
    pos = QPoint(round(rect.left() + 10 * rect.width() / 39), second.center().y())
    text = tooltip_at(maps.rows, pos)
    assert "Channel 1" in text and "step 10" in text and "-0.5" in text
    with qtbot.waitSignal(maps.channel_clicked) as clicked:
        qtbot.mouseClick(maps.rows, Qt.MouseButton.LeftButton, pos=pos)
    assert clicked.args == [1] and maps.selected_channel() == 1
    edge = QPoint(second.left() - 1, second.center().y())
    assert maps.rows.grab().toImage().pixelColor(edge) == SELECTED_COLOUR


def test_many_channels_become_heat_strips_and_the_choice_is_kept(maps):
    rng = np.random.default_rng(0)
    output = rng.normal(size=(30, LINES_MAX_CHANNELS + 48)).astype(np.float32)
    output[5, 7] = 10.0        # the strongest value: full red
    output[6, 7] = -10.0
    maps.set_maps(output, "conv1d_1")
    assert maps.series_mode() == STRIPS and maps.legend.isVisible()
    row = maps.tile_rect(7)
    cell = row.width() / 30
    image = maps.rows.grab().toImage()
    red = image.pixelColor(round(row.left() + 5.5 * cell), row.center().y())
    blue = image.pixelColor(round(row.left() + 6.5 * cell), row.center().y())
    assert abs(red.red() - POSITIVE[0]) <= 3 and abs(blue.blue() - NEGATIVE[2]) <= 3
    assert "step 5" in tooltip_at(maps.rows, QPoint(round(row.left() + 5.5 * cell),
                                                     row.center().y()))
    maps.set_series_mode(LINES)
    assert maps.series_mode() == LINES and not maps.legend.isVisible()
    maps.set_maps(output[:, :3], "another layer")
    assert maps.series_mode() == LINES      # the user's choice stays
    maps.series_box.setCurrentIndex(maps.series_box.findData(STRIPS))
    assert maps.rows.mode == STRIPS


def test_own_scales_for_channels_and_the_2d_choice_stays_apart(maps):
    output = np.stack([np.ones(20), 0.01 * np.ones(20)], 1).astype(np.float32)
    maps.set_maps(output)
    maps.set_shared_scale(False)
    assert not maps.shared_scale() and maps.map_limit(1) == pytest.approx(0.01)
    assert "own scale" in maps.title_label.text()
    maps.set_maps(np.zeros((4, 4, 2), np.float32))      # a 2-D layer: its own default
    assert not maps.shared_scale() and not maps.series_box.isVisible()
    maps.set_shared_scale(True)
    maps.set_maps(output)
    assert not maps.shared_scale()                       # the 1-D choice is remembered
    with pytest.raises(ValueError):
        maps.set_series_mode("bars")


def test_a_vector_with_its_batch_axis_is_still_a_vector(maps):
    maps.set_maps(np.arange(6, dtype=np.float32)[None])
    assert maps.is_vector() and not maps.is_series()


def test_long_sequences_keep_their_spikes_when_drawn_in_few_pixels():
    values = np.zeros(5000, np.float32)
    values[2345] = 1.0
    path = line_path(values, QRectF(0, 0, 100, 50), 1.0)
    top = min(path.elementAt(i).y for i in range(path.elementCount()))
    assert top == pytest.approx(0.0)
    assert path.elementCount() < 300


def test_conv1d_filters_are_stems_coloured_by_sign(filters):
    kernel = np.zeros((5, 1, 3), np.float32)
    kernel[:, 0, 0] = [0.5, -0.25, 0.0, 1.0, -1.0]
    filters.set_kernel(kernel, "conv1d", bias=np.array([0.1, 0, 0], np.float32))
    assert filters.is_1d() and not filters.channel_row.isVisible()
    assert "3 filters of 5×1" in filters.title_label.text()
    assert filters.limit == pytest.approx(1.0)
    rect = filters.tile_rect(0)
    area = filters.stem_rects(rect)[0]
    image = filters.tiles.grab().toImage()
    zero = value_y(0.0, area, filters.limit * 1.3)
    # Stem 3 (+1.0) rises red above the zero line; stem 4 (-1.0) falls blue below it.
    up = image.pixelColor(round(stem_x(3, 5, area)), round(zero - 10))
    down = image.pixelColor(round(stem_x(4, 5, area)), round(zero + 10))
    assert reddish(up) and bluish(down)
    assert image.pixelColor(round(stem_x(3, 5, area)), round(zero + 10)).lightness() > 240
    text = tooltip_at(filters.tiles, rect.center())
    assert "Filter 0" in text and "0.500" in text and "-0.250" in text and "bias 0.1" in text


def test_conv1d_filters_on_several_channels_stack_or_average(filters):
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(3, 4, 6)).astype(np.float32)
    filters.set_kernel(kernel)
    assert filters.channel_mode() == STACKED and filters.colour_note.isVisible()
    assert len(filters.stem_rects(filters.tile_rect(0))) == 4
    np.testing.assert_allclose(filters._shown_planes()[2][1], kernel[:, 1, 2])
    filters.set_channel_mode(MEAN)
    np.testing.assert_allclose(filters._shown_planes()[2][0], kernel[:, :, 2].mean(axis=1),
                               rtol=1e-6)
    filters.set_channel_mode(3)
    np.testing.assert_allclose(filters._shown_planes()[5][0], kernel[:, 3, 5])
    filters.set_kernel(rng.normal(size=(3, 4, 6)).astype(np.float32))   # the next epoch
    assert filters.channel_mode() == 3
    filters.set_kernel(rng.normal(size=(3, 3, 4, 6)).astype(np.float32))  # a 2-D layer
    assert not filters.is_1d() and filters.channel_mode() == MEAN   # not the 1-D choice
    filters.set_kernel(rng.normal(size=(3, 64, 8)).astype(np.float32))
    assert filters.channel_box.findData(STACKED) < 0       # 64 rows would not read


def test_series_plot_draws_each_channel(qtbot):
    plot = SeriesPlot(100)
    qtbot.addWidget(plot)
    plot.resize(300, 100)
    plot.show()
    series = np.zeros((50, 2), np.float32)
    series[:, 0] = 1.0
    series[:, 1] = -1.0
    plot.set_series(series)
    image = plot.grab().toImage()
    rect = plot.plot_rect()
    top = image.pixelColor(150, round(value_y(1.0, rect, plot.limit * HEADROOM)))
    bottom = image.pixelColor(150, round(value_y(-1.0, rect, plot.limit * HEADROOM)))
    assert top.lightness() < 220 and bottom.lightness() < 220 and top != bottom
    assert "50×2" in plot.toolTip()
    plot.set_series(None, "Nothing")
    assert plot.series.size == 0
