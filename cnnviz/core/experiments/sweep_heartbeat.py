"""Heartbeats of running sweep trials, so a worker that dies on any machine is noticed.

A worker records a heartbeat for its trial every `interval` seconds while the trial trains
(a daemon thread, stopped with the trial). A RUNNING trial whose last heartbeat is older than
the study's grace period is stale: its worker died, lost its network or its machine, and the
trial is marked FAIL so that its parameters can be queued again (failed, not lost).

Optuna's RDB storage (PostgreSQL, MySQL, SQLite) has heartbeats of its own, timed by the
database server's clock: `record_heartbeat`, its `heartbeat_interval` and `grace_period`, and
`optuna.storages.fail_stale_trials`. The journal storage has none, so there the heartbeat is
the worker's clock time in the trial's system attrs (the machines' clocks must agree to well
within the grace period, as NTP keeps them). The grace period belongs to the study (a user
attr set by `set_grace_period`), so every worker on every machine uses the same one.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["DEFAULT_GRACE_PERIOD", "MIN_GRACE_PERIOD", "HeartbeatTiming", "timing",
           "set_grace_period", "TrialHeartbeat", "start_heartbeat", "fail_stale_trials",
           "wait_for_running_trials"]

DEFAULT_GRACE_PERIOD = 120.0   # seconds without a heartbeat before a running trial is failed
MIN_GRACE_PERIOD = 2.0
_GRACE_ATTR = "cnnviz_grace_period"
_BEAT_ATTR = "cnnviz_heartbeat"   # journal storage: the worker's time.time() of its last beat
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeartbeatTiming:
    """How often a worker beats and how long the others wait before calling it dead."""

    interval: float
    grace_period: float


def timing(study: Any) -> HeartbeatTiming:
    """The study's timing: its grace period, and a beat every quarter of it (at most 30 s)."""
    grace = float(study.user_attrs.get(_GRACE_ATTR, DEFAULT_GRACE_PERIOD))
    return HeartbeatTiming(min(30.0, grace / 4), grace)


def set_grace_period(study: Any, seconds: float) -> None:
    """Make `seconds` the study's grace period (for every worker that joins it).

    Raises ValueError below MIN_GRACE_PERIOD."""
    if not seconds >= MIN_GRACE_PERIOD:
        raise ValueError(f"The grace period must be at least {MIN_GRACE_PERIOD:g} seconds.")
    study.set_user_attr(_GRACE_ATTR, float(seconds))


def _rdb(storage: Any, beat: HeartbeatTiming) -> bool:
    """True for a storage with Optuna's own heartbeat, switched on with the study's timing.

    The attributes are set directly (RDBStorage keeps them as plain attributes) rather than
    through its constructor, which would print an 'experimental' warning in every worker."""
    from optuna.storages import RDBStorage

    backend = getattr(storage, "_backend", storage)  # a study wraps RDB in a cache
    if not isinstance(backend, RDBStorage):
        return False
    backend.heartbeat_interval = beat.interval  # type: ignore[assignment]
    backend.grace_period = beat.grace_period  # type: ignore[assignment]
    return True


class TrialHeartbeat:
    """A daemon thread beating for one running trial until `stop()` or the trial ends."""

    def __init__(self, storage: Any, trial_id: int, beat: HeartbeatTiming) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._beat = beat
        self._uses_rdb = _rdb(storage, beat)
        self._stopped = threading.Event()
        self._marked = False
        self._beat_once()  # at once, so no running trial is ever without a heartbeat
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{trial_id}",
                                        daemon=True)
        self._thread.start()

    def _beat_once(self) -> bool:
        """Record one heartbeat; False once the trial is no longer running."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        try:
            if self._storage.get_trial(self._trial_id).state != TrialState.RUNNING:
                return False
            if self._uses_rdb:
                self._storage.record_heartbeat(self._trial_id)
            if not self._uses_rdb or not self._marked:
                # The journal's heartbeat; on RDB only once, to say the beats have begun.
                self._storage.set_trial_system_attr(self._trial_id, _BEAT_ATTR, time.time())
                self._marked = True
        except UpdateFinishedTrialError:
            return False
        except Exception as exc:  # a lost connection: the next beat tries again
            _LOG.warning("Could not record the heartbeat of a sweep trial: %s", exc)
        return True

    def _run(self) -> None:
        while not self._stopped.wait(self._beat.interval):
            if not self._beat_once():
                return

    def stop(self) -> None:
        """Stop beating (the trial is over) and wait for the thread."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


def start_heartbeat(study: Any, trial: Any) -> TrialHeartbeat:
    """Begin beating for `trial` (an optuna.Trial just switched to RUNNING)."""
    return TrialHeartbeat(study._storage, trial._trial_id, timing(study))


def _stale_by_attr(study: Any, beat: HeartbeatTiming, rdb: bool) -> list[int]:
    """Running trials whose heartbeat attr is older than the grace period, or that never beat
    (the worker died between taking the trial and its first beat; an old cnnviz's trial).
    On RDB only the latter: Optuna judges the others by the server's clock."""
    from optuna.trial import TrialState

    now = time.time()
    stale = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = trial.system_attrs.get(_BEAT_ATTR)
        if last is not None and rdb:
            continue
        if last is None and trial.datetime_start is not None:
            last = trial.datetime_start.timestamp()
        if last is not None and now - float(last) > beat.grace_period:
            stale.append(trial._trial_id)
    return stale


def fail_stale_trials(study: Any, requeue: Callable[[Any], None]) -> list[int]:
    """Mark FAIL the running trials whose heartbeat is older than the grace period and call
    requeue(frozen_trial) for each one this process failed (another process that fails it
    first requeues it itself, so none is queued twice). Returns the trials' numbers."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    beat = timing(study)
    failed: list[Any] = []
    rdb = _rdb(storage, beat)
    if rdb:
        backend = getattr(storage, "_backend", storage)
        previous = backend.heartbeat_stale_trial_callback
        backend.heartbeat_stale_trial_callback = lambda _study, trial: failed.append(trial)
        try:
            with warnings.catch_warnings():  # "experimental" since 2.9: not the user's business
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
        finally:
            backend.heartbeat_stale_trial_callback = previous
    for trial_id in _stale_by_attr(study, beat, rdb):
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(storage.get_trial(trial_id))
        except UpdateFinishedTrialError:
            continue
    for trial in failed:
        requeue(trial)
    return [trial.number for trial in failed]


def wait_for_running_trials(study: Any) -> bool:
    """With no trial left waiting: if other workers' trials are still running, pause a
    moment and return True (one of them may die and be queued again, so look again);
    return False when none is running (the sweep is over for this worker)."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        return False
    time.sleep(min(5.0, timing(study).interval))
    return True
