"""The tutorial's experiment "Dense vs CNN with less data", in one call.

The dense baseline (`presets.dense_baseline`) and the tutorial CNN (`presets.mnist_cnn`) are
each trained on 300, 600, 1,800, 3,000 and 5,900 training images (seeded subsets, each inside
the next), with the same epochs and settings, and measured on the same test set. Plotted as
test accuracy against training-set size (log axis), the CNN's line stays above the dense
one even with little data.

`plan_study` checks the sizes and epochs; `run_study` trains every (size, model) pair through
the training engine (`core.training.engine.train`), reporting each epoch through
`on_progress`, asking `should_stop` between batches, and recording every training as a run
in the run store tagged with the study's tag ("dense-vs-cnn 2026-12-06 04:30"). The result
holds, per model and size, the test accuracy and loss and the run's id. `draw_chart` draws
it on a matplotlib Figure (the app's chart and `cnnviz dense-vs-cnn --plot` share it).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:
    from cnnviz.core.data.dataset_types import Dataset
    from cnnviz.core.model.spec import ModelSpec

__all__ = [
    "DataSizeStudyError", "StudyPlan", "StudyProgress", "StudyPoint", "StudyResult",
    "DEFAULT_SIZES", "DEFAULT_EPOCHS", "DEFAULT_DATA", "MODELS", "MODEL_LABELS", "TAG_PREFIX",
    "plan_study", "study_tag", "load_study_data",
    "check_study_data", "nested_subsets", "run_study", "draw_chart", "save_chart",
]

DEFAULT_SIZES: tuple[int, ...] = (300, 600, 1_800, 3_000, 5_900)
# Measured on the bundled mnist-sample (README, Experiments): with 10 epochs the whole study
# takes about a minute on two CPU cores, and the CNN is 3 to 4 points ahead at every size.
DEFAULT_EPOCHS = 10
DEFAULT_DATA = "mnist-sample"
MODELS: tuple[str, ...] = ("dense_baseline", "mnist_cnn")      # preset keys, in plot order
MODEL_LABELS: dict[str, str] = {"dense_baseline": "Dense", "mnist_cnn": "CNN"}
TAG_PREFIX = "dense-vs-cnn"
# The chart's colours and markers per model: Okabe–Ito blue and vermilion, as the run charts.
_STYLE: dict[str, tuple[str, str]] = {"dense_baseline": ("#0072B2", "s"),
                                     "mnist_cnn": ("#D55E00", "o")}


class DataSizeStudyError(CnnvizError):
    """The study cannot run as asked (sizes, epochs, or data that does not fit)."""


@dataclass
class StudyPlan:
    """What to train: every model at every size, the same settings for all."""

    sizes: list[int] = field(default_factory=lambda: list(DEFAULT_SIZES))
    epochs: int = DEFAULT_EPOCHS
    data_source: str = DEFAULT_DATA
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 1337
    models: tuple[str, ...] = MODELS

    def trainings(self) -> list[tuple[int, str]]:
        """(size, model) in the order they are trained: size by size, every model at each,
        so the chart grows along both lines together."""
        return [(size, model) for size in self.sizes for model in self.models]


@dataclass
class StudyProgress:
    """Where the study is: training `index` (0-based) of `total`, at `epoch` (1-based) of
    `epochs`; `epoch` is 0 before the first epoch ends."""

    index: int
    total: int
    model: str
    size: int
    epoch: int
    epochs: int

    def text(self) -> str:
        """"CNN, 1,800 images, epoch 2 of 5"."""
        label = MODEL_LABELS.get(self.model, self.model)
        where = f"epoch {self.epoch} of {self.epochs}" if self.epoch else "starting"
        return f"{label}, {self.size:,} images, {where}"


@dataclass
class StudyPoint:
    """One trained model measured on the test set."""

    model: str                     # preset key
    size: int                      # training images
    test_accuracy: float
    test_loss: float
    run_id: int | None             # in the run store; None when not recorded
    seconds: float                 # training and measuring
    epochs_done: int

    @property
    def label(self) -> str:
        return MODEL_LABELS.get(self.model, self.model)


@dataclass
class StudyResult:
    """Every point measured so far; `stopped` when the user stopped the study early."""

    plan: StudyPlan
    tag: str
    test_count: int = 0
    points: list[StudyPoint] = field(default_factory=list)
    stopped: bool = False
    seconds: float = 0.0
    recording_problem: str | None = None

    def point(self, model: str, size: int) -> StudyPoint | None:
        return next((p for p in self.points if p.model == model and p.size == size), None)

    def series(self, model: str) -> list[StudyPoint]:
        """The model's points, smallest training set first."""
        return sorted((p for p in self.points if p.model == model), key=lambda p: p.size)

    def table(self) -> list[list[str]]:
        """Rows for a text table: a header, then one row per size (accuracy per model)."""
        head = ["images"] + [f"{MODEL_LABELS.get(m, m)} test accuracy" for m in self.plan.models]
        rows = [head]
        for size in self.plan.sizes:
            cells = [f"{size:,}"]
            for model in self.plan.models:
                found = self.point(model, size)
                cells.append(f"{found.test_accuracy:.1%}" if found else "-")
            rows.append(cells)
        return rows


def plan_study(sizes: list[int] | None = None, epochs: int = DEFAULT_EPOCHS,
               data_source: str = DEFAULT_DATA, batch_size: int = 64, seed: int = 1337
               ) -> StudyPlan:
    """A checked plan. Raises DataSizeStudyError for no sizes, a size below 1 or epochs
    outside 1..1000. Sizes are sorted and repeated ones dropped."""
    chosen = sorted(set(DEFAULT_SIZES if sizes is None else sizes))
    if not chosen:
        raise DataSizeStudyError("Give at least one training-set size, such as 300,600,1800.")
    if chosen[0] < 1:
        raise DataSizeStudyError(f"A training-set size must be at least 1 image; got "
                                 f"{chosen[0]}.")
    if not isinstance(epochs, int) or not 1 <= epochs <= 1000:
        raise DataSizeStudyError(f"The number of epochs must be a whole number from 1 to "
                                 f"1000; got {epochs!r}.")
    if batch_size < 1:
        raise DataSizeStudyError("The batch size must be at least 1.")
    return StudyPlan(list(chosen), epochs, data_source, batch_size, 1e-3, seed)


def study_tag(now: float | None = None) -> str:
    """The tag every run of one study carries: "dense-vs-cnn 2026-12-06 04:30:12"."""
    return f"{TAG_PREFIX} {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))}"


def nested_subsets(count: int, sizes: list[int], seed: int) -> dict[int, Any]:
    """For each size, which of `count` training examples it uses (sorted indices): one seeded
    shuffle cut at each size, so every subset lies inside the next larger one."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(count)
    return {size: np.sort(order[:size]) for size in sizes}


def load_study_data(plan: StudyPlan) -> "Dataset":
    """The plan's data source, loaded without a validation split. Raises DatasetError."""
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    # No validation split: every image up to the largest size can be a training image, and
    # the test set is the one yardstick.
    return load_dataset(plan.data_source, LoadOptions(validation_split=0.0, seed=plan.seed))


def check_study_data(plan: StudyPlan, dataset: "Dataset") -> None:
    """Raise DataSizeStudyError unless both models fit the data, it has a test part and as
    many training images as the largest size."""
    if dataset.test is None or dataset.test.count < 1:
        raise DataSizeStudyError(f"{dataset.name} has no test images, so the models cannot be "
                                 "compared on them. Choose data with a test part, such as "
                                 "mnist-sample.")
    from cnnviz.core.training.checks import check_model_fits_data

    for model in plan.models:
        errors = [m for m in check_model_fits_data(_spec(model), dataset)
                  if m.severity == "error"]
        if errors:
            raise DataSizeStudyError(f"The {MODEL_LABELS.get(model, model)} does not fit "
                                     f"{dataset.name}: {errors[0].message} This experiment "
                                     "needs 28×28 grey digits, such as mnist-sample.")
    available = dataset.train.count
    if plan.sizes[-1] > available:
        raise DataSizeStudyError(f"{dataset.name} has {available:,} training images, fewer "
                                 f"than the largest size asked for ({plan.sizes[-1]:,}). Use "
                                 f"sizes up to {available:,}.")


def _spec(model: str) -> "ModelSpec":
    from cnnviz.core.model.presets import preset_spec

    return preset_spec(model)


def run_study(plan: StudyPlan, dataset: "Dataset | None" = None,
              on_progress: Callable[[StudyProgress], None] | None = None,
              on_point: Callable[[StudyPoint, Any], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              record: bool = True, store_path: Path | None = None,
              tag: str | None = None) -> StudyResult:
    """Train and measure every (size, model) pair of `plan`.

    dataset: the loaded data (else `plan.data_source` is loaded without a validation split).
    on_progress(StudyProgress) when each training starts and after each epoch;
    on_point(point, keras_model) when a model has been measured on the test set;
    should_stop() is asked between batches: the training under way ends within one batch,
    is recorded as stopped and not measured, and the study returns with `stopped=True`.
    record: each training is a run in the run store (`store_path`, else the user's), tagged
    with `tag` (default `study_tag()`); a store that cannot be opened is reported in
    `recording_problem` and the study goes on. All callables run on the calling thread.

    Raises DataSizeStudyError (sizes larger than the data, no test set) or the engine's
    TrainingError, before anything is trained.
    """
    import keras

    from cnnviz.core.experiments.recording import open_recorder
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.training.engine import TrainConfig, evaluate_test, train

    started = time.monotonic()
    data = dataset if dataset is not None else load_study_data(plan)
    check_study_data(plan, data)
    assert data.test is not None
    stop = should_stop or (lambda: False)
    result = StudyResult(plan, tag or study_tag(), int(data.test.count))
    subsets = nested_subsets(int(data.train.count), plan.sizes, plan.seed)
    config = TrainConfig(epochs=plan.epochs, batch_size=plan.batch_size,
                         learning_rate=plan.learning_rate, seed=plan.seed)
    plan_order = plan.trainings()
    for index, (size, model_key) in enumerate(plan_order):
        if stop():
            result.stopped = True
            break
        progress = StudyProgress(index, len(plan_order), model_key, size, 0, plan.epochs)
        if on_progress is not None:
            on_progress(progress)
        part = dataclasses.replace(data, train=data.train.subset(subsets[size]), validation=None)
        spec = _spec(model_key)
        # The same starting weights for a model at every size: only the data changes.
        keras.utils.set_random_seed(plan.seed)
        model = build_model(spec)
        recorder = None
        if record:
            name = f"{MODEL_LABELS.get(model_key, model_key)} · {size:,} images"
            recorder, problem = open_recorder(name, plan.data_source, spec.to_json(),
                                              tags=[result.tag], store_path=store_path)
            if problem and result.recording_problem is None:
                result.recording_problem = problem
            if recorder is not None:
                recorder.extra_settings["model"] = model_key

        def on_epoch(epoch: int, _logs: dict[str, float],
                     progress: StudyProgress = progress) -> None:
            progress.epoch = epoch + 1
            if on_progress is not None:
                on_progress(dataclasses.replace(progress))

        one_started = time.monotonic()
        try:
            trained = train(model, part, config, on_epoch=on_epoch, should_stop=stop,
                            recorder=recorder)
            if trained.stopped and stop():
                result.stopped = True
                break
            metrics = evaluate_test(model, part, batch_size=256)
            if recorder is not None:
                recorder.test_measured(metrics)
        finally:
            if recorder is not None:
                if recorder.problem and result.recording_problem is None:
                    result.recording_problem = recorder.problem
                recorder.store.close()
        point = StudyPoint(model_key, size, metrics["accuracy"], metrics["loss"],
                           recorder.run_id if recorder is not None else None,
                           time.monotonic() - one_started, trained.epochs_done)
        result.points.append(point)
        if on_point is not None:
            on_point(point, model)
    result.seconds = time.monotonic() - started
    return result


# ---------------------------------------------------------------- the chart


def draw_chart(figure: Any, result: StudyResult, font_points: float = 12.0,
               line_points: float = 2.5, marker_points: float = 9.0) -> None:
    """Draw test accuracy against training-set size on `figure` (a matplotlib Figure,
    cleared first): log x axis with the planned sizes as tick labels, one line with markers
    per model, accuracies as percentages. Sizes not measured yet leave the line shorter."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator, PercentFormatter

    figure.clear()
    axes = figure.subplots(1, 1)
    sizes = result.plan.sizes
    lowest = 1.0
    for model in result.plan.models:
        colour, marker = _STYLE.get(model, ("#000000", "D"))
        series = result.series(model)
        xs = [p.size for p in series]
        ys = [p.test_accuracy for p in series]
        if ys:
            lowest = min(lowest, min(ys))
        # An empty line still names the model in the legend while nothing is measured yet.
        axes.plot(xs, ys, color=colour, marker=marker, linewidth=line_points,
                  markersize=marker_points, label=MODEL_LABELS.get(model, model),
                  markeredgecolor="white", markeredgewidth=max(0.5, line_points / 3))
        # Each point's accuracy written beside it: the CNN's above its line, the others' below.
        above = model == "mnist_cnn"
        for x, y in zip(xs, ys):
            axes.annotate(f"{y:.1%}", (x, y), xytext=(0, marker_points if above
                                                     else -marker_points),
                          textcoords="offset points", ha="center",
                          va="bottom" if above else "top", color=colour,
                          fontsize=font_points * 0.95, fontweight="bold")
    axes.set_xscale("log")
    if len(sizes) > 1:
        span = math.log10(sizes[-1] / sizes[0])
        margin = 10 ** (0.06 * span)
        axes.set_xlim(sizes[0] / margin, sizes[-1] * margin)
    else:
        axes.set_xlim(sizes[0] / 1.5, sizes[0] * 1.5)
    axes.xaxis.set_major_locator(FixedLocator([float(s) for s in sizes]))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    axes.xaxis.set_minor_locator(NullLocator())
    bottom = max(0.0, math.floor((lowest - 0.05) * 10) / 10) if result.points else 0.0
    # Room above 100 % for the labels of points near the top.
    axes.set_ylim(bottom, 1.0 + 0.07 * (1.0 - bottom))
    axes.yaxis.set_major_locator(FixedLocator([tick / 100 for tick in range(0, 101, 5)
                                               if tick / 100 >= bottom - 1e-9]
                                              if bottom >= 0.6 else
                                              [tick / 10 for tick in range(0, 11)
                                               if tick / 10 >= bottom - 1e-9]))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    test = f" ({result.test_count:,} test images)" if result.test_count else ""
    axes.set_title("Dense vs CNN with less data", fontweight="bold", fontsize=font_points * 1.3)
    axes.set_xlabel("training images (log scale)", fontsize=font_points * 1.1)
    axes.set_ylabel(f"test accuracy{test}", fontsize=font_points * 1.1)
    axes.tick_params(labelsize=font_points * 1.05, width=max(1.0, line_points / 2.5))
    for spine in axes.spines.values():
        spine.set_linewidth(max(1.0, line_points / 2.5))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize=font_points * 1.1, frameon=True)


def save_chart(result: StudyResult, path: Path) -> None:
    """Save the chart as PNG or SVG (by the file's extension), without Qt or a display.
    Raises DataSizeStudyError for another extension."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise DataSizeStudyError(f"{path.name}: the chart is saved as a .png or .svg file.")
    from matplotlib.figure import Figure   # no pyplot: the Agg/SVG canvases need no GUI

    from cnnviz.core.atomic_save import save_file_atomically

    figure = Figure(figsize=(8, 5.5), dpi=100, layout="constrained")
    draw_chart(figure, result, font_points=13.0, line_points=3.0, marker_points=10.0)
    save_file_atomically(path, lambda target: figure.savefig(target, format=suffix[1:],
                                                             dpi=150))

