"""A live `model.summary()`: one row per layer with its output shape and parameter count,
and how many of those parameters training leaves alone (a frozen layer's, batch norm's
moving statistics), as Keras counts them.

The table is refreshed on every keystroke in the editor, so `set_report` only rewrites the
texts and colours of existing items; rows are added or removed only when the stack's length
changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QStyle, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget,
)

from cnnviz.core.formatting import count_text, keras_shape, params_with_size
from cnnviz.core.model.shapes import LayerReport, StackReport

COLUMNS = ("Layer", "Type", "Output shape", "Param #", "Non-trainable")
NAME, TYPE, SHAPE, PARAMS, NON_TRAINABLE = range(5)
UNKNOWN = "—"
FROZEN_MARK = "❄ "  # before a frozen layer's name, as in the stack and the diagram

ERROR_BACKGROUND = QColor("#fdecea")
FROZEN_BACKGROUND = QColor("#e3eefb")
FROZEN_TEXT = QColor("#1a4d8f")
ERROR_TEXT = QColor("#b3261e")
UNKNOWN_TEXT = QColor("#8a8f98")
UNKNOWN_TOOLTIP = "Unknown until the error above is fixed."


def _unbreakable(text: str) -> str:
    """`text` with no-break spaces: a narrow label wraps between the totals, never inside one
    (no "Non-trainable: 0 (0.00" with "B)" alone on the next line)."""
    # A word joiner after a hyphen keeps "Non-trainable" whole as well.
    return text.replace(" ", "\u00a0").replace("-", "-\u2060")


def totals_text(report: StackReport) -> str:
    """The footer line under the table, like the three total lines of `model.summary()`.

    Each total is unbreakable; the line may wrap only after a "·" between two of them.
    """
    if not report.ok:
        # Keras could not build this model, so partial totals would mislead.
        items = [f"Total params: {UNKNOWN}", f"Trainable: {UNKNOWN}",
                 f"Non-trainable: {UNKNOWN}", "(fix the marked row first)"]
        return "\u00a0· ".join(_unbreakable(item) for item in items[:3]) + " " + items[3]
    items = [f"Total params: {params_with_size(report.total_params)}",
             f"Trainable: {params_with_size(report.trainable_params)}",
             f"Non-trainable: {params_with_size(report.non_trainable_params)}"]
    return "\u00a0· ".join(_unbreakable(item) for item in items)


def name_text(layer: LayerReport) -> str:
    """A layer's name as the table shows it: "❄ conv2d" when it is frozen."""
    return FROZEN_MARK + layer.name if layer.frozen else layer.name


def counts_tooltip(layer: LayerReport) -> str:
    """What a layer's parameter counts mean: which are trained, which are not and why."""
    if layer.frozen:
        return (f"Frozen: its {count_text(layer.params)} parameters are not trained "
                f"(trainable=False).") if layer.params else "Frozen (it has no parameters)."
    if layer.non_trainable:
        return (f"{count_text(layer.trainable)} trainable, {count_text(layer.non_trainable)} "
                f"non-trainable (the moving mean and variance are tracked, not trained).")
    return ""


class SummaryTable(QWidget):
    """A read-only table of the stack (Input row first) with a totals line below it.

    Signals:
        layer_activated(int): the user clicked (or moved the keyboard cursor to) a layer row;
            the argument is the 0-based index in the stack. The Input row emits nothing.
    """

    layer_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: StackReport | None = None
        self._programmatic = False  # True while we move the selection ourselves
        self._row_changed_by_cursor: int | None = None
        # Our own references to the items, so a refresh never asks Qt for them.
        self._items: list[list[QTableWidgetItem]] = []
        self._row_styles: list[tuple[str, str]] = []  # (state, tooltip) last written per row

        self._table = QTableWidget(0, len(COLUMNS), self)
        self._table.setHorizontalHeaderLabels(COLUMNS)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.setAlternatingRowColors(True)
        self._table.setWordWrap(False)
        self._table.verticalHeader().setVisible(False)
        self._size_rows()
        header = self._table.horizontalHeader()
        # Not ResizeToContents: that re-measures every row after each changed cell, which is
        # slow for long stacks. _fit_columns measures the new texts once per refresh instead.
        # The numbers are always whole. A table too narrow for every column (a projector, a
        # large zoom) first drops an all-zero Non-trainable column (the totals line still says
        # 0), then the Type column (the stack above shows each type, and Keras names layers
        # after their types); then it cuts the names in the middle ("global_av…pooling2d")
        # down to a readable minimum; only then does it scroll.
        for column in (NAME, TYPE, SHAPE, PARAMS, NON_TRAINABLE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(False)
        self._table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self._needed = dict.fromkeys(range(len(COLUMNS)), 0)  # each column's width, whole
        self._all_trainable = True  # every row's Non-trainable count is 0 (or unknown)
        self._table.viewport().installEventFilter(self)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in (PARAMS, NON_TRAINABLE):
            self._table.horizontalHeaderItem(column).setTextAlignment(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._table.horizontalHeaderItem(NON_TRAINABLE).setToolTip(
            "Parameters training leaves alone: all of a frozen layer's (❄), and batch "
            "normalisation's moving mean and variance.")

        self._totals = QLabel(self)
        self._totals.setWordWrap(True)
        self._totals.setContentsMargins(4, 2, 4, 2)
        self._totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._totals)

        style = self.style()
        self._error_icon: QIcon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        self._warning_icon: QIcon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)

        self._table.currentCellChanged.connect(self._on_current_cell_changed)
        self._table.cellClicked.connect(self._on_cell_clicked)

    # ------------------------------------------------------------------ public API

    @property
    def table(self) -> QTableWidget:
        """The inner table (for tests and for the main window's keyboard focus)."""
        return self._table

    @property
    def totals_label(self) -> QLabel:
        """The footer label with the total parameter counts."""
        return self._totals

    def report(self) -> StackReport | None:
        """The report shown, or None before the first `set_report`."""
        return self._report

    def set_report(self, report: StackReport, labels: dict[int, str] | None = None) -> None:
        """Show a stack report: Input row, one row per layer, and the totals line; `labels`
        names some layers' type otherwise (a pre-built base: its network and cut)."""
        labels = labels or {}
        self._report = report
        table = self._table
        self._programmatic = True
        table.setUpdatesEnabled(False)  # one repaint for the whole refresh, not one per cell
        try:
            self._resize_rows(len(report.layers) + 1)
            rows = [self._input_row(report)]
            after_error = report.input_error is not None
            for layer in report.layers:
                if layer.error:
                    rows.append(((name_text(layer), layer.type, UNKNOWN, UNKNOWN, UNKNOWN),
                                 layer.error, "error"))
                    after_error = True
                elif after_error or layer.output_shape is None:
                    rows.append(((name_text(layer), layer.type, UNKNOWN, UNKNOWN, UNKNOWN),
                                 UNKNOWN_TOOLTIP, "unknown"))
                else:
                    texts = (name_text(layer), labels.get(layer.index, layer.type),
                             keras_shape(layer.output_shape),
                             count_text(layer.params), count_text(layer.non_trainable))
                    state = ("warning" if layer.warning else "frozen" if layer.frozen
                             else "ok")
                    rows.append((texts, layer.warning or counts_tooltip(layer), state))
            for row, (texts, tooltip, state) in enumerate(rows):
                self._fill_row(row, texts, tooltip, state)
            self._fit_columns([texts for texts, _, _ in rows])
        finally:
            table.setUpdatesEnabled(True)
            self._programmatic = False
        self._totals.setText(totals_text(report))
        self._totals.setToolTip(report.error_message() or "")

    def select_layer(self, index: int | None) -> None:
        """Highlight the row of stack layer `index` (None or out of range clears it).

        Does not emit `layer_activated`: the caller already knows.
        """
        self._programmatic = True
        try:
            row = -1 if index is None else index + 1
            if 1 <= row < self._table.rowCount():
                self._table.setCurrentCell(row, NAME)
                self._table.selectRow(row)
                self._table.scrollToItem(self._items[row][NAME])
            else:
                self._table.clearSelection()
                self._table.setCurrentCell(-1, -1)
        finally:
            self._programmatic = False
        self._row_changed_by_cursor = None

    def selected_layer(self) -> int | None:
        """The stack index of the selected layer row, or None (nothing, or the Input row)."""
        rows = self._table.selectionModel().selectedRows()
        if not rows or rows[0].row() == 0:
            return None
        return rows[0].row() - 1

    # ------------------------------------------------------------------ filling rows

    @staticmethod
    def _input_row(report: StackReport) -> tuple[tuple[str, ...], str, str]:
        texts = ("input", "InputLayer", keras_shape(report.input_shape), "0", "0")
        return texts, report.input_error or "", "error" if report.input_error else "ok"

    def _size_rows(self) -> None:
        """Compact rows like model.summary(), but tall enough for the text and the error icon
        at the current font (which follows the zoom)."""
        row_height = max(20, self._table.fontMetrics().height() + 8)
        self._table.verticalHeader().setDefaultSectionSize(row_height)
        self._table.setIconSize(QSize(row_height - 6, row_height - 6))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            # The zoom changed the font: rows and columns are measured again.
            self._size_rows()
            if self._items:
                self._fit_columns([tuple(item.text() for item in items) for items in self._items])

    def _fit_columns(self, rows: list[tuple[str, ...]]) -> None:
        """Measure every column's longest text, then lay the columns out in the width."""
        metrics = self._table.fontMetrics()
        header = self._table.horizontalHeader()
        for column in (NAME, TYPE, SHAPE, PARAMS, NON_TRAINABLE):
            longest = max(metrics.horizontalAdvance(row[column]) for row in rows)
            if column == NAME and any(not items[NAME].icon().isNull()
                                      for items in self._items):
                longest += self._table.iconSize().width() + 6  # the error or warning icon
            self._needed[column] = max(
                longest + 20, header.fontMetrics().horizontalAdvance(COLUMNS[column]) + 24)
        self._all_trainable = all(row[NON_TRAINABLE] in ("0", UNKNOWN) for row in rows)
        self._lay_out_columns()

    def preferred_width(self) -> int:
        """The width that shows every column whole, without scrolling sideways."""
        return (sum(self._needed.values()) + 2 * self._table.frameWidth()
                + self._table.verticalScrollBar().sizeHint().width())

    # How much of their width the names and types may lose before the Type column goes.
    TEXT_CUT_BEFORE_TYPES_GO = 0.3

    def _lay_out_columns(self) -> None:
        """Show the columns that fit the width (see the comment in __init__); the names take
        any spare width."""
        width = self._table.viewport().width()
        needed = self._needed
        shown = [NAME, TYPE, SHAPE, PARAMS, NON_TRAINABLE]
        if sum(needed[c] for c in shown) > width and self._all_trainable:
            shown.remove(NON_TRAINABLE)
        words = needed[NAME] + needed[TYPE]
        # Names and types a little cut keep the types; much cut, the names alone are better.
        if sum(needed[c] for c in shown) - width > words * self.TEXT_CUT_BEFORE_TYPES_GO:
            shown.remove(TYPE)
        room = width - sum(needed[c] for c in shown if c not in (NAME, TYPE))
        readable = self._table.fontMetrics().averageCharWidth() * 8 + 20
        sizes = dict(needed)
        if TYPE in shown:
            # The longer of the two gives way first: both are cut to one width, or the
            # shorter stays whole and the longer takes the rest.
            even = room // 2
            shorter, longer = sorted((NAME, TYPE), key=lambda column: needed[column])
            sizes[shorter] = min(needed[shorter], max(even, readable))
            sizes[longer] = min(needed[longer], max(room - sizes[shorter], readable))
            if sizes[NAME] + sizes[TYPE] < room:
                sizes[NAME] = room - sizes[TYPE]  # spare width: to the names
        else:
            sizes[NAME] = max(room, min(needed[NAME], readable))
        header = self._table.horizontalHeader()
        for column in range(len(COLUMNS)):
            self._table.setColumnHidden(column, column not in shown)
            if column in shown and header.sectionSize(column) != sizes[column]:
                header.resizeSection(column, sizes[column])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._table.viewport() and event.type() == QEvent.Type.Resize:
            self._lay_out_columns()
        return False

    def _resize_rows(self, count: int) -> None:
        """Add or drop rows so the table has `count`; existing rows keep their items."""
        if len(self._items) == count:
            return
        self._table.setRowCount(count)
        del self._items[count:], self._row_styles[count:]  # Qt deleted those items
        for row in range(len(self._items), count):
            items = []
            for column in range(len(COLUMNS)):
                item = QTableWidgetItem()
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if column in (PARAMS, NON_TRAINABLE):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self._table.setItem(row, column, item)
                items.append(item)
            self._items.append(items)
            self._row_styles.append(("ok", ""))

    def _fill_row(self, row: int, texts: tuple[str, ...], tooltip: str, state: str) -> None:
        """Write one row; `state` is "ok", "frozen", "warning", "error" or "unknown".

        Only what changed is written: a keystroke usually changes a few cells, and every
        write to an item costs a model signal.
        """
        items = self._items[row]
        for item, text in zip(items, texts):
            if item.text() != text:
                item.setText(text)
        if self._row_styles[row] == (state, tooltip):
            return
        self._row_styles[row] = (state, tooltip)
        if state == "error":
            foreground, background = QBrush(ERROR_TEXT), QBrush(ERROR_BACKGROUND)
        elif state == "unknown":
            foreground, background = QBrush(UNKNOWN_TEXT), QBrush()
        elif state == "frozen":
            foreground, background = QBrush(FROZEN_TEXT), QBrush(FROZEN_BACKGROUND)
        else:
            foreground, background = QBrush(), QBrush()
        for item in items:
            item.setForeground(foreground)
            item.setBackground(background)
            item.setToolTip(tooltip)
        icon = {"error": self._error_icon, "warning": self._warning_icon}.get(state, QIcon())
        items[NAME].setIcon(icon)

    # ------------------------------------------------------------------ user input

    def _on_current_cell_changed(self, row: int, _column: int, previous_row: int,
                                 _previous_column: int) -> None:
        # Covers keyboard navigation and the press of a click on a new row; the click's own
        # cellClicked signal then knows the row was already announced.
        if self._programmatic or row == previous_row or row < 1:
            return
        self._row_changed_by_cursor = row
        self.layer_activated.emit(row - 1)

    def _on_cell_clicked(self, row: int, _column: int) -> None:
        if self._row_changed_by_cursor == row:
            self._row_changed_by_cursor = None
            return
        self._row_changed_by_cursor = None
        if row >= 1:
            self.layer_activated.emit(row - 1)
