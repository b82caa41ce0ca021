"""The Transfer page driven through its real widgets: real bases (a sample model file and
MobileNetV2 with random weights), real transfer models, and a real Train view training them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.ui.train.dataset_chooser import load_with_preview
from cnnviz.ui.transfer.transfer_bases import APPLICATION_PARAMETERS, weights_status
from cnnviz.ui.transfer.transfer_view import TransferView
from cnnviz.workspace import Workspace
from tests.core.transfer.test_bases import offline
from tests.ui.app_window import tiny_spec

SAMPLE_MODEL = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"
LIMIT = 256


@pytest.fixture(scope="module")
def mnist():
    return load_with_preview("mnist-sample", LoadOptions(limit=LIMIT), lambda *a: None)


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, model, name):
        self.calls.append((model, name))
        return True


def make_view(qtbot, workspace, hand=None, **kwargs):
    view = TransferView(workspace, hand or Recorder(), **kwargs)
    qtbot.addWidget(view, before_close_func=lambda v: v.shutdown())
    view.resize(1280, 720)
    view.show()
    return view


def keras_counts(model) -> tuple[int, int]:
    """(trainable, non-trainable) as Keras's own model.summary() prints them."""
    lines = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    text = "\n".join(lines)

    def number(label):
        return int(re.search(label + r" params: ([\d,]+)", text).group(1).replace(",", ""))

    return number("Trainable"), number("Non-trainable")


def open_base(qtbot, view, entry, weights="imagenet", size=None):
    view.bases.select(entry)
    if size is not None:
        view.bases.size.setValue(size)
    with qtbot.waitSignal(view.bases.opened, timeout=120_000):
        view.bases.open_selected(weights)


def wait_built(qtbot, view):
    qtbot.waitUntil(lambda: view.transfer is not None or not view.problem.isHidden(),
                    timeout=120_000)


def shown_counts(view) -> tuple[int, int]:
    frozen, trainable = re.match(r"([\d,]+) frozen / ([\d,]+) trainable",
                                 view.summary.counts.text()).groups()
    return int(trainable.replace(",", "")), int(frozen.replace(",", ""))


def frozen_marks(view) -> list[bool]:
    tree = view.summary.layers
    return [tree.topLevelItem(i).data(0, 0x0100) for i in range(tree.topLevelItemCount())]


def test_sample_model_base_counts_equal_keras_and_fine_tune_changes_them(qtbot, mnist):
    workspace = Workspace(tiny_spec())
    workspace.data.set_loaded(mnist)
    hand = Recorder()
    view = make_view(qtbot, workspace, hand)
    assert not view.train_button.isEnabled()          # no base yet
    open_base(qtbot, view, str(SAMPLE_MODEL))
    # The default cut is the core's: the last pooling/Flatten layer, never the output.
    from cnnviz.core.transfer.transfer_model import default_cut_layer
    assert view.cut.currentText() == default_cut_layer(view.base)
    wait_built(qtbot, view)
    assert view.transfer is not None and view.problem.isHidden()
    assert shown_counts(view) == keras_counts(view.transfer.model)
    marks = frozen_marks(view)
    assert any(marks) and not all(marks)              # frozen base rows, trainable head rows
    assert "❄ frozen" in [view.summary.layers.topLevelItem(i).text(0)
                          for i in range(len(marks))]

    view.train_button.click()
    assert hand.calls and hand.calls[-1][0] is view.transfer.model
    assert not view.fine_tune_button.isEnabled()      # only after training

    # The Train view's run ends (a real fit of one epoch stands in for it here).
    from cnnviz.core.training.engine import TrainConfig, train
    model = view.transfer.model
    train(model, mnist.dataset, TrainConfig(epochs=1, batch_size=64, learning_rate=0.002))
    workspace.run.end(model)
    assert view.fine_tune_button.isEnabled()
    before = shown_counts(view)
    base_layers = view.fine_tune_layers.maximum()
    assert base_layers == len(view.transfer.base_part.layers) - 1
    view.fine_tune_layers.setValue(base_layers)   # the whole base: its convolutions learn
    view.fine_tune_button.click()
    assert view.problem.isHidden()
    after = shown_counts(view)
    assert after == keras_counts(model)
    assert after[0] > before[0] and after[1] < before[1]
    assert sum(frozen_marks(view)) < sum(marks)
    assert len(hand.calls) == 2 and hand.calls[-1][0] is model      # the same model again
    assert view.fine_tune_rate == pytest.approx(0.0002)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.0002)


def test_a_bad_cut_is_refused_in_words(qtbot, mnist):
    workspace = Workspace(tiny_spec())
    workspace.data.set_loaded(mnist)
    view = make_view(qtbot, workspace)
    open_base(qtbot, view, str(SAMPLE_MODEL))
    wait_built(qtbot, view)
    view.cut.setCurrentIndex(view.cut.count() - 1)    # the output layer
    wait_built(qtbot, view)
    qtbot.waitUntil(lambda: not view.problem.isHidden(), timeout=60_000)
    assert "output layer" in view.problem.text()
    assert not view.train_button.isEnabled()


def test_offline_weights_name_the_file_and_random_weights_still_open(qtbot, keras_home, mnist):
    workspace = Workspace(tiny_spec())
    workspace.data.set_loaded(mnist)
    view = make_view(qtbot, workspace, fetch=offline)
    view.bases.select("mobilenet_v2")
    view.bases.size.setValue(96)
    file_name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    details = view.bases.details.text().replace("\u200b", "")
    assert weights_status("mobilenet_v2", 96) == (False, details.split("<br>")[1])
    assert file_name in details
    assert str(keras_home / "models") in details
    assert view.bases.open_button.text() == "Download weights"
    view.bases.open_button.click()
    qtbot.waitUntil(lambda: not view.bases.busy, timeout=60_000)
    assert view.bases.problem.isVisible()
    problem = view.bases.problem.text().replace("\u200b", "")
    assert file_name in problem and str(keras_home / "models") in problem
    assert "random weights" in problem
    assert view.base is None
    # A cached file turns the button into "Open".
    (keras_home / "models").mkdir(parents=True, exist_ok=True)
    (keras_home / "models" / file_name).write_bytes(b"")
    view.bases.size.setValue(97)
    view.bases.size.setValue(96)
    assert view.bases.open_button.text() == "Open"


def test_mobilenet_random_weights_on_mnist_trains_in_a_real_train_view(qtbot, keras_home,
                                                                        mnist):
    import keras

    from cnnviz.ui.train.training_panel import TrainingPanel

    workspace = Workspace(tiny_spec())
    panel = TrainingPanel(workspace)
    qtbot.addWidget(panel, before_close_func=lambda p: p.shutdown())
    workspace.data.set_loaded(mnist)
    view = make_view(qtbot, workspace, panel.use_opened_model, fetch=offline,
                     set_learning_rate=panel.settings.learning_rate.setValue)
    open_base(qtbot, view, "mobilenet_v2", weights="random", size=32)
    assert keras.applications.MobileNetV2(include_top=False, weights=None,
                                          input_shape=(32, 32, 3)).count_params() == \
        APPLICATION_PARAMETERS["mobilenet_v2"] == view.base.model.count_params()
    # 28×28 digits for a 32×32 network: said, and resizing offered.
    assert view.size_problem.isVisible() and "28×28" in view.size_problem.text()
    assert not view.train_button.isEnabled()
    view.resize_box.setChecked(True)
    wait_built(qtbot, view)
    assert shown_counts(view) == keras_counts(view.transfer.model)
    assert view.train_button.isEnabled()
    view.train_button.click()
    assert panel.model is view.transfer.model
    panel.settings.epochs.setValue(1)
    panel.settings.batch_size.setValue(64)
    with qtbot.waitSignal(workspace.run.finished, timeout=240_000):
        panel.start_button.click()
    assert panel.history.epochs_done == 1
    assert view.fine_tune_button.isEnabled()
    before = shown_counts(view)
    view.fine_tune_layers.setValue(view.fine_tune_layers.maximum() + 5)   # spin box bounds it
    assert view.fine_tune_layers.value() == view.fine_tune_layers.maximum()
    view.fine_tune_layers.setValue(10)
    view.fine_tune_button.click()
    after = shown_counts(view)
    assert after == keras_counts(view.transfer.model)
    assert after[0] > before[0]
    assert panel.model is view.transfer.model
    assert panel.settings.learning_rate.value() == pytest.approx(view.fine_tune_rate)


def test_a_download_shows_its_progress_and_cancel_leaves_nothing_behind(qtbot, keras_home):
    import threading

    released = threading.Event()
    reported = threading.Event()

    def slow_fetch(url, target, report):
        target.write_bytes(b"x" * 1000)
        report(1_000_000, 4_000_000)
        reported.set()
        released.wait(30)
        report(2_000_000, 4_000_000)       # raises once cancelled
        raise AssertionError("the download went on after Cancel")

    view = make_view(qtbot, Workspace(tiny_spec()), fetch=slow_fetch)
    view.bases.select("mobilenet_v2")
    view.bases.size.setValue(96)
    view.bases.open_button.click()
    qtbot.waitUntil(lambda: view.bases.progress.maximum() == 1000, timeout=30_000)
    assert view.bases.progress.isVisible() and view.bases.cancel_button.isVisible()
    assert view.bases.progress.value() == 250
    assert "Downloading mobilenet_v2_weights" in view.bases.state.text()
    assert not view.bases.open_button.isEnabled()
    view.bases.cancel_button.click()
    released.set()
    assert not view.bases.busy and not view.bases.cancel_button.isVisible()
    qtbot.waitUntil(lambda: view.bases._request.threads_alive == 0, timeout=30_000)
    assert view.bases.problem.isHidden() and view.base is None
    assert not list((keras_home / "models").glob("*"))     # no partial file looks cached
    assert view.bases.open_button.text() == "Download weights"


def test_the_model_opened_in_inspect_is_a_base(qtbot, mnist):
    from cnnviz.core.inspect.model_files import open_model

    workspace = Workspace(tiny_spec())
    workspace.data.set_loaded(mnist)
    view = make_view(qtbot, workspace)
    opened = open_model(SAMPLE_MODEL.with_name("lenet5.keras"))
    workspace.opened.set_opened(opened, None)
    texts = [view.bases.list.item(i).text() for i in range(view.bases.list.count())]
    assert "Opened in Inspect: lenet5.keras" in texts
    view.bases.list.setCurrentRow(texts.index("Opened in Inspect: lenet5.keras"))
    with qtbot.waitSignal(view.bases.opened, timeout=60_000):
        view.bases.open_button.click()
    assert view.base.path == opened.path
    wait_built(qtbot, view)
    assert shown_counts(view) == keras_counts(view.transfer.model)
