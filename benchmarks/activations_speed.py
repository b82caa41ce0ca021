"""What the explainer's forward pass costs: `ActivationProbe.run` against a plain Keras call.

Usage:  python benchmarks/activations_speed.py [--repeats 300] [--rounds 5]
                                               [--presets mnist_cnn,small_vgg_cifar10]

For each preset (default: the tutorial MNIST CNN and the small VGG for CIFAR-10, built from
their preset specs with fixed random weights) and one fixed random image in [0, 1]:

  plain   a keras.Model with every layer's output as an output, built once and called
          directly: `multi(x, training=False)`. Keras alone.
  probe   `cnnviz.core.explain.activations.ActivationProbe(model).run(image)`: the same kind of call
          plus the image check and the numpy conversion of every output into a ForwardPass.

Both are warmed up first (untimed), so TensorFlow's first-call costs are not timed. Then the
two alternate (their order flips each round) for --rounds rounds of --repeats calls each; every
call is timed on its own and the figure is the median over all calls, in milliseconds, and
probe/plain measured in the same run. Target: probe/plain at most 1.5.

Other programs on the machine stretch single calls (the 1-minute load average is printed);
alternating rounds and medians keep the ratio honest.
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

TARGET_RATIO = 1.5
WARM_UP_CALLS = 20


def call_times(call: Callable[[], Any], repeats: int) -> list[float]:
    """Seconds of each of `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def measure(preset: str, repeats: int, rounds: int) -> tuple[float, float]:
    """(plain median ms, probe median ms) for one preset."""
    import keras
    import numpy as np

    from cnnviz.core.explain.activations import ActivationProbe
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.presets import preset_spec

    keras.utils.set_random_seed(0)
    model = build_model(preset_spec(preset))
    image = np.random.default_rng(0).uniform(size=model.input_shape[1:]).astype(np.float32)
    batch = image[None]
    multi = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    probe = ActivationProbe(model)

    def plain() -> Any:
        return multi(batch, training=False)

    def ours() -> Any:
        return probe.run(image)

    for _ in range(WARM_UP_CALLS):
        plain()
        ours()
    plain_times: list[float] = []
    probe_times: list[float] = []
    for round_index in range(rounds):
        order = [(plain, plain_times), (ours, probe_times)]
        for call, times in (order if round_index % 2 == 0 else order[::-1]):
            times.extend(call_times(call, repeats))
    return statistics.median(plain_times) * 1e3, statistics.median(probe_times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="calls per round and variant")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--presets", default="mnist_cnn,small_vgg_cifar10",
                        help="comma-separated preset keys")
    args = parser.parse_args()

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'preset':<20} {'plain ms':>9} {'probe ms':>9} {'probe/plain':>12}")
    worst = 0.0
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        plain_ms, probe_ms = measure(preset, args.repeats, args.rounds)
        ratio = probe_ms / plain_ms
        worst = max(worst, ratio)
        print(f"{preset:<20} {plain_ms:9.3f} {probe_ms:9.3f} {ratio:12.3f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    verdict = "meets" if worst <= TARGET_RATIO else "misses"
    print(f"worst probe/plain {worst:.3f} {verdict} the target of at most {TARGET_RATIO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
