"""The probability chart: bars in class order, the top class strong, the true class green/red."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor

from cnnviz.core.formatting import probability_percent
from cnnviz.ui.common.value_colors import RIGHT, WRONG
from cnnviz.ui.explain.probability_chart import (
    OTHER_BAR, RIGHT_BACKGROUND, TOP_BAR, TRACK, WRONG_BACKGROUND, ProbabilityChart,
)

DIGITS = [str(i) for i in range(10)]
CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
         "truck"]


@pytest.fixture
def chart(qtbot) -> ProbabilityChart:
    widget = ProbabilityChart()
    qtbot.addWidget(widget)
    widget.resize(300, 260)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def row_colours(chart: ProbabilityChart, class_index: int) -> list[QColor]:
    image = chart.grab().toImage()
    rect = chart.row_rect(class_index)
    y = rect.center().y()
    return [image.pixelColor(x, y) for x in range(rect.left(), rect.right())]


def bar_fraction(chart: ProbabilityChart, class_index: int, bar: QColor) -> float:
    colours = row_colours(chart, class_index)
    filled = sum(c == bar for c in colours)
    return filled / (filled + sum(c == TRACK for c in colours))


def probabilities_for_seven() -> np.ndarray:
    p = np.full(10, 0.0025)
    p[7] = 0.9775
    return p


def test_ten_classes_in_class_order_with_bars_as_long_as_the_probability(chart):
    chart.set_probabilities(probabilities_for_seven(), DIGITS, true_label=7)
    tops = [chart.row_rect(i).top() for i in range(10)]
    assert tops == sorted(tops) and len(set(tops)) == 10       # class order, all shown
    assert chart.row_rect(9).bottom() <= chart.height()
    assert all(chart.row_rect(i).height() >= 16 for i in range(10))
    assert bar_fraction(chart, 7, TOP_BAR) == pytest.approx(0.9775, abs=0.02)
    assert sum(c == OTHER_BAR for c in row_colours(chart, 3)) <= 2  # 0.25%: a sliver at most


def test_a_right_prediction_marks_the_true_class_green(chart):
    chart.set_probabilities(probabilities_for_seven(), DIGITS, true_label=7)
    assert chart.predicted_class() == 7 and chart.is_correct() is True
    assert chart.headline() == "Prediction: 7 (97.8%)  ✓ right"
    colours = row_colours(chart, 7)
    assert colours[1] == RIGHT and RIGHT_BACKGROUND in colours
    assert WRONG not in row_colours(chart, 3) and RIGHT not in row_colours(chart, 3)


def test_a_wrong_prediction_marks_the_true_class_red_and_says_so(chart):
    p = np.array([0.05, 0.02, 0.1, 0.41, 0.03, 0.3, 0.02, 0.02, 0.03, 0.02])
    chart.set_probabilities(p, CIFAR, true_label=5)
    assert chart.is_correct() is False
    assert chart.headline() == "Prediction: cat (41.0%)  ✗ true: dog"
    dog = row_colours(chart, 5)
    assert dog[1] == WRONG and WRONG_BACKGROUND in dog
    assert bar_fraction(chart, 5, OTHER_BAR) == pytest.approx(0.30, abs=0.02)
    assert bar_fraction(chart, 3, TOP_BAR) == pytest.approx(0.41, abs=0.02)   # the top class
    assert WRONG_BACKGROUND not in row_colours(chart, 3)


def test_without_a_true_label_nothing_is_marked(chart):
    chart.set_probabilities(probabilities_for_seven(), DIGITS)
    assert chart.is_correct() is None and "✓" not in chart.headline()
    for i in range(10):
        colours = row_colours(chart, i)
        assert RIGHT_BACKGROUND not in colours and WRONG_BACKGROUND not in colours


def test_a_single_sigmoid_output_is_two_classes(chart):
    chart.set_probabilities(np.array([0.83], np.float32), ["cat", "dog"], true_label=1)
    rows = chart.rows()
    assert [(r.name, round(r.probability, 4)) for r in rows] == [("cat", 0.17), ("dog", 0.83)]
    assert chart.predicted_class() == 1 and chart.is_correct() is True
    assert bar_fraction(chart, 1, TOP_BAR) == pytest.approx(0.83, abs=0.02)


def test_many_classes_show_the_most_probable_sorted_and_keep_the_true_one(chart):
    p = np.random.default_rng(0).dirichlet(np.full(100, 0.3))
    true_label = int(np.argsort(p)[10])          # an unlikely class
    chart.set_probabilities(p, [f"class_{i}" for i in range(100)], true_label)
    chart.grab()
    shown = [i for i in range(100) if not chart.row_rect(i).isEmpty()]
    assert 5 <= len(shown) < 100 and true_label in shown
    by_row = sorted(shown, key=lambda i: chart.row_rect(i).top())
    assert by_row[0] == int(np.argmax(p))
    assert [p[i] for i in by_row[:-1]] == sorted((p[i] for i in by_row[:-1]), reverse=True)
    assert max(chart.row_rect(i).bottom() for i in shown) <= chart.height()


def test_missing_names_fall_back_to_numbers_and_percent_text():
    chart = ProbabilityChart()
    chart.set_probabilities(np.array([0.2, 0.3, 0.5]), ["a"])
    assert [r.name for r in chart.rows()] == ["a", "1", "2"]
    assert [probability_percent(v) for v in (0.9775, 0.0004, 0.0, 1.0)] == [
        "97.8%", "<0.1%", "0%", "100.0%"]
    chart.deleteLater()


def test_a_wrapped_headline_gets_every_line_at_a_large_zoom(chart, qtbot):
    """Issue 12 follow-up: at 1024×768 in presentation mode the answer read "Guess: 6 (11.1%),
    the weights are still" — the third line ("random …") was cut. The headline gets the
    height it needs, the rows start below it and are as high as their text."""
    from PySide6.QtGui import QFontMetrics

    from cnnviz.ui.common.zoom import zoom_of_app

    zoom_of_app().set_factor(1.5)
    try:
        qtbot.wait(10)
        chart.resize(210, 420)
        chart.set_untrained(True)
        chart.set_probabilities(np.full(10, 0.1) + np.eye(10)[6] * 0.011, DIGITS, true_label=4)
        headline = chart.headline()
        assert headline.startswith("Guess: 6") and "random" in headline
        bold = chart.font()
        bold.setBold(True)
        needed = QFontMetrics(bold).boundingRect(QRect(0, 0, 210 - 12, 10_000),
                                                 Qt.TextFlag.TextWordWrap, headline)
        assert needed.height() >= 3 * QFontMetrics(bold).height()   # it does wrap to 3+ lines
        shown = [chart.row_rect(i) for i in range(10) if not chart.row_rect(i).isEmpty()]
        assert min(rect.top() for rect in shown) >= 6 + needed.height()
        assert all(rect.height() >= chart.fontMetrics().height() for rect in shown)
        assert chart.minimumSizeHint().height() >= needed.height() + 3 * chart.fontMetrics().height()
    finally:
        zoom_of_app().set_factor(1.0)
