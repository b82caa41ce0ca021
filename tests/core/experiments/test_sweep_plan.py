"""Continuing a sweep from the app: the plan kept in the study as JSON, the sweeps of a
storage listed, and a stop that ends the current trial within a batch (real Optuna, a real
journal file, the bundled MNIST sample)."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.experiments.sweep import (
    list_studies,
    load_plan,
    open_study,
    plan_from_json,
    plan_sweep,
    plan_to_json,
    results,
    run_worker,
)
from cnnviz.core.experiments.sweep_storage import SweepError
from tests.core.experiments.sweep_fixtures import (
    KeepingRecorder,
    config,
    dense_spec,
    options,
    tiny_spec,
)


def _plan(name: str = "kept") -> Any:
    return plan_sweep(name, {"tiny": tiny_spec(), "dense": dense_spec()}, "mnist-sample",
                      options(), config(), ["learning_rate=0.01,0.001", "conv2d.kernel_size=3x3"],
                      [60, 120], "grid")


def test_a_plan_survives_json_with_its_types() -> None:
    plan = _plan()
    again = plan_from_json(plan_to_json(plan))
    assert plan_to_json(again) == plan_to_json(plan)
    assert again.config == plan.config and again.load_options == plan.load_options
    assert again.grid() == plan.grid()
    assert [s.to_json() for s in again.specs.values()] == [s.to_json() for s in plan.specs.values()]
    with pytest.raises(SweepError, match="cannot be read"):
        plan_from_json('{"version": 99}')


def test_a_created_sweep_keeps_its_plan_and_is_listed(tmp_path: Path) -> None:
    journal = str(tmp_path / "s.journal")
    plan = _plan()
    open_study(plan, journal)
    assert plan_to_json(load_plan("kept", journal)) == plan_to_json(plan)
    [summary] = list_studies(journal)
    assert (summary.name, summary.sampler, summary.complete, summary.waiting) == \
        ("kept", "grid", 0, len(plan.grid()))
    assert summary.continuable and not summary.finished
    with pytest.raises(SweepError, match="no sweep called 'other'"):
        load_plan("other", journal)


def test_a_stop_ends_the_trial_within_a_batch_and_it_is_trained_again_later(
        tmp_path: Path) -> None:
    journal = str(tmp_path / "s.journal")
    digits = load_dataset("mnist-sample", options())
    plan = plan_sweep("stop", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["batch_size=8,16"], [], "grid")
    recorder = KeepingRecorder()
    progress: list[Any] = []
    seen: list[Any] = []
    # Stop as soon as the second trial starts (8-image batches: 34 per epoch).
    stop = lambda: any(p.number == 1 for p in progress)  # noqa: E731
    assert run_worker(plan, journal, recorder, seen.append, should_stop=stop,
                      dataset=digits, on_progress=progress.append) == 1
    assert [r.state for r in seen] == ["complete", "failed"]
    assert recorder.runs[1].status == "stopped"
    # It ended within its first epoch (a whole epoch is 34 batches), not after it.
    assert recorder.runs[1].epochs == [] and "val_accuracy" not in recorder.runs[1].final
    assert all(p.batch == 0 for p in progress if p.number == 1)
    assert {p.epochs for p in progress} == {1}
    study = open_study(plan, journal)
    assert collections.Counter(r.state for r in results(study)) == {
        "complete": 1, "failed": 1, "waiting": 1}
    later: list[Any] = []
    run_worker(plan, journal, on_trial=later.append, dataset=digits)
    done = [r.params["batch_size"] for r in seen + later if r.state == "complete"]
    assert sorted(done) == [8, 16]
