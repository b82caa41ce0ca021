"""The Transfer page's base chooser: Keras's pre-built networks (with where their ImageNet
weights are, a Download with progress and Cancel, or random weights), the sample models, the
model opened in the Inspect view, and any model file. Opening runs in the background; the
opened core `Base` comes out of `opened`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
    QSpinBox, QVBoxLayout, QWidget,
)

from cnnviz.ui.common import dialogs
from cnnviz.ui.common.pretrained_bases import (  # noqa: F401 - used by the page's tests
    APPLICATION_PARAMETERS, breakable, error_text, show_download_progress, weights_status,
)
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.workspace import Workspace

SAMPLE_MODELS_DIR = Path(__file__).resolve().parents[3] / "sample_models"
MODEL_FILE_FILTER = "Keras models (*.keras *.h5 *.hdf5 *.json);;All files (*)"
APPLICATION, FILE = "application", "file"


class BaseChooser(QGroupBox):
    """Pick and open a base. `opened(Base)` once one is open; `busy_changed(bool)`.

    fetch: the core's download hook (tests pass an offline one; None: Keras's download).
    """

    opened = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, workspace: Workspace, fetch: Callable[..., Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("1. Base network", parent)
        self._workspace = workspace
        self._fetch = fetch
        self._request = NewestRequest(self)
        self._request.busy_changed.connect(self._busy)
        self.base: Any = None
        # What the open base is: (application name or file path, weights, size), so the
        # page can prepare the same base for the builder.
        self.opened_choice: tuple[str, str, int] | None = None

        from cnnviz.core.transfer.bases import APPLICATIONS

        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setMinimumHeight(120)
        for app in APPLICATIONS.values():
            item = QListWidgetItem(f"{app.title} · {APPLICATION_PARAMETERS[app.name] / 1e6:.1f} M "
                                   f"parameters")
            item.setData(Qt.ItemDataRole.UserRole, (APPLICATION, app.name))
            self.list.addItem(item)
        for path in sorted(SAMPLE_MODELS_DIR.glob("*.keras")):
            self._add_file(path, f"Sample: {path.name}")
        self._opened_item: QListWidgetItem | None = None
        self.list.currentItemChanged.connect(lambda *_: self._describe())

        self.file_button = QPushButton("Model file…")
        self.file_button.setToolTip("Use a saved model (.keras, .h5) as the base")
        self.file_button.clicked.connect(self.choose_file)
        self.size = QSpinBox()
        self.size.setRange(32, 512)
        self.size.setValue(224)
        self.size.setSuffix(" px")
        self.size.setToolTip("Pre-built networks are made at this square size; smaller is "
                             "faster (MobileNetV2 has ImageNet weights for 96 to 224)")
        self.size.valueChanged.connect(self._describe)
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Input size"))
        size_row.addWidget(self.size)
        size_row.addStretch(1)
        size_row.addWidget(self.file_button)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()

        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(lambda: self.open_selected("imagenet"))
        self.random_button = QPushButton("Use random weights")
        self.random_button.setToolTip("The same network, its weights random: for exploring "
                                      "offline (it has learnt nothing yet)")
        self.random_button.clicked.connect(lambda: self.open_selected("random"))
        buttons = QHBoxLayout()
        for button in (self.open_button, self.random_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.state = QLabel("No base open yet.")
        self.state.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(size_row)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addLayout(progress_row)
        layout.addWidget(self.problem)
        layout.addWidget(self.state)

        workspace.opened.changed.connect(self._inspect_opened)
        if workspace.opened.opened is not None:
            self._inspect_opened(workspace.opened.opened, None)
        self.list.setCurrentRow(0)

    # ------------------------------------------------------------------ the list

    def _add_file(self, path: Path, text: str, trust: bool = False) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, (FILE, str(path), trust))
        item.setToolTip(str(path))
        self.list.addItem(item)
        return item

    def _inspect_opened(self, opened: Any, _info: Any) -> None:
        if self._opened_item is not None:
            self.list.takeItem(self.list.row(self._opened_item))
            self._opened_item = None
        if opened is not None:
            path = Path(opened.path)
            self._opened_item = self._add_file(path, f"Opened in Inspect: {path.name}",
                                               bool(getattr(opened, "trusted", False)))

    def select(self, text: str) -> None:
        """Select the list entry for an application name or a file path."""
        for row in range(self.list.count()):
            entry = self.list.item(row).data(Qt.ItemDataRole.UserRole)
            if entry[1] == text or (entry[0] == FILE and Path(entry[1]) == Path(text)):
                self.list.setCurrentRow(row)
                return
        raise KeyError(text)

    def _entry(self) -> tuple[Any, ...] | None:
        item = self.list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _describe(self) -> None:
        entry = self._entry()
        if entry is None:
            return
        if entry[0] == APPLICATION:
            from cnnviz.core.transfer.bases import APPLICATIONS

            app = APPLICATIONS[entry[1]]
            cached, status = weights_status(app.name, self.size.value())
            self.details.setText(f"<b>{app.title}</b>, made at {self.size.value()}×"
                                 f"{self.size.value()} colour images, "
                                 f"{APPLICATION_PARAMETERS[app.name]:,} parameters "
                                 f"without its ImageNet classifier.<br>{breakable(status)}")
            self.open_button.setText("Open" if cached else "Download weights")
            self.open_button.setToolTip(f"Open {app.title} with its ImageNet weights" if cached
                                        else f"Download {app.title}'s ImageNet weights, then "
                                             f"open it")
            self.random_button.show()
            self.size.setEnabled(True)
        else:
            self.details.setText(f"<b>{Path(entry[1]).name}</b>: a saved model, with the "
                                 f"weights it learnt.<br>{breakable(entry[1])}")
            self.open_button.setText("Open")
            self.open_button.setToolTip("Open this model as the base")
            self.random_button.hide()
            self.size.setEnabled(False)

    def choose_file(self) -> None:
        path = dialogs.get_open_path(self, "Open a model as the base", str(Path.home()),
                                     MODEL_FILE_FILTER)
        if path:
            self.list.setCurrentItem(self._add_file(Path(path), Path(path).name))
            self.open_selected("imagenet")

    # ------------------------------------------------------------------ opening

    @property
    def busy(self) -> bool:
        return self._request.busy

    def open_selected(self, weights: str) -> None:
        """Open the selected base in the background (weights: "imagenet" or "random")."""
        entry = self._entry()
        if entry is None:
            return
        from cnnviz.core.transfer.bases import open_base

        size, fetch = self.size.value(), self._fetch
        if entry[0] == APPLICATION:
            name = entry[1]

            def work(report: Callable[[str, int, int], None]) -> Any:
                report(f"Building {name}…", 0, 0)
                return open_base(name, weights=weights, input_shape=(size, size),
                                 on_progress=report, fetch=fetch)
        else:
            path, trust = Path(entry[1]), bool(entry[2])

            def work(report: Callable[[str, int, int], None]) -> Any:
                report(f"Opening {path.name}…", 0, 0)
                return open_base(path, trust=trust)

        choice = (entry[1], weights if entry[0] == APPLICATION else "file", size)

        def succeeded(base: Any) -> None:
            self.opened_choice = choice
            self._succeeded(base)

        self.problem.hide()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Opening…")
        self._request.submit(work, succeeded, self._failed, self._progress)

    def cancel(self) -> None:
        self._request.supersede()
        self.state.setText("Cancelled." if self.base is None else self.state.text())
        self._describe()

    def shutdown(self) -> None:
        self._request.shutdown()

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        for button in (self.open_button, self.random_button, self.file_button):
            button.setEnabled(not busy)
        self.busy_changed.emit(busy)

    def _progress(self, stage: str, done: int, total: int) -> None:
        show_download_progress(self.progress, done, total)
        self.state.setText(stage)

    def _succeeded(self, base: Any) -> None:
        self.base = base
        shape = base.input_shape
        self.state.setText(f"Open: <b>{base.name}</b>, {shape[0]}×{shape[1]}×{shape[2]} "
                           f"input, {base.weights_note}."
                           + "".join(f"<br>{note}" for note in base.notes))
        self._describe()   # a download made the weights cached
        self.opened.emit(base)

    def _failed(self, message: str, _details: str) -> None:
        self.problem.setText(error_text(breakable(message)))
        self.problem.show()
        self.state.setText("No base open yet." if self.base is None else self.state.text())
        self._describe()
