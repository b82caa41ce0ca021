"""The Experiments view (tab 5): every recorded run in a table, their curves overlaid, any
setting against any metric, notes and tags, delete with undo, train again, open a run's model.

The run store (core.experiments.run_store) is opened and read in the background, so the
window never waits for the database; a damaged or newer store shows its message here and
nothing else changes. The table reloads when a run ends (finished, stopped or failed), on
F5 and on Refresh.

The view never holds another view: "train again" puts the run's spec into the workspace's
document (one undoable edit) and asks, through `train_again_requested`, for its settings to
be shown in the Train view; opening a model is asked through `open_model_requested`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontMetrics, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFrame, QHBoxLayout, QLabel,
                               QLineEdit, QMenu, QPushButton, QScrollArea, QSplitter, QTableView,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from cnnviz.core.errors import CnnvizError
from cnnviz.core.experiments.run_store import RunRecord, RunStore
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import BackgroundTask, NewestRequest
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom
from cnnviz.ui.experiments.data_size_dialog import DataSizeDialog
from cnnviz.ui.experiments.scratch_transfer_dialog import ScratchTransferDialog
from cnnviz.ui.experiments.study_window import show_study_window, shutdown_study_windows
from cnnviz.ui.experiments.run_charts import MAX_CURVES, RunCurves, SettingChart
from cnnviz.ui.experiments.run_details import RunDetails
from cnnviz.ui.experiments.run_table import RUN_ID_ROLE, RunFilter, RunTableModel
from cnnviz.workspace import Workspace

SHOWN_KEY = "experiments/columns_shown"      # column keys the user turned on
HIDDEN_KEY = "experiments/columns_hidden"    # column keys the user turned off
SETTING_CHART_DELAY_MS = 250   # the setting chart follows the filter once typing pauses


def _load(path: Path | None) -> tuple[RunStore, list[RunRecord]]:
    """Open the store and read its runs (in a worker thread)."""
    store = RunStore(path)
    try:
        return store, store.runs()
    except BaseException:
        store.close()
        raise


def _import_matplotlib(_report: Any) -> None:
    """The charts' imports (~0.4 s), in a worker thread: the table does not wait for them."""
    import matplotlib.backends.backend_qtagg  # noqa: F401 - the import is the work
    import matplotlib.figure  # noqa: F401


def _list_value(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):   # QSettings gives a lone entry back as a plain string
        return [value]
    return [str(v) for v in value]


class ExperimentsView(QWidget):
    """The runs of the user's run store (or of `store_path`)."""

    train_again_requested = Signal(object)     # RunRecord: show its settings (and data) to train
    open_model_requested = Signal(str, str)    # saved model path, "inspect" | "explain"
    loaded = Signal()                          # the table shows the store's runs (or its problem)
    charts_ready = Signal()                    # the charts exist (matplotlib was imported)

    def __init__(self, workspace: Workspace, settings: Callable[[], QSettings] | None = None,
                 store_path: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._settings = settings
        self.store_path = store_path
        self.store: RunStore | None = None
        self.problem: str | None = None          # why the store cannot be shown
        self._undo_tokens: list[tuple[str, str]] = []   # (store token, what was deleted)
        self._histories: dict[int, RunRecord] = {}
        self._loader = NewestRequest(self)
        self._chart_import: BackgroundTask | None = None

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: name, model, data, tags…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip("Keeps the runs whose name, model, data source, tags or "
                                    "sweep contain every word typed")
        self.count_label = QLabel()
        self.columns_button = QPushButton("Columns…")
        self.columns_button.setToolTip("Choose the columns of the table (or right-click its header)")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the runs again (F5)")
        # One Export button with a menu: the bar must fit a 1024-pixel projector in
        # presentation mode.
        self.export_csv_action = QAction("Table as CSV…", self)
        self.export_csv_action.setToolTip("Write the selected runs (or, with one or none "
                                          "selected, every run shown) as a CSV table")
        self.tensorboard_action = QAction("Runs for TensorBoard…", self)
        self.tensorboard_action.setToolTip("Write the same runs to a folder for TensorBoard's "
                                           "HParams dashboard (open it with "
                                           "tensorboard --logdir FOLDER)")
        export_menu = QMenu(self)
        export_menu.setToolTipsVisible(True)
        export_menu.addAction(self.export_csv_action)
        export_menu.addAction(self.tensorboard_action)
        self.export_button = QPushButton("Export")
        self.export_button.setToolTip("Export the selected runs (or every run shown): a CSV "
                                      "table, or runs for TensorBoard")
        self.export_button.setMenu(export_menu)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected runs (Del; Ctrl+Z brings them back)")
        self.sweep_button = QPushButton("Sweep…")
        self.sweep_button.setToolTip("Search hyperparameters: train one model per trial, "
                                     "compare them and name the best (Ctrl+Shift+W)")
        sweep_action = QAction("Sweep…", self)
        sweep_action.setShortcut(QKeySequence("Ctrl+Shift+W"))
        sweep_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sweep_action.triggered.connect(self.open_sweep_dialog)
        self.addAction(sweep_action)
        self.sweep_dialog: Any = None     # the Sweep dialog, once opened
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 2)
        top.addWidget(self.count_label)
        top.addStretch(1)
        self.less_data_button = QPushButton("Dense vs CNN…")
        self.less_data_button.setToolTip("Dense vs CNN with less data: the tutorial's "
                                         "experiment, a dense net and a CNN trained on fewer "
                                         "and fewer digits")
        self.less_data_button.clicked.connect(
            lambda: show_study_window(self, DataSizeDialog, self.store_path, self.refresh))
        self.pair_button = QPushButton("Scratch vs transfer…")
        self.pair_button.setToolTip("One network trained twice on few examples: from scratch, "
                                    "and reusing a pretrained base, frozen")
        self.pair_button.clicked.connect(
            lambda: show_study_window(self, ScratchTransferDialog, self.store_path,
                                      self.refresh))
        # The three studies on a row of their own: on one row with the table's buttons they
        # would not fit a 1024-pixel projector in presentation mode.
        studies = QHBoxLayout()
        studies.addWidget(self.sweep_button)
        studies.addWidget(self.less_data_button)
        studies.addWidget(self.pair_button)
        studies.addStretch(1)
        for button in (self.columns_button, self.refresh_button, self.export_button,
                       self.delete_button):
            top.addWidget(button)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("experimentsMessage")
        self.message.setStyleSheet("#experimentsMessage { background: #fdecea; color: #7a1c14; "
                                   "border: 1px solid #f3b8b0; padding: 6px; }")
        self.message.hide()
        self.undo_bar = QFrame()
        self.undo_bar.setObjectName("undoDelete")
        self.undo_bar.setStyleSheet("#undoDelete { background: #fff4d6; "
                                    "border: 1px solid #e8cf86; }")
        self.undo_label = QLabel()
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.setToolTip("Bring the deleted runs back (Ctrl+Z)")
        close_undo = QToolButton()
        close_undo.setText("✕")
        close_undo.setToolTip("Hide this bar")
        close_undo.clicked.connect(self.undo_bar.hide)
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(8, 2, 4, 2)
        undo_layout.addWidget(self.undo_label, 1)
        undo_layout.addWidget(self.undo_button)
        undo_layout.addWidget(close_undo)
        self.undo_bar.hide()

        self.model = RunTableModel(self)
        self.proxy = RunFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)   # newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(
            lambda point: self.columns_menu().exec(header.mapToGlobal(point)))
        header.setStretchLastSection(True)
        delete_action = QAction("Delete runs", self.table)
        delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete_action.triggered.connect(self.delete_selected)
        self.table.addAction(delete_action)

        self.details = RunDetails()
        # The charts are made when the runs arrive (matplotlib is imported meanwhile).
        self.curves: RunCurves | None = None
        self.setting_chart: SettingChart | None = None
        self.charts = QTabWidget()
        self.save_chart_button = QPushButton("Save chart…")
        self.save_chart_button.setToolTip("Save the chart on show as PNG or SVG")
        self.charts.setCornerWidget(self.save_chart_button, Qt.Corner.TopRightCorner)

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.table)
        # The details scroll rather than make the view taller than a small window.
        details_area = QScrollArea()
        details_area.setWidget(self.details)
        details_area.setWidgetResizable(True)
        details_area.setFrameShape(QFrame.Shape.NoFrame)
        upper.addWidget(details_area)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.charts)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.upper = upper
        self._user_split = False    # sizes follow the window until the user drags a splitter
        for splitter in (upper, self.splitter):
            splitter.splitterMoved.connect(self._splitter_dragged)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(studies)
        layout.addWidget(self.message)
        layout.addWidget(self.undo_bar)
        layout.addWidget(self.splitter, 1)

        self._setting_timer = QTimer(self)
        self._setting_timer.setSingleShot(True)
        self._setting_timer.setInterval(SETTING_CHART_DELAY_MS)
        self._setting_timer.timeout.connect(self._update_setting_chart)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.columns_button.clicked.connect(
            lambda: self.columns_menu().exec(self.columns_button.mapToGlobal(
                self.columns_button.rect().bottomLeft())))
        self.refresh_button.clicked.connect(self.refresh)
        self.sweep_button.clicked.connect(self.open_sweep_dialog)
        self.export_csv_action.triggered.connect(self.export_dialog)
        self.tensorboard_action.triggered.connect(self.export_tensorboard_dialog)
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button.clicked.connect(self.undo_delete)
        self.save_chart_button.clicked.connect(self.save_chart_dialog)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.details.notes_edited.connect(self._save_notes)
        self.details.tags_edited.connect(self._save_tags)
        self.details.train_again_requested.connect(self.train_again)
        self.details.open_requested.connect(self._open_model)
        # A run that ended (finished, stopped or failed) is in the store now.
        self._was_running = workspace.run.running
        workspace.run.state_changed.connect(self._run_state_changed)
        watch_zoom(self._fit)
        self._fit()
        self._update_buttons()
        self.refresh()

    # ------------------------------------------------------------------ layout

    def _fit(self) -> None:
        self.table.setMinimumHeight(scaled(120))
        self.details.setMinimumWidth(scaled(300))
        # Narrow enough that the bar fits a 1024-pixel projector in presentation mode.
        self.filter_edit.setMinimumWidth(scaled(130))
        row = QFontMetrics(QApplication.font()).height() + scaled(8)
        self.table.verticalHeader().setDefaultSectionSize(row)
        set_relative_font(self.message)
        set_relative_font(self.undo_label)
        self._fit_columns()

    def _splitter_dragged(self, *_args: Any) -> None:
        self._user_split = True

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        if not self._user_split:
            self._split()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._user_split:
            self._split()

    def _split(self) -> None:
        """The table gets most of the width, the charts a little more than half the height."""
        width = max(1, self.upper.width())
        details = min(max(scaled(320), int(width * 0.28)), width // 2)
        self.upper.setSizes([width - details, details])
        height = max(1, sum(self.splitter.sizes()))
        self.splitter.setSizes([int(height * 0.45), height - int(height * 0.45)])

    # ------------------------------------------------------------------ loading

    def refresh(self) -> None:
        """Read the store again, in the background; `loaded` is emitted when the table shows it."""
        path = self.store_path
        self._loader.submit(lambda _report: _load(path), self._loaded, self._load_failed)

    def _run_state_changed(self) -> None:
        running = self.workspace.run.running
        if self._was_running and not running:
            self.refresh()
        self._was_running = running

    @property
    def loading(self) -> bool:
        """The runs are being read, or the charts are still to come."""
        return self._loader.busy or self.curves is None

    def _ensure_charts(self) -> None:
        """Make the charts once matplotlib is imported (in the background, the first time)."""
        if self.curves is not None or self._chart_import is not None:
            return
        self._chart_import = BackgroundTask(_import_matplotlib, self)
        self._chart_import.succeeded.connect(lambda _r: self._make_charts())
        self._chart_import.failed.connect(lambda message, _d: self.charts.addTab(
            QLabel(f"The charts cannot be drawn: {message}"), "Charts"))
        self._chart_import.start()

    def _make_charts(self) -> None:
        self.curves = RunCurves()
        self.setting_chart = SettingChart()
        self.charts.addTab(self.curves, "Curves of the selected runs")
        self.charts.addTab(self.setting_chart, "Setting against result")
        self.charts.currentChanged.connect(lambda _i: self._update_setting_chart())
        self._selection_changed()
        self.charts_ready.emit()

    def _loaded(self, result: tuple[RunStore, list[RunRecord]]) -> None:
        self._ensure_charts()
        store, records = result
        if self.store is not None:
            self.store.close()
        self.store, self.problem = store, None
        self.message.hide()
        self._show_records(records)
        self.loaded.emit()

    def _load_failed(self, message: str, _details: str) -> None:
        self._ensure_charts()
        self.problem = message
        self.message.setText(f"{message}")
        self.message.show()
        self._show_records([])
        self.loaded.emit()

    def _show_records(self, records: list[RunRecord]) -> None:
        selected = self.selected_ids()
        self._histories.clear()
        self.table.setUpdatesEnabled(False)
        try:
            self.model.set_records(records)
            self._apply_column_choice()
            self._fit_columns()
            self._select_ids(selected)
        finally:
            self.table.setUpdatesEnabled(True)
        self._update_count()
        self._selection_changed()

    def _fit_columns(self) -> None:
        """Columns as wide as their header and first rows, never wider than ~22 letters."""
        metrics = QFontMetrics(QApplication.font())   # the zoom's, even before the table's follows
        limit = metrics.horizontalAdvance("M" * 22)
        padding = scaled(24)
        rows = min(self.proxy.rowCount(), 40)
        for column in range(self.model.columnCount()):
            if self.table.isColumnHidden(column):
                continue
            texts = [str(self.model.headerData(column, Qt.Orientation.Horizontal))]
            texts += [str(self.proxy.index(row, column).data()) for row in range(rows)]
            width = max(metrics.horizontalAdvance(t) for t in texts) + padding
            self.table.setColumnWidth(column, min(width, limit))

    # ------------------------------------------------------------------ columns

    def _setting_list(self, key: str) -> list[str]:
        return _list_value(self._settings().value(key, [])) if self._settings else []

    def column_shown(self, key: str) -> bool:
        """Whether a column is shown (the user's choice, else its default)."""
        if key in self._setting_list(HIDDEN_KEY):
            return False
        if key in self._setting_list(SHOWN_KEY):
            return True
        index = self.model.column_of(key)
        return index >= 0 and self.model.columns[index].shown

    def set_column_shown(self, key: str, shown: bool) -> None:
        """Show or hide a column; the choice is remembered."""
        if self._settings is not None:
            on, off = set(self._setting_list(SHOWN_KEY)), set(self._setting_list(HIDDEN_KEY))
            (on if shown else off).add(key)
            (off if shown else on).discard(key)
            self._settings().setValue(SHOWN_KEY, sorted(on))
            self._settings().setValue(HIDDEN_KEY, sorted(off))
        index = self.model.column_of(key)
        if index >= 0:
            self.table.setColumnHidden(index, not shown)
            if shown:
                self._fit_columns()

    def _apply_column_choice(self) -> None:
        shown, hidden = set(self._setting_list(SHOWN_KEY)), set(self._setting_list(HIDDEN_KEY))
        for index, column in enumerate(self.model.columns):
            visible = column.key in shown or (column.shown and column.key not in hidden)
            self.table.setColumnHidden(index, not visible)

    def columns_menu(self) -> QMenu:
        """A menu with one tick per column."""
        menu = QMenu(self)
        settings_menu: QMenu | None = None
        for index, column in enumerate(self.model.columns):
            target = menu
            if column.key.startswith("setting:"):
                if settings_menu is None:
                    settings_menu = menu.addMenu("Settings")
                target = settings_menu
            action = target.addAction(column.header)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(index))
            action.setEnabled(column.key != "name")
            action.toggled.connect(lambda on, key=column.key: self.set_column_shown(key, on))
        return menu

    # ------------------------------------------------------------------ filter and selection

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._update_count()
        self._setting_timer.start()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{total:,} runs" if shown == total else f"{shown:,} of {total:,} runs")
        self.count_label.setToolTip("")

    def shown_ids(self) -> list[int]:
        """The runs in the table now (filtered), in the table's order."""
        return [int(self.proxy.index(row, 0).data(RUN_ID_ROLE)) for row in range(self.proxy.rowCount())]

    def selected_ids(self) -> list[int]:
        """The selected runs, in the table's order."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [int(self.proxy.index(row, 0).data(RUN_ID_ROLE)) for row in rows]

    def select_ids(self, ids: list[int]) -> None:
        """Select these runs (those shown)."""
        self._select_ids(ids)
        self._selection_changed()

    def _select_ids(self, ids: list[int]) -> None:
        wanted = set(ids)
        selection = self.table.selectionModel()
        selection.blockSignals(True)
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(RUN_ID_ROLE) in wanted:
                selection.select(index, flags)
        selection.blockSignals(False)
        self.table.viewport().update()

    def _record_with_history(self, run_id: int) -> RunRecord | None:
        if run_id not in self._histories and self.store is not None:
            try:
                self._histories[run_id] = self.store.get(run_id)
            except CnnvizError:
                return None
        return self._histories.get(run_id)

    def _selection_changed(self, *_args: Any) -> None:
        ids = self.selected_ids()
        records = [r for r in (self._record_with_history(i) for i in ids[:MAX_CURVES]) if r]
        if self.curves is not None:
            self.curves.show_runs(records)
        self.details.show_run(records[0] if len(ids) == 1 and records else None, len(ids))
        self._update_setting_chart()
        self._update_buttons()

    def _update_setting_chart(self) -> None:
        if self.setting_chart is None or self.charts.currentWidget() is not self.setting_chart:
            return   # drawn when its tab is shown
        shown = set(self.shown_ids())
        self.setting_chart.set_runs([r for r in self.model.records if r.id in shown],
                                    set(self.selected_ids()))

    def _update_buttons(self) -> None:
        has = bool(self.selected_ids())
        self.delete_button.setEnabled(has and self.store is not None)
        self.export_button.setEnabled(self.store is not None and self.model.rowCount() > 0)
        self.export_csv_action.setEnabled(self.export_button.isEnabled())
        self.tensorboard_action.setEnabled(self.export_button.isEnabled())

    # ------------------------------------------------------------------ editing

    def _save_notes(self, run_id: int, notes: str) -> None:
        self._store_call(lambda store: store.set_notes(run_id, notes))
        for record in self.model.records:
            if record.id == run_id:
                record.notes = notes

    def _save_tags(self, run_id: int, tags: list[str]) -> None:
        record = next((r for r in self.model.records if r.id == run_id), None)
        before = [] if record is None else list(record.tags)

        def change(store: RunStore) -> None:
            for tag in before:
                if tag not in tags:
                    store.remove_tag(run_id, tag)
            for tag in tags:
                if tag not in before:
                    store.add_tag(run_id, tag)

        if self._store_call(change):
            selected = self.selected_ids()
            records = self.model.records
            for r in records:
                if r.id == run_id:
                    r.tags = sorted(tags)
            self.model.set_records(records)
            self._apply_column_choice()
            self._select_ids(selected)

    def _store_call(self, action: Callable[[RunStore], Any]) -> bool:
        if self.store is None:
            return False
        try:
            action(self.store)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot change the run", str(exc))
            return False
        return True

    def delete_selected(self) -> None:
        """Delete the selected runs (Undo delete / Ctrl+Z brings them back)."""
        ids = self.selected_ids()
        if not ids or self.store is None:
            return
        try:
            token = self.store.delete(ids)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot delete", str(exc))
            return
        names = {r.id: r.name for r in self.model.records}
        what = (f"run #{ids[0]} “{names.get(ids[0], '')}”" if len(ids) == 1
                else f"{len(ids)} runs")
        self._undo_tokens.append((token, what))
        self.undo_label.setText(f"Deleted {what}.")
        self.undo_bar.show()
        gone = set(ids)
        self._show_records([r for r in self.model.records if r.id not in gone])

    @property
    def can_undo_delete(self) -> bool:
        return bool(self._undo_tokens) and self.store is not None

    def undo_delete(self) -> None:
        """Bring back the runs deleted last."""
        if not self.can_undo_delete or self.store is None:
            return
        token, what = self._undo_tokens.pop()
        try:
            ids = self.store.restore(token)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot undo", str(exc))
            return
        if self._undo_tokens:
            self.undo_label.setText(f"Deleted {self._undo_tokens[-1][1]}.")
        else:
            self.undo_bar.hide()
        self._loader.submit(lambda _report: _load(self.store_path),
                            lambda result: (self._loaded(result), self.select_ids(ids)),
                            self._load_failed)

    def train_again(self, run_id: int) -> None:
        """Put the run's model into the builder (undoable) and ask for its settings in Train."""
        record = self._record_with_history(run_id)
        if record is None:
            return
        from cnnviz.core.model.spec import ModelSpec

        try:
            spec = ModelSpec.from_json(record.spec_json)
            if not spec.layers:
                raise CnnvizError("no layers")
        except (CnnvizError, ValueError, TypeError, KeyError):
            dialogs.show_error(self, "Train again", f"Run #{record.id} trained a model opened "
                               "from a file, so it has no layers to put into the builder. Its "
                               "settings are in the Train view; open its model to train it more.")
        else:
            self.workspace.document.apply(spec, f"Train again as run #{record.id}")
        self.train_again_requested.emit(record)

    def _open_model(self, run_id: int, where: str) -> None:
        record = self._record_with_history(run_id)
        if record is None or not record.model_path or not Path(record.model_path).exists():
            dialogs.show_error(self, "Cannot open the model",
                               f"Run #{run_id}'s saved model is not there any more.")
            return
        self.open_model_requested.emit(record.model_path, where)

    # ------------------------------------------------------------------ export

    def export_ids(self) -> list[int]:
        """What Export writes: the selected runs when several are selected, else those shown."""
        selected = self.selected_ids()
        return selected if len(selected) > 1 else self.shown_ids()

    def export_csv(self, path: str | Path) -> int:
        """Write the runs Export would write to `path`; returns how many."""
        if self.store is None:
            raise CnnvizError(self.problem or "The runs are still being read.")
        return self.store.export_csv(Path(path), self.export_ids())

    def export_dialog(self) -> None:
        path = dialogs.get_save_path(self, "Export runs as CSV", str(Path.home() / "runs.csv"),
                                     dialogs.CSV_FILTER, ".csv")
        if not path:
            return
        try:
            count = self.export_csv(path)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot export", str(exc))
            return
        # Short: the bar must still fit a 1024-pixel projector in presentation mode.
        self.count_label.setText(f"{count:,} exported")
        self.count_label.setToolTip(f"Wrote {count:,} runs to {path}")

    def export_tensorboard(self, folder: str | Path) -> int:
        """Write the runs Export would write to `folder` for TensorBoard; returns how many."""
        from cnnviz.core.experiments.tensorboard_export import export_tensorboard

        if self.store is None:
            raise CnnvizError(self.problem or "The runs are still being read.")
        store = self.store
        return len(export_tensorboard([store.get(i) for i in self.export_ids()], folder))

    def export_tensorboard_dialog(self) -> None:
        folder = dialogs.get_folder_path(self, "Export to TensorBoard (choose a folder)",
                                         str(Path.home()))
        if not folder:
            return
        try:
            count = self.export_tensorboard(folder)
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot export", str(exc))
            return
        self.count_label.setText(f"{count:,} exported")
        self.count_label.setToolTip(f"Written to {folder} for TensorBoard; open them with: "
                                    f"tensorboard --logdir {folder}")

    def save_chart_dialog(self) -> None:
        chart = self.charts.currentWidget()
        if chart is None:
            return
        path = dialogs.get_save_path(self, "Save chart", str(Path.home() / "runs.png"),
                                     dialogs.CHART_FILTER, ".png")
        if not path:
            return
        try:
            chart.save_image(path)   # type: ignore[attr-defined]
        except CnnvizError as exc:
            dialogs.show_error(self, "Cannot save the chart", str(exc))

    # ------------------------------------------------------------------ sweeps

    def open_sweep_dialog(self) -> Any:
        """Show the Sweep dialog (one per view; it keeps its state when closed). The table
        reads the store again as each trial ends. Returns the dialog."""
        if self.sweep_dialog is None:
            from cnnviz.ui.experiments.sweep_dialog import SweepDialog

            self.sweep_dialog = SweepDialog(self.workspace, self.store_path, self)
            self.sweep_dialog.trial_recorded.connect(self.refresh)
            self.sweep_dialog.resize(min(scaled(1280), self.window().width() or 1280),
                                     min(scaled(800), self.window().height() or 800))
        self.sweep_dialog.show()
        self.sweep_dialog.raise_()
        self.sweep_dialog.activateWindow()
        return self.sweep_dialog

    # ------------------------------------------------------------------ keys

    def _own_key(self, event: QKeyEvent) -> bool:
        """F5 (refresh) and Ctrl+Z after a delete belong to this view while it has focus:
        elsewhere they start training and undo the builder's last edit."""
        if event.key() == Qt.Key.Key_F5 and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            return True
        return event.matches(QKeySequence.StandardKey.Undo) and self.can_undo_delete \
            and not isinstance(self.focusWidget(), (QLineEdit,)) \
            and self.focusWidget() is not self.details.notes

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and self._own_key(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_F5 and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.refresh()
        elif event.matches(QKeySequence.StandardKey.Undo) and self.can_undo_delete:
            self.undo_delete()
        else:
            super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Save typed notes, wait for the reading thread and close the store."""
        self.details.save_notes()
        shutdown_study_windows(self)
        if self.sweep_dialog is not None:
            self.sweep_dialog.wait_stopped()
        self._loader.shutdown()
        if self._chart_import is not None:
            self._chart_import.wait()   # an import cannot be cut short; it ends within a second
        if self.store is not None:
            self.store.close()
            self.store = None
