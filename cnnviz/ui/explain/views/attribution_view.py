"""The "Where it looks" page: a Grad-CAM, saliency or integrated-gradients map over the input.

Pickers for the method, Grad-CAM's conv layer and the class (the predicted one or any other),
an opacity slider; the input with the map over it (an image: heat mixed in where the map is
high; a signal: its lines over a heat band), the map itself at its own resolution, and a
"less / more important" legend. The maps are computed by cnnviz.core.explain.attribution in
the background, where only the newest request counts (NewestRequest): moving through inputs
or classes quickly never queues up stale maps.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QBoxLayout, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget,
)

from cnnviz.core.explain.attribution import (
    METHOD_TITLES, METHODS, Attribution, AttributionMap, conv_layer_paths, heat_colours,
    normalized, overlay_rgb, upsampled,
)
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import scaled
from cnnviz.ui.explain.views.view_parts import WrapRow

WIDGET_SIZE_MAX = 16_777_215   # Qt's QWIDGETSIZE_MAX: no maximum
SERIES_LINE_COLOURS = ("#000000", "#1f5fbf", "#2e7d32", "#8e24aa", "#c62828")


def rgb_image(rgb: np.ndarray) -> QImage:
    """A uint8 (height, width, 3) array as a QImage that owns its pixels."""
    data = np.ascontiguousarray(rgb, np.uint8)
    height, width = data.shape[:2]
    return QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class _AttributionCache:
    """One Attribution for the model on show, built in a worker thread, shared by the next."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._attribution: Attribution | None = None

    def get(self, model: Any) -> Attribution:
        with self._lock:
            if self._model is not model or self._attribution is None:
                self._attribution, self._model = Attribution(model), model
            return self._attribution


class HeatLegend(QWidget):
    """The colour scale: dark for less important, bright for more important."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        colours = heat_colours(np.linspace(0.0, 1.0, 11))
        self._stops = [QColor(int(r), int(g), int(b)) for r, g, b in colours]

    def sizeHint(self) -> QSize:  # noqa: N802
        line = self.fontMetrics().height()
        return QSize(scaled(320), line + scaled(16))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(scaled(200), self.sizeHint().height())

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        painter = QPainter(self)
        metrics = self.fontMetrics()
        less, more = "less important", "more important"
        bar = QRectF(metrics.horizontalAdvance(less) + 8, 2,
                     max(20, self.width() - metrics.horizontalAdvance(less + more) - 16),
                     self.height() - 4)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for index, colour in enumerate(self._stops):
            gradient.setColorAt(index / (len(self._stops) - 1), colour)
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().windowText().color())
        painter.drawRect(bar)
        middle = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(0, 0, bar.left() - 6, self.height()),
                         middle | Qt.AlignmentFlag.AlignRight, less)
        painter.drawText(QRectF(bar.right() + 6, 0, self.width(), self.height()),
                         middle | Qt.AlignmentFlag.AlignLeft, more)


class MapPicture(QWidget):
    """An RGB picture scaled to fit, pixels kept square and sharp; or, for a signal, its lines
    over a heat band (one colour per step).

    crisp: the picture is a map shown cell by cell (never smoothed): a 2-D map gets the same
    whole number of screen pixels for every cell, and cells large enough to tell apart get a
    thin line between them, so "11×11, the size of the layer's maps" can be counted on
    screen. A band keeps the full width, lined up with the signal drawn above it."""

    CELL_LINES_FROM = 12   # cells at least this many (zoomed) pixels wide get separating lines

    def __init__(self, minimum: int, parent: QWidget | None = None, crisp: bool = False) -> None:
        super().__init__(parent)
        self._minimum = minimum
        self._crisp = crisp
        self._image: QImage | None = None
        self._series: np.ndarray | None = None   # (steps, channels) drawn over the band
        self._band = False                        # a one-row band: fill the room
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(scaled(self._minimum), scaled(self._minimum) // (4 if self._band else 1))

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(scaled(self._minimum * 2), scaled(self._minimum * 2))

    def clear(self) -> None:
        self._image, self._series, self._band = None, None, False
        self.update()

    def set_rgb(self, rgb: np.ndarray, series: np.ndarray | None = None,
                band: bool = False) -> None:
        """Show `rgb` (height, width, 3). band: `rgb` is one row stretched over the room;
        with `series` (steps, channels) its lines are drawn over the band."""
        self._image = rgb_image(rgb)
        self._series = None if series is None else np.asarray(series, np.float32)
        self._band = band or series is not None
        self.updateGeometry()
        self.update()

    def picture_rect(self) -> QRectF:
        """Where the picture is drawn (an image keeps its proportions; a band fills the room)."""
        if self._image is None:
            return QRectF()
        if self._band:   # the full width, lined up with the signal above it, step by step
            return QRectF(4, 4, max(1, self.width() - 8), max(1, self.height() - 8))
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        if self._crisp and scale >= 1:
            scale = float(int(scale))   # every cell the same whole number of pixels
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF(float(int((self.width() - width) / 2)),
                      float(int((self.height() - height) / 2)), width, height)

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        if self._image is None:
            return
        painter = QPainter(self)
        target = self.picture_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self._image)
        if self._crisp:
            self._draw_cell_lines(painter, target)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(target)
        if self._series is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        series = self._series
        low, high = float(series.min()), float(series.max())
        span = high - low if high > low else 1.0
        steps = series.shape[0]
        for channel in range(series.shape[1]):
            path = QPainterPath()
            for step in range(steps):
                x = target.left() + (step + 0.5) / steps * target.width()
                y = target.bottom() - 6 - (series[step, channel] - low) / span * (target.height() - 12)
                point = QPointF(x, y)
                path.moveTo(point) if step == 0 else path.lineTo(point)
            colour = QColor(SERIES_LINE_COLOURS[channel % len(SERIES_LINE_COLOURS)])
            painter.setPen(QPen(QColor("#ffffff"), scaled(4)))   # a halo: readable on any heat
            painter.drawPath(path)
            painter.setPen(QPen(colour, scaled(2)))
            painter.drawPath(path)


    def _draw_cell_lines(self, painter: QPainter, target: QRectF) -> None:
        """Thin dark lines between the map's cells, when the cells are big enough to count."""
        assert self._image is not None
        columns, rows = self._image.width(), self._image.height()
        cell_width = target.width() / columns
        cell_height = target.height() / rows
        painter.setPen(QPen(QColor(0, 0, 0, 70), 1))
        if cell_width >= scaled(self.CELL_LINES_FROM):
            for column in range(1, columns):
                x = int(target.left() + column * cell_width)
                painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
        if rows > 1 and cell_height >= scaled(self.CELL_LINES_FROM):
            for row in range(1, rows):
                y = int(target.top() + row * cell_height)
                painter.drawLine(QPointF(target.left(), y), QPointF(target.right(), y))


class AttributionView(QWidget):
    """Where the network looks for the explained input, for one class, by one method."""

    method_changed = Signal(str)   # one of METHODS: the lesson beside follows it
    map_ready = Signal()           # a new map is on show (tests wait for it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: Any = None
        self._image: np.ndarray | None = None
        self._class_names: list[str] = []
        self._trained = True
        self._cache = _AttributionCache()
        self._requests = NewestRequest(self)
        self.result: AttributionMap | None = None

        self.method_box = QComboBox()
        for method in METHODS:
            self.method_box.addItem(METHOD_TITLES[method], method)
        self.method_box.setItemData(METHODS.index("integrated-gradients"),
                                    "Gradients along the way from a black input to this one "
                                    "(32 steps)", Qt.ItemDataRole.ToolTipRole)
        self.method_box.setToolTip("How the map is worked out (the lesson beside explains each)")
        self.layer_label = QLabel("Layer")
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("Grad-CAM's convolution layer: deeper layers give coarser "
                                  "maps. A layer inside a network used as one layer (a "
                                  "transfer model's base) is listed as network/layer")
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class whose score the map explains: the one the model "
                                  "predicts, or any other")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(80)
        self.opacity.setMaximumWidth(scaled(140))
        self.opacity.setToolTip("How strongly the map covers the input")
        for box in (self.method_box, self.layer_box, self.class_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.method_box.setMinimumWidth(self.method_box.sizeHint().width())
        self.method_box.currentIndexChanged.connect(self._method_picked)
        self.layer_box.currentIndexChanged.connect(lambda _index: self.recompute())
        self.class_box.currentIndexChanged.connect(lambda _index: self.recompute())
        self.opacity.valueChanged.connect(lambda _value: self._draw())

        pickers = QHBoxLayout()
        pickers.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Method"), self.method_box, self.layer_label, self.layer_box):
            pickers.addWidget(widget)
        pickers.addStretch(1)
        tail = QWidget()
        tail_layout = QHBoxLayout(tail)
        tail_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Class"), self.class_box, QLabel("Opacity"), self.opacity):
            tail_layout.addWidget(widget)
        # In a narrow page the class and opacity go under the method and layer, never squeezed.
        controls = WrapRow(pickers, [tail], lambda: sum(
            widget.sizeHint().width() + 6 for widget in (self.method_box, self.layer_box))
            + self.fontMetrics().horizontalAdvance("Method Layer") + 12)
        self.opacity.setMinimumWidth(scaled(60))

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e")
        self.message.hide()
        self.overlay = MapPicture(180)
        self.overlay_title = QLabel("The input, with the map over it")
        self.raw = MapPicture(90, crisp=True)
        self.raw_title = QLabel("The map itself")
        self.raw_title.setWordWrap(True)
        for title in (self.overlay_title, self.raw_title):
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.legend = HeatLegend()

        overlay_column = QVBoxLayout()
        overlay_column.addWidget(self.overlay_title)
        overlay_column.addWidget(self.overlay, 1)
        raw_column = QVBoxLayout()
        raw_column.addWidget(self.raw_title)
        raw_column.addWidget(self.raw, 1)
        self.pictures = QHBoxLayout()
        self.pictures.addLayout(overlay_column, 3)
        self.pictures.addLayout(raw_column, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        layout.addWidget(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.message)
        layout.addLayout(self.pictures, 1)
        layout.addWidget(self.legend)
        self._show_layer_picker()

    # ------------------------------------------------------------------ what to explain

    def method(self) -> str:
        return str(self.method_box.currentData())

    def set_subject(self, model: Any, image: Any, class_names: list[str], trained: bool) -> None:
        """Explain `image` (the model's input, without the batch axis) with `model`."""
        self._trained = trained
        self._image = None if image is None else np.asarray(image, np.float32)
        if model is not self._model:
            self._model = model
            self._fill_layers()
        self._fill_classes(class_names)
        self.recompute()

    def _fill_layers(self) -> None:
        # Conv layers inside a nested network (a transfer model's base) as "network/layer".
        layers = conv_layer_paths(self._model) if self._model is not None else []
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for name in reversed(layers):   # the last conv layer, Grad-CAM's usual choice, first
            self.layer_box.addItem(name, name)
        self.layer_box.blockSignals(False)
        self.layer_box.setMinimumWidth(self.layer_box.sizeHint().width())
        gradcam_item = self.method_box.model().item(METHODS.index("gradcam"))  # type: ignore[attr-defined]
        gradcam_item.setEnabled(bool(layers))
        gradcam_item.setToolTip("" if layers else "Grad-CAM needs a convolution layer; this "
                                                  "model has none")
        if not layers and self.method() == "gradcam":
            self.method_box.setCurrentIndex(METHODS.index("saliency"))
        self._show_layer_picker()

    def _fill_classes(self, class_names: list[str]) -> None:
        try:
            count = int(self._model.outputs[0].shape[-1])
        except (AttributeError, IndexError, TypeError, ValueError):
            count = len(class_names)
        names = class_names if len(class_names) == count else [str(i) for i in range(count)]
        if names == self._class_names and self.class_box.count() == count + 1:
            return
        self._class_names = names
        chosen = self.class_box.currentData()
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("predicted", None)
        for index, name in enumerate(names):
            self.class_box.addItem(name if name == str(index) else f"{index}: {name}", index)
        found = self.class_box.findData(chosen) if chosen is not None else 0
        self.class_box.setCurrentIndex(max(0, found))
        self.class_box.blockSignals(False)
        self.class_box.setMinimumWidth(self.class_box.sizeHint().width())

    def _method_picked(self) -> None:
        self._show_layer_picker()
        self.method_changed.emit(self.method())
        self.recompute()

    def _show_layer_picker(self) -> None:
        gradcam = self.method() == "gradcam"
        self.layer_label.setVisible(gradcam)
        self.layer_box.setVisible(gradcam)

    # ------------------------------------------------------------------ background work

    def recompute(self) -> None:
        """Work out the map for the current choices (newest request wins)."""
        model, image = self._model, self._image
        if model is None or image is None:
            return
        method, layer = self.method(), self.layer_box.currentData()
        class_index = self.class_box.currentData()
        cache = self._cache
        if method == "gradcam" and layer is None:
            self._requests.supersede()
            self._failed("Grad-CAM needs a convolution layer, and this model has none. Pick "
                         "Saliency, which works on any model.", "")
            return
        self.caption.setText("Working out the map…")

        def work(report: Any) -> AttributionMap:
            report("Working out the map…", 0, 0)
            return cache.get(model).compute(method, image, layer, class_index)

        self._requests.submit(work, self._show, self._failed)

    def shutdown(self) -> None:
        self._requests.shutdown()

    @property
    def busy(self) -> bool:
        return self._requests.busy

    def _failed(self, message: str, details: str) -> None:
        self.result = None
        self.message.setText("⚠ " + message)
        self.message.show()
        self.caption.setText("")
        self.overlay.clear()
        self.raw.clear()

    def _show(self, result: AttributionMap) -> None:
        self.result = result
        self.message.hide()
        names = self._class_names
        name = names[result.class_index] if result.class_index < len(names) else str(result.class_index)
        at = f" at <b>{result.layer}</b>" if result.layer else ""
        steps = (f" ({result.steps} steps from a black input)"
                 if result.method == "integrated-gradients" else "")
        whose = ("the model's answer" if result.class_index == result.predicted else
                 f"not the model's answer ({names[result.predicted] if result.predicted < len(names) else result.predicted})")
        warning = ("" if self._trained else " <i>The weights are still random: train the "
                   "model for a map worth reading.</i>")
        self.caption.setText(
            f"{result.title}{at}{steps} for class <b>{name}</b>, {whose}. Its score before "
            f"the softmax: {result.score:.3g}.{warning}")
        shape = "×".join(str(size) for size in result.values.shape)
        shape += " steps" if result.values.ndim == 1 else ""
        self.raw_title.setText(f"The map itself: {shape}" + (
            f", the size of {result.layer}'s maps" if result.layer else ", one per input "
            + ("step" if result.values.ndim == 1 else "pixel")))
        self._draw()
        self.map_ready.emit()

    def _draw(self) -> None:
        result, image = self.result, self._image
        if result is None or image is None:
            return
        values = result.values
        opacity = self.opacity.value() / 100
        sequence = values.ndim == 1
        self.pictures.setDirection(QBoxLayout.Direction.TopToBottom if sequence
                                   else QBoxLayout.Direction.LeftToRight)
        self.pictures.setStretch(0, 4 if sequence else 3)
        self.pictures.setStretch(1, 1 if sequence else 2)
        # A band of one row needs little height; a 2-D map as much as the room gives.
        self.raw.setMaximumHeight(scaled(56) if sequence else WIDGET_SIZE_MAX)
        if sequence:   # a signal: its lines over a heat band, white where the map is 0
            strength = normalized(upsampled(values, (image.shape[0],)))
            alpha = (opacity * np.sqrt(strength))[None, :, None]
            band = heat_colours(strength)[None].astype(np.float64)
            mixed = np.rint(255 * (1 - alpha) + band * alpha).astype(np.uint8)
            self.overlay.set_rgb(mixed, image)
            self.raw.set_rgb(heat_colours(normalized(values))[None], band=True)
            return
        self.overlay.set_rgb(overlay_rgb(image, values, opacity))
        self.raw.set_rgb(heat_colours(normalized(values)))
