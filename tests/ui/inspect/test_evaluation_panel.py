"""The Evaluate panel driven through its real widgets, with a real (tiny) Keras model.

The model is Flatten → Dense(3, softmax) with hand-set weights: each class's score is the sum
of one image row (cat: row 0, dog: row 1, bird: row 2). So every prediction, probability and
mistake below is known from the pixels alone, independently of the code under test.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from cnnviz.core.data.data_splits import ArraySplit, FileSplit
from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.errors import DatasetError
from cnnviz.core.inspect.evaluation import Evaluation
from cnnviz.ui.inspect.confusion_matrix import ConfusionMatrix
from cnnviz.ui.inspect.evaluation_panel import EvaluationPanel
from cnnviz.ui.inspect.misclassified_gallery import LOAD_CHUNK, PAGE_SIZE, MisclassifiedGallery

NAMES = ["cat", "dog", "bird"]
WAIT_MS = 60_000

# (true class, {row: uint8 brightness}) per test example; the brightest row wins.
TEST_EXAMPLES = [
    (0, {0: 255}), (0, {0: 255}), (0, {0: 200}), (0, {0: 255}),
    (0, {0: 128, 1: 255}),          # 4: cat taken for a dog
    (0, {0: 128, 2: 191}),          # 5: cat taken for a bird
    (1, {1: 255}), (1, {1: 230}), (1, {1: 255}),
    (1, {0: 255}),                  # 9: dog taken for a cat, the most confident mistake
    (2, {2: 255}), (2, {2: 255}),
    (2, {1: 153, 2: 102}),          # 12: bird taken for a dog
]
VALIDATION_EXAMPLES = [(0, {0: 255}), (0, {0: 255}), (1, {1: 255}), (1, {1: 255}),
                       (2, {1: 255})]   # no bird is ever predicted here
TRAIN_EXAMPLES = [(c, {c: 255}) for c in (0, 1, 2, 0, 1, 2, 0, 1, 2)]


def make_split(examples, split_class=ArraySplit):
    x = np.zeros((len(examples), 4, 4, 1), np.uint8)
    for i, (_label, rows) in enumerate(examples):
        for row, value in rows.items():
            x[i, row, :, 0] = value
    return split_class(x, np.array([label for label, _ in examples]))


def make_dataset(test_class=ArraySplit, validation=True) -> Dataset:
    return Dataset(name="tiny shapes", description="3 classes of 4×4 rows",
                   class_names=list(NAMES), input_shape=(4, 4, 1),
                   train=make_split(TRAIN_EXAMPLES),
                   validation=make_split(VALIDATION_EXAMPLES) if validation else None,
                   test=make_split(TEST_EXAMPLES, test_class))


def expected_probabilities(examples) -> np.ndarray:
    """What the row-sum model must output, computed with numpy from the pixels."""
    x = make_split(examples).x[..., 0].astype(np.float64) / 255.0
    logits = x[:, :3, :].sum(axis=2)              # (N, 3): the sums of rows 0, 1, 2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def row_model():
    import keras

    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")], name="rows")
    kernel = np.zeros((16, 3), np.float32)
    for cls in range(3):
        kernel[cls * 4:(cls + 1) * 4, cls] = 1.0  # flattened row `cls` → class `cls`
    model.layers[-1].set_weights([kernel, np.zeros(3, np.float32)])
    return model


@pytest.fixture
def panel(qtbot, row_model):
    widget = EvaluationPanel()
    qtbot.addWidget(widget, before_close_func=lambda w: w.shutdown())
    widget.resize(1000, 560)
    widget.set_dataset(make_dataset())
    widget.set_model(row_model, None)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def evaluate_by_button(panel, qtbot) -> Evaluation:
    assert panel.evaluate_button.isEnabled(), panel.status.text()
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS) as blocker:
        QTest.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def click(widget, rect) -> None:
    """A real left click at the centre of a QRect or QRectF of `widget`."""
    centre = rect.center()
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton,
                     pos=centre.toPoint() if isinstance(centre, QPointF) else centre)


# ------------------------------------------------------------------ the whole panel

def test_split_chooser_lists_the_present_splits_with_counts(panel, row_model):
    items = [panel.split_combo.itemText(i) for i in range(panel.split_combo.count())]
    assert items == ["Test (13 images)", "Validation (5 images)", "Training (9 images)"]
    assert panel.split() == "test"
    panel.set_dataset(make_dataset(validation=False))
    assert [panel.split_combo.itemData(i) for i in range(panel.split_combo.count())] == \
        ["test", "train"]


def test_evaluate_shows_the_headline_matrix_and_table_keras_would_give(panel, qtbot):
    evaluation = evaluate_by_button(panel, qtbot)
    expected = np.array([[4, 1, 1], [1, 3, 0], [0, 1, 2]])
    np.testing.assert_array_equal(evaluation.confusion, expected)
    p = expected_probabilities(TEST_EXAMPLES)
    labels = np.array([label for label, _ in TEST_EXAMPLES])
    loss = -np.mean(np.log(p[np.arange(len(labels)), labels]))
    assert evaluation.loss == pytest.approx(loss, rel=1e-4)
    assert panel.headline.text() == \
        f"Accuracy 69.2% · loss {loss:.3f} on 13 test images"
    assert panel.headline.isVisible() and not panel.progress.isVisible()
    assert "4 mistakes" in panel.status.text()
    # the counts are in the cells, and said in words on hover
    assert [[panel.matrix.cell_text(t, q) for q in range(3)] for t in range(3)] == \
        [["4", "1", "1"], ["1", "3", "0"], ["0", "1", "2"]]
    assert panel.matrix.cell_tooltip(0, 1) == \
        "true cat, predicted dog: 1 image (17% of the 6 cat images)"
    # precision = right / predicted as the class; recall = right / images of the class
    table = [[panel.table_text(r, c) for c in range(4)] for r in range(3)]
    assert table == [["cat", "80.0%", "66.7%", "6"],
                     ["dog", "60.0%", "75.0%", "4"],
                     ["bird", "66.7%", "66.7%", "3"]]


def test_matrix_colours_right_answers_blue_and_mistakes_red(panel, qtbot):
    evaluate_by_button(panel, qtbot)
    image = panel.matrix.grab().toImage()

    def corner_colour(t, q):
        rect = panel.matrix.cell_rect(t, q)
        return image.pixelColor(int(rect.left()) + 3, int(rect.top()) + 3)

    diagonal, mistake, empty = corner_colour(1, 1), corner_colour(1, 0), corner_colour(2, 0)
    assert diagonal.blue() > diagonal.red() + 60        # blue: right
    assert mistake.red() > mistake.blue() + 40          # red: wrong
    assert min(empty.red(), empty.green(), empty.blue()) > 240   # none: near white
    assert corner_colour(0, 0).blue() < diagonal.blue() or \
        corner_colour(0, 0).red() > diagonal.red()       # 4 of 6 is paler than 3 of 4


def test_clicking_a_cell_shows_exactly_its_images(panel, qtbot):
    evaluation = evaluate_by_button(panel, qtbot)
    click(panel.matrix, panel.matrix.cell_rect(0, 2))
    assert panel.gallery.tile_indices() == list(evaluation.cell_indices(0, 2)) == [5]
    assert panel.gallery.title.text() == "True cat, predicted bird: 1 image"
    assert panel.matrix.selected() == (0, 2)
    click(panel.matrix, panel.matrix.cell_rect(0, 0))      # a right cell: correct images
    assert panel.gallery.tile_indices() == list(evaluation.cell_indices(0, 0)) == [0, 1, 2, 3]
    assert "(right)" in panel.gallery.title.text()
    assert all(panel.gallery.tile_has_image(i) for i in range(4))
    panel.gallery.all_mistakes_button.click()
    assert panel.gallery.tile_indices() == [9, 4, 5, 12]
    assert panel.matrix.selected() is None


def test_gallery_starts_with_the_most_confident_mistake_and_its_top_three(panel, qtbot):
    evaluation = evaluate_by_button(panel, qtbot)
    p = expected_probabilities(TEST_EXAMPLES)
    assert panel.gallery.tile_indices() == list(evaluation.misclassified()) == [9, 4, 5, 12]
    assert p[9, 0] == pytest.approx(np.exp(4) / (np.exp(4) + 2))    # e⁴/(e⁴+e⁰+e⁰)
    assert panel.gallery.tile_text(0) == \
        "true: dog · predicted: cat (96.5%) · 2nd: dog (1.8%) · 3rd: bird (1.8%)"
    assert panel.gallery.title.text() == \
        "Mistakes: 4 of 13 test images, most confident first"
    assert panel.gallery.tile_has_image(0)
    with qtbot.waitSignal(panel.example_clicked) as blocker:
        click(panel.gallery.canvas, panel.gallery.tile_rect(1))
    assert blocker.args == ["test", 4]


def test_changing_the_split_evaluates_it_and_going_back_is_instant(panel, qtbot):
    evaluate_by_button(panel, qtbot)
    with qtbot.waitSignal(panel.evaluated, timeout=WAIT_MS) as blocker:
        panel.split_combo.setCurrentIndex(panel.split_combo.findData("validation"))
    validation = blocker.args[0]
    assert validation.split == "validation" and validation.count == 5
    assert panel.headline.text().startswith("Accuracy 80.0% · loss ")
    assert panel.headline.text().endswith(" on 5 validation images")
    # nothing was called a bird here: its precision is undefined, not 0
    assert panel.table_text(2, 1) == "—" and panel.table_text(2, 2) == "0.0%"
    with qtbot.assertNotEmitted(panel.evaluated, wait=200):
        panel.set_split("test")
    assert panel.headline.text().endswith(" on 13 test images")
    assert panel.gallery.tile_indices() == [9, 4, 5, 12]


def test_a_new_model_forgets_the_kept_results(panel, qtbot, row_model):
    import keras

    evaluate_by_button(panel, qtbot)
    other = keras.models.clone_model(row_model)
    other.set_weights(row_model.get_weights())
    panel.set_model(other, None)
    assert panel.headline.text() == "" and panel.matrix.class_count == 0
    assert panel.gallery.tile_indices() == []
    assert evaluate_by_button(panel, qtbot).accuracy == pytest.approx(9 / 13)


# ------------------------------------------------------------------ when it cannot run

def test_without_model_or_data_the_button_says_why(qtbot, row_model):
    widget = EvaluationPanel()
    qtbot.addWidget(widget, before_close_func=lambda w: w.shutdown())
    assert not widget.evaluate_button.isEnabled()
    assert "model" in widget.status.text().lower()
    widget.set_model(row_model, None)
    assert not widget.evaluate_button.isEnabled()
    assert widget.status.text() == "Load a dataset to evaluate the model on."
    assert widget.evaluate() is None
    widget.set_dataset(make_dataset())
    assert widget.evaluate_button.isEnabled()


def test_a_non_classifier_is_disabled_with_the_reason(panel, qtbot):
    import keras

    maps = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)], name="maps")
    panel.set_model(maps, None)                   # found by the panel itself
    assert not panel.evaluate_button.isEnabled()
    assert "not a classifier" in panel.status.text()
    assert panel.evaluate_button.toolTip() == panel.status.text()
    reason = "This model's output is a 2×2×2 volume, not one score per class."
    panel.set_model(maps, reason)                 # given by the owner
    assert panel.status.text() == reason and not panel.evaluate_button.isEnabled()
    assert panel.evaluate() is None


def test_images_the_model_cannot_take_are_explained_before_evaluating(panel, qtbot, row_model):
    data = make_dataset()
    bigger = Dataset(name="big", description="", class_names=NAMES, input_shape=(8, 8, 1),
                     train=ArraySplit(np.zeros((3, 8, 8, 1), np.uint8), np.arange(3)),
                     validation=None, test=None)
    panel.set_dataset(bigger)
    assert not panel.evaluate_button.isEnabled()
    assert "4×4" in panel.status.text() and "8×8" in panel.status.text()
    panel.set_dataset(data)
    assert panel.evaluate_button.isEnabled()


class VanishedFolderSplit(ArraySplit):
    """A split whose files disappear once evaluation starts reading them."""

    def tf_dataset(self, *args, **kwargs):
        raise DatasetError("The folder /photos/test was moved or deleted, so its images "
                           "cannot be read.")


def test_an_evaluation_error_is_shown_inline_without_a_traceback(panel, qtbot):
    panel.set_dataset(make_dataset(test_class=VanishedFolderSplit))
    QTest.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running and panel.status.property("error"),
                    timeout=WAIT_MS)
    text = panel.status.text()
    assert text == "The folder /photos/test was moved or deleted, so its images cannot be read."
    assert "Traceback" not in text and panel.status.isVisible()
    assert panel.evaluate_button.isEnabled() and not panel.progress.isVisible()
    assert panel.headline.text() == "" and panel.current is None


class HeldSplit(ArraySplit):
    """A split whose first batch waits until the test lets it go (a slow folder)."""

    def __init__(self, x, y):
        super().__init__(x, y)
        self.entered, self.release = threading.Event(), threading.Event()

    def tf_dataset(self, batch_size, shuffle=False, seed=None, repeat=False):
        import tensorflow as tf

        def batches():
            self.entered.set()
            self.release.wait(30)
            x = tf.constant(self.x.astype(np.float32) / 255.0)
            yield x, tf.constant(self.labels().astype(np.int32))
        return batches()


def test_cancel_stops_the_evaluation_and_drops_its_result(panel, qtbot):
    data = make_dataset(test_class=HeldSplit)
    panel.set_dataset(data)
    QTest.mouseClick(panel.evaluate_button, Qt.MouseButton.LeftButton)
    assert panel.progress.isVisible() and panel.cancel_button.isVisible()
    assert not panel.evaluate_button.isEnabled()
    qtbot.waitUntil(data.test.entered.is_set, timeout=WAIT_MS)
    QTest.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == "Evaluation cancelled."
    assert not panel.progress.isVisible() and panel.evaluate_button.isEnabled()
    with qtbot.assertNotEmitted(panel.evaluated, wait=500):
        data.test.release.set()
    assert panel.current is None and panel.headline.text() == ""
    assert evaluate_by_button(panel, qtbot).accuracy == pytest.approx(9 / 13)


# ------------------------------------------------------------------ the parts on their own

def make_evaluation(labels, predictions, probabilities, names, split="test") -> Evaluation:
    """A hand-made Evaluation (for widgets that only show one)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    k = len(names)
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :min(3, k)]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.diag(confusion) / confusion.sum(axis=0)
        recall = np.diag(confusion) / confusion.sum(axis=1)
    return Evaluation(split=split, count=len(labels), loss=0.5,
                      accuracy=float(np.mean(labels == predictions)), class_names=list(names),
                      confusion=confusion, precision=precision, recall=recall,
                      support=confusion.sum(axis=1), labels=labels, predictions=predictions,
                      probabilities=probabilities.astype(np.float32), top3=top,
                      top3_probabilities=np.take_along_axis(probabilities, top, axis=1))


@pytest.mark.parametrize("k", [2, 10, 20])
def test_matrix_fits_and_stays_clickable_from_2_to_20_classes(qtbot, k):
    rng = np.random.default_rng(k)
    labels = rng.integers(0, k, 400)
    predictions = np.where(rng.random(400) < 0.7, labels, rng.integers(0, k, 400))
    probabilities = rng.dirichlet(np.ones(k), 400)
    names = [f"class number {i}" for i in range(k)]      # long names get elided
    matrix = ConfusionMatrix()
    qtbot.addWidget(matrix)
    matrix.resize(420, 420)
    matrix.set_evaluation(make_evaluation(labels, predictions, probabilities, names))
    matrix.show()
    qtbot.waitExposed(matrix)
    first, last = matrix.cell_rect(0, 0), matrix.cell_rect(k - 1, k - 1)
    assert first.left() >= 20 and first.top() >= 20             # room for the labels
    assert last.right() <= 420 and last.bottom() <= 420
    assert first.width() >= (12 if k == 20 else 24)
    with qtbot.waitSignal(matrix.cell_clicked) as blocker:
        click(matrix, matrix.cell_rect(k - 1, 1))
    assert blocker.args == [k - 1, 1]


def write_png_split(tmp_path, count: int) -> FileSplit:
    paths = []
    for i in range(count):
        path = tmp_path / f"{i:03d}.png"
        Image.fromarray(np.full((4, 4), i * 3 % 256, np.uint8), "L").save(path)
        paths.append(str(path))
    return FileSplit(paths, np.zeros(count, np.int64), (4, 4), 1)


def all_wrong_png_evaluation(split, count: int):
    """An evaluation of `count` PNG images, every one wrong, the last the most confident."""
    confidence = np.linspace(0.6, 0.99, count)
    probabilities = np.stack([1 - confidence, confidence], axis=1)
    evaluation = make_evaluation(np.zeros(count, int), np.ones(count, int), probabilities,
                                 ["left", "right"])
    data = Dataset(name="pngs", description="", class_names=["left", "right"],
                   input_shape=(4, 4, 1), train=split, validation=None, test=split)
    return evaluation, data


def shown_gallery(qtbot) -> MisclassifiedGallery:
    gallery = MisclassifiedGallery()
    qtbot.addWidget(gallery, before_close_func=lambda w: w.shutdown())
    gallery.resize(500, 400)
    gallery.show()
    return gallery


def test_gallery_reads_a_folder_a_page_at_a_time_in_small_batches(qtbot, tmp_path,
                                                                  monkeypatch):
    count = PAGE_SIZE + 10
    split = write_png_split(tmp_path, count)
    requests: list[list[int]] = []
    original = FileSplit.images
    monkeypatch.setattr(FileSplit, "images",
                        lambda self, indices: requests.append(list(indices))
                        or original(self, indices))
    evaluation, data = all_wrong_png_evaluation(split, count)
    gallery = shown_gallery(qtbot)
    with qtbot.waitSignal(gallery.images_loaded, timeout=WAIT_MS):
        gallery.show_misclassified(evaluation, data)
    assert gallery.tile_indices() == list(range(count - 1, count - 1 - PAGE_SIZE, -1))
    assert all(gallery.tile_has_image(i) for i in range(PAGE_SIZE))
    assert sum(len(r) for r in requests) == PAGE_SIZE                # not the whole folder
    assert max(len(r) for r in requests) <= LOAD_CHUNK
    assert gallery.tile_text(0) == "true: left · predicted: right (99.0%) · 2nd: left (1.0%)"
    assert gallery.more_button.isVisible()
    assert gallery.more_button.text() == f"Show 10 more ({PAGE_SIZE} of {count} shown)"
    with qtbot.waitSignal(gallery.images_loaded, timeout=WAIT_MS):
        gallery.more_button.click()
    assert len(gallery.tile_indices()) == count and gallery.tile_has_image(count - 1)
    assert not gallery.more_button.isVisible()
    assert sum(len(r) for r in requests) == count


def test_show_more_while_a_page_is_still_read_fills_every_tile(qtbot, tmp_path, monkeypatch):
    count = PAGE_SIZE + 10
    split = write_png_split(tmp_path, count)
    entered, release = threading.Event(), threading.Event()
    original = FileSplit.images

    def held(self, indices):
        entered.set()
        assert release.wait(10), "the test never released the first page"
        return original(self, indices)

    monkeypatch.setattr(FileSplit, "images", held)
    evaluation, data = all_wrong_png_evaluation(split, count)
    gallery = shown_gallery(qtbot)
    gallery.show_misclassified(evaluation, data)
    qtbot.waitUntil(entered.is_set, timeout=WAIT_MS)      # the first page is being read
    gallery.more_button.click()
    assert len(gallery.tile_indices()) == count and gallery.loading
    release.set()
    qtbot.waitUntil(lambda: all(gallery.tile_has_image(i) for i in range(count)),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not gallery.loading, timeout=WAIT_MS)
    assert "could not be read" not in gallery.title.text()


# ------------------------------------------------------------------ whole sources

def whole_dataset() -> Dataset:
    """A source with no test part: all of it is one set; training carved it as usual."""
    whole = make_split(TEST_EXAMPLES)
    return Dataset(name="shapes (folder)", description="", class_names=list(NAMES),
                   input_shape=(4, 4, 1), train=whole.subset(range(10)),
                   validation=whole.subset(range(10, 13)), test=None, whole=whole,
                   source_label="shapes")


def test_a_whole_source_is_offered_and_evaluated_all_by_default(panel, qtbot):
    panel.set_dataset(whole_dataset())
    items = [panel.split_combo.itemText(i) for i in range(panel.split_combo.count())]
    assert items == ["All 13 images", "Validation (3 images)", "Training (10 images)"]
    assert panel.split() == "all"
    evaluation = evaluate_by_button(panel, qtbot)
    assert evaluation.split == "all" and evaluation.count == 13
    np.testing.assert_array_equal(evaluation.confusion, [[4, 1, 1], [1, 3, 0], [0, 1, 2]])
    assert panel.headline.text().endswith("on all 13 images")
    # another source with a test part starts at its test split, as `cnnviz evaluate` does
    panel.set_split("validation")
    panel.set_dataset(make_dataset())
    assert panel.split() == "test"
    panel.set_split("validation")
    panel.set_dataset(make_dataset())   # the same source again keeps the choice
    assert panel.split() == "validation"


def test_the_gallery_title_of_a_whole_source_reads_plainly(panel, qtbot):
    panel.set_dataset(whole_dataset())
    evaluate_by_button(panel, qtbot)
    assert panel.gallery.title.text().startswith("Mistakes: 4 of 13 images, ")
