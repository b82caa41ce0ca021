"""Peak memory of an image-folder source: 20,000 images vs 2,000 (target: ratio at most 1.2).

    .venv/bin/python benchmarks/folder_memory.py [--small 2000] [--large 20000] [--no-fit]

Writes two folders of small generated images (64×64, half PNG, half JPEG, 10 classes) in a
temporary directory. For each, a fresh Python process loads the folder with cnnviz, runs one
full epoch of `train.tf_dataset(batch_size=64)`, then one epoch of `model.fit` on a small CNN,
and reports its peak resident memory (ru_maxrss). A folder source streams from disk, so ten
times the images should cost about the same memory. Prints both peaks and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CLASSES = 10
SIDE = 64
BATCH_SIZE = 64


def make_folder(root: Path, count: int, seed: int = 0) -> None:
    """count images in root/class_<k>/: smooth colour gradients plus noise, PNG and JPEG."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, SIDE)[None, :, None]
    for index in range(count):
        label = index % CLASSES
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        base = np.array([label * 25, 255 - label * 25, 128], dtype=np.float64)
        pixels = base * (0.5 + 0.5 * ramp) + rng.normal(0, 12, (SIDE, SIDE, 3))
        img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
        if index % 2:
            img.save(folder / f"{index:05d}.jpg", quality=85)
        else:
            img.save(folder / f"{index:05d}.png")


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def child(folder: str, fit: bool) -> None:
    """Runs in a fresh process: load, one epoch of tf.data, optionally one epoch of fit."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Keras brings TensorFlow in up front, so its memory is part of every figure below.
    import keras

    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    result: dict[str, float] = {"after_import_mb": peak_rss_mb()}
    start = time.perf_counter()
    data = load_dataset(folder, LoadOptions(target_size=(SIDE, SIDE), validation_split=0.1))
    result["scan_seconds"] = time.perf_counter() - start
    result["images"] = data.train.count + data.validation.count
    result["after_load_mb"] = peak_rss_mb()

    start = time.perf_counter()
    seen = 0
    for x, _ in data.train.tf_dataset(BATCH_SIZE, shuffle=True, seed=1):
        seen += int(x.shape[0])
    assert seen == data.train.count
    result["epoch_seconds"] = time.perf_counter() - start
    result["after_epoch_mb"] = peak_rss_mb()

    if fit:
        model = keras.Sequential([
            keras.Input(data.input_shape),
            keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(data.num_classes, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        start = time.perf_counter()
        model.fit(data.train.tf_dataset(BATCH_SIZE, shuffle=True, seed=1), epochs=1, verbose=0,
                  validation_data=data.validation.tf_dataset(BATCH_SIZE))
        result["fit_seconds"] = time.perf_counter() - start
        result["after_fit_mb"] = peak_rss_mb()
    result["peak_mb"] = peak_rss_mb()
    print(json.dumps(result))


def measure(folder: Path, fit: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(folder)] + ([] if fit else ["--no-fit"])
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"child failed for {folder}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def describe(result: dict[str, float]) -> str:
    parts = [f"{int(result['images']):>6,} images: peak RSS {result['peak_mb']:7.1f} MB",
             f"(after TF import {result['after_import_mb']:.0f}, "
             f"load {result['after_load_mb']:.0f}, tf.data epoch {result['after_epoch_mb']:.0f}"]
    if "after_fit_mb" in result:
        parts[-1] += f", fit epoch {result['after_fit_mb']:.0f} MB)"
    else:
        parts[-1] += " MB)"
    timing = (f"scan {result['scan_seconds']:.1f} s, epoch {result['epoch_seconds']:.1f} s"
              + (f", fit {result['fit_seconds']:.1f} s" if "fit_seconds" in result else ""))
    return " ".join(parts) + f"; {timing}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=20_000)
    parser.add_argument("--no-fit", action="store_true", help="skip the model.fit epoch")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, fit=not args.no_fit)
        return

    with tempfile.TemporaryDirectory(prefix="cnnviz-folder-memory-") as tmp:
        results = []
        for count in (args.small, args.large):
            folder = Path(tmp) / f"images_{count}"
            start = time.perf_counter()
            make_folder(folder, count)
            print(f"generated {count:,} images in {time.perf_counter() - start:.1f} s", flush=True)
            results.append(measure(folder, fit=not args.no_fit))
            print(describe(results[-1]), flush=True)
    ratio = results[1]["peak_mb"] / results[0]["peak_mb"]
    verdict = "OK" if ratio <= 1.2 else "ABOVE TARGET"
    print(f"peak RSS ratio {args.large:,}/{args.small:,} images: {ratio:.3f} "
          f"(target <= 1.2: {verdict})")
    # TensorFlow's own ~600 MB dominates both peaks; the growth above it is the loader's share.
    growth = [r["peak_mb"] - r["after_import_mb"] for r in results]
    in_memory = args.large * SIDE * SIDE * 3 / 1e6
    print(f"growth above the TensorFlow import: {growth[0]:.0f} MB vs {growth[1]:.0f} MB "
          f"(ratio {growth[1] / growth[0]:.2f}); holding {args.large:,} decoded images in memory "
          f"would take {in_memory:.0f} MB as uint8, {4 * in_memory:.0f} MB as float32")


if __name__ == "__main__":
    main()
