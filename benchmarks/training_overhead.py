"""What the cnnviz training engine costs: its throughput against plain `model.fit`.

Usage:  python benchmarks/training_overhead.py [--epochs 1] [--repeats 7] [--samples 8000]
                                               [--batch-size 64] [--variants plain,engine]

Every variant trains the same model (the tutorial MNIST CNN, built from its preset spec)
on the same data (the bundled MNIST sample through `cnnviz.core.data.datasets`, validation
split included) with the same batch size, compile settings and tf.data pipelines:

  plain         `model.fit(train, validation_data=val, verbose=0)`: Keras alone.
  engine        `cnnviz.core.training.engine.train` with all its callables attached (on_batch,
                on_epoch, should_stop, is_paused) at the default report throttling, the
                way the GUI worker calls it.
  gui           the real Train view offscreen (QT_QPA_PLATFORM=offscreen unless set):
                its TrainingWorker in a QThread, the progress line and the live
                matplotlib charts, exactly as a user's Start/Train more runs them. A 10 ms
                QTimer on the GUI thread meanwhile records its gaps; the 99th-percentile
                gap is printed (target < 50 ms).
  gui-explain   `gui` with the Explain view watching the training, as it does by default:
                after every epoch the pinned image goes through the model on the training
                thread and the view redraws (issue 5's "learning, visible").
  gui-explain-10  the same with the Explain view's option "refresh every 10 batches" on.
                Run them with --variants plain,gui,gui-explain,gui-explain-10.
  engine-recorded   `engine` with the run store recording the run (core.experiments:
                a RunRecorder on a fresh runs.sqlite in a temporary folder, as `cnnviz train`
                and the app record every run). Compare it with `engine` (store off) in the
                same run: --variants plain,engine,engine-recorded (target: at most 1 % slower).
  engine-every-batch   the same with on_batch called after every batch (worst case; not
                run unless asked for with --variants).

One model is compiled once and shared, and each variant first runs one untimed warm-up
epoch, so TensorFlow's tracing is not timed. Then the variants alternate (their order
flips each round) for --repeats rounds of --epochs epochs each; throughput is training
images per second of wall time (the validation pass is included in every variant), and
the figure to quote is each variant's median over the rounds divided by plain's, measured
in the same run. Target for engine/plain and gui/plain: at least 0.93.

Other programs running at the same time make single rounds jump (the 1-minute load
average is printed before and after); many short alternating rounds and the median keep
the ratio honest. Images per CPU-second of this process (all threads) are printed as a
second opinion: other programs take wall time from us, but not our CPU time.

To add a variant: write `measure_x(bench: Bench, epochs: int) -> Measurement`, put any extra figures in
`Measurement.extra` (they are printed), and register it in `VARIANTS`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_RATIO = 0.93


@dataclass
class Bench:
    """What every variant shares: one compiled model, the data and the settings."""

    model: Any
    data: Any
    config: Any                      # cnnviz.core.training.engine.TrainConfig
    epoch_counter: list[int] = field(default_factory=lambda: [0])  # next absolute epoch

    @property
    def train_count(self) -> int:
        return int(self.data.train.count)

    def take_epochs(self, epochs: int) -> int:
        """The first epoch number of a run of `epochs` (numbers keep rising across runs)."""
        first = self.epoch_counter[0]
        self.epoch_counter[0] += epochs
        return first


@dataclass
class Measurement:
    seconds: float                   # wall time
    images: int
    cpu_seconds: float = 0.0         # this process's CPU time, all threads
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds

    @property
    def images_per_cpu_second(self) -> float:
        return self.images / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")


class Stopwatch:
    """Wall and CPU time of a block: `with Stopwatch() as watch: ...; watch.seconds`."""

    def __enter__(self) -> "Stopwatch":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu


def measure_plain(bench: Bench, epochs: int) -> Measurement:
    """Keras alone: model.fit on the engine's own pipelines, no callbacks, verbose=0."""
    from cnnviz.core.training.augmentation import evaluation_dataset, training_dataset

    config = bench.config
    first = bench.take_epochs(epochs)
    with Stopwatch() as watch:
        train_data = training_dataset(bench.data.train, config.batch_size, None, False,
                                      config.seed)
        validation = evaluation_dataset(bench.data.validation, config.batch_size)
        bench.model.fit(train_data, validation_data=validation, epochs=first + epochs,
                        initial_epoch=first, verbose=0, shuffle=False)
    return Measurement(watch.seconds, bench.train_count * epochs, watch.cpu_seconds)


def _measure_engine(bench: Bench, epochs: int, report_interval: float | None,
                    open_recorder: Callable[[], Any] | None = None,
                    after: Callable[[Any], None] | None = None) -> Measurement:
    from dataclasses import replace

    from cnnviz.core.training.engine import train

    config = replace(bench.config, epochs=epochs)
    if report_interval is not None:
        config = replace(config, batch_report_interval=report_interval)
    stop, pause = threading.Event(), threading.Event()
    batches: list[int] = [0]
    epoch_logs: list[dict] = []

    def on_batch(epoch: int, batch: int, batches_per_epoch: int, logs: dict) -> None:
        batches[0] += 1
        dict(logs)  # what the GUI worker does before emitting its signal

    first = bench.take_epochs(epochs)
    with Stopwatch() as watch:
        recorder = open_recorder() if open_recorder is not None else None
        result = train(bench.model, bench.data, config, on_batch=on_batch,
                       on_epoch=lambda epoch, logs: epoch_logs.append(dict(logs)),
                       should_stop=stop.is_set, is_paused=pause.is_set, initial_epoch=first,
                       recorder=recorder)
        if after is not None:
            after(recorder)
    assert result.epochs_done - result.first_epoch == epochs and not result.stopped
    return Measurement(watch.seconds, bench.train_count * epochs, watch.cpu_seconds,
                       {"on_batch calls per epoch": batches[0] / epochs})


def measure_engine(bench: Bench, epochs: int) -> Measurement:
    """The cnnviz engine at its default report throttling."""
    return _measure_engine(bench, epochs, None)


_store_folder: list[Any] = []


def measure_engine_recorded(bench: Bench, epochs: int) -> Measurement:
    """The engine with the run store recording the run: opening the store, the start, every
    epoch, the end, and the test accuracy and model path written afterwards (as `cnnviz
    train` does), all inside the timed block."""
    import tempfile

    from cnnviz.core.experiments.recording import RunRecorder
    from cnnviz.core.experiments.run_store import RunStore
    from cnnviz.core.model.presets import mnist_cnn

    if not _store_folder:
        _store_folder.append(tempfile.TemporaryDirectory(prefix="cnnviz-bench-store-"))
    path = Path(_store_folder[0].name) / "runs.sqlite"
    spec_json = mnist_cnn().to_json()
    recorders: list[Any] = []

    def open_recorder() -> Any:
        recorders.append(RunRecorder(RunStore(path), "bench", "mnist-sample", spec_json))
        return recorders[-1]

    def after(recorder: Any) -> None:
        recorder.test_measured({"loss": 0.1, "accuracy": 0.9})
        recorder.model_saved(path.with_suffix(".keras"))
        recorder.store.close()

    measurement = _measure_engine(bench, epochs, None, open_recorder, after)
    if recorders[-1].problem or recorders[-1].run_id is None:
        raise RuntimeError(f"the run was not recorded: {recorders[-1].problem}")
    return measurement


def measure_engine_every_batch(bench: Bench, epochs: int) -> Measurement:
    """The cnnviz engine reporting every single batch (batch_report_interval=0)."""
    return _measure_engine(bench, epochs, 0.0)


HEARTBEAT_MS = 10
HEARTBEAT_TARGET_MS = 50.0
_gui_panels: dict[int, Any] = {}  # one TrainingPanel per Bench, made on first use
_gui_workspaces: dict[int, Any] = {}  # and the Workspace it trains in


def _gui_panel(bench: Bench) -> Any:
    """The real Train view, offscreen and shown at 1280×800, holding the bench's model and data."""
    panel = _gui_panels.get(id(bench))
    if panel is not None:
        return panel
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from cnnviz.core.model.presets import mnist_cnn
    from cnnviz.ui.app import create_app
    from cnnviz.ui.train.dataset_chooser import LoadedData
    from cnnviz.ui.train.training_panel import TrainingPanel
    from cnnviz.workspace import Workspace

    create_app()
    workspace = Workspace(mnist_cnn())
    panel = TrainingPanel(workspace)
    panel.evaluate_after_training = False  # time training, as the other variants do
    panel.chooser.load = lambda: None      # the bench's data is handed over below
    panel.resize(1280, 800)
    panel.show()
    picks = list(range(0, bench.train_count, max(1, bench.train_count // 32)))[:32]
    labels = bench.data.train.labels()
    workspace.data.set_loaded(LoadedData(bench.data, "mnist-sample", bench.data.train.images(picks),
                                         [bench.data.class_names[int(labels[i])] for i in picks]))
    # The bench's compiled model is the one to train ("Train more" on the same network).
    workspace.run.set_model(bench.model)
    panel.model_spec = workspace.document.spec.copy()
    panel.settings.batch_size.setValue(bench.config.batch_size)
    _gui_panels[id(bench)] = panel
    _gui_workspaces[id(bench)] = workspace
    return panel


def measure_gui(bench: Bench, epochs: int) -> Measurement:
    """The GUI worker in a QThread driving the real Train view (live charts, progress line),
    with a 10 ms QTimer heartbeat on the GUI thread recording how late each tick comes."""
    from PySide6.QtCore import QEventLoop, QTimer

    panel = _gui_panel(bench)
    panel.settings.epochs.setValue(epochs)
    bench.take_epochs(epochs)
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()

    def finished(_model) -> None:   # the workspace's signal passes the model; quit() takes none
        loop.quit()

    panel.run.finished.connect(finished)
    draws_before, updates_before = panel.charts.redraw_count, panel.charts.update_count
    gui_cpu = time.thread_time()
    with Stopwatch() as watch:
        heartbeat.start()
        panel.start()
        loop.exec()
        heartbeat.stop()
    gui_cpu = time.thread_time() - gui_cpu
    panel.run.finished.disconnect(finished)
    if panel.last_outcome is None or panel.last_outcome.result.stopped:
        raise RuntimeError("the GUI run did not finish its epochs")
    gaps = sorted((b - a) * 1000 for a, b in zip(ticks, ticks[1:]))
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))] if gaps else float("nan")
    return Measurement(watch.seconds, bench.train_count * epochs, watch.cpu_seconds,
                       {"heartbeat p99 gap ms": p99, "heartbeat max gap ms": gaps[-1] if gaps else 0,
                        "GUI thread CPU s": gui_cpu,
                        "chart full redraws": panel.charts.redraw_count - draws_before,
                        "chart updates": panel.charts.update_count - updates_before})


EXPLAIN_EVERY_BATCHES = 10
_explain_panels: dict[int, Any] = {}


def _explain_panel(bench: Bench) -> Any:
    """The real Explain view, offscreen at 1280×800, showing the first test image's first layer."""
    explain = _explain_panels.get(id(bench))
    if explain is not None:
        return explain
    from PySide6.QtWidgets import QApplication

    from cnnviz.ui.explain.explain_panel import ExplainPanel

    panel = _gui_panel(bench)
    explain = ExplainPanel(_gui_workspaces[id(bench)])
    panel.run.observer = None  # only the gui-explain variant lets it look during training
    explain.resize(1280, 800)
    explain.show()
    deadline = time.monotonic() + 120
    while explain.views.steps is None and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    if explain.views.steps is None:
        raise RuntimeError("the Explain view did not show its first forward pass")
    _explain_panels[id(bench)] = explain
    return explain


def measure_gui_explain(bench: Bench, epochs: int, every_batches: int = 0) -> Measurement:
    """`gui`, plus the real Explain view watching with its default setting: after every epoch
    the training thread runs the pinned image through the model and the view redraws the
    layer's steps and answer and keeps the epoch for the replay ("learning, visible")."""
    explain = _explain_panel(bench)
    panel = _gui_panel(bench)
    refreshes: list[int] = []
    run = panel.run
    run.observed.connect(refreshes.append)
    run.observer, run.observe_every_batches = explain.session.observe, every_batches
    try:
        measurement = measure_gui(bench, epochs)
    finally:
        run.observer, run.observe_every_batches = None, 0
        run.observed.disconnect(refreshes.append)
    measurement.extra["explainer refreshes"] = len(refreshes)
    return measurement


def measure_gui_explain_often(bench: Bench, epochs: int) -> Measurement:
    """`gui-explain` with its option "refresh every 10 batches" on as well (the dearest case)."""
    return measure_gui_explain(bench, epochs, EXPLAIN_EVERY_BATCHES)


VARIANTS: dict[str, Callable[[Bench, int], Measurement]] = {
    "plain": measure_plain,
    "engine": measure_engine,
    "gui": measure_gui,
    "gui-explain": measure_gui_explain,
    "gui-explain-10": measure_gui_explain_often,
    "engine-recorded": measure_engine_recorded,
    "engine-every-batch": measure_engine_every_batch,
}
DEFAULT_VARIANTS = ("plain", "engine", "gui")


def make_bench(samples: int | None, batch_size: int, seed: int = 1337) -> Bench:
    """The tutorial MNIST CNN, compiled once, and the bundled MNIST sample."""
    import keras

    from cnnviz.core.model.builder import build_model
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.model.presets import mnist_cnn
    from cnnviz.core.training.engine import TrainConfig, compile_for_training

    data = load_dataset("mnist-sample", LoadOptions(limit=samples, seed=seed))
    keras.utils.set_random_seed(seed)
    model = build_model(mnist_cnn())
    config = TrainConfig(batch_size=batch_size, seed=seed)
    compile_for_training(model, config)  # the engine sees these settings and keeps them
    return Bench(model, data, config)


def run(variants: list[str], epochs: int, repeats: int, bench: Bench,
        out: Callable[[str], None] = print) -> dict[str, list[Measurement]]:
    """Warm up each variant, then alternate them for `repeats` rounds; print as we go."""
    for name in variants:
        VARIANTS[name](bench, 1)
    results: dict[str, list[Measurement]] = {name: [] for name in variants}
    for round_number in range(repeats):
        order = variants if round_number % 2 == 0 else list(reversed(variants))
        for name in order:
            measurement = VARIANTS[name](bench, epochs)
            results[name].append(measurement)
            extra = "".join(f", {k} {v:,.1f}" for k, v in measurement.extra.items())
            out(f"  round {round_number + 1} {name:<20} {measurement.images_per_second:8,.0f} "
                f"images/s ({measurement.seconds:.2f} s, CPU {measurement.cpu_seconds:.2f} s"
                f"{extra})")
    return results


def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # not available on this system
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="rounds of alternating runs")
    parser.add_argument("--samples", type=int, default=None,
                        help="cap on the MNIST sample's images (default: all 8,000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help=f"comma-separated, 'plain' first; known: {', '.join(VARIANTS)}")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants or variants[0] != "plain":
        parser.error(f"variants must start with 'plain' and be among {', '.join(VARIANTS)}")

    import keras
    import tensorflow as tf

    bench = make_bench(args.samples, args.batch_size)
    print(f"Training overhead: {bench.data.description}")
    print(f"  model mnist_cnn ({bench.model.count_params():,} parameters), batch size "
          f"{args.batch_size}, {bench.train_count:,} training images, "
          f"{bench.data.validation.count:,} validated per epoch")
    print(f"  TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores; "
          f"{args.repeats} rounds of {args.epochs} epoch(s) per variant after a warm-up epoch")
    print(f"  load average before: {_load_average()}")
    results = run(variants, args.epochs, args.repeats, bench)
    for explain in _explain_panels.values():
        explain.shutdown()
    for panel in _gui_panels.values():
        panel.shutdown()  # its threads end before the interpreter does
    print(f"  load average after:  {_load_average()}")
    medians = {name: statistics.median(m.images_per_second for m in runs)
               for name, runs in results.items()}
    cpu_medians = {name: statistics.median(m.images_per_cpu_second for m in runs)
                   for name, runs in results.items()}
    print("Median throughput:")
    for name, value in medians.items():
        print(f"  {name:<20} {value:8,.0f} images/s   {cpu_medians[name]:8,.0f} images per CPU-s")
    ok = True
    for name in variants[1:]:
        ratio = medians[name] / medians["plain"]
        ok &= ratio >= TARGET_RATIO
        print(f"Ratio {name}/plain: {ratio:.3f} (target >= {TARGET_RATIO}); per CPU second: "
              f"{cpu_medians[name] / cpu_medians['plain']:.3f}")
    if "engine" in medians and "engine-recorded" in medians:
        cost = 1 - medians["engine-recorded"] / medians["engine"]
        ok &= cost <= 0.01
        print(f"Recording in the run store (engine-recorded vs engine, same run): "
              f"{100 * cost:+.2f} % of training time (target <= 1 %)")
    for name in ("gui", "gui-explain", "gui-explain-10"):
        if name not in results:
            continue
        p99 = max(m.extra["heartbeat p99 gap ms"] for m in results[name])
        ok &= p99 < HEARTBEAT_TARGET_MS
        print(f"GUI heartbeat in {name} ({HEARTBEAT_MS} ms QTimer on the GUI thread during "
              f"training): worst round's 99th-percentile gap {p99:.1f} ms "
              f"(target < {HEARTBEAT_TARGET_MS:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
