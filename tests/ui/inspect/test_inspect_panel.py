"""The inspector on real Keras models: layer table and graph, weight statistics computed in
the background (numbers equal numpy's), stale results dropped, edit-copy button."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from cnnviz.core.inspect import inspection
from cnnviz.core.inspect.inspection import inspect_model
from cnnviz.ui.inspect.inspect_panel import INBOUND, NAME, PARAMS, SHAPE, TYPE, InspectPanel
from cnnviz.ui.inspect.inspect_stats import COMPUTING
from cnnviz.ui.common.layer_style import layer_color
from cnnviz.core.formatting import readable_size
from cnnviz.ui.inspect.weight_histogram import ZERO_LINE, WeightHistogram, nice_ticks

WAIT_MS = 20_000


@pytest.fixture(scope="module")
def sequential_cnn():
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((12, 12, 1)),
        keras.layers.Conv2D(6, 3, activation="relu", name="conv"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv_2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(5, activation="softmax", name="classes"),
    ], name="small_cnn")
    # Non-zero biases, so bias statistics are more than zeros.
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([w + np.random.default_rng(1).normal(0, 0.05, w.shape)
                               .astype(np.float32) for w in layer.get_weights()])
    return model


@pytest.fixture(scope="module")
def branching_model():
    import keras

    keras.utils.set_random_seed(4)
    image = keras.Input((10, 10, 1), name="image")
    conv_a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(image)
    conv_b = keras.layers.Conv2D(4, 5, padding="same", name="conv_b")(image)
    added = keras.layers.Add(name="add")([conv_a, conv_b])
    shortcut = keras.layers.Conv2D(4, 1, name="shortcut")(image)
    merged = keras.layers.Concatenate(name="concat")([added, shortcut, conv_a])
    pooled = keras.layers.MaxPooling2D(name="pool")(merged)
    flat = keras.layers.Flatten(name="flatten")(pooled)
    out = keras.layers.Dense(3, activation="softmax", name="classes")(flat)
    return keras.Model(image, out, name="branchy")


@pytest.fixture
def panel(qtbot):
    widget = InspectPanel()
    qtbot.addWidget(widget)
    widget.show()
    widget.resize(1000, 560)    # the Inspect tab of a 1024×640 window
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def open_model(qtbot, panel, model, title="model.keras", notes=None):
    info = inspect_model(model)
    panel.set_model(model, info, title, notes or [])
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)  # layer 0's statistics
    return info


def row_of(info, name: str) -> int:
    return [layer.name for layer in info.layers].index(name)


def click_row(qtbot, panel, row: int, double: bool = False) -> None:
    table = panel.layer_table
    center = table.visualItemRect(table.item(row, NAME)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    if double:  # a real double-click starts with a press and release, as here
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)


def shown_stats(panel) -> dict[str, dict[str, float]]:
    """The numbers as the user reads them in the statistics table, by weight name."""
    table = panel.stats_table
    columns = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    rows = {}
    for row in range(table.rowCount()):
        texts = {columns[c]: table.item(row, c).text() for c in range(table.columnCount())}
        rows[texts["Weights"]] = {
            "shape": texts["Shape"], "count": int(texts["Count"].replace(",", "")),
            **{key: float(texts[key.capitalize()]) for key in ("min", "max", "mean", "std")}}
    return rows


# ---------------------------------------------------------------------- structure


def test_sequential_table_rows_are_the_models_layers_with_keras_param_counts(
        qtbot, panel, sequential_cnn):
    info = open_model(qtbot, panel, sequential_cnn, "small_cnn.keras",
                      ["opened with 'I trust this file'"])
    table = panel.layer_table
    assert table.rowCount() == len(sequential_cnn.layers)
    for row, layer in enumerate(sequential_cnn.layers):
        assert table.item(row, NAME).text() == layer.name
        assert table.item(row, TYPE).text() == type(layer).__name__
        assert table.item(row, PARAMS).text() == f"{layer.count_params():,}"
        expected_shape = "(" + ", ".join(str(d) for d in layer.output.shape) + ")"
        assert table.item(row, SHAPE).text() == expected_shape
    assert table.isColumnHidden(INBOUND)          # a chain: "inputs from" says nothing new
    assert "small_cnn.keras" in panel.title_label.text()
    assert panel.notes_label.isVisible()
    assert panel.notes_label.text() == "opened with 'I trust this file'"
    total = sequential_cnn.count_params()
    assert f"Total params: {total:,} ({readable_size(total * 4)})" in panel.totals_label.text()
    assert "Input (None, 12, 12, 1)" in panel.shapes_label.text()
    assert "Output (None, 5)" in panel.shapes_label.text()
    assert not panel.problems_label.isVisible() and info.explain_problem is None
    # Readable at 1000 px: every column at its full width, no sideways scrolling.
    for column in range(table.columnCount()):
        if not table.isColumnHidden(column):
            longest = max(table.fontMetrics().horizontalAdvance(table.item(r, column).text())
                          for r in range(table.rowCount()))
            assert table.columnWidth(column) >= longest + 8
    assert not table.horizontalScrollBar().isVisible()


def test_branching_model_shows_where_each_merge_gets_its_inputs(qtbot, panel, branching_model):
    info = open_model(qtbot, panel, branching_model)
    table = panel.layer_table
    assert not info.is_chain and not table.isColumnHidden(INBOUND)
    names = [table.item(r, NAME).text() for r in range(table.rowCount())]
    assert names == [layer.name for layer in branching_model.layers]
    # A merge lists its inputs one per line, in a row tall enough to show them all.
    add, concat = names.index("add"), names.index("concat")
    assert table.item(add, INBOUND).text().split("\n") == ["conv_a", "conv_b"]
    assert table.item(concat, INBOUND).text().split("\n") == ["add", "shortcut", "conv_a"]
    assert table.item(names.index("conv_b"), INBOUND).text() == "image"
    line = table.fontMetrics().lineSpacing()
    assert table.rowHeight(concat) >= 3 * line > table.rowHeight(names.index("conv_b"))
    longest = max(table.fontMetrics().horizontalAdvance(n) for n in ("add", "shortcut", "conv_a"))
    assert table.columnWidth(INBOUND) >= longest + 8
    assert "branches and merges" in panel.shapes_label.text()


def test_graph_draws_every_layer_in_topological_order_with_its_connections(
        qtbot, panel, branching_model):
    info = open_model(qtbot, panel, branching_model)
    panel.tabs.setCurrentWidget(panel.graph)
    qtbot.waitUntil(lambda: panel.graph.canvas.isVisible())
    rects = panel.graph.box_rects()
    assert len(rects) == len(branching_model.layers)
    tops = [rect.top() for rect in rects]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    index = {layer.name: i for i, layer in enumerate(info.layers)}
    expected = {(index[source], target) for target, layer in enumerate(info.layers)
                for source in layer.inbound}
    assert set(panel.graph.edges()) == expected
    assert all(source < target for source, target in expected)   # topological
    # Each box is painted with its layer type's colour stripe, all inside the canvas.
    canvas = panel.graph.canvas
    assert canvas.height() >= rects[-1].bottom()
    image = canvas.grab().toImage()
    ratio = image.devicePixelRatio()
    for layer, rect in zip(info.layers, rects):
        point = QPoint(int((rect.left() + 4) * ratio), int(rect.center().y() * ratio))
        assert image.pixelColor(point) == layer_color(layer.layer_type), layer.name
    # Side connections (skips, merges) run in lanes right of the boxes.
    lane_edges = [e for e in canvas.edges if e.lane >= 0]
    assert {(e.source, e.target) for e in lane_edges} >= {(index["conv_a"], index["concat"])}
    assert all(e.path.boundingRect().right() > rects[0].right() for e in lane_edges)


def test_graph_clicks_pick_the_layer_and_double_click_activates_it(
        qtbot, panel, branching_model):
    info = open_model(qtbot, panel, branching_model)
    panel.tabs.setCurrentWidget(panel.graph)
    concat = row_of(info, "shortcut")
    rect = panel.graph.box_rects()[concat]
    with qtbot.waitSignal(panel.stats_shown, timeout=WAIT_MS,
                          check_params_cb=lambda i: i == concat):
        qtbot.mouseClick(panel.graph.canvas, Qt.MouseButton.LeftButton,
                         pos=rect.center().toPoint())
    assert panel.selected_layer() == concat
    assert panel.layer_table.currentRow() == concat and panel.graph.selected() == concat
    with qtbot.waitSignal(panel.layer_activated, timeout=2000) as activated:
        qtbot.mouseDClick(panel.graph.canvas, Qt.MouseButton.LeftButton,
                          pos=rect.center().toPoint())
    assert activated.args == ["shortcut"]


def test_problems_are_shown_as_readable_notes(qtbot, panel):
    import keras

    inputs = keras.Input((8, 8, 1))
    value = keras.layers.Dense(1, name="value")(keras.layers.Flatten()(inputs))
    info = open_model(qtbot, panel, keras.Model(inputs, value, name="regressor"))
    assert info.evaluate_problem
    assert panel.problems_label.isVisible()
    assert f"Evaluate: {info.evaluate_problem}" in panel.problems_label.text()


# ---------------------------------------------------------------------- weight statistics


def test_picking_a_conv_layer_computes_its_statistics_in_the_background(
        qtbot, panel, sequential_cnn, monkeypatch):
    info = open_model(qtbot, panel, sequential_cnn)
    threads = []
    real = inspection.weight_stats

    def recording(layer, bins=40):
        threads.append(threading.current_thread())
        return real(layer, bins)

    monkeypatch.setattr(inspection, "weight_stats", recording)
    row = row_of(info, "conv_2")
    with qtbot.waitSignal(panel.stats_shown, timeout=WAIT_MS,
                          check_params_cb=lambda i: i == row):
        click_row(qtbot, panel, row)
    assert threads and threads[0] is not threading.main_thread()
    kernel, bias = sequential_cnn.get_layer("conv_2").get_weights()
    stats = shown_stats(panel)
    assert set(stats) == {"kernel", "bias"}
    for name, values in (("kernel", kernel), ("bias", bias)):
        assert stats[name]["count"] == values.size
        assert stats[name]["shape"] == "×".join(str(d) for d in values.shape)
        for key, expected in (("min", values.min()), ("max", values.max()),
                              ("mean", values.mean()), ("std", values.std())):
            assert stats[name][key] == pytest.approx(float(expected), rel=1e-3, abs=1e-7), key
    # The histogram shows the kernel (first row): every weight in some bin.
    assert panel.histogram.counts().sum() == kernel.size
    assert panel.histogram.bin_edges()[0] == pytest.approx(kernel.min(), rel=1e-5)
    assert "conv_2 / kernel" in panel.histogram.title()
    # Picking the bias row switches the histogram.
    table = panel.stats_table
    bias_row = [table.item(r, 0).text() for r in range(table.rowCount())].index("bias")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(table.item(bias_row, 0)).center())
    assert panel.histogram.counts().sum() == bias.size and "bias" in panel.histogram.title()
    # And the filters of the conv layer, as a FilterGrid of the real kernel.
    assert panel.filter_grid.isVisible()
    np.testing.assert_array_equal(panel.filter_grid.kernel, kernel)


def test_a_layer_without_weights_says_so(qtbot, panel, sequential_cnn):
    info = open_model(qtbot, panel, sequential_cnn)
    with qtbot.waitSignal(panel.stats_shown, timeout=2000):
        click_row(qtbot, panel, row_of(info, "pool"))
    assert "no weights" in panel.status_label.text()
    assert panel.status_label.isVisible()
    assert not panel.stats_table.isVisible() and not panel.filter_grid.isVisible()
    assert panel.histogram.counts().size == 0


def test_a_late_result_for_a_layer_the_user_left_is_dropped(
        qtbot, panel, branching_model, monkeypatch):
    info = open_model(qtbot, panel, branching_model)
    release = threading.Event()
    real = inspection.weight_stats
    running, most_at_once, computed = [0], [0], []
    lock = threading.Lock()

    def slow_for_conv_a(layer, bins=40):
        with lock:
            running[0] += 1
            most_at_once[0] = max(most_at_once[0], running[0])
        try:
            if layer.name == "conv_a":
                assert release.wait(10), "the test never released conv_a"
            computed.append(layer.name)
            return real(layer, bins)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(inspection, "weight_stats", slow_for_conv_a)
    shown = []
    panel.stats_shown.connect(shown.append)
    conv_a, conv_b, classes = (row_of(info, name) for name in ("conv_a", "conv_b", "classes"))
    click_row(qtbot, panel, conv_a)
    assert panel.status_label.text() == COMPUTING and panel.status_label.isVisible()
    assert panel.histogram.counts().size == 0
    click_row(qtbot, panel, conv_b)       # waits behind conv_a, then is replaced:
    click_row(qtbot, panel, classes)      # only the newest pick is computed next
    assert panel.status_label.text() == COMPUTING and panel.busy
    with qtbot.waitSignal(panel.stats_shown, timeout=WAIT_MS,
                          check_params_cb=lambda i: i == classes):
        release.set()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    qtbot.wait(50)   # any queued late signal has been delivered by now
    assert shown == [classes] and computed == ["conv_a", "classes"]
    assert most_at_once[0] == 1           # one statistics task at a time
    kernel = branching_model.get_layer("classes").get_weights()[0]
    assert shown_stats(panel)["kernel"]["shape"] == "×".join(str(d) for d in kernel.shape)
    assert "classes / kernel" in panel.histogram.title()
    assert not panel.filter_grid.isVisible()       # a Dense layer has no filters
    # The dropped result was still right for conv_a: going back shows it at once.
    click_row(qtbot, panel, conv_a)
    assert shown[-1] == conv_a and not panel.busy
    np.testing.assert_array_equal(panel.filter_grid.kernel,
                                  branching_model.get_layer("conv_a").get_weights()[0])


def test_picking_the_computing_layer_again_reuses_its_result(
        qtbot, panel, branching_model, monkeypatch):
    info = open_model(qtbot, panel, branching_model)
    release = threading.Event()
    real = inspection.weight_stats
    computed = []

    def slow_for_conv_a(layer, bins=40):
        if layer.name == "conv_a":
            assert release.wait(10), "the test never released conv_a"
        computed.append(layer.name)
        return real(layer, bins)

    monkeypatch.setattr(inspection, "weight_stats", slow_for_conv_a)
    shown = []
    panel.stats_shown.connect(shown.append)
    conv_a, conv_b = row_of(info, "conv_a"), row_of(info, "conv_b")
    click_row(qtbot, panel, conv_a)
    click_row(qtbot, panel, conv_b)
    click_row(qtbot, panel, conv_a)       # back to the layer still being computed
    assert panel.status_label.text() == COMPUTING and panel.busy
    with qtbot.waitSignal(panel.stats_shown, timeout=WAIT_MS,
                          check_params_cb=lambda i: i == conv_a):
        release.set()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert shown == [conv_a] and computed == ["conv_a"]    # computed once, never conv_b
    np.testing.assert_array_equal(panel.filter_grid.kernel,
                                  branching_model.get_layer("conv_a").get_weights()[0])


def test_statistics_that_cannot_be_computed_say_why(qtbot, panel, sequential_cnn, monkeypatch):
    info = open_model(qtbot, panel, sequential_cnn)

    def broken(layer, bins=40):
        raise ValueError("weights unreadable")

    monkeypatch.setattr(inspection, "weight_stats", broken)
    click_row(qtbot, panel, row_of(info, "classes"))
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert "Could not compute the statistics" in panel.status_label.text()
    assert "weights unreadable" in panel.status_label.text()
    assert panel.status_label.isVisible() and panel.weight_stats_shown() == []
    assert panel.histogram.counts().size == 0


# ---------------------------------------------------------------------- signals


def test_edit_copy_button_emits_when_enabled_and_says_why_when_not(
        qtbot, panel, branching_model):
    open_model(qtbot, panel, branching_model)
    reason = "The builder does not support these layers: Add (add), Concatenate (concat)."
    panel.set_edit_copy(False, reason)
    assert not panel.edit_button.isEnabled()
    assert panel.edit_button.toolTip() == reason
    assert panel.edit_note.isVisible() and reason in panel.edit_note.text()
    emitted = []
    panel.edit_copy_requested.connect(lambda: emitted.append(True))
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    assert emitted == []
    panel.set_edit_copy(True, "")
    assert panel.edit_button.isEnabled() and not panel.edit_note.isVisible()
    with qtbot.waitSignal(panel.edit_copy_requested, timeout=1000):
        qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)


def test_double_clicking_a_row_activates_that_layer_by_name(qtbot, panel, sequential_cnn):
    info = open_model(qtbot, panel, sequential_cnn)
    with qtbot.waitSignal(panel.layer_activated, timeout=2000) as activated:
        click_row(qtbot, panel, row_of(info, "conv_2"), double=True)
    assert activated.args == ["conv_2"]


def test_clear_forgets_the_model(qtbot, panel, sequential_cnn):
    open_model(qtbot, panel, sequential_cnn)
    panel.clear()
    assert panel.layer_table.rowCount() == 0 and panel.graph.box_rects() == []
    assert panel.model_info() is None and not panel.edit_button.isEnabled()
    assert panel.title_label.text() == "No model open"


# ---------------------------------------------------------------------- histogram widget


def test_histogram_bars_follow_the_counts_and_zero_is_marked(qtbot):
    histogram = WeightHistogram()
    qtbot.addWidget(histogram)
    histogram.resize(320, 180)
    histogram.show()
    counts = np.array([1, 4, 2, 0, 8])
    histogram.set_histogram(counts, np.linspace(-1.0, 1.5, 6), "w")
    bars = histogram.bar_rects()
    assert len(bars) == 5
    heights = np.array([bar.height() for bar in bars])
    np.testing.assert_allclose(heights / heights.max(), counts / counts.max(), atol=0.01)
    plot = histogram.plot_rect()
    assert all(plot.left() - 1 <= bar.left() and bar.right() <= plot.right() + 1 for bar in bars)
    x_zero = histogram.x_to_pixel(0.0)
    assert x_zero == pytest.approx(plot.left() + plot.width() * 0.4)
    image = histogram.grab().toImage()
    ratio = image.devicePixelRatio()
    # The dashed zero line: some pixels on it are the zero colour, above the bars.
    line = [image.pixelColor(QPoint(round(x_zero * ratio), int(y * ratio)))
            for y in range(int(plot.top()) + 1, int(plot.top()) + 12)]
    assert any(_close(colour, ZERO_LINE) for colour in line)
    with pytest.raises(ValueError):
        histogram.set_histogram(counts, np.linspace(0, 1, 5))


def test_axis_ticks_are_round_numbers_inside_the_range():
    ticks = nice_ticks(-0.31, 0.29)
    assert ticks[0] >= -0.31 and ticks[-1] <= 0.29 and 0.0 in ticks
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0]) and steps[0] == pytest.approx(0.1)


def _close(colour: QColor, target: QColor, tolerance: int = 40) -> bool:
    return (abs(colour.red() - target.red()) + abs(colour.green() - target.green())
            + abs(colour.blue() - target.blue())) <= tolerance
