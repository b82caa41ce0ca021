"""What the cnnviz training engine costs on a 1-D model: its throughput against plain `model.fit`.

Usage:  python benchmarks/training_overhead_1d.py [--epochs 20] [--repeats 7] [--batch-size 10]
                                                  [--data gunpoint-sample] [--z-normalize]

The same measurement as training_overhead.py (whose variants, rounds and medians it reuses),
on signals: the GunPoint preset (`signal_fcn`: Conv1D, batch norm, global average pooling)
on the bundled GunPoint sample (or any time-series source given to --data), loaded through
`cnnviz.core.data.datasets` with a validation split, at the batch size the README trains it
with. Variants:

  plain    `model.fit(train, validation_data=val, verbose=0)` on the engine's own pipelines.
  engine   `cnnviz.core.training.engine.train` with on_batch, on_epoch, should_stop and
           is_paused attached at the default report throttling, as the GUI worker calls it.

GunPoint's 45 training series make an epoch short, so each timed run trains --epochs epochs
(default 20) to keep Keras's fixed cost per `fit` call from swamping the figure; both variants
pay it alike. The figure to quote is engine/plain of the medians; target at least 0.95.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import training_overhead as overhead  # noqa: E402  (the 2-D benchmark's variants and rounds)

TARGET_RATIO = 0.95


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # not available on this system
        return "unknown"


def make_bench(source: str, batch_size: int, z_normalize: bool,
               seed: int = 1337) -> overhead.Bench:
    """The GunPoint preset, compiled once, and the series of `source`."""
    import keras

    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.presets import signal_fcn
    from cnnviz.core.model.spec_edits import set_input_shape
    from cnnviz.core.training.engine import TrainConfig, compile_for_training

    data = load_dataset(source, LoadOptions(seed=seed, z_normalize=z_normalize))
    if not data.is_series:
        raise SystemExit(f"{source} holds images; this benchmark trains a 1-D model on "
                         "time series.")
    spec = signal_fcn()
    if tuple(spec.input_shape) != tuple(data.input_shape):
        spec = set_input_shape(spec, tuple(data.input_shape))
    spec.layers[-1].params = {**spec.layers[-1].params, "units": data.num_classes}
    keras.utils.set_random_seed(seed)
    model = build_model(spec)
    config = TrainConfig(batch_size=batch_size, seed=seed)
    compile_for_training(model, config)
    return overhead.Bench(model, data, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="rounds of alternating runs")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--data", default="gunpoint-sample",
                        help="a time-series source (default: the bundled GunPoint)")
    parser.add_argument("--z-normalize", action="store_true")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    bench = make_bench(args.data, args.batch_size, args.z_normalize)
    print(f"Training overhead, 1-D: {bench.data.description}")
    print(f"  model signal_fcn ({bench.model.count_params():,} parameters), batch size "
          f"{args.batch_size}, {bench.train_count:,} training series, "
          f"{bench.data.validation.count:,} validated per epoch")
    print(f"  TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU "
          f"cores; {args.repeats} rounds of {args.epochs} epochs per variant after a warm-up")
    print(f"  load average before: {load_average()}")
    variants = ["plain", "engine"]
    results = overhead.run(variants, args.epochs, args.repeats, bench)
    print(f"  load average after:  {load_average()}")
    medians = {name: statistics.median(m.images_per_second for m in runs)
               for name, runs in results.items()}
    cpu = {name: statistics.median(m.images_per_cpu_second for m in runs)
           for name, runs in results.items()}
    print("Median throughput:")
    for name in variants:
        print(f"  {name:<8} {medians[name]:8,.0f} series/s   {cpu[name]:8,.0f} series per CPU-s")
    ratio = medians["engine"] / medians["plain"]
    print(f"Ratio engine/plain: {ratio:.3f} (target >= {TARGET_RATIO}); per CPU second: "
          f"{cpu['engine'] / cpu['plain']:.3f}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
