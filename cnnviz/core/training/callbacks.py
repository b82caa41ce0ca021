"""The Keras callbacks behind `training.train`: live reports, pause/stop, NaN, keep-best.

Keras is imported only when a callback class is first needed (each class is created once,
by a cached factory), so importing this module stays instant and Qt-free.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cnnviz.core.atomic_save import save_file_atomically
from cnnviz.core.errors import TrainingError

Logs = dict[str, Any]  # Keras's logs: metric name → value
BatchCallback = Callable[[int, int, int, Logs], None]
EpochCallback = Callable[[int, Logs], None]

PAUSE_POLL_SECONDS = 0.02
# Usual starting points; after a blow-up we never suggest more than these.
DEFAULT_LEARNING_RATES: dict[str, float] = {"sgd": 0.01, "rmsprop": 0.001, "adam": 0.001}


@dataclass
class Run:
    """What the engine callback needs and records during one `train` call (plain data)."""

    batches_per_epoch: int
    report_interval: float                  # seconds between on_batch calls
    learning_rate: float                    # for the advice after a blow-up
    optimizer: str
    on_batch: BatchCallback | None
    on_epoch: EpochCallback | None
    should_stop: Callable[[], bool]
    is_paused: Callable[[], bool]
    on_every_batch: Callable[[int, int], None] | None = None  # (epoch, batch), unthrottled
    validation: Any = None                  # tf.data.Dataset or None
    epoch_logs: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str | None = None
    diverged: bool = False


def monitor_mode(monitor: str) -> str:
    """'max' for accuracies, 'min' for losses."""
    return "max" if monitor.endswith("accuracy") else "min"


def _is_float(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Keras sorts log keys alphabetically; people read loss first, then accuracy, train then val.
_LOG_ORDER = ("loss", "accuracy", "val_loss", "val_accuracy")


def ordered_logs(logs: Logs) -> dict[str, float]:
    """The numeric entries of `logs` as floats: loss, accuracy, val_loss, val_accuracy first."""
    keys = [k for k in _LOG_ORDER if k in logs] + [k for k in logs if k not in _LOG_ORDER]
    return {k: float(logs[k]) for k in keys if _is_float(logs[k])}


def divergence_message(loss: float, epoch: int, batch: int, learning_rate: float,
                       optimizer: str) -> str:
    """What to tell the user when the loss stops being a finite number."""
    what = "NaN (not a number)" if math.isnan(loss) else "infinite"
    lower = min(learning_rate / 10, DEFAULT_LEARNING_RATES.get(optimizer.lower(), 0.001))
    return (f"The loss became {what} in epoch {epoch + 1}, batch {batch + 1}: the weights grew "
            f"out of range. Try a lower learning rate (for example {lower:g} instead of "
            f"{learning_rate:g}) and train again from fresh weights.")


@functools.cache
def engine_callback_class() -> type:
    """The Keras Callback that forwards logs (throttled), stops on request or NaN, waits while
    paused, and validates at the end of each epoch."""
    import keras

    class EngineCallback(keras.callbacks.Callback):  # type: ignore[misc]  # Keras ships no types
        def __init__(self, run: Run) -> None:
            super().__init__()
            self.run = run
            self.epoch = 0
            self.last_report = -math.inf  # so the very first batch is reported at once
            self.pending: tuple[int, Logs] | None = None  # the newest batch not yet reported

        def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
            self.epoch, self.pending = epoch, None

        def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
            # Runs after every batch: keep it to a few comparisons. Keras has already turned
            # the logs into Python floats (it does so whenever a callback wants batch logs).
            run = self.run
            logs = logs if logs is not None else {}
            loss = logs.get("loss")
            if loss is not None and not math.isfinite(loss):
                run.stop_reason = divergence_message(loss, self.epoch, batch,
                                                     run.learning_rate, run.optimizer)
                run.diverged = True
                self.pending = (batch, logs)  # reported at the epoch's end, so charts see it
                self.model.stop_training = True
                return
            if run.on_batch is not None:
                now = time.monotonic()
                last_of_epoch = batch + 1 >= run.batches_per_epoch
                if last_of_epoch or now - self.last_report >= run.report_interval:
                    self.last_report, self.pending = now, None
                    run.on_batch(self.epoch, batch, run.batches_per_epoch, logs)
                else:
                    self.pending = (batch, logs)
            if run.on_every_batch is not None:
                run.on_every_batch(self.epoch, batch)
            if run.should_stop():
                self.stop_by_user(batch)
            elif run.is_paused():
                self.wait_while_paused(batch)

        def wait_while_paused(self, batch: int | None) -> None:
            while self.run.is_paused():
                if self.run.should_stop():
                    self.stop_by_user(batch)
                    return
                time.sleep(PAUSE_POLL_SECONDS)

        def stop_by_user(self, batch: int | None) -> None:
            run = self.run
            if run.stop_reason is None:
                where = f"epoch {self.epoch + 1}"
                if batch is not None and batch + 1 < run.batches_per_epoch:
                    where += f" (after batch {batch + 1} of {run.batches_per_epoch})"
                run.stop_reason = f"stopped by user during {where}"
            self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
            run = self.run
            logs = logs if logs is not None else {}
            if self.pending is not None and run.on_batch is not None:
                batch, batch_logs = self.pending
                self.pending = None
                run.on_batch(epoch, batch, run.batches_per_epoch, batch_logs)
            # After a stop or a blow-up there is nothing worth validating.
            if run.validation is not None and run.stop_reason is None:
                self.validate(logs)
            # Early stopping, the checkpoint, TensorBoard and History get this same dict after
            # us (Keras passes one dict down the list), so the val_* entries reach them too.
            run.epoch_logs.append(ordered_logs(logs))
            if run.on_epoch is not None:
                run.on_epoch(epoch, dict(run.epoch_logs[-1]))
            if not self.model.stop_training and run.is_paused():
                self.wait_while_paused(None)

        def validate(self, logs: Logs) -> None:
            results = self.model.evaluate(self.run.validation, verbose=0, return_dict=True,
                                          callbacks=[stop_evaluating_class()(self)])
            if self.model.stop_training:  # interrupted: partial figures would mislead
                return
            logs.update({f"val_{k}": v for k, v in results.items() if _is_float(v)})

    return EngineCallback


@functools.cache
def stop_evaluating_class() -> type:
    """A callback that lets stop and pause requests reach the validation pass between batches."""
    import keras

    class StopEvaluating(keras.callbacks.Callback):  # type: ignore[misc]  # Keras ships no types
        def __init__(self, engine: Any) -> None:
            super().__init__()
            self.engine = engine

        def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
            run = self.engine.run
            if run.is_paused():
                self.engine.wait_while_paused(None)
            if run.should_stop():
                self.engine.stop_by_user(None)
            if self.engine.model.stop_training:
                self.engine.model.stop_evaluating = True

    return StopEvaluating


@functools.cache
def quiet_early_stopping_class() -> type:
    """EarlyStopping that silently skips epochs without a usable value (cut short, NaN)."""
    import keras

    class QuietEarlyStopping(keras.callbacks.EarlyStopping):  # type: ignore[misc]  # Keras ships no types
        def get_monitor_value(self, logs: Logs | None) -> float | None:
            value = (logs or {}).get(self.monitor)
            # Keras would warn about a missing value and take NaN as a first "best".
            return value if value is not None and math.isfinite(value) else None

    return QuietEarlyStopping


@functools.cache
def keep_best_class() -> type:
    """A callback that saves the model whenever `monitor` improves, atomically."""
    import keras

    class KeepBestCheckpoint(keras.callbacks.Callback):  # type: ignore[misc]  # Keras ships no types
        def __init__(self, path: Path, monitor: str) -> None:
            super().__init__()
            self.path, self.monitor = path, monitor
            self.maximize = monitor_mode(monitor) == "max"
            self.best: float | None = None
            self.best_epoch: int | None = None

        def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
            value = (logs or {}).get(self.monitor)
            if value is None or not math.isfinite(value):
                return
            improved = self.best is None or (value > self.best if self.maximize
                                             else value < self.best)
            if not improved:
                return
            self.best, self.best_epoch = value, epoch
            # A temporary file renamed over the old one: a crash mid-save never leaves a
            # broken checkpoint behind (Keras picks the format from the .keras suffix).
            try:
                save_file_atomically(self.path, self.model.save)
            except OSError as exc:
                raise TrainingError(f"Cannot keep the best model in {self.path}: "
                                    f"{exc.strerror or exc}.") from exc

    return KeepBestCheckpoint
