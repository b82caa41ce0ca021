"""The "Dense vs CNN with less data" study on the bundled MNIST sample, with tiny sizes and one
epoch: its numbers equal a plain Keras evaluation of the same trained models, every training
is a run in a real SQLite run store with the right training-set size, subsets nest, a stop
ends it early, and the chart shows the points on a log axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.experiments.data_size_study import (
    DataSizeStudyError, StudyPlan, StudyPoint, StudyResult, draw_chart, load_study_data,
    nested_subsets, plan_study, run_study, save_chart,
)
from cnnviz.core.experiments.run_store import RunStore

SIZES = [40, 120]


@pytest.fixture(scope="module")
def digits():
    return load_study_data(plan_study(SIZES, 1))


def test_plan_sorts_sizes_and_refuses_impossible_ones() -> None:
    assert plan_study([600, 300, 600], 2).sizes == [300, 600]
    assert plan_study().sizes == [300, 600, 1800, 3000, 5900]
    for sizes, epochs, words in (([], 1, "at least one"), ([0, 10], 1, "at least 1 image"),
                                 ([10], 0, "from 1 to 1000")):
        with pytest.raises(DataSizeStudyError, match=words):
            plan_study(sizes, epochs)


def test_each_subset_lies_inside_the_next_and_the_seed_decides_them() -> None:
    subsets = nested_subsets(1000, [10, 100, 500], seed=3)
    assert [len(subsets[s]) for s in (10, 100, 500)] == [10, 100, 500]
    assert set(subsets[10]) <= set(subsets[100]) <= set(subsets[500])
    assert np.array_equal(subsets[100], nested_subsets(1000, [100], seed=3)[100])
    assert not np.array_equal(subsets[100], nested_subsets(1000, [100], seed=4)[100])


def test_results_equal_plain_keras_and_every_training_is_a_recorded_run(digits,
                                                                         tmp_path: Path) -> None:
    import keras

    store_path = tmp_path / "runs.sqlite"
    plan = plan_study(SIZES, 1)
    models: dict[tuple[str, int], object] = {}
    texts: list[str] = []
    result = run_study(plan, digits, on_progress=lambda p: texts.append(p.text()),
                       on_point=lambda point, model: models.__setitem__(
                           (point.model, point.size), model),
                       store_path=store_path, tag="dense-vs-cnn test")
    assert not result.stopped and result.test_count == digits.test.count == 2000
    assert [(p.size, p.model) for p in result.points] == plan.trainings()
    assert "CNN, 120 images, epoch 1 of 1" in texts and "Dense, 40 images, starting" in texts

    x = digits.test.images(np.arange(digits.test.count)).astype("float32") / 255.0
    y = digits.test.labels()
    for point in result.points:
        model = models[(point.model, point.size)]
        probabilities = np.asarray(model(x, training=False))
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y))
        loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities)))
        assert point.test_accuracy == pytest.approx(accuracy, abs=1e-6)
        assert point.test_loss == pytest.approx(loss, rel=1e-4)
        assert point.epochs_done == 1

    with RunStore(store_path) as store:
        runs = {run.id: run for run in store.runs(tag="dense-vs-cnn test")}
    assert sorted(runs) == sorted(p.run_id for p in result.points)
    for point in result.points:
        run = runs[point.run_id]
        assert run.status == "finished" and run.train_count == point.size
        assert run.validation_count == 0 and run.test_count == 2000
        assert run.settings["model"] == point.model and run.settings["epochs"] == 1
        assert run.final["test_accuracy"] == pytest.approx(point.test_accuracy)
        assert run.model_name == point.model


def test_the_same_plan_gives_the_same_numbers_and_no_record_writes_nothing(
        digits, tmp_path: Path) -> None:
    plan = StudyPlan([40], 1, models=("dense_baseline",))
    first = run_study(plan, digits, record=False, store_path=tmp_path / "runs.sqlite")
    again = run_study(plan, digits, record=False, store_path=tmp_path / "runs.sqlite")
    assert [p.test_accuracy for p in first.points] == [p.test_accuracy for p in again.points]
    assert all(p.run_id is None for p in first.points)
    assert not (tmp_path / "runs.sqlite").exists()


def test_a_stop_ends_the_study_with_the_points_so_far(digits, tmp_path: Path) -> None:
    plan = plan_study(SIZES, 2)
    store_path = tmp_path / "runs.sqlite"
    asked = []

    def stop_after_first_epoch_of_second(progress) -> None:
        if progress.index == 1 and progress.epoch == 1:
            asked.append(progress.index)

    result = run_study(plan, digits, on_progress=stop_after_first_epoch_of_second,
                       should_stop=lambda: bool(asked), store_path=store_path, tag="stopped")
    assert result.stopped and len(result.points) == 1
    assert result.points[0].model == "dense_baseline" and result.points[0].size == 40
    with RunStore(store_path) as store:
        runs = store.runs(tag="stopped")
    # The CNN stopped during its second epoch: recorded as stopped, never measured.
    assert [(r.status, r.train_count, "test_accuracy" in r.final) for r in runs] == [
        ("stopped", 40, False), ("finished", 40, True)]


def test_sizes_larger_than_the_data_are_refused_before_training(digits) -> None:
    with pytest.raises(DataSizeStudyError, match="8,000 training images"):
        run_study(plan_study([300, 9000], 1), digits, record=False)


def _result() -> StudyResult:
    plan = StudyPlan([300, 600, 1800], 1)
    result = StudyResult(plan, "t", 2000)
    for size, dense, cnn in ((300, 0.80, 0.85), (600, 0.86, 0.91)):
        result.points.append(StudyPoint("dense_baseline", size, dense, 0.5, None, 1.0, 1))
        result.points.append(StudyPoint("mnist_cnn", size, cnn, 0.4, None, 1.0, 1))
    return result


def test_the_chart_has_a_log_axis_labelled_with_the_sizes_and_a_line_per_model() -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    draw_chart(figure, _result())
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"
    figure.canvas.draw()
    assert [t.get_text() for t in axes.get_xticklabels()] == ["300", "600", "1,800"]
    lines = {line.get_label(): line.get_xydata().tolist() for line in axes.get_lines()}
    assert lines == {"Dense": [[300, 0.80], [600, 0.86]], "CNN": [[300, 0.85], [600, 0.91]]}
    assert "91.0%" in [t.get_text() for t in axes.texts]


def test_the_chart_saves_as_png_or_svg_and_nothing_else(tmp_path: Path) -> None:
    save_chart(_result(), tmp_path / "chart.png")
    save_chart(_result(), tmp_path / "chart.svg")
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "chart.svg").read_text(encoding="utf-8")[:500]
    with pytest.raises(DataSizeStudyError, match=".png or .svg"):
        save_chart(_result(), tmp_path / "chart.jpg")
