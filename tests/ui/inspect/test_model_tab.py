"""Opening saved models in the app: Inspect view, trust, bad files, explain, fine-tune, edit a copy."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from cnnviz.core.model.builder import build_model, save_model_file
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.ui.common import dialogs
from tests.ui.app_window import shown_main_window, tiny_spec

TRAIN_LIMIT = 256


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT, size=(1280, 800))


@pytest.fixture
def saved_tiny(tmp_path):
    model = build_model(tiny_spec())
    path = tmp_path / "tiny.keras"
    save_model_file(model, path)
    return path, model


def open_model(win, qtbot, path):
    win.open_path(str(path))
    qtbot.waitUntil(lambda: not win.models.busy, timeout=60_000)
    return win.models


def test_opening_a_saved_model_shows_its_structure_and_remembers_it(window, qtbot, saved_tiny):
    path, model = saved_tiny
    tab = open_model(window, qtbot, path)
    assert window.current_view() is tab
    assert tab.opened is not None and tab.info.total_params == model.count_params()
    names = [layer.name for layer in tab.info.layers if layer.layer_type != "InputLayer"]
    assert names == [layer.name for layer in model.layers]
    assert str(path.resolve()) in window.recent_files()
    np.testing.assert_allclose(tab.opened.model.layers[0].get_weights()[0],
                               model.layers[0].get_weights()[0])
    # The evaluation gets data that fits the model: the MNIST sample (28×28×1).
    qtbot.waitUntil(lambda: tab.evaluation.dataset is not None, timeout=60_000)
    assert tuple(tab.evaluation.dataset.input_shape) == (28, 28, 1)


def test_a_model_with_code_is_refused_until_the_user_trusts_it(window, qtbot, tmp_path,
                                                                monkeypatch):
    import keras

    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Lambda(lambda x: x * 2.0), keras.layers.Dense(2)])
    path = tmp_path / "with_code.keras"
    model.save(path)
    questions: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "ask_to_confirm", lambda _p, title, text, button:
                        questions.append((text, button)) or False)
    tab = open_model(window, qtbot, path)
    assert questions and "Lambda" in questions[0][0] and tab.opened is None
    # The app names its own button, never the command line's --trust.
    text, button = questions[0]
    assert button == "I trust this file" and f"“{button}”" in text and "--trust" not in text
    monkeypatch.setattr(dialogs, "ask_to_confirm", lambda *_a: True)
    tab = open_model(window, qtbot, path)
    qtbot.waitUntil(lambda: not tab.busy and tab.opened is not None, timeout=60_000)
    assert tab.opened.trusted


def test_a_damaged_file_is_a_dialog_and_the_open_model_stays(window, qtbot, saved_tiny, tmp_path):
    path, _model = saved_tiny
    tab = open_model(window, qtbot, path)
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(path.read_bytes()[:200])
    open_model(window, qtbot, damaged)
    assert window.failures and "damaged.keras" in window.failures[-1]
    assert tab.opened is not None and tab.opened.path.name == "tiny.keras"


def test_explain_fine_tune_and_edit_a_copy_of_the_opened_model(window, qtbot, saved_tiny):
    path, _model = saved_tiny
    tab = open_model(window, qtbot, path)
    opened_model = tab.opened.model
    tab.explain_button.click()
    explain = window.explain
    assert window.tabs.currentIndex() == 2
    qtbot.waitUntil(lambda: explain.session.forward is not None and explain.views.steps is not None,
                    timeout=60_000)
    assert explain.session.model is opened_model and "tiny.keras" in explain.banner.text()
    window.tabs.setCurrentIndex(3)
    before = opened_model.layers[0].get_weights()[0].copy()
    tab.fine_tune_button.click()
    training = window.training
    assert window.current_view() is training and training.opened_model is opened_model
    qtbot.waitUntil(lambda: training.data is not None, timeout=60_000)
    assert training.start_button.text() == "Train more"
    training.settings.epochs.setValue(1)
    with qtbot.waitSignal(window.workspace.run.finished, timeout=120_000):
        training.start()
    assert training.model is opened_model
    assert not np.allclose(before, opened_model.layers[0].get_weights()[0])
    window.opened_actions.edit_copy()
    assert window.tabs.currentIndex() == 0
    assert [layer.type for layer in window.document.spec.layers] == \
        ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    # Editing the builder's model hands training back to it.
    assert training.opened_model is None


def test_dropping_a_model_file_on_the_window_opens_it(window, qtbot, saved_tiny):
    path, _model = saved_tiny
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, data,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.models.opened is not None, timeout=60_000)
    assert window.models.opened.path.name == "tiny.keras"


def test_a_colour_model_is_offered_the_cifar_sample_and_evaluates(window, qtbot, tmp_path):
    spec = ModelSpec(name="colour", input_shape=[32, 32, 3], layers=[
        LayerSpec("Conv2D", params={"filters": 4, "kernel_size": [3, 3], "activation": "relu"}),
        LayerSpec("GlobalAveragePooling2D"),
        LayerSpec("Dense", params={"units": 10, "activation": "softmax"}),
    ])
    path = tmp_path / "colour.keras"
    save_model_file(build_model(spec), path)
    tab = open_model(window, qtbot, path)
    qtbot.waitUntil(lambda: tab.evaluation.dataset is not None, timeout=90_000)
    assert tuple(tab.evaluation.dataset.input_shape) == (32, 32, 3)
    with qtbot.waitSignal(tab.evaluation.evaluated, timeout=120_000) as signal:
        tab.evaluation.evaluate()
    evaluation = signal.args[0]
    assert evaluation.count == window.training.data.dataset.test.count
    assert int(evaluation.confusion.sum()) == evaluation.count


def test_a_mistake_clicked_in_the_evaluation_is_explained(window, qtbot, saved_tiny):
    from cnnviz.core.data.input_images import dataset_input

    path, _model = saved_tiny
    tab = open_model(window, qtbot, path)
    qtbot.waitUntil(lambda: tab.evaluation.dataset is not None, timeout=60_000)
    dataset = tab.evaluation.dataset
    tab.evaluation.example_clicked.emit("test", 7)
    explain = window.explain
    assert window.tabs.currentIndex() == 2
    expected, label = dataset_input(dataset, "test", 7)
    qtbot.waitUntil(lambda: explain.session.forward is not None
                    and np.array_equal(explain.session.forward.image, expected), timeout=60_000)
    assert explain.session.label == label and explain.session.model is tab.opened.model


def test_an_architecture_json_opens_with_the_weights_beside_it(window, qtbot, tmp_path):
    model = build_model(tiny_spec())
    (tmp_path / "arch.json").write_text(model.to_json(), encoding="utf-8")
    model.save_weights(tmp_path / "arch.weights.h5")
    tab = open_model(window, qtbot, tmp_path / "arch.json")
    assert tab.opened is not None and tab.opened.kind == "json"
    np.testing.assert_allclose(tab.opened.model.layers[0].get_weights()[0],
                               model.layers[0].get_weights()[0])
    assert window.document.spec.name != "arch"   # the builder's spec was not replaced


def test_explain_it_runs_at_once_when_the_data_is_already_loaded(window, qtbot, saved_tiny):
    """The Explain view made while hidden computes its first pass when it is shown."""
    path, _model = saved_tiny
    with qtbot.waitSignal(window.training.chooser.loaded, timeout=60_000):
        window.actions["view_train"].trigger()
    tab = open_model(window, qtbot, path)
    tab.explain_button.click()
    explain = window.explain
    qtbot.waitUntil(lambda: explain.session.forward is not None and explain.views.steps is not None,
                    timeout=60_000)
    assert explain.session.model is tab.opened.model
    assert len(explain.strip.chips()) == 1 + len(tab.opened.model.layers)


def test_models_the_explainer_or_the_evaluation_cannot_handle_still_open_and_say_why(
        window, qtbot, tmp_path):
    import keras

    image, extra = keras.Input((8, 8, 1)), keras.Input((3,))
    features = keras.layers.Flatten()(image)
    joined = keras.layers.Concatenate()([features, extra])
    two_inputs = keras.Model([image, extra], keras.layers.Dense(2, activation="softmax")(joined))
    two_inputs.save(tmp_path / "two_inputs.keras")
    regression = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                   keras.layers.Dense(1)])
    regression.save(tmp_path / "regression.keras")

    tab = open_model(window, qtbot, tmp_path / "two_inputs.keras")
    assert tab.opened is not None and tab.inspect.model_info() is tab.info
    assert not tab.explain_button.isEnabled() and "input" in tab.explain_button.toolTip()
    tab = open_model(window, qtbot, tmp_path / "regression.keras")
    assert tab.explain_button.isEnabled()
    assert not tab.fine_tune_button.isEnabled()
    assert tab.evaluation.blocked_reason() and "classif" in tab.evaluation.blocked_reason()
    assert not tab.evaluation.evaluate_button.isEnabled()


# ---------------------------------------------------------------- the empty page


@pytest.fixture
def zoom_reset():
    from cnnviz.ui.common.zoom import zoom_of_app

    yield zoom_of_app()
    zoom_of_app().set_factor(1.0)


def fully_shown(label) -> bool:
    """A word-wrapped label is as tall as its text at its width: no line is cut off."""
    return label.height() >= label.heightForWidth(label.width())


def test_the_empty_inspect_page_says_what_it_is_for_in_type_that_follows_the_zoom(
        window, qtbot, monkeypatch, zoom_reset):
    from PySide6.QtWidgets import QApplication

    window.resize(1024, 768)
    window.tabs.setCurrentIndex(3)
    page = window.models.empty
    qtbot.waitUntil(page.isVisible)
    assert window.models.stack.currentWidget() is page
    assert "saved model" in page.title.text()
    for words in ("output shape", "weights", "filters", "accuracy", "confusion matrix"):
        assert words in page.what.text()
    assert "Ctrl+O" in page.how.text() and "cnnviz path/to/model.keras" in page.how.text()

    app_size = QApplication.font().pointSizeF()
    assert page.title.font().pointSizeF() == pytest.approx(1.8 * app_size)
    assert page.title.font().bold()
    assert page.what.font().pointSizeF() > app_size
    button = page.open_button
    assert button.isVisible() and button.isEnabled() and button.isDefault()
    assert button.font().bold() and button.height() >= 2 * button.fontMetrics().height()

    zoom_reset.set_factor(1.5)
    QApplication.processEvents()
    assert page.title.font().pointSizeF() == pytest.approx(1.8 * 1.5 * app_size)
    assert page.what.font().pointSizeF() == pytest.approx(1.2 * 1.5 * app_size)
    for size in ((1024, 768), (1280, 720)):
        window.resize(*size)
        QApplication.processEvents()
        for label in (page.title, page.what, page.how):
            assert fully_shown(label), (size, label.text()[:30])
        assert page.card.width() <= page.scroll.viewport().width()

    asked: list[str] = []
    monkeypatch.setattr(dialogs, "get_open_path", lambda *args: asked.append(args[1]) or "")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert asked == ["Open a Keras model"]


def test_the_empty_page_opens_the_bundled_sample_model(window, qtbot):
    page = window.models.empty
    assert page.sample.is_file() and page.sample.name == "lenet5.keras"
    window.tabs.setCurrentIndex(3)
    qtbot.waitUntil(page.sample_button.isVisible)
    qtbot.mouseClick(page.sample_button, Qt.MouseButton.LeftButton)
    assert "Opening lenet5.keras" in page.title.text() and not page.open_button.isEnabled()
    qtbot.waitUntil(lambda: window.models.opened is not None, timeout=60_000)
    assert window.models.stack.currentIndex() == 1
    assert window.models.info.total_params > 0
