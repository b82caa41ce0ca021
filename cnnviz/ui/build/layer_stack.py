"""The layer stack: an ordered list of layers with drag-and-drop and keyboard editing.

The model reads the SpecDocument; every change (drop, key, context menu) becomes one
undoable document edit, so the list never holds state of its own. A frozen layer
(trainable=False) is drawn with a snowflake, a tinted row and a hatched colour chip; Ctrl+F
or the context menu freezes and unfreezes the selected layers.
"""

from __future__ import annotations

from PySide6.QtCore import (QAbstractListModel, QEvent, QItemSelectionModel, QMimeData, QModelIndex,
                            QPersistentModelIndex, QRect, QSize, Qt, Signal)
from PySide6.QtGui import QBrush, QColor, QContextMenuEvent, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QListView, QMenu, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem)

from cnnviz.core.errors import SpecError
from cnnviz.core.formatting import count_text, dims_text
from cnnviz.core.model import spec_edits
from cnnviz.core.model.layer_text import layer_summary
from cnnviz.core.model.shapes import LayerReport
from cnnviz.core.model.spec_params import LAYER_DESCRIPTIONS, PRETRAINED_BASE
from cnnviz.core.model.spec import LayerSpec
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.layer_style import layer_color
from cnnviz.ui.common.pretrained_bases import base_label, block_file_missing
from cnnviz.ui.common.zoom import presenting, scaled, watch_zoom
from cnnviz.workspace import SpecDocument

ROW_MIME = "application/x-cnnviz-layer-row"
TYPE_MIME = "application/x-cnnviz-layer-type"

REPORT_ROLE = Qt.ItemDataRole.UserRole + 1
LAYER_ROLE = Qt.ItemDataRole.UserRole + 2

FROZEN_GLYPH = "❄"
FROZEN_ROW = QColor(227, 238, 251)  # a cold tint behind a frozen layer's row
FROZEN_INK = QColor(26, 77, 143)
FREEZE_KEYS = "Ctrl+F"


def layer_title(layer: LayerSpec) -> str:
    """A row's name: the type, or the network and cut for a pre-built base."""
    return base_label(layer) if layer.type == PRETRAINED_BASE else layer.type


def row_summary(layer: LayerSpec, report: LayerReport) -> str:
    """The settings beside the title; for a base, its parameters (trainable or not)."""
    if layer.type == PRETRAINED_BASE:
        if block_file_missing(layer):
            return "its prepared file is missing"
        return f"{count_text(report.params)} parameters"
    return layer_summary(layer)


def frozen_tooltip(params: int) -> str:
    """The sentence saying a layer is frozen and what that means for its parameters."""
    if params:
        return f"Frozen: its {count_text(params)} parameters are not trained."
    return "Frozen (it has no parameters to train)."


class LayerStackModel(QAbstractListModel):
    """A list model over the document's layers; drops become document edits."""

    def __init__(self, document: SpecDocument) -> None:
        super().__init__()
        self._document = document
        self._count = len(document.spec.layers)
        document.changed.connect(self._reload)

    def _reload(self) -> None:
        count = len(self._document.spec.layers)
        if count == self._count and count:
            # Same rows, new contents: keep the selection (and the property editor's focus).
            self.dataChanged.emit(self.index(0), self.index(count - 1))
        else:
            self.beginResetModel()
            self._count = count
            self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._document.spec.layers)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._document.spec.layers):
            return None
        layer = self._document.spec.layers[index.row()]
        report = self._document.report.layers[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            frozen = "" if layer.trainable else f"{FROZEN_GLYPH} frozen "
            return (f"{frozen}{layer_title(layer)} {row_summary(layer, report)} → "
                    f"{dims_text(report.output_shape)}")
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"<b>{report.name}</b> ({layer.type})<br>{LAYER_DESCRIPTIONS.get(layer.type, '')}"
            if layer.type == PRETRAINED_BASE:
                tip += f"<br>{layer_title(layer)}"
                if block_file_missing(layer):
                    tip += ("<br><span style='color:#b3261e'>⚠ Its prepared file is missing: "
                            "Prepare again.</span>")
            if not layer.trainable:
                tip += f"<br><br>{FROZEN_GLYPH} {frozen_tooltip(report.params)}"
            if report.error:
                tip += f"<br><br><span style='color:#b3261e'>⚠ {report.error}</span>"
            elif report.warning:
                tip += f"<br><br>⚠ {report.warning}"
            return tip
        if role == REPORT_ROLE:
            return report
        if role == LAYER_ROLE:
            return layer
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        return (base | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled) & ~Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [ROW_MIME, TYPE_MIME]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802
        data = QMimeData()
        if indexes:
            data.setData(ROW_MIME, str(indexes[0].row()).encode())
        return data

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,  # noqa: N802
                     parent: QModelIndex | QPersistentModelIndex) -> bool:
        count = len(self._document.spec.layers)
        if row < 0:
            row = parent.row() if parent.isValid() else count
        spec = self._document.spec
        if data.hasFormat(ROW_MIME):
            source = int(bytes(data.data(ROW_MIME)).decode())
            target = row if row <= source else row - 1
            if not 0 <= source < count or target == source:
                return False
            name = self._document.report.layers[source].name
            self._document.apply(spec_edits.move_layer(spec, source, target),
                                 f"Move {name}", select=target, current=source)
            return True
        if data.hasFormat(TYPE_MIME):
            layer_type = bytes(data.data(TYPE_MIME)).decode()
            try:
                edited = spec_edits.insert_layer(spec, row, LayerSpec.new(layer_type))
            except SpecError as exc:  # the stack is at its size limit
                dialogs.show_error(None, "Cannot add a layer", str(exc))
                return False
            self._document.apply(edited, f"Add {layer_type}", select=row)
            return True
        return False


class LayerRowDelegate(QStyledItemDelegate):
    """Paints a row: number, colour chip, type, settings, output shape, and any error below.

    Every size comes from the view's font and the zoom, so rows grow with the zoom."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    @staticmethod
    def _pad() -> int:
        return scaled(6)

    def _number_width(self) -> int:
        return self._view.fontMetrics().horizontalAdvance("000") + scaled(4)

    @staticmethod
    def _chip_width() -> int:
        return scaled(6)

    def _error_rect_width(self) -> int:
        return max(80, self._view.viewport().width() - self._number_width()
                   - self._chip_width() - 4 * self._pad())

    def _message(self, report: LayerReport) -> str | None:
        if report.error:
            return "⚠ " + report.error
        if report.warning:
            return "⚠ " + report.warning
        return None

    def _text_left(self) -> int:
        return self._pad() + self._number_width() + self._chip_width() + self._pad()

    @staticmethod
    def _title(layer: LayerSpec) -> str:
        """The bold title: the type, after a snowflake when the layer is frozen."""
        title = layer_title(layer)
        return title if layer.trainable else f"{FROZEN_GLYPH} {title}"

    def _summary_below(self, font: QFont, layer: LayerSpec, report: LayerReport) -> bool:
        """Whether the settings ("32 filters 3×3, relu") do not fit between the type and the
        shape, and so take a line of their own below them (a narrow list, a large zoom)."""
        bold = QFont(font)
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        shape_w = bold_metrics.horizontalAdvance(dims_text(report.output_shape)) + self._pad()
        right = self._view.viewport().width() - self._pad()
        room = (right - shape_w - self._text_left() - bold_metrics.horizontalAdvance(self._title(layer))
                - scaled(8) - 4)
        return QFontMetrics(font).horizontalAdvance(row_summary(layer, report)) > room

    def shape_below(self, font: QFont, layer: LayerSpec, report: LayerReport) -> bool:
        """Whether even the type and the shape do not fit on one line ("BatchNormalization"
        beside "150×32" in a narrow list): the shape then goes to the second line."""
        bold = QFont(font)
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        shape_w = bold_metrics.horizontalAdvance(dims_text(report.output_shape)) + self._pad()
        right = self._view.viewport().width() - self._pad()
        return (self._text_left() + bold_metrics.horizontalAdvance(self._title(layer)) + scaled(8)
                + shape_w > right)

    def _two_lines(self, font: QFont, layer: LayerSpec, report: LayerReport) -> bool:
        return self._summary_below(font, layer, report) or self.shape_below(font, layer, report)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        metrics = QFontMetrics(option.font)
        height = metrics.height() + 2 * self._pad() + 2
        report: LayerReport | None = index.data(REPORT_ROLE)
        layer: LayerSpec | None = index.data(LAYER_ROLE)
        if report is not None and layer is not None and self._two_lines(option.font, layer,
                                                                          report):
            height += metrics.height() + 2
        message = self._message(report) if report else None
        if message:
            bounds = metrics.boundingRect(QRect(0, 0, self._error_rect_width(), 2000),
                                          Qt.TextFlag.TextWordWrap, message)
            height += bounds.height() + 2
        return QSize(200, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        report: LayerReport | None = index.data(REPORT_ROLE)
        layer: LayerSpec | None = index.data(LAYER_ROLE)
        if report is None or layer is None:
            return
        painter.save()
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        elif report.error:
            painter.fillRect(rect, QColor(253, 236, 234))
        elif not layer.trainable:
            painter.fillRect(rect, FROZEN_ROW)
        elif index.row() % 2:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        text_color = palette.color(QPalette.ColorRole.HighlightedText if selected
                                   else QPalette.ColorRole.Text)
        muted = QColor(text_color)
        muted.setAlpha(220 if presenting() else 150)  # high contrast on a projector
        metrics = QFontMetrics(option.font)
        line_h = metrics.height()
        pad, number_w, chip_w = self._pad(), self._number_width(), self._chip_width()
        top = rect.top() + pad
        x = rect.left() + pad

        painter.setPen(muted)
        painter.drawText(QRect(x, top, number_w - scaled(4), line_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         str(index.row() + 1))
        x += number_w
        chip = QColor(211, 47, 47) if report.error else layer_color(layer.type)
        chip_rect = QRect(x, rect.top() + 3, chip_w, rect.height() - 6)
        painter.fillRect(chip_rect, chip)
        if not layer.trainable:  # hatched: its weights are fixed
            painter.fillRect(chip_rect, QBrush(QColor(255, 255, 255, 200),
                                               Qt.BrushStyle.BDiagPattern))
        x += chip_w + pad

        shape = dims_text(report.output_shape)
        bold = QFont(option.font)
        bold.setBold(True)
        shape_w = QFontMetrics(bold).horizontalAdvance(shape) + pad
        right = rect.right() - pad
        painter.setFont(bold)
        painter.setPen(text_color)
        shape_below = self.shape_below(option.font, layer, report)
        shape_top = top + line_h + 2 if shape_below else top
        painter.drawText(QRect(right - shape_w, shape_top, shape_w, line_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shape)
        title = self._title(layer)
        if shape_below:   # a long title (a pre-built base's network and cut) is elided
            title = QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideRight,
                                                  max(0, right - x))
        type_w = QFontMetrics(bold).horizontalAdvance(title)
        if not layer.trainable and not selected:
            painter.setPen(FROZEN_INK)
        painter.drawText(QRect(x, top, type_w + 2, line_h), Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(option.font)
        painter.setPen(muted)
        gap = scaled(8)
        if shape_below:
            summary_rect = QRect(x, top + line_h + 2, max(0, right - shape_w - x - 4), line_h)
            top += line_h + 2
        elif self._summary_below(option.font, layer, report):
            summary_rect = QRect(x, top + line_h + 2, max(0, right - x), line_h)
            top += line_h + 2
        else:
            summary_rect = QRect(x + type_w + gap, top,
                                 max(0, right - shape_w - x - type_w - gap - 4), line_h)
        painter.drawText(summary_rect, Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(row_summary(layer, report), Qt.TextElideMode.ElideRight,
                                            summary_rect.width()))
        message = self._message(report)
        if message:
            painter.setPen(text_color if selected else
                           (QColor(179, 38, 30) if report.error else QColor(138, 90, 0)))
            painter.drawText(QRect(x, top + line_h + 2, self._error_rect_width(), 2000),
                             Qt.TextFlag.TextWordWrap, message)
        painter.restore()


class LayerStackView(QListView):
    """The stack list. Keys: Delete removes, Ctrl+D duplicates, Alt+Up/Down move, Ctrl+F
    freezes or unfreezes the selected layers (Ctrl/Shift+click selects several)."""

    current_layer_changed = Signal(int)  # -1 when nothing is selected

    def __init__(self, document: SpecDocument) -> None:
        super().__init__()
        self._document = document
        self.setModel(LayerStackModel(document))
        self.setItemDelegate(LayerRowDelegate(self))
        # Several layers may be selected to freeze them together; the current one is edited.
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setAccessibleName("Layer stack")
        self.setToolTip("")
        self.selectionModel().currentChanged.connect(
            lambda current, _previous: self.current_layer_changed.emit(
                current.row() if current.isValid() else -1))
        document.selection_hint.connect(self.select_layer)
        document.changed.connect(self._relayout_rows)
        self.model().modelAboutToBeReset.connect(self._remember_selection)
        self.model().modelReset.connect(self._after_reset)
        self._pending_selection = -1
        watch_zoom(self.viewport().update)  # presentation mode's stronger colours

    def _relayout_rows(self) -> None:
        """Row heights follow the errors shown under the layers."""
        self.scheduleDelayedItemsLayout()

    def current_layer(self) -> int:
        index = self.currentIndex()
        return index.row() if index.isValid() else -1

    def select_layer(self, row: int) -> None:
        """Select and show a layer (clamped to the stack); -1 clears the selection."""
        count = self.model().rowCount()
        if count == 0 or row < 0:
            self.selectionModel().clearSelection()
            self.setCurrentIndex(QModelIndex())
            self.current_layer_changed.emit(-1)
            return
        row = min(row, count - 1)
        index = self.model().index(row, 0)
        self.setCurrentIndex(index)
        self.scrollTo(index)

    def _remember_selection(self) -> None:
        self._pending_selection = self.current_layer()

    def _after_reset(self) -> None:
        # Keep the selection on the same row; a selection_hint may move it right after.
        self.select_layer(self._pending_selection)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()  # error lines re-wrap to the new width

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.scheduleDelayedItemsLayout()  # the zoom changed the rows' height

    # ------------------------------------------------------------- keyboard edits

    def keyPressEvent(self, event) -> None:  # noqa: N802
        row = self.current_layer()
        key = event.key()
        alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
        if row >= 0 and key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_current()
        elif row >= 0 and alt and key == Qt.Key.Key_Up:
            self.move_current(-1)
        elif row >= 0 and alt and key == Qt.Key.Key_Down:
            self.move_current(+1)
        elif row >= 0 and key == Qt.Key.Key_D and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.duplicate_current()
        elif row >= 0 and key == Qt.Key.Key_F and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.toggle_frozen()
        else:
            super().keyPressEvent(event)

    def selected_layers(self) -> list[int]:
        """The selected rows in stack order; the current row alone when none is selected."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        if not rows and self.current_layer() >= 0:
            rows = [self.current_layer()]
        return rows

    def toggle_frozen(self) -> None:
        """Freeze the selected layers, or unfreeze them when all are frozen already: one
        undoable edit."""
        rows = self.selected_layers()
        if not rows:
            return
        layers = self._document.spec.layers
        self.set_frozen(rows, freeze=any(layers[row].trainable for row in rows))

    def set_frozen(self, rows: list[int], freeze: bool) -> None:
        """Freeze (or unfreeze) the layers at `rows` as one undoable edit."""
        rows = [row for row in rows if 0 <= row < len(self._document.spec.layers)]
        if not rows:
            return
        names = self._document.report.layers
        what = names[rows[0]].name if len(rows) == 1 else f"{len(rows)} layers"
        current = self.current_layer()
        edited = spec_edits.set_trainable(self._document.spec, rows, not freeze)
        self._document.apply(edited, f"{'Freeze' if freeze else 'Unfreeze'} {what}",
                             current=current)
        self._reselect(rows, current)

    def _reselect(self, rows: list[int], current: int) -> None:
        """Keep the same rows selected after an edit (an edit may reset the selection)."""
        model, selection = self.model(), self.selectionModel()
        if current >= 0:
            self.setCurrentIndex(model.index(current, 0))
        for row in rows:
            selection.select(model.index(row, 0), QItemSelectionModel.SelectionFlag.Select)

    def context_menu(self) -> QMenu:
        """The menu for the selected layers: freeze or unfreeze them, freeze every layer up
        to the last of them, unfreeze all, duplicate, delete (empty with nothing selected)."""
        rows = self.selected_layers()
        menu = QMenu(self)
        if not rows:
            return menu
        layers = self._document.spec.layers
        freeze = any(layers[row].trainable for row in rows)
        what = "layer" if len(rows) == 1 else f"{len(rows)} layers"
        action = menu.addAction(f"{'Freeze' if freeze else 'Unfreeze'} {what}",
                                lambda: self.set_frozen(rows, freeze))
        action.setShortcut(FREEZE_KEYS)
        action.setToolTip("A frozen layer keeps its weights while the rest trains.")
        last = rows[-1]
        if last > 0:
            menu.addAction(f"Freeze layers 1–{last + 1}",
                           lambda: self.set_frozen(list(range(last + 1)), True))
        if not all(layer.trainable for layer in layers):
            menu.addAction("Unfreeze all layers",
                           lambda: self.set_frozen(list(range(len(layers))), False))
        menu.addSeparator()
        menu.addAction("Duplicate", self.duplicate_current).setShortcut("Ctrl+D")
        menu.addAction("Delete", self.remove_current).setShortcut("Del")
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        index = self.indexAt(event.pos())
        if index.isValid() and index.row() not in self.selected_layers():
            self.select_layer(index.row())
        menu = self.context_menu()
        if not menu.isEmpty():
            menu.exec(event.globalPos())

    def remove_current(self) -> None:
        row = self.current_layer()
        if row < 0:
            return
        spec = self._document.spec
        name = self._document.report.layers[row].name
        self._document.apply(spec_edits.remove_layer(spec, row), f"Delete {name}",
                             select=min(row, len(spec.layers) - 2), current=row)

    def duplicate_current(self) -> None:
        row = self.current_layer()
        if row < 0:
            return
        name = self._document.report.layers[row].name
        try:
            edited = spec_edits.duplicate_layer(self._document.spec, row)
        except SpecError as exc:  # the stack is at its size limit
            dialogs.show_error(self, "Cannot add a layer", str(exc))
            return
        self._document.apply(edited, f"Duplicate {name}", select=row + 1, current=row)

    def move_current(self, delta: int) -> None:
        row = self.current_layer()
        target = row + delta
        if row < 0 or not 0 <= target < len(self._document.spec.layers):
            return
        name = self._document.report.layers[row].name
        self._document.apply(spec_edits.move_layer(self._document.spec, row, target),
                             f"Move {name}", select=target, current=row)

    def insert_layer(self, layer_type: str) -> None:
        """Add a layer of this type below the selected one (at the end if none)."""
        row = self.current_layer()
        at = row + 1 if row >= 0 else len(self._document.spec.layers)
        try:
            edited = spec_edits.insert_layer(self._document.spec, at, LayerSpec.new(layer_type))
        except SpecError as exc:  # the stack is at its size limit
            dialogs.show_error(self, "Cannot add a layer", str(exc))
            return
        self._document.apply(edited, f"Add {layer_type}", select=at, current=row)
