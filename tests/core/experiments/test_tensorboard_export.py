"""Runs exported for TensorBoard's HParams dashboard, read back with TensorBoard's own
EventAccumulator: the experiment config, each run's hyperparameters, per-epoch scalars and
final metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cnnviz.core.experiments.run_store import RunStart, RunStore
from cnnviz.core.experiments.tensorboard_export import (
    FINAL_METRICS, TensorBoardExportError, export_tensorboard,
)
from tests.core.experiments.sweep_fixtures import tiny_spec

HISTORIES = {
    "adam": [{"loss": 1.5, "accuracy": 0.55, "val_loss": 1.6, "val_accuracy": 0.5},
             {"loss": 0.75, "accuracy": 0.8, "val_loss": 0.9, "val_accuracy": 0.75}],
    "sgd": [{"loss": 2.0, "accuracy": 0.3, "val_loss": 2.1, "val_accuracy": 0.25}],
}


def _store(path: Path) -> list[int]:
    """Two real runs: an adam run of a sweep (with a layer parameter) and a plain sgd run."""
    ids = []
    with RunStore(path) as store:
        for optimizer, history in HISTORIES.items():
            settings: dict[str, Any] = {"optimizer": optimizer, "learning_rate": 0.01,
                                        "batch_size": 32 if optimizer == "adam" else 64,
                                        "epochs": len(history), "early_stopping": False}
            if optimizer == "adam":
                settings["conv2d.kernel_size"] = [3, 3]
            run_id = store.start_run(RunStart(
                f"{optimizer} run", tiny_spec().to_json(), 1234, "mnist-sample",
                300 if optimizer == "adam" else 600, 30, 100, settings,
                sweep="lr-sweep" if optimizer == "adam" else None))
            for epoch, logs in enumerate(history):
                store.add_epoch(run_id, epoch, logs)
            store.finish_run(run_id, "finished", dict(history[-1]))
            store.update_final(run_id, {"test_accuracy": history[-1]["val_accuracy"] - 0.05,
                                        "test_loss": history[-1]["val_loss"] + 0.1})
            ids.append(run_id)
    return ids


def _accumulator(folder: Path) -> Any:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def _hparams_data(accumulator: Any) -> Any:
    from tensorboard.plugins.hparams import plugin_data_pb2

    [content] = accumulator.PluginTagToContent("hparams").values()
    return plugin_data_pb2.HParamsPluginData.FromString(content)


def _scalars(accumulator: Any, tag: str) -> list[tuple[int, float]]:
    """(step, value) of a scalar tag; values rounded off their float32 storage."""
    return [(event.step, round(float(event.tensor_proto.float_val[0]), 6))
            for event in accumulator.Tensors(tag)]


def test_the_export_reads_back_with_hparams_epochs_and_final_metrics(tmp_path: Path) -> None:
    store_path = tmp_path / "runs.sqlite"
    adam_id, sgd_id = _store(store_path)
    with RunStore(store_path) as store:
        records = [store.get(run_id) for run_id in (adam_id, sgd_id)]
    out = tmp_path / "tb"
    folders = export_tensorboard(records, out)
    assert [f.name for f in folders] == [f"run-{adam_id}", f"run-{sgd_id}"]

    # The experiment: every hyperparameter with its domain, and the six final metrics.
    experiment = _hparams_data(_accumulator(out)).experiment
    domains = {h.name: h for h in experiment.hparam_infos}
    for name in ("optimizer", "learning_rate", "batch_size", "epochs", "early_stopping",
                 "conv2d.kernel_size", "model", "parameters", "data", "train_size", "sweep"):
        assert name in domains, name
    assert [v.string_value for v in domains["optimizer"].domain_discrete.values] == \
        ["adam", "sgd"]
    assert (domains["batch_size"].domain_interval.min_value,
            domains["batch_size"].domain_interval.max_value) == (32, 64)
    assert [m.name.tag for m in experiment.metric_infos] == [f"final/{m}"
                                                             for m in FINAL_METRICS]

    # A run: its values, its curves per epoch and its final metrics.
    adam = _accumulator(folders[0])
    session = _hparams_data(adam).session_start_info
    assert session.hparams["optimizer"].string_value == "adam"
    assert session.hparams["batch_size"].number_value == 32
    assert session.hparams["train_size"].number_value == 300
    assert session.hparams["sweep"].string_value == "lr-sweep"
    assert session.hparams["model"].string_value == "tiny"
    assert session.hparams["early_stopping"].bool_value is False
    assert session.hparams["conv2d.kernel_size"].string_value == "[3, 3]"
    assert _scalars(adam, "epoch/val_accuracy") == [(1, 0.5), (2, 0.75)]
    assert _scalars(adam, "epoch/loss") == [(1, 1.5), (2, 0.75)]
    assert _scalars(adam, "final/test_accuracy") == [(2, 0.7)]
    assert _scalars(adam, "final/accuracy") == [(2, 0.8)]
    sgd = _accumulator(folders[1])
    assert _hparams_data(sgd).session_start_info.hparams["sweep"].string_value == ""
    assert _scalars(sgd, "final/val_loss") == [(1, 2.1)]


def test_exporting_again_replaces_the_old_event_files(tmp_path: Path) -> None:
    store_path = tmp_path / "runs.sqlite"
    ids = _store(store_path)
    with RunStore(store_path) as store:
        records = [store.get(ids[0])]
    out = tmp_path / "tb"
    export_tensorboard(records, out)
    [folder] = export_tensorboard(records, out)
    assert len(list(folder.glob("events.out.tfevents.*"))) == 1
    assert _scalars(_accumulator(folder), "epoch/accuracy") == [(1, 0.55), (2, 0.8)]


def test_no_runs_or_a_file_in_the_way_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(TensorBoardExportError, match="no run to export"):
        export_tensorboard([], tmp_path / "tb")
    in_the_way = tmp_path / "tb.txt"
    in_the_way.write_text("x", encoding="utf-8")
    store_path = tmp_path / "runs.sqlite"
    ids = _store(store_path)
    with RunStore(store_path) as store:
        records = [store.get(ids[0])]
    with pytest.raises(TensorBoardExportError, match="is a file; TensorBoard reads a folder"):
        export_tensorboard(records, in_the_way)
