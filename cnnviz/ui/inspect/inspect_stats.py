"""The inspector's weight statistics: one BackgroundTask at a time computes a layer's
statistics (and a Conv2D's kernel), late results are cached but shown only if still wanted,
and the statistics, kernel and warnings go on screen. A mixin of InspectPanel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnviz.ui.common.workers import BackgroundTask

HISTOGRAM_BINS = 40


class InspectStatsMixin:
    """Computing and showing the picked layer's weight statistics, for InspectPanel."""

    def _start_stats_task(self, index: int, keras_layer: Any, is_conv: bool) -> None:
        """Run one statistics task at a time (a big layer's copy is not cheap on two cores):
        while one runs, the newest request waits and older waiting ones are forgotten."""
        request = (self._generation, self._cache, index, keras_layer, is_conv)
        if self._running is not None:
            self._pending = request
            return
        self._run_stats_task(*request)

    def _run_stats_task(self, generation: int, cache: dict, index: int, keras_layer: Any,
                        is_conv: bool) -> None:
        def layer_weight_stats(_report):
            from cnnviz.core.inspect.inspection import weight_stats

            stats = weight_stats(keras_layer, bins=HISTOGRAM_BINS)
            kernel = bias = None
            if is_conv:
                arrays = [np.asarray(a) for a in keras_layer.get_weights()]
                kernel = next((a for a in arrays if a.ndim == 4), None)
                bias = next((a for a in arrays if a.ndim == 1), None)
            return stats, kernel, bias

        task = BackgroundTask(layer_weight_stats)   # kept in self._tasks until it ends
        task.succeeded.connect(lambda result: self._deliver(generation, cache, index, result))
        task.failed.connect(lambda message, _details: self._task_failed(generation, message))
        task.finished.connect(lambda: self._task_ended(task))
        self._tasks.add(task)
        self._running = task
        task.start()

    def _deliver(self, generation: int, cache: dict, index: int, result: tuple) -> None:
        cache[index] = result  # right for its layer even if the user moved on: reuse later
        if generation != self._generation:
            return  # the user picked another layer (or model) meanwhile
        self._set_stats(*result)
        self.stats_shown.emit(index)

    def _task_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.status_label.setText(f"Could not compute the statistics: {message}")
            self.histogram.clear("No statistics")

    def _task_ended(self, task: BackgroundTask) -> None:
        self._tasks.discard(task)
        task.deleteLater()
        if task is not self._running:
            return
        self._running, pending, self._pending = None, self._pending, None
        if pending is None or pending[0] != self._generation:
            return  # nothing waits, or the user has moved on from what waited
        generation, cache, index = pending[:3]
        if index in cache:  # the task that just ended was for this very layer
            self._deliver(generation, cache, index, cache[index])
        else:
            self._run_stats_task(*pending)

    def _set_stats(self, stats: list, kernel: np.ndarray | None,
                   bias: np.ndarray | None) -> None:
        self.weights_view.set_stats(stats)
        unreadable = [f"{stat.name} has {stat.nonfinite:,} NaN or infinite values, left out "
                      f"of its statistics." for stat in stats if getattr(stat, "nonfinite", 0)]
        if unreadable:
            self.status_label.setText("  ".join(unreadable))
        self.status_label.setVisible(not stats or bool(unreadable))
        if kernel is not None:
            name = self._info.layers[self._shown_layer].name if self._shown_layer is not None \
                else ""
            self.filter_grid.set_kernel(kernel, name, bias=bias)
        self.filter_grid.setVisible(kernel is not None)
