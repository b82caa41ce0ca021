"""The "from scratch vs transfer" run pair on the bundled digit model and mnist-sample (200
training examples, 1–2 epochs): both runs are real Keras trainings recorded in a real SQLite
run store under one tag, the frozen base keeps the digit model's weights, the two start from
the same head, and the test accuracy equals a plain Keras evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.experiments.run_store import RunStore
from cnnviz.core.experiments.scratch_vs_transfer import (
    DEFAULT_BASE, KINDS, PairResult, ScratchVsTransferError, build_pair, draw_chart,
    load_pair_data, open_pair_base, plan_pair, run_pair, save_chart,
)

LIMIT = 200


@pytest.fixture(scope="module")
def digits():
    return load_pair_data(plan_pair(epochs=1, limit=LIMIT))


def _file_weights() -> list[np.ndarray]:
    import keras

    return [np.asarray(w) for w in keras.saving.load_model(DEFAULT_BASE).get_weights()]


def test_plan_refuses_impossible_settings() -> None:
    assert plan_pair().base == str(DEFAULT_BASE) and plan_pair().limit == 600
    for epochs, limit, words in ((0, 600, "from 1 to 1000"), (2, 3, "at least 10")):
        with pytest.raises(ScratchVsTransferError, match=words):
            plan_pair(epochs=epochs, limit=limit)


def test_the_pair_is_one_network_with_the_same_head_and_different_bases(digits) -> None:
    from cnnviz.core.transfer.transfer_model import parameter_counts

    plan = plan_pair(epochs=1, limit=LIMIT)
    base = open_pair_base(plan, digits.input_shape)
    scratch, transfer = build_pair(plan, base, digits.input_shape, digits.num_classes)
    assert scratch.cut_layer == transfer.cut_layer == "flatten"
    assert [layer.name for layer in scratch.model.layers] == \
        [layer.name for layer in transfer.model.layers]
    for name in ("head_dense", "head_classes"):
        for a, b in zip(scratch.model.get_layer(name).get_weights(),
                        transfer.model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    original = _file_weights()
    for mine, theirs in zip(transfer.base_part.get_weights(), original):
        np.testing.assert_array_equal(mine, theirs)
    kernels = [w for w in scratch.base_part.get_weights() if w.ndim == 4]
    assert kernels and not np.allclose(kernels[0], original[0])
    # Transfer trains only the head; from scratch trains everything.
    head = parameter_counts(transfer.model)[0]
    assert parameter_counts(transfer.model)[1] == 160 + 4640
    assert parameter_counts(scratch.model) == (head + 160 + 4640, 0)


def test_both_runs_are_recorded_under_one_tag_and_match_plain_keras(digits,
                                                                     tmp_path: Path) -> None:
    store_path = tmp_path / "runs.sqlite"
    plan = plan_pair(epochs=2, limit=LIMIT)
    models: dict[str, object] = {}
    epochs: list[tuple[str, int]] = []
    texts: list[str] = []
    result = run_pair(plan, digits, on_progress=lambda p: texts.append(p.text()),
                      on_epoch=lambda kind, epoch, logs: epochs.append((kind, epoch)),
                      on_run=lambda run, model: models.__setitem__(run.kind, model),
                      store_path=store_path, tag="scratch-vs-transfer test")
    assert not result.stopped and result.cut_layer == "flatten"
    assert result.base_name == "mnist_cnn_small" and result.train_count == digits.train.count
    assert epochs == [("scratch", 0), ("scratch", 1), ("transfer", 0), ("transfer", 1)]
    assert "Transfer (frozen base), epoch 2 of 2" in texts

    x = digits.test.images(np.arange(digits.test.count)).astype("float32") / 255.0
    y = digits.test.labels()
    with RunStore(store_path) as store:
        runs = {run.settings["kind"]: run for run in store.runs(tag="scratch-vs-transfer test")}
        histories = {kind: [epoch["val_accuracy"] for epoch in store.get(run.id).history]
                     for kind, run in runs.items()}
    assert sorted(runs) == sorted(KINDS)
    for kind in KINDS:
        mine = result.runs[kind]
        probabilities = np.asarray(models[kind](x, training=False))
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y))
        assert mine.test_accuracy == pytest.approx(accuracy, abs=1e-6)
        assert len(mine.val_accuracy) == 2 and all(0 <= v <= 1 for v in mine.val_accuracy)
        run = runs[kind]
        assert run.id == mine.run_id and run.status == "finished"
        assert run.train_count == digits.train.count and run.test_count == digits.test.count
        assert run.settings["base_frozen"] == (kind == "transfer")
        assert run.model_name == f"{kind}_mnist_cnn_small"
        assert run.final["test_accuracy"] == pytest.approx(mine.test_accuracy)
        assert histories[kind] == pytest.approx(mine.val_accuracy)
    # The frozen base still holds the digit model's weights after training.
    transfer_base = models["transfer"].get_layer("frozen_base")
    for mine, theirs in zip(transfer_base.get_weights(), _file_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.allclose(models["scratch"].get_layer("frozen_base").get_weights()[0],
                           _file_weights()[0])


def test_a_stop_ends_the_pair_and_no_record_writes_nothing(digits, tmp_path: Path) -> None:
    store_path = tmp_path / "runs.sqlite"
    asked: list[int] = []

    def stop_after_first_epoch(progress) -> None:
        if progress.epoch == 1:
            asked.append(progress.index)

    result = run_pair(plan_pair(epochs=2, limit=LIMIT), digits,
                      on_progress=stop_after_first_epoch, should_stop=lambda: bool(asked),
                      store_path=store_path, tag="stopped")
    assert result.stopped and "transfer" not in result.runs
    assert result.runs["scratch"].test_accuracy is None
    with RunStore(store_path) as store:
        assert [r.status for r in store.runs(tag="stopped")] == ["stopped"]
    quiet = tmp_path / "quiet.sqlite"
    run_pair(plan_pair(epochs=1, limit=LIMIT), digits, record=False, store_path=quiet)
    assert not quiet.exists()


def test_data_without_a_test_part_is_refused_before_training(digits) -> None:
    import dataclasses

    with pytest.raises(ScratchVsTransferError, match="no test images"):
        run_pair(plan_pair(epochs=1), dataclasses.replace(digits, test=None), record=False)


def test_the_chart_draws_validation_accuracy_per_epoch_and_the_test_accuracy(
        tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    result = PairResult(plan_pair(epochs=3), "t", "mnist_cnn_small", "flatten", 540, 2000)
    result.run("scratch").val_accuracy = [0.3, 0.5, 0.6]
    result.run("scratch").test_accuracy = 0.58
    result.run("transfer").val_accuracy = [0.8, 0.9]
    figure = Figure()
    draw_chart(figure, result)
    lines = {line.get_label(): list(map(tuple, line.get_xydata()))
             for line in figure.axes[0].get_lines()}
    assert lines["From scratch"] == [(1, 0.3), (2, 0.5), (3, 0.6)]
    assert lines["Transfer (frozen base)"] == [(1, 0.8), (2, 0.9)]
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == ["test\n58.0%"]
    save_chart(result, tmp_path / "pair.svg")
    assert (tmp_path / "pair.svg").read_text().startswith("<?xml")
    with pytest.raises(ScratchVsTransferError, match=".png or .svg"):
        save_chart(result, tmp_path / "pair.jpg")
