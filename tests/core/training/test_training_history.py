"""The training record behind the charts, the progress line and the CSV export."""

from __future__ import annotations

import csv
import io
import math

import pytest

from cnnviz.core.errors import CnnvizError
from cnnviz.core.training.history import ThroughputClock, TrainingHistory


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


def test_running_means_become_means_of_the_batches_since_the_last_report():
    history = TrainingHistory()
    # Batch losses 4, 2, 2, 0 (accuracy 0, .5, .5, 1): Keras reports the running means.
    history.add_batch(0, 0, 4, {"loss": 4.0, "accuracy": 0.0})
    history.add_batch(0, 2, 4, {"loss": 8 / 3, "accuracy": 1 / 3})   # batches 2 and 3 unseen
    history.add_batch(0, 3, 4, {"loss": 2.0, "accuracy": 0.5})
    history.add_batch(1, 0, 4, {"loss": 0.5, "accuracy": 0.75})      # a new epoch starts afresh
    assert [p.loss for p in history.batches] == pytest.approx([4.0, 2.0, 0.0, 0.5])
    assert [p.accuracy for p in history.batches] == pytest.approx([0.0, 0.5, 1.0, 0.75])


def test_smoothing_starts_at_the_first_value_and_skips_nan():
    history = TrainingHistory()
    for epoch, loss in enumerate([4.0, float("nan"), 2.0, 2.0]):
        history.add_batch(epoch, 0, 1, {"loss": loss})
    xs, ys = history.smoothed_batches("loss", span=1.0)
    assert xs == [1.0, 3.0, 4.0]
    assert ys[0] == pytest.approx(4.0)  # debiased: not pulled towards zero
    keep = math.exp(-2.0)  # two epochs from the first point to the next finite one
    assert ys[1] == pytest.approx((keep * 4 + (1 - keep) * 2) / (keep + (1 - keep)))
    assert ys[1] > ys[2] > 2.0
    assert all(math.isfinite(y) for y in ys)
    assert history.smoothed_batches("accuracy") == ([], [])  # no accuracy was logged


def test_smoothing_depends_on_epochs_not_on_how_often_batches_were_reported():
    def running_mean(batch: int) -> float:  # batch losses 1 for the first 50 batches, then 0
        return min(batch + 1, 50) / (batch + 1)

    sparse, dense = TrainingHistory(), TrainingHistory()
    for batch in range(9, 100, 10):
        sparse.add_batch(0, batch, 100, {"loss": running_mean(batch)})
    for batch in range(100):
        dense.add_batch(0, batch, 100, {"loss": running_mean(batch)})
    assert [p.loss for p in sparse.batches] == pytest.approx([1.0] * 5 + [0.0] * 5)
    sparse_line, dense_line = sparse.smoothed_batches("loss")[1], dense.smoothed_batches("loss")[1]
    assert sparse_line[-1] == pytest.approx(dense_line[-1], abs=0.05)
    assert sparse_line[-1] < 0.05  # half an epoch after the fall, the line has followed it


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


def test_an_epoch_stopped_part_way_is_recorded_as_partial_not_as_a_whole_epoch():
    history = TrainingHistory()
    for batch in range(4):
        history.add_batch(0, batch, 4, {"loss": 1.0, "accuracy": 0.5})
    history.add_epoch({"loss": 1.0, "accuracy": 0.5})
    history.add_batch(1, 0, 4, {"loss": 0.8, "accuracy": 0.6})
    history.add_batch(1, 2, 4, {"loss": 0.7, "accuracy": 0.7})   # stopped after batch 3 of 4
    history.add_epoch({"loss": 0.7, "accuracy": 0.7})
    assert history.partial == {2: (3, 4)}
    assert history.epoch_position(1) == 1.0
    assert history.epoch_position(2) == pytest.approx(1.75)
    assert history.partial_text(2) == "epoch 2 (stopped at batch 3/4)"
    assert history.partial_text(1) == "epoch 1"


def test_partial_epochs_can_be_said_explicitly_and_whole_ones_are_not_partial():
    history = TrainingHistory()
    history.add_epoch({"loss": 1.0}, batches_done=10, batches_per_epoch=10)
    history.add_epoch({"loss": 0.9}, batches_done=4, batches_per_epoch=10)
    history.add_epoch({"loss": 0.8})        # no batch reports: nothing says it was cut short
    assert history.partial == {2: (4, 10)}
