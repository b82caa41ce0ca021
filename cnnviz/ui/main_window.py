"""The main window: menus, file handling (New/Open/Save/Save As/Export/recent) and views."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QLabel, QMainWindow, QMenu, QMessageBox, QTabWidget, QVBoxLayout, QWidget,
)

from cnnviz import __version__
from cnnviz.core.errors import CnnvizError
from cnnviz.core.presets import preset_spec
from cnnviz.core.spec import ModelSpec, load_spec, save_spec, save_text_atomically
from cnnviz.ui import dialogs
from cnnviz.ui.builder_panel import BuilderPanel
from cnnviz.ui.model_tab import MODEL_FILTER, ModelTab
from cnnviz.ui.spec_document import SpecDocument
from cnnviz.ui.training_panel import TrainingPanel

DEFAULT_PRESET = "mnist_cnn"
MAX_RECENT = 8


def settings() -> QSettings:
    """The app's settings; tests use their own scope so they never touch the user's."""
    return QSettings("cnnviz", os.environ.get("CNNVIZ_SETTINGS_SCOPE", "cnnviz"))


class MainWindow(QMainWindow):
    """One document (a model spec) and the views on it."""

    def __init__(self) -> None:
        super().__init__()
        self.document = SpecDocument(preset_spec(DEFAULT_PRESET))
        self.builder = BuilderPanel(self.document)
        self.training = TrainingPanel(self.document)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.builder, "1  Build")
        self.tabs.addTab(self.training, "2  Train")
        # The explainer is built on its first visit: its widgets are not needed to start up.
        self.explain: Any = None  # ExplainPanel
        self._explain_host = QWidget()
        QVBoxLayout(self._explain_host).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._explain_host, "3  Explain")
        self.models = ModelTab(self.training)
        self.tabs.addTab(self.models, "4  Inspect")
        self.models.model_opened.connect(self._model_opened)
        self.models.explain_requested.connect(self.explain_opened_model)
        self.models.fine_tune_requested.connect(self.fine_tune_opened_model)
        self.models.edit_copy_requested.connect(self.edit_copy_of_opened_model)
        self.models.layer_activated.connect(self.explain_opened_layer)
        self.models.example_clicked.connect(self.explain_example)
        self.setAcceptDrops(True)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.setCentralWidget(self.tabs)
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
        file_menu.addSeparator()
        a["quit"] = self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
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
        for key, shortcut in (("duplicate", "Ctrl+D"), ("delete", "Del"),
                              ("move_up", "Alt+Up"), ("move_down", "Alt+Down")):
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

        train_menu = bar.addMenu("&Train")
        training = self.training
        a["train_start"] = self._action(train_menu, "&Start / Train More", self._start_training, "F5")
        a["train_pause"] = self._action(train_menu, "&Pause / Resume", training.toggle_pause, "F6")
        a["train_stop"] = self._action(train_menu, "S&top", training.stop, "Shift+F5")
        train_menu.addSeparator()
        a["train_save"] = self._action(train_menu, "Save Trained &Model…", training.save_model_dialog,
                                       "Ctrl+Shift+M")
        a["train_csv"] = self._action(train_menu, "Export &History (CSV)…",
                                      training.export_history_dialog)
        a["train_charts"] = self._action(train_menu, "Save &Charts…", training.save_charts_dialog)

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
            self.tabs.setCurrentWidget(self.models)
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
        path = dialogs.get_save_path(self, "Save model spec", suggested, dialogs.SPEC_FILTER)
        if not path:
            return False
        if not Path(path).suffix:
            path += ".json"
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
        from cnnviz.core.builder import export_python  # string building only, no TensorFlow

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
        QMessageBox.information(self, "Keyboard shortcuts", (
            "<table cellpadding=3>"
            "<tr><td><b>Ctrl+Z</b> / <b>Ctrl+Shift+Z</b></td><td>Undo / redo</td></tr>"
            "<tr><td><b>Enter</b> in the palette</td><td>Add that layer below the selected one</td></tr>"
            "<tr><td><b>Delete</b></td><td>Delete the selected layer</td></tr>"
            "<tr><td><b>Ctrl+D</b></td><td>Duplicate the selected layer</td></tr>"
            "<tr><td><b>Alt+Up</b> / <b>Alt+Down</b></td><td>Move the selected layer</td></tr>"
            "<tr><td><b>Ctrl+N / O / S</b></td><td>New / open / save spec</td></tr>"
            "<tr><td><b>Ctrl+Shift+S</b></td><td>Save as</td></tr>"
            "<tr><td><b>Ctrl+E</b></td><td>Export Python code</td></tr>"
            "<tr><td><b>Ctrl+1</b> / <b>Ctrl+2</b> / <b>Ctrl+3</b></td>"
            "<td>Build / Train / Explain view</td></tr>"
            "<tr><td><b>Space</b>, <b>Left</b> / <b>Right</b>, <b>Home</b> / <b>End</b></td>"
            "<td>Explain: play or pause, step back / forward, first / last step</td></tr>"
            "<tr><td><b>Ctrl+Left</b> / <b>Ctrl+Right</b></td><td>Explain: previous / next layer</td></tr>"
            "<tr><td><b>PageUp</b> / <b>PageDown</b></td><td>Explain: previous / next image</td></tr>"
            "<tr><td><b>F2</b></td><td>Explain: show or hide the words about the layer</td></tr>"
            "<tr><td><b>F5</b></td><td>Start training (or train more)</td></tr>"
            "<tr><td><b>F6</b></td><td>Pause / resume training</td></tr>"
            "<tr><td><b>Shift+F5</b></td><td>Stop training (weights kept)</td></tr>"
            "</table>"))

    def _show_about(self) -> None:
        QMessageBox.about(self, "About cnnviz", (
            f"<b>cnnviz {__version__}</b><br>Build, train, explain and inspect convolutional "
            "neural networks on your own data."))

    # ------------------------------------------------------------------ closing

    def _start_training(self) -> None:
        self.tabs.setCurrentWidget(self.training)
        self.training.start()

    # ------------------------------------------------------------------ opened models

    def _model_opened(self, opened: Any, info: Any) -> None:
        self._remember_recent(Path(opened.path).resolve())
        self.statusBar().showMessage(f"Opened {Path(opened.path).name}", 4000)
        if self.explain is not None:
            self.explain.offer_opened_model(opened, info)

    def explain_opened_model(self) -> None:
        if self.models.opened is None:
            return
        explain = self.ensure_explain()
        explain.use_opened_model(self.models.opened, self.models.info)
        self.tabs.setCurrentIndex(2)

    def explain_opened_layer(self, name: str) -> None:
        """A layer double-clicked in the Inspect view: explain the opened model at that layer."""
        if self.models.opened is None or self.models.info.explain_problem:
            return
        self.explain_opened_model()
        self.explain.select_layer_named(name)

    def explain_example(self, dataset: Any, split: str, index: int) -> None:
        """An image clicked in the evaluation: explain the opened model on it."""
        if dataset is None or self.models.opened is None or self.models.info.explain_problem:
            return
        from cnnviz.core.input_images import dataset_input

        image, label = dataset_input(dataset, split, index)
        self.explain_opened_model()
        self.explain.show_input(image, f"{split} image {index + 1} of {dataset.name}", label)

    def fine_tune_opened_model(self) -> None:
        opened = self.models.opened
        if opened is None:
            return
        if self.training.running:
            dialogs.show_error(self, "Training is running", "Stop the current training first.")
            return
        self.training.use_opened_model(opened.model, Path(opened.path).name)
        self.tabs.setCurrentWidget(self.training)

    def edit_copy_of_opened_model(self) -> None:
        """Put an editable copy of the opened (Sequential-style) model into the builder."""
        opened = self.models.opened
        if opened is None or not self._confirm_discard():
            return
        from cnnviz.core.spec_from_keras import model_to_spec

        try:
            spec = model_to_spec(opened.model)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot edit this model", str(exc))
            return
        self.document.reset(spec, None)
        self.tabs.setCurrentIndex(0)
        self.statusBar().showMessage(f"A copy of {Path(opened.path).name} is in the builder "
                                     "(its layers only: the weights stay with the file)", 6000)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if _dropped_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = _dropped_paths(event)
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    def preload_tensorflow(self) -> None:
        """Import TensorFlow and Keras in the background once the window is up, so the first
        model opened, trained or explained does not wait ~3 s for the import."""
        from cnnviz.ui.workers import BackgroundTask

        def load(_report) -> None:
            import keras  # noqa: F401 - the import is the work
            import tensorflow  # noqa: F401

        self._preload = BackgroundTask(load, self)
        self._preload.start()

    def ensure_explain(self) -> Any:
        """The Explain view (ExplainPanel), made on first use: its imports cost start-up time."""
        if self.explain is None:
            from cnnviz.ui.explain_panel import ExplainPanel

            self.explain = ExplainPanel(self.document, self.training)
            self._explain_host.layout().addWidget(self.explain)
            if self.models.opened is not None:   # explain the model the user opened
                self.explain.use_opened_model(self.models.opened, self.models.info)
        return self.explain

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self._explain_host:
            self.ensure_explain()

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
            if getattr(self, "_preload", None) is not None:
                self._preload.wait()   # an import cannot be cut short; it ends within seconds
            self.training.shutdown()
            event.accept()
        else:
            event.ignore()


OPENABLE_SUFFIXES = (".json", ".keras", ".h5", ".hdf5")


def is_model_file(path: Path) -> bool:
    """A saved Keras model (or a Keras architecture JSON) rather than a cnnviz spec."""
    suffix = path.suffix.lower()
    if suffix in (".keras", ".h5", ".hdf5"):
        return True
    if suffix == ".json" and path.is_file():
        from cnnviz.core.model_files import is_architecture_json

        return is_architecture_json(path)
    return False


def _dropped_paths(event: Any) -> list[Path]:
    """Local files with a suffix cnnviz opens, from a drag-and-drop event."""
    data = event.mimeData()
    if not data.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in OPENABLE_SUFFIXES]
