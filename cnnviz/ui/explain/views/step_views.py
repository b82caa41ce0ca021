"""The "Step by step" page of the explainer: the right view for each layer kind, its selectors,
and the playback bar for the animated kinds (convolution and pooling)."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QSpinBox, QStackedWidget,
    QVBoxLayout, QWidget,
)

from cnnviz.core.explain.frames import LayerSteps
from cnnviz.ui.explain.playback import Playback, PlaybackBar, bind_step_view
from cnnviz.ui.common.zoom import set_relative_font
from cnnviz.ui.explain.views.view_parts import WrapRow

ANIMATED_KINDS = ("conv", "pool", "conv1d", "pool1d")
CONV_KINDS = ("conv", "conv1d")          # kinds with filters to choose from
SEQUENCE_KINDS = ("conv1d", "pool1d")    # a channel of a sequence, not of an image
RGB_NAMES = ("red", "green", "blue")


# Which view draws each layer kind: (module in cnnviz.ui.explain.views, class). Imported on first use.
_VIEWS: dict[str, tuple[str, str]] = {
    "conv": ("conv_step_view", "ConvStepView"),
    "pool": ("pool_step_view", "PoolStepView"),
    "activation": ("activation_view", "ActivationView"),
    "batchnorm": ("batchnorm_view", "BatchNormView"),
    "dense": ("dense_view", "DenseView"),
    "global_pool": ("vector_views", "GlobalPoolView"),
    "dropout": ("vector_views", "DropoutView"),
    "flatten": ("flatten_view", "FlattenView"),
    "conv1d": ("conv1d_step_view", "Conv1DStepView"),
    "pool1d": ("pool1d_step_view", "Pool1DStepView"),
    "global_pool1d": ("global_pool1d_view", "GlobalPool1DView"),
}


def _make_view(kind: str) -> QWidget:
    """One view per layer kind, created the first time that kind is shown."""
    module, name = _VIEWS.get(kind, ("generic_view", "GenericLayerView"))
    return getattr(importlib.import_module(f"cnnviz.ui.explain.views.{module}"), name)()


def channel_names(count: int, image: bool = True) -> list[str]:
    """How the channel selector names channels: red/green/blue for a colour image (not for
    the three channels of a signal, say an accelerometer's x, y and z)."""
    if count == 3 and image:
        return [f"{i}: {RGB_NAMES[i]}" for i in range(3)]
    return [f"channel {i}" for i in range(count)]


class StepViews(QWidget):
    """Shows one layer's steps: picks the view, fills the filter/channel selectors, plays."""

    filter_changed = Signal(int)
    channel_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: LayerSteps | None = None
        self.class_names: list[str] = []
        self._views: dict[str, QWidget] = {}
        self._pages: dict[str, QScrollArea] = {}   # each view in a scroll area of its own
        self._bound: set[str] = set()

        self.filter_label = QLabel("Filter")
        self.filter_box = QSpinBox()
        self.filter_box.setToolTip("Which filter (output channel) of the convolution to follow")
        self.filter_box.valueChanged.connect(self._filter_picked)
        self.channel_label = QLabel("Input channel")
        self.channel_box = QComboBox()
        self.channel_box.setMinimumContentsLength(10)
        self.channel_box.currentIndexChanged.connect(self._channel_picked)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setStyleSheet("color: palette(mid)")
        set_relative_font(self.caption)   # under a style sheet: follows the zoom only this way
        self.caption.setWordWrap(True)    # wraps rather than widening the page at a large zoom

        selectors = QHBoxLayout()
        selectors.setContentsMargins(0, 0, 0, 0)
        for widget in (self.filter_label, self.filter_box, self.channel_label, self.channel_box):
            selectors.addWidget(widget)
        selectors.addSpacing(8)
        selectors.addWidget(self.caption, 1)
        self.caption.setMinimumWidth(1)
        self.numbers_box = QCheckBox("Numbers on maps, always")
        self.numbers_box.setChecked(False)
        self.numbers_box.setToolTip(
            "Maps up to 32×32 carry their values when there is room for them.\nTicked: "
            "always, and the view scrolls when the room is too small for them.")
        self.numbers_box.toggled.connect(self._numbers_toggled)
        self.caption.setMinimumHeight(self.filter_box.sizeHint().height())
        # In a narrow room (a large zoom on a small screen) the check box goes under the
        # selectors rather than widening the page.
        self.selectors_row = WrapRow(selectors, [self.numbers_box], self._selectors_width)

        self.stack = QStackedWidget()
        self.playback = Playback(parent=self)
        self.bar = PlaybackBar(self.playback)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.selectors_row)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.bar)
        self._show_selectors(filters=0, channels=0)

    def _selectors_width(self) -> int:
        """The width the filter and channel selectors need, with a little of the caption."""
        shown = [w for w in (self.filter_label, self.filter_box, self.channel_label,
                             self.channel_box) if not w.isHidden()]
        return sum(w.sizeHint().width() + 6 for w in shown) + \
            self.caption.fontMetrics().averageCharWidth() * 12

    # ------------------------------------------------------------------ views

    def view(self, kind: str | None = None) -> QWidget:
        kind = kind or (self.steps.kind if self.steps is not None else "generic")
        if kind not in self._views:
            view = _make_view(kind)
            self._views[kind] = view
            if hasattr(view, "set_numbers_always"):
                view.set_numbers_always(self.numbers_box.isChecked())
            page = QScrollArea()
            page.setWidgetResizable(True)   # the view fills the room, and scrolls when larger
            page.setFrameShape(QFrame.Shape.NoFrame)
            page.setWidget(view)
            self._pages[kind] = page
            self.stack.addWidget(page)
        return self._views[kind]

    def current_view(self) -> QWidget | None:
        page = self.stack.currentWidget()
        return page.widget() if isinstance(page, QScrollArea) else None

    def current_page(self) -> QScrollArea | None:
        """The scroll area around the current view."""
        page = self.stack.currentWidget()
        return page if isinstance(page, QScrollArea) else None

    def _numbers_toggled(self, on: bool) -> None:
        for view in self._views.values():
            if hasattr(view, "set_numbers_always"):
                view.set_numbers_always(on)

    @property
    def animated(self) -> bool:
        return self.steps is not None and self.steps.kind in ANIMATED_KINDS

    def set_class_names(self, names: list[str]) -> None:
        self.class_names = list(names)
        for view in self._views.values():
            if hasattr(view, "set_class_names"):
                view.set_class_names(self.class_names)

    def set_steps(self, steps: LayerSteps, keep_place: bool = False) -> None:
        """Show `steps`; `keep_place` keeps filter, channel and step (a refresh of the same layer)."""
        previous = self.steps
        same_layer = (keep_place and previous is not None and previous.name == steps.name
                      and previous.kind == steps.kind)
        position = self.playback.position() if same_layer else 0
        self.playback.pause()
        self.steps = steps
        kind = steps.kind
        view = self.view(kind)
        if hasattr(view, "set_class_names"):
            view.set_class_names(self.class_names)
        view.set_steps(steps)
        self.stack.setCurrentWidget(self._pages[kind])
        self._fill_selectors(steps, same_layer)
        if kind in ANIMATED_KINDS:
            if kind not in self._bound:
                bind_step_view(view, self.playback)
                self._bound.add(kind)
            self.playback.set_count(view.step_count())
            self.playback.set_position(min(position, max(0, view.step_count() - 1)), force=True)
        self.bar.setVisible(kind in ANIMATED_KINDS)
        # Only the 2-D maps can carry their numbers; a sequence's numbers are in the middle.
        self.numbers_box.setVisible(kind in ("conv", "pool"))
        self.caption.setText(self._caption(steps))

    def _caption(self, steps: LayerSteps) -> str:
        shape_in = "×".join(str(d) for d in np.shape(steps.input))
        shape_out = "×".join(str(d) for d in np.shape(steps.output))
        return f"{steps.name}: {shape_in} → {shape_out}"

    # ------------------------------------------------------------------ selectors

    def _show_selectors(self, filters: int, channels: int) -> None:
        self.filter_label.setVisible(filters > 0)
        self.filter_box.setVisible(filters > 0)
        self.channel_label.setVisible(channels > 1)
        self.channel_box.setVisible(channels > 1)
        self.selectors_row.rearrange()

    def _fill_selectors(self, steps: LayerSteps, keep: bool) -> None:
        kind = steps.kind
        view = self.view(kind)
        filters = int(steps.kernel.shape[-1]) if kind in CONV_KINDS else 0
        channels = 0
        # Activation, batch-norm and dropout views carry their own channel picker.
        if kind in ("conv", "pool") and np.ndim(steps.input) == 3:
            channels = int(np.shape(steps.input)[2])
        if kind in SEQUENCE_KINDS and np.ndim(steps.input) == 2:
            channels = int(np.shape(steps.input)[1])
        self.channel_label.setText("Input channel" if kind in CONV_KINDS else "Channel")
        self.filter_box.blockSignals(True)
        old_filter = self.filter_box.value()
        self.filter_box.setRange(0, max(0, filters - 1))
        self.filter_box.setValue(old_filter if keep and old_filter < filters else 0)
        self.filter_box.blockSignals(False)
        self.channel_box.blockSignals(True)
        old_channel = self.channel_box.currentIndex()
        self.channel_box.clear()
        self.channel_box.addItems(channel_names(channels, image=kind not in SEQUENCE_KINDS))
        self.channel_box.setCurrentIndex(old_channel if keep and 0 <= old_channel < channels else 0)
        self.channel_box.blockSignals(False)
        self._show_selectors(filters, channels)
        if filters and hasattr(view, "set_filter"):
            view.set_filter(self.filter_box.value())
        if channels and hasattr(view, "set_channel"):
            view.set_channel(max(0, self.channel_box.currentIndex()))

    def select_filter(self, index: int) -> None:
        """Follow filter `index` (from a click in the filter or feature-map grid)."""
        if self.filter_box.isVisible() and 0 <= index <= self.filter_box.maximum():
            self.filter_box.setValue(index)

    def select_channel(self, index: int) -> None:
        if 0 <= index < self.channel_box.count():
            self.channel_box.setCurrentIndex(index)

    def _filter_picked(self, index: int) -> None:
        view = self.current_view()
        if (self.steps is not None and self.steps.kind in CONV_KINDS
                and hasattr(view, "set_filter")):
            view.set_filter(index)
        self.filter_changed.emit(index)

    def _channel_picked(self, index: int) -> None:
        view = self.current_view()
        if index >= 0 and hasattr(view, "set_channel"):
            view.set_channel(index)
        self.channel_changed.emit(index)

    def summary(self) -> dict[str, Any]:
        """What is on show, for tests and the status line."""
        return {"kind": None if self.steps is None else self.steps.kind,
                "layer": None if self.steps is None else self.steps.name,
                "filter": self.filter_box.value() if self.filter_box.isVisible() else None,
                "channel": self.channel_box.currentIndex() if self.channel_box.isVisible() else None,
                "step": self.playback.position(), "steps": self.playback.count()}
