"""The inspector's weight statistics: the picked layer's statistics (and a Conv2D's kernel)
computed in the background, one task at a time, and put on screen.

A result that arrives after the user picked another layer is kept for its layer (going back
shows it at once) but not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from cnnviz.core.formatting import count_text
from cnnviz.ui.common.filter_grid import FilterGrid
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.inspect.weight_histogram import WeightHistogram, WeightStatsView

HISTOGRAM_BINS = 40
COMPUTING = "Computing statistics…"
NO_WEIGHTS = ("This layer has no weights: it computes its output from its input alone, "
              "nothing in it is learned.")

# (statistics, Conv2D kernel or None, Conv2D bias or None) of one layer
LayerStats = tuple[list, np.ndarray | None, np.ndarray | None]


def layer_stats(keras_layer: Any, is_conv: bool) -> LayerStats:
    """A layer's WeightStats and, for a Conv2D or Conv1D, its kernel ((kh, kw, C, F) or
    (k, C, F)) and bias (worker thread)."""
    from cnnviz.core.inspect.inspection import weight_stats

    stats = weight_stats(keras_layer, bins=HISTOGRAM_BINS)
    kernel = bias = None
    if is_conv:
        arrays = [np.asarray(a) for a in keras_layer.get_weights()]
        kernel = next((a for a in arrays if a.ndim in (3, 4)), None)
        bias = next((a for a in arrays if a.ndim == 1), None)
    return stats, kernel, bias


class WeightStatsController:
    """Shows the picked layer's weight statistics in the widgets it is given.

    One statistics task runs at a time (a big layer's copy is not cheap on two cores); while
    it runs only the newest request waits. Every finished task keeps its result for its layer
    of the current model, even when the user has moved on, so going back is instant.
    `on_shown(index)` is called once layer `index`'s statistics (or its "no weights" note)
    are on screen.
    """

    def __init__(self, weights_view: WeightStatsView, histogram: WeightHistogram,
                 status_label: QLabel, filter_grid: FilterGrid,
                 on_shown: Callable[[int], None], parent: QObject | None = None) -> None:
        self._weights_view = weights_view
        self._histogram = histogram
        self._status_label = status_label
        self._filter_grid = filter_grid
        self._on_shown = on_shown
        self._requests = NewestRequest(parent, one_at_a_time=True)
        self._cache: dict[int, LayerStats] = {}

    @property
    def busy(self) -> bool:
        """A statistics task runs (even one for a layer the user left) or waits to run."""
        return self._requests.busy or self._requests.threads_alive > 0

    def forget_model(self) -> None:
        """Another model (or none) is shown: drop the kept results and whatever is pending."""
        # A new dict: a task still running for the old model fills the old one.
        self._cache = {}
        self._requests.supersede()

    def show_nothing(self, message: str) -> None:
        """No layer is picked: empty statistics and `message` in the status label."""
        self._requests.supersede()
        self._set_stats([], None, None)
        self._status_label.setText(message)
        self._histogram.clear("")

    def show_layer(self, index: int, name: str, keras_layer: Any, is_conv: bool) -> None:
        """Show layer `index`'s statistics: at once if known, else once computed.

        `keras_layer` is the Keras layer (None if the model has none by that name), `name`
        its name for the kernel's title, `is_conv` whether to show its kernel as filters.
        """
        self._requests.supersede()
        self._set_stats([], None, None)
        if index in self._cache:
            self._set_stats(*self._cache[index], name)
            self._on_shown(index)
            return
        if keras_layer is None or not keras_layer.weights:
            self._status_label.setText(NO_WEIGHTS)
            self._histogram.clear("No weights")
            self._on_shown(index)
            return
        self._status_label.setText(COMPUTING)
        self._histogram.clear(COMPUTING)
        cache = self._cache

        def weight_statistics(_report) -> LayerStats:
            # Filled here, on the worker thread, so a result the user no longer waits for
            # (its task superseded, its delivery dropped) is still kept for its layer; a
            # request that waited behind the task for this very layer finds it at once.
            if index not in cache:
                cache[index] = layer_stats(keras_layer, is_conv)
            return cache[index]

        self._requests.submit(weight_statistics,
                              lambda result: self._deliver(index, name, result),
                              self._failed)

    def shutdown(self) -> None:
        """Cancel and wait for the statistics tasks (before the panel is destroyed)."""
        self._requests.shutdown()

    def _deliver(self, index: int, name: str, result: LayerStats) -> None:
        self._set_stats(*result, name)
        self._on_shown(index)

    def _failed(self, message: str, _details: str) -> None:
        self._status_label.setText(f"Could not compute the statistics: {message}")
        self._histogram.clear("No statistics")

    def _set_stats(self, stats: list, kernel: np.ndarray | None, bias: np.ndarray | None,
                   name: str = "") -> None:
        self._weights_view.set_stats(stats)
        unreadable = [f"{stat.name} has {count_text(stat.nonfinite)} NaN or infinite values, "
                      f"left out of its statistics." for stat in stats
                      if getattr(stat, "nonfinite", 0)]
        if unreadable:
            self._status_label.setText("  ".join(unreadable))
        self._status_label.setVisible(not stats or bool(unreadable))
        if kernel is not None:
            self._filter_grid.set_kernel(kernel, name, bias=bias)
        self._filter_grid.setVisible(kernel is not None)
