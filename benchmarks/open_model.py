"""How long opening a ~25 MB, 50-layer saved CNN takes until its structure can be shown.

Usage:  .venv/bin/python benchmarks/open_model.py [--runs 3] [--keep DIR]
                                                  [--kind sequential|functional]

Once per invocation, a child process builds a 50-layer CNN of about 25 MB (12 Conv2D layers
of 248 filters with BatchNormalization and ReLU, pooling, dropout, dense head) and saves it
as .keras in a temporary folder (or in DIR with --keep, reused if already there), as a
Sequential model (the default) or, with --kind functional, the same layers as a functional
model.

Then, for each run, two fresh Python processes (nothing imported, OS file cache warm):

- cnnviz:   import tensorflow + keras → `open_model(path)` → `inspect_model(model)`;
- plain:    import tensorflow + keras → `keras.models.load_model(path, compile=False)`.

The parent reads the wall clock just before starting each child; the child reports the
clock after each step, so the figures are:

- start → TF imported: interpreter start-up plus `import tensorflow, keras`. The GUI pays
  this once, in the background, when the app starts; it is not part of opening a model.
- open:    `open_model` (importing cnnviz's core modules, safe mode, reading the
  architecture, building the layers, loading the 25 MB of weights), and for plain Keras
  `load_model`. A Sequential model opens faster than with `load_model`, because cnnviz
  builds its layers once where Keras rebuilds the stack after adding each layer.
- inspect: `inspect_model` (structure only; it never reads weight values).
- open + inspect: what the user waits for between choosing the file and seeing its layer
  table once TensorFlow is loaded. **Target: under 2 s.**
- with import: the same plus start → TF imported (a command-line `cnnviz` call).

Then the app itself, three more fresh processes: the real main window offscreen, TensorFlow
preloaded (as the app does in the background right after its first paint), a 10 ms timer
on the GUI thread, and File → Open (`open_path`) of the same file: seconds until the layer
table is shown, then until the first layer's weight statistics are, and the timer's worst
gaps meanwhile (the window stays responsive: the file is read in a worker thread).

Weight statistics (`weight_stats`, histograms) are computed afterwards in the GUI and are
not part of the target; their time for the whole model is printed for information.
The ratio cnnviz / plain Keras compares the open steps measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 2.0
ROOT = Path(__file__).resolve().parents[1]

GENERATE = r"""
import sys
import keras
from keras import layers

path, kind = sys.argv[1], sys.argv[2]
stack = []
filters = 248
for stage in range(4):
    for _ in range(3):
        stack += [layers.Conv2D(filters, 3, padding="same"), layers.BatchNormalization(),
                  layers.Activation("relu")]
    stack.append(layers.MaxPooling2D(2))
    if stage < 3:
        stack.append(layers.Dropout(0.1))
stack += [layers.GlobalAveragePooling2D(), layers.Dropout(0.3), layers.Dense(512),
          layers.BatchNormalization(), layers.Activation("relu"), layers.Dropout(0.3),
          layers.Dense(10, activation="softmax")]
image = keras.Input((32, 32, 3))
if kind == "sequential":
    model = keras.Sequential([image] + stack, name="benchmark_cnn_50")
    assert len(model.layers) == 50, len(model.layers)
else:
    x = image
    for layer in stack:
        x = layer(x)
    model = keras.Model(image, x, name="benchmark_cnn_50")
    assert len(model.layers) == 51, len(model.layers)  # 50 + the InputLayer row
model.save(path)
print(len(model.layers), model.count_params())
"""

OPEN_CHILD = r"""
import json, sys, time
mode, path = sys.argv[1], sys.argv[2]
import tensorflow, keras
imported = time.time()
if mode == "cnnviz":
    from cnnviz.core.inspect.inspection import inspect_model, weight_stats
    from cnnviz.core.inspect.model_files import open_model
    opened = open_model(path)
    loaded = time.time()
    info = inspect_model(opened.model)
    inspected = time.time()
    assert len(info.layers) in (50, 51) and info.total_params == opened.model.count_params()
    for layer in opened.model.layers:
        weight_stats(layer)
    stats = time.time()
else:
    model = keras.models.load_model(path, compile=False)
    loaded = inspected = stats = time.time()
print(json.dumps({"imported": imported, "loaded": loaded, "inspected": inspected,
                  "stats": stats}))
"""


GUI_CHILD = r"""
import json, os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CNNVIZ_SETTINGS_SCOPE"] = "cnnviz-benchmark"
path = sys.argv[2]
from PySide6.QtCore import QTimer
from cnnviz.ui.app import create_app
from cnnviz.ui.main_window import MainWindow
app = create_app()
window = MainWindow()
window.resize(1280, 800)
window.show()
window.preload_tensorflow()            # as the app does just after its first paint
while window._preload.isRunning():
    app.processEvents(); time.sleep(0.01)
ticks = []
heartbeat = QTimer()
heartbeat.setInterval(10)
heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
heartbeat.start()
started = time.perf_counter()
window.open_path(path)
while window.models.opened is None and time.perf_counter() - started < 60:
    app.processEvents(); time.sleep(0.001)
app.processEvents()                    # the layer table is painted
shown = time.perf_counter()
panel = window.models.inspect
while panel.busy and time.perf_counter() - shown < 60:
    app.processEvents(); time.sleep(0.001)
stats = time.perf_counter()
heartbeat.stop()
gaps = sorted((b - a) * 1000 for a, b in zip(ticks, ticks[1:]))
window.models.shutdown(); window.training.shutdown()
print(json.dumps({"shown": shown - started, "stats": stats - shown,
                  "p99": gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] if gaps else 0,
                  "max": gaps[-1] if gaps else 0}))
os._exit(0)
"""


def gui_child(path: Path) -> dict[str, float]:
    """The real app offscreen, TensorFlow already loaded: File → Open until the layers show."""
    result = subprocess.run([sys.executable, "-c", GUI_CHILD, "gui", str(path)],
                            capture_output=True, text=True, env=child_env(), check=False)
    if result.returncode != 0:
        sys.exit(f"GUI child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def timed_child(mode: str, path: Path) -> dict[str, float]:
    started = time.time()
    result = subprocess.run([sys.executable, "-c", OPEN_CHILD, mode, str(path)],
                            capture_output=True, text=True, env=child_env(), check=False)
    if result.returncode != 0:
        sys.exit(f"{mode} child failed:\n{result.stderr[-3000:]}")
    marks = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "import": marks["imported"] - started,
        "open": marks["loaded"] - marks["imported"],
        "inspect": marks["inspected"] - marks["loaded"],
        "stats": marks["stats"] - marks["inspected"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the model in")
    parser.add_argument("--kind", choices=("sequential", "functional"), default="sequential",
                        help="save the CNN as a Sequential (default) or a functional model")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="cnnviz-open-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"benchmark_cnn_50_{args.kind}.keras"
    if not path.exists():
        made = subprocess.run([sys.executable, "-c", GENERATE, str(path), args.kind],
                              capture_output=True, text=True, env=child_env(), check=False)
        if made.returncode != 0:
            sys.exit(f"could not generate the model:\n{made.stderr[-3000:]}")
    print(f"model: {path} ({path.stat().st_size / 1e6:.1f} MB, 50 layers, {args.kind})")

    ours, plain = [], []
    for run in range(args.runs):
        ours.append(timed_child("cnnviz", path))
        plain.append(timed_child("plain", path))
        o, p = ours[-1], plain[-1]
        print(f"run {run + 1}: cnnviz import {o['import']:.2f} s, open {o['open']:.2f} s, "
              f"inspect {o['inspect']:.3f} s | plain Keras import {p['import']:.2f} s, "
              f"load_model {p['open']:.2f} s")

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    start_import = median(ours, "import")
    open_s, inspect_s = median(ours, "open"), median(ours, "inspect")
    structure = statistics.median(row["open"] + row["inspect"] for row in ours)
    with_import = statistics.median(row["import"] + row["open"] + row["inspect"] for row in ours)
    plain_open = median(plain, "open")
    print(f"\nmedians of {args.runs} runs (fresh process each):")
    print(f"  process start → TensorFlow imported   {start_import:6.2f} s  (paid once at app "
          f"start, in the background)")
    print(f"  open_model                             {open_s:6.2f} s")
    print(f"  inspect_model                          {inspect_s:6.3f} s")
    print(f"  open + inspect (structure shown)       {structure:6.2f} s  target < "
          f"{TARGET_SECONDS:.1f} s: {'met' if structure < TARGET_SECONDS else 'NOT met'}")
    print(f"  with TensorFlow import                 {with_import:6.2f} s")
    print(f"  plain keras.models.load_model          {plain_open:6.2f} s")
    print(f"  ratio open+inspect / plain load_model  {structure / plain_open:6.2f}")
    print(f"  weight_stats for all 50 layers (after) {median(ours, 'stats'):6.2f} s")
    gui = [gui_child(path) for _ in range(args.runs)]
    gui_shown = statistics.median(row["shown"] for row in gui)
    print(f"\nthe app itself (offscreen, TensorFlow preloaded as at start-up), medians of "
          f"{args.runs}:")
    print(f"  File → Open until the layer table is shown   {gui_shown:6.2f} s  target < "
          f"{TARGET_SECONDS:.1f} s: {'met' if gui_shown < TARGET_SECONDS else 'NOT met'}")
    print(f"  first layer's statistics after that          "
          f"{statistics.median(row['stats'] for row in gui):6.2f} s")
    print(f"  10 ms heartbeat on the GUI thread meanwhile: worst p99 gap "
          f"{max(row['p99'] for row in gui):.0f} ms, worst gap {max(row['max'] for row in gui):.0f} ms")
    if args.keep is None:
        path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
