"""Sweeps on real Optuna, a real journal file and the bundled MNIST sample: grid, random and
bayes search, layer parameters, the model and the training-set size as dimensions, pruning,
stop and resume."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.experiments.sweep import (
    IMPORTANCE_MIN_TRIALS, best_trial, importances, open_study, parse_dimension,
    plan_sweep, results, run_worker,
)
from cnnviz.core.experiments.sweep_storage import SweepError
from tests.core.experiments.sweep_fixtures import (
    KeepingRecorder, config, dense_spec, options, tiny_spec,
)


@pytest.fixture(scope="module")
def digits() -> Any:
    return load_dataset("mnist-sample", options())


def _journal(tmp_path: Path) -> str:
    return str(tmp_path / "test.journal")


def test_grid_tries_every_combination_once_with_the_layer_parameter_applied(
        tmp_path: Path, digits: Any) -> None:
    plan = plan_sweep("grid", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["learning_rate=0.01,0.001", "conv2d.filters=2,6"], [], "grid")
    recorder = KeepingRecorder()
    seen: list[Any] = []
    assert run_worker(plan, _journal(tmp_path), recorder, seen.append, dataset=digits) == 4
    combos = [(r.params["learning_rate"], r.params["conv2d.filters"]) for r in seen]
    assert sorted(combos) == [(0.001, 2), (0.001, 6), (0.01, 2), (0.01, 6)]
    assert all(r.state == "complete" and 0 <= r.val_accuracy <= 1 for r in seen)
    # The spec each trial trained is the one its parameters say, and its settings too.
    for result, run in zip(seen, recorder.runs):
        assert recorder.layer_param(run, 0, "filters") == result.params["conv2d.filters"]
        assert run.start.settings["learning_rate"] == result.params["learning_rate"]
        assert run.start.tags == ["grid"] and run.start.sweep == "grid"
        assert run.status == "finished" and len(run.epochs) == 1
        assert "val_accuracy" in run.final
    study = open_study(plan, _journal(tmp_path))
    best = best_trial(study)
    assert best is not None and best.val_accuracy == max(r.val_accuracy for r in seen)
    found = importances(study)
    assert found is not None and set(found) == {"learning_rate", "conv2d.filters"}


@pytest.mark.parametrize("sampler", ["random", "bayes"])
def test_random_and_bayes_run_exactly_k_trials_from_the_given_values(
        tmp_path: Path, digits: Any, sampler: str) -> None:
    plan = plan_sweep(sampler, {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["learning_rate=0.03,0.01,0.003,0.001", "optimizer=adam,sgd",
                       "dropout.rate=0.1,0.5"], [], sampler, trials=5)
    seen: list[Any] = []
    run_worker(plan, _journal(tmp_path), on_trial=seen.append, dataset=digits)
    assert len(seen) == 5 and all(r.state == "complete" for r in seen)
    for result in seen:
        assert result.params["learning_rate"] in (0.03, 0.01, 0.003, 0.001)
        assert result.params["optimizer"] in ("adam", "sgd")
        assert result.params["dropout.rate"] in (0.1, 0.5)
    # Running it again does nothing more: the K trials are done.
    assert run_worker(plan, _journal(tmp_path), dataset=digits) == 0


def test_the_model_and_the_training_set_size_are_dimensions(tmp_path: Path,
                                                              digits: Any) -> None:
    plan = plan_sweep("models", {"tiny": tiny_spec(), "dense": dense_spec()}, "mnist-sample",
                      options(), config(), [], [60, 120], "grid")
    recorder = KeepingRecorder()
    seen: list[Any] = []
    run_worker(plan, _journal(tmp_path), recorder, seen.append, dataset=digits)
    assert sorted((r.params["model"], r.params["train_size"]) for r in seen) == [
        ("dense", 60), ("dense", 120), ("tiny", 60), ("tiny", 120)]
    for result, run in zip(seen, recorder.runs):
        assert run.start.train_count == result.params["train_size"]
        assert run.start.settings["model"] == result.params["model"]
        layer_types = [layer["type"] for layer in __import__("json").loads(
            run.start.spec_json)["layers"]]
        assert ("Conv2D" in layer_types) == (result.params["model"] == "tiny")


def test_a_stopped_sweep_continues_where_it_was(tmp_path: Path, digits: Any) -> None:
    plan = plan_sweep("resume", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["batch_size=16,32,64"], [], "grid")
    first: list[Any] = []
    run_worker(plan, _journal(tmp_path), on_trial=first.append,
               should_stop=lambda: len(first) >= 2, dataset=digits)
    assert len(first) == 2
    study = open_study(plan, _journal(tmp_path))
    assert collections.Counter(r.state for r in results(study)) == {"complete": 2,
                                                                     "waiting": 1}
    later: list[Any] = []
    run_worker(plan, _journal(tmp_path), on_trial=later.append, dataset=digits)
    assert len(later) == 1
    sizes = sorted(r.params["batch_size"] for r in first + later)
    assert sizes == [16, 32, 64]


def test_a_changed_sweep_under_an_old_name_is_refused(tmp_path: Path) -> None:
    plan = plan_sweep("same", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["batch_size=16,32"], [], "grid")
    open_study(plan, _journal(tmp_path))
    other = plan_sweep("same", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                       ["batch_size=8,32"], [], "grid")
    with pytest.raises(SweepError, match="already exists with other dimensions"):
        open_study(other, _journal(tmp_path))


def test_pruning_stops_hopeless_trials(tmp_path: Path, digits: Any) -> None:
    # A learning rate of 1e-6 learns nothing in 3 epochs; after two good trials the median
    # pruner stops those.
    plan = plan_sweep("prune", {"tiny": tiny_spec()}, "mnist-sample", options(), config(3),
                      ["learning_rate=0.01,0.000001", "seed=1,2"], [], "grid", prune=True)
    recorder = KeepingRecorder()
    seen: list[Any] = []
    run_worker(plan, _journal(tmp_path), recorder, seen.append, dataset=digits)
    states = {(r.params["learning_rate"], r.state) for r in seen}
    assert (0.01, "complete") in states
    assert any(state == "pruned" for _, state in states)
    # The store's words: a pruned trial's run was stopped, and its tag says by whom.
    pruned_runs = [run for run in recorder.runs if run.status == "stopped"]
    assert pruned_runs and all(run.tags == ["pruned"] for run in pruned_runs)
    assert pruned_runs and all(len(run.epochs) < 3 for run in pruned_runs)
    # What a pruned trial reports is whole epochs' validation accuracy, never the epoch the
    # stop cut short.
    assert all("val_accuracy" in logs for run in pruned_runs for logs in run.epochs)
    assert all(run.final.get("val_accuracy") == pytest.approx(result.val_accuracy)
               for run, result in zip(recorder.runs, seen) if result.state == "pruned")


def test_importances_wait_for_enough_complete_trials(tmp_path: Path, digits: Any) -> None:
    plan = plan_sweep("few", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["learning_rate=0.01,0.001"], [], "grid")
    run_worker(plan, _journal(tmp_path), dataset=digits)
    assert IMPORTANCE_MIN_TRIALS > 2
    assert importances(open_study(plan, _journal(tmp_path))) is None


# ---------------------------------------------------------------- bad dimensions


@pytest.mark.parametrize("text, message", [
    ("lr=0.1", "no training setting is called that"),
    ("conv9.filters=2", "no layer is called 'conv9'. The layers are: conv2d, dense,"),
    ("conv2d.filter=2", "has no parameter 'filter'"),
    ("conv2d.filters=two", "'two' is not a whole number"),
    ("conv2d.filters=0", "'filters' must be a whole number from 1"),
    ("dropout.rate=1.5", "'rate' must be a number from 0 below 1"),
    ("batch_size=1.5", "'1.5' is not a whole number of at least 1"),
    ("learning_rate=-1", "must be a number above 0"),
    ("optimizer=adamw", "one of sgd, rmsprop, adam"),
    ("learning_rate=", "has no values"),
    ("learning_rate", "has no values"),
])
def test_a_bad_param_is_one_plain_sentence(text: str, message: str) -> None:
    with pytest.raises(SweepError, match=message.replace("(", r"\(")) as caught:
        parse_dimension(text, {"tiny": tiny_spec()})
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)


def test_typed_values_come_back_in_the_parameters_own_types() -> None:
    specs = {"tiny": tiny_spec()}
    assert parse_dimension("conv2d.kernel_size=3x3,5", specs) == (
        "conv2d.kernel_size", [[3, 3], [5, 5]])
    assert parse_dimension("dropout.rate=0.1,0.5", specs) == ("dropout.rate", [0.1, 0.5])
    assert parse_dimension("early_stopping=true,false", specs) == (
        "early_stopping", [True, False])


def test_nothing_to_vary_is_refused() -> None:
    with pytest.raises(SweepError, match="nothing to vary"):
        plan_sweep("empty", {"tiny": tiny_spec()}, "mnist-sample", options(), config(), [], [],
                   "grid")
    with pytest.raises(SweepError, match="at least 1"):
        plan_sweep("k0", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                   ["batch_size=8"], [], "random", trials=0)
