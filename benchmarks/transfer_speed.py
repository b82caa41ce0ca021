"""Transfer training with a frozen base: cnnviz's engine against plain `model.fit`.

Usage:  python benchmarks/transfer_speed.py [--base mobilenet_v2|PATH] [--size 96]
                                            [--samples 600] [--repeats 5] [--batch-size 32]
                                            [--from-spec]

One transfer model (the base cut and frozen, a new head; `--weights random` for
applications, because this machine may be offline: the cost per image does not depend on
the weight values) is built once by `cnnviz.core.transfer.transfer_model` and compiled
once (with --from-spec: the builder's way instead, a model spec whose first layer is the
base prepared by `cnnviz.core.transfer.base_blocks`, built by `build_model`). On the same data (the bundled MNIST sample through `cnnviz.core.data.datasets`, the
first --samples digits, validation split included) and batch size, two variants alternate
(the order flips each round), each after one untimed warm-up epoch:

  plain   `model.fit(train, validation_data=val, epochs=1, verbose=0)` on the same tf.data
          pipelines the engine uses: Keras alone.
  engine  `cnnviz.core.training.engine.train` with every callable the app attaches
          (on_batch, on_epoch, should_stop, is_paused), as the Train view and
          `cnnviz transfer` run it.

Throughput is training images per second of wall time per epoch; the figure to quote is the
median of engine divided by the median of plain, measured in the same run (target ≥ 0.95).
The end-to-end time of the 600-image classroom demo (`cnnviz transfer` of the sample digit
model, 5 epochs) is printed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 0.95


def transfer_model(args: argparse.Namespace, data: Any) -> tuple[Any, str]:
    """The base cut, frozen and topped with a head by core.transfer.transfer_model."""
    from cnnviz.core.transfer.bases import is_application_name, open_base
    from cnnviz.core.transfer.transfer_model import build_transfer_model

    if is_application_name(args.base):
        base = open_base(args.base, weights="random", input_shape=(args.size, args.size))
    else:
        base = open_base(args.base)
    transfer = build_transfer_model(base, data.input_shape, data.num_classes, resize=True)
    return transfer.model, f"{base.name} at {base.input_shape}, cut at {transfer.cut_layer}"


def spec_model(args: argparse.Namespace, data: Any) -> tuple[Any, str]:
    """The same base and head as the builder makes them: a spec, then build_model."""
    import tempfile

    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.spec import LayerSpec, ModelSpec
    from cnnviz.core.transfer.base_blocks import describe_base, prepare_base_block

    folder = Path(tempfile.mkdtemp(prefix="cnnviz-bench-bases-"))
    size = (args.size, args.size)
    base = prepare_base_block(args.base, weights="random", input_size=size,
                              input_channels=data.input_shape[-1], folder=folder)
    head = [LayerSpec.make("Dense", units=128, activation="relu"),
            LayerSpec.make("Dropout", rate=0.2),
            LayerSpec.make("Dense", units=data.num_classes, activation="softmax")]
    if len(base.params["output_shape"]) == 3:
        head.insert(0, LayerSpec.new("GlobalAveragePooling2D"))
    spec = ModelSpec(tuple(data.input_shape), [base, *head], "transfer_spec")
    return build_model(spec), "spec: " + describe_base(base)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="mobilenet_v2")
    parser.add_argument("--size", type=int, default=96, help="application input size")
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-demo", action="store_true", help="skip the end-to-end demo timing")
    parser.add_argument("--from-spec", action="store_true",
                        help="build the model from a spec with a PretrainedBase layer")
    args = parser.parse_args()

    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.training.augmentation import evaluation_dataset, training_dataset
    from cnnviz.core.training.engine import TrainConfig, compile_for_training, train
    from cnnviz.core.transfer.transfer_model import parameter_counts

    data = load_dataset("mnist-sample", LoadOptions(limit=args.samples))
    model, described = (spec_model if args.from_spec else transfer_model)(args, data)
    config = TrainConfig(batch_size=args.batch_size, epochs=1, seed=1,
                         batch_report_interval=0.05)
    compile_for_training(model, config)
    trainable, frozen = parameter_counts(model)
    print(f"{described}: {trainable:,} trainable / {frozen:,} frozen parameters; "
          f"{data.train.count} training images, batch {args.batch_size}")

    train_ds = training_dataset(data.train, args.batch_size, None, False, 1)
    val_ds = evaluation_dataset(data.validation, args.batch_size, False)
    epoch = [0]

    def plain() -> float:
        start = time.perf_counter()
        model.fit(train_ds, validation_data=val_ds, epochs=1, verbose=0)
        return data.train.count / (time.perf_counter() - start)

    def engine() -> float:
        start = time.perf_counter()
        result = train(model, data, config, on_batch=lambda *a: None,
                       on_epoch=lambda *a: None, should_stop=lambda: False,
                       is_paused=lambda: False, initial_epoch=epoch[0])
        epoch[0] = result.epochs_done
        return data.train.count / (time.perf_counter() - start)

    plain(), engine()  # warm-up: tracing is not timed
    rates: dict[str, list[float]] = {"plain": [], "engine": []}
    for round_number in range(args.repeats):
        order = (("plain", plain), ("engine", engine))
        for name, run in order if round_number % 2 == 0 else order[::-1]:
            rates[name].append(run())
    for name, values in rates.items():
        print(f"{name:7s} median {statistics.median(values):8.1f} images/s  "
              f"({', '.join(f'{v:.0f}' for v in values)})")
    ratio = statistics.median(rates["engine"]) / statistics.median(rates["plain"])
    print(f"engine/plain throughput: {ratio:.3f} (target ≥ {TARGET_RATIO})")

    if not args.no_demo:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            command = [sys.executable, "-m", "cnnviz", "transfer",
                       str(ROOT / "sample_models" / "mnist_cnn_small.keras"), "--data",
                       "mnist-sample", "--limit", "600", "--epochs", "5", "--no-record",
                       "--out", str(Path(folder) / "demo.keras")]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            took = time.perf_counter() - start
            last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
            print(f"600-image demo end to end (cnnviz transfer, start-up included): "
                  f"{took:.1f} s, {last}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
