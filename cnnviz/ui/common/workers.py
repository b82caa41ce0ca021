"""Background work in QThreads: the only place core callbacks become Qt signals.

A worker emits signals and never touches a widget; Qt queues each signal to the GUI
thread. Errors a user can cause (CnnvizError) arrive as their message; anything else as
a short message plus the traceback for a "Details" box, so the app stays up either way.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from cnnviz.core.errors import CnnvizError


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(message for the user, details for the curious) of an exception from core code."""
    if isinstance(exc, CnnvizError):
        return str(exc), ""
    if isinstance(exc, MemoryError):
        return ("The computer ran out of memory. Try a smaller batch size, smaller images "
                "or a smaller model."), ""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"Something went wrong: {type(exc).__name__}: {exc}", details


class TaskCancelled(Exception):
    """Raised inside a task's `report` call once the task has been cancelled."""


class BackgroundTask(QThread):
    """Runs `function(report)` off the GUI thread; `report(stage, done, total)` → `progress`.

    `succeeded(result)` or `failed(message, details)` is emitted once at the end; neither
    after `cancel()`, which makes the next `report` call raise TaskCancelled so long work
    (a download) ends early.
    """

    progress = Signal(str, int, int)
    succeeded = Signal(object)
    failed = Signal(str, str)

    def __init__(self, function: Callable[[Callable[[str, int, int], None]], Any],
                 parent: Any = None) -> None:
        super().__init__(parent)
        self._function = function
        self._cancelled = threading.Event()
        self.setObjectName(getattr(function, "__name__", "task"))

    def cancel(self) -> None:
        self._cancelled.set()

    def finish(self, wait_ms: int = 30_000) -> None:
        """Cancel and wait for the thread, so it is never destroyed while running."""
        self.cancel()
        self.wait(wait_ms)

    def run(self) -> None:  # runs in the new thread
        try:
            result = self._function(self._report)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message
            if not self._cancelled.is_set():
                self.failed.emit(*describe_failure(exc))
        else:
            if not self._cancelled.is_set():
                self.succeeded.emit(result)

    def _report(self, stage: str, done: int, total: int) -> None:
        if self._cancelled.is_set():
            raise TaskCancelled()
        self.progress.emit(stage, int(done), int(total))


@dataclass
class TrainingOutcome:
    """What a finished training run hands back to the GUI thread."""

    model: Any                     # the keras.Model, trained (weights kept after a stop)
    result: Any                    # core.training.TrainResult
    test_metrics: dict[str, float] | None


class TrainingWorker(QThread):
    """Builds (if needed) and trains a model in the background; pause/stop are thread-safe."""

    # epoch, batch, batches per epoch, logs, time.monotonic() when the batch ended
    batch_reported = Signal(int, int, int, object, float)
    epoch_ended = Signal(int, object)               # epoch, logs
    stage = Signal(str)                             # "Building the model…", "Evaluating…"
    finished_training = Signal(object)              # TrainingOutcome
    failed = Signal(str, str)
    model_ready = Signal(object)                    # the keras.Model, before its first batch
    observed = Signal(object)                       # whatever `observer` returned

    def __init__(self, make_model: Callable[[], Any], dataset: Any, config: Any,
                 initial_epoch: int = 0, evaluate: bool = True, parent: Any = None,
                 observer: Callable[[Any, int, dict], Any] | None = None,
                 observe_every_batches: int = 0) -> None:
        """`observer(model, epoch, logs)` runs on this thread at the start (epoch -1 when
        training from scratch), after every epoch and, if `observe_every_batches` > 0, every
        that many batches; its result is emitted as `observed`. Running it here, between two
        batches, means it always sees one consistent set of weights."""
        super().__init__(parent)
        self._observer = observer
        self._observe_every = max(0, int(observe_every_batches))
        self._batches_seen = 0
        self._make_model = make_model
        self._dataset = dataset
        self._config = config
        self._initial_epoch = initial_epoch
        self._evaluate = evaluate
        self._stop = threading.Event()
        self._pause = threading.Event()

    # Called from the GUI thread; read by the engine's callback between batches.
    def request_stop(self) -> None:
        self._stop.set()
        self._pause.clear()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self._pause.set()
        else:
            self._pause.clear()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def run(self) -> None:  # runs in the new thread
        try:
            from cnnviz.core.training.engine import evaluate_test, train

            self.stage.emit("Preparing the model…")
            model = self._make_model()
            self.model_ready.emit(model)
            if self._initial_epoch == 0:
                self._observe(model, -1, {})
            self.stage.emit("Training…")

            def on_batch(epoch: int, batch: int, batches: int, logs: dict) -> None:
                self.batch_reported.emit(epoch, batch, batches, dict(logs), time.monotonic())

            def on_epoch(epoch: int, logs: dict) -> None:
                self.epoch_ended.emit(epoch, dict(logs))
                self._observe(model, epoch, dict(logs))

            result = train(
                model, self._dataset, self._config,
                on_batch=on_batch,
                on_epoch=on_epoch,
                on_every_batch=self._count_batch(model) if self._observe_every else None,
                should_stop=self._stop.is_set,
                is_paused=self._pause.is_set,
                initial_epoch=self._initial_epoch,
            )
            metrics = None
            if self._evaluate and self._dataset.test is not None and result.epochs_done > 0:
                self.stage.emit("Measuring accuracy on the test images…")
                metrics = evaluate_test(model, self._dataset, batch_size=256)
        except BaseException as exc:  # noqa: BLE001 - shown as a dialog, the app stays up
            self.failed.emit(*describe_failure(exc))
            return
        self.finished_training.emit(TrainingOutcome(model, result, metrics))

    def _observe(self, model: Any, epoch: int, logs: dict) -> None:
        if self._observer is None:
            return
        try:
            self.observed.emit(self._observer(model, epoch, logs))
        except Exception:  # noqa: BLE001 - a failed look at the weights must not end training
            traceback.print_exc()

    def _count_batch(self, model: Any) -> Callable[[int, int], None]:
        def every_batch(epoch: int, batch: int) -> None:
            self._batches_seen += 1
            if self._batches_seen % self._observe_every == 0:
                self._observe(model, epoch, {"batch": float(batch + 1)})
        return every_batch
