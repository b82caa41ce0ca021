"""Milliseconds per playback step of the convolution explainers, measured on the real widgets.

Usage:
    .venv/bin/python benchmarks/explainer_frames.py [--width 900] [--height 560] [--rounds 2]

Builds the real ConvStepView offscreen (QT_QPA_PLATFORM=offscreen unless set) at 900×560 for
  (a) a 28×28×1 input with a 3×3 Conv2D of 8 filters   (target ≤ 16 ms per step: 60 steps/s)
  (b) a 32×32×3 input with a 3×3 Conv2D of 16 filters  (target ≤ 33 ms per step: 30 steps/s)
and the real Conv1DStepView for
  (c) a 500-step, 6-channel signal with a Conv1D of kernel 7, 8 filters, padding 'same'
      (target ≤ 8 ms per step: 125 steps/s)
with random weights, explained by cnnviz.core.explain.steps.explain_layer as the app does. Each step is
timed as the app plays it: the Playback advances, its signal calls view.set_step (working out
the frame in numpy and the written sum), then a synchronous repaint() of the whole view. Every
output position is timed, `rounds` times; the median and the 95th percentile are printed
against the targets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

CASES = (
    # name, input shape, filters, kernel size, target ms per step
    ("28×28×1, 3×3 conv, 8 filters", (28, 28, 1), 8, 3, 16.0),
    ("32×32×3, 3×3 conv, 16 filters", (32, 32, 3), 16, 3, 33.0),
    ("500×6 signal, Conv1D kernel 7, 8 filters", (500, 6), 8, 7, 8.0),
)


def conv_steps(shape: tuple[int, ...], filters: int, kernel: int = 3, seed: int = 0):
    """A Conv2D (an image shape) or a Conv1D (a (steps, channels) shape) with random weights
    on a random input, explained as the app explains it."""
    import keras

    from cnnviz.core.explain.steps import explain_layer

    keras.utils.set_random_seed(seed)
    if len(shape) == 2:
        layer = keras.layers.Conv1D(filters, kernel, padding="same", activation="relu")
        x = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    else:
        layer = keras.layers.Conv2D(filters, kernel, activation="relu")
        x = np.random.default_rng(seed).random(shape).astype(np.float32)
    output = np.asarray(layer(x[None]))[0]
    return explain_layer(layer, x, output)


def time_playback(steps, width: int, height: int, rounds: int) -> list[float]:
    """Milliseconds for each playback step over every output position, `rounds` times."""
    from PySide6.QtWidgets import QApplication

    from cnnviz.ui.explain.playback import Playback, bind_step_view
    from cnnviz.ui.explain.views.conv1d_step_view import Conv1DStepView
    from cnnviz.ui.explain.views.conv_step_view import ConvStepView

    app = QApplication.instance() or QApplication([])
    view = Conv1DStepView() if steps.kind == "conv1d" else ConvStepView()
    view.resize(width, height)
    view.show()
    view.set_steps(steps)
    view.set_channel(steps.input.shape[-1] - 1)
    playback = Playback()
    bind_step_view(view, playback)
    view.repaint()          # the first paint lays out and renders the static pixmaps
    app.processEvents()
    timings = []
    for _round in range(rounds):
        playback.to_start()
        view.repaint()
        for _step in range(playback.count() - 1):
            start = time.perf_counter()
            playback.step_forward()   # → position_changed → view.set_step
            view.repaint()
            timings.append((time.perf_counter() - start) * 1000)
        app.processEvents()
    view.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=900)
    parser.add_argument("--height", type=int, default=560)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"ConvStepView / Conv1DStepView at {args.width}×{args.height}, platform "
          f"{os.environ['QT_QPA_PLATFORM']}, {args.rounds} round(s) over every output position")
    verdicts = []
    for name, shape, filters, kernel, target in CASES:
        timings = time_playback(conv_steps(shape, filters, kernel), args.width, args.height,
                                args.rounds)
        median = statistics.median(timings)
        p95 = float(np.percentile(timings, 95))
        ok = p95 <= target
        verdicts.append(ok)
        print(f"  {name:42s} {len(timings):5d} steps   median {median:6.2f} ms   "
              f"p95 {p95:6.2f} ms   max {max(timings):6.2f} ms   target ≤ {target:.0f} ms   "
              f"{'OK' if ok else 'SLOWER THAN TARGET'}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
