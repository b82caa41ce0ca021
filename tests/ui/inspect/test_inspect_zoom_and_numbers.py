"""The Inspect view in front of a class: it follows the zoom, and its weight statistics are
written the way students read numbers (no powers of ten unless a value would read 0)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.inspect.inspection import inspect_model
from cnnviz.ui.common.zoom import zoom_of_app
from cnnviz.ui.inspect.confusion_matrix import ConfusionMatrix
from cnnviz.ui.inspect.inspect_panel import InspectPanel
from tests.ui.inspect.test_evaluation_panel import make_evaluation

WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def zoom_back(qapp):
    yield
    zoom_of_app().set_factor(1.0)


@pytest.fixture(scope="module")
def tiny_weights_model():
    """A Dense layer whose kernel is ~1e-4 (a mean of ~0.0001) and whose bias is ~1e-8."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    kernel = np.full((4, 3), 1.2345e-4, np.float32)
    kernel[0, 0] = -2.5e-4
    model.get_layer("dense").set_weights([kernel, np.array([1e-8, 2e-8, 3e-8], np.float32)])
    return model


@pytest.fixture
def panel(qtbot):
    widget = InspectPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 560)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def open_model(qtbot, panel, model):
    info = inspect_model(model)
    panel.set_model(model, info, "model.keras")
    qtbot.waitUntil(lambda: not panel.busy and bool(panel.weight_stats_shown()), timeout=WAIT_MS)
    return info


def test_statistics_are_fixed_point_and_a_power_of_ten_only_says_why():
    from cnnviz.ui.inspect.number_text import stat_text, stat_tooltip

    assert stat_text(-0.287123) == "-0.2871"
    assert stat_text(0.0012345) == "0.001234"
    assert stat_text(0.00012345) == "0.000123"
    assert stat_text(12.3456) == "12.35"
    assert stat_text(0) == "0"
    assert stat_text(3e-8) == "3e-08"                 # six decimals would say 0.000000
    assert "would read 0.000000" in stat_tooltip(3e-8)


def test_the_weight_table_has_no_scientific_notation_where_students_read(
        qtbot, panel, tiny_weights_model):
    open_model(qtbot, panel, tiny_weights_model)
    table = panel.stats_table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    kernel = [table.item(rows["kernel"], c).text() for c in range(3, 7)]
    assert all("e" not in text for text in kernel), kernel          # was "0.0001054" / "1.054e-04"
    bias_min = table.item(rows["bias"], 3)
    assert bias_min.text() == "1e-08"
    assert "power of ten" in bias_min.toolTip()
    assert all("e" not in t for t in panel.histogram.toolTip().split("values")[1:2])
    assert panel.weights_view.numbers_fit()


def sizes(panel) -> dict[str, float]:
    """The sizes in the Inspect view that hold text and should follow the zoom."""
    return {
        "title": panel.title_label.font().pointSizeF(),
        "summary": panel.layer_summary.font().pointSizeF(),
        "layer title": panel.layer_title.font().pointSizeF(),
        "row": panel.layer_table.verticalHeader().defaultSectionSize(),
        "stats row": panel.stats_table.verticalHeader().defaultSectionSize(),
        "histogram": panel.histogram.minimumSizeHint().height(),
        "graph box": panel.graph.canvas.box_height(),
        "graph width": panel.graph.canvas.minimumSizeHint().width(),
    }


def test_the_view_follows_the_zoom(qtbot, panel, tiny_weights_model):
    open_model(qtbot, panel, tiny_weights_model)
    before = sizes(panel)
    zoom_of_app().set_factor(1.5)
    qtbot.wait(50)
    after = sizes(panel)
    for key in before:   # the histogram's bars need no more room, only its text does
        assert after[key] >= (1.1 if key == "histogram" else 1.25) * before[key], key
    assert panel.weights_view.numbers_fit()


def test_the_confusion_matrix_numbers_grow_with_the_zoom(qtbot):
    labels = np.arange(40) % 4
    predictions = labels.copy()
    predictions[:5] = (predictions[:5] + 1) % 4
    probabilities = np.eye(4)[predictions] * 0.9 + 0.025
    matrix = ConfusionMatrix()
    qtbot.addWidget(matrix)
    matrix.resize(600, 600)
    matrix.set_evaluation(make_evaluation(labels, predictions, probabilities, list("abcd")))
    matrix.show()
    qtbot.waitExposed(matrix)
    cell = matrix.cell_rect(0, 0).width()
    small = matrix.number_font(cell).pixelSize()
    zoom_of_app().set_factor(1.5)
    qtbot.wait(50)
    cell = matrix.cell_rect(0, 0).width()
    assert matrix.number_font(cell).pixelSize() >= 1.4 * small
    assert small >= 12      # the window's text size, not a fixed ~9 px


@pytest.mark.parametrize("zoom", [1.0, 1.5])
def test_gallery_captions_are_written_whole(qtbot, zoom):
    from cnnviz.ui.inspect.misclassified_gallery import MisclassifiedGallery

    names = ["airplane", "automobile", "truck"]
    labels = np.array([1, 1, 0])
    probabilities = np.array([[0.01, 0.02, 0.97], [0.2, 0.1, 0.7], [0.1, 0.3, 0.6]])
    evaluation = make_evaluation(labels, probabilities.argmax(1), probabilities, names)
    gallery = MisclassifiedGallery()
    qtbot.addWidget(gallery, before_close_func=lambda w: w.shutdown())
    gallery.resize(420, 500)
    gallery.show()
    zoom_of_app().set_factor(zoom)
    gallery.show_misclassified(evaluation, None)
    qtbot.wait(50)
    assert "predicted: truck (97.0%)" in gallery.tile_text(0)
    assert gallery.canvas.captions_fit()
