"""The Inspect view: a saved Keras model opened from a file, its structure and its evaluation.

Opening runs in the background (TensorFlow may still be loading): the structure appears as
soon as the file is read; weight statistics fill in later (InspectPanel). A file carrying
Python code is refused with the reason, and opened only after an explicit "I trust this
file". The opened model goes into the workspace, and what the user asks of it (explain it,
fine-tune it, edit a copy) is a workspace request the window carries out. The data offered
for evaluation is the workspace's (chosen in the Train view); when it does not fit the model,
the view says so and offers the bundled sample that fits, or resizing/converting the images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QStackedWidget,
    QTabWidget, QVBoxLayout, QWidget,
)

from cnnviz.ui.common import dialogs
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.inspect.model_graph import frozen_state
from cnnviz.workspace import ExampleRef, Workspace

EMPTY_TITLE = "Look inside a saved model"
EMPTY_WHAT = (
    "Open a trained Keras model to see every layer with its output shape and parameters, "
    "the statistics of its weights and its filters. Then measure it on test images: its "
    "accuracy, a confusion matrix and the pictures it gets wrong, each one explained.")
EMPTY_HOW = (
    "A <b>.keras</b> or <b>.h5</b> file (Keras 2 / tf.keras files too), or an architecture "
    "<b>.json</b> from <code>model.to_json()</code> with its weights beside it. Also: "
    "<b>File → Open</b> (Ctrl+O), drag a file onto this window, or "
    "<code>cnnviz path/to/model.keras</code>.")
# A small trained model that ships with a checkout of cnnviz (sample_models/README.md).
SAMPLE_MODEL = Path(__file__).resolve().parents[3] / "sample_models" / "lenet5.keras"
TRUST_BUTTON = "I trust this file"  # the app's way to trust a file (the CLI's is --trust)
CARD_WIDTH_CHARS = 62  # the card's width in average characters: lines a reader can follow
MODEL_FILTER = ("Keras models and specs (*.keras *.h5 *.hdf5 *.json);;Keras models (*.keras *.h5 "
                "*.hdf5);;Architecture or spec JSON (*.json);;All files (*)")


class EmptyModelPage(QWidget):
    """What the Inspect view shows before a model is open: what it is for and how to open
    one, in type that follows the zoom, on a card in the middle of the view."""

    open_requested = Signal()
    sample_requested = Signal(str)

    def __init__(self, sample: Path = SAMPLE_MODEL, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sample = sample
        self.title = QLabel(EMPTY_TITLE)
        self.title.setWordWrap(True)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_relative_font(self.title, 1.8, bold=True)
        self.what = QLabel(EMPTY_WHAT)
        self.what.setWordWrap(True)
        self.what.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_relative_font(self.what, 1.2)
        self.open_button = QPushButton("Open a model file…")
        self.open_button.setDefault(True)
        self.open_button.setAutoDefault(True)
        set_relative_font(self.open_button, 1.3, bold=True)
        self.open_button.clicked.connect(self.open_requested)
        self.sample_button = QPushButton("Try the sample: LeNet-5, trained on MNIST digits")
        set_relative_font(self.sample_button, 1.1)
        self.sample_button.setVisible(sample.is_file())
        self.sample_button.clicked.connect(lambda: self.sample_requested.emit(str(self.sample)))
        self.how = QLabel(EMPTY_HOW)
        self.how.setWordWrap(True)
        self.how.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.how.setTextFormat(Qt.TextFormat.RichText)
        set_relative_font(self.how, 1.0)

        self.card = QFrame()
        self.card.setObjectName("emptyCard")
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        self.card.setAutoFillBackground(True)
        self.card.setBackgroundRole(QPalette.ColorRole.Base)
        card_layout = QVBoxLayout(self.card)
        card_layout.addWidget(self.title)
        card_layout.addWidget(self.what)
        card_layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        card_layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignHCenter)
        card_layout.addWidget(self.how)
        self.card.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.card)
        row.addStretch(1)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        # At a large zoom on a small screen the card scrolls rather than clipping.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        self._fit_to_zoom()
        watch_zoom(self._fit_to_zoom)

    def _fit_to_zoom(self) -> None:
        margin = scaled(18)
        self.card.layout().setContentsMargins(margin, margin, margin, margin)
        self.card.layout().setSpacing(scaled(12))
        self.open_button.setMinimumHeight(self.open_button.fontMetrics().height() * 2)
        self.open_button.setMinimumWidth(self.open_button.fontMetrics().horizontalAdvance(
            self.open_button.text()) + scaled(48))
        self._fit_width()

    def _fit_width(self) -> None:
        """The card as wide as a readable line (or the view, if narrower), and each wrapped
        text as tall as it needs at that width: nothing is cut, at any zoom."""
        readable = self.what.fontMetrics().averageCharWidth() * CARD_WIDTH_CHARS
        room = max(scaled(200), self.scroll.viewport().width() - scaled(24))
        width = min(readable, room)
        self.card.setFixedWidth(width)
        margins = self.card.layout().contentsMargins()
        text_width = width - margins.left() - margins.right() - 2 * self.card.frameWidth()
        for label in (self.title, self.what, self.how):
            label.setMinimumHeight(label.heightForWidth(text_width))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_width()

    def show_opening(self, name: str) -> None:
        """While a file is read: its name, and no buttons to press twice."""
        self.title.setText(f"Opening {name}…")
        self.what.setText("Reading the model's layers and weights. Large models take a few "
                          "seconds, and the first model a little longer while TensorFlow loads.")
        self.open_button.setEnabled(False)
        self.sample_button.setEnabled(False)
        for widget in (self.open_button, self.sample_button, self.how):
            widget.hide()
        self._fit_width()

    def show_invitation(self) -> None:
        self.title.setText(EMPTY_TITLE)
        self.what.setText(EMPTY_WHAT)
        self.open_button.setEnabled(True)
        self.sample_button.setEnabled(True)
        self.open_button.show()
        self.how.show()
        self.sample_button.setVisible(self.sample.is_file())
        self._fit_width()


@dataclass
class OpenResult:
    """What the background open hands back: the model and its structure, or why not."""

    opened: Any = None          # core.model_files.OpenedModel
    info: Any = None            # core.inspection.ModelInfo
    untrusted: str = ""         # the refusal message of a file that carries code
    not_editable: list = None   # (name, type, why) of parts the builder cannot hold


def open_and_inspect(path: str, weights: str | None, trust: bool) -> OpenResult:
    """Open a model file and read its structure (worker thread)."""
    from cnnviz.core.inspect.inspection import inspect_model
    from cnnviz.core.errors import UntrustedModelError
    from cnnviz.core.inspect.model_files import open_model, suggest_weights_file

    if weights is None and Path(path).suffix.lower() == ".json":
        found = suggest_weights_file(path)   # model.json → model.weights.h5 beside it
        weights = str(found) if found else None
    try:
        opened = open_model(path, weights_path=weights, trust=trust)
    except UntrustedModelError as exc:
        return OpenResult(untrusted=str(exc))
    from cnnviz.core.transfer.spec_with_bases import unsupported_parts

    # Work the GUI thread would otherwise do while the window waits: the builder check, and
    # the modules of the views about to be shown (importing them here creates no widget).
    import cnnviz.core.data.datasets  # noqa: F401
    import cnnviz.ui.inspect.evaluation_panel  # noqa: F401
    import cnnviz.ui.inspect.inspect_panel  # noqa: F401
    return OpenResult(opened, inspect_model(opened.model),
                      not_editable=unsupported_parts(opened.model))


class ModelTab(QWidget):
    """Opens model files and shows them: structure (InspectPanel) and evaluation."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_choice = workspace.data
        self.opened_model = workspace.opened
        self._opening = NewestRequest(self)   # opening another file drops the earlier one
        self._adapted_for: Any = None    # the dataset the user chose to resize/convert
        self._suggested_for: Any = None  # the model whose fitting sample was already loaded

        self.empty = EmptyModelPage()
        self.empty.open_requested.connect(self.open_dialog)
        self.empty.sample_requested.connect(self.open_file)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.linkActivated.connect(self._link)
        self.explain_button = QPushButton("Explain it…")
        self.explain_button.setToolTip("Step through this model's forward pass (Explain view)")
        self.explain_button.clicked.connect(lambda: self.opened_model.request_explain())
        self.fine_tune_button = QPushButton("Fine-tune it…")
        self.fine_tune_button.setToolTip("Continue training this model on a dataset (Train view)")
        self.fine_tune_button.clicked.connect(self.opened_model.request_fine_tune)
        actions = QHBoxLayout()
        actions.setContentsMargins(6, 6, 6, 0)
        actions.addWidget(self.status, 1)
        actions.addWidget(self.explain_button)
        actions.addWidget(self.fine_tune_button)

        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.inspect: Any = None
        self.evaluation: Any = None
        model_page = QWidget()
        model_layout = QVBoxLayout(model_page)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_layout.addLayout(actions)
        model_layout.addWidget(self.pages, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(model_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.data_choice.changed.connect(self._data_changed)
        workspace.run.finished.connect(self._model_trained)

    # ------------------------------------------------------------------ opening

    def open_dialog(self) -> None:
        path = dialogs.get_open_path(self, "Open a Keras model", str(Path.home()), MODEL_FILTER)
        if path:
            self.open_file(path)

    @property
    def opened(self) -> Any:
        """The opened model (core OpenedModel), or None."""
        return self.opened_model.opened

    @property
    def info(self) -> Any:
        """Its structure (core ModelInfo), or None."""
        return self.opened_model.info

    @property
    def busy(self) -> bool:
        return self._opening.busy

    def shutdown(self) -> None:
        """Wait for an open or an evaluation in progress (the window is closing)."""
        self._opening.shutdown()
        if self.evaluation is not None:
            self.evaluation.shutdown()
        if self.inspect is not None:
            self.inspect.shutdown()

    def open_file(self, path: str, trust: bool = False, weights: str | None = None) -> None:
        """Open `path` in the background; the workspace's opened model changes when it is read,
        or an error dialog says why not."""
        path = str(path)
        self._opening.submit(lambda report: open_and_inspect(path, weights, trust),
                             lambda result: self._opened(path, result),
                             lambda message, _details: self._failed(path, message))
        self.empty.show_opening(Path(path).name)
        self.stack.setCurrentIndex(0)

    def _opened(self, path: str, result: OpenResult) -> None:
        self.empty.show_invitation()
        if result.untrusted:
            question = (f"{result.untrusted}\n\nOpen it only if you trust where the file came "
                        f"from: choose “{TRUST_BUTTON}” and its code will run on this computer.")
            if dialogs.ask_to_confirm(self, "This model contains code", question, TRUST_BUTTON):
                self.open_file(path, trust=True)
            else:
                self._show_empty()
            return
        self.show_model(result.opened, result.info, result.not_editable)

    def _failed(self, path: str, message: str) -> None:
        self._show_empty()
        dialogs.show_error(self, "Cannot open this model", f"{path}\n\n{message}")

    def _show_empty(self) -> None:
        """After a failed or refused open: the model shown before, or the invitation."""
        self.empty.show_invitation()
        self.stack.setCurrentIndex(0 if self.opened is None else 1)

    def _ensure_pages(self) -> None:
        if self.inspect is not None:
            return
        from cnnviz.ui.inspect.evaluation_panel import EvaluationPanel
        from cnnviz.ui.inspect.inspect_panel import InspectPanel

        self.inspect = InspectPanel()
        self.inspect.edit_copy_requested.connect(self.opened_model.request_edit_copy)
        self.inspect.layer_activated.connect(
            lambda name: self.opened_model.request_explain(layer=name))
        self.evaluation = EvaluationPanel()
        self.evaluation.example_clicked.connect(
            lambda split, index: self.opened_model.request_explain(
                example=ExampleRef(self.evaluation.dataset, split, index)))
        self.pages.addTab(self.inspect, "Structure")
        self.pages.addTab(self.evaluation, "Evaluate")

    def show_model(self, opened: Any, info: Any, not_editable: list | None = None) -> None:
        """Show an opened model; `not_editable` is unsupported_parts(model) if known."""
        self._ensure_pages()
        notes = list(getattr(opened, "notes", []) or [])
        if getattr(opened, "trusted", False):
            notes.append("Opened with “I trust this file”: its code was allowed to run.")
        self.inspect.set_model(opened.model, info, Path(opened.path).name, notes)
        editable, reason = self._edit_copy_state(opened.model, not_editable)
        self.inspect.set_edit_copy(editable, reason)
        self.evaluation.set_model(opened.model, info.evaluate_problem)
        self.explain_button.setEnabled(info.explain_problem is None)
        self.explain_button.setToolTip(info.explain_problem or "Step through this model's "
                                       "forward pass (Explain view)")
        self.fine_tune_button.setEnabled(info.evaluate_problem is None)
        self.fine_tune_button.setToolTip(info.evaluate_problem or "Continue training this "
                                         "model on a dataset (Train view)")
        self.stack.setCurrentIndex(1)
        self.opened_model.set_opened(opened, info)
        self._offer_data()

    @staticmethod
    def _edit_copy_state(model: Any, problems: list | None) -> tuple[bool, str]:
        if problems is None:
            from cnnviz.core.transfer.spec_with_bases import unsupported_parts

            problems = unsupported_parts(model)
        if not problems:
            return True, "Open an editable copy of this model in the builder"
        names = "; ".join(f"{name} ({kind}): {why}" for name, kind, why in problems[:6])
        more = f" and {len(problems) - 6} more" if len(problems) > 6 else ""
        return False, f"The builder cannot hold every layer of this model: {names}{more}."

    # ------------------------------------------------------------------ data for evaluation

    def model_input_shape(self) -> tuple[int, ...] | None:
        if self.opened is None or not self.info.input_shapes:
            return None
        return tuple(int(d) if d is not None else None for d in self.info.input_shapes[0])

    def _model_trained(self, model: Any) -> None:
        """Fine-tuning changed the opened model's weights: old evaluations no longer hold."""
        if self.opened is not None and model is self.opened.model and self.evaluation is not None:
            self.evaluation.forget_results()
            self.inspect.set_model(model, self.info, Path(self.opened.path).name,
                                   ["Fine-tuned in the Train view since it was opened; "
                                    "save it there to keep the new weights."])

    def _data_changed(self, loaded: Any) -> None:
        if loaded is not None and self.opened is not None:
            self._offer_data()

    def _offer_data(self) -> None:
        """Give the evaluation the Train view's data if it fits; otherwise say what would."""
        from cnnviz.core.data.data_fit import can_adapt, fit_problem, suggested_source

        shape = self.model_input_shape()
        loaded = self.data_choice.loaded
        if shape is None or self.info.evaluate_problem:
            self.evaluation.set_dataset(None)
            self.status.setText(self._summary_text())
            return
        if loaded is None:
            self.evaluation.set_dataset(None)
            suggestion = suggested_source(shape)
            if suggestion and not self.data_choice.busy:
                self._suggested_for = self.opened
                self.data_choice.request_source(suggestion)
            self.status.setText(self._summary_text() + " · loading data…")
            return
        dataset = loaded.dataset
        problem = fit_problem(dataset, shape)
        if problem is None:
            self.evaluation.set_dataset(dataset)
            self.status.setText(self._summary_text() + f" · data: {dataset.name}")
            return
        suggestion = suggested_source(shape)
        if suggestion and self._suggested_for is not self.opened:
            # Offer the data that fits, once per model: the bundled sample of its shape.
            self._suggested_for = self.opened
            self.evaluation.set_dataset(None)
            self.data_choice.request_source(suggestion)
            self.status.setText(self._summary_text() + f" · loading {suggestion}, which fits "
                                "this model…")
            return
        if self._adapted_for is dataset and can_adapt(dataset, shape):
            from cnnviz.core.data.data_fit import adapt_dataset

            self.evaluation.set_dataset(adapt_dataset(dataset, shape))
            self.status.setText(self._summary_text() + f" · data: {dataset.name}, resized and "
                                "converted to fit")
            return
        self.evaluation.set_dataset(None)
        links = []
        if suggestion:
            links.append(f"<a href='source:{suggestion}'>use the {suggestion} data</a>")
        if can_adapt(dataset, shape):
            links.append("<a href='adapt'>resize and convert these images</a>")
        offer = (" You can " + " or ".join(links) + ".") if links else \
            " Choose other data in the Train view."
        self.status.setText(f"<span style='color:#b3261e'>{problem}</span>{offer}")

    def _link(self, link: str) -> None:
        if link.startswith("source:"):
            self.data_choice.request_source(link.split(":", 1)[1])
        elif link == "adapt" and self.data_choice.loaded is not None:
            self._adapted_for = self.data_choice.loaded.dataset
            self._offer_data()

    def _summary_text(self) -> str:
        info = self.info
        text = (f"<b>{Path(self.opened.path).name}</b> · {len(info.layers)} layers · "
                f"{info.total_params:,} parameters")
        states = [frozen_state(layer) for layer in info.layers]
        parts = [f"{n} {word} layer{'s' if n != 1 else ''}"
                 for n, word in ((states.count("frozen"), "frozen"),
                                 (states.count("partly"), "partly frozen")) if n]
        if parts:
            text += (f" · ❄ {', '.join(parts)} ({info.non_trainable_params:,} parameters "
                     f"not trained)")
        return text
