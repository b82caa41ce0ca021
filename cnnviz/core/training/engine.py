"""The training engine: Keras `fit` with live reports, pause, stop and readable failures.

`train(model, data, config, on_batch, on_epoch, should_stop, is_paused)` runs `model.fit`
with one Keras callback that forwards logs to plain callables (no Qt here: the GUI worker
turns them into signals), waits between batches while paused, and stops within one batch
when asked, keeping the weights. A NaN or infinite loss stops training with advice.

Epoch numbers are absolute and 0-based. `config.epochs` is how many epochs THIS call trains:
`train(..., initial_epoch=k)` trains epochs k .. k + epochs - 1, so "train more after a stop"
is `later = train(model, data, config, initial_epoch=first.epochs_done)` and the whole
history is `first.merged_with(later).history`. The optimizer keeps its state between calls
as long as the optimizer settings stay the same.

Validation runs at the end of each epoch inside the callback (not by `fit` itself), so a
stop request also interrupts it, and an epoch cut short by a stop skips it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from cnnviz.core.atomic_save import writable_target_problem
from cnnviz.core.training.augmentation import (
    AugmentConfig, evaluation_dataset, training_dataset, validate_augment,
)
from cnnviz.core.errors import TrainingError
from cnnviz.core.training.callbacks import (
    BatchCallback, EpochCallback, Run, engine_callback_class, keep_best_class, monitor_mode,
    quiet_early_stopping_class,
)
from cnnviz.core.training.checks import (
    check_model_fits_data, keras_io_shapes, keras_output_activation,
)

if TYPE_CHECKING:
    import keras

__all__ = [
    "TrainConfig", "TrainResult", "loss_for", "compile_for_training", "validate_config", "train",
    "evaluate_test", "OPTIMIZERS", "MONITORS", "TrainingRecorder",
]

OPTIMIZERS: tuple[str, ...] = ("sgd", "rmsprop", "adam")
MONITORS: tuple[str, ...] = ("val_loss", "val_accuracy", "loss", "accuracy")
_SIGNATURE_ATTRIBUTE = "_cnnviz_training_signature"


@dataclass
class TrainConfig:
    """Everything the user sets for one training run."""

    optimizer: str = "adam"              # "sgd" (with momentum) | "rmsprop" | "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9                # SGD only
    batch_size: int = 64
    epochs: int = 5                      # epochs to train in this call (after initial_epoch)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    early_stopping: bool = False
    monitor: str = "val_loss"            # for early stopping and the checkpoint
    patience: int = 3
    restore_best: bool = True
    checkpoint_path: str | None = None   # keep-best .keras checkpoint
    tensorboard_dir: str | None = None
    seed: int | None = None              # shuffling and augmentation
    batch_report_interval: float = 0.05  # seconds between on_batch calls (last batch always)


@dataclass
class TrainResult:
    """What one `train` call did. history[key][i] belongs to epoch first_epoch + i."""

    history: dict[str, list[float]]
    epochs_done: int                     # absolute: pass it as the next call's initial_epoch
    stopped: bool                        # ended before its planned epochs
    stop_reason: str | None
    first_epoch: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. "restored the weights of epoch 3"

    def merged_with(self, later: "TrainResult") -> "TrainResult":
        """This result followed by a later call's (started at initial_epoch=self.epochs_done).

        Histories are concatenated key by key; a key one run lacks is filled with NaN so every
        list keeps one value per epoch. The stop state is the later run's.
        """
        mine = len(next(iter(self.history.values()), []))
        theirs = len(next(iter(later.history.values()), []))
        keys = list(self.history) + [k for k in later.history if k not in self.history]
        history = {k: list(self.history.get(k, [math.nan] * mine))
                   + list(later.history.get(k, [math.nan] * theirs)) for k in keys}
        return TrainResult(history, later.epochs_done, later.stopped, later.stop_reason,
                           self.first_epoch, self.notes + later.notes)


class TrainingRecorder(Protocol):
    """Told about a run as it happens, to keep a record of it (core.experiments.recording's
    RunRecorder writes the run store). `started` comes just before the first batch, after the
    settings and the model were checked; `ended` always follows it, with the result or the
    error that ended training."""

    def started(self, model: Any, data: Any, config: "TrainConfig", initial_epoch: int) -> None: ...

    def epoch_ended(self, epoch: int, logs: dict[str, float]) -> None: ...

    def ended(self, result: "TrainResult | None", error: BaseException | None) -> None: ...


# ---------------------------------------------------------------- settings


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_config(config: TrainConfig) -> None:
    """Raise TrainingError with a readable sentence for the first impossible setting."""
    if str(config.optimizer).lower() not in OPTIMIZERS:
        raise TrainingError(f"Unknown optimizer '{config.optimizer}'. Choose one of: "
                            f"{', '.join(OPTIMIZERS)}.")
    if not _is_number(config.learning_rate) or config.learning_rate <= 0:
        raise TrainingError(f"The learning rate must be a number above 0, such as 0.001; "
                            f"got {config.learning_rate!r}.")
    if not _is_number(config.momentum) or not 0 <= config.momentum < 1:
        raise TrainingError(f"The momentum must be a number from 0 up to (not including) 1, "
                            f"such as 0.9; got {config.momentum!r}.")
    if not _is_whole(config.batch_size) or config.batch_size < 1:
        raise TrainingError(f"The batch size must be a whole number of at least 1, such as 64; "
                            f"got {config.batch_size!r}.")
    if not _is_whole(config.epochs) or config.epochs < 1:
        raise TrainingError(f"The number of epochs must be a whole number of at least 1; "
                            f"got {config.epochs!r}.")
    if config.monitor not in MONITORS:
        raise TrainingError(f"Cannot watch '{config.monitor}'; choose one of: "
                            f"{', '.join(MONITORS)}.")
    if not _is_whole(config.patience) or config.patience < 0:
        raise TrainingError(f"The patience must be a whole number of epochs (0 or more); "
                            f"got {config.patience!r}.")
    if not _is_number(config.batch_report_interval) or config.batch_report_interval < 0:
        raise TrainingError("The batch report interval must be 0 or more seconds.")
    if config.seed is not None and not _is_whole(config.seed):
        raise TrainingError(f"The seed must be a whole number; got {config.seed!r}.")
    validate_augment(config.augment)
    if config.checkpoint_path:
        path = Path(config.checkpoint_path)
        if path.suffix.lower() != ".keras":
            raise TrainingError(f"The keep-best checkpoint must be a .keras file; "
                                f"got '{path.name}'.")
        if path.is_dir():
            raise TrainingError(f"{path} is a folder; choose a file name ending in .keras.")
        # Found before training, not at the first improvement (issue 13).
        problem = writable_target_problem(path)
        if problem:
            raise TrainingError(f"Cannot keep the best model in {path}: {problem}")


# ---------------------------------------------------------------- loss and compile


def _output_units_and_activation(model: "keras.Model") -> tuple[int | None, str | None]:
    try:
        _, output_shape = keras_io_shapes(model)
    except ValueError:
        return None, None
    units = output_shape[-1] if output_shape else None
    return units, keras_output_activation(model)


def loss_for(model: "keras.Model") -> str:
    """'binary_crossentropy' for one output unit (two classes), else
    'sparse_categorical_crossentropy' (one output per class)."""
    units, _ = _output_units_and_activation(model)
    return "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"


def _signature(model: "keras.Model", config: TrainConfig) -> str:
    """What compile_for_training depends on, except the learning rate (changed in place)."""
    name = config.optimizer.lower()
    momentum = f"|{config.momentum!r}" if name == "sgd" else ""
    _, activation = _output_units_and_activation(model)
    return f"{name}{momentum}|{loss_for(model)}|logits={activation == 'linear'}"


def compile_for_training(model: "keras.Model", config: TrainConfig) -> None:
    """Compile with the config's optimizer and learning rate, the loss that fits the output,
    and one accuracy metric named "accuracy" (so logs read loss/accuracy/val_loss/val_accuracy).

    An output without activation ('linear') is treated as raw scores (from_logits). Raises
    TrainingError for impossible settings. Compiling starts a fresh optimizer.
    """
    validate_config(config)
    import keras

    name = config.optimizer.lower()
    if name == "sgd":
        optimizer = keras.optimizers.SGD(config.learning_rate, momentum=config.momentum)
    elif name == "rmsprop":
        optimizer = keras.optimizers.RMSprop(config.learning_rate)
    else:
        optimizer = keras.optimizers.Adam(config.learning_rate)
    _, activation = _output_units_and_activation(model)
    logits = activation == "linear"
    if loss_for(model) == "binary_crossentropy":
        loss: Any = keras.losses.BinaryCrossentropy(from_logits=logits)
        # With raw scores the boundary between the classes is 0, not a probability of 0.5.
        metric: Any = keras.metrics.BinaryAccuracy(name="accuracy",
                                                   threshold=0.0 if logits else 0.5)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=logits)
        metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    setattr(model, _SIGNATURE_ATTRIBUTE, _signature(model, config))


def _ensure_compiled(model: "keras.Model", config: TrainConfig) -> None:
    """Compile only when needed, so training more epochs keeps the optimizer's state."""
    if (getattr(model, _SIGNATURE_ATTRIBUTE, None) == _signature(model, config)
            and getattr(model, "optimizer", None) is not None):
        if not math.isclose(float(model.optimizer.learning_rate), config.learning_rate,
                            rel_tol=1e-6):
            model.optimizer.learning_rate = config.learning_rate
        return
    compile_for_training(model, config)


# ---------------------------------------------------------------- train / evaluate


def _never() -> bool:
    return False


def _prepare_tensorboard_dir(folder: str) -> None:
    import importlib.util

    # TensorFlow writes summaries through the separate tensorboard package.
    if importlib.util.find_spec("tensorboard") is None:
        raise TrainingError("TensorBoard logs need the 'tensorboard' package, which is not "
                            "installed (pip install tensorboard). Untick the TensorBoard "
                            "option to train without it.")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise TrainingError(f"Cannot create the TensorBoard log folder {folder}: "
                            f"{exc.strerror or exc}.") from None


def train(model: "keras.Model", data: Any, config: TrainConfig,
          on_batch: BatchCallback | None = None,
          on_epoch: EpochCallback | None = None,
          should_stop: Callable[[], bool] | None = None,
          is_paused: Callable[[], bool] | None = None,
          initial_epoch: int = 0,
          on_every_batch: Callable[[int, int], None] | None = None,
          recorder: TrainingRecorder | None = None) -> TrainResult:
    """Train `model` on `data` for `config.epochs` epochs, numbered from `initial_epoch`.

    on_batch(epoch, batch, batches_per_epoch, logs): the first batch, then at most one call
    per `batch_report_interval` seconds, and always the last batch of each epoch.
    on_epoch(epoch, logs): after each epoch, with val_* entries when the data has a
    validation split (an epoch cut short by a stop has none). should_stop() is asked after
    every batch: training then ends within one batch, weights kept. While is_paused() is
    True the engine waits between batches. on_every_batch(epoch, batch), unthrottled, is for
    work that must happen between two batches (the explainer's look at the weights); keep
    it cheap. All callables run on the calling thread. `recorder` (a TrainingRecorder) keeps
    a record of the run: the app and `cnnviz train` pass one that writes the run store.

    Raises TrainingError for impossible settings or a model that does not fit the data,
    before anything is trained; other exceptions (out of memory, ...) propagate.
    """
    validate_config(config)
    if not _is_whole(initial_epoch) or initial_epoch < 0:
        raise TrainingError(f"The first epoch must be 0 or more; got {initial_epoch!r}.")
    errors = [m for m in check_model_fits_data(model, data) if m.severity == "error"]
    if errors:
        raise TrainingError(errors[0].message)
    count = int(data.train.count)
    if count < 1:
        raise TrainingError("The training data is empty: there is nothing to train on.")
    if config.tensorboard_dir:
        _prepare_tensorboard_dir(config.tensorboard_dir)
    should_stop = should_stop or _never
    is_paused = is_paused or _never
    if should_stop():
        return TrainResult({}, initial_epoch, True, "stopped by user before training started",
                           initial_epoch)

    _ensure_compiled(model, config)
    if recorder is not None:
        on_epoch = _recording_epochs(on_epoch, recorder)
    binary = loss_for(model) == "binary_crossentropy"
    run = Run(math.ceil(count / config.batch_size), config.batch_report_interval,
              config.learning_rate, config.optimizer, on_batch, on_epoch, should_stop, is_paused,
              on_every_batch)
    train_data = training_dataset(data.train, config.batch_size, config.augment, binary,
                                  config.seed)
    if getattr(data, "validation", None) is not None and int(data.validation.count) > 0:
        run.validation = evaluation_dataset(data.validation, config.batch_size, binary)

    notes: list[str] = []
    monitor = config.monitor
    if monitor.startswith("val_") and run.validation is None:
        monitor = monitor[len("val_"):]
        if config.early_stopping or config.checkpoint_path:
            notes.append(f"There is no validation data, so {monitor} on the training data is "
                         f"watched instead of {config.monitor}.")
    callbacks: list[Any] = [engine_callback_class()(run)]  # first: it adds val_* for the rest
    early = keep_best = None
    if config.early_stopping:
        early = quiet_early_stopping_class()(
            monitor=monitor, patience=config.patience, mode=monitor_mode(monitor),
            restore_best_weights=config.restore_best)
        callbacks.append(early)
    if config.checkpoint_path:
        keep_best = keep_best_class()(Path(config.checkpoint_path), monitor)
        callbacks.append(keep_best)
    if config.tensorboard_dir:
        import keras

        callbacks.append(keras.callbacks.TensorBoard(log_dir=config.tensorboard_dir))

    if recorder is None:
        model.fit(train_data, epochs=initial_epoch + config.epochs, initial_epoch=initial_epoch,
                  verbose=0, callbacks=callbacks, shuffle=False)  # the split shuffles itself
    else:
        recorder.started(model, data, config, initial_epoch)
        try:
            model.fit(train_data, epochs=initial_epoch + config.epochs,
                      initial_epoch=initial_epoch, verbose=0, callbacks=callbacks, shuffle=False)
        except BaseException as exc:
            recorder.ended(None, exc)
            raise

    reason = run.stop_reason
    if early is not None and early.stopped_epoch > 0 and reason is None:
        reason = (f"early stopping: {monitor} did not improve for {config.patience} "
                  f"epoch{'s' if config.patience != 1 else ''}")
    last_epoch = initial_epoch + len(run.epoch_logs) - 1
    if early is not None and early.restore_best_weights and early.best_weights is not None:
        if early.best_epoch != last_epoch:
            # Recent Keras does this itself at the end of every run; older 3.x only when
            # early stopping triggered. Either way "restore best" should mean the best.
            model.set_weights(early.best_weights)
            notes.append(f"Restored the weights of epoch {early.best_epoch + 1}, which had "
                         f"the best {monitor}.")
    elif run.diverged and reason is not None:
        reason += " The current weights are unusable."
    if keep_best is not None and keep_best.best_epoch is not None:
        notes.append(f"The best model (epoch {keep_best.best_epoch + 1}) is in "
                     f"{config.checkpoint_path}.")
    result = TrainResult(_columns(run.epoch_logs), initial_epoch + len(run.epoch_logs),
                         reason is not None, reason, initial_epoch, notes)
    if recorder is not None:
        recorder.ended(result, None)
    return result


def _recording_epochs(on_epoch: EpochCallback | None,
                      recorder: TrainingRecorder) -> EpochCallback:
    """on_epoch, telling the recorder first."""
    def both(epoch: int, logs: dict[str, float]) -> None:
        recorder.epoch_ended(epoch, logs)
        if on_epoch is not None:
            on_epoch(epoch, logs)
    return both


def _columns(rows: list[dict[str, float]]) -> dict[str, list[float]]:
    """Per-epoch dicts → one list per key, NaN where an epoch lacks a key (cut short)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    return {k: [row.get(k, math.nan) for row in rows] for k in keys}


def evaluate_test(model: "keras.Model", data: Any, batch_size: int = 256) -> dict[str, float]:
    """Loss and accuracy on the test split: {"loss": ..., "accuracy": ...}.

    Compiles the model first if `train` never did. Raises TrainingError when the data has no
    test split or the model does not fit it.
    """
    if getattr(data, "test", None) is None or int(data.test.count) < 1:
        raise TrainingError("This data has no test images, so there is nothing to measure.")
    if not _is_whole(batch_size) or batch_size < 1:
        raise TrainingError(f"The batch size must be a whole number of at least 1; "
                            f"got {batch_size!r}.")
    errors = [m for m in check_model_fits_data(model, data) if m.severity == "error"]
    if errors:
        raise TrainingError(errors[0].message)
    compiled_by_us = getattr(model, _SIGNATURE_ATTRIBUTE, None) is not None
    if not compiled_by_us or getattr(model, "optimizer", None) is None:
        compile_for_training(model, TrainConfig())
    binary = loss_for(model) == "binary_crossentropy"
    results = model.evaluate(evaluation_dataset(data.test, batch_size, binary), verbose=0,
                             return_dict=True)
    return {"loss": float(results["loss"]), "accuracy": float(results["accuracy"])}
