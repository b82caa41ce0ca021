"""The Train view: data, settings, Start/Pause/Stop, progress, live charts, and saving.

The model trained here is built from the builder's spec (or opened from a file). Training
runs in a TrainingWorker; this panel only turns its signals into pixels and clicks into
calls, and writes the data and the run into the workspace, where the other views see them.
Checking the model against the data is FitCheck (training_fit.py), saving is
TrainingExporter (training_outputs.py).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSizePolicy, QSplitter, QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.model.spec import ModelSpec
from cnnviz.core.formatting import format_duration
from cnnviz.core.training.history import ThroughputClock, TrainingHistory
from cnnviz.ui.common import dialogs
from cnnviz.ui.train.dataset_chooser import DatasetChooser, LoadedData
from cnnviz.ui.train.dataset_preview import DatasetPreview
from cnnviz.ui.train.training_fit import FitCheck, MismatchBanner, model_input_shape
from cnnviz.ui.train.training_outputs import TrainingExporter
from cnnviz.ui.train.training_settings import TrainingSettings
from cnnviz.ui.common.workers import TrainingOutcome, TrainingWorker
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom
from cnnviz.workspace import Workspace
from cnnviz.ui.common.zoom import mark_side_panel


class MinimumFirstLayout(QVBoxLayout):
    """A column that tells its scroll area to scroll only below its minimum height.

    Its wrapped labels make it height-for-width, and a scroll area then keeps it at its
    preferred height, scrolling as soon as the samples are shown at full size; this way the
    samples and charts shrink first and the column scrolls only when they cannot."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return False


class FittingProgressBar(QProgressBar):
    """A progress bar whose text is the longest of its candidate texts that fits the bar,
    so it is never cut off, however narrow the window or large the zoom (the whole story
    is in the line under the bar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: tuple[str, ...] = ("",)

    def set_texts(self, *texts: str) -> None:
        """Show the first of `texts` (longest first) that fits, or none."""
        self._texts = texts or ("",)
        self._fit()

    def text_fits(self) -> bool:
        """The shown text is drawn whole inside the bar."""
        return self.fontMetrics().horizontalAdvance(self.format()) <= self._room()

    def _room(self) -> int:
        return self.contentsRect().width() - 8

    def _fit(self) -> None:
        metrics, room = self.fontMetrics(), self._room()
        chosen = next((t for t in self._texts if metrics.horizontalAdvance(t) <= room), "")
        if chosen != self.format():
            self.setFormat(chosen)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        self._fit()   # a font change (the zoom) changes what fits


class TrainingPanel(QWidget):
    """Trains the workspace's model on the chosen data, live."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = workspace.document
        self.data_choice = workspace.data
        self.run = workspace.run            # the model, its history, who watches the run
        self.run.history = TrainingHistory()
        self.model_spec: ModelSpec | None = None  # the spec the run's model was built from
        self.worker: TrainingWorker | None = None
        self.last_outcome: TrainingOutcome | None = None
        self.recorder: Any = None   # the run store's record of the latest run (core.experiments)
        self.record_problem: str | None = None   # why the latest run is not recorded
        self._clock = ThroughputClock()
        self._run_first_epoch = 0
        self._run_epochs = 0
        self._run_batch_size = 1
        self._threads: set[Any] = set()  # every thread started here that has not yet ended
        # Measure test accuracy after each run (the benchmark turns it off to time training alone).
        self.evaluate_after_training = True
        # A model opened from a file (fine-tuning) instead of the builder's spec; None = builder.
        self.opened_model: Any = None
        self.opened_name = ""

        self.chooser = DatasetChooser()
        self.settings = TrainingSettings()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.chooser)
        left_layout.addWidget(self.settings)
        left_layout.addStretch(1)
        left_scroll = QScrollArea()
        mark_side_panel(left_scroll)
        left_scroll.setWidget(left)
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._left, self._left_scroll = left, left_scroll

        self.preview = DatasetPreview()
        self.banner = MismatchBanner()
        self.fit = FitCheck(self.document, self.banner)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("New weights")
        self.start_button.setToolTip("Train the model in the builder on this data (F5)")
        self.pause_button.setToolTip("Pause between two batches; press again to go on (F6)")
        self.stop_button.setToolTip("Stop after the current batch; the weights learnt so far are kept (Shift+F5)")
        self.reset_button.setToolTip("Forget the trained weights and history; the next Start begins "
                                     "from random weights")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.reset_button.clicked.connect(self.reset_training)
        self.progress = FittingProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.set_texts("Ready")
        self.progress.setMinimumWidth(120)
        # The whole progress line (epoch, batch, speed, time left), wrapped, never clipped.
        self.progress_text = QLabel()
        self.progress_text.setWordWrap(True)
        self.progress_text.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)
        controls = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            controls.addWidget(button)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.reset_button)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        self._charts_host = QVBoxLayout()
        self.charts: Any = None  # TrainingCharts, made on first show (imports matplotlib)
        self.save_model_button = QPushButton("Save model…")
        self.export_csv_button = QPushButton("Export history (CSV)…")
        self.save_charts_button = QPushButton("Save charts…")
        self.outputs = TrainingExporter(self, self.document, self.run, self.ensure_charts,
                                        self._say, self._track, self._update_state)
        self.outputs.model_saved = self._model_saved
        self.save_model_button.clicked.connect(self.outputs.save_model_dialog)
        self.export_csv_button.clicked.connect(self.outputs.export_history_dialog)
        self.save_charts_button.clicked.connect(self.outputs.save_charts_dialog)
        after = QHBoxLayout()
        after.addWidget(self.save_model_button)
        after.addWidget(self.export_csv_button)
        after.addWidget(self.save_charts_button)
        after.addStretch(1)

        right = QWidget()
        right_layout = MinimumFirstLayout(right)
        right_layout.setContentsMargins(6, 6, 6, 6)
        self.samples_title = samples_title = QLabel("Sample images")
        set_relative_font(samples_title, 1.0, bold=True)
        right_layout.addWidget(samples_title)
        right_layout.addWidget(self.preview)
        right_layout.addWidget(self.banner)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.progress_text)
        right_layout.addWidget(self.status)
        right_layout.addLayout(self._charts_host, 1)
        right_layout.addLayout(after)

        # When the zoom makes the view taller than the window, it scrolls instead of clipping.
        right_scroll = QScrollArea()
        right_scroll.setWidget(right)
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._right = right
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_scroll)
        splitter.addWidget(right_scroll)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # The chooser loads; the workspace holds what it loaded for every view.
        self.chooser.loaded.connect(self.data_choice.set_loaded)
        self.chooser.cleared.connect(self.data_choice.clear)
        self.chooser.busy_changed.connect(self.data_choice.set_busy)
        self.data_choice.changed.connect(self._data_changed)
        self.data_choice.source_requested.connect(self._source_requested)
        self.document.changed.connect(self._spec_changed)
        self._update_state()
        self._fit_to_zoom()
        watch_zoom(self._fit_to_zoom)

    def _fit_to_zoom(self) -> None:
        """Sizes that hold text follow the zoom: the settings column, the charts' room."""
        # The settings column as wide as its contents, but never more than ~40% of the view:
        # past that it scrolls sideways rather than squeezing the charts off the screen.
        wanted = self._left.sizeHint().width() + 16
        self._left_scroll.setMinimumWidth(min(wanted, max(scaled(240), int(self.width() * 0.4))))
        # At least a line each, so their first words while training do not move the charts.
        for label in (self.status, self.progress_text):
            label.setMinimumHeight(label.fontMetrics().lineSpacing())
        self._right.setMinimumHeight(0)

    # ------------------------------------------------------------------ showing

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_to_zoom()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:   # the zoom reached the settings' fonts
            self._fit_to_zoom()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.ensure_charts()
        if self.chooser.current is None and not self.chooser.busy:
            self.chooser.load()  # the first visit loads the default (bundled) sample

    def ensure_charts(self) -> Any:
        """The live charts (TrainingCharts), made on first use: they import matplotlib."""
        if self.charts is None:
            from cnnviz.ui.train.training_charts import TrainingCharts

            self.charts = TrainingCharts()
            self.charts.set_history(self.history)
            self._charts_host.addWidget(self.charts, 1)
        return self.charts

    # ------------------------------------------------------------------ state

    @property
    def data(self) -> Any:
        """The loaded data (LoadedData) from the workspace, or None."""
        return self.data_choice.loaded

    @property
    def model(self) -> Any:
        """The keras.Model being trained or last trained (the workspace's run model)."""
        return self.run.model

    @property
    def history(self) -> TrainingHistory:
        return self.run.history

    @property
    def running(self) -> bool:
        return self.worker is not None

    def _new_history(self) -> None:
        self.run.history = TrainingHistory()
        if self.charts is not None:
            self.charts.set_history(self.history)

    def _update_state(self) -> None:
        running = self.running
        model_ok = self.opened_model is not None or self.document.report.ok
        ready = self.data is not None and not self.fit.blocking() and model_ok
        self.start_button.setEnabled(ready and not running)
        self.start_button.setText("Train more" if self._can_continue() else "Start")
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(not running and (self.model is not None or bool(self.history.epochs)))
        self.pause_button.setText("Resume" if running and self.worker.paused else "Pause")
        has_model = self.model is not None and not running
        self.save_model_button.setEnabled(has_model and not self.outputs.saving)
        self.export_csv_button.setEnabled(bool(self.history.epochs) and not running)
        self.save_charts_button.setEnabled(bool(self.history.batches) and not running)
        self.settings.set_running(running)
        self.chooser.setEnabled(not running)

    def _data_changed(self, data: LoadedData | None) -> None:
        if data is None:
            self.preview.show_message("Loading…")
            self.fit.hide()
        else:
            self.preview.set_samples(data.preview_images, data.preview_labels)
            self.samples_title.setText("Sample series" if data.dataset.is_series
                                       else "Sample images")
            self.settings.set_data_kind(data.dataset.is_series)
            self._check_fit()
        self._update_state()

    def _source_requested(self, source: str | None) -> None:
        """Another view asked for data: load it here, where the user sees and can change it."""
        if source is None:
            self.chooser.load()
        else:
            self.chooser.select_source(source)

    def _check_fit(self) -> None:
        dataset = None if self.data is None else self.data.dataset
        if self.opened_model is not None:
            self.fit.check_opened_model(self.opened_model, self.opened_name, dataset)
        else:
            self.fit.check_builder_model(dataset)

    def _can_continue(self) -> bool:
        """Start trains the run's model further instead of building a new one."""
        if self.model is None or self.data is None:
            return False
        data_shape = tuple(self.data.dataset.input_shape)
        if self.opened_model is not None:
            return self.model is self.opened_model and model_input_shape(self.model) == data_shape
        return (self.model_spec == self.document.spec
                and data_shape == tuple(self.model_spec.input_shape))

    def use_opened_model(self, model: Any, name: str) -> bool:
        """Train (fine-tune) a model opened from a file instead of the builder's model."""
        if self.running:
            return False
        self.opened_model, self.opened_name = model, name
        self.run.set_model(model)
        self.model_spec, self.last_outcome = None, None
        self._new_history()
        self._say(f"Start continues training <b>{name}</b> from its saved weights "
                            "(fine-tuning). Editing the model in the builder switches back.")
        self._check_fit()
        self._update_state()
        return True

    def use_builder_model(self) -> None:
        """Back to training the builder's model (from random weights)."""
        if self.opened_model is None or self.running:
            return
        self.opened_model, self.opened_name = None, ""
        self.run.set_model(None)
        self.model_spec, self.last_outcome = None, None
        self._check_fit()
        self._update_state()

    def _spec_changed(self) -> None:
        if self.opened_model is not None and not self.running:
            name = self.opened_name
            self.use_builder_model()
            self._say(f"The builder's model changed: Start trains it from random "
                                f"weights ({name} stays open in the Inspect view).")
        if not self.running:
            self._check_fit()
            if self.model is not None and self.model_spec != self.document.spec:
                self._say("The model changed in the builder: Start trains the new "
                                    "model from random weights.")
        self._update_state()

    # ------------------------------------------------------------------ training

    def start(self) -> None:
        """Start (or continue) training in the background."""
        if self.running or self.data is None:
            return
        self._check_fit()
        if self.fit.blocking() or (self.opened_model is None and not self.document.report.ok):
            self._update_state()
            return
        try:
            config = self.settings.config()
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot start training", str(exc))
            return
        if self._can_continue():
            model, first_epoch = self.model, self.history.epochs_done
        else:
            spec = self.document.spec.copy()
            self.run.set_model(None)
            self.model_spec = spec
            self._new_history()
            model, first_epoch = None, 0

        started: list[Any] = []  # the worker, once made: make_model reports through it

        def make_model(existing=model, spec=self.model_spec):
            if existing is not None:
                return existing
            from cnnviz.core.model.builder import build_model
            return build_model(self._with_prepared_bases(spec, started[0].stage.emit))

        self._run_first_epoch, self._run_epochs = first_epoch, config.epochs
        self._run_batch_size = config.batch_size
        self._clock = ThroughputClock()
        # Parented to the panel: the QThread object must outlive its run() even after we
        # drop our reference at `finished_training` (deleteLater runs once it has ended).
        self.record_problem = self._open_recorder()
        worker = TrainingWorker(make_model, self.data.dataset, config, initial_epoch=first_epoch,
                                evaluate=self.evaluate_after_training, parent=self,
                                observer=self.run.call_observer,
                                observe_every_batches=self.run.observe_every_batches,
                                recorder=self.recorder)
        started.append(worker)
        worker.model_ready.connect(self._model_ready)
        worker.observed.connect(self._observed)
        worker.stage.connect(self._stage)
        worker.batch_reported.connect(self._batch)
        worker.epoch_ended.connect(self._epoch)
        worker.finished_training.connect(self._finished)
        worker.failed.connect(self._failed)
        self._track(worker)
        self.worker = worker
        self.run.begin()
        self.progress.setValue(0)
        self._show_progress("Starting…")
        self._say(self.record_problem or "")
        self._update_state()
        worker.start()
        if self.charts is not None:  # after the start: the redraw overlaps TensorFlow's set-up
            self.charts.set_planned_epochs(first_epoch + config.epochs)

    @staticmethod
    def _with_prepared_bases(spec: Any, say: Callable[[str], None]) -> Any:
        """In the training thread: the spec with every pre-built base's prepared file present
        (a spec from another computer, a cleared data folder), downloads reported by `say`."""
        from pathlib import Path

        from cnnviz.core.model.spec_params import PRETRAINED_BASE

        if all(layer.type != PRETRAINED_BASE or Path(str(layer.params.get("block_file", "")))
               .is_file() for layer in spec.layers):
            return spec
        from cnnviz.core.transfer.base_blocks import ensure_base_blocks

        def report(stage: str, done: int = 0, total: int = 0) -> None:
            size = f" {done / 1e6:.1f}/{total / 1e6:.1f} MB" if total > 100_000 else ""
            say(f"Preparing the pre-built base: {stage}{size}")

        say("Preparing the pre-built base…")
        return ensure_base_blocks(spec, on_progress=report)

    def _open_recorder(self) -> str | None:
        """Record the coming run in the run store (Experiments); returns why not, if the store
        cannot be opened (training goes on unrecorded)."""
        from cnnviz.core.experiments.recording import open_recorder

        if self.recorder is not None:
            self.recorder.store.close()
        name = self.opened_name if self.opened_model is not None else self.document.spec.name
        spec_json = (self.model_spec.to_json()
                     if self.model_spec is not None and self.opened_model is None else None)
        self.recorder, problem = open_recorder(name or "model", self.data.source, spec_json)
        return problem

    def _model_saved(self, path: str) -> None:
        if self.recorder is not None:
            self.recorder.model_saved(path)

    def toggle_pause(self) -> None:
        if not self.running:
            return
        paused = not self.worker.paused
        self.worker.set_paused(paused)
        self.run.set_paused(paused)
        if paused:
            self._show_progress("Paused", self.progress_text.text().split(" · paused")[0]
                                + " · paused")
        else:
            self._clock.skip_gap()
        self._update_state()

    def stop(self) -> None:
        if self.running:
            self.worker.request_stop()
            self._show_progress("Stopping…", "Stopping after this batch…")
            self.pause_button.setEnabled(False)
            self.stop_button.setEnabled(False)

    def reset_training(self) -> None:
        if self.running:
            return
        self.opened_model, self.opened_name = None, ""   # new weights: the builder's model
        self.run.set_model(None)
        self.model_spec, self.last_outcome = None, None
        self._new_history()
        self.progress.setValue(0)
        self._show_progress("Ready", "")
        self._say("Weights forgotten: the next Start begins from random weights.")
        self._update_state()

    def _track(self, thread: Any) -> None:
        """Keep a thread until it has really ended (its last signal comes a moment before)."""
        self._threads.add(thread)
        thread.finished.connect(lambda: self._threads.discard(thread))
        thread.finished.connect(thread.deleteLater)

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Stop training, loading and saving, and wait for their threads (the window is closing).

        A QThread destroyed while it runs takes the whole app down, so none may outlive us.
        """
        worker = self.worker
        if worker is not None:
            worker.request_stop()
            worker.wait(wait_ms)
        self.chooser.shutdown()
        for thread in list(self._threads):
            thread.wait()  # never cut a model file short, nor a thread's last moments
        self._threads.clear()

    def _say(self, text: str) -> None:
        """A line of status text under the progress (hidden when empty: no blank gap, except
        while training, when a label appearing would resize the charts: a full redraw)."""
        self.status.setText(text)
        self.status.setVisible(bool(text) or self.running)

    def _show_progress(self, text: str, detail: str | None = None, *shorter: str) -> None:
        """`text` in the bar (or the first of `shorter` that fits), `detail` in the wrapped
        line under it (when not given: `text` itself, if the bar cannot show it whole)."""
        first_word = text.split(" ")[0].rstrip("…") + "…"
        self.progress.set_texts(text, *shorter, *(() if shorter else (first_word,)))
        if detail is None:
            detail = text if self.progress.format() != text else ""
        self.progress_text.setText(detail)
        self.progress_text.setVisible(bool(self.progress_text.text()) or self.running)

    def _model_ready(self, model: Any) -> None:
        self.run.model_ready(model)

    def _observed(self, observation: Any) -> None:
        if observation is not None:
            self.run.deliver(observation)

    def _stage(self, text: str) -> None:
        if self.running:
            self._show_progress(text)

    def _batch(self, epoch: int, batch: int, batches: int, logs: dict, reported_at: float) -> None:
        self.history.add_batch(epoch, batch, batches, logs)
        train_count = self.data.dataset.train.count if self.data else 0
        in_epoch = min(train_count, (batch + 1) * self._run_batch_size)
        done = (epoch - self._run_first_epoch) * train_count + in_epoch
        total = self._run_epochs * train_count
        self._clock.update(done, now=reported_at)
        self.progress.setValue(int(1000 * done / max(1, total)))
        last_epoch = self._run_first_epoch + self._run_epochs
        paused = self.worker is not None and self.worker.paused
        percent = f"{100 * done / max(1, total):.0f}%"
        short = f"Epoch {epoch + 1}/{last_epoch}"
        self._show_progress(
            "Paused" if paused else f"{short} · {percent}",
            f"Epoch {epoch + 1} of {last_epoch} · batch {batch + 1} of {batches} · "
            f"{self._clock.samples_per_second:,.0f} images/s · "
            f"{format_duration(self._clock.seconds_left(total))} left"
            + (" · paused" if paused else ""),
            *(() if paused else (short, percent)))
        if self.charts is not None:
            self.charts.refresh()

    def _epoch(self, epoch: int, logs: dict) -> None:
        self.history.add_epoch(logs)
        parts = [f"Epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f}"]
        if "accuracy" in logs:
            parts.append(f"accuracy {logs['accuracy']:.1%}")
        if "val_accuracy" in logs:
            parts.append(f"validation accuracy {logs['val_accuracy']:.1%}")
        self._say(" · ".join(parts))
        if self.charts is not None:
            self.charts.refresh()

    def _finished(self, outcome: TrainingOutcome) -> None:
        self.worker = None
        self.last_outcome = outcome
        result = outcome.result
        lines = []
        if result.stop_reason:
            lines.append(f"Training ended early: {result.stop_reason}.")
        else:
            lines.append(f"Training finished after {self.history.epochs_done} epoch(s).")
        if self.recorder is not None and outcome.test_metrics:
            self.recorder.test_measured(outcome.test_metrics)
        problem = self.recorder.problem if self.recorder is not None else self.record_problem
        if problem:
            lines.append(problem)
        if outcome.test_metrics:
            lines.append(f"<b>Test accuracy {outcome.test_metrics['accuracy']:.2%}</b> "
                         f"(loss {outcome.test_metrics['loss']:.4f}) on "
                         f"{self.data.dataset.test.count:,} test images it never trained on.")
        self._say(" ".join(lines))
        self.progress.setValue(1000 if not result.stopped else self.progress.value())
        self._show_progress("Stopped" if result.stopped else "Done",
                            (result.stop_reason[:1].upper() + result.stop_reason[1:] + "."
                             if result.stop_reason else ""))
        if self.charts is not None:
            self.charts.refresh()  # the last points appear at the next tick, cheaply
        self.run.end(outcome.model)   # the other views see the trained model
        self._update_state()

    def _failed(self, message: str, details: str) -> None:
        self.worker = None
        self.run.end(None)
        self._show_progress("Failed", "")
        self._say(f"<span style='color:#b3261e'>{message}</span>")
        self._update_state()
        dialogs.show_failure(self, "Training failed", message, details)
