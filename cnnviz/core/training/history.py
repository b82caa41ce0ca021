"""What a training run has recorded so far: per-batch points, per-epoch logs, CSV export.

Plain Python, no TensorFlow and no Qt, so the charts, the CLI and the tests share it.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import SupportsFloat

from cnnviz.core.errors import CnnvizError
from cnnviz.core.atomic_save import save_text_atomically


@dataclass
class BatchPoint:
    """One reported batch: where it is on the epoch axis (epoch + fraction) and its logs."""

    position: float  # 0.5 = halfway through the first epoch
    loss: float
    accuracy: float | None


@dataclass
class TrainingHistory:
    """Everything recorded across one or more `train` calls on the same model."""

    batches: list[BatchPoint] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)  # logs per finished epoch
    # Epochs that ended before their last batch (stopped, or the loss blew up), by epoch
    # number from 1: (batches done, batches per epoch). Their logs are means over those
    # batches only, not over a whole epoch.
    partial: dict[int, tuple[int, int]] = field(default_factory=dict)
    # (epoch, batch, running means) of the last batch report, to turn running means into
    # means over the batches between two reports.
    _last_report: tuple[int, int, dict[str, float]] | None = field(default=None, repr=False)
    # (epoch, batch, batches per epoch) of the last batch report, both 0-based.
    last_batch: tuple[int, int, int] | None = None

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    def add_batch(self, epoch: int, batch: int, batches_per_epoch: int,
                  logs: dict[str, float]) -> BatchPoint:
        """Record a batch report; `batch` is 0-based within `epoch` (0-based).

        Keras reports the mean since the epoch began, which jumps at every new epoch and
        hides how the latest batches went. The point stores the mean over the batches since
        the previous report of the same epoch instead, worked back from the two running means.
        """
        position = epoch + (batch + 1) / max(1, batches_per_epoch)
        previous = self._last_report if self._last_report and self._last_report[0] == epoch \
            and self._last_report[1] < batch else None
        values = []
        for key in ("loss", "accuracy"):
            running = _optional_float(logs.get(key))
            if running is not None and previous is not None and key in previous[2]:
                done_before = previous[1] + 1
                running = (running * (batch + 1) - previous[2][key] * done_before) / (batch + 1 - done_before)
            values.append(running)
        self._last_report = (epoch, batch, {k: float(v) for k, v in logs.items()
                                            if k in ("loss", "accuracy")})
        self.last_batch = (epoch, batch, max(1, batches_per_epoch))
        point = BatchPoint(position, math.nan if values[0] is None else values[0], values[1])
        self.batches.append(point)
        return point

    def add_epoch(self, logs: dict[str, float], batches_done: int | None = None,
                  batches_per_epoch: int | None = None) -> None:
        """Record the logs of the epoch that just ended (the next epoch number).

        An epoch that ended before its last batch is recorded as partial: pass how many of
        its batches ran, or leave both out and the last batch report of this epoch says it
        (the engine reports the last batch it ran before the epoch's end).
        """
        number = len(self.epochs) + 1
        if batches_done is None and self.last_batch is not None \
                and self.last_batch[0] == number - 1:
            batches_done, batches_per_epoch = self.last_batch[1] + 1, self.last_batch[2]
        self.epochs.append({key: float(value) for key, value in logs.items()})
        if batches_done is not None and batches_per_epoch is not None \
                and 0 < batches_done < batches_per_epoch:
            self.partial[number] = (batches_done, batches_per_epoch)

    @property
    def running_means(self) -> dict[str, float]:
        """Keras's means since the start of the epoch of the last batch report ({} if none)."""
        return dict(self._last_report[2]) if self._last_report is not None else {}

    def epoch_position(self, number: int) -> float:
        """Where epoch `number` (from 1) ended on the epoch axis: `number` for a whole epoch,
        less for one stopped part-way (2.35: epoch 3 stopped after 35% of its batches)."""
        if number in self.partial:
            done, total = self.partial[number]
            return number - 1 + done / total
        return float(number)

    def partial_text(self, number: int) -> str:
        """"epoch 3 (stopped at batch 40/113)" for a partial epoch, "epoch 3" otherwise."""
        if number in self.partial:
            done, total = self.partial[number]
            return f"epoch {number} (stopped at batch {done}/{total})"
        return f"epoch {number}"

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """Per-epoch values of `key` ('loss', 'val_accuracy', ...) as (epoch numbers from 1, values)."""
        xs, ys = [], []
        for number, logs in enumerate(self.epochs, start=1):
            if key in logs:
                xs.append(number)
                ys.append(logs[key])
        return xs, ys

    def smoothed_batches(self, key: str, span: float = 0.1) -> tuple[list[float], list[float]]:
        """Per-batch `key` ('loss' or 'accuracy') smoothed by an exponential moving average.

        span: the average's time constant in epochs, so the line looks the same however
        often batches were reported. Debiased like TensorBoard's, so the first points are
        not pulled towards zero.
        """
        xs, ys = [], []
        average = norm = 0.0
        last_position: float | None = None
        for point in self.batches:
            value = point.loss if key == "loss" else point.accuracy
            if value is None or not math.isfinite(value):
                continue
            step = 0.0 if last_position is None else max(0.0, point.position - last_position)
            keep = math.exp(-step / span) if span > 0 else 0.0
            average = keep * average + (1 - keep) * value if last_position is not None else value
            norm = keep * norm + (1 - keep) if last_position is not None else 1.0
            last_position = point.position
            xs.append(point.position)
            ys.append(average / norm)
        return xs, ys

    def to_csv(self) -> str:
        """One row per finished epoch: epoch, then every logged metric (loss, accuracy, val_...)."""
        keys: list[str] = []
        for logs in self.epochs:
            keys += [k for k in logs if k not in keys]
        # Keras logs come in alphabetical order; a reader expects loss first, validation after.
        preferred = ["loss", "accuracy", "val_loss", "val_accuracy"]
        keys = [k for k in preferred if k in keys] + [k for k in keys if k not in preferred]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for number, logs in enumerate(self.epochs, start=1):
            writer.writerow([number, *(_csv_number(logs.get(k)) for k in keys)])
        return out.getvalue()

    def save_csv(self, path: str | Path) -> None:
        """Write `to_csv()` atomically; raises CnnvizError if nothing is recorded or it cannot write."""
        if not self.epochs:
            raise CnnvizError("There is no finished epoch to export yet.")
        save_text_atomically(path, self.to_csv())


def _optional_float(value: SupportsFloat | None) -> float | None:
    return None if value is None else float(value)


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


@dataclass
class ThroughputClock:
    """Samples per second and time left, from batch reports, for the progress line.

    The rate is measured over the last few seconds of reports, using the time each report
    was made (not when the GUI got round to it), so a burst of queued reports cannot make
    it jump.
    """

    started: float = field(default_factory=time.monotonic)
    window_seconds: float = 3.0
    samples_done: int = 0
    _marks: deque[tuple[float, int]] = field(default_factory=deque)  # (time, samples done), oldest first

    def update(self, samples_done: int, now: float | None = None) -> None:
        """Record that `samples_done` samples had been processed in total at time `now`."""
        now = time.monotonic() if now is None else now
        if not self._marks:
            self._marks.append((self.started, 0))
        self.samples_done = samples_done
        self._marks.append((now, samples_done))
        while len(self._marks) > 2 and now - self._marks[1][0] >= self.window_seconds:
            self._marks.popleft()

    def skip_gap(self, now: float | None = None) -> None:
        """Forget the time spent paused, so the rate stays honest after a resume."""
        now = time.monotonic() if now is None else now
        self._marks = deque([(now, self.samples_done)])

    @property
    def samples_per_second(self) -> float:
        if len(self._marks) < 2:
            return 0.0
        (first_time, first_done), (last_time, last_done) = self._marks[0], self._marks[-1]
        if last_time - first_time <= 1e-6:
            return 0.0
        return (last_done - first_done) / (last_time - first_time)

    def seconds_left(self, samples_total: int) -> float | None:
        rate = self.samples_per_second
        if rate <= 0:
            return None
        return max(0.0, (samples_total - self.samples_done) / rate)
