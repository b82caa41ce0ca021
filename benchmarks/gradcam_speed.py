"""What one Grad-CAM map costs: `Attribution.gradcam` against a plain eager GradientTape.

Usage:  python benchmarks/gradcam_speed.py [--repeats 100] [--rounds 5] [--preset mnist_cnn]

On the preset (default: the tutorial MNIST CNN, 28×28×1, fixed random weights) and one
fixed random image in [0, 1], for the predicted class at the last conv layer:

  plain   the textbook computation written out in eager TensorFlow, as a tutorial does it:
          a keras.Model giving the conv maps and the logits, a GradientTape around the call,
          the gradient, its mean over space, the weighted sum and the ReLU, to numpy.
  ours    `cnnviz.core.explain.attribution.Attribution(model).gradcam(image)`: the gradient
          function is a tf.function traced once per model and layer and reused (the class is
          a tensor argument), plus the checks and the AttributionMap.

The first call of each is not timed (tracing). Then the two alternate (their order flips
each round) for --rounds rounds of --repeats calls; the figure is the median call in ms and
ours/plain measured in the same run. Targets: ours at most 50 ms a map (issue 16), and the
ratio below 1 (the prepared function should beat the eager tape).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 50.0


def call_times(call: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--preset", default="mnist_cnn")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from cnnviz.core.explain.attribution import Attribution
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.presets import preset_spec

    keras.utils.set_random_seed(0)
    model = build_model(preset_spec(args.preset))
    attribution = Attribution(model)
    layer_name = attribution.default_layer()
    image = np.random.default_rng(0).random(attribution.input_shape).astype(np.float32)

    last = model.layers[-1]
    maps_model = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, last.input])

    def plain() -> np.ndarray:
        x = tf.constant(image[None])
        with tf.GradientTape() as tape:
            maps, features = maps_model(x, training=False)
            logits = tf.matmul(features, last.kernel) + last.bias
            score = logits[0, int(tf.argmax(logits[0]))]
        grads = tape.gradient(score, maps)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        return np.asarray(tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[0])

    def ours() -> np.ndarray:
        return attribution.gradcam(image).values

    start = time.perf_counter()
    first = ours()
    first_ms = (time.perf_counter() - start) * 1000
    np.testing.assert_allclose(first, plain(), rtol=1e-4, atol=1e-6)  # same map, or no race
    times: dict[str, list[float]] = {"plain": [], "ours": []}
    for round_index in range(args.rounds):
        order = ("plain", "ours") if round_index % 2 == 0 else ("ours", "plain")
        for name in order:
            times[name] += call_times(plain if name == "plain" else ours, args.repeats)
    plain_ms = statistics.median(times["plain"]) * 1000
    ours_ms = statistics.median(times["ours"]) * 1000
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Grad-CAM on {args.preset} {attribution.input_shape} at {layer_name} "
          f"({args.rounds}×{args.repeats} calls each; 1-min load {load:.2f})")
    print(f"  first call (tracing):  {first_ms:8.1f} ms")
    print(f"  plain GradientTape:    {plain_ms:8.2f} ms")
    print(f"  Attribution.gradcam:   {ours_ms:8.2f} ms   target ≤ {TARGET_MS:.0f} ms: "
          f"{'met' if ours_ms <= TARGET_MS else 'MISSED'}")
    print(f"  ours/plain:            {ours_ms / plain_ms:8.2f}")
    return 0 if ours_ms <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
