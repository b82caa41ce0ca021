"""The activation explain view: the function's curve with the layer's real values on it, and
one channel before and after, side by side. Softmax, which mixes a whole vector, gets the
softmax ladder instead of a curve."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from cnnviz.core.explain.frames import ActivationSteps
from cnnviz.ui.explain.views.softmax_view import SoftmaxView
from cnnviz.core.formatting import count_text, format_value, percent_of
from cnnviz.ui.explain.views.view_parts import (
    MapRow, headline_label, most_varied_channel, note_label, position_text,
)
from cnnviz.ui.common.zoom import line_width, set_relative_font

MAX_POINTS = 1500  # points drawn on the curve; more only hide each other

DISPLAY_NAMES = {
    "relu": "ReLU", "leaky_relu": "Leaky ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh",
    "elu": "ELU", "selu": "SELU", "softmax": "Softmax", "linear": "Linear", "gelu": "GELU",
    "silu": "SiLU (swish)", "swish": "Swish", "softplus": "Softplus", "softsign": "Softsign",
    "relu6": "ReLU6", "hard_sigmoid": "Hard sigmoid", "hard_silu": "Hard SiLU", "mish": "Mish",
    "exponential": "Exponential",
}


def display_name(function: str) -> str:
    return DISPLAY_NAMES.get(function, function.replace("_", " ").capitalize())


def formula_text(function: str, parameters: dict[str, float] | None = None) -> str:
    """The function as a short formula: 'y = max(0, x)'."""
    parameters = parameters or {}
    if function == "relu":
        cap = parameters.get("max_value")
        return f"y = min(max(0, x), {cap:g})" if cap is not None else "y = max(0, x)"
    if function == "leaky_relu":
        slope = parameters.get("negative_slope", 0.2)
        return f"y = x if x > 0, else {slope:g}·x"
    if function == "elu":
        alpha = parameters.get("alpha", 1.0)
        if alpha == 1:
            return "y = x if x > 0, else eˣ − 1"
        return f"y = x if x > 0, else {alpha:g}·(eˣ − 1)"
    return {
        "sigmoid": "y = 1 / (1 + e⁻ˣ)", "tanh": "y = tanh(x)", "linear": "y = x",
        "selu": "y = 1.05·x if x > 0, else 1.76·(eˣ − 1)", "softplus": "y = ln(1 + eˣ)",
        "softsign": "y = x / (1 + |x|)", "silu": "y = x · sigmoid(x)",
        "swish": "y = x · sigmoid(x)",
        "gelu": "y = x · Φ(x)", "relu6": "y = min(max(0, x), 6)", "exponential": "y = eˣ",
    }.get(function, f"y = {function}(x)")


def activation_headline(function: str, before: np.ndarray, after: np.ndarray,
                        parameters: dict[str, float] | None = None,
                        class_names: list[str] | None = None) -> str:
    """One sentence with the layer's real numbers: 'ReLU set 312 of 676 values (46%) to zero'."""
    shape = np.shape(before)
    before = np.asarray(before, np.float64).ravel()
    after = np.asarray(after, np.float64).ravel()
    total = before.size
    name = display_name(function)
    negative = int(np.sum(before < 0))
    if function in ("relu", "relu6"):
        zeroed = int(np.sum((before != 0) & (after == 0)))
        text = (f"{name} set {count_text(zeroed)} of {count_text(total)} values "
                f"({percent_of(zeroed, total)}) to zero")
        cap = (parameters or {}).get("max_value", 6.0 if function == "relu6" else None)
        if cap is not None:
            capped = int(np.sum(before > cap))
            text += f" and capped {count_text(capped)} at {cap:g}"
        return text + "; the rest passed through unchanged."
    if function == "leaky_relu":
        return (f"{name} shrank the {count_text(negative)} negative values of {count_text(total)} "
                f"({percent_of(negative, total)}); positive values passed through unchanged.")
    if function in ("elu", "selu"):
        return (f"{name} bent the {count_text(negative)} negative values of {count_text(total)} "
                f"({percent_of(negative, total)}) smoothly towards a floor; positive values "
                f"{'passed through' if function == 'elu' else 'were scaled by 1.05'}.")
    if function in ("sigmoid", "tanh", "hard_sigmoid", "softsign"):
        low, high = ("0", "1") if function in ("sigmoid", "hard_sigmoid") else ("−1", "1")
        return (f"{name} squeezed all {count_text(total)} values into the range {low} to {high}: "
                f"they now lie between {format_value(after.min())} and "
                f"{format_value(after.max())}.")
    if function == "linear":
        return f"Linear: all {count_text(total)} values passed through unchanged (y = x)."
    if function == "softmax" and len(shape) > 1:
        groups = total // max(shape[-1], 1)
        return (f"Softmax turned each position's {shape[-1]} channel scores into probabilities "
                f"that add up to 1, at each of the {count_text(groups)} positions.")
    if function == "softmax":
        best = int(np.argmax(after)) if total else 0
        name = class_names[best] if class_names and len(class_names) == total else str(best)
        return (f"Softmax turned {count_text(total)} scores into probabilities that add up to "
                f"{after.sum():.3f}; the largest is {name} with {100 * after.max():.1f}%.")
    changed = int(np.sum(before != after))
    return (f"{name} changed {count_text(changed)} of {count_text(total)} values: from "
            f"{format_value(before.min())} … {format_value(before.max())} to "
            f"{format_value(after.min())} … {format_value(after.max())}.")


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick positions (1, 2, 5 × 10ⁿ apart) covering low..high."""
    if not high > low:
        return [low]
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step) + 1)]


class ActivationCurve(QWidget):
    """The function's curve on axes with zero lines, the layer's (before, after) pairs as
    points on it, and one marked point with guides to both axes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curve_x = np.zeros(0, np.float32)
        self.curve_y = np.zeros(0, np.float32)
        self.points = np.zeros((0, 2), np.float32)
        self.label = ""
        self.marked: tuple[float, float] | None = None
        self.x_range = (-1.0, 1.0)
        self.y_range = (-1.0, 1.0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 300)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(180, 160)

    def set_data(self, curve_x: np.ndarray, curve_y: np.ndarray, before: np.ndarray,
                 after: np.ndarray, label: str) -> None:
        before = np.asarray(before, np.float32).ravel()
        after = np.asarray(after, np.float32).ravel()
        keep = np.isfinite(before) & np.isfinite(after)
        before, after = before[keep], after[keep]
        if before.size > MAX_POINTS:  # a fixed sample, so the picture does not flicker
            chosen = np.random.default_rng(0).choice(before.size, MAX_POINTS, replace=False)
            chosen = np.union1d(chosen, [np.argmin(before), np.argmax(before)])
            before, after = before[chosen], after[chosen]
        self.points = np.stack([before, after], axis=1) if before.size else np.zeros((0, 2))
        curve_x = np.asarray(curve_x, np.float32)
        curve_y = np.asarray(curve_y, np.float32)
        finite = np.isfinite(curve_x) & np.isfinite(curve_y)
        self.curve_x, self.curve_y = curve_x[finite], curve_y[finite]
        self.label = label
        xs = np.concatenate([self.curve_x, before, [0.0]])
        ys = np.concatenate([self.curve_y, after, [0.0]])
        x_margin = 0.0 if self.curve_x.size else 0.06  # a sampled curve has its own margin
        self.x_range = self._padded(float(xs.min()), float(xs.max()), x_margin)
        self.y_range = self._padded(float(ys.min()), float(ys.max()), 0.08)
        self.marked = None
        self.update()

    @staticmethod
    def _padded(low: float, high: float, fraction: float) -> tuple[float, float]:
        if high - low < 1e-9:
            low, high = low - 1.0, high + 1.0
        margin = (high - low) * fraction
        return low - margin, high + margin

    def set_marked(self, point: tuple[float, float] | None) -> None:
        self.marked = point
        self.update()

    def plot_rect(self) -> QRectF:
        metrics = self.fontMetrics()
        left = metrics.horizontalAdvance("-00.0") + 10
        bottom = metrics.height() * 2 + 6
        top = self._label_height() + metrics.height() + 8
        return QRectF(left, top, self.width() - left - 10, self.height() - bottom - top)

    def _label_font(self) -> QFont:
        bold = QFont(self.font())
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.15)
        return bold

    def _label_height(self) -> int:
        return QFontMetrics(self._label_font()).height() + 4

    def to_screen(self, x: float, y: float) -> QPointF:
        rect = self.plot_rect()
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return QPointF(rect.left() + (x - x0) / (x1 - x0) * rect.width(),
                       rect.bottom() - (y - y0) / (y1 - y0) * rect.height())

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.plot_rect()
        text = self.palette().windowText().color()
        metrics = self.fontMetrics()
        painter.fillRect(rect, QColor("white"))
        painter.setPen(QPen(QColor(225, 225, 225), line_width(1)))
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        x_ticks, y_ticks = nice_ticks(x0, x1), nice_ticks(y0, y1, 4)
        for tick in x_ticks:
            point = self.to_screen(tick, y0)
            painter.drawLine(QPointF(point.x(), rect.top()), QPointF(point.x(), rect.bottom()))
        for tick in y_ticks:
            point = self.to_screen(x0, tick)
            painter.drawLine(QPointF(rect.left(), point.y()), QPointF(rect.right(), point.y()))
        painter.setPen(QPen(QColor(110, 110, 110), line_width(1.5)))
        zero = self.to_screen(0.0, 0.0)
        painter.drawLine(QPointF(zero.x(), rect.top()), QPointF(zero.x(), rect.bottom()))
        painter.drawLine(QPointF(rect.left(), zero.y()), QPointF(rect.right(), zero.y()))
        painter.setPen(text)
        for tick in x_ticks:
            x = self.to_screen(tick, y0).x()
            painter.drawText(QRectF(x - 30, rect.bottom() + 2, 60, metrics.height()),
                             Qt.AlignmentFlag.AlignHCenter, f"{tick:g}")
        for tick in y_ticks:
            y = self.to_screen(x0, tick).y()
            painter.drawText(QRectF(0, y - metrics.height() / 2, rect.left() - 4, metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{tick:g}")
        painter.drawText(QRectF(rect.left(), rect.bottom() + metrics.height() + 2, rect.width(),
                                metrics.height() + 2), Qt.AlignmentFlag.AlignHCenter,
                         "x: value before")
        painter.drawText(QRectF(rect.left(), rect.top() - metrics.height() - 4, rect.width(),
                                metrics.height() + 2), Qt.AlignmentFlag.AlignLeft, "y: value after")
        painter.save()
        painter.setClipRect(rect)
        if self.curve_x.size > 1:
            path = QPainterPath(self.to_screen(float(self.curve_x[0]), float(self.curve_y[0])))
            for x, y in zip(self.curve_x[1:], self.curve_y[1:]):
                path.lineTo(self.to_screen(float(x), float(y)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(60, 60, 60), line_width(2)))
            painter.drawPath(path)
        # the layer's own values on top of the curve: they sit exactly on it
        painter.setPen(QPen(QColor(150, 50, 0, 150), line_width(1)))
        painter.setBrush(QColor(245, 130, 30, 110))
        radius = 3.5
        for x, y in self.points:
            painter.drawEllipse(self.to_screen(float(x), float(y)), radius, radius)
        if self.marked is not None:
            point = self.to_screen(*self.marked)
            painter.setPen(QPen(QColor(20, 20, 20), line_width(1), Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(point.x(), zero.y()), point)
            painter.drawLine(QPointF(zero.x(), point.y()), point)
            painter.setPen(QPen(QColor(20, 20, 20), line_width(2)))
            painter.setBrush(QColor(255, 220, 0))
            painter.drawEllipse(point, 7, 7)
        painter.restore()
        painter.setPen(QPen(QColor(150, 150, 150), line_width(1)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)
        bold = self._label_font()
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(QRectF(4, 0, self.width() - 8, self._label_height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(self.label, Qt.TextElideMode.ElideRight,
                                                       self.width() - 8))
        painter.end()


class ActivationView(QWidget):
    """An activation layer explained: curve + points on the left, the selected channel before
    and after on the right; pointing at a value follows it along the curve."""

    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: ActivationSteps | None = None
        self._pinned: tuple[int, ...] | None = None
        self._class_names: list[str] = []
        layout = QVBoxLayout(self)
        self.headline = headline_label()
        layout.addWidget(self.headline)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages, 1)
        elementwise = QWidget()
        row = QHBoxLayout(elementwise)
        row.setContentsMargins(0, 0, 0, 0)
        self.curve = ActivationCurve()
        self.maps = MapRow()
        row.addWidget(self.curve, 4)
        row.addWidget(self.maps, 5)
        self.pages.addWidget(elementwise)
        self.softmax_view = SoftmaxView()
        self.pages.addWidget(self.softmax_view)
        self.detail = note_label()
        set_relative_font(self.detail, 1.15)
        layout.addWidget(self.detail)
        self.maps.cell_hovered.connect(self._hover)
        self.maps.cell_clicked.connect(self._pin)
        self.maps.channel_changed.connect(self._channel_shown)

    def set_steps(self, steps: ActivationSteps) -> None:
        self.steps = steps
        self._pinned = None
        before = np.asarray(steps.input, np.float32)
        after = np.asarray(steps.output, np.float32)
        parameters = getattr(steps, "parameters", {}) or {}
        self.headline.setText(activation_headline(steps.function, before, after, parameters,
                                                  self._class_names))
        if steps.function == "softmax" and steps.softmax is not None:
            self.softmax_view.set_steps(steps.softmax)
            self.pages.setCurrentWidget(self.softmax_view)
            self.detail.setText("")
            return
        self.pages.setCurrentIndex(0)
        label = f"{display_name(steps.function)}:  {formula_text(steps.function, parameters)}"
        if steps.function == "softmax":  # on a stack of maps: each pixel's channels together
            label = "Softmax mixes the channels of each pixel: no single curve"
        self.curve.set_data(steps.curve_x, steps.curve_y, before, after, label)
        self.maps.set_panels([("before", before), ("after", after)],
                             [display_name(steps.function)], channel=most_varied_channel(before))
        self._show_detail(None)

    def set_class_names(self, names: list[str] | None) -> None:
        """Names for a softmax's outputs (class labels)."""
        self._class_names = [str(name) for name in (names or [])]
        self.softmax_view.set_class_names(names)
        if self.steps is not None and self.steps.function == "softmax":
            self.set_steps(self.steps)

    def set_channel(self, channel: int) -> None:
        self.maps.set_channel(channel)

    def channel(self) -> int:
        return self.maps.channel()

    def set_channel_picker_visible(self, visible: bool) -> None:
        """Hide the view's own channel picker (when the owner has one)."""
        self.maps.set_picker_visible(visible)

    def _channel_shown(self, channel: int) -> None:
        if self.steps is None:
            return
        before = self.maps.channel_values(0)
        after = self.maps.channel_values(1)
        if self.steps.function in ("relu", "relu6"):
            zeroed = int(np.sum((before != 0) & (after == 0)))
            text = f"{zeroed} of {before.size} set to zero in this channel"
        else:
            text = (f"this channel: {format_value(before.min())} … {format_value(before.max())}"
                    f" → {format_value(after.min())} … {format_value(after.max())}")
        self.maps.note.setText(text)
        self._pinned = None
        self._show_detail(None)
        self.channel_changed.emit(channel)

    def _pin(self, position) -> None:
        self._pinned = position
        self._show_detail(position)

    def _hover(self, position) -> None:
        self._show_detail(position if position is not None else self._pinned)

    def _show_detail(self, position: tuple[int, ...] | None) -> None:
        self.maps.set_highlight(position)
        if position is None or self.steps is None:
            self.curve.set_marked(None)
            self.detail.setText("Point at a value in the maps to follow it along the curve; "
                                "click to keep it marked.")
            return
        x = float(np.asarray(self.steps.input)[position])
        y = float(np.asarray(self.steps.output)[position])
        self.curve.set_marked((x, y))
        self.detail.setText(f"input{position_text(position)} = {format_value(x)}  →  "
                            f"{display_name(self.steps.function)}  →  {format_value(y)}")

    def summary_text(self) -> str:
        if self.steps is None:
            return ""
        lines = [self.headline.text()]
        if self.pages.currentWidget() is self.softmax_view:
            lines.append(self.softmax_view.summary_text())
        else:
            lines += [f"channel {self.maps.channel()}: {self.maps.note.text()}", self.detail.text()]
        return "\n".join(lines)
