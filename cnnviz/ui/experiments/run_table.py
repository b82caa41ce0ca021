"""The table of recorded runs: a Qt model over the run store's records, and a filter that
keeps the runs whose name, model, data source, tags or sweep contain the typed text.

Every cell's text and sort key is worked out once when the records arrive, so sorting and
filtering 1,000 runs as the user types never touches the database or formats a number.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor

from cnnviz.core.experiments.run_store import RunRecord

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 2
UNFINISHED_COLOUR = QColor("#b3261e")
RUNNING_COLOUR = QColor("#0b6bcb")
NO_VALUE = "—"


def _percent(value: Any) -> str:
    return NO_VALUE if not isinstance(value, (int, float)) or not math.isfinite(value) \
        else f"{100 * value:.1f}%"


def _number(value: Any) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return NO_VALUE
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _sort_key(value: Any) -> Any:
    """Numbers sort as numbers, text as lower-case text; missing values sort first."""
    if value is None:
        return -math.inf
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else -math.inf
    return str(value).lower()


@dataclass(frozen=True)
class Column:
    """One column: its key (remembered in the settings), header and what it shows."""

    key: str
    header: str
    value: Callable[[RunRecord], Any]
    text: Callable[[Any], str] = _number
    shown: bool = True        # shown until the user says otherwise
    tip: str = ""


def _status_text(record: RunRecord) -> str:
    return {"unfinished": "⚠ unfinished", "running": "● running"}.get(record.status, record.status)


FIXED_COLUMNS: tuple[Column, ...] = (
    Column("id", "ID", lambda r: r.id),
    Column("name", "Name", lambda r: r.name),
    Column("status", "Status", lambda r: r.status, tip="finished, stopped (by you or early "
           "stopping), failed, running, or unfinished (its process died before the end)"),
    Column("started", "Started", lambda r: r.started_at,
           lambda v: time.strftime("%Y-%m-%d %H:%M", time.localtime(v))),
    Column("model", "Model", lambda r: r.model_name),
    Column("parameters", "Parameters", lambda r: r.param_count, lambda v: f"{v:,}"),
    Column("data", "Data", lambda r: r.data_source),
    Column("train_count", "Training images", lambda r: r.train_count, lambda v: f"{v:,}"),
    Column("epochs_done", "Epochs", lambda r: r.epochs_done),
    Column("duration", "Time", lambda r: r.duration, duration_text),
    Column("accuracy", "Train acc.", lambda r: r.final.get("accuracy"), _percent, False),
    Column("val_accuracy", "Val. acc.", lambda r: r.final.get("val_accuracy"), _percent),
    Column("test_accuracy", "Test acc.", lambda r: r.final.get("test_accuracy"), _percent),
    Column("loss", "Train loss", lambda r: r.final.get("loss"), shown=False),
    Column("val_loss", "Val. loss", lambda r: r.final.get("val_loss"), shown=False),
    Column("test_loss", "Test loss", lambda r: r.final.get("test_loss"), shown=False),
    Column("tags", "Tags", lambda r: " ".join(r.tags)),
    Column("sweep", "Sweep", lambda r: r.sweep or "", shown=False),
    Column("notes", "Notes", lambda r: r.notes.replace("\n", " "), shown=False),
)
# Settings shown before the user picks: the ones a student compares first.
SETTINGS_SHOWN = ("optimizer", "learning_rate", "batch_size")
SETTING_HEADERS = {"optimizer": "Optimizer", "learning_rate": "Learning rate",
                   "batch_size": "Batch size", "epochs": "Epochs planned",
                   "early_stopping": "Early stopping", "seed": "Seed"}


def setting_column(name: str) -> Column:
    """The column of one training setting (learning_rate, augment_flip, ...)."""
    header = SETTING_HEADERS.get(name, name.replace("_", " ").capitalize())
    return Column(f"setting:{name}", header, lambda r: r.settings.get(name),
                  shown=name in SETTINGS_SHOWN)


def setting_names(records: list[RunRecord]) -> list[str]:
    """Every setting any of the runs has, in the order they first appear."""
    names: dict[str, None] = {}
    for record in records:
        for name in record.settings:
            names.setdefault(name, None)
    return list(names)


class RunTableModel(QAbstractTableModel):
    """The runs as rows; columns: FIXED_COLUMNS then one per setting."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.records: list[RunRecord] = []
        self.columns: list[Column] = list(FIXED_COLUMNS)
        self._cells: dict[tuple[int, int], tuple[str, Any]] = {}
        self.haystacks: list[str] = []     # what the filter searches, lower case, per row

    def set_records(self, records: list[RunRecord]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.columns = list(FIXED_COLUMNS) + [setting_column(n) for n in setting_names(records)]
        # Cells are worked out when first shown or sorted by (1,000 runs × 25 columns
        # formatted up front would cost a tenth of a second at every load).
        self._cells = {}
        self.haystacks = [" ".join((record.name, record.model_name, record.data_source,
                                    " ".join(record.tags), record.sweep or "",
                                    str(record.id))).lower() for record in records]
        self.endResetModel()

    def _cell(self, row: int, column: int) -> tuple[str, Any]:
        cell = self._cells.get((row, column))
        if cell is None:
            record, spec = self.records[row], self.columns[column]
            value = spec.value(record)
            if spec.key == "status":
                text = _status_text(record)
            else:
                text = NO_VALUE if value is None else spec.text(value)
            cell = self._cells[(row, column)] = (text, _sort_key(value))
        return cell

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, column)[0]
        if role == SORT_ROLE:
            return self._cell(row, column)[1]
        if role == RUN_ID_ROLE:
            return self.records[row].id
        status = self.records[row].status
        if role == Qt.ItemDataRole.ForegroundRole and self.columns[column].key == "status":
            if status == "unfinished" or status == "failed":
                return UNFINISHED_COLOUR
            if status == "running":
                return RUNNING_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole and self.columns[column].key == "status" \
                and status == "unfinished":
            return "Its process ended before the run did (closed, killed or crashed)."
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(self._cell(row, column)[1], float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].header
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].tip or None
        return None

    def column_of(self, key: str) -> int:
        """The column index of a key; -1 when there is none."""
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        return -1


class RunFilter(QSortFilterProxyModel):
    """Keeps the rows whose name, model, data, tags, sweep or id contain every typed word;
    sorts by each cell's sort key (numbers as numbers)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        words = text.lower().split()
        if words != self._words:
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int,  # noqa: N802
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._words:
            return True
        model = self.sourceModel()
        haystack = model.haystacks[source_row] if isinstance(model, RunTableModel) else ""
        return all(word in haystack for word in self._words)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if type(a) is not type(b):   # a number against a word (a missing value): numbers first
            return isinstance(a, float)
        return bool(a < b)
