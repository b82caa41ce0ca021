"""The main window: menus, file handling (New/Open/Save/Save As/Export/recent) and views.

The views share one Workspace (cnnviz/workspace.py) and never hold each other; the window
builds them, switches between them, and carries out the requests about an opened saved
model through OpenedModelActions. Presentation mode and the zoom are PresentationMode
(presentation.py); the Help dialogs are in help_dialogs.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QMainWindow, QMenu, QScrollArea, QTabWidget, QToolButton,
    QVBoxLayout, QWidget,
)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.spec import load_spec, save_spec
from cnnviz.core.atomic_save import save_text_atomically
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.cache_dialog import show_cache_dialog
from cnnviz.ui.common.undo_actions import undo_redo_actions
from cnnviz.ui.common.zoom import set_relative_font
from cnnviz.ui.build.builder_panel import BuilderPanel
from cnnviz.ui.help_dialogs import show_about, show_shortcuts
from cnnviz.ui.inspect.model_tab import MODEL_FILTER, ModelTab
from cnnviz.ui.opened_model_actions import (
    BUILD, EXPLAIN, TRAIN, OpenedModelActions, dropped_paths, is_model_file,
)
from cnnviz.ui.presentation import PresentationMode
from cnnviz.ui.train.training_panel import TrainingPanel
from cnnviz.workspace import Workspace

DEFAULT_PRESET = "mnist_cnn"
MAX_RECENT = 8
BUILD_TAB, TRAIN_TAB, EXPLAIN_TAB, INSPECT_TAB, EXPERIMENTS_TAB, PREBUILT_TAB = range(6)
WHERE_TO_BEGIN = ("<b>Where to begin:</b> <b>1 Build</b> a network (or keep the tutorial CNN) → "
                  "<b>2 Train</b> it on digits (F5) → <b>3 Explain</b>: watch each layer work "
                  "on one image.")


def settings() -> QSettings:
    """The app's settings; tests use their own scope so they never touch the user's."""
    return QSettings("cnnviz", os.environ.get("CNNVIZ_SETTINGS_SCOPE", "cnnviz"))


class MainWindow(QMainWindow):
    """One document (a model spec) and the views on it."""

    def __init__(self) -> None:
        super().__init__()
        self.workspace = Workspace(preset_spec(DEFAULT_PRESET))
        self.document = self.workspace.document
        self.builder = BuilderPanel(self.document)
        self.builder.classes_source = self._data_classes
        self.training = TrainingPanel(self.workspace)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # Each view scrolls when a zoom makes it larger than the window, instead of clipping.
        self.tabs.addTab(_scrolling(self.builder), "1  Build")
        self.tabs.addTab(_scrolling(self.training), "2  Train")
        # The explainer is built on its first visit: its widgets are not needed to start up.
        self.explain: Any = None  # ExplainPanel
        self._explain_host = QWidget()
        QVBoxLayout(self._explain_host).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(_scrolling(self._explain_host), "3  Explain")
        self.models = ModelTab(self.workspace)
        self.tabs.addTab(_scrolling(self.models), "4  Inspect")
        # The Experiments view is built on its first visit too (it reads the run store then).
        self.experiments: Any = None  # ExperimentsView
        self._experiments_host = QWidget()
        QVBoxLayout(self._experiments_host).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(_scrolling(self._experiments_host), "5  Experiments")
        # Pre-built networks (transfer learning, feature extraction), built on first visit.
        self.prebuilt: Any = None  # QTabWidget of the TransferView and the FeaturesView
        self._prebuilt_host = QWidget()
        QVBoxLayout(self._prebuilt_host).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(_scrolling(self._prebuilt_host), "6  Pre-built")
        self._views = [self.builder, self.training, self._explain_host, self.models,
                       self._experiments_host, self._prebuilt_host]
        self.opened_actions = OpenedModelActions(
            self, self.workspace, self.ensure_explain, self.training, self.show_view,
            self._confirm_discard, self._remember_recent,
            lambda text: self.statusBar().showMessage(text, 6000))
        self.setAcceptDrops(True)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.hint = _hint_bar(self._dismiss_hint)
        self.hint.setVisible(settings().value("where_to_begin_seen", "false") != "true")
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.hint)
        central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.presentation = PresentationMode(self, lambda: settings(), self._presentation_changed)
        # The Explain view records every epoch for its replay, so it exists before any run
        # starts, even if the class has not looked at it yet.
        self.workspace.run.state_changed.connect(self._run_state_changed)
        self._status = QLabel()
        self.statusBar().addPermanentWidget(self._status)
        self._build_menus()
        self.document.changed.connect(self._update_status)
        self.document.path_changed.connect(self._update_title)
        self._update_title()
        self._update_status()
        self._size_to_screen()
        self.builder.stack.select_layer(0)
        self.builder.stack.setFocus()

    # ------------------------------------------------------------------ set-up

    def _size_to_screen(self) -> None:
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen else None
        width, height = 1280, 800
        if available is not None:
            width = min(width, available.width())
            height = min(height, available.height())
        self.resize(width, height)
        self.setMinimumSize(800, 520)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                action.setShortcuts([QKeySequence(s) for s in shortcut])
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.actions: dict[str, QAction] = {}
        a = self.actions
        a["new"] = self._action(file_menu, "&New", self.new_document, QKeySequence.StandardKey.New,
                                "Start again from the tutorial MNIST CNN")
        a["open"] = self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        a["save"] = self._action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        a["save_as"] = self._action(file_menu, "Save &As…", self.save_as, "Ctrl+Shift+S")
        a["export"] = self._action(file_menu, "&Export Python Code…", self.export_code, "Ctrl+E",
                                   "Write a runnable Keras script for this model")
        a["disk_space"] = self._action(file_menu, "&Disk Space…", lambda: show_cache_dialog(self),
                                       tip="See and free the disk cnnviz's caches use")
        file_menu.addSeparator()
        a["quit"] = self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu("&Edit")
        undo, redo = undo_redo_actions(self.document, self)
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        a["undo"], a["redo"] = undo, redo
        edit_menu.addSeparator()
        stack = self.builder.stack
        # These shortcuts are also handled by the stack itself when it has focus; the menu
        # entries make them discoverable and work from anywhere but text fields.
        a["duplicate"] = self._action(edit_menu, "&Duplicate Layer", stack.duplicate_current)
        a["delete"] = self._action(edit_menu, "De&lete Layer", stack.remove_current)
        a["move_up"] = self._action(edit_menu, "Move Layer &Up", lambda: stack.move_current(-1))
        a["move_down"] = self._action(edit_menu, "Move Layer Do&wn", lambda: stack.move_current(+1))
        a["freeze"] = self._action(edit_menu, "&Freeze / Unfreeze Layers", stack.toggle_frozen)
        for key, shortcut in (("duplicate", "Ctrl+D"), ("delete", "Del"),
                              ("move_up", "Alt+Up"), ("move_down", "Alt+Down"),
                              ("freeze", "Ctrl+F")):
            a[key].setShortcut(QKeySequence(shortcut))
            a[key].setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the stack handles keys
        presets = edit_menu.addMenu("Start from &Preset")
        combo = self.builder.preset_combo
        for i in range(1, combo.count()):
            key = combo.itemData(i)
            self._action(presets, combo.itemText(i), lambda _=False, k=key: self.builder.apply_preset(k))

        view_menu = bar.addMenu("&View")
        a["view_build"] = self._action(view_menu, "&Build", lambda: self.tabs.setCurrentIndex(0),
                                       "Ctrl+1", "The model builder")
        a["view_train"] = self._action(view_menu, "&Train", lambda: self.tabs.setCurrentIndex(1),
                                       "Ctrl+2", "Train the model on a dataset")
        a["view_explain"] = self._action(view_menu, "&Explain", lambda: self.tabs.setCurrentIndex(2),
                                         "Ctrl+3", "Step through the forward pass on one input")
        a["view_inspect"] = self._action(view_menu, "&Inspect", lambda: self.tabs.setCurrentIndex(3),
                                         "Ctrl+4", "Look inside and evaluate a saved model")
        a["view_experiments"] = self._action(
            view_menu, "E&xperiments", lambda: self.tabs.setCurrentIndex(EXPERIMENTS_TAB),
            "Ctrl+5", "Compare the recorded training runs")
        a["view_prebuilt"] = self._action(
            view_menu, "Pre-&built Networks", lambda: self.tabs.setCurrentIndex(PREBUILT_TAB),
            "Ctrl+6", "Transfer learning and feature extraction with pre-built networks")
        view_menu.addSeparator()
        shown = self.presentation
        a["presentation"] = self._action(
            view_menu, "&Presentation Mode", shown.toggle, "F11",
            "Full screen, larger text, thick lines and strong colours for a projector")
        a["presentation"].setCheckable(True)
        a["leave_presentation"] = self._action(view_menu, "Leave Presentation Mode",
                                               lambda: shown.set_presentation(False), "Esc")
        a["zoom_in"] = self._action(view_menu, "Zoom &In", shown.zoom_in,
                                    ["Ctrl++", "Ctrl+="], "Larger text, numbers and lines")
        a["zoom_out"] = self._action(view_menu, "Zoom &Out", shown.zoom_out, "Ctrl+-")
        a["zoom_reset"] = self._action(view_menu, "&Actual Size", shown.reset_zoom, "Ctrl+0")
        a["side_panels"] = self._action(
            view_menu, "&Side Panels", shown.toggle_side_panels, "F9",
            "Show or fold away the panels beside the main view, to give it the room")
        a["side_panels"].setCheckable(True)
        view_menu.addSeparator()
        self._action(view_menu, "Where to &Begin", lambda: self.hint.setVisible(True))
        self._presentation_changed()

        train_menu = bar.addMenu("&Train")
        training, outputs = self.training, self.training.outputs
        a["train_start"] = self._action(train_menu, "&Start / Train More", self._start_training, "F5")
        a["train_pause"] = self._action(train_menu, "&Pause / Resume", training.toggle_pause, "F6")
        a["train_stop"] = self._action(train_menu, "S&top", training.stop, "Shift+F5")
        train_menu.addSeparator()
        a["train_save"] = self._action(train_menu, "Save Trained &Model…", outputs.save_model_dialog,
                                       "Ctrl+Shift+M")
        a["train_csv"] = self._action(train_menu, "Export &History (CSV)…",
                                      outputs.export_history_dialog)
        a["train_charts"] = self._action(train_menu, "Save &Charts…", outputs.save_charts_dialog)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard Shortcuts", self._show_shortcuts, "F1")
        self._action(help_menu, "&About cnnviz", self._show_about)

    # ------------------------------------------------------------------ status

    def _document_name(self) -> str:
        return self.document.path.name if self.document.path else "Untitled"

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self._document_name()}[*] — cnnviz")
        self.setWindowModified(self.document.modified)

    def _update_status(self) -> None:
        report = self.document.report
        message = report.error_message()
        if message:
            self._status.setText(f"<span style='color:#b3261e'>⚠ {message}</span>")
        else:
            self._status.setText(f"Builder: {len(self.document.spec.layers)} layers · "
                                 f"{report.total_params:,} parameters")
        self._status.setToolTip(message or "")
        self._update_title()

    # ------------------------------------------------------------------ files

    def _confirm_discard(self) -> bool:
        """True if the current document may be replaced (saved or discarded by the user)."""
        if not self.document.modified:
            return True
        answer = dialogs.ask_save_changes(self, self._document_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_document(self) -> None:
        if self._confirm_discard():
            self.document.reset(preset_spec(DEFAULT_PRESET), None)

    def open_dialog(self) -> None:
        folder = str(self.document.path.parent) if self.document.path else str(Path.home())
        path = dialogs.get_open_path(self, "Open a model spec or a saved model", folder,
                                     MODEL_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike[str], confirmed: bool = False) -> bool:
        """Open a spec (into the builder) or a saved model (into the Inspect view).

        A bad file gets a readable dialog and changes nothing. A model file opens in the
        background; True means it was started (or, for a spec, opened)."""
        path = Path(path)
        if is_model_file(path):
            if not path.exists():
                self._forget_recent(path)
            self.tabs.setCurrentIndex(INSPECT_TAB)
            self.models.open_file(str(path))
            return True
        if not confirmed and not self._confirm_discard():
            return False
        try:
            spec = load_spec(path)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot open this file", f"{path}\n\n{exc}")
            if not path.exists():
                self._forget_recent(path)
            return False
        self.document.reset(spec, path.resolve())
        self._remember_recent(path.resolve())
        self.statusBar().showMessage(f"Opened {path.name}", 4000)
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        suggested = str(self.document.path or Path.home() / f"{self.document.spec.name}.json")
        path = dialogs.get_save_path(self, "Save model spec", suggested, dialogs.SPEC_FILTER,
                                     ".json")
        if not path:
            return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            save_spec(self.document.spec, path)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot save", str(exc))
            return False
        self.document.mark_saved(path.resolve())
        self._remember_recent(path.resolve())
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def export_code(self) -> bool:
        from cnnviz.core.model.codegen import export_python  # string building only, no TensorFlow

        report = self.document.report
        if not report.ok:
            dialogs.show_error(self, "Cannot export yet",
                               "Fix this first:\n\n" + (report.error_message() or ""))
            return False
        base = self.document.path.with_suffix(".py") if self.document.path else \
            Path.home() / f"{self.document.spec.name}.py"
        path = dialogs.get_save_path(self, "Export Python code", str(base), dialogs.PYTHON_FILTER)
        if not path:
            return False
        try:
            save_text_atomically(path, export_python(self.document.spec))
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot export", str(exc))
            return False
        self.statusBar().showMessage(f"Exported {Path(path).name}", 4000)
        return True

    # ------------------------------------------------------------------ recent files

    def recent_files(self) -> list[str]:
        value = settings().value("recent_files", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            value = [value]
        return [str(v) for v in value or []]

    def _remember_recent(self, path: Path) -> None:
        entries = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        settings().setValue("recent_files", entries[:MAX_RECENT])

    def _forget_recent(self, path: Path) -> None:
        keep = [p for p in self.recent_files() if Path(p) != path and Path(p) != path.resolve()]
        settings().setValue("recent_files", keep)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.recent_files()
        if not entries:
            action = self.recent_menu.addAction("No recent files")
            action.setEnabled(False)
            return
        for i, entry in enumerate(entries, start=1):
            action = self.recent_menu.addAction(f"&{i} {Path(entry).name}")
            action.setToolTip(entry)
            action.setStatusTip(entry)
            action.triggered.connect(lambda _=False, p=entry: self.open_path(p))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list", lambda: settings().setValue("recent_files", []))

    # ------------------------------------------------------------------ help

    def _show_shortcuts(self) -> None:
        show_shortcuts(self)

    def _show_about(self) -> None:
        show_about(self)

    # ------------------------------------------------------------------ closing

    def _start_training(self) -> None:
        """F5: start training. From the Explain view the class stays there to watch the
        network learn; otherwise (or when training cannot start) the Train view shows."""
        watching = self.tabs.currentIndex() == EXPLAIN_TAB
        self.training.start()
        if watching and self.training.running:
            self.statusBar().showMessage("Training: this view refreshes after every epoch "
                                         "(the charts are in the Train view, Ctrl+2).", 8000)
        else:
            self.tabs.setCurrentIndex(TRAIN_TAB)

    # ------------------------------------------------------------------ presentation

    def set_presentation(self, on: bool) -> None:
        """Enter or leave presentation mode (F11; `cnnviz --presentation`)."""
        self.presentation.set_presentation(on)

    def _presentation_changed(self) -> None:
        actions = getattr(self, "actions", {})
        if "presentation" in actions:
            shown = self.presentation
            actions["presentation"].setChecked(shown.on)
            actions["leave_presentation"].setEnabled(shown.on)
            actions["side_panels"].setChecked(shown.side_panels_shown)
            percent = round(shown.zoom.factor * 100)
            actions["zoom_reset"].setText(f"&Actual Size (now {percent} %)")

    def _run_state_changed(self) -> None:
        if self.workspace.run.running and self.explain is None:
            self.ensure_explain()

    def _dismiss_hint(self) -> None:
        self.hint.hide()
        settings().setValue("where_to_begin_seen", "true")

    def current_view(self) -> QWidget:
        """The view on show: the builder, the Train, Explain or Inspect view."""
        index = self.tabs.currentIndex()
        if index == EXPLAIN_TAB:
            return self.ensure_explain()
        if index == EXPERIMENTS_TAB:
            return self.ensure_experiments()
        if index == PREBUILT_TAB:
            return self.ensure_prebuilt()
        return self._views[index]

    def preload_tensorflow(self) -> None:
        """Import TensorFlow and Keras in the background once the window is up, so the first
        model opened, trained or explained does not wait ~3 s for the import."""
        from cnnviz.ui.common.workers import BackgroundTask

        def load(_report) -> None:
            import keras  # noqa: F401 - the import is the work
            import tensorflow  # noqa: F401

        self._preload = BackgroundTask(load, self)
        self._preload.start()

    def ensure_explain(self) -> Any:
        """The Explain view (ExplainPanel), made on first use: its imports cost start-up time."""
        if self.explain is None:
            from cnnviz.ui.explain.explain_panel import ExplainPanel

            self.explain = ExplainPanel(self.workspace)
            self.explain.train_requested.connect(lambda: self.show_view(TRAIN))
            self._explain_host.layout().addWidget(self.explain)
            if not self.presentation.side_panels_shown:   # folded away before it existed
                self.presentation.set_side_panels(False)
        return self.explain

    def ensure_experiments(self) -> Any:
        """The Experiments view (ExperimentsView), made on first use."""
        if self.experiments is None:
            from cnnviz.ui.experiments.experiments_panel import ExperimentsView

            self.experiments = ExperimentsView(self.workspace, settings)
            self.experiments.train_again_requested.connect(self.train_again)
            self.experiments.open_model_requested.connect(self.open_run_model)
            self._experiments_host.layout().addWidget(self.experiments)
        return self.experiments

    def ensure_prebuilt(self) -> Any:
        """The Pre-built view (transfer learning and feature extraction), made on first use."""
        if self.prebuilt is None:
            from cnnviz.ui.transfer.transfer_view import TransferView

            self.prebuilt = QTabWidget()
            self.prebuilt.setDocumentMode(True)
            self.transfer_view = TransferView(
                self.workspace, self._train_transfer_model,
                set_learning_rate=self.training.settings.learning_rate.setValue)
            self.transfer_view.edit_in_builder.connect(self._edit_transfer_in_builder)
            self.prebuilt.addTab(self.transfer_view, "Transfer learning")
            from cnnviz.ui.transfer.features_view import FeaturesView

            self.features_view = FeaturesView(self.workspace)
            self.features_view.explain_requested.connect(self._explain_feature_example)
            self.prebuilt.addTab(self.features_view, "Features")
            self._prebuilt_host.layout().addWidget(self.prebuilt)
        return self.prebuilt

    def _explain_feature_example(self, base: Any, layer: str, example: Any) -> None:
        """"Explain this image" on the Features page, for a base other than the model opened
        in Inspect (that one the page explains itself)."""
        from cnnviz.ui.transfer.feature_jobs import APPLICATION, FILE, SAMPLE, TRAINED

        kind = base.choice.kind
        if kind in (SAMPLE, FILE):
            opened = self.workspace.opened

            def explain_once(*_args: Any) -> None:
                opened.changed.disconnect(explain_once)
                opened.request_explain(layer, example)

            opened.changed.connect(explain_once)
            self.open_path(base.choice.name)
        elif kind == TRAINED:
            from cnnviz.core.data.split_choice import split_phrase
            from cnnviz.core.data.input_images import dataset_input

            image, label = dataset_input(example.dataset, example.split, example.index)
            explain = self.ensure_explain()
            self.show_view(EXPLAIN)
            explain.show_input(image, f"Image #{example.index} of "
                                      f"{split_phrase(example.dataset, example.split)}", label)
            explain.select_layer_named(layer)
        elif kind == APPLICATION:
            self.statusBar().showMessage(
                f"{base.name} is too large to step through in the Explain view; explain a "
                f"model cnnviz builds or opens instead.", 8000)

    def _data_classes(self) -> int | None:
        """The loaded data's number of classes (a new base's head), None without data."""
        loaded = self.workspace.data.loaded
        return None if loaded is None else int(loaded.dataset.num_classes)

    def _edit_transfer_in_builder(self, spec: Any) -> None:
        """The Transfer page's model into the builder, as one undoable edit (asking before
        it replaces a stack), then the Build view."""
        if self.document.spec.layers and not dialogs.ask_to_confirm(
                self, "Replace the model?",
                "Put the transfer model into the builder in place of the current model? "
                "Ctrl+Z in the builder brings the current one back.", "Replace"):
            return
        self.document.apply(spec, "Transfer model from the Pre-built view", select=0)
        self.tabs.setCurrentIndex(BUILD_TAB)
        self.builder.stack.select_layer(0)

    def _train_transfer_model(self, model: Any, name: str) -> None:
        """The Transfer page's model into the Train view, ready for Start (F5)."""
        if self.training.use_opened_model(model, name):
            self.tabs.setCurrentIndex(TRAIN_TAB)
        else:
            dialogs.show_error(self, "Training is running", "Stop the current training first.")

    def train_again(self, record: Any) -> None:
        """A recorded run's settings (and data) into the Train view; the Experiments view has
        put its spec into the document already."""
        if self.training.running:
            dialogs.show_error(self, "Training is running", "Stop the current training first.")
            return
        self.training.settings.apply_settings(record.settings)
        data = self.training.data
        if data is None or data.source != record.data_source:
            self.workspace.data.request_source(record.data_source)
        self.tabs.setCurrentIndex(TRAIN_TAB)
        self.statusBar().showMessage(f"Run #{record.id}'s model and settings are ready: press "
                                     f"F5 to train it again.", 8000)

    def open_run_model(self, path: str, where: str) -> None:
        """Open a run's saved model in the Inspect view, then explain it if asked."""
        if where == EXPLAIN:
            opened = self.workspace.opened

            def explain_once(*_args: Any) -> None:
                opened.changed.disconnect(explain_once)
                opened.request_explain()

            opened.changed.connect(explain_once)
        self.open_path(path)

    def show_view(self, name: str) -> None:
        """Bring the Build, Train or Explain view to the front."""
        if name == EXPLAIN:
            self.ensure_explain()
        self.tabs.setCurrentIndex({BUILD: 0, TRAIN: 1, EXPLAIN: 2}[name])

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    def _tab_changed(self, index: int) -> None:
        if index == EXPLAIN_TAB:
            self.ensure_explain()
        elif index == EXPERIMENTS_TAB:
            self.ensure_experiments()
        elif index == PREBUILT_TAB:
            self.ensure_prebuilt()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.training.running and not dialogs.ask_yes_no(
                self, "Training is running",
                "Stop training and close? The weights learnt so far are lost unless you save them."):
            event.ignore()
            return
        if self._confirm_discard():
            if self.explain is not None:
                self.explain.shutdown()
            self.models.shutdown()
            self.opened_actions.shutdown()   # a base being saved for the builder
            self.builder.shutdown()
            if self.experiments is not None:
                self.experiments.shutdown()
            if self.prebuilt is not None:
                for index in range(self.prebuilt.count()):
                    self.prebuilt.widget(index).shutdown()
            if getattr(self, "_preload", None) is not None:
                self._preload.wait()   # an import cannot be cut short; it ends within seconds
            self.training.shutdown()
            event.accept()
        else:
            event.ignore()


def _scrolling(view: QWidget) -> QScrollArea:
    """`view` in a frameless scroll area that only scrolls when the view cannot fit."""
    area = QScrollArea()
    area.setWidget(view)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area


def _hint_bar(dismiss: Any) -> QFrame:
    """The one line that tells a first-time user where to begin, with a close button."""
    bar = QFrame()
    bar.setObjectName("whereToBegin")
    bar.setStyleSheet("#whereToBegin { background: #e8f0fe; border-bottom: 1px solid #c6d4f5; }")
    text = QLabel(WHERE_TO_BEGIN)
    text.setWordWrap(True)
    set_relative_font(text)   # under a style sheet a label misses the zoom's font change
    close = QToolButton()
    close.setText("Got it")
    close.setToolTip("Hide this line (View → Where to Begin shows it again)")
    close.clicked.connect(dismiss)
    set_relative_font(close)
    layout = QHBoxLayout(bar)
    layout.setContentsMargins(10, 4, 6, 4)
    layout.addWidget(text, 1)
    layout.addWidget(close)
    return bar
