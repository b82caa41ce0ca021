"""What a transfer model will train: "N frozen / M trainable parameters" (counted as Keras
counts them) and its layers, the frozen ones greyed with a "frozen" mark."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from cnnviz.ui.common.zoom import set_relative_font

FROZEN_TEXT = QColor("#7a7a7a")
TRAINS_TEXT = QColor("#1b5e20")
COLUMNS = ("", "Layer", "Type", "Parameters")  # the mark first: never scrolled out of sight


def layer_rows(transfer: Any) -> list[tuple[str, str, int, bool, bool]]:
    """(name, type, parameters, frozen, in the base) for every layer of the transfer model,
    the base's own layers in place of the nested base model."""
    import keras

    rows: list[tuple[str, str, int, bool, bool]] = []
    for layer in transfer.model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if layer is transfer.base_part:
            for inner in layer.layers:
                if isinstance(inner, keras.layers.InputLayer):
                    continue
                frozen = not (layer.trainable and inner.trainable)
                rows.append((inner.name, type(inner).__name__, int(inner.count_params()),
                             frozen, True))
            continue
        weights = layer.weights
        frozen = bool(weights) and not layer.trainable
        rows.append((layer.name, type(layer).__name__,
                     int(layer.count_params()) if weights else 0, frozen, False))
    return rows


class TransferSummary(QWidget):
    """The counts line and the layer list of one transfer model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts = QLabel("Open a base and load data to see what will be trained.")
        self.counts.setWordWrap(True)
        set_relative_font(self.counts, 1.25, bold=True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.layers = QTreeWidget()
        self.layers.setHeaderLabels(list(COLUMNS))
        self.layers.setRootIsDecorated(False)
        self.layers.setUniformRowHeights(True)
        self.layers.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.counts)
        layout.addWidget(self.detail)
        layout.addWidget(self.layers, 1)
        self.trainable = self.frozen = 0

    def fit_columns(self) -> None:
        """Columns as wide as their contents (again after a zoom change)."""
        for column in range(len(COLUMNS)):
            self.layers.resizeColumnToContents(column)

    def clear(self, message: str) -> None:
        self.counts.setText(message)
        self.detail.clear()
        self.layers.clear()
        self.trainable = self.frozen = 0

    def show_model(self, transfer: Any, base_layers: int, unfrozen: int) -> None:
        """Show `transfer` (a core TransferModel): its counts and layers, as they are now."""
        from cnnviz.core.transfer.transfer_model import parameter_counts

        self.trainable, self.frozen = parameter_counts(transfer.model)
        self.counts.setText(f"{self.frozen:,} frozen / {self.trainable:,} trainable parameters")
        base_state = (f"the top {unfrozen} of its {base_layers} layers unfrozen for fine-tuning"
                      if unfrozen else f"all {base_layers} layers frozen")
        notes = "".join(f"<br>{note}" for note in transfer.notes)
        self.detail.setText(f"Base <b>{transfer.base_name}</b> cut at "
                            f"<b>{transfer.cut_layer}</b>: {base_state}. Then the new head."
                            + notes)
        self.layers.clear()
        grey, green = QBrush(FROZEN_TEXT), QBrush(TRAINS_TEXT)
        items = []
        for name, kind, params, frozen, in_base in layer_rows(transfer):
            mark = "❄ frozen" if frozen else ("trains" if params else "")
            item = QTreeWidgetItem([mark, ("  " if in_base else "") + name, kind,
                                    f"{params:,}" if params else "–"])
            for column in range(len(COLUMNS)):
                item.setForeground(column, grey if frozen else QBrush())
            if not frozen and params:
                item.setForeground(0, green)
            item.setData(0, 0x0100, frozen)  # Qt.UserRole: tests and tools read the state
            items.append(item)
        self.layers.addTopLevelItems(items)
        self.fit_columns()
        if items:
            self.layers.scrollToItem(items[-1])
