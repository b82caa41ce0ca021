"""A sweep: an Optuna study that trains one model per trial through the training engine.

Dimensions are training settings (`learning_rate`, `batch_size`, `optimizer`, `epochs`, ...),
layer parameters of the spec (`conv2d_1.filters`, `dropout.rate`), the model itself (several
specs) and the training-set size (a seeded subset, each size inside the next). Samplers:
grid (every combination), random (K trials) and bayes (Optuna's TPE, K trials).

Every trial is planned up front as a WAITING trial in the study (a grid point, or an empty
slot the sampler fills when it starts), and a worker takes one by switching it to RUNNING, which
the storage allows exactly once. So any number of workers, on any number of machines, split
the trials without duplicates, and a stopped sweep continues with the trials still waiting.
A trial whose worker died (its process is gone, or on any machine its heartbeat stopped for the
study's grace period: sweep_heartbeat.py) is marked FAIL and its parameters are queued again:
failed, not lost. Each trial is recorded through an optional `RunRecorder`, tagged
with the sweep's name.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from cnnviz.core.errors import CnnvizError, SpecError
from cnnviz.core.experiments.run_store import RunStart
from cnnviz.core.experiments.sweep_heartbeat import (
    fail_stale_trials, start_heartbeat, wait_for_running_trials,
)
from cnnviz.core.experiments.sweep_storage import SweepError, open_storage
from cnnviz.core.model.spec_params import PRETRAINED_BASE, check_param, param_defs

if TYPE_CHECKING:
    from cnnviz.core.data.dataset_types import Dataset, LoadOptions
    from cnnviz.core.model.spec import ModelSpec
    from cnnviz.core.training.engine import TrainConfig

__all__ = [
    "SETTINGS", "SAMPLERS", "IMPORTANCE_MIN_TRIALS", "MODEL", "TRAIN_SIZE",
    "RunRecorder", "SweepPlan", "TrialResult", "parse_dimension", "plan_sweep",
    "trial_inputs", "open_study", "fail_dead_trials", "run_worker", "results", "best_trial",
    "DimensionValue", "accuracy_by_dimension",
    "importances", "TrialProgress", "plan_to_json", "plan_from_json", "save_plan",
    "load_plan", "StudySummary", "list_studies",
]

SAMPLERS = ("grid", "random", "bayes")
MODEL = "model"
TRAIN_SIZE = "train_size"
# Optuna's fANOVA importances mean little with fewer finished trials than this.
IMPORTANCE_MIN_TRIALS = 4
_PLANNED = "cnnviz_planned"
_WORKER = "cnnviz_worker"
_PLAN = "cnnviz_plan"          # the plan as JSON, so the app can continue the sweep
_PLAN_VERSION = 1

# Training settings a sweep can vary: name -> (kind, description).
SETTINGS: dict[str, tuple[str, str]] = {
    "learning_rate": ("float", "a number above 0, such as 0.001"),
    "momentum": ("float", "a number from 0 up to (not including) 1"),
    "batch_size": ("int", "a whole number of at least 1"),
    "epochs": ("int", "a whole number of at least 1"),
    "optimizer": ("choice", "one of sgd, rmsprop, adam"),
    "early_stopping": ("bool", "true or false"),
    "patience": ("int", "a whole number of 0 or more"),
    "seed": ("int", "a whole number"),
}


class RunRecorder(Protocol):
    """The run store as a sweep uses it."""

    def start_run(self, start: Any) -> int: ...

    def add_epoch(self, run_id: int, epoch: int, logs: dict[str, float]) -> None: ...

    def finish_run(self, run_id: int, status: Any, final: dict[str, float],
                   model_path: str | None) -> None: ...

    def add_tag(self, run_id: int, tag: str) -> None: ...


@dataclass
class SweepPlan:
    """Everything a worker needs; plain data, so it can be sent to another process."""

    name: str                                 # the study name; also the runs' tag
    specs: dict[str, "ModelSpec"]             # label -> spec
    data_source: str
    load_options: "LoadOptions"
    config: "TrainConfig"                     # the settings no dimension varies
    dimensions: dict[str, list[Any]]          # name -> values (settings, LAYER.PARAM)
    train_sizes: list[int] = field(default_factory=list)
    sampler: str = "grid"
    trials: int = 0                           # random / bayes: how many
    prune: bool = False
    seed: int = 1337

    def search_space(self) -> dict[str, list[Any]]:
        """Every dimension with its values, the model and the training-set size included."""
        space = dict(self.dimensions)
        if len(self.specs) > 1:
            space[MODEL] = list(self.specs)
        if self.train_sizes:
            space[TRAIN_SIZE] = list(self.train_sizes)
        return space

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of the search space's values, in order."""
        space = self.search_space()
        names = list(space)
        return [dict(zip(names, combo)) for combo in itertools.product(*space.values())]


@dataclass
class TrialResult:
    """One finished (or failed, or pruned) trial."""

    number: int
    state: str                       # "complete" | "pruned" | "failed" | "running" | "waiting"
    params: dict[str, Any]
    val_accuracy: float | None
    duration: float | None
    worker: str | None


@dataclass
class TrialProgress:
    """Where the trial being trained is: its epoch (from 0) of epochs and its batch (from 0)
    of batches in that epoch (0 of 0 before the first batch)."""

    number: int
    params: dict[str, Any]
    epoch: int
    epochs: int
    batch: int
    batches: int


# ---------------------------------------------------------------- dimensions


_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false",
               "pair": "a size such as 3x3", "optional_pair": "a size such as 3x3",
               "size": "a whole number", "optional_size": "a whole number"}


def _parse_value(text: str, kind: str) -> Any:
    text = text.strip()
    if kind == "int":
        return int(text)
    if kind == "float":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(text)
        return value
    if kind == "bool":
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(text)
        return text.lower() in ("true", "1", "yes")
    if kind in ("pair", "optional_pair"):
        if "x" in text.lower():
            return [int(part) for part in text.lower().split("x")]
        return [int(text), int(text)]
    if kind in ("size", "optional_size"):
        return int(text)
    return text


def _choice(value: Any) -> Any:
    """A value Optuna can hold as a categorical choice (pairs become "3x3")."""
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return value


def _check_setting(name: str, value: Any) -> None:
    from cnnviz.core.training.engine import OPTIMIZERS

    bad = (name == "learning_rate" and value <= 0) or (name == "momentum" and not 0 <= value < 1) \
        or (name in ("batch_size", "epochs") and value < 1) or (name == "patience" and value < 0) \
        or (name == "optimizer" and value not in OPTIMIZERS)
    if bad:
        raise SweepError(f"--param {name}: {value} is not allowed; it must be "
                         f"{SETTINGS[name][1]}.")


def parse_dimension(text: str, specs: dict[str, "ModelSpec"]) -> tuple[str, list[Any]]:
    """`NAME=V1,V2,...` -> (NAME, typed values). NAME is a training setting or LAYER.PARAM
    of at least one spec. Raises SweepError for an unknown name, a value of the wrong type or
    out of bounds, or no values."""
    name, sep, values_text = text.partition("=")
    name = name.strip()
    texts = [part for part in values_text.split(",") if part.strip()] if sep else []
    if not name:
        raise SweepError(f"--param {text}: write it as NAME=V1,V2,..., for example "
                         "learning_rate=0.01,0.001.")
    if not texts:
        raise SweepError(f"--param {name} has no values: write it as {name}=V1,V2,...")
    if name in SETTINGS:
        kind, described = SETTINGS[name]
        values = []
        for part in texts:
            try:
                value = _parse_value(part, kind)
            except ValueError:
                raise SweepError(f"--param {name}: '{part.strip()}' is not {described}.") \
                    from None
            _check_setting(name, value)
            values.append(value)
        return name, values
    layer, dot, param = name.partition(".")
    if not dot:
        raise SweepError(f"--param {name}: no training setting is called that. Settings: "
                         f"{', '.join(SETTINGS)}; a layer parameter is LAYER.PARAM, such as "
                         "conv2d_1.filters.")
    found = [spec.layers[spec.layer_names().index(layer)] for spec in specs.values()
             if layer in spec.layer_names()]
    if not found:
        known = sorted({n for spec in specs.values() for n in spec.layer_names()})
        raise SweepError(f"--param {name}: no layer is called '{layer}'. The layers are: "
                         f"{', '.join(known)}.")
    if found[0].type == PRETRAINED_BASE:
        raise SweepError(f"--param {name}: '{layer}' is a pre-built base; each value would be "
                         f"a different network that must be prepared in the builder first. "
                         f"Sweep the layers of the head after it instead.")
    definition = next((p for p in param_defs(found[0].type) if p.name == param), None)
    if definition is None:
        names = ", ".join(p.name for p in param_defs(found[0].type))
        raise SweepError(f"--param {name}: {found[0].type} layer '{layer}' has no parameter "
                         f"'{param}'. It has: {names}.")
    values = []
    for part in texts:
        try:
            value = check_param(definition, _parse_value(part, definition.kind))
        except (ValueError, SpecError) as exc:
            reason = str(exc) if isinstance(exc, SpecError) else \
                f"'{part.strip()}' is not {_KIND_WORDS.get(definition.kind, 'a valid value')}."
            raise SweepError(f"--param {name}: {reason}") from None
        values.append(value)
    return name, values


def plan_sweep(name: str, specs: dict[str, "ModelSpec"], data_source: str,
               load_options: "LoadOptions", config: "TrainConfig", params: list[str],
               train_sizes: list[int], sampler: str, trials: int = 0, prune: bool = False,
               seed: int = 1337) -> SweepPlan:
    """A checked plan. Raises SweepError for bad dimensions, an empty grid or a bad sampler."""
    if sampler not in SAMPLERS:
        raise SweepError(f"Unknown search '{sampler}'; choose grid, random or bayes.")
    if sampler != "grid" and trials < 1:
        raise SweepError(f"A {sampler} search needs a number of trials of at least 1.")
    if not specs:
        raise SweepError("A sweep needs at least one model spec.")
    dimensions: dict[str, list[Any]] = {}
    for text in params:
        key, values = parse_dimension(text, specs)
        if key in dimensions:
            raise SweepError(f"--param {key} is given twice; list all its values in one "
                             "--param.")
        dimensions[key] = values
    if any(size < 1 for size in train_sizes):
        raise SweepError("--train-sizes must be whole numbers of at least 1.")
    plan = SweepPlan(name, dict(specs), data_source, load_options, config, dimensions,
                     sorted(set(train_sizes)), sampler, trials, prune, seed)
    if not plan.search_space():
        raise SweepError("The sweep has nothing to vary: give a --param, several specs or "
                         "--train-sizes.")
    if sampler == "grid" and len(plan.grid()) > 10_000:
        raise SweepError(f"The grid has {len(plan.grid()):,} combinations, more than 10,000; "
                         "use --random K or --bayes K instead.")
    return plan


# ---------------------------------------------------------------- the study


def _sampler(plan: SweepPlan) -> Any:
    import optuna

    if plan.sampler == "grid":
        space = {k: [_choice(v) for v in vs] for k, vs in plan.search_space().items()}
        return optuna.samplers.GridSampler(space, seed=plan.seed)
    if plan.sampler == "random":
        return optuna.samplers.RandomSampler(seed=None)
    return optuna.samplers.TPESampler(seed=None, n_startup_trials=min(4, plan.trials))


def open_study(plan: SweepPlan, storage_url: str | None) -> Any:
    """Create the study (planning its trials) or load it to continue. Raises SweepError."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_url)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2) if plan.prune \
        else optuna.pruners.NopPruner()
    try:
        study = optuna.create_study(storage=storage, study_name=plan.name,
                                    direction="maximize", sampler=_sampler(plan), pruner=pruner)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(storage=storage, study_name=plan.name,
                                  sampler=_sampler(plan), pruner=pruner)
        created = False
    space = {k: [_choice(v) for v in vs] for k, vs in plan.search_space().items()}
    # Only the process that created the study plans it: workers started at the same moment
    # (on several machines) would otherwise each queue the whole grid. The others wait for
    # the plan; if its creator died while planning, they queue what is missing.
    planned = None if created else _wait_for_plan(study)
    if planned is None:
        _queue_missing_trials(study, plan)
        study.set_user_attr(_PLANNED, {"sampler": plan.sampler, "space": space})
        save_plan(study, plan)
    elif planned.get("sampler") != plan.sampler or planned.get("space") != space:
        raise SweepError(f"A sweep named '{plan.name}' already exists with other dimensions; "
                         "choose another --study name, or repeat the same command to continue "
                         "it.")
    return study


# How long a worker waits for another one, starting at the same moment, to plan the study.
PLAN_WAIT_SECONDS = 30.0


def _wait_for_plan(study: Any) -> Any:
    """The study's plan marker, once its creator has written it (None after the wait)."""
    deadline = time.monotonic() + PLAN_WAIT_SECONDS
    while True:
        planned = study.user_attrs.get(_PLANNED)
        if planned is not None or time.monotonic() > deadline:
            return planned
        time.sleep(0.2)


def _queue_missing_trials(study: Any, plan: SweepPlan) -> None:
    """Queue the plan's trials that the study does not hold yet (all of them when new)."""
    trials = study.get_trials(deepcopy=False)
    if plan.sampler == "grid":
        held = [dict(t.system_attrs.get("fixed_params") or {}) for t in trials]
        for point in plan.grid():
            wanted = {k: _choice(v) for k, v in point.items()}
            if wanted in held:
                held.remove(wanted)
            else:
                study.enqueue_trial(wanted)
    else:
        for _ in range(plan.trials - len(trials)):
            study.enqueue_trial({})


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _planned_params(trial: Any) -> dict[str, Any]:
    """What a failed trial was planned with (a grid point; else the values it had drawn)."""
    fixed = trial.system_attrs.get("fixed_params")
    return dict(fixed) if fixed else dict(trial.params)


def fail_dead_trials(study: Any) -> list[int]:
    """Mark FAIL the running trials whose worker process on this machine is gone, or whose
    heartbeat stopped (a worker anywhere), and queue their parameters again. Returns the
    numbers of the trials failed."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    host = socket.gethostname()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = str(trial.user_attrs.get(_WORKER, ""))
        worker_host, _, pid = worker.rpartition(":")
        if worker_host != host or not pid.isdigit() or not _process_gone(int(pid)):
            continue
        try:
            if study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                failed.append(trial.number)
                study.enqueue_trial(_planned_params(trial))
        except UpdateFinishedTrialError:
            continue
    return failed + fail_stale_trials(
        study, lambda stale: study.enqueue_trial(_planned_params(stale)))


def _take_waiting_trial(study: Any) -> Any | None:
    """Switch one WAITING trial to RUNNING (the storage lets exactly one worker do it)."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    for trial in storage.get_all_trials(study._study_id, deepcopy=False,
                                        states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(trial._trial_id, state=TrialState.RUNNING):
                return optuna.Trial(study, trial._trial_id)
        except UpdateFinishedTrialError:
            continue
    return None


def _suggest(trial: Any, plan: SweepPlan) -> dict[str, Any]:
    params = {}
    for key, values in plan.search_space().items():
        choice = trial.suggest_categorical(key, [_choice(v) for v in values])
        params[key] = values[[_choice(v) for v in values].index(choice)]
    return params


def trial_inputs(plan: SweepPlan, params: dict[str, Any]) -> tuple[str, "ModelSpec",
                                                                    "TrainConfig"]:
    label = params.get(MODEL, next(iter(plan.specs)))
    spec = plan.specs[label].copy()
    names = spec.layer_names()
    settings: dict[str, Any] = {}
    for key, value in params.items():
        if key in SETTINGS:
            settings[key] = value
        elif "." in key:
            layer, _, param = key.partition(".")
            if layer in names:
                spec.layers[names.index(layer)].params[param] = value
    return label, spec, dataclasses.replace(plan.config, **settings)


def _subset(dataset: "Dataset", size: int | None, seed: int) -> "Dataset":
    if size is None or size >= dataset.train.count:
        return dataset
    import numpy as np

    order = np.random.default_rng(seed).permutation(dataset.train.count)
    return dataclasses.replace(dataset, train=dataset.train.subset(np.sort(order[:size])))


class _StoppedByUser(Exception):
    """The user stopped the sweep while this trial trained."""


def _run_trial(plan: SweepPlan, trial: Any, dataset: "Dataset",
               recorder: RunRecorder | None,
               should_stop: Callable[[], bool] | None = None,
               on_progress: Callable[[TrialProgress], None] | None = None) -> tuple[float, bool]:
    """Train one trial; (last validation accuracy, pruned?). Raises _StoppedByUser when
    should_stop() ended its training (within a batch)."""
    import optuna

    from cnnviz.core.model.builder import build_model
    from cnnviz.core.training.engine import train

    params = _suggest(trial, plan)
    label, spec, config = trial_inputs(plan, params)
    data = _subset(dataset, params.get(TRAIN_SIZE), plan.seed)
    model = build_model(spec)
    run_id = None
    if recorder is not None:
        settings = {k: v for k, v in dataclasses.asdict(config).items()
                    if k not in ("augment", "checkpoint_path", "tensorboard_dir",
                                 "batch_report_interval")}
        settings.update({k: v for k, v in params.items() if "." in k})
        run_id = recorder.start_run(RunStart(
            name=f"{plan.name} #{trial.number}", spec_json=spec.to_json(),
            param_count=int(model.count_params()), data_source=plan.data_source,
            train_count=int(data.train.count),
            validation_count=int(data.validation.count) if data.validation else 0,
            test_count=int(data.test.count) if data.test else 0,
            settings={**settings, "model": label}, tags=[plan.name], sweep=plan.name))
    pruned = False
    last: dict[str, float] = {}

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        nonlocal pruned
        if pruned:
            return  # the epoch cut short by the pruning stop: neither reported nor kept
        last.clear()
        last.update({k: float(v) for k, v in logs.items()})
        if recorder is not None and run_id is not None:
            recorder.add_epoch(run_id, epoch, dict(last))
        score = logs.get("val_accuracy", logs.get("accuracy"))
        if plan.prune and score is not None:
            trial.report(float(score), epoch)
            pruned = trial.should_prune()

    def user_stop() -> bool:
        return should_stop is not None and should_stop()

    def on_batch(epoch: int, batch: int, batches: int, _logs: dict[str, float]) -> None:
        if on_progress is not None:
            on_progress(TrialProgress(trial.number, dict(params), epoch, config.epochs, batch,
                                      batches))

    if on_progress is not None:
        on_progress(TrialProgress(trial.number, dict(params), 0, config.epochs, 0, 0))
    try:
        train(model, data, config, on_epoch=on_epoch, on_batch=on_batch,
              should_stop=lambda: pruned or user_stop())
    except BaseException:
        if recorder is not None and run_id is not None:
            recorder.finish_run(run_id, "failed", last, None)
        raise
    if not pruned and user_stop():
        if recorder is not None and run_id is not None:
            recorder.finish_run(run_id, "stopped", last, None)
        raise _StoppedByUser()
    if recorder is not None and run_id is not None:
        # The store knows finished, stopped and failed; a pruned trial was stopped by the
        # pruner, and its tag says so.
        recorder.finish_run(run_id, "stopped" if pruned else "finished", last, None)
        if pruned:
            recorder.add_tag(run_id, "pruned")
    score = last.get("val_accuracy", last.get("accuracy", math.nan))
    if pruned:
        raise optuna.TrialPruned()
    return float(score), pruned


def run_worker(plan: SweepPlan, storage_url: str | None = None,
               recorder: RunRecorder | None = None,
               on_trial: Callable[[TrialResult], None] | None = None,
               should_stop: Callable[[], bool] | None = None,
               dataset: "Dataset | None" = None,
               on_progress: Callable[[TrialProgress], None] | None = None) -> int:
    """Take and train waiting trials of the sweep until none is left (or should_stop()).

    should_stop() is also asked after every batch: a trial it stops is marked failed, its
    parameters queued again (as for Ctrl+C), and the worker returns. on_progress(progress)
    as the current trial starts and while it trains (throttled like the engine's on_batch).
    on_trial(result) after each trial. Returns how many trials this worker finished. A trial
    that raises is marked failed and the worker goes on; a CnnvizError (the model does not fit
    the data, ...) stops the sweep, since every trial would fail the same way.
    """
    import optuna
    from optuna.trial import TrialState

    from cnnviz.core.data.datasets import load_dataset

    study = open_study(plan, storage_url)
    if dataset is None:
        dataset = load_dataset(plan.data_source, plan.load_options)
    done = 0
    while not (should_stop and should_stop()):
        fail_dead_trials(study)
        trial = _take_waiting_trial(study)
        if trial is None:
            if wait_for_running_trials(study):  # another worker's trial may yet come back
                continue
            break
        heartbeat = start_heartbeat(study, trial)  # ends by itself when the trial is told
        trial.set_user_attr(_WORKER, _worker_id())
        started = time.monotonic()
        # skip_if_finished: a trial whose heartbeat was lost for the grace period (a network
        # cut) was failed and queued again by another worker; this result is then dropped.
        try:
            score, _ = _run_trial(plan, trial, dataset, recorder, should_stop, on_progress)
            frozen = study.tell(trial, score, skip_if_finished=True)
        except optuna.TrialPruned:
            frozen = study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
        except CnnvizError:
            study.tell(trial, state=TrialState.FAIL)
            raise
        except _StoppedByUser:
            # Stopped by the user within a batch: failed, and planned again (as for Ctrl+C).
            frozen = study.tell(trial, state=TrialState.FAIL)
            study.enqueue_trial(_planned_params(frozen))
            if on_trial is not None:
                on_trial(_result(frozen, time.monotonic() - started))
            break
        except KeyboardInterrupt:
            # Stopped by the user: this trial is failed, and planned again for the next run.
            frozen = study.tell(trial, state=TrialState.FAIL)
            study.enqueue_trial(_planned_params(frozen))
            raise
        except Exception:
            frozen = study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        heartbeat.stop()
        done += 1
        if on_trial is not None:
            on_trial(_result(frozen, time.monotonic() - started))
    return done


# ---------------------------------------------------------------- results


def _result(trial: Any, duration: float | None = None) -> TrialResult:
    state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed",
             "RUNNING": "running", "WAITING": "waiting"}.get(trial.state.name, trial.state.name)
    if duration is None and trial.datetime_start and trial.datetime_complete:
        duration = (trial.datetime_complete - trial.datetime_start).total_seconds()
    score = trial.value if trial.state.name == "COMPLETE" else None
    if trial.state.name == "PRUNED" and trial.intermediate_values:
        score = trial.intermediate_values[max(trial.intermediate_values)]
    return TrialResult(trial.number, state, dict(trial.params), score, duration,
                       trial.user_attrs.get(_WORKER))


def results(study: Any) -> list[TrialResult]:
    """Every trial of the study so far, in order."""
    return [_result(trial) for trial in study.get_trials(deepcopy=False)]


@dataclass
class DimensionValue:
    """How the complete trials with one value of one dimension scored."""

    value: Any
    trials: int
    mean_accuracy: float
    best_accuracy: float


def accuracy_by_dimension(rows: list[TrialResult],
                          dimensions: list[str]) -> dict[str, list[DimensionValue]]:
    """Validation accuracy against each dimension: per value, the mean and the best of the
    complete trials that had it (values in the order first seen; unscored trials left out)."""
    scored = [row for row in rows if row.state == "complete" and row.val_accuracy is not None]
    table: dict[str, list[DimensionValue]] = {}
    for name in dimensions:
        groups: dict[str, tuple[Any, list[float]]] = {}
        for row in scored:
            if name in row.params:
                key = repr(row.params[name])
                groups.setdefault(key, (row.params[name], []))[1].append(
                    float(row.val_accuracy))  # type: ignore[arg-type]
        table[name] = [DimensionValue(value, len(scores), sum(scores) / len(scores),
                                      max(scores)) for value, scores in groups.values()]
    return table


def best_trial(study: Any) -> TrialResult | None:
    """The complete trial with the highest validation accuracy, or None."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return _result(max(complete, key=lambda t: t.value)) if complete else None


def importances(study: Any) -> dict[str, float] | None:
    """Optuna's parameter importances, or None with fewer than IMPORTANCE_MIN_TRIALS
    complete trials (or a single dimension, where there is nothing to compare)."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < IMPORTANCE_MIN_TRIALS:
        return None
    try:
        found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError):
        return None
    return {k: float(v) for k, v in found.items()}


# ---------------------------------------------------------------- continuing from the app


def plan_to_json(plan: SweepPlan) -> str:
    """The plan as a JSON text (specs, data, settings, dimensions, search)."""
    return json.dumps({
        "version": _PLAN_VERSION, "name": plan.name,
        "specs": {label: json.loads(spec.to_json()) for label, spec in plan.specs.items()},
        "data_source": plan.data_source,
        "load_options": dataclasses.asdict(plan.load_options),
        "config": dataclasses.asdict(plan.config),
        "dimensions": plan.dimensions, "train_sizes": plan.train_sizes,
        "sampler": plan.sampler, "trials": plan.trials, "prune": plan.prune, "seed": plan.seed,
    })


def plan_from_json(text: str) -> SweepPlan:
    """The plan `plan_to_json` wrote. Raises SweepError for a text that is not one."""
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.model.spec import ModelSpec
    from cnnviz.core.training.augmentation import AugmentConfig
    from cnnviz.core.training.engine import TrainConfig

    try:
        data = json.loads(text)
        if data.get("version") != _PLAN_VERSION:
            raise ValueError("version")
        options = dict(data["load_options"])
        if options.get("target_size") is not None:
            options["target_size"] = tuple(options["target_size"])
        config = dict(data["config"])
        config["augment"] = AugmentConfig(**config["augment"])
        return SweepPlan(
            name=str(data["name"]),
            specs={label: ModelSpec.from_json(json.dumps(spec))
                   for label, spec in data["specs"].items()},
            data_source=str(data["data_source"]), load_options=LoadOptions(**options),
            config=TrainConfig(**config), dimensions=dict(data["dimensions"]),
            train_sizes=[int(n) for n in data["train_sizes"]], sampler=str(data["sampler"]),
            trials=int(data["trials"]), prune=bool(data["prune"]), seed=int(data["seed"]))
    except (ValueError, KeyError, TypeError, AttributeError, CnnvizError):
        raise SweepError("This sweep's stored plan cannot be read (it was saved by another "
                         "version of cnnviz); continue it with the same `cnnviz sweep` "
                         "command instead.") from None


def save_plan(study: Any, plan: SweepPlan) -> None:
    """Keep the plan in the study (a user attribute), so `load_plan` can rebuild it."""
    study.set_user_attr(_PLAN, plan_to_json(plan))


def load_plan(name: str, storage_url: str | None = None) -> SweepPlan:
    """The plan of the sweep called `name` in the storage, to continue it. Raises SweepError
    when there is no such sweep or it has no stored plan."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_url)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise SweepError(f"There is no sweep called '{name}'.") from None
    text = study.user_attrs.get(_PLAN)
    if not isinstance(text, str):
        raise SweepError(f"The sweep '{name}' was started without a stored plan; continue it "
                         "with the same `cnnviz sweep` command instead.")
    return plan_from_json(text)


@dataclass
class StudySummary:
    """One sweep of a storage, for a "continue" list."""

    name: str
    sampler: str | None
    started: str | None        # "YYYY-MM-DD HH:MM"
    complete: int
    waiting: int               # planned trials still to train (running ones included)
    failed: int                # failed or pruned
    continuable: bool          # it has a stored plan

    @property
    def finished(self) -> bool:
        return self.waiting == 0


def list_studies(storage_url: str | None = None) -> list[StudySummary]:
    """The sweeps in the storage, newest first. Raises SweepError when it cannot be opened."""
    import optuna
    from optuna.trial import TrialState

    storage = open_storage(storage_url)
    found = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        states = [t.state for t in storage.get_all_trials(summary._study_id, deepcopy=False)]
        planned = summary.user_attrs.get(_PLANNED) or {}
        started = summary.datetime_start
        found.append(StudySummary(
            summary.study_name, planned.get("sampler"),
            started.strftime("%Y-%m-%d %H:%M") if started else None,
            states.count(TrialState.COMPLETE),
            states.count(TrialState.WAITING) + states.count(TrialState.RUNNING),
            states.count(TrialState.FAIL) + states.count(TrialState.PRUNED),
            isinstance(summary.user_attrs.get(_PLAN), str)))
    found.sort(key=lambda s: s.started or "", reverse=True)
    return found
