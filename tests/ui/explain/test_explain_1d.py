"""The Explain view on a 1-D model: the chosen series as a line plot, Draw and File disabled
with their reasons, feature maps as line plots, Conv1D filters as stems, the replay of Conv1D
filters across epochs, and plain words when signals and images are mixed up."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.model.presets import preset_spec
from cnnviz.ui.common.feature_map_grid import LINES
from cnnviz.ui.explain.explain_panel import ExplainPanel
from cnnviz.ui.explain.input_picker_common import DATASET, DRAW, FILE
from cnnviz.ui.explain.layer_strip import short_type
from cnnviz.workspace import Workspace
from tests.ui.series_fixtures import CHANNELS, STEPS, conv1d_model, signal_dataset


@pytest.fixture
def explained(qtbot):
    """The Explain view on a Conv1D model opened from a file, browsing a signal dataset."""
    workspace = Workspace(preset_spec("mnist_cnn"))
    dataset = signal_dataset()
    workspace.data.set_loaded(SimpleNamespace(dataset=dataset))
    panel = ExplainPanel(workspace)
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
    model = conv1d_model()
    panel.use_opened_model(SimpleNamespace(model=model, path=Path("waves.keras")),
                           SimpleNamespace(explain_problem=None))
    panel.resize(1280, 760)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.session.forward is not None and panel.views.steps is not None,
                    timeout=60_000)
    return panel, workspace, dataset, model


def wait_for_layer(panel, qtbot, name: str) -> None:
    qtbot.waitUntil(lambda: panel.views.steps is not None and panel.views.steps.name == name,
                    timeout=30_000)


def test_the_chosen_series_is_a_line_plot_and_goes_in_unscaled(explained):
    panel, _workspace, dataset, _model = explained
    picker = panel.picker
    assert picker.takes_signals()
    assert picker.series_view.isVisible() and not picker.dataset_view.isVisible()
    series = dataset.test.images([0])[0]
    np.testing.assert_array_equal(picker.series_view.series, series)
    np.testing.assert_array_equal(panel.session.image, series)       # not divided by 255
    assert "Series #0" in picker.true_label.text() and "slow" in picker.true_label.text()
    assert "Test series #0 of 30 (slow)" == panel.session.description
    assert not picker.tabs.isTabEnabled(DRAW) and not picker.tabs.isTabEnabled(FILE)
    assert "1-D network" in picker.draw_reason.text()
    assert "signals" in picker.tabs.tabToolTip(FILE)
    assert not picker.load_file("some.png")
    assert picker.tabs.currentIndex() == DATASET and "Dataset page" in \
        picker.dataset_message.text()
    picker.browse(2)
    np.testing.assert_array_equal(picker.series_view.series, dataset.test.images([2])[0])


def test_feature_maps_filters_and_the_input_of_a_1d_model(explained, qtbot):
    panel, _workspace, _dataset, model = explained
    chips = panel.strip.chips()
    assert [c.layer_type for c in chips] == ["Input", "Conv1D", "MaxPooling1D", "Conv1D",
                                              "GlobalAveragePooling1D", "Dense"]
    assert chips[0].shape == (STEPS, CHANNELS) and chips[1].shape == (STEPS, 4)
    assert short_type("MaxPooling1D") == "MaxPool1D"
    wait_for_layer(panel, qtbot, "conv1d")
    # Feature maps: Keras's own output of the layer, one line plot per channel.
    panel.pages.setCurrentWidget(panel.maps)
    expected = np.asarray(model.get_layer("conv1d")(panel.session.image[None]))[0]
    assert panel.maps.is_series() and panel.maps.series_mode() == LINES
    np.testing.assert_allclose(panel.maps.output, expected, rtol=1e-4, atol=1e-6)
    # Filters: the Conv1D kernel (k, C, F) as stems.
    assert panel.pages.isTabEnabled(2)
    panel.pages.setCurrentWidget(panel.filters)
    np.testing.assert_array_equal(panel.filters.kernel, model.get_layer("conv1d").kernel.numpy())
    assert panel.filters.is_1d() and "its 4 filters" in panel.filters.title_label.text()
    # A click on a channel's plot follows that filter in the step view.
    panel.pages.setCurrentWidget(panel.maps)
    panel._map_clicked(2)
    assert panel.pages.currentIndex() == 0
    # The input entry: the signal itself, as line plots.
    panel.strip.select(-1)
    qtbot.waitUntil(lambda: panel.views.steps is not None and panel.views.steps.kind == "input",
                    timeout=30_000)
    panel.pages.setCurrentWidget(panel.maps)
    assert panel.maps.is_series()
    np.testing.assert_array_equal(panel.maps.output, panel.session.image)
    # Pooling has no filters.
    panel.strip.select(1)                   # chips count model.layers (no InputLayer here)
    wait_for_layer(panel, qtbot, "max_pooling1d")
    assert not panel.pages.isTabEnabled(2)


def test_the_replay_shows_conv1d_filters_changing_across_epochs(explained, qtbot):
    panel, workspace, _dataset, model = explained
    run = workspace.run
    panel.strip.select(0)
    wait_for_layer(panel, qtbot, "conv1d")
    run.begin()
    run.model_ready(model)                  # the run trains this model
    start = panel.session.observe(model, -1, {})
    run.deliver(start)
    layer = model.get_layer("conv1d")
    before = layer.kernel.numpy().copy()
    layer.kernel.assign(before * -2.0)      # what an epoch of training might do
    run.deliver(panel.session.observe(model, 0, {"loss": 0.5, "accuracy": 0.7}))
    run.end(model)
    assert panel.history.epochs() == [0, 1]
    np.testing.assert_array_equal(panel.history.at(0).kernels["conv1d"], before)
    np.testing.assert_array_equal(panel.history.at(1).kernels["conv1d_1"],
                                  model.get_layer("conv1d_1").kernel.numpy())
    panel.pages.setCurrentWidget(panel.filters)
    panel.replay.select_epoch(0)
    np.testing.assert_array_equal(panel.filters.kernel, before)
    assert "random start" in panel.filters.title_label.text()
    panel.pages.setCurrentWidget(panel.maps)
    assert panel.maps.is_series()
    np.testing.assert_array_equal(panel.maps.output, panel.history.at(0).feature_maps["conv1d"])
    panel.replay.select_epoch(1)
    qtbot.waitUntil(lambda: panel.learning.replaying is None, timeout=5_000)
    panel.pages.setCurrentWidget(panel.filters)
    np.testing.assert_allclose(panel.filters.kernel, before * -2.0)


def test_images_for_a_1d_model_are_refused_in_words(explained, qtbot):
    panel, workspace, _dataset, _model = explained
    pixels = np.zeros((4, 28, 28, 1), np.uint8)
    split = ArraySplit(pixels, np.arange(4) % 2)
    digits = Dataset(name="digits", description="", class_names=["0", "1"],
                     input_shape=(28, 28, 1), train=split, validation=None, test=split)
    workspace.data.set_loaded(SimpleNamespace(dataset=digits))
    message = panel.picker.dataset_message.text()
    assert "1-D network" in message and "28×28×1 images" in message
    assert "GunPoint" in message
    assert panel.picker.dataset_view.isVisible() and not panel.picker.series_view.isVisible()
