"""The recorded runs written for TensorBoard's HParams dashboard (`tensorboard --logdir DIR`).

DIR holds the experiment's hparams config (every hyperparameter with its domain, and the
metrics), and one folder per run, `run-ID`, with its hyperparameters (every setting, the
model, its parameter count, the data source, the training-set size and the sweep), its
per-epoch scalars (`epoch/loss`, `epoch/accuracy`, `epoch/val_loss`, `epoch/val_accuracy`)
and its final metrics (`final/accuracy`, `final/loss`, `final/val_...`, `final/test_...`),
which are the HParams dashboard's metric columns.

Written with TensorBoard's hparams plugin API (`tensorboard.plugins.hparams.summary_v2`,
which `tensorboard.plugins.hparams.api` re-exports; the `api` module itself imports
TensorFlow for its Keras callback, this module does not) and TensorBoard's own record
writer. Exporting again to the same DIR replaces the event files written before.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:
    from cnnviz.core.experiments.run_store import RunRecord

__all__ = ["TensorBoardExportError", "EPOCH_METRICS", "FINAL_METRICS", "run_folder_name",
           "run_hparams", "export_tensorboard"]

EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
FINAL_METRICS = ("accuracy", "loss", "val_accuracy", "val_loss", "test_accuracy", "test_loss")
_METRIC_NAMES = {"accuracy": "train accuracy", "loss": "train loss",
                 "val_accuracy": "validation accuracy", "val_loss": "validation loss",
                 "test_accuracy": "test accuracy", "test_loss": "test loss"}
_EVENT_FILES = "events.out.tfevents.*"


class TensorBoardExportError(CnnvizError):
    """The runs cannot be written where asked, said in a sentence."""


def run_folder_name(record: "RunRecord") -> str:
    """The run's folder in the export (TensorBoard's run name): `run-ID`."""
    return f"run-{record.id}"


def _plain(value: Any) -> bool | int | float | str:
    """A value TensorBoard's hparams hold: bool, number or text (others as JSON text)."""
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None:
        return "none"
    return json.dumps(value, ensure_ascii=False)


def run_hparams(record: "RunRecord") -> dict[str, bool | int | float | str]:
    """Every hyperparameter of one run: the model, its parameter count, the data, the
    training-set size, the sweep, and every setting (a sweep's own `model` label wins)."""
    values: dict[str, Any] = {"model": record.model_name, "parameters": record.param_count,
                              "data": record.data_source, "train_size": record.train_count,
                              "sweep": record.sweep or ""}
    values.update(record.settings)
    return {name: _plain(value) for name, value in values.items()}


def _kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else "number"


def _consistent(all_hparams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One type per hyperparameter across runs (a domain has one): mixed ones become text."""
    kinds: dict[str, set[str]] = {}
    for values in all_hparams:
        for name, value in values.items():
            kinds.setdefault(name, set()).add(_kind(value))
    mixed = {name for name, found in kinds.items() if len(found) > 1}
    return [{name: (str(value) if name in mixed else value) for name, value in values.items()}
            for values in all_hparams]


def _config_pb(all_hparams: list[dict[str, Any]], created: float) -> Any:
    from tensorboard.plugins.hparams import summary_v2 as hp

    names: list[str] = []
    for values in all_hparams:
        names += [name for name in values if name not in names]
    hparams = []
    for name in names:
        seen = [values[name] for values in all_hparams if name in values]
        if all(isinstance(v, (bool, str)) for v in seen):
            domain: Any = hp.Discrete(sorted(set(seen), key=str))
        else:
            domain = hp.RealInterval(float(min(seen)), float(max(seen)))
        hparams.append(hp.HParam(name, domain))
    metrics = [hp.Metric(f"final/{name}", display_name=f"final {_METRIC_NAMES[name]}")
               for name in FINAL_METRICS]
    return hp.hparams_config_pb(hparams=hparams, metrics=metrics, time_created_secs=created)


def _clear_event_files(folder: Path) -> None:
    for old in folder.glob(_EVENT_FILES):
        old.unlink()


def _write(folder: Path, events: list[tuple[float, int, Any]]) -> None:
    """Write (wall time, step, Summary) events to a fresh event file in folder.

    TensorBoard's RecordWriter on a plain file: its EventFileWriter would open the file
    through TensorFlow's gfile, importing TensorFlow for nothing."""
    import os
    import socket
    import time

    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    folder.mkdir(parents=True, exist_ok=True)
    _clear_event_files(folder)
    name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}"
    with open(folder / name, "wb") as file:
        writer = RecordWriter(file)
        writer.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
                     .SerializeToString())
        for wall_time, step, summary in events:
            writer.write(event_pb2.Event(wall_time=wall_time, step=step, summary=summary)
                         .SerializeToString())
        writer.flush()


def _run_events(record: "RunRecord", hparams: dict[str, Any]) -> list[tuple[float, int, Any]]:
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb

    start = record.started_at
    epochs = max(1, len(record.history))
    per_epoch = (record.duration or 0.0) / epochs
    events = [(start, 0, hp.hparams_pb(hparams, trial_id=f"{record.id}: {record.name}",
                                       start_time_secs=start))]
    for index, logs in enumerate(record.history, start=1):
        for name in EPOCH_METRICS:
            value = logs.get(name)
            if value is not None and math.isfinite(value):
                events.append((start + index * per_epoch, index,
                               scalar_pb(f"epoch/{name}", float(value))))
    end = record.ended_at if record.ended_at is not None else start
    for name in FINAL_METRICS:
        value = record.final.get(name)
        if value is not None and math.isfinite(value):
            events.append((end, len(record.history), scalar_pb(f"final/{name}", float(value))))
    return events


def export_tensorboard(records: list["RunRecord"], folder: Path | str) -> list[Path]:
    """Write the runs (each with its `history`, as RunStore.get gives it) to `folder` for
    TensorBoard's HParams dashboard. Returns the runs' folders.

    Raises TensorBoardExportError when there is no run or the folder cannot be written.
    """
    import time

    folder = Path(folder).expanduser()
    if not records:
        raise TensorBoardExportError("There is no run to export.")
    if folder.exists() and not folder.is_dir():
        raise TensorBoardExportError(f"{folder} is a file; TensorBoard reads a folder. Choose "
                                     "a folder (a new or an empty one).")
    all_hparams = _consistent([run_hparams(record) for record in records])
    written = []
    try:
        _write(folder, [(time.time(), 0, _config_pb(all_hparams, time.time()))])
        for record, hparams in zip(records, all_hparams):
            target = folder / run_folder_name(record)
            _write(target, _run_events(record, hparams))
            written.append(target)
    except OSError as exc:
        raise TensorBoardExportError(f"Cannot write the TensorBoard logs in {folder}: "
                                     f"{exc.strerror or exc}.") from None
    return written
