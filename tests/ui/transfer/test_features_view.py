"""The Feature extraction view on the bundled MNIST sample model and sample: real Keras, real
files, the core's functions as the reference."""

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from cnnviz.core.model.presets import preset_spec
from cnnviz.workspace import Workspace

pytest.importorskip("keras")

from cnnviz.ui.transfer import feature_jobs as jobs
from cnnviz.ui.transfer.features_view import SAMPLE_MODELS_DIR, FeaturesView

MODEL = SAMPLE_MODELS_DIR / "mnist_cnn_small.keras"
LIMIT = 150
WAIT = 120_000


def make_view(qtbot, workspace=None):
    workspace = workspace or Workspace(preset_spec("mnist_cnn"))
    view = FeaturesView(workspace)
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    if view.base is None:
        with qtbot.waitSignal(view.base_ready, timeout=WAIT):
            pass
    view.set_source("mnist-sample")
    view.limit_spin.setValue(LIMIT)
    return view


def compute(qtbot, view):
    with qtbot.waitSignal(view.maps_shown, timeout=WAIT):
        view.compute()


@pytest.fixture(scope="module")
def reference():
    """The core's own features of the same model, data and limit."""
    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.inspect.model_files import open_model
    from cnnviz.core.transfer.features import extract_features

    model = open_model(MODEL).model
    dataset = load_dataset("mnist-sample", load_options_for(tuple(model.inputs[0].shape[1:])))
    return {f.layer: f for f in extract_features(model, ["conv2d", "conv2d_1", "dense"],
                                                 dataset, None, limit=LIMIT)}


@pytest.fixture
def shown(qtbot):
    """A view with the default layers computed (from the feature cache after the first)."""
    view = make_view(qtbot)
    compute(qtbot, view)
    yield view
    view.shutdown()


def test_a_map_per_default_layer_with_every_image_and_its_separation(shown, reference):
    from cnnviz.core.transfer.feature_maps import class_separation

    view = shown
    assert [panel.layer for panel in view.panels] == ["conv2d", "conv2d_1", "dense"]
    for panel in view.panels:
        features = panel.layer_map.features
        assert panel.point_count == LIMIT
        np.testing.assert_allclose(features.values, reference[panel.layer].values, rtol=1e-5,
                                   atol=1e-5)
        expected = class_separation(reference[panel.layer].values,
                                    reference[panel.layer].labels)
        assert panel.layer_map.separation == pytest.approx(expected)
        assert f"{expected:.0%}" in panel.title_text()
    # A trained network: the classes separate better at its last layer than at its first.
    assert view.panels[-1].layer_map.separation > view.panels[0].layer_map.separation + 0.2
    assert "■" in view.legend.text() and "7" in view.legend.text()


def _isolated_row(panel):
    pixels = panel.pixel_positions()
    gaps = np.hypot(*(pixels[:, None, :] - pixels[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    return int(np.argmax(gaps.min(axis=1)))


def test_clicking_a_point_shows_the_cores_nearest_neighbours(shown, qtbot):
    from cnnviz.core.transfer.feature_maps import nearest_neighbours

    panel = shown.panels[1]
    row = _isolated_row(panel)
    example = int(panel.indices[row])
    qtbot.mouseClick(panel, Qt.MouseButton.LeftButton, pos=panel.point_position(row))
    strip = shown.neighbour_strip
    assert strip.example == example and strip.layer == "conv2d_1"
    indices, distances = nearest_neighbours(panel.layer_map.features, example, 8)
    assert strip.neighbours == [int(i) for i in indices]
    np.testing.assert_allclose(strip.distances, distances, rtol=1e-6)
    assert panel.selected == example and panel.neighbours == {int(i) for i in indices}
    assert all(other.selected == example for other in shown.panels)
    assert f"#{example}" in strip.header.text() and strip.explain_button.isEnabled()
    # The strip scrolls rather than squeezing the tiles over one another.
    tiles = [strip._tiles.itemAt(i).widget() for i in range(strip._tiles.count() - 1)]
    assert len(tiles) == 9
    assert strip._tiles_holder.width() >= sum(tile.minimumWidth() for tile in tiles)


def test_hovering_a_point_shows_its_image(shown, qtbot):
    panel = shown.panels[0]
    row = _isolated_row(panel)
    qtbot.mouseMove(panel, panel.point_position(row))
    assert panel.hovered_row == row
    assert panel._card.isVisible() and not panel._card.image.pixmap().isNull()
    assert panel._card.caption.text().startswith(f"#{int(panel.indices[row])}:")


def test_exports_read_back(shown, tmp_path):
    from cnnviz.core.transfer.features import load_features_npz

    written = shown.export_features(tmp_path / "features.npz")
    assert [p.name for p in written] == ["features-conv2d.npz", "features-conv2d_1.npz",
                                         "features-dense.npz"]
    for path, panel in zip(written, shown.panels):
        loaded = load_features_npz(path)
        np.testing.assert_array_equal(loaded.values, panel.layer_map.features.values)
        np.testing.assert_array_equal(loaded.indices, panel.indices)
        assert loaded.layer == panel.layer and loaded.class_names[7] == "7"
    csv_paths = shown.export_coordinates(tmp_path / "coordinates.csv")
    with open(csv_paths[2], newline="") as handle:
        rows = list(csv.DictReader(handle))
    panel = shown.panels[2]
    assert len(rows) == LIMIT
    assert [int(r["index"]) for r in rows] == [int(i) for i in panel.indices]
    np.testing.assert_allclose([[float(r["x"]), float(r["y"])] for r in rows],
                               panel.coordinates, rtol=1e-5, atol=1e-5)
    png = shown.save_map_png(tmp_path / "map.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 600


def test_tsne_on_request_replaces_the_coordinates(qtbot):
    from cnnviz.core.transfer.feature_maps import tsne_map

    view = make_view(qtbot)
    view.set_checked_layers(["dense"])
    compute(qtbot, view)
    assert len(view.panels) == 1 and view.panels[0].layer_map.map.method == "pca"
    with qtbot.waitSignal(view.maps_shown, timeout=WAIT):
        qtbot.mouseClick(view.tsne_button, Qt.MouseButton.LeftButton)
    panel = view.panels[0]
    assert view.method == "tsne" and view.tsne_button.isChecked()
    expected = tsne_map(panel.layer_map.features.values)
    np.testing.assert_allclose(panel.coordinates, expected.coordinates, rtol=1e-4, atol=1e-3)
    qtbot.mouseClick(view.pca_button, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(panel.coordinates, view.pca_maps[0].coordinates)
    view.shutdown()


def test_a_file_that_is_no_model_gives_a_message(qtbot, tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip file")
    view = make_view(qtbot)
    with qtbot.waitSignal(view.failed, timeout=WAIT) as failure:
        view.set_base(jobs.FILE, str(broken))
    message = failure.args[0]
    assert "broken.keras" in message and "Traceback" not in message
    assert view.message_label.isVisible() and view.base is None
    assert view.layer_list.count() == 0
    view.compute()
    assert "base" in view.message_label.text()
    view.shutdown()


def test_data_the_model_cannot_take_gives_a_message(qtbot):
    view = make_view(qtbot)
    view.set_source("gunpoint-sample")      # signals, for a network of 28×28 digits
    with qtbot.waitSignal(view.failed, timeout=WAIT) as failure:
        view.compute()
    assert "does not fit" in failure.args[0]
    assert view.panels == [] and not view.save_features_button.isEnabled()
    view.shutdown()


def test_explain_goes_to_the_opened_model_or_out_as_a_signal(qtbot):
    from cnnviz.core.inspect.model_files import open_model

    workspace = Workspace(preset_spec("mnist_cnn"))
    view = make_view(qtbot, workspace)
    view.set_checked_layers(["conv2d_1"])
    compute(qtbot, view)
    panel = view.panels[0]
    view.select_example(int(panel.indices[3]), "conv2d_1")
    with qtbot.waitSignal(view.explain_requested) as sent:
        view.neighbour_strip.explain_button.click()
    base, layer, example = sent.args
    assert base.name == MODEL.name and layer == "conv2d_1"
    assert example.split == view.result.split and example.index == int(panel.indices[3])

    with qtbot.waitSignal(view.base_ready, timeout=WAIT):
        workspace.opened.set_opened(open_model(MODEL), None)   # the view follows Inspect
        view.set_base(jobs.OPENED)
    compute(qtbot, view)
    view.select_example(int(view.panels[0].indices[4]), "conv2d_1")
    with qtbot.waitSignal(workspace.opened.explain_requested) as asked:
        view.neighbour_strip.explain_button.click()
    layer, example = asked.args
    assert layer == "conv2d_1" and example.index == int(view.panels[0].indices[4])
    assert example.dataset is view.result.dataset
    view.shutdown()


def test_cancel_drops_the_computation(qtbot):
    view = make_view(qtbot)
    view.compute()
    view.cancel()
    qtbot.waitUntil(lambda: view._compute_request.threads_alive == 0, timeout=WAIT)
    qtbot.wait(50)
    assert view.panels == [] and view.status_label.text() == "Cancelled."
    view.shutdown()


def test_default_layers_are_spread_through_the_network(qtbot):
    view = make_view(qtbot)
    assert view.checked_layers() == ["conv2d", "conv2d_1", "dense"]
    assert view.base.identity is not None      # a model file: its features are cached
    view.shutdown()


def test_a_keras_application_offline_says_where_its_weights_go(qtbot, monkeypatch, tmp_path):
    from cnnviz.core.transfer.bases import weights_file_for

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    view = make_view(qtbot)
    with qtbot.waitSignal(view.base_ready, timeout=WAIT):
        view.set_base(jobs.APPLICATION, "mobilenet_v3_small")
    status = view.weights_label.toolTip()
    assert weights_file_for("mobilenet_v3_small")[0] in status
    assert str(tmp_path / "keras" / "models") in status and "not on this computer" in status
    assert view.random_check.isChecked() and not view.download_button.isHidden()
    assert view.base.identity is None            # random weights: never cached
    assert len(view.checked_layers()) == 3
    view.limit_spin.setValue(20)
    compute(qtbot, view)                         # digits resized to 224×224 colour
    assert [panel.point_count for panel in view.panels] == [20, 20, 20]
    view.shutdown()


def test_the_train_views_data_is_offered_and_used(qtbot):
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.ui.train.dataset_chooser import LoadedData

    workspace = Workspace(preset_spec("mnist_cnn"))
    view = make_view(qtbot, workspace)
    dataset = load_dataset("mnist-sample")
    workspace.data.set_loaded(LoadedData(dataset, "mnist-sample", np.zeros((0, 28, 28, 1)), []))
    assert view.source_combo.currentData() == "workspace data"
    view.set_checked_layers(["dense"])
    compute(qtbot, view)
    assert view.result.dataset is dataset and view.panels[0].point_count == LIMIT
    view.shutdown()


def test_progress_is_passed_on_sparingly_but_always_at_the_end():
    seen = []
    on_progress = jobs.throttled(lambda stage, done, total: seen.append(done), "features",
                                 interval=3600)
    for done in range(1, 11):
        on_progress(done, 10)
    assert seen == [1, 10]


def test_download_shows_its_progress_and_a_damaged_file_is_named(qtbot, monkeypatch, tmp_path):
    """Download with the network replaced by a local copy of a broken file (tests stay
    offline): progress in bytes reaches the bar, and the message names the file."""
    from cnnviz.core.transfer.bases import weights_file_for

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    view = make_view(qtbot)
    with qtbot.waitSignal(view.base_ready, timeout=WAIT):
        view.set_base(jobs.APPLICATION, "mobilenet_v3_small")
    stages = []

    def fetch(url, target, report):
        target.write_bytes(b"not weights" * 100)
        report(500, 1100)
        report(1100, 1100)

    view.weights_fetch = fetch
    view.progress.valueChanged.connect(lambda value: stages.append(view.progress.format()))
    with qtbot.waitSignal(view.failed, timeout=WAIT) as failure:
        qtbot.mouseClick(view.download_button, Qt.MouseButton.LeftButton)
    assert any(stage.startswith("Downloading") and "bytes" in stage for stage in stages)
    file_name = weights_file_for("mobilenet_v3_small")[0]
    assert file_name in failure.args[0] and "hash" in failure.args[0]
    assert not (tmp_path / "keras" / "models" / file_name).exists()
    view.shutdown()
