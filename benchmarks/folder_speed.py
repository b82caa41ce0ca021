"""Image-folder throughput: cnnviz vs plain Keras, time per image and peak memory (target 1.2).

    .venv/bin/python benchmarks/folder_speed.py [--images 10000] [--repeats 2] [--no-fit]

Writes 10,000 generated 32×32 JPEGs in 10 class folders to a temporary directory. Each
measurement runs in a fresh Python process and reports its wall time from the folder path to
the result, and its peak resident memory (ru_maxrss):

- Keras, evaluate: `keras.utils.image_dataset_from_directory(image_size=(32, 32),
  batch_size=256, shuffle=False)` (its own listing included) scaled to [0, 1], then
  `model.evaluate`.
- cnnviz, evaluate: what `cnnviz evaluate` does: `load_dataset` (the scan included) with the
  model's load options, then `core.inspect.evaluation.evaluate_model(batch_size=256)`.
- Keras, fit: `image_dataset_from_directory(batch_size=64, shuffle=True)` + one epoch of
  `model.fit`.
- cnnviz, fit: `load_dataset` + one epoch of the training engine (`core.training.engine.train`,
  batch size 64, no validation split), as `cnnviz train` and the app train.

Both sides use the same small CNN with the same initial weights. Runs alternate between the
two sides (Keras first, then cnnviz first, ...) and the median of the repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CLASSES = 10
SIDE = 32
EVALUATE_BATCH = 256  # `cnnviz evaluate`'s default
FIT_BATCH = 64        # the training engine's default
TARGET = 1.2


def make_folder(root: Path, count: int, seed: int = 0) -> None:
    """count 32×32 JPEGs in root/class_<k>/: colour gradients plus noise, like small photos."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, SIDE)[None, :, None]
    for index in range(count):
        label = index % CLASSES
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        base = np.array([label * 25, 255 - label * 25, 128], dtype=np.float64)
        pixels = base * (0.5 + 0.5 * ramp) + rng.normal(0, 20, (SIDE, SIDE, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(
            folder / f"{index:05d}.jpg", quality=90)


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def small_cnn() -> object:
    import keras as k

    k.utils.set_random_seed(0)
    model = k.Sequential([
        k.Input((SIDE, SIDE, 3)),
        k.layers.Conv2D(16, 3, activation="relu"),
        k.layers.MaxPooling2D(),
        k.layers.Conv2D(32, 3, activation="relu"),
        k.layers.GlobalAveragePooling2D(),
        k.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_child(folder: str, task: str) -> dict[str, float]:
    import keras
    import tensorflow as tf

    model = small_cnn()
    start = time.perf_counter()
    batch = EVALUATE_BATCH if task == "evaluate" else FIT_BATCH
    dataset = keras.utils.image_dataset_from_directory(
        folder, image_size=(SIDE, SIDE), batch_size=batch, shuffle=task == "fit", seed=1,
        verbose=False)
    dataset = dataset.map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
    if task == "evaluate":
        loss, accuracy = model.evaluate(dataset, verbose=0)
        result = {"loss": float(loss), "accuracy": float(accuracy)}
    else:
        model.fit(dataset, epochs=1, verbose=0)
        result = {}
    result["seconds"] = time.perf_counter() - start
    result["images"] = sum(len(files) for _, _, files in os.walk(folder))
    return result


def cnnviz_child(folder: str, task: str) -> dict[str, float]:
    import keras

    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset

    model = small_cnn()
    start = time.perf_counter()
    options = load_options_for(model.input_shape[1:])
    options.validation_split = 0.0  # all images in one split: the same work as Keras's side
    data = load_dataset(folder, options)
    scanned = time.perf_counter()
    if task == "evaluate":
        from cnnviz.core.inspect.evaluation import evaluate_model

        evaluation = evaluate_model(model, data, "train", batch_size=EVALUATE_BATCH)
        result = {"loss": evaluation.loss, "accuracy": evaluation.accuracy}
    else:
        from cnnviz.core.training.engine import TrainConfig, train

        config = TrainConfig(batch_size=FIT_BATCH, epochs=1, seed=1)
        train(model, data, config)
        result = {}
    result["seconds"] = time.perf_counter() - start
    result["scan_seconds"] = scanned - start
    result["images"] = data.train.count
    return result


def child(side: str, folder: str, task: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    result = (keras_child if side == "keras" else cnnviz_child)(folder, task)
    result["peak_mb"] = peak_rss_mb()
    print(json.dumps(result))


def measure(side: str, folder: Path, task: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", side, str(folder), task]
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"{side} {task} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(task: str, folder: Path, repeats: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {"keras": [], "cnnviz": []}
    for repeat in range(repeats):
        order = ("keras", "cnnviz") if repeat % 2 == 0 else ("cnnviz", "keras")
        for side in order:
            runs[side].append(measure(side, folder, task))
    per_image = {side: statistics.median(r["seconds"] / r["images"] for r in results)
                 for side, results in runs.items()}
    peak = {side: statistics.median(r["peak_mb"] for r in results)
            for side, results in runs.items()}
    images = int(runs["cnnviz"][0]["images"])
    for side in ("keras", "cnnviz"):
        last = runs[side][-1]
        extra = (f", scan {statistics.median(r['scan_seconds'] for r in runs[side]):.2f} s"
                 if side == "cnnviz" else "")
        score = (f", accuracy {last['accuracy']:.4f} loss {last['loss']:.4f}"
                 if "loss" in last else "")
        print(f"  {side:<6} {task:<8} {images:,} images: {per_image[side] * 1e6:7.1f} µs/image "
              f"({per_image[side] * images:.2f} s{extra}), peak {peak[side]:6.0f} MB{score}",
              flush=True)
    for what, ratio in (("time per image", per_image["cnnviz"] / per_image["keras"]),
                        ("peak memory", peak["cnnviz"] / peak["keras"])):
        verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
        print(f"  {task} {what} ratio cnnviz/Keras: {ratio:.3f} (target <= {TARGET}: {verdict})",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-fit", action="store_true", help="skip the model.fit comparison")
    parser.add_argument("--folder", help="reuse this generated folder instead of a new one")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory(prefix="cnnviz-folder-speed-") as tmp:
        folder = Path(args.folder) if args.folder else Path(tmp) / "images"
        if not folder.exists():
            start = time.perf_counter()
            make_folder(folder, args.images)
            print(f"generated {args.images:,} {SIDE}×{SIDE} JPEGs in {CLASSES} class folders "
                  f"in {time.perf_counter() - start:.1f} s", flush=True)
        for task in ("evaluate",) + (() if args.no_fit else ("fit",)):
            compare(task, folder, args.repeats)


if __name__ == "__main__":
    main()
