"""The architecture diagram: boxes per layer, error marks, clicks and a growing width."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.ui.build.architecture_diagram import (
    ERROR_COLOUR, ArchitectureDiagram, ArchitectureDiagramView, boxes_for_report,
)


def mnist_cnn() -> ModelSpec:
    """The tutorial MNIST CNN (515,146 parameters)."""
    return ModelSpec((28, 28, 1), [
        LayerSpec.make("Conv2D", filters=32, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("MaxPooling2D", pool_size=[2, 2]),
        LayerSpec.make("Conv2D", filters=64, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dense", units=64, activation="relu"),
        LayerSpec.make("Dense", units=10, activation="softmax"),
    ])


def long_stack(count: int) -> ModelSpec:
    return ModelSpec((32, 32, 3),
                     [LayerSpec.make("Conv2D", filters=8, padding="same") for _ in range(count)])


@pytest.fixture
def diagram(qtbot) -> ArchitectureDiagram:
    widget = ArchitectureDiagram()
    qtbot.addWidget(widget)
    widget.resize(900, 220)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_boxes_are_labelled_like_textbook_figures():
    boxes = boxes_for_report(analyze(mnist_cnn()))
    assert [(b.type_label, b.shape_label) for b in boxes] == [
        ("Input", "28×28×1"), ("Conv2D", "26×26×32"), ("MaxPool", "13×13×32"),
        ("Conv2D", "11×11×64"), ("Flatten", "7744"), ("Dense", "64"), ("Dense", "10"),
    ]
    assert [b.kind for b in boxes] == ["volume"] * 4 + ["vector"] * 3


def test_boxes_run_left_to_right_without_overlap(diagram):
    diagram.set_report(analyze(mnist_cnn()))
    rects = [diagram.box_rect(i) for i in range(-1, 6)]
    assert all(not r.isEmpty() for r in rects)
    assert all(a.right() < b.left() for a, b in zip(rects, rects[1:]))
    # Log scaling keeps the 10-unit output visible next to the 28×28 input.
    assert rects[-1].height() >= 15
    assert diagram.box_rect(6).isEmpty()


def test_click_on_box_emits_layer_index(diagram, qtbot):
    diagram.set_report(analyze(mnist_cnn()))
    for index in (0, 3, 5):
        with qtbot.waitSignal(diagram.layer_clicked) as blocker:
            qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton,
                             pos=diagram.box_rect(index).center())
        assert blocker.args == [index]
        assert diagram.selected() == index
    with qtbot.assertNotEmitted(diagram.layer_clicked):
        qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton, pos=diagram.box_rect(-1).center())
        qtbot.mouseClick(diagram, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))


def test_selected_box_is_highlighted(diagram):
    diagram.set_report(analyze(mnist_cnn()))
    diagram.set_selected(2)
    rect = diagram.box_rect(2)
    highlight = diagram.palette().highlight().color()
    image = diagram.grab().toImage()

    def distance(a: QColor, b: QColor) -> int:
        return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())

    # The halo behind the selected column tints the background just above its box.
    halo = QColor(image.pixel(rect.center().x(), rect.top() - 3))
    plain = diagram.palette().base().color()
    assert distance(halo, highlight) < distance(plain, highlight)
    diagram.set_selected(None)
    assert diagram.selected() is None


def test_invalid_layer_drawn_red_and_later_layers_unknown(diagram):
    spec = ModelSpec((28, 28, 1), [LayerSpec.make("Conv2D"), LayerSpec.make("Dense", units=4),
                                   LayerSpec.make("Dense", units=2)])
    report = analyze(spec)
    diagram.set_report(report)
    boxes = boxes_for_report(report)
    assert [b.kind for b in boxes] == ["volume", "volume", "error", "unknown"]
    assert "Flatten" in boxes[2].tooltip
    image = diagram.grab().toImage()
    rect = diagram.box_rect(1)
    reds = sum(1 for x in range(rect.left(), rect.right())
               for y in range(rect.top(), rect.bottom())
               if QColor(image.pixel(x, y)) == ERROR_COLOUR)
    assert reds > 10  # the outline and the "!" are in the error colour


def test_minimum_width_grows_with_many_layers(diagram):
    diagram.set_report(analyze(mnist_cnn()))
    short = diagram.minimumWidth()
    diagram.set_report(analyze(long_stack(60)))
    assert diagram.minimumWidth() > 8 * short
    rects = [diagram.box_rect(i) for i in range(60)]
    assert all(a.right() < b.left() for a, b in zip(rects, rects[1:]))


def test_view_scrolls_to_a_selected_far_layer(qtbot):
    view = ArchitectureDiagramView()
    qtbot.addWidget(view)
    view.resize(600, 220)
    view.show()
    qtbot.waitExposed(view)
    view.set_report(analyze(long_stack(60)))
    qtbot.waitUntil(lambda: view.horizontalScrollBar().maximum() > 0)
    view.set_selected(55)
    assert view.horizontalScrollBar().value() > 0
    with qtbot.waitSignal(view.layer_clicked) as blocker:
        pos = view.diagram.box_rect(55).center()
        qtbot.mouseClick(view.diagram, Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [55]


def test_hundred_layer_refreshes_complete(diagram):
    spec = long_stack(100)
    for filters in range(8, 20):  # one refresh per keystroke
        spec.layers[0].params["filters"] = filters
        diagram.set_report(analyze(spec))
        diagram.repaint()
    assert diagram.box_rect(99).left() > diagram.box_rect(0).right()


def test_render_to_image_fits_the_whole_stack(diagram):
    diagram.set_report(analyze(long_stack(30)))
    image = diagram.render_to_image(400, 200)
    assert image.height() == 200
    assert image.width() >= diagram.minimumWidth()
    # Rendering off-screen leaves the on-screen layout alone.
    before = diagram.box_rect(0)
    diagram.render_to_image(3000, 300)
    assert diagram.box_rect(0) == before
