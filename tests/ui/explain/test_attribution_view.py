"""The "Where it looks" page of the Explain view, driven through its real widgets: the map on
show equals the core's for the input on show; method, layer and class pickers; the lesson
beside follows the page; a 1-D model and a model without conv layers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cnnviz.core.explain.attribution import Attribution, heat_colours, normalized
from cnnviz.core.model.presets import preset_spec
from cnnviz.ui.explain.explain_panel import ExplainPanel
from cnnviz.workspace import Workspace
from tests.ui.series_fixtures import STEPS, conv1d_model, signal_dataset

LENET = Path(__file__).resolve().parents[3] / "sample_models" / "lenet5.keras"


def explain_panel(qtbot, model, dataset, name: str) -> ExplainPanel:
    workspace = Workspace(preset_spec("mnist_cnn"))
    workspace.data.set_loaded(SimpleNamespace(dataset=dataset))
    panel = ExplainPanel(workspace)
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
    panel.use_opened_model(SimpleNamespace(model=model, path=Path(name)),
                           SimpleNamespace(explain_problem=None))
    panel.resize(1280, 760)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.session.forward is not None, timeout=60_000)
    return panel


def show_where(panel, qtbot):
    with qtbot.waitSignal(panel.where.map_ready, timeout=60_000):
        panel.pages.setCurrentWidget(panel.where)
    return panel.where


def pick(qtbot, box, data) -> None:
    where = box.parent()
    while not hasattr(where, "map_ready"):
        where = where.parent()
    with qtbot.waitSignal(where.map_ready, timeout=60_000):
        box.setCurrentIndex(box.findData(data))


@pytest.fixture
def lenet_panel(qtbot):
    import keras

    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset

    model = keras.saving.load_model(LENET, compile=False)
    dataset = load_dataset("mnist-sample", load_options_for((28, 28, 1)))
    return explain_panel(qtbot, model, dataset, "lenet5.keras"), model


def test_gradcam_saliency_and_a_chosen_class_equal_the_core_maps(lenet_panel, qtbot):
    panel, model = lenet_panel
    where = show_where(panel, qtbot)
    reference = Attribution(model)
    image = panel.session.image
    assert [where.layer_box.itemText(i) for i in range(where.layer_box.count())] == \
        ["conv2d_1", "conv2d"]
    expected = reference.gradcam(image)
    np.testing.assert_allclose(where.result.values, expected.values, rtol=1e-4, atol=1e-6)
    assert where.result.class_index == expected.predicted
    assert "Grad-CAM" in where.caption.text() and "model's answer" in where.caption.text()
    assert panel.lesson.lesson().title == "Where the network looks"
    assert "Grad-CAM" in panel.lesson.text()

    pick(qtbot, where.method_box, "saliency")
    assert where.layer_box.isHidden() and where.result.values.shape == (28, 28)
    assert "Saliency" in panel.lesson.text()
    pick(qtbot, where.class_box, 3)
    np.testing.assert_allclose(where.result.values, reference.saliency(image, 3).values,
                               rtol=1e-4, atol=1e-7)
    assert "28×28, one per input pixel" in where.raw_title.text()
    assert_cells_are_crisp(where.raw, where.result.values)
    pick(qtbot, where.method_box, "gradcam")
    pick(qtbot, where.layer_box, "conv2d")
    assert where.result.layer == "conv2d" and where.result.class_index == 3
    np.testing.assert_allclose(where.result.values, reference.gradcam(image, "conv2d", 3).values,
                               rtol=1e-4, atol=1e-6)
    # The overlay is drawn: the picture keeps the input's square shape.
    rect = where.overlay.picture_rect()
    assert rect.width() == pytest.approx(rect.height()) and rect.width() > 100

    panel.pages.setCurrentWidget(panel.views)
    assert panel.lesson.lesson().title != "Where the network looks"


def assert_cells_are_crisp(picture, values) -> None:
    """The map on screen is its own cells, not a smoothed picture: a 2-D map has the same
    whole number of pixels per cell; the pixels near each cell's edges (where smoothing
    would blend in the neighbours) have the cell's own heat colour."""
    colours = heat_colours(normalized(values))
    if colours.ndim == 2:
        colours = colours[None]
    rows, columns = colours.shape[:2]
    rect = picture.picture_rect()
    cell_width, cell_height = rect.width() / columns, rect.height() / rows
    if rows > 1:
        assert cell_width == cell_height == int(cell_width) >= 4
    assert cell_width >= 3
    shot = picture.grab().toImage()
    for row in range(rows):
        for column in range(columns):
            left = rect.left() + column * cell_width
            top = rect.top() + row * cell_height
            y = int(top + cell_height / 2) if rows == 1 else int(top) + 2
            xs = ([int(left + cell_width / 2)] if cell_width < 5 else
                  [int(left) + 2, int(left + cell_width) - 2])
            for x in xs:
                colour = shot.pixelColor(x, y)
                assert (colour.red(), colour.green(), colour.blue()) == \
                    tuple(int(c) for c in colours[row, column]), (row, column, x, y)


def test_a_transfer_model_offers_the_conv_layers_inside_its_base(qtbot):
    import keras

    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.transfer.bases import open_base
    from cnnviz.core.transfer.transfer_model import build_transfer_model

    keras.utils.set_random_seed(0)
    base = open_base(LENET.parent / "mnist_cnn_small.keras")
    model = build_transfer_model(base, (28, 28, 1), 10, head_units=16).model
    dataset = load_dataset("mnist-sample", load_options_for((28, 28, 1)))
    panel = explain_panel(qtbot, model, dataset, "transfer.keras")
    where = show_where(panel, qtbot)
    assert [where.layer_box.itemText(i) for i in range(where.layer_box.count())] == \
        ["frozen_base/conv2d_1", "frozen_base/conv2d"]
    reference = Attribution(model)
    image = panel.session.image
    assert where.result.layer == "frozen_base/conv2d_1" and where.result.values.shape == (11, 11)
    np.testing.assert_allclose(where.result.values, reference.gradcam(image).values,
                               rtol=1e-4, atol=1e-6)
    assert "frozen_base/conv2d_1" in where.caption.text()
    assert_cells_are_crisp(where.raw, where.result.values)
    pick(qtbot, where.layer_box, "frozen_base/conv2d")
    assert where.result.values.shape == (26, 26)
    np.testing.assert_allclose(where.result.values,
                               reference.gradcam(image, "frozen_base/conv2d").values,
                               rtol=1e-4, atol=1e-6)


def test_the_newest_class_wins_when_picks_come_quickly(lenet_panel, qtbot):
    panel, model = lenet_panel
    where = show_where(panel, qtbot)
    for index in (1, 2, 3, 4, 5):
        where.class_box.setCurrentIndex(where.class_box.findData(index))
    qtbot.waitUntil(lambda: not where.busy and where.result is not None
                    and where.result.class_index == 5, timeout=60_000)
    qtbot.wait(200)   # nothing older arrives afterwards
    assert where.result.class_index == 5


def test_a_1d_model_shows_its_map_over_the_steps(qtbot):
    model = conv1d_model()
    panel = explain_panel(qtbot, model, signal_dataset(), "waves.keras")
    where = show_where(panel, qtbot)
    expected = Attribution(model).gradcam(panel.session.image)
    assert where.result.values.ndim == 1
    np.testing.assert_allclose(where.result.values, expected.values, rtol=1e-4, atol=1e-6)
    assert_cells_are_crisp(where.raw, where.result.values)   # one block of colour per step
    pick(qtbot, where.method_box, "integrated-gradients")
    assert where.result.values.shape == (STEPS,) and "black input" in where.caption.text()


def test_a_model_without_conv_layers_offers_saliency(qtbot):
    import keras

    from tests.ui.series_fixtures import CHANNELS

    model = keras.Sequential([keras.Input((STEPS, CHANNELS)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    panel = explain_panel(qtbot, model, signal_dataset(), "dense.keras")
    where = panel.where
    panel.pages.setCurrentWidget(where)
    qtbot.waitUntil(lambda: where.result is not None, timeout=60_000)
    assert where.method() == "saliency"
    gradcam_item = where.method_box.model().item(0)
    assert not gradcam_item.isEnabled() and "no" in gradcam_item.toolTip()
    assert where.result.values.shape == (STEPS,)
