"""A tiny spec, the bundled MNIST sample (300 digits) and a recorder that keeps what the
sweep tells the run store, for the sweep tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.training.engine import TrainConfig

LIMIT = 300


def tiny_spec(filters: int = 4) -> ModelSpec:
    """conv2d → max_pooling2d → flatten → dropout → dense: a second per trial."""
    return ModelSpec((28, 28, 1), [
        LayerSpec.make("Conv2D", filters=filters, kernel_size=[3, 3], activation="relu"),
        LayerSpec.make("MaxPooling2D"),
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dropout", rate=0.2),
        LayerSpec.make("Dense", units=10, activation="softmax"),
    ], name="tiny")


def dense_spec() -> ModelSpec:
    return ModelSpec((28, 28, 1), [
        LayerSpec.make("Flatten"),
        LayerSpec.make("Dense", units=16, activation="relu"),
        LayerSpec.make("Dense", units=10, activation="softmax"),
    ], name="dense")


def options() -> LoadOptions:
    return LoadOptions(limit=LIMIT, seed=1337)


def config(epochs: int = 1) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=32, seed=1337)


@dataclass
class KeptRun:
    start: Any
    epochs: list[dict[str, float]] = field(default_factory=list)
    status: str | None = None
    final: dict[str, float] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass
class KeepingRecorder:
    """Satisfies the sweep's RunRecorder protocol by keeping every call in memory."""

    runs: list[KeptRun] = field(default_factory=list)

    def start_run(self, start: Any) -> int:
        self.runs.append(KeptRun(start))
        return len(self.runs) - 1

    def add_epoch(self, run_id: int, epoch: int, logs: dict[str, float]) -> None:
        self.runs[run_id].epochs.append(dict(logs))

    def finish_run(self, run_id: int, status: str, final: dict[str, float],
                   model_path: str | None) -> None:
        self.runs[run_id].status = status
        self.runs[run_id].final = dict(final)

    def add_tag(self, run_id: int, tag: str) -> None:
        self.runs[run_id].tags.append(tag)

    def layer_param(self, run: KeptRun, index: int, name: str) -> Any:
        return json.loads(run.start.spec_json)["layers"][index]["params"][name]
