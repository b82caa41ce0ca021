"""The inspector: a saved model's structure at once, its weights' statistics a moment later.

`set_model` shows everything `core.inspection.inspect_model` already worked out (header,
layer table, graph) without touching the weights. Picking a layer asks the panel's
WeightStatsController (inspect_stats) for its weight statistics, computed in the background.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from cnnviz.core.formatting import count_text, keras_shape, params_with_size
from cnnviz.ui.common.filter_grid import FilterGrid
from cnnviz.ui.common.zoom import scaled, set_relative_font
from cnnviz.ui.inspect.inspect_stats import WeightStatsController
from cnnviz.ui.inspect.model_graph import ModelGraph
from cnnviz.ui.inspect.weight_histogram import (
    ALIGN_RIGHT, WeightStatsView, fit_columns, fit_rows_to_font, natural_widths, read_only_table,
    table_item,
)

LAYER_COLUMNS = ("#", "Name", "Type", "Output shape", "Params", "Activation", "Inputs from")
NUMBER, NAME, TYPE, SHAPE, PARAMS, ACTIVATION, INBOUND = range(7)
PROBLEM_TEXT, PROBLEM_BACKGROUND = QColor("#7a4b00"), QColor("#fff4e5")
MUTED_TEXT = QColor("#5f6670")


def _colour_label(label: QLabel, text: QColor, background: QColor | None = None) -> None:
    """Colours by palette, not style sheet: the label's font keeps following the zoom."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, text)
    if background is not None:
        palette.setColor(QPalette.ColorRole.Window, background)
        label.setAutoFillBackground(True)
        label.setMargin(4)
    label.setPalette(palette)


class InspectPanel(QWidget):
    """A loaded Keras model: header, layer table / graph, and the picked layer's weights.

    Signals:
        edit_copy_requested(): the user asked for an editable copy in the builder.
        layer_activated(str): a layer was double-clicked (its name).
        stats_shown(int): the weight statistics of layer `index` are now on screen.
    """

    edit_copy_requested = Signal()
    layer_activated = Signal(str)
    stats_shown = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: Any = None
        self._info: Any = None
        self._keras_layers: dict[str, Any] = {}
        self._programmatic = False
        self._shown_layer: int | None = None
        self._layer_widths: list[int] = []
        self._edit_reason = ""

        self._build_header()
        self._build_structure()
        self._build_details()
        self.weight_stats = WeightStatsController(self.weights_view, self.histogram,
                                                  self.status_label, self.filter_grid,
                                                  self.stats_shown.emit, parent=self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.details)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.splitterMoved.connect(self._remember_split)
        self._user_split = False  # once the user drags the divider, their choice stays
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.header)
        layout.addWidget(self.splitter, 1)
        self.clear()

    # ------------------------------------------------------------------ building

    def _build_header(self) -> None:
        self.header = QWidget()
        self.title_label = QLabel()
        set_relative_font(self.title_label, 1.2, bold=True)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.shapes_label = QLabel()
        self.shapes_label.setWordWrap(True)
        self.totals_label = QLabel()
        self.totals_label.setWordWrap(True)
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        _colour_label(self.notes_label, MUTED_TEXT)
        set_relative_font(self.notes_label)
        notes_font = self.notes_label.font()
        notes_font.setItalic(True)
        self.notes_label.setFont(notes_font)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        _colour_label(self.problems_label, PROBLEM_TEXT, PROBLEM_BACKGROUND)
        self.edit_button = QPushButton("Edit a copy in the builder")
        self.edit_button.clicked.connect(self.edit_copy_requested)
        self.edit_note = QLabel()
        self.edit_note.setWordWrap(True)
        _colour_label(self.edit_note, MUTED_TEXT)
        title_row = QHBoxLayout()
        title_row.setSpacing(12)
        title_row.addWidget(self.title_label)
        title_row.addWidget(self.notes_label, 1)
        title_row.addWidget(self.edit_button, 0,
                            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        column = QVBoxLayout(self.header)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(title_row)
        for label in (self.shapes_label, self.totals_label, self.edit_note, self.problems_label):
            column.addWidget(label)

    def _build_structure(self) -> None:
        self.layer_table = read_only_table(LAYER_COLUMNS)
        self.layer_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.layer_table.viewport().installEventFilter(self)
        self.layer_table.horizontalHeaderItem(PARAMS).setTextAlignment(ALIGN_RIGHT)
        self.layer_table.currentCellChanged.connect(self._on_table_row)
        self.layer_table.cellDoubleClicked.connect(lambda row, _c: self._activate(row))
        self.graph = ModelGraph()
        self.graph.layer_clicked.connect(self._on_graph_click)
        self.graph.layer_double_clicked.connect(self._activate)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.layer_table, "Table")
        self.tabs.addTab(self.graph, "Graph")
        self.tabs.setMinimumWidth(scaled(300))

    def _build_details(self) -> None:
        self.details = QWidget()
        self.layer_title = QLabel()
        set_relative_font(self.layer_title, 1.0, bold=True)
        self.layer_summary = QLabel()
        self.layer_summary.setWordWrap(True)
        _colour_label(self.layer_summary, MUTED_TEXT)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.weights_view = WeightStatsView()
        self.stats_table = self.weights_view.table
        self.histogram = self.weights_view.histogram
        self.filter_grid = FilterGrid()
        self.filter_grid.layout().setContentsMargins(0, 4, 0, 0)
        self.filter_grid.hide()   # hidden before it joins a layout, so no stale minimum size
        self.plots = QSplitter(Qt.Orientation.Vertical)
        self.plots.addWidget(self.weights_view)
        self.plots.addWidget(self.filter_grid)
        self.plots.setChildrenCollapsible(False)
        self.plots.setStretchFactor(0, 2)
        self.plots.setStretchFactor(1, 3)
        layout = QVBoxLayout(self.details)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.layer_title)
        layout.addWidget(self.layer_summary)
        layout.addWidget(self.status_label)
        layout.addWidget(self.plots, 1)
        self.details.setMinimumWidth(scaled(320))

    # ------------------------------------------------------------------ public API

    def set_model(self, model: Any, info: Any, title: str, notes: list[str] | None = None) -> None:
        """Show `model` (a keras.Model) as described by `info` (core.inspection.ModelInfo).

        `title` names it (the file name); `notes` are shown in a line under the header.
        Nothing heavy runs here: weight statistics are computed when a layer is picked.
        """
        self.weight_stats.forget_model()
        self._model, self._info = model, info
        self._keras_layers = {layer.name: layer for layer in getattr(model, "layers", [])}
        self._fill_header(info, title, notes or [])
        self._fill_layer_table(info)
        self.graph.set_info(info)
        self._show_layer(0 if info.layers else None)

    def clear(self) -> None:
        """Show nothing (no model open)."""
        self.weight_stats.forget_model()
        self._model, self._info, self._keras_layers = None, None, {}
        self.title_label.setText("No model open")
        self.shapes_label.setText("Open a saved Keras model (.keras or .h5) to inspect it.")
        for label in (self.totals_label, self.notes_label, self.problems_label):
            label.setText("")
            label.hide()
        self.layer_table.setRowCount(0)
        self.graph.set_info(None)
        self.set_edit_copy(False, "")
        self._show_layer(None)

    def set_edit_copy(self, enabled: bool, reason: str = "") -> None:
        """Enable "Edit a copy in the builder", or disable it saying why (e.g. which layers
        the builder does not support)."""
        self.edit_button.setEnabled(enabled)
        if enabled:
            self.edit_button.setToolTip(reason or "Open an editable copy of this architecture "
                                                  "in the builder (the file stays as it is).")
            self.edit_note.hide()
            self._edit_reason = ""
        else:
            self.edit_button.setToolTip(reason)
            self.edit_note.setToolTip(reason)
            self._edit_reason = reason
            self._fit_edit_note()
            self.edit_note.setVisible(bool(reason))

    def model_info(self) -> Any:
        return self._info

    def select_layer(self, index: int | None) -> None:
        """Pick layer `index` (into info.layers) in the table and graph, and show its weights."""
        self._show_layer(index)

    def selected_layer(self) -> int | None:
        return self._shown_layer

    def weight_stats_shown(self) -> list[Any]:
        """The WeightStats on screen (empty while computing or for a layer without weights)."""
        return self.weights_view.stats()

    @property
    def busy(self) -> bool:
        """True while a statistics task runs or waits to run."""
        return self.weight_stats.busy

    def shutdown(self) -> None:
        """Stop background work (call before the panel is destroyed)."""
        self.weight_stats.shutdown()

    # ------------------------------------------------------------------ header and table

    def _fill_header(self, info: Any, title: str, notes: list[str]) -> None:
        name = info.name or "model"
        self.title_label.setText(f"{title}  —  {name}" if title and title != name else name)
        inputs = ", ".join(keras_shape(s) for s in info.input_shapes) or "—"
        outputs = ", ".join(keras_shape(s) for s in info.output_shapes) or "—"
        count = len(info.layers)
        kind = ("a chain of layers, one after another" if info.is_chain
                else "a graph with branches and merges")
        self.shapes_label.setText(
            f"{'Inputs' if len(info.input_shapes) > 1 else 'Input'} {inputs}  →  "
            f"{'Outputs' if len(info.output_shapes) > 1 else 'Output'} {outputs}  ·  "
            f"{count} layer{'s' if count != 1 else ''}, {kind}"
            + (f"  ·  {info.num_classes} classes" if info.num_classes else ""))
        self.totals_label.setText(
            f"Total params: {params_with_size(info.total_params)}  ·  "
            f"Trainable: {params_with_size(info.trainable_params)}  ·  "
            f"Non-trainable: {params_with_size(info.non_trainable_params)}")
        self.totals_label.show()
        self.notes_label.setText("  ·  ".join(notes))
        self.notes_label.setVisible(bool(notes))
        problems = []
        if info.explain_problem:
            problems.append(f"Explain: {info.explain_problem}")
        if info.evaluate_problem:
            problems.append(f"Evaluate: {info.evaluate_problem}")
        self.problems_label.setText("\n".join(problems))
        self.problems_label.setVisible(bool(problems))

    def _fill_layer_table(self, info: Any) -> None:
        table = self.layer_table
        fit_rows_to_font(table)
        self._programmatic = True
        try:
            table.clearContents()
            table.setRowCount(len(info.layers))
            rows: list[tuple[str, ...]] = []
            for row, layer in enumerate(info.layers):
                # A merge lists one input per line: a taller row that stands out, never cut.
                texts = (str(row), layer.name, layer.layer_type, keras_shape(layer.output_shape),
                         count_text(layer.params), layer.activation or "",
                         "\n".join(layer.inbound or []))
                rows.append(texts)
                for column, text in enumerate(texts):
                    item = table_item(text, right=column in (NUMBER, PARAMS))
                    if column in (NAME, SHAPE, INBOUND):
                        item.setToolTip(text)
                    if column == PARAMS:
                        item.setToolTip(f"{count_text(layer.trainable_params)} trainable, "
                                        f"{count_text(layer.params - layer.trainable_params)} not")
                    elif column == INBOUND and len(layer.inbound or []) > 1:
                        item.setToolTip(f"{layer.name} merges {len(layer.inbound)} inputs: "
                                        + ", ".join(layer.inbound))
                        item.setForeground(QBrush(QColor("#1565c0")))
                    table.setItem(row, column, item)
                lines = len(layer.inbound or []) if not info.is_chain else 1
                table.setRowHeight(row, table.verticalHeader().defaultSectionSize()
                                   + max(lines - 1, 0) * table.fontMetrics().lineSpacing())
        finally:
            self._programmatic = False
        table.setColumnHidden(INBOUND, info.is_chain)
        self._layer_widths = natural_widths(table, rows)
        fit_columns(table, self._layer_widths, (NAME, TYPE))
        self._split_sizes()

    # ------------------------------------------------------------------ picking a layer

    def _on_table_row(self, row: int, _column: int, previous: int, _previous_column: int) -> None:
        if not self._programmatic and row != previous and row >= 0:
            self._show_layer(row)

    def _on_graph_click(self, index: int) -> None:
        self._show_layer(index)

    def _activate(self, row: int) -> None:
        if self._info is not None and 0 <= row < len(self._info.layers):
            self.layer_activated.emit(self._info.layers[row].name)

    def _show_layer(self, index: int | None) -> None:
        info = self._info
        if info is None or index is None or not 0 <= index < len(info.layers):
            index = None
        self._shown_layer = index
        self._sync_selection(index)
        if index is None:
            self.layer_title.setText("")
            self.layer_summary.setText("")
            self.weight_stats.show_nothing("Pick a layer to see its weights." if info else "")
            return
        layer = info.layers[index]
        self.layer_title.setText(f"{index}  {layer.name}  ·  {layer.layer_type}")
        summary = [f"output {keras_shape(layer.output_shape)}", f"{count_text(layer.params)} parameters"]
        if layer.activation:
            summary.append(f"activation {layer.activation}")
        if layer.inbound and not info.is_chain:
            summary.append("inputs from " + ", ".join(layer.inbound))
        self.layer_summary.setText("  ·  ".join(summary))
        self.weight_stats.show_layer(index, layer.name, self._keras_layers.get(layer.name),
                                     layer.layer_type in ("Conv2D", "Conv1D"))

    def _sync_selection(self, index: int | None) -> None:
        self._programmatic = True
        try:
            if index is None:
                self.layer_table.clearSelection()
                self.layer_table.setCurrentCell(-1, -1)
            else:
                self.layer_table.setCurrentCell(index, NAME)
                self.layer_table.selectRow(index)
                self.layer_table.scrollToItem(self.layer_table.item(index, NAME))
        finally:
            self._programmatic = False
        self.graph.select(index)

    def _fit_edit_note(self) -> None:
        """At most about two lines of the reason; the tooltip has all of it."""
        text = f"Can't edit a copy in the builder: {self._edit_reason}"
        width = max(self.header.width(), 400)
        self.edit_note.setText(self.edit_note.fontMetrics().elidedText(
            text, Qt.TextElideMode.ElideRight, int(width * 1.5)))

    def _remember_split(self, *_args) -> None:
        self._user_split = True

    def _split_sizes(self) -> None:
        """Give the layer list the width its columns need (40-54% of the panel), the rest to
        the weights; after the user drags the divider, leave it where they put it."""
        width = self.splitter.width()
        if self._user_split or width <= 0:
            return
        visible = [w for c, w in enumerate(self._layer_widths)
                   if not self.layer_table.isColumnHidden(c)]
        wanted = sum(visible) + 2 * self.layer_table.frameWidth() + 22
        left = int(max(width * 0.40, min(width * 0.54, wanted)))
        self.splitter.setSizes([left, width - left - self.splitter.handleWidth()])

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:    # the zoom: rows and columns follow
            self.tabs.setMinimumWidth(scaled(300))
            self.details.setMinimumWidth(scaled(320))
            if self._info is not None:
                self._fill_layer_table(self._info)
                self._sync_selection(self._shown_layer)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._split_sizes()
        if self._edit_reason:
            self._fit_edit_note()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            if watched is self.layer_table.viewport() and self._layer_widths:
                fit_columns(self.layer_table, self._layer_widths, (NAME, TYPE))
        return super().eventFilter(watched, event)
