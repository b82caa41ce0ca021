"""Run stores for the Experiments view's tests, the screenshots and the benchmark: real
SQLite files written through the real RunStore."""

from __future__ import annotations

import math
from pathlib import Path

from cnnviz.core.experiments.run_store import RunStart, RunStore
from cnnviz.core.model.presets import preset_spec

OPTIMIZERS = ("adam", "sgd", "rmsprop")
RATES = (0.01, 0.003, 0.001, 0.0003)


def history_of(index: int, epochs: int) -> list[dict[str, float]]:
    """A plausible learning curve, different for every run."""
    speed = 0.25 + 0.07 * (index % 5)
    rows = []
    for epoch in range(epochs):
        accuracy = 0.97 - 0.8 * math.exp(-speed * (epoch + 1))
        rows.append({"loss": 2.2 * math.exp(-speed * (epoch + 1)) + 0.05,
                     "accuracy": accuracy,
                     "val_loss": 2.3 * math.exp(-speed * 0.9 * (epoch + 1)) + 0.09,
                     "val_accuracy": accuracy - 0.02 - 0.002 * (index % 7)})
    return rows


def write_runs(path: Path, count: int, epochs: int = 20) -> list[int]:
    """`count` finished runs (the last one left running by a dead process would be
    "unfinished"), each with `epochs` epochs; returns their ids, oldest first."""
    spec_json = preset_spec("mnist_cnn").to_json()
    ids = []
    with RunStore(path) as store:
        for index in range(count):
            optimizer = OPTIMIZERS[index % len(OPTIMIZERS)]
            rate = RATES[index % len(RATES)]
            train = (300, 600, 1800, 3000, 5900)[index % 5]
            start = RunStart(f"{optimizer} lr {rate:g} n{train}", spec_json, 225_034,
                             "mnist-sample", train, 500, 1000,
                             {"optimizer": optimizer, "learning_rate": rate,
                              "batch_size": (32, 64, 128)[index % 3], "epochs": epochs,
                              "early_stopping": False, "seed": index},
                             tags=["baseline"] if index % 4 == 0 else [])
            run_id = store.start_run(start)
            history = history_of(index, epochs)
            for epoch, logs in enumerate(history):
                store.add_epoch(run_id, epoch, logs)
            final = dict(history[-1]) if history else {}
            store.finish_run(run_id, "finished", final)
            store.update_final(run_id, {"test_accuracy": final.get("val_accuracy", 0.5) - 0.01,
                                        "test_loss": final.get("val_loss", 1.0) + 0.02})
            ids.append(run_id)
    return ids
