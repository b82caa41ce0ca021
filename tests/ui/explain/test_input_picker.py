"""The explainer's input picker driven through its real widgets: browse, draw, open, drop."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (QAbstractButton, QApplication, QLabel, QSpinBox, QTabBar,
                               QWidget)

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.data.input_images import image_file_to_input
from cnnviz.ui.common import dialogs
from cnnviz.ui.explain.input_file_mode import FileInputPage
from cnnviz.ui.explain.input_picker import InputPicker

CLASS_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def digits_dataset(size: int = 28, channels: int = 1, count: int = 6) -> Dataset:
    """Random images whose labels run 3, 4, 5, ... so a wrong index shows as a wrong label."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (count, size, size, channels), dtype=np.uint8)
    y = (np.arange(count) + 3) % 10
    train = ArraySplit(x[::-1].copy(), y[::-1].copy())
    return Dataset("digits", "test digits", CLASS_NAMES, (size, size, channels),
                   train=train, validation=None, test=ArraySplit(x, y))


@pytest.fixture
def picker(qtbot, monkeypatch):
    shown: list[str] = []
    # A modal box would hang the test; an inline message is what the picker should use.
    monkeypatch.setattr(dialogs, "show_error", lambda _p, _t, text: shown.append(text))
    widget = InputPicker()
    qtbot.addWidget(widget)
    widget.resize(280, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.chosen = []
    widget.input_chosen.connect(lambda *args: widget.chosen.append(args))
    widget.dialog_errors = shown
    yield widget
    assert shown == [], "errors belong inline, not in a dialog"


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    plane = image[..., 0]
    rows, cols = np.indices(plane.shape)
    return (float((rows * plane).sum() / plane.sum()),
            float((cols * plane).sum() / plane.sum()))


def test_browsing_with_buttons_and_keys_emits_the_test_images(qtbot, picker):
    data = digits_dataset()
    picker.set_input_shape((28, 28, 1))
    picker.set_dataset(data)
    assert picker.mode() == "dataset"
    image, description, label = picker.chosen[-1]
    np.testing.assert_array_equal(image, data.test.images([0])[0] / np.float32(255))
    assert label == 3 and "three" in picker.true_label.text()
    assert "Test image #0 of 6" in description

    qtbot.mouseClick(picker.next_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(picker.next_button, Qt.MouseButton.LeftButton)
    image, _description, label = picker.chosen[-1]
    assert image.dtype == np.float32 and image.shape == (28, 28, 1)
    np.testing.assert_array_equal(image, data.test.images([2])[0] / np.float32(255))
    assert label == int(data.test.labels()[2]) == 5

    picker.dataset_view.setFocus()
    qtbot.keyClick(picker.dataset_view, Qt.Key.Key_PageDown)
    assert picker.current_index() == 3 and picker.chosen[-1][2] == 6
    qtbot.keyClick(picker.index_spin, Qt.Key.Key_PageUp)  # one image back, not ten
    assert picker.current_index() == 2 and picker.chosen[-1][2] == 5
    qtbot.mouseClick(picker.previous_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(picker.chosen[-1][0], data.test.images([1])[0] / np.float32(255))

    picker.index_spin.setValue(5)  # the last one (#5), typed into the spin box
    assert picker.chosen[-1][2] == int(data.test.labels()[5])
    count = len(picker.chosen)
    qtbot.mouseClick(picker.next_button, Qt.MouseButton.LeftButton)  # already at the end
    assert len(picker.chosen) == count and picker.current_index() == 5


def test_the_same_model_shape_again_does_not_re_emit_but_emit_current_does(qtbot, picker):
    data = digits_dataset()
    picker.set_input_shape((28, 28, 1))
    picker.set_dataset(data)
    picker.show_index(4)
    count = len(picker.chosen)
    picker.set_input_shape((28, 28, 1))  # the spec was edited, the input size was not
    assert len(picker.chosen) == count and picker.current_index() == 4
    picker.emit_current()
    assert len(picker.chosen) == count + 1 and picker.chosen[-1][2] == int(data.test.labels()[4])


def draw_stroke(canvas: QWidget, points: list[tuple[float, float]]) -> None:
    """Drag the left mouse button through points given as fractions of the drawing square."""
    area = canvas.square()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(int(area.left() + fx * area.width()), int(area.top() + fy * area.height()))

    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     at(*points[0]))
    for start, end in zip(points, points[1:]):
        for t in np.linspace(0, 1, 6)[1:]:
            QTest.mouseMove(canvas, at(start[0] + t * (end[0] - start[0]),
                                       start[1] + t * (end[1] - start[1])))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       at(*points[-1]))


def test_a_drawing_off_in_a_corner_is_emitted_centred_like_mnist(qtbot, picker):
    picker.set_input_shape((28, 28, 1))
    qtbot.mouseClick(picker.tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=picker.tabs.tabBar().tabRect(1).center())
    assert picker.mode() == "draw" and picker.canvas.isEnabled()
    assert picker.chosen == []  # nothing drawn yet, nothing to explain

    # A "7" squeezed into the top-left corner of the canvas.
    with qtbot.waitSignal(picker.input_chosen, timeout=2000):
        draw_stroke(picker.canvas, [(0.08, 0.08), (0.4, 0.08), (0.2, 0.45)])
    image, description, label = picker.chosen[-1]
    assert image.shape == (28, 28, 1) and image.dtype == np.float32
    assert label is None and "drawing" in description
    cy, cx = centre_of_mass(image)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    lit_rows = np.flatnonzero(image[..., 0].max(axis=1) > 0)
    assert 18 <= lit_rows[-1] - lit_rows[0] + 1 <= 20  # scaled up into the 20-pixel box
    assert picker.draw_preview.has_image()

    qtbot.mouseClick(picker.canvas, Qt.MouseButton.RightButton)  # right-click erases
    assert picker.canvas.is_empty() and not picker.draw_preview.has_image()
    assert picker.current_input() is None


def test_the_canvas_ink_matches_what_was_drawn(qtbot, picker):
    picker.set_mode("draw")
    draw_stroke(picker.canvas, [(0.5, 0.1), (0.5, 0.9)])  # a vertical "1" down the middle
    ink = picker.canvas.ink()
    assert ink.shape == (280, 280) and ink.dtype == np.float32
    assert ink[140, 140] > 0.9 and ink[140, 40] == 0 and ink[140, 240] == 0
    stroke_width = np.count_nonzero(ink[140] > 0.5)
    assert 20 <= stroke_width <= 30  # a thick round pen, ~9 % of the canvas like MNIST strokes
    qtbot.mouseClick(picker.clear_button, Qt.MouseButton.LeftButton)
    assert picker.canvas.ink().max() == 0


def test_drawing_is_off_for_a_colour_model_and_says_why(qtbot, picker):
    picker.set_input_shape((32, 32, 3))
    picker.set_mode("draw")
    assert not picker.canvas.isEnabled() and not picker.draw_area.isVisible()
    assert picker.draw_reason.isVisible()
    assert "grayscale models only" in picker.draw_reason.text()
    assert "32×32×3" in picker.draw_reason.text()
    picker.set_input_shape((28, 28, 1))
    assert picker.canvas.isEnabled() and picker.draw_area.isVisible()
    assert not picker.draw_reason.isVisible()


def test_opening_a_file_through_the_dialog_emits_it_converted(qtbot, picker, tmp_path,
                                                              monkeypatch):
    path = tmp_path / "cat.jpg"
    photo = np.zeros((48, 64, 3), np.uint8)
    photo[:, 32:] = (240, 120, 10)
    Image.fromarray(photo).save(path)
    monkeypatch.setattr(dialogs, "get_open_path", lambda *_args: str(path))
    picker.set_input_shape((32, 32, 3))
    picker.set_mode("file")
    qtbot.mouseClick(picker.file_page.open_button, Qt.MouseButton.LeftButton)
    image, description, label = picker.chosen[-1]
    assert image.shape == (32, 32, 3) and label is None and "cat.jpg" in description
    np.testing.assert_array_equal(image, image_file_to_input(path, (32, 32, 3)))
    assert image[16, 28:].mean() > image[16, :4].mean() + 0.3  # right half bright, left dark
    assert "cat.jpg" in picker.file_page.file_name_label.text() and picker.file_page.file_view.has_image()

    # A grayscale model gets the same file re-converted, without asking again.
    picker.set_input_shape((28, 28, 1))
    assert picker.chosen[-1][0].shape == (28, 28, 1)


def test_a_file_that_is_not_an_image_shows_an_inline_message(qtbot, picker, tmp_path,
                                                             monkeypatch):
    path = tmp_path / "notes.png"
    path.write_text("my lecture notes")
    monkeypatch.setattr(dialogs, "get_open_path", lambda *_args: str(path))
    picker.set_input_shape((28, 28, 1))
    picker.set_mode("file")
    qtbot.mouseClick(picker.file_page.open_button, Qt.MouseButton.LeftButton)
    assert picker.chosen == []
    assert picker.file_page.file_message.isVisible()
    assert "notes.png" in picker.file_page.file_message.text()
    assert "not an image" in picker.file_page.file_message.text()


def test_dropping_an_image_file_on_the_picker_loads_it(qtbot, picker, tmp_path):
    path = tmp_path / "drop.png"
    Image.new("L", (20, 20), 255).save(path)
    picker.set_input_shape((28, 28, 1))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    position = QPointF(picker.width() / 2, picker.height() / 2)
    enter = QDragEnterEvent(position.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(picker, enter)
    assert enter.isAccepted()
    drop = QDropEvent(position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(picker, drop)
    assert picker.mode() == "file"
    image, description, _label = picker.chosen[-1]
    assert "drop.png" in description and image.shape == (28, 28, 1) and image.min() > 0.99


def test_dataset_images_that_do_not_fit_the_model_are_explained_not_emitted(qtbot, picker):
    picker.set_input_shape((28, 28, 1))
    picker.set_dataset(digits_dataset(size=32, channels=3))
    assert picker.chosen == []
    assert picker.dataset_message.isVisible()
    assert picker.dataset_message.text() == ("The model expects 28×28×1 (grayscale) images, "
                                             "but these are 32×32×3 (colour).")
    picker.set_input_shape((32, 32, 3))  # a model that fits: the message goes, the image comes
    assert not picker.dataset_message.isVisible()
    assert picker.chosen[-1][0].shape == (32, 32, 3)


def test_every_mode_fits_a_280_pixel_column(qtbot, picker, tmp_path):
    """Nothing clipped or squeezed below its minimum in the explainer's left column."""
    picker.set_input_shape((28, 28, 1))
    picker.set_dataset(digits_dataset(count=10_000))  # "of 10,000" needs its room too
    Image.new("RGB", (50, 40), (30, 140, 200)).save(tmp_path / "a_rather_long_file_name.png")
    picker.load_file(tmp_path / "a_rather_long_file_name.png")
    assert picker.minimumSizeHint().width() <= 260
    for mode in ("dataset", "draw", "file"):
        picker.set_mode(mode)
        QApplication.processEvents()
        assert picker.width() == 280
        picker.grab().save(str(tmp_path / f"picker_{mode}.png"))
        for child in picker.findChildren(QWidget):
            if not child.isVisibleTo(picker) or isinstance(child, QTabBar):
                continue
            if not isinstance(child, (QLabel, QAbstractButton, QSpinBox)):
                continue
            if not child.isVisible():
                continue
            left = child.mapTo(picker, QPoint(0, 0)).x()
            assert left >= 0 and left + child.width() <= picker.width(), (mode, child)
            minimum = child.minimumSizeHint().width()
            wraps = isinstance(child, QLabel) and child.wordWrap()
            assert wraps or child.width() >= minimum, (mode, child, child.width(), minimum)


def test_the_file_page_alone_emits_a_loaded_file_and_reconverts_it_quietly(qtbot, tmp_path):
    page = FileInputPage()
    qtbot.addWidget(page)
    chosen = []
    page.input_chosen.connect(lambda *args: chosen.append(args))
    path = tmp_path / "grey.png"
    Image.new("L", (20, 30), 128).save(path)
    assert not page.load_file(path) and page.file_message.text().startswith("Build or load")
    page.set_input_shape((28, 28, 1))
    assert page.load_file(path)
    assert len(chosen) == 1 and chosen[0][0].shape == (28, 28, 1)
    assert chosen[0][1] == "Image file grey.png"
    page.set_input_shape((32, 32, 3))        # a new model: converted again, nothing emitted
    assert len(chosen) == 1 and page.choice()[0].shape == (32, 32, 3)
    page.set_input_shape(None)
    assert page.choice() is None and not page.open_button.isEnabled()


def test_a_whole_source_is_browsed_whole_numbered_like_the_cli(qtbot, picker):
    data = digits_dataset(count=12)
    whole = data.test
    data.test, data.whole, data.source_label = None, whole, "t10k"
    picker.set_input_shape((28, 28, 1))
    picker.set_dataset(data)
    assert picker.split_label.text() == "All 12 images of t10k"
    picker.show_index(7)   # as `cnnviz explain --index 7`
    image, description, label = picker.chosen[-1]
    np.testing.assert_array_equal(image, whole.images([7])[0] / np.float32(255))
    assert label == int(whole.labels()[7])
    assert description == f"image #7 of all 12 images of t10k (label {CLASS_NAMES[label]})"
    assert picker.index_spin.text() == "#7" and picker.index_spin.maximum() == 11
