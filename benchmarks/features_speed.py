"""Feature extraction's throughput against a plain `model.predict` on the same data.

Usage:  python benchmarks/features_speed.py [--images 10000] [--size 64] [--batch-size 128]
                                            [--rounds 3] [--tsne 2000]

The base is Keras's MobileNetV2 (alpha 0.35, no top, random weights: no download needed)
on --size×--size colour images, frozen, cut at its last layer `out_relu`. The data are
--images fixed random uint8 pictures in memory (an ArraySplit), as a dataset cnnviz loads.

  plain     what plain Keras takes for a layer's features: a model cut at the layer,
            `keras.Model(base.inputs, layer.output)`, and its `predict(x, batch_size=B)` on
            the images already converted to float32 0..1 (the conversion is not timed), then
            a numpy reshape to one row each.
  cnnviz    `extract_features(base, "out_relu", dataset, reduction="flattened")`: a cut
            model of its own on every call, the uint8 images converted batch by batch,
            progress and stop checks, one row each.
  plain reused   the same with the cut model built and traced once before the timing.
  cnnviz held    `FeatureExtractor(base).extract(...)` with one extractor kept between
            calls, as the view keeps one per base: its cut model is built once too.

All four are warmed up (untimed) and then alternate for --rounds rounds (order flipped each
round); each figure is the best round, in images per second, and cnnviz/plain is their
ratio (cut per call against cut per call, cut once against cut once), measured in the same
run. Target: at least 0.95 for both.

With --tsne N it also times the t-SNE map (scikit-learn) of N images' features, the cost a
student waits for when asking for it (0 skips it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 0.95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tsne", type=int, default=2000)
    args = parser.parse_args()

    import keras
    import numpy as np

    from cnnviz.core.data.data_splits import ArraySplit
    from cnnviz.core.data.dataset_types import Dataset
    from cnnviz.core.transfer.feature_maps import tsne_map
    from cnnviz.core.transfer.features import FeatureExtractor, extract_features

    keras.utils.set_random_seed(0)
    full = keras.applications.MobileNetV2(input_shape=(args.size, args.size, 3), alpha=0.35,
                                          include_top=False, weights=None)
    full.trainable = False
    base = keras.Model(full.inputs, full.get_layer("out_relu").output)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(args.images, args.size, args.size, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=args.images)
    dataset = Dataset(name="random pictures", description="", class_names=list("0123456789"),
                      input_shape=pixels.shape[1:], train=ArraySplit(pixels, labels),
                      validation=None, test=None)
    x = pixels.astype(np.float32) / 255.0

    def plain() -> np.ndarray:
        # What a layer's features take in plain Keras: a model cut at the layer, predict.
        cut = keras.Model(base.inputs, base.get_layer("out_relu").output)
        out = cut.predict(x, batch_size=args.batch_size, verbose=0)
        return np.asarray(out).reshape(len(out), -1)

    reused = keras.Model(base.inputs, base.get_layer("out_relu").output)

    def plain_reused() -> np.ndarray:
        # The stricter baseline: the cut model built and traced once, outside the timing.
        out = reused.predict(x, batch_size=args.batch_size, verbose=0)
        return np.asarray(out).reshape(len(out), -1)

    held = FeatureExtractor(base)

    def ours_held() -> np.ndarray:
        # The view's way: one FeatureExtractor per base, its cut model kept between calls.
        return held.extract("out_relu", dataset, "train", reduction="flattened",
                            batch_size=args.batch_size, on_progress=lambda done, total: None,
                            should_stop=lambda: False)[0].values

    def ours() -> np.ndarray:
        return extract_features(base, "out_relu", dataset, "train", reduction="flattened",
                                batch_size=args.batch_size,
                                on_progress=lambda done, total: None,
                                should_stop=lambda: False)[0].values

    # Warm up: TensorFlow's first-call costs (tracing) are not what is measured.
    base.predict(x[:args.batch_size * 2], batch_size=args.batch_size, verbose=0)
    reused.predict(x[:args.batch_size * 2], batch_size=args.batch_size, verbose=0)
    held.extract("out_relu", dataset, "train", reduction="flattened",
                 batch_size=args.batch_size, limit=args.batch_size * 2)
    extract_features(base, "out_relu", dataset, "train", reduction="flattened",
                     batch_size=args.batch_size, limit=args.batch_size * 2)
    names = ("plain", "cnnviz", "plain reused", "cnnviz held")
    best = {name: float("inf") for name in names}
    check = None
    for round_number in range(args.rounds):
        order = list(zip(names, (plain, ours, plain_reused, ours_held)))
        for name, run in order if round_number % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            values = run()
            best[name] = min(best[name], time.perf_counter() - start)
            if check is None:
                check = values
            elif not np.allclose(values, check, rtol=1e-4, atol=1e-4):
                print(f"{name} gave other numbers than the first run", file=sys.stderr)
                return 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rate = {name: args.images / best[name] for name in names}
    ratio = rate["cnnviz"] / rate["plain"]
    held_ratio = rate["cnnviz held"] / rate["plain reused"]
    print(f"MobileNetV2 (alpha 0.35) frozen base, {args.images:,} images of "
          f"{args.size}×{args.size}×3, batch {args.batch_size}, best of {args.rounds} rounds "
          f"(1-minute load average {load:.1f})")
    print(f"plain model.predict, model cut per call:    {rate['plain']:8.1f} images/s")
    print(f"cnnviz extract_features (cut per call):     {rate['cnnviz']:8.1f} images/s")
    print(f"plain model.predict, model cut once:        {rate['plain reused']:8.1f} images/s")
    print(f"cnnviz FeatureExtractor held (cut once):    {rate['cnnviz held']:8.1f} images/s")
    print(f"cnnviz/plain throughput ratio: {ratio:.3f} cut per call, {held_ratio:.3f} cut once "
          f"(target at least {TARGET_RATIO})")

    if args.tsne:
        from cnnviz.core.transfer.feature_maps import pca_map

        assert check is not None
        rows = check[:args.tsne]
        start = time.perf_counter()
        pca_map(rows)
        pca_seconds = time.perf_counter() - start
        start = time.perf_counter()
        tsne_map(rows)
        print(f"maps of {len(rows):,} images ({rows.shape[1]:,} numbers each): PCA "
              f"{pca_seconds:.2f} s, t-SNE {time.perf_counter() - start:.1f} s")
    return 0 if min(ratio, held_ratio) >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
