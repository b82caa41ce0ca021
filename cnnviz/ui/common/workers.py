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

from PySide6.QtCore import QObject, QThread, Signal

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


Report = Callable[[str, int, int], None]


class NewestRequest(QObject):
    """"Only the newest request counts" for one widget's background work.

    `submit(work, on_result)` numbers the request and runs `work(report)` in a
    BackgroundTask; `on_result`, `on_failure` and `on_progress` are called on the GUI thread
    only while that request is still the newest: a later `submit` or `supersede()` drops
    it (and cancels it at its next `report`). Every task stays referenced until its thread
    ends, so none is destroyed while running.

    one_at_a_time: run a single task at a time (for work too heavy to overlap on two cores);
    while one runs, the newest request waits and older waiting ones are forgotten.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, one_at_a_time: bool = False) -> None:
        super().__init__(parent)
        self._number = 0
        self._one_at_a_time = one_at_a_time
        self._tasks: set[BackgroundTask] = set()
        self._current: BackgroundTask | None = None
        self._waiting: tuple[int, Callable[[Report], Any], Callable[[Any], None],
                             Callable[[str, str], None] | None, Report | None] | None = None
        self._announced_busy = False

    @property
    def number(self) -> int:
        """The newest request's number (it grows with every submit and supersede)."""
        return self._number

    @property
    def busy(self) -> bool:
        """A request that still counts is running or waiting."""
        return self._current is not None or self._waiting is not None

    @property
    def threads_alive(self) -> int:
        """Tasks whose threads have not ended yet, superseded ones included."""
        return len(self._tasks)

    def is_newest(self, number: int) -> bool:
        return number == self._number

    def supersede(self) -> int:
        """The user moved on: drop whatever is running or waiting. Returns the new number."""
        self._number += 1
        if self._current is not None:
            self._current.cancel()
            self._current = None
        self._waiting = None
        self._announce()
        return self._number

    def submit(self, work: Callable[[Report], Any], on_result: Callable[[Any], None],
               on_failure: Callable[[str, str], None] | None = None,
               on_progress: Report | None = None) -> int:
        """Start `work(report)` as the newest request; returns its number."""
        self._number += 1
        if self._current is not None:
            self._current.cancel()
            self._current = None
        number = self._number
        if self._one_at_a_time and self._tasks:
            self._waiting = (number, work, on_result, on_failure, on_progress)
        else:
            self._waiting = None
            self._start(number, work, on_result, on_failure, on_progress)
        self._announce()
        return number

    def shutdown(self, wait_ms: int = 30_000) -> None:
        """Cancel everything and wait for the threads (the window is closing)."""
        self.supersede()
        for task in list(self._tasks):
            task.finish(wait_ms)
        self._tasks.clear()

    def _announce(self) -> None:
        if self.busy != self._announced_busy:
            self._announced_busy = self.busy
            self.busy_changed.emit(self._announced_busy)

    def _start(self, number: int, work: Callable[[Report], Any], on_result: Callable[[Any], None],
               on_failure: Callable[[str, str], None] | None, on_progress: Report | None) -> None:
        task = BackgroundTask(work)
        self._tasks.add(task)
        self._current = task
        # These run on the GUI thread: the task object lives there, so Qt queues its signals.
        task.progress.connect(lambda stage, done, total: self._progress(
            number, on_progress, stage, done, total))
        task.succeeded.connect(lambda result: self._succeeded(number, on_result, result))
        task.failed.connect(lambda message, details: self._failed(
            number, on_failure, message, details))
        task.finished.connect(lambda: self._ended(task))
        task.start()

    def _progress(self, number: int, on_progress: Report | None, stage: str, done: int,
                  total: int) -> None:
        if on_progress is not None and number == self._number:
            on_progress(stage, done, total)

    def _succeeded(self, number: int, on_result: Callable[[Any], None], result: Any) -> None:
        if number == self._number:
            self._finish_current()
            on_result(result)

    def _failed(self, number: int, on_failure: Callable[[str, str], None] | None, message: str,
                details: str) -> None:
        if number == self._number:
            self._finish_current()
            if on_failure is not None:
                on_failure(message, details)

    def _finish_current(self) -> None:
        self._current = None
        self._announce()

    def _ended(self, task: BackgroundTask) -> None:
        self._tasks.discard(task)
        task.deleteLater()
        if task is self._current:   # ended without reporting (cancelled by its own work)
            self._current = None
        waiting, self._waiting = self._waiting, None
        if waiting is not None and waiting[0] == self._number and not self._tasks:
            self._start(*waiting)
        elif waiting is not None and waiting[0] == self._number:
            self._waiting = waiting    # another superseded task is still winding down
        self._announce()


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
                 observe_every_batches: int = 0, recorder: Any = None) -> None:
        """`recorder` (core.training.engine.TrainingRecorder) keeps a record of the run.
        `observer(model, epoch, logs)` runs on this thread at the start (epoch -1 when
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
        self._recorder = recorder
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
                recorder=self._recorder,
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
