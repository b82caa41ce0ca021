"""A worker that dies on another machine: its trial's heartbeat stops, and after the study's
grace period the trial is marked failed and done again, on a journal file and on a real
PostgreSQL server (Optuna's own heartbeat there)."""

from __future__ import annotations

import collections
import signal
import subprocess
from pathlib import Path
from typing import Any

from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.experiments.sweep import (
    fail_dead_trials, open_study, plan_sweep, results, run_worker,
)
from cnnviz.core.experiments.sweep_heartbeat import set_grace_period, timing
from tests.core.experiments.sweep_fixtures import KeepingRecorder, config, options, tiny_spec
from tests.core.experiments.test_sweep_workers import (  # noqa: F401  (postgresql_url: a fixture)
    ENDLESS, ROOT, _environment, _spec_file, _sweep_command, _wait_for, postgresql_url,
)

GRID = ["batch_size=16,32"]


def _running(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def _lose_a_worker_on_another_machine_and_resume(tmp_path: Path, storage: str) -> None:
    spec = _spec_file(tmp_path)
    # Endless trials, so the worker is surely killed in the middle of one; a grace period of
    # 3 s (a beat every 0.75 s) so the test waits seconds, not minutes.
    log = tmp_path / "worker.log"
    with log.open("w") as worker_log:
        worker = subprocess.Popen(
            _sweep_command(spec, "--epochs", ENDLESS, "--param", GRID[0], "--grid", "--storage",
                           storage, "--study", "lost", "--grace", "3"),
            cwd=ROOT, env=_environment(tmp_path), stdout=worker_log, stderr=subprocess.STDOUT)
    plan = plan_sweep("lost", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      GRID, [], "grid")
    opened: list[Any] = []

    def training() -> bool:
        if not opened:  # one storage for the whole wait (each holds database connections)
            if storage.endswith(".journal") and not Path(storage).exists():
                return False
            opened.append(open_study(plan, storage))
        # Running, and its worker named: the first heartbeat is recorded.
        return any(t.user_attrs.get("cnnviz_worker") for t in _running(opened[0]))

    try:
        _wait_for(training, "the worker to start a trial", worker=worker, log=log)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    study = open_study(plan, storage)
    assert timing(study).grace_period == 3  # the worker's --grace is kept with the study
    [lost] = _running(study)
    # The worker's machine is somewhere else: no process check can tell that it died.
    study._storage.set_trial_user_attr(lost._trial_id, "cnnviz_worker", "far-away:4242")

    set_grace_period(study, 3600)
    assert fail_dead_trials(study) == []               # within the grace period: still running
    assert [t.number for t in _running(study)] == [lost.number]

    set_grace_period(study, 3)
    finished: list[Any] = []
    run_worker(plan, storage, on_trial=finished.append,
               dataset=load_dataset("mnist-sample", options()))
    trials = results(open_study(plan, storage))
    states = {r.number: r.state for r in trials}
    assert states[lost.number] == "failed"              # marked failed, not lost ...
    complete = sorted(r.params["batch_size"] for r in trials if r.state == "complete")
    assert complete == [16, 32]                         # ... and done again, by this worker
    assert collections.Counter(r.state for r in trials) == {"complete": 2, "failed": 1}
    assert len(finished) == 2 and not _running(open_study(plan, storage))


def test_a_worker_lost_on_another_machine_is_failed_and_redone_on_a_journal(
        tmp_path: Path) -> None:
    _lose_a_worker_on_another_machine_and_resume(tmp_path, str(tmp_path / "lost.journal"))


def test_a_worker_lost_on_another_machine_is_failed_and_redone_on_postgresql(
        tmp_path: Path, postgresql_url: str) -> None:  # noqa: F811
    _lose_a_worker_on_another_machine_and_resume(tmp_path, postgresql_url)


def test_a_worker_whose_trial_was_given_up_meanwhile_goes_on(tmp_path: Path) -> None:
    """A worker cut off for longer than the grace period (its trial failed and queued again by
    another worker) finishes training without a crash; its result is dropped, and the trial is
    done once, by the next worker to take it."""
    from optuna.trial import TrialState

    journal = str(tmp_path / "cut.journal")
    plan = plan_sweep("cut", {"tiny": tiny_spec()}, "mnist-sample", options(), config(2),
                      ["batch_size=32"], [], "grid")
    study = open_study(plan, journal)

    class GivenUpMidTrial(KeepingRecorder):
        """At the first epoch, another worker gives the running trial up and requeues it."""

        def add_epoch(self, run_id: int, epoch: int, logs: dict[str, float]) -> None:
            super().add_epoch(run_id, epoch, logs)
            if len(self.runs) == 1 and epoch == 0:
                [running] = _running(study)
                study._storage.set_trial_state_values(running._trial_id, TrialState.FAIL)
                study.enqueue_trial({"batch_size": 32})

    finished: list[Any] = []
    run_worker(plan, journal, recorder=GivenUpMidTrial(), on_trial=finished.append,
               dataset=load_dataset("mnist-sample", options()))
    assert [r.state for r in finished] == ["failed", "complete"]
    trials = results(open_study(plan, journal))
    assert collections.Counter(r.state for r in trials) == {"failed": 1, "complete": 1}
