"""The Explain view: pick an input, then step through the real forward pass layer by layer.

Left: the input picker and the model's answer. Centre: the strip of layers, and for the chosen
layer its steps (animated for convolution and pooling), all its feature maps, and its filters.
Right: a few plain words about the layer, which a teacher can hide.

The model is the workspace's training run (live while it trains), a saved model opened in
the Inspect view, or, before any training, the builder's model with random weights. Forward
passes run in the background (ExplainSession), where only the newest request counts. While
training runs, the session looks at the weights on the training thread between batches
(LearningFollower, learning.py): a snapshot for the learning replay and a refresh of the view
for the current input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from cnnviz.core.explain.lessons import attribution_lesson, lesson_for_steps
from cnnviz.core.explain.learning_snapshots import EpochSnapshot
from cnnviz.ui.common.zoom import scaled, watch_zoom
from cnnviz.ui.explain.exports import ViewExporter
from cnnviz.ui.explain.learning import LearningFollower
from cnnviz.core.explain.forward_pass import answer_of
from cnnviz.ui.explain.session import ExplainSession, ForwardResult
from cnnviz.ui.explain.views.attribution_view import AttributionView
from cnnviz.ui.explain.views.step_views import StepViews
from cnnviz.ui.explain.views.view_parts import WrapRow
from cnnviz.ui.explain.layer_strip import LayerChip, LayerStrip
from cnnviz.workspace import Workspace
from cnnviz.ui.common.zoom import mark_side_panel


CONV_KINDS = ("conv", "conv1d")   # the step kinds whose layer has filters (Conv2D, Conv1D)


def filters_of(steps: Any) -> Any:
    """The kernel the Filters page shows for these steps: (kh, kw, C, F) for a Conv2D, (k, C, F)
    for a Conv1D; None for a layer without filters."""
    return steps.kernel if steps.kind in CONV_KINDS else None


class ExplainPanel(QWidget):
    """Explains the current model on one input, layer by layer."""

    train_requested = Signal()   # "Train it": the window shows the Train view

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from cnnviz.ui.common.feature_map_grid import FeatureMapGrid
        from cnnviz.ui.common.filter_grid import FilterGrid
        from cnnviz.ui.explain.input_picker import InputPicker
        from cnnviz.ui.explain.lesson_panel import LessonPanel
        from cnnviz.ui.explain.probability_chart import ProbabilityChart

        self.document = workspace.document
        self.data_choice = workspace.data
        self.run = workspace.run
        self.explained = workspace.explained   # the input on show, for whoever needs it
        self.session = ExplainSession(self)
        self.session.forward_ready.connect(self._forward_ready)
        self.session.steps_ready.connect(self._steps_ready)
        self.session.failed.connect(self._failed)
        self.session.busy_changed.connect(self._busy)
        self._class_names: list[str] = []
        self._opened_problem: str | None = None   # why an opened model cannot be explained

        # Left: the input and the answer.
        self.picker = InputPicker()
        self.picker.input_chosen.connect(self._input_chosen)
        self.chart = ProbabilityChart()
        left = QSplitter(Qt.Orientation.Vertical)
        mark_side_panel(left)
        left.addWidget(self.picker)
        left.addWidget(self.chart)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)
        left.setChildrenCollapsible(False)

        # Centre: status line, layer strip, pages, replay.
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.linkActivated.connect(self._banner_link)
        self.strip = LayerStrip()
        self.strip.layer_selected.connect(self._layer_selected)
        self.views = StepViews()
        self.maps = FeatureMapGrid()
        self.filters = FilterGrid()
        self.maps.channel_clicked.connect(self._map_clicked)
        self.filters.filter_clicked.connect(self.views.select_filter)
        self.views.filter_changed.connect(self._follow_filter)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.views, "Step by step")
        self.pages.addTab(self.maps, "Feature maps")
        self.pages.addTab(self.filters, "Filters")
        self.where = AttributionView()   # Grad-CAM and saliency over the input
        self.pages.addTab(self.where, "Where it looks")
        self.where.method_changed.connect(lambda _method: self._show_page_lesson())
        self.pages.currentChanged.connect(lambda _index: self._show_page_lesson())
        # Pages out of sight are redrawn when they are shown, not on every refresh.
        self._pending_pages: dict[int, Any] = {}
        self.pages.currentChanged.connect(self._flush_page)

        self.lesson_button = QToolButton()
        self.lesson_button.setText("About this layer")
        self.lesson_button.setCheckable(True)
        self.lesson_button.setChecked(True)
        self.lesson_button.setToolTip("Show or hide the plain-words explanation (F2)")
        self.png_button = QPushButton("Save view…")
        self.png_button.setToolTip("Save what the page shows as a PNG image (Ctrl+Shift+P)")
        self.exporter = ViewExporter(self, self.views, self.pages,
                                     lambda text: self._show_banner(busy=text))
        self.png_button.clicked.connect(self.exporter.save_png_dialog)
        self.gif_button = QPushButton("Save animation…")
        self.gif_button.setToolTip("Save the sliding-window animation as an animated GIF for slides")
        self.gif_button.clicked.connect(self.exporter.save_gif_dialog)
        # In a narrow centre (a large zoom on a small screen) the buttons go under the line,
        # which keeps 30 characters' width rather than wrapping word by word.
        tools = WrapRow(self.banner, [self.png_button, self.gif_button, self.lesson_button],
                        lambda: self.banner.fontMetrics().averageCharWidth() * 30)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(6, 6, 6, 4)
        centre_layout.setSpacing(4)
        centre_layout.addWidget(tools)
        centre_layout.addWidget(self.strip)
        centre_layout.addWidget(self.pages, 1)
        self.learning = LearningFollower(self.run, self.session, self.isVisible,
                                         self._show_banner, self._show_epoch, self._show_current)
        self.replay = self.learning.replay
        centre_layout.addLayout(self.learning.row)

        # Right: words for learners.
        self.lesson = LessonPanel()
        mark_side_panel(self.lesson)
        self.lesson_button.toggled.connect(self.lesson.setVisible)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(centre)
        splitter.addWidget(self.lesson)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setChildrenCollapsible(False)
        self._left = left
        self.splitter = splitter
        self._size_sides()
        watch_zoom(self._size_sides)
        self._sized = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self._shortcuts()
        self.data_choice.changed.connect(self._data_changed)
        if self.data_choice.loaded is not None:
            self._data_changed(self.data_choice.loaded)
        self.learning.attach()
        self.document.changed.connect(self._spec_changed)
        workspace.opened.changed.connect(self.offer_opened_model)
        if workspace.opened.opened is not None:   # explain the model the user opened
            self.use_opened_model(workspace.opened.opened, workspace.opened.info)
        self._update_tools()
        self._show_banner()

    def _size_sides(self) -> None:
        """The side columns may grow with the zoom (on a wide screen larger text still fits
        them); their minimums stay, so a small screen keeps its room for the centre."""
        self._left.setMinimumWidth(220)
        self._left.setMaximumWidth(scaled(340))
        self.lesson.setMinimumWidth(170)
        self.lesson.setMaximumWidth(scaled(340))

    @property
    def history(self) -> Any:
        """The learning replay's epochs (LearningHistory)."""
        return self.learning.history

    # ------------------------------------------------------------------ set-up

    def _shortcuts(self) -> None:
        from cnnviz.ui.explain.playback import install_playback_shortcuts

        install_playback_shortcuts(self.views, self.views.playback)
        for keys, slot in (("Ctrl+Left", lambda: self.strip.select_neighbour(-1)),
                           ("Ctrl+Right", lambda: self.strip.select_neighbour(+1)),
                           ("F2", self.lesson_button.toggle),
                           ("Ctrl+Shift+P", self.exporter.save_png_dialog)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._sized:  # the first time: give the centre what the sides can spare
            self._sized = True
            narrow = self.width() < 1200
            side, lesson = (240, 190) if narrow else (270, 240)
            self.splitter.setSizes([side, max(400, self.width() - side - lesson), lesson])
        self.views.setFocus()
        if self.data_choice.loaded is None and not self.data_choice.busy:
            self.data_choice.request_source()  # the same default data as the Train view
        session = self.session
        if session.model is None and session.spec is None:
            session.use_spec(self.document.spec.copy())
        # Whatever changed while the view was hidden (a new model, input or epoch) shows now.
        refresh = self.learning.needs_refresh
        stale = session.forward is None or refresh
        if session.image is not None and stale and not session.busy and not self._opened_problem:
            session.compute(keep_place=refresh)
        self.learning.needs_refresh = False

    def shutdown(self) -> None:
        """Wait for background work (the window is closing)."""
        self.learning.detach()
        self.where.shutdown()
        self.session.shutdown()

    # ------------------------------------------------------------------ model and data

    def _data_changed(self, loaded: Any) -> None:
        if loaded is None:
            return
        dataset = loaded.dataset
        self._class_names = list(dataset.class_names)
        self.views.set_class_names(self._class_names)
        self.picker.set_input_shape(tuple(self._model_input_shape()))
        self.picker.set_dataset(dataset)

    def _input_chosen(self, image: Any, description: str, label: Any) -> None:
        self.chart.setEnabled(False)   # greyed until the model has seen the new input
        self.session.set_input(image, description, label)
        self.explained.set(image, description, None if label is None else int(label))
        self.learning.follow_live()
        if self.session.model is None:
            self.session.use_spec(self.document.spec.copy())
        if self.isVisible():
            self.session.compute()

    # ------------------------------------------------------------------ results

    def _forward_ready(self, result: ForwardResult) -> None:
        forward = result.forward
        chips = [LayerChip(-1, "input", "Input", tuple(forward.image.shape))]
        chips += [LayerChip(position, record.name, record.layer_type, tuple(record.output.shape))
                  for position, record in enumerate(forward.layers)
                  if record.layer_type != "InputLayer"]  # the input has its own chip
        if chips != self.strip.chips():
            self.strip.set_layers(chips)
        self.strip.select(self.session.layer_index, emit=False)
        self._show_answer(result.probabilities, result.label)
        self._defer_page(3, lambda: self.where.set_subject(
            self.session.model, forward.image, self._class_names, self.session.trained))
        if result.steps is not None:
            self._steps_ready(result.steps, result.keep_place)
        self._show_banner()
        self._update_tools()

    def _show_answer(self, probabilities: Any, label: Any) -> None:
        if probabilities is None:
            self.chart.setEnabled(False)
            return
        self.chart.setEnabled(True)
        names = self._names_for(probabilities)
        # Shown once, by the chart; an untrained model's answer is called a guess there.
        self.chart.set_untrained(not self.session.trained)
        self.chart.set_probabilities(probabilities, names, label)

    def _names_for(self, probabilities: Any) -> list[str]:
        if len(self._class_names) == len(probabilities):
            return self._class_names
        return [str(i) for i in range(len(probabilities))]

    def _steps_ready(self, steps: Any, keep_place: bool = False) -> None:
        self.views.set_steps(steps, keep_place=keep_place)
        self._show_page_lesson()
        if self.learning.replaying is None:
            self._show_maps(steps.output, steps.name)
            self._show_filters(filters_of(steps), steps.name)
        else:
            self.learning.show_replayed()
        self._update_tools()

    def _show_page_lesson(self) -> None:
        """The words beside the pages: the map's lesson on "Where it looks", else the layer's."""
        if self.pages.currentWidget() is self.where:
            lesson = attribution_lesson(self.where.method())
        elif self.views.steps is not None:
            lesson = lesson_for_steps(self.views.steps)
        else:
            return
        if lesson != self.lesson.lesson():   # a live refresh of the same layer: keep the text
            self.lesson.show_lesson(lesson)

    def _show_maps(self, output: Any, name: str) -> None:
        if output is None:
            self.pages.setTabEnabled(1, False)
            return
        self.pages.setTabEnabled(1, True)
        self._defer_page(1, lambda: self.maps.set_maps(output, f"{name}: every channel of its output"))

    def _show_filters(self, kernel: Any, name: str) -> None:
        has_filters = kernel is not None
        self.pages.setTabEnabled(2, has_filters)
        self.pages.setTabToolTip(2, "" if has_filters else "Only convolution layers have filters")
        if has_filters:
            self._defer_page(2, lambda: self.filters.set_kernel(
                kernel, f"{name}: its {kernel.shape[-1]} filters"))

    def _defer_page(self, index: int, update: Any) -> None:
        if self.pages.currentIndex() == index:
            self._pending_pages.pop(index, None)
            update()
        else:
            self._pending_pages[index] = update

    def _flush_page(self, index: int) -> None:
        update = self._pending_pages.pop(index, None)
        if update is not None:
            update()

    def _layer_selected(self, index: int) -> None:
        self.session.select_layer(index)

    def _map_clicked(self, channel: int) -> None:
        steps = self.views.steps
        if steps is not None and steps.kind in CONV_KINDS:
            self.views.select_filter(channel)   # a conv output channel is a filter's map
        else:
            self.views.select_channel(channel)
        self.pages.setCurrentIndex(0)

    def _follow_filter(self, index: int) -> None:
        self.maps.set_selected_channel(index)
        self.filters.set_selected_filter(index)

    def _failed(self, message: str, details: str) -> None:
        self._show_banner(error=message)

    def _busy(self, text: str) -> None:
        self._show_banner(busy=text)

    # ------------------------------------------------------------------ the learning replay

    def _show_epoch(self, snapshot: EpochSnapshot, label: str, input_text: str,
                    input_label: int | None) -> None:
        """Draw a past epoch's maps, filters and answer for the current layer."""
        steps = self.views.steps
        if steps is None:
            return
        maps = snapshot.feature_maps.get(steps.name)
        if maps is not None:
            # The maps were recorded for the input shown while training ran.
            title = f"{steps.name} · {label} · {input_text}"
            self._defer_page(1, lambda: self.maps.set_maps(maps, title))
        kernel = snapshot.kernels.get(steps.name)
        if kernel is not None:
            self._defer_page(2, lambda: self.filters.set_kernel(kernel, f"{steps.name} · {label}"))
        if snapshot.probabilities is not None:
            self.chart.set_untrained(snapshot.epoch == 0)   # the random start guesses
            self.chart.set_probabilities(snapshot.probabilities, self._names_for(
                snapshot.probabilities), input_label)

    def _show_current(self) -> None:
        """Back from a replay: the current model's maps, filters and answer."""
        steps = self.views.steps
        if steps is not None:
            self._show_maps(steps.output, steps.name)
            self._show_filters(filters_of(steps), steps.name)
        if self.session.forward is not None:
            self._show_answer(answer_of(self.session.forward), self.session.label)

    # ------------------------------------------------------------------ which model

    def _model_input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.session.input_shape() or self.document.spec.input_shape)

    def _spec_changed(self) -> None:
        if self.session.origin == "builder" or self.session.model is None:
            self.session.use_spec(self.document.spec.copy())
            self.picker.set_input_shape(self._model_input_shape())
            if self.isVisible() and self.session.image is not None:
                self.session.compute()
            self._show_banner()

    def use_opened_model(self, opened: Any, info: Any) -> None:
        """Explain a model opened from a file (its real, trained weights)."""
        self._opened_problem = info.explain_problem
        if info.explain_problem:
            self._show_banner()
            return
        self.session.use_model(opened.model, trained=True, origin=str(opened.path))
        # Start at the first real layer (a functional model lists its InputLayer first).
        types = [type(layer).__name__ for layer in opened.model.layers]
        self.session.layer_index = next(
            (i for i, kind in enumerate(types) if kind != "InputLayer"), 0)
        self.learning.forget(opened_file=True)
        self.picker.set_input_shape(self._model_input_shape())
        self._show_banner()
        if self.session.image is not None and self.isVisible():
            self.session.compute()

    def offer_opened_model(self, opened: Any, info: Any) -> None:
        """A model was opened while this view shows another one: explain the new one."""
        if self.session.origin not in ("", "builder", "training") or self.session.model is None:
            self.use_opened_model(opened, info)

    def show_input(self, image: Any, description: str, label: Any) -> None:
        """Explain this input (an image picked elsewhere, e.g. a mistake in the evaluation)."""
        self._input_chosen(image, description, label)

    def select_layer_named(self, name: str) -> None:
        """Explain the layer called `name` (now, or once the forward pass arrives)."""
        names = [layer.name for layer in getattr(self.session.model, "layers", [])]
        if name in names:
            self.session.select_layer(names.index(name))
            self.strip.select(names.index(name), emit=False)

    def explain_builder_model(self) -> None:
        self._opened_problem = None
        if not self.history.epochs():
            self.learning.forget()   # no file's "nothing to replay" note for the builder's model
        self.session.use_spec(self.document.spec.copy())
        self.picker.set_input_shape(self._model_input_shape())
        self._show_banner()
        if self.session.image is not None:
            self.session.compute()

    # ------------------------------------------------------------------ banner

    def _show_banner(self, error: str = "", busy: str = "") -> None:
        builder_link = " <a href='builder'>Explain the builder's model instead</a>."
        if self._opened_problem:
            text = (f"<span style='color:#b3261e'>⚠ This model cannot be explained: "
                    f"{self._opened_problem}</span>{builder_link}")
        elif error:
            text = f"<span style='color:#b3261e'>⚠ {error}</span>"
        elif busy:
            text = busy
        elif self.session.image is None:
            text = "Choose an input on the left to see what each layer does with it."
        elif not self.session.trained:
            text = ("<b>Untrained:</b> the weights are random. <a href='train'>Train it</a>, "
                    "or watch it learn here while it trains.")
        elif self.run.running:
            text = "Training: this view refreshes after every epoch."
        elif self.session.origin not in ("", "builder", "training"):
            text = (f"Explaining {self.session.description} with "
                    f"<b>{Path(self.session.origin).name}</b>.{builder_link}")
        else:
            text = f"Explaining {self.session.description}."
        self.banner.setText(text)
        self.lesson.set_random_weights(not self.session.trained)

    def _banner_link(self, link: str) -> None:
        if link == "builder":
            self.explain_builder_model()
        elif link == "train":
            self.train_requested.emit()

    # ------------------------------------------------------------------ tools

    def _update_tools(self) -> None:
        self.gif_button.setEnabled(self.views.animated)
        self.png_button.setEnabled(self.views.steps is not None)
