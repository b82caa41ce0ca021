"""The selected run: what it was, its notes and tags (editable), and what to do with it:
train again with its settings, open its saved model in Inspect or Explain."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

from cnnviz.core.experiments.run_store import RunRecord
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom
from cnnviz.ui.experiments.run_table import duration_text

NOTES_SAVE_DELAY_MS = 600   # notes are saved this long after the last keystroke


def tags_of(text: str) -> list[str]:
    """Tags typed in one line, separated by spaces or commas, each once."""
    return list(dict.fromkeys(t for t in text.replace(",", " ").split() if t))


class RunDetails(QGroupBox):
    """Notes, tags and actions of one run; all disabled when none (or several) is selected."""

    notes_edited = Signal(int, str)          # run id, notes
    tags_edited = Signal(int, list)          # run id, the tags it should have
    train_again_requested = Signal(int)      # run id
    open_requested = Signal(int, str)        # run id, "inspect" | "explain"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Selected run", parent)
        self.record: RunRecord | None = None
        self.summary = QLabel("Select one run in the table to see its notes and tags.")
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes: what you tried and what you saw")
        self.notes.setTabChangesFocus(True)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("tags, separated by spaces (e.g. baseline dropout)")
        self.tags.setClearButtonEnabled(True)
        self.train_again = QPushButton("Train again with these settings")
        self.train_again.setToolTip("Puts this run's model into the builder (Ctrl+Z undoes it) "
                                    "and its settings into the Train view")
        self.open_inspect = QPushButton("Open in Inspect")
        self.open_explain = QPushButton("Open in Explain")
        for button in (self.open_inspect, self.open_explain):
            button.setToolTip("Open the model this run saved")
        grid = QGridLayout()
        grid.addWidget(QLabel("Notes"), 0, 0)
        grid.addWidget(self.notes, 0, 1)
        grid.addWidget(QLabel("Tags"), 1, 0)
        grid.addWidget(self.tags, 1, 1)
        grid.setColumnStretch(1, 1)
        # Two rows, so a narrow panel at a large zoom never cuts a button's text.
        first_row, second_row = QHBoxLayout(), QHBoxLayout()
        first_row.addWidget(self.train_again)
        first_row.addStretch(1)
        second_row.addWidget(self.open_inspect)
        second_row.addWidget(self.open_explain)
        second_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(grid)
        layout.addLayout(first_row)
        layout.addLayout(second_row)
        layout.addStretch(1)
        self._notes_timer = QTimer(self)
        self._notes_timer.setSingleShot(True)
        self._notes_timer.setInterval(NOTES_SAVE_DELAY_MS)
        self._notes_timer.timeout.connect(self.save_notes)
        self.notes.textChanged.connect(self._notes_typed)
        self.tags.editingFinished.connect(self._tags_done)
        self.train_again.clicked.connect(lambda: self._emit_for(self.train_again_requested))
        self.open_inspect.clicked.connect(lambda: self._open("inspect"))
        self.open_explain.clicked.connect(lambda: self._open("explain"))
        self._loading = False
        watch_zoom(self._fit)
        self._fit()
        self.show_run(None)

    def _fit(self) -> None:
        self.notes.setMinimumHeight(scaled(48))
        self.notes.setMaximumHeight(scaled(80))
        set_relative_font(self.summary)

    def show_run(self, record: RunRecord | None, several: int = 0) -> None:
        """Show this run (None: nothing or `several` runs selected)."""
        self.save_notes()     # what was typed for the previous run is not lost
        self.record = record
        self._loading = True
        self.notes.setPlainText(record.notes if record else "")
        self.tags.setText(" ".join(record.tags) if record else "")
        self._loading = False
        for widget in (self.notes, self.tags, self.train_again):
            widget.setEnabled(record is not None)
        has_model = bool(record and record.model_path and Path(record.model_path).exists())
        self.open_inspect.setEnabled(has_model)
        self.open_explain.setEnabled(has_model)
        no_model = ("This run saved no model." if record and not record.model_path else
                    f"Its saved model {record.model_path} is no longer there."
                    if record and not has_model else "")
        for button in (self.open_inspect, self.open_explain):
            button.setToolTip(no_model or "Open the model this run saved")
        if record is None:
            self.summary.setText(f"{several} runs selected: their curves are compared above. "
                                 "Select one to see its notes and tags." if several else
                                 "Select one run in the table to see its notes and tags.")
            return
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started_at))
        # Short: the settings are in the table; a long summary would squeeze the notes.
        self.summary.setText(
            f"<b>#{record.id} {record.name}</b> · {record.status} · "
            f"{duration_text(record.duration)}<br>{record.model_name}, "
            f"{record.param_count:,} parameters · {record.data_source}, "
            f"{record.train_count:,} training images")
        self.summary.setToolTip(f"Started {started}")

    def _notes_typed(self) -> None:
        if not self._loading:
            self._notes_timer.start()

    def save_notes(self) -> None:
        """Save the notes now (they are also saved shortly after typing stops)."""
        self._notes_timer.stop()
        if self.record is not None and self.notes.toPlainText() != self.record.notes:
            self.record.notes = self.notes.toPlainText()
            self.notes_edited.emit(self.record.id, self.record.notes)

    def _tags_done(self) -> None:
        if self.record is None:
            return
        wanted = tags_of(self.tags.text())
        if wanted != self.record.tags:
            self.record.tags = wanted
            self.tags_edited.emit(self.record.id, wanted)

    def _emit_for(self, signal: Signal) -> None:
        if self.record is not None:
            self.save_notes()
            signal.emit(self.record.id)  # type: ignore[attr-defined]

    def _open(self, where: str) -> None:
        if self.record is not None:
            self.open_requested.emit(self.record.id, where)
