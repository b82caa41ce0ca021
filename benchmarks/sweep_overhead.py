"""What a sweep costs: 8 small trials through `cnnviz sweep`'s core against the same 8
trainings in a plain Keras loop, measured in the same run.

Usage:  python benchmarks/sweep_overhead.py [--epochs 2] [--samples 2000] [--repeats 5]
                                            [--storage FILE.journal | URL]

Both sides train the bundled sample spec `sample_models/mnist_cnn_small.json` on the bundled
MNIST sample (--samples training digits, 10 % of them held back for validation), over the
same grid of 8 combinations (learning_rate 0.003, 0.001 × batch_size 32, 64 ×
conv2d_1.filters 16, 32), each model built fresh and trained for --epochs:

  plain   for each combination: build the model, compile it (the engine's compile), then
          `model.fit(train, validation_data=val, verbose=0)` on the engine's tf.data pipelines.
  engine  the same loop through `cnnviz.core.training.engine.train` (no Optuna), to tell the
          engine's own cost from the sweep's.
  sweep   `run_worker` on a new Optuna study in a journal file (or --storage): planning the
          grid, taking each trial from the storage, building the spec with its layer
          parameter, `engine.train` with its per-epoch report, and `study.tell`.

The dataset is loaded once and handed to both, so the comparison is of the trainings. The
sides alternate (the order flips each round) for --repeats rounds; the figure to quote is
the median sweep time divided by the median plain time. Target: at most 1.05.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.05
GRID = ["learning_rate=0.003,0.001", "batch_size=32,64", "conv2d_1.filters=16,32"]


def _plan(name: str, epochs: int, samples: int) -> Any:
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.experiments.sweep import plan_sweep
    from cnnviz.core.model.spec import load_spec
    from cnnviz.core.training.engine import TrainConfig

    spec = load_spec(ROOT / "sample_models" / "mnist_cnn_small.json")
    return plan_sweep(name, {"mnist_cnn_small": spec}, "mnist-sample",
                      LoadOptions(limit=samples, seed=1337), TrainConfig(epochs=epochs, seed=1337),
                      GRID, [], "grid")


def run_plain(plan: Any, data: Any) -> float:
    """The same 8 trainings in a plain Keras loop; seconds."""
    from cnnviz.core.experiments.sweep import trial_inputs
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.training.augmentation import evaluation_dataset, training_dataset
    from cnnviz.core.training.engine import compile_for_training

    started = time.perf_counter()
    for point in plan.grid():
        _, spec, config = trial_inputs(plan, point)
        model = build_model(spec)
        compile_for_training(model, config)
        train = training_dataset(data.train, config.batch_size, None, False, config.seed)
        validation = evaluation_dataset(data.validation, config.batch_size)
        model.fit(train, validation_data=validation, epochs=config.epochs, verbose=0,
                  shuffle=False)  # the pipeline shuffles, as in the engine
    return time.perf_counter() - started


def run_engine(plan: Any, data: Any) -> float:
    """The same 8 trainings through cnnviz's engine, without Optuna; seconds."""
    from cnnviz.core.experiments.sweep import trial_inputs
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.training.engine import train

    started = time.perf_counter()
    for point in plan.grid():
        _, spec, config = trial_inputs(plan, point)
        train(build_model(spec), data, config)
    return time.perf_counter() - started


def run_sweep(plan: Any, data: Any, storage: str) -> float:
    """The 8 trials through the sweep; seconds."""
    from cnnviz.core.experiments.sweep import run_worker

    started = time.perf_counter()
    done = run_worker(plan, storage, dataset=data)
    seconds = time.perf_counter() - started
    assert done == len(plan.grid()), f"the sweep ran {done} trials"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--storage", help="default: a new journal file in a temporary folder")
    args = parser.parse_args()

    from cnnviz.core.data.datasets import load_dataset

    folder = tempfile.mkdtemp(prefix="cnnviz-sweep-bench-")
    first = _plan("warm-up", args.epochs, args.samples)
    data = load_dataset("mnist-sample", first.load_options)
    print(f"{data.description}; {len(first.grid())} trials of {args.epochs} epoch(s) each")
    run_plain(first, data)  # warm-up: TensorFlow's first tracing is not timed
    times: dict[str, list[float]] = {"plain": [], "engine": [], "sweep": []}
    for round_number in range(args.repeats):
        plan = _plan(f"bench-{round_number}-{os.getpid()}", args.epochs, args.samples)
        storage = args.storage or str(Path(folder) / f"bench-{round_number}.journal")
        sides = list(times) if round_number % 2 == 0 else list(reversed(times))
        for side in sides:
            seconds = (run_plain(plan, data) if side == "plain" else
                       run_engine(plan, data) if side == "engine" else
                       run_sweep(plan, data, storage))
            times[side].append(seconds)
            print(f"round {round_number + 1}: {side:6s} {seconds:6.2f} s")
    plain, engine, sweep = (statistics.median(times[side]) for side in times)
    ratio = sweep / plain
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"median plain {plain:.2f} s, engine {engine:.2f} s, sweep {sweep:.2f} s")
    print(f"sweep/plain = {ratio:.3f} ({verdict} the target of {TARGET_RATIO:.2f}); "
          f"sweep/engine = {sweep / engine:.3f} (what Optuna and the sweep add to the engine)")


if __name__ == "__main__":
    main()
