"""A saved Keras model with Conv1D layers that cnnviz did not make: it opens from its .keras
file, shows its structure and weight statistics (Conv1D filters as stems), evaluates on
signals (confusion matrix equal to Keras's predictions), and draws each mistake as a line plot."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from cnnviz.core.inspect.inspection import inspect_model
from cnnviz.core.inspect.model_files import open_model
from cnnviz.ui.inspect.evaluation_panel import EvaluationPanel
from cnnviz.ui.inspect.inspect_panel import NAME, PARAMS, InspectPanel
from tests.ui.series_fixtures import CLASSES, conv1d_model, signal_dataset

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def saved_conv1d(tmp_path_factory):
    model = conv1d_model(seed=5)
    path = tmp_path_factory.mktemp("models") / "waves.keras"
    model.save(path)
    return path, model


def test_a_saved_conv1d_model_opens_with_its_structure_and_filters(qtbot, saved_conv1d):
    path, original = saved_conv1d
    opened = open_model(path)
    info = inspect_model(opened.model)
    panel = InspectPanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 760)
    panel.show()
    panel.set_model(opened.model, info, path.name, opened.notes)
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    table = panel.layer_table
    names = [table.item(row, NAME).text() for row in range(table.rowCount())]
    assert [n for n in names if "conv1d" in n] == ["conv1d", "conv1d_1"]
    params = {table.item(r, NAME).text(): table.item(r, PARAMS).text()
              for r in range(table.rowCount())}
    assert params["conv1d"] == f"{original.get_layer('conv1d').count_params():,}"
    assert params["conv1d_1"] == f"{original.get_layer('conv1d_1').count_params():,}"
    row = names.index("conv1d_1")
    center = table.visualItemRect(table.item(row, NAME)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.waitUntil(lambda: not panel.busy and panel.filter_grid.isVisible(), timeout=WAIT_MS)
    grid = panel.filter_grid
    np.testing.assert_array_equal(grid.kernel, original.get_layer("conv1d_1").kernel.numpy())
    assert grid.is_1d() and "6 filters of 3×4" in grid.title_label.text()
    assert "bias" in grid.tooltip_text(0)
    stats = panel.stats_table
    assert stats.rowCount() >= 2      # kernel and bias


def test_a_conv1d_model_evaluates_on_signals_and_draws_its_mistakes_as_lines(
        qtbot, saved_conv1d):
    path, _original = saved_conv1d
    model = open_model(path).model
    dataset = signal_dataset()
    panel = EvaluationPanel()
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown())
    panel.resize(1100, 620)
    panel.set_dataset(dataset)
    panel.set_model(model, None)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.evaluate_button.isEnabled(), panel.status.text()
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
    evaluation = blocker.args[0]
    # Signals are called series, not images, in the headline and the split chooser.
    assert panel.headline.text().endswith(f"on {dataset.test.count} test series")
    assert "series" in panel.split_combo.currentText()
    assert "images" not in panel.split_combo.currentText() + panel.status.text()
    x = dataset.test.images(np.arange(dataset.test.count))
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    labels = dataset.test.labels()
    expected = np.zeros((CLASSES, CLASSES), np.int64)
    np.add.at(expected, (labels, predicted), 1)
    np.testing.assert_array_equal(evaluation.confusion, expected)
    wrong = int((predicted != labels).sum())
    assert wrong > 0, "the untrained model should make mistakes to draw"
    gallery = panel.gallery
    qtbot.waitUntil(lambda: gallery.tile_indices() and gallery.tile_has_image(0),
                    timeout=WAIT_MS)
    first = gallery.tile_indices()[0]
    tile = gallery.canvas.tiles[0]
    np.testing.assert_array_equal(tile.series, x[first])
    assert tile.image is None
    rect = gallery.tile_rect(0)
    image = gallery.canvas.grab().toImage()
    row = [image.pixelColor(QPoint(x_, y)) for y in range(rect.top() + 6, rect.top() + 60)
           for x_ in range(rect.left() + 10, rect.right() - 10, 3)]
    blue = [c for c in row if c.blue() > c.red() + 60]   # the first channel's line
    orange = [c for c in row if c.red() > c.blue() + 60]  # the second channel's line
    assert blue and orange
