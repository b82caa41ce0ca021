"""The sweep's dimensions as editable rows "NAME = V1, V2, ...", each checked as it is typed.

NAME is picked (or typed) from the training settings and the LAYER.PARAM parameters of the
chosen specs; a row that core's `parse_dimension` refuses shows its plain message under it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.experiments.sweep import SETTINGS, parse_dimension
from cnnviz.core.experiments.sweep_storage import SweepError
from cnnviz.core.model.spec_params import param_defs
from cnnviz.ui.common.zoom import set_relative_font

ERROR_STYLE = "color: #a31511;"
EXAMPLES = {"learning_rate": "0.01, 0.001", "batch_size": "32, 64", "optimizer": "adam, sgd",
            "epochs": "1, 3", "momentum": "0.5, 0.9", "early_stopping": "true, false",
            "patience": "2, 5", "seed": "1, 2, 3"}


def plain(message: str) -> str:
    """Core's message without the command line's "--param " in front."""
    return message.removeprefix("--param ")


def dimension_names(specs: dict[str, Any]) -> list[str]:
    """The settings, then every LAYER.PARAM of the specs (each once, in layer order)."""
    names = list(SETTINGS)
    for spec in specs.values():
        for layer, layer_name in zip(spec.layers, spec.layer_names()):
            for definition in param_defs(layer.type):
                key = f"{layer_name}.{definition.name}"
                if key not in names:
                    names.append(key)
    return names


class DimensionRow(QWidget):
    """One dimension: a name, its values, a remove button, and the problem in words."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.name.setMinimumContentsLength(14)
        self.name.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.name.setToolTip("A training setting, or LAYER.PARAM of the model (conv2d.filters)")
        self.values = QLineEdit()
        self.values.setPlaceholderText("values, comma-separated")
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this dimension")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        set_relative_font(self.message, 0.95)
        self.message.hide()
        self.set_names(names)
        self.name.setCurrentText("")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.name, 2)
        top.addWidget(QLabel("="))
        top.addWidget(self.values, 3)
        top.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.message)
        self.name.currentTextChanged.connect(self._name_changed)
        self.values.textChanged.connect(lambda _t: self.changed.emit())
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    def set_names(self, names: list[str]) -> None:
        current = self.name.currentText()
        self.name.blockSignals(True)
        self.name.clear()
        self.name.addItems(names)
        self.name.setCurrentText(current)
        self.name.blockSignals(False)

    def _name_changed(self, name: str) -> None:
        self.values.setPlaceholderText(f"for example {EXAMPLES[name]}" if name in EXAMPLES
                                       else "values, comma-separated")
        self.changed.emit()

    @property
    def blank(self) -> bool:
        return not self.name.currentText().strip() and not self.values.text().strip()

    def text(self) -> str:
        """The row as core reads it: NAME=V1,V2,..."""
        return f"{self.name.currentText().strip()}={self.values.text()}"

    def check(self, specs: dict[str, Any]) -> str | None:
        """Show and return the row's problem (None when it is fine or blank)."""
        problem = None
        if not self.blank and "." in self.name.currentText() and not specs:
            problem = "Tick a model to vary the parameters of its layers."
        elif not self.blank:
            try:
                parse_dimension(self.text(), specs)
            except SweepError as exc:
                problem = plain(str(exc))
        self.message.setText(problem or "")
        self.message.setVisible(problem is not None)
        return problem


class DimensionEditor(QWidget):
    """The rows, an "Add dimension" button; `changed` after every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs: dict[str, Any] = {}
        self.rows: list[DimensionRow] = []
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self.add_button = QPushButton("Add dimension")
        self.add_button.setToolTip("Vary one more setting or layer parameter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._rows_layout)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(lambda: self.add_row())

    def set_specs(self, specs: dict[str, Any]) -> None:
        """The models chosen: their layer parameters become names; rows are checked again."""
        self.specs = dict(specs)
        names = dimension_names(self.specs)
        for row in self.rows:
            row.set_names(names)
        self.check()

    def add_row(self, name: str = "", values: str = "") -> DimensionRow:
        row = DimensionRow(dimension_names(self.specs))
        row.name.setCurrentText(name)
        row.values.setText(values)
        row.changed.connect(self._row_changed)
        row.remove_requested.connect(self.remove_row)
        self.rows.append(row)
        self._rows_layout.addWidget(row)
        self._row_changed()
        return row

    def remove_row(self, row: DimensionRow) -> None:
        self.rows.remove(row)
        self._rows_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self._row_changed()

    def _row_changed(self) -> None:
        self.check()
        self.changed.emit()

    def check(self) -> list[str]:
        """Every row's problem (shown under it)."""
        return [p for p in (row.check(self.specs) for row in self.rows) if p]

    def texts(self) -> list[str]:
        """The dimensions as core reads them (blank rows left out)."""
        return [row.text() for row in self.rows if not row.blank]
