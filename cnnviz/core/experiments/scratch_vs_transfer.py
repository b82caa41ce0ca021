"""The "from scratch vs transfer" run pair, in one call.

One network, trained twice on the same data for the same epochs with the same seed: a base
cut at its default layer (`transfer_model.default_cut_layer`) topped with the same new head
(`transfer_model.build_transfer_model`), and

1. **from scratch**: the base's architecture with fresh random weights, every layer trainable;
2. **transfer**: the base's own (pretrained) weights, frozen; only the head learns.

Both heads start from the same weights, so the base's weights are the one difference. The
base is a model file (default the bundled digit model `sample_models/mnist_cnn_small.keras`,
so offline the "transfer" reuses the digit model's own features) or a Keras application by
name (its ImageNet weights from Keras's cache; offline, `bases.open_base`'s message).

`run_pair` trains both through the training engine, reporting epochs through callables,
asking `should_stop` between batches, and recording each training as a run in the run store
with one shared tag ("scratch-vs-transfer 2026-12-06 05:30:12") and its kind in the run's
settings. The result holds, per run, the validation accuracy of every epoch and the final
test accuracy. `draw_chart` draws validation accuracy per epoch, one line per run, with the
test accuracy written at its end (the app's chart and `cnnviz scratch-vs-transfer --plot`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cnnviz.core.errors import CnnvizError

if TYPE_CHECKING:
    from cnnviz.core.data.dataset_types import Dataset
    from cnnviz.core.transfer.bases import Base
    from cnnviz.core.transfer.transfer_model import TransferModel

__all__ = [
    "ScratchVsTransferError", "PairPlan", "PairProgress", "PairRun", "PairResult",
    "DEFAULT_BASE", "DEFAULT_DATA", "DEFAULT_EPOCHS", "DEFAULT_LIMIT", "KINDS", "KIND_LABELS",
    "TAG_PREFIX", "story_note", "plan_pair", "pair_tag", "load_pair_data", "open_pair_base", "build_pair",
    "run_pair", "draw_chart", "save_chart",
]

# A small trained digit model that ships with a checkout of cnnviz (sample_models/README.md).
DEFAULT_BASE = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"
DEFAULT_DATA = "mnist-sample"
DEFAULT_EPOCHS = 5
# The classroom story: "a network trained on digits recognises clothes with 600 examples".
DEFAULT_LIMIT = 600
KINDS: tuple[str, ...] = ("scratch", "transfer")      # in training and plot order
KIND_LABELS: dict[str, str] = {"scratch": "From scratch", "transfer": "Transfer (frozen base)"}
TAG_PREFIX = "scratch-vs-transfer"
# Okabe–Ito blue and vermilion, as the other experiment charts.
_STYLE: dict[str, tuple[str, str]] = {"scratch": ("#0072B2", "s"), "transfer": ("#D55E00", "o")}


class ScratchVsTransferError(CnnvizError):
    """The run pair cannot run as asked (epochs, limit, data without a test part)."""


@dataclass
class PairPlan:
    """What to train: the base, the data and the settings both runs share."""

    base: str = str(DEFAULT_BASE)
    data_source: str = DEFAULT_DATA
    epochs: int = DEFAULT_EPOCHS
    limit: int | None = DEFAULT_LIMIT          # training examples (a tenth kept for validation)
    validation_split: float = 0.1
    batch_size: int = 32
    learning_rate: float = 1e-3
    head_units: int = 128
    dropout: float = 0.2
    seed: int = 1337


@dataclass
class PairProgress:
    """Run `index` (0 scratch, 1 transfer) at `epoch` (1-based; 0 before the first ends)."""

    kind: str
    index: int
    epoch: int
    epochs: int

    def text(self) -> str:
        """"Transfer (frozen base), epoch 2 of 5"."""
        where = f"epoch {self.epoch} of {self.epochs}" if self.epoch else "starting"
        return f"{KIND_LABELS[self.kind]}, {where}"


@dataclass
class PairRun:
    """One of the two trainings: its validation accuracy per epoch so far and, once
    measured, its test accuracy and loss."""

    kind: str
    val_accuracy: list[float] = field(default_factory=list)
    test_accuracy: float | None = None
    test_loss: float | None = None
    run_id: int | None = None
    trainable_parameters: int = 0
    frozen_parameters: int = 0
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class PairResult:
    """Both runs as far as they went; `stopped` when the user stopped early."""

    plan: PairPlan
    tag: str
    base_name: str = ""
    cut_layer: str = ""
    train_count: int = 0
    test_count: int = 0
    runs: dict[str, PairRun] = field(default_factory=dict)
    stopped: bool = False
    seconds: float = 0.0
    recording_problem: str | None = None
    notes: list[str] = field(default_factory=list)

    def run(self, kind: str) -> PairRun:
        """The kind's run (an empty one before it starts)."""
        return self.runs.setdefault(kind, PairRun(kind))

    def verdict(self) -> str:
        """One sentence comparing the test accuracies (empty until both are measured)."""
        scratch, transfer = self.runs.get("scratch"), self.runs.get("transfer")
        if scratch is None or transfer is None or scratch.test_accuracy is None \
                or transfer.test_accuracy is None:
            return ""
        gap = transfer.test_accuracy - scratch.test_accuracy
        if abs(gap) < 0.005:
            return (f"Both reach about {transfer.test_accuracy:.1%} on the test "
                    f"{'images' if self.test_count != 1 else 'image'}.")
        better = "Transfer" if gap > 0 else "From scratch"
        return (f"{better} is {abs(gap) * 100:.1f} points ahead on the test images "
                f"({transfer.test_accuracy:.1%} transfer, {scratch.test_accuracy:.1%} from "
                f"scratch).")


def story_note(plan: PairPlan) -> str:
    """What this pair shows with these data and base, in a sentence or two (the window and
    the command line say it): the real classroom story needs clothes, which only download."""
    limit = f"{plan.limit:,}" if plan.limit is not None else "all the"
    digit_base = Path(plan.base).expanduser() == DEFAULT_BASE
    if plan.data_source.strip().lower() in ("mnist-sample", "mnist") and digit_base:
        return (f"Offline version: the digit model's own features reused on {limit} other "
                f"digits, since no clothes sample ships with cnnviz. Choose fashion_mnist "
                f"(it downloads) for the real story: a network trained on digits recognising "
                f"clothes.")
    if plan.data_source.strip().lower().replace("-", "_") == "fashion_mnist" and digit_base:
        return (f"A network trained on digits, reused to recognise clothes from {limit} "
                f"examples.")
    return f"Both runs train on {limit} examples (a tenth kept for validation)."


def plan_pair(base: str | Path | None = None, data_source: str = DEFAULT_DATA,
              epochs: int = DEFAULT_EPOCHS, limit: int | None = DEFAULT_LIMIT,
              batch_size: int = 32, seed: int = 1337) -> PairPlan:
    """A checked plan. Raises ScratchVsTransferError for epochs outside 1..1000, a limit
    below 10 examples or a batch size below 1."""
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= 1000:
        raise ScratchVsTransferError(f"The number of epochs must be a whole number from 1 to "
                                     f"1000; got {epochs!r}.")
    if limit is not None and (not isinstance(limit, int) or limit < 10):
        raise ScratchVsTransferError(f"Train on at least 10 examples (a tenth is kept for "
                                     f"validation); got {limit!r}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ScratchVsTransferError("The batch size must be at least 1.")
    return PairPlan(str(base if base is not None else DEFAULT_BASE), data_source, epochs,
                    limit, batch_size=batch_size, seed=seed)


def pair_tag(now: float | None = None) -> str:
    """The tag both runs carry: "scratch-vs-transfer 2026-12-06 05:30:12"."""
    return f"{TAG_PREFIX} {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))}"


def load_pair_data(plan: PairPlan,
                   on_progress: Callable[[str, int, int], None] | None = None) -> "Dataset":
    """The plan's data: at most `plan.limit` training examples (seeded), a tenth of them held
    back for validation, and the source's whole test part. Raises DatasetError, or
    ScratchVsTransferError for time series or data without test images."""
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    data = load_dataset(plan.data_source, LoadOptions(validation_split=plan.validation_split,
                                                      seed=plan.seed, limit=plan.limit),
                        on_progress=on_progress)
    if data.is_series:
        raise ScratchVsTransferError(f"{data.name} is time series; this experiment needs "
                                     "images, such as mnist-sample or fashion_mnist.")
    if data.test is None or data.test.count < 1:
        raise ScratchVsTransferError(f"{data.name} has no test images, so the two runs cannot "
                                     "be compared on them. Choose data with a test part, such "
                                     "as mnist-sample.")
    return data


def open_pair_base(plan: PairPlan, image_shape: tuple[int, ...],
                   on_progress: Callable[[str, int, int], None] | None = None) -> "Base":
    """The plan's base: a model file, or a Keras application (ImageNet weights) built at the
    data's size, or at its smallest size when the data's images are smaller (they are then
    resized). Raises BaseError / WeightsFileError (offline: which file, where) /
    ModelFileError."""
    from cnnviz.core.transfer.bases import APPLICATIONS, is_application_name, open_base

    if not is_application_name(plan.base):
        path = Path(plan.base).expanduser()
        if not path.exists() and path == DEFAULT_BASE:
            raise ScratchVsTransferError(
                f"The bundled digit model {path.name} is missing from this copy of cnnviz "
                f"(sample_models/); name a model file or a Keras application as the base.")
        return open_base(path)
    app = APPLICATIONS[plan.base.strip().lower().replace("-", "_")]
    side = max(int(image_shape[0]), int(image_shape[1]), app.min_size)
    return open_base(plan.base, weights="imagenet", input_shape=(side, side),
                     on_progress=on_progress)


def _fresh_copy(base: "Base") -> "Base":
    """The base's architecture with newly initialised weights (what "from scratch" starts
    from)."""
    import keras

    model = keras.models.clone_model(base.model)
    return dataclasses.replace(base, model=model, weights_note="random weights")


def build_pair(plan: PairPlan, base: "Base", image_shape: tuple[int, ...], num_classes: int
               ) -> tuple["TransferModel", "TransferModel"]:
    """(scratch, transfer): the same network twice, the base cut at its default layer with
    the same head whose starting weights are equal. Scratch's base has fresh weights and is
    trainable; transfer's base holds the base's weights, frozen. Raises TransferError."""
    import keras

    from cnnviz.core.transfer.transfer_model import build_transfer_model, freeze_base

    resize = tuple(image_shape[:2]) != tuple(base.input_shape[:2])
    keras.utils.set_random_seed(plan.seed)
    transfer = build_transfer_model(base, image_shape, num_classes, head_units=plan.head_units,
                                    dropout=plan.dropout, resize=resize)
    freeze_base(transfer.base_part)
    keras.utils.set_random_seed(plan.seed)
    scratch = build_transfer_model(_fresh_copy(base), image_shape, num_classes,
                                   cut=transfer.cut_layer, head_units=plan.head_units,
                                   dropout=plan.dropout, resize=resize)
    scratch.base_part.trainable = True
    for name in ("head_dense", "head_classes"):
        try:
            source = transfer.model.get_layer(name)
        except ValueError:   # no hidden head layer when head_units is 0
            continue
        scratch.model.get_layer(name).set_weights(source.get_weights())
    return scratch, transfer


def run_pair(plan: PairPlan, dataset: "Dataset | None" = None, base: "Base | None" = None,
             on_progress: Callable[[PairProgress], None] | None = None,
             on_epoch: Callable[[str, int, dict[str, float]], None] | None = None,
             on_run: Callable[[PairRun, Any], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             record: bool = True, store_path: Path | None = None,
             tag: str | None = None) -> PairResult:
    """Train and measure the pair: from scratch first, then transfer.

    dataset / base: already loaded (else loaded from the plan).
    on_progress(PairProgress) when each run starts and after each epoch;
    on_epoch(kind, epoch, logs) after each epoch (logs hold val_accuracy);
    on_run(run, keras_model) when a run has been measured on the test set;
    should_stop() is asked between batches: the run under way ends within one batch, is
    recorded as stopped and not measured, and the pair returns with `stopped=True`.
    record: each run goes to the run store (`store_path`, else the user's) tagged with `tag`
    (default `pair_tag()`), its kind in the settings ("kind": "scratch" | "transfer"); a
    store that cannot be opened is reported in `recording_problem` and training goes on.
    All callables run on the calling thread.

    Raises ScratchVsTransferError, DatasetError, BaseError/WeightsFileError, TransferError
    or the engine's TrainingError before anything is trained.
    """
    from cnnviz.core.experiments.recording import open_recorder
    from cnnviz.core.training.engine import (
        TrainConfig, compile_for_training, evaluate_test, train, validate_config,
    )
    from cnnviz.core.transfer.transfer_model import parameter_counts

    started = time.monotonic()
    data = dataset if dataset is not None else load_pair_data(plan)
    if data.test is None or data.test.count < 1:
        raise ScratchVsTransferError(f"{data.name} has no test images, so the two runs cannot "
                                     "be compared on them.")
    config = TrainConfig(epochs=plan.epochs, batch_size=plan.batch_size,
                         learning_rate=plan.learning_rate, seed=plan.seed)
    validate_config(config)
    chosen = base if base is not None else open_pair_base(plan, data.input_shape)
    models = dict(zip(KINDS, build_pair(plan, chosen, data.input_shape, data.num_classes)))
    stop = should_stop or (lambda: False)
    result = PairResult(plan, tag or pair_tag(), chosen.name, models["transfer"].cut_layer,
                        int(data.train.count), int(data.test.count),
                        notes=list(models["transfer"].notes))
    for index, kind in enumerate(KINDS):
        if stop():
            result.stopped = True
            break
        transfer = models[kind]
        run = result.run(kind)
        run.trainable_parameters, run.frozen_parameters = parameter_counts(transfer.model)
        progress = PairProgress(kind, index, 0, plan.epochs)
        if on_progress is not None:
            on_progress(dataclasses.replace(progress))
        recorder = None
        if record:
            name = f"{KIND_LABELS[kind]} · {chosen.name} · {data.train.count:,} images"
            # The model's name says which of the two it is (both Keras models share one).
            recorder, problem = open_recorder(name, plan.data_source,
                                              json.dumps({"name": f"{kind}_{chosen.name}"}),
                                              tags=[result.tag], store_path=store_path)
            if problem and result.recording_problem is None:
                result.recording_problem = problem
            if recorder is not None:
                recorder.extra_settings.update(
                    kind=kind, base=chosen.name, cut_layer=transfer.cut_layer,
                    head_units=plan.head_units, dropout=plan.dropout,
                    base_frozen=kind == "transfer")

        def epoch_ended(epoch: int, logs: dict[str, float], run: PairRun = run,
                        progress: PairProgress = progress) -> None:
            run.val_accuracy.append(float(logs.get("val_accuracy", math.nan)))
            progress.epoch = epoch + 1
            if on_epoch is not None:
                on_epoch(run.kind, epoch, dict(logs))
            if on_progress is not None:
                on_progress(dataclasses.replace(progress))

        one_started = time.monotonic()
        try:
            compile_for_training(transfer.model, config)   # the trainable flags are set
            trained = train(transfer.model, data, config, on_epoch=epoch_ended,
                            should_stop=stop, recorder=recorder)
            if trained.stopped and stop():
                result.stopped = True
                break
            metrics = evaluate_test(transfer.model, data, batch_size=256)
            if recorder is not None:
                recorder.test_measured(metrics)
        finally:
            if recorder is not None:
                run.run_id = recorder.run_id
                if recorder.problem and result.recording_problem is None:
                    result.recording_problem = recorder.problem
                recorder.store.close()
            run.seconds = time.monotonic() - one_started
        run.test_accuracy, run.test_loss = metrics["accuracy"], metrics["loss"]
        if on_run is not None:
            on_run(run, transfer.model)
    result.seconds = time.monotonic() - started
    return result


# ---------------------------------------------------------------- the chart


def draw_chart(figure: Any, result: PairResult, font_points: float = 12.0,
               line_points: float = 2.5, marker_points: float = 9.0) -> None:
    """Draw validation accuracy per epoch on `figure` (a matplotlib Figure, cleared first):
    one line with markers per run, and each measured run's test accuracy written at its
    line's end. Epochs not trained yet leave a line shorter."""
    from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

    figure.clear()
    axes = figure.subplots(1, 1)
    epochs = result.plan.epochs
    lowest = 1.0
    ends = {kind: [v for v in run.val_accuracy if not math.isnan(v)][-1]
            for kind, run in result.runs.items()
            if run.test_accuracy is not None and any(not math.isnan(v) for v in run.val_accuracy)}
    # Two test labels at nearly the same height are pushed apart, the higher line's upwards.
    close = len(ends) == 2 and abs(ends["scratch"] - ends["transfer"]) < 0.08
    upper = "scratch" if close and ends["scratch"] > ends["transfer"] else "transfer"
    for kind in KINDS:
        colour, marker = _STYLE[kind]
        run = result.runs.get(kind, PairRun(kind))
        xs = [i + 1 for i, value in enumerate(run.val_accuracy) if not math.isnan(value)]
        ys = [value for value in run.val_accuracy if not math.isnan(value)]
        if ys:
            lowest = min(lowest, min(ys))
        # An empty line still names the run in the legend before it has trained.
        axes.plot(xs, ys, color=colour, marker=marker, linewidth=line_points,
                  markersize=marker_points, label=KIND_LABELS[kind],
                  markeredgecolor="white", markeredgewidth=max(0.5, line_points / 3))
        if run.test_accuracy is not None and xs:
            # Beside the line's end, in the room the x axis keeps to the right.
            axes.annotate(f"test\n{run.test_accuracy:.1%}", (xs[-1], ys[-1]),
                          xytext=(marker_points, 0.0 if not close
                                  else font_points * (0.9 if kind == upper else -0.9)),
                          textcoords="offset points", ha="left",
                          va="center", color=colour, fontsize=font_points * 0.95,
                          fontweight="bold", linespacing=1.0)
    axes.set_xlim(0.7, max(epochs, 1) + 0.35 + 0.12 * max(epochs, 1))
    axes.xaxis.set_major_locator(FixedLocator([float(e) for e in range(1, epochs + 1)])
                                 if epochs <= 12 else MaxNLocator(integer=True))
    bottom = max(0.0, math.floor((lowest - 0.05) * 10) / 10) if result.runs else 0.0
    axes.set_ylim(bottom, 1.0 + 0.08 * (1.0 - bottom))
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    title = "From scratch vs transfer"
    if result.base_name:
        title += f" ({result.base_name})"
    figure.suptitle(title, fontweight="bold", fontsize=font_points * 1.3)
    trained = f", {result.train_count:,} training examples" if result.train_count else ""
    axes.set_xlabel(f"epoch{trained}", fontsize=font_points * 1.1)
    axes.set_ylabel("validation accuracy", fontsize=font_points * 1.1)
    axes.tick_params(labelsize=font_points * 1.05, width=max(1.0, line_points / 2.5))
    for spine in axes.spines.values():
        spine.set_linewidth(max(1.0, line_points / 2.5))
    axes.grid(True, alpha=0.3)
    # Below the plot, so it never hides a line whichever run is ahead.
    figure.legend(loc="outside lower center", ncols=2, fontsize=font_points * 1.05,
                  frameon=False)


def save_chart(result: PairResult, path: Path) -> None:
    """Save the chart as PNG or SVG (by the file's extension), without Qt or a display.
    Raises ScratchVsTransferError for another extension."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ScratchVsTransferError(f"{path.name}: the chart is saved as a .png or .svg file.")
    from matplotlib.figure import Figure   # no pyplot: the Agg/SVG canvases need no GUI

    from cnnviz.core.atomic_save import save_file_atomically

    figure = Figure(figsize=(8, 5.5), dpi=100, layout="constrained")
    draw_chart(figure, result, font_points=13.0, line_points=3.0, marker_points=10.0)
    save_file_atomically(path, lambda target: figure.savefig(target, format=suffix[1:],
                                                             dpi=150))
