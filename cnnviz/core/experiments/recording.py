"""Recording training runs into the run store: the engine's `recorder` (core.training.engine.
train(..., recorder=...)) made from what the caller knows (name, spec, data source).

The engine tells the recorder when training starts, after every epoch and how it ended; the
caller adds what comes later (the test accuracy, the saved model's path). A recorder never
stops training: if the store fails (a locked or damaged file), it stops recording and keeps
the reason in `problem` for the caller to show.

Recording is on unless the environment variable CNNVIZ_RECORD_RUNS is 0/no/off/false (the
command line also has --no-record).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.run_store import RunStart, RunStore

__all__ = ["RunRecorder", "recording_enabled", "open_recorder", "settings_of", "RECORD_VARIABLE"]

RECORD_VARIABLE = "CNNVIZ_RECORD_RUNS"
_FINAL_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
# TrainConfig fields that are plumbing, not settings a run is compared by.
_NOT_SETTINGS = ("checkpoint_path", "tensorboard_dir", "batch_report_interval")


def recording_enabled() -> bool:
    """False when CNNVIZ_RECORD_RUNS says 0, no, off or false."""
    return os.environ.get(RECORD_VARIABLE, "1").strip().lower() not in ("0", "no", "off", "false")


def settings_of(config: Any, initial_epoch: int = 0) -> dict[str, Any]:
    """A TrainConfig as flat settings: optimizer, learning_rate, batch_size, epochs, augment_*,
    early_stopping (with monitor/patience/restore_best when on), seed, ..."""
    settings: dict[str, Any] = {}
    for item in fields(config):
        if item.name in _NOT_SETTINGS:
            continue
        value = getattr(config, item.name)
        if is_dataclass(value) and not isinstance(value, type):
            for key, inner in asdict(value).items():
                settings[f"augment_{key}"] = inner
        else:
            settings[item.name] = value
    if str(settings.get("optimizer", "")).lower() != "sgd":
        settings.pop("momentum", None)
    if not settings.get("early_stopping"):
        for key in ("monitor", "patience", "restore_best"):
            settings.pop(key, None)
    if initial_epoch:
        settings["initial_epoch"] = initial_epoch
    return settings


class RunRecorder:
    """Records one `train` call as one run. Give it to the engine as `recorder=`."""

    def __init__(self, store: RunStore, name: str, data_source: str,
                 spec_json: str | None = None, tags: list[str] | None = None,
                 sweep: str | None = None, extra_settings: dict[str, Any] | None = None) -> None:
        self.store = store
        self.name = name
        self.data_source = data_source
        self.spec_json = spec_json
        self.tags = list(tags or [])
        self.sweep = sweep
        self.extra_settings = dict(extra_settings or {})
        self.run_id: int | None = None
        self.problem: str | None = None      # why recording stopped, for the caller to show

    def _safely(self, action: Any, *args: Any) -> Any:
        if self.problem is not None:
            return None
        try:
            return action(*args)
        except CnnvizError as exc:
            self.problem = str(exc)
            return None

    # ---- called by the engine

    def started(self, model: Any, data: Any, config: Any, initial_epoch: int) -> None:
        """Training is about to begin: record the run."""
        spec_json = self.spec_json or json.dumps({"name": getattr(model, "name", "model")})

        def count(split: str) -> int:
            part = getattr(data, split, None)
            return int(part.count) if part is not None else 0

        start = RunStart(self.name, spec_json, int(model.count_params()), self.data_source,
                         count("train"), count("validation"), count("test"),
                         settings_of(config, initial_epoch) | self.extra_settings,
                         self.tags, self.sweep)
        self.run_id = self._safely(self.store.start_run, start)

    def epoch_ended(self, epoch: int, logs: dict[str, float]) -> None:
        """One epoch's logs (val_* included)."""
        if self.run_id is not None:
            self._safely(self.store.add_epoch, self.run_id, epoch, logs)
            self._last_logs = dict(logs)

    def ended(self, result: Any, error: BaseException | None) -> None:
        """Training returned `result` (a TrainResult) or raised `error`."""
        if self.run_id is None:
            return
        final = {k: v for k, v in getattr(self, "_last_logs", {}).items() if k in _FINAL_KEYS}
        if error is not None:
            status = "stopped" if isinstance(error, KeyboardInterrupt) else "failed"
        else:
            status = "stopped" if result.stopped else "finished"
        self._safely(self.store.finish_run, self.run_id, status, final, None)

    # ---- called by the caller afterwards

    def test_measured(self, metrics: dict[str, float]) -> None:
        """The test loss and accuracy measured after training ({"loss", "accuracy"})."""
        if self.run_id is not None:
            self._safely(self.store.update_final, self.run_id,
                         {f"test_{k}": v for k, v in metrics.items()})

    def model_saved(self, path: str | Path) -> None:
        """The trained model was saved to `path`."""
        if self.run_id is not None:
            self._safely(self.store.update_final, self.run_id, None, str(path))


def open_recorder(name: str, data_source: str, spec_json: str | None = None,
                  tags: list[str] | None = None, sweep: str | None = None,
                  store_path: Path | None = None) -> tuple[RunRecorder | None, str | None]:
    """A recorder on the user's run store, or (None, why) when recording is off (None, None)
    or the store cannot be opened (a damaged or newer file: the message says so). Training
    goes on either way."""
    if not recording_enabled():
        return None, None
    try:
        store = RunStore(store_path)
    except CnnvizError as exc:
        return None, f"{exc} This run is not recorded."
    return RunRecorder(store, name, data_source, spec_json, tags, sweep), None
