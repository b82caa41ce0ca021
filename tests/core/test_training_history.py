"""The training record behind the charts, the progress line and the CSV export."""

from __future__ import annotations

import csv
import io
import math

import pytest

from cnnviz.core.errors import CnnvizError
from cnnviz.core.training_history import ThroughputClock, TrainingHistory, format_duration


def test_batches_sit_on_the_epoch_axis_and_epochs_are_numbered_from_one():
    history = TrainingHistory()
    history.add_batch(0, 0, 4, {"loss": 2.0, "accuracy": 0.1})
    history.add_batch(0, 3, 4, {"loss": 1.0, "accuracy": 0.5})
    history.add_batch(1, 1, 4, {"loss": 0.5, "accuracy": 0.8})
    assert [p.position for p in history.batches] == [0.25, 1.0, 1.5]
    history.add_epoch({"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4})
    history.add_epoch({"loss": 0.5, "accuracy": 0.8, "val_loss": 0.9, "val_accuracy": 0.6})
    assert history.epochs_done == 2
    assert history.series("val_accuracy") == ([1, 2], [0.4, 0.6])
    assert history.series("missing") == ([], [])


def test_smoothing_starts_at_the_first_value_and_skips_nan():
    history = TrainingHistory()
    for batch, loss in enumerate([4.0, float("nan"), 2.0, 2.0]):
        history.add_batch(0, batch, 4, {"loss": loss})
    xs, ys = history.smoothed_batches("loss", weight=0.5)
    assert xs == [0.25, 0.75, 1.0]
    assert ys[0] == pytest.approx(4.0)  # debiased: not pulled towards zero
    assert ys[1] == pytest.approx((0.5 * 0.5 * 4 + 0.5 * 2) / (1 - 0.25))
    assert all(math.isfinite(y) for y in ys)
    assert history.smoothed_batches("accuracy") == ([], [])  # no accuracy was logged


def test_csv_has_a_row_per_epoch_with_every_metric(tmp_path):
    history = TrainingHistory()
    history.add_epoch({"loss": 0.75, "accuracy": 0.5})
    history.add_epoch({"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5})
    target = tmp_path / "höstory.csv"
    history.save_csv(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss"]
    assert rows[1] == ["1", "0.75", "0.5", ""]
    assert rows[2] == ["2", "0.25", "0.875", "0.5"]


def test_empty_history_or_bad_target_is_a_readable_error(tmp_path):
    with pytest.raises(CnnvizError, match="no finished epoch"):
        TrainingHistory().save_csv(tmp_path / "h.csv")
    history = TrainingHistory()
    history.add_epoch({"loss": 1.0})
    with pytest.raises(CnnvizError):
        history.save_csv(tmp_path / "missing-folder" / "h.csv")


def test_throughput_clock_rate_and_time_left():
    clock = ThroughputClock(started=100.0)
    assert clock.seconds_left(1000) is None
    clock.update(100, now=101.0)   # 100 images in the first second
    assert clock.samples_per_second == pytest.approx(100.0)
    clock.update(300, now=102.0)   # 200 more in the next
    assert clock.samples_per_second == pytest.approx(150.0)
    assert clock.seconds_left(1200) == pytest.approx(900 / 150.0)
    # Reports handled late, all at once, do not matter: the report times count.
    clock.update(400, now=102.5)
    clock.update(500, now=103.0)
    assert clock.samples_per_second == pytest.approx(500 / 3.0)
    clock.update(1100, now=105.0)  # faster now; reports older than ~3 s drop out
    assert clock.samples_per_second == pytest.approx((1100 - 300) / 3.0)


def test_throughput_clock_ignores_a_pause():
    clock = ThroughputClock(started=0.0)
    clock.update(100, now=1.0)
    clock.skip_gap(now=60.0)       # paused for a minute
    clock.update(200, now=61.0)
    assert clock.samples_per_second == pytest.approx(100.0)


def test_format_duration():
    assert format_duration(None) == "–"
    assert format_duration(42.4) == "0:42"
    assert format_duration(725) == "12:05"
    assert format_duration(3730) == "1:02:10"
