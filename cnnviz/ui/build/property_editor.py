"""The property editor for the selected layer, and the input-shape editor.

Widgets are built from the parameter definitions in core/spec.py, so each one has
exactly the valid range Keras accepts. Every change becomes one undoable edit; typing
in one field merges into a single undo step.

A pre-built base (PretrainedBase) has no editable parameters: what it is and what was
measured when it was prepared are shown read-only, and "Change base…" asks for another
(the builder prepares it and replaces the layer as one edit).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, QKeyCombination, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QPalette, QResizeEvent
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox,
                               QStackedWidget, QVBoxLayout, QWidget)

from cnnviz.core.model import spec_edits
from cnnviz.core.errors import SpecError
from cnnviz.core.model.spec_params import (
    LAYER_DESCRIPTIONS, MAX_CHANNELS, MAX_INPUT_SIDE, MAX_INPUT_STEPS, MAX_SEQUENCE_CHANNELS,
    PRETRAINED_BASE, ParamDef, param_defs,
)
from cnnviz.core.formatting import count_text, dims_text
from cnnviz.ui.common.pretrained_bases import block_file_missing, breakable, error_text
from cnnviz.ui.common.zoom import set_relative_font
from cnnviz.workspace import SpecDocument


def _set_text_colour(label: QLabel, colour: str) -> None:
    """Colour a label's text through its palette (a style sheet would fix its font)."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    label.setPalette(palette)


_CTRL_Y = QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_Y)


class ModelUndoKeys(QObject):
    """Ctrl+Z and Ctrl+Shift+Z / Ctrl+Y in a property box undo and redo the model edit.

    A spin box, line edit or combo box would otherwise take Ctrl+Z for its own text undo
    (and keep the window's Undo from seeing it), so after typing 16 in the filters box,
    Ctrl+Z did nothing to the model. Every change in these boxes is already a model edit,
    so the model's history is what the key should move. A line edit whose typing is not
    yet committed (`pending` says so) keeps its own text undo for that typing.
    """

    def __init__(self, document: SpecDocument, parent: QObject) -> None:
        super().__init__(parent)
        self._document = document
        self._pending: dict[QObject, Callable[[], bool]] = {}

    def watch(self, widget: QWidget, pending: Callable[[], bool] | None = None) -> None:
        """Route the history keys typed in `widget` (and a spin box's inner line edit)."""
        targets: list[QWidget] = [widget]
        if isinstance(widget, QAbstractSpinBox):
            targets += widget.findChildren(QLineEdit)
        for target in targets:
            target.installEventFilter(self)
            if pending is not None:
                self._pending[target] = pending
                target.destroyed.connect(lambda _=None, gone=target: self._pending.pop(gone, None))

    @staticmethod
    def history_step(event: QKeyEvent) -> str | None:
        """"undo", "redo" or None for a key event."""
        if event.matches(QKeySequence.StandardKey.Undo):
            return "undo"
        if event.matches(QKeySequence.StandardKey.Redo) or event.keyCombination() == _CTRL_Y:
            return "redo"
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        assert isinstance(event, QKeyEvent)
        step = self.history_step(event)
        pending = self._pending.get(watched)
        if step is None or (pending is not None and pending()):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            # Claim the key, so the window's Undo action does not also fire: the key press
            # then comes here and does the one undo.
            event.accept()
            return True
        if step == "undo":
            self._document.undo()
        else:
            self._document.redo()
        return True


def _spin(minimum: int, maximum: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setToolTip(tip)
    box.setKeyboardTracking(True)
    box.setAccelerated(True)
    return box


# The text of the toggle that links a pair's two boxes, per parameter.
_LINK_TEXT = {"strides": "equal"}
_LINK_TIPS = {
    "kernel_size": "Square kernel: height and width change together (typing 5 gives 5×5). "
                   "Uncheck for a non-square kernel such as 5×3.",
    "pool_size": "Square window: height and width change together. Uncheck for a "
                 "non-square window such as 2×1.",
    "strides": "Equal steps down and across: both numbers change together. Uncheck for "
               "different steps.",
}


class _ParamField:
    """One parameter's widget(s): reads and writes its value without emitting signals.

    A pair (kernel size, pool size, strides) has two boxes linked by a toggle: while it is
    on, typing in either box sets both, as one edit. It starts off for a non-square pair.
    """

    def __init__(self, definition: ParamDef, on_change: Callable[[Any], None]) -> None:
        self.definition = definition
        self.widget = QWidget()
        self._on_change = on_change
        self._boxes: list[QWidget] = []
        self._auto: QCheckBox | None = None
        self._pair: list[QSpinBox] = []
        self._link: QCheckBox | None = None
        layout = QHBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        d = definition
        if d.kind in ("int", "size"):
            box = _spin(int(d.minimum), int(d.maximum), d.help)
            box.valueChanged.connect(lambda _v: self._emit())
            self._boxes = [box]
        elif d.kind == "optional_size":
            self._auto = QCheckBox("auto")
            self._auto.setToolTip("Same as the pool size (Keras's default).")
            self._auto.toggled.connect(self._auto_toggled)
            box = _spin(int(d.minimum), int(d.maximum), d.help)
            box.valueChanged.connect(lambda _v: self._emit())
            self._boxes = [self._auto, box]
        elif d.kind == "float":
            box = QDoubleSpinBox()
            box.setDecimals(6 if d.name == "epsilon" else 3)
            top = d.maximum if d.maximum_inclusive else d.maximum - 10 ** -box.decimals()
            box.setRange(d.minimum, top)
            box.setSingleStep(0.0001 if d.name == "epsilon" else 0.05)
            box.setToolTip(d.help)
            box.valueChanged.connect(lambda _v: self._emit())
            self._boxes = [box]
        elif d.kind == "bool":
            box = QCheckBox()
            box.setToolTip(d.help)
            box.toggled.connect(lambda _v: self._emit())
            self._boxes = [box]
        elif d.kind == "choice":
            box = QComboBox()
            box.addItems(list(d.choices))
            box.setToolTip(d.help)
            box.currentTextChanged.connect(lambda _v: self._emit())
            self._boxes = [box]
        elif d.kind in ("pair", "optional_pair"):
            if d.kind == "optional_pair":
                self._auto = QCheckBox("auto")
                self._auto.setToolTip("Same as the pool size (Keras's default).")
                self._auto.toggled.connect(self._auto_toggled)
                self._boxes.append(self._auto)
            for side in range(2):
                box = _spin(int(d.minimum), int(d.maximum), d.help)
                box.valueChanged.connect(lambda value, side=side: self._pair_changed(side, value))
                self._pair.append(box)
                self._boxes.append(box)
            self._link = QCheckBox(_LINK_TEXT.get(d.name, "square"))
            self._link.setChecked(True)
            self._link.setToolTip(_LINK_TIPS.get(d.name, "Both numbers change together."))
            self._link.toggled.connect(self._link_toggled)
            self._boxes.append(self._link)
        elif d.kind == "regularizer":
            for label in ("L1", "L2"):
                box = QDoubleSpinBox()
                box.setDecimals(5)
                box.setRange(0.0, 10.0)
                box.setSingleStep(0.0001)
                box.setPrefix(f"{label} ")
                box.setToolTip(d.help)
                box.valueChanged.connect(lambda _v: self._emit())
                self._boxes.append(box)
        for box in self._boxes:
            if self._pair and box is self._pair[1]:
                layout.addWidget(QLabel("×"))
            layout.addWidget(box, 0 if isinstance(box, QCheckBox) and self._pair else 1)

    def linked(self) -> bool:
        """Whether a pair's two boxes change together (False for other kinds)."""
        return self._link is not None and self._link.isChecked()

    def _auto_toggled(self, checked: bool) -> None:
        for box in (*self._pair, self._link, *self._boxes[1:]):
            if box is not None and box is not self._auto:
                box.setEnabled(not checked)
        self._emit()

    def _pair_changed(self, side: int, value: int) -> None:
        other = self._pair[1 - side]
        if self.linked() and other.value() != value:
            other.blockSignals(True)
            other.setValue(value)
            other.blockSignals(False)
        self._emit()  # both boxes, one edit: one undo step

    def _link_toggled(self, checked: bool) -> None:
        first, second = self._pair
        if checked and first.value() != second.value():
            second.blockSignals(True)
            second.setValue(first.value())
            second.blockSignals(False)
            self._emit()

    def set_value(self, value: Any) -> None:
        for box in self._boxes:
            box.blockSignals(True)
        try:
            kind = self.definition.kind
            if kind in ("int", "float", "size"):
                self._boxes[0].setValue(value)
            elif kind == "optional_size":
                assert self._auto is not None
                self._auto.setChecked(value is None)
                self._boxes[1].setEnabled(value is not None)
                if value is not None:
                    self._boxes[1].setValue(value)
            elif kind == "bool":
                self._boxes[0].setChecked(bool(value))
            elif kind == "choice":
                self._boxes[0].setCurrentText(str(value))
            elif kind in ("pair", "optional_pair"):
                assert self._link is not None
                if self._auto is not None:
                    self._auto.setChecked(value is None)
                    for box in (*self._pair, self._link):
                        box.setEnabled(value is not None)
                if value is not None:
                    self._pair[0].setValue(value[0])
                    self._pair[1].setValue(value[1])
                    if value[0] != value[1]:
                        self._link.setChecked(False)  # a 5×3 kernel is shown unlinked
            elif kind == "regularizer":
                value = value or {"l1": 0.0, "l2": 0.0}
                self._boxes[0].setValue(value["l1"])
                self._boxes[1].setValue(value["l2"])
        finally:
            for box in self._boxes:
                box.blockSignals(False)

    def value(self) -> Any:
        kind = self.definition.kind
        boxes = self._boxes
        if kind in ("int", "float", "size"):
            return boxes[0].value()
        if kind == "optional_size":
            return None if boxes[0].isChecked() else boxes[1].value()
        if kind == "bool":
            return boxes[0].isChecked()
        if kind == "choice":
            return boxes[0].currentText()
        if kind in ("pair", "optional_pair"):
            if self._auto is not None and self._auto.isChecked():
                return None
            return [self._pair[0].value(), self._pair[1].value()]
        return {"l1": boxes[0].value(), "l2": boxes[1].value()}

    def editors(self) -> list[QWidget]:
        """The field's widgets in order; a pair's: [auto,] first box, second box, link; an
        optional size's: auto, box."""
        return self._boxes

    def _emit(self) -> None:
        self._on_change(self.value())


class _ClickLabel(QLabel):
    """A label that acts like the text of the box beside it: a click toggles the box."""

    def __init__(self, text: str, on_click: Callable[[], None]) -> None:
        super().__init__(text)
        self._on_click = on_click

    def mouseReleaseEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
                event.position().toPoint()):
            self._on_click()
        super().mouseReleaseEvent(event)


class PropertyEditor(QWidget):
    """Edits the parameters of one layer of the document. For a pre-built base:
    `change_base_requested(row)` and `prepare_again_requested()` (its file is missing)."""

    change_base_requested = Signal(int)
    prepare_again_requested = Signal()

    def __init__(self, document: SpecDocument) -> None:
        super().__init__()
        self._document = document
        self.base_values: dict[str, QLabel] = {}
        self._row = -1
        self._type: str | None = None
        self._fields: dict[str, _ParamField] = {}
        self.history_keys = ModelUndoKeys(document, self)
        self._title = QLabel()
        set_relative_font(self._title, 1.2, bold=True)  # follows the zoom
        self._description = QLabel()
        self._description.setWordWrap(True)
        _set_text_colour(self._description, "#5f6368")
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setContentsMargins(0, 4, 0, 0)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # In a narrow panel a long row (the two regulariser boxes) goes below its label
        # instead of pushing the panel wider than the window.
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setObjectName("layerMessage")
        _set_text_colour(self._message, "#b3261e")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self._title)
        layout.addWidget(self._description)
        layout.addWidget(self._form_host)
        layout.addWidget(self._message)
        layout.addStretch(1)
        document.changed.connect(self._refresh)
        self.show_layer(-1)

    def field(self, name: str) -> _ParamField:
        """The field editing parameter `name` of the shown layer (for tests and shortcuts)."""
        return self._fields[name]

    def show_layer(self, row: int) -> None:
        """Show the parameters of layer `row` (-1: nothing selected)."""
        layers = self._document.spec.layers
        row = row if 0 <= row < len(layers) else -1
        layer_type = layers[row].type if row >= 0 else None
        if row != self._row or layer_type != self._type:
            self._row, self._type = row, layer_type
            self._document.break_merge()
            self._rebuild()
        self._refresh()

    def _rebuild(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._fields.clear()
        if self._row < 0:
            return
        self._name_edit = QLineEdit()
        self._name_edit.setToolTip("The layer's name in Keras. Leave empty for the automatic one.")
        self._name_edit.editingFinished.connect(self._rename)
        self.history_keys.watch(self._name_edit, pending=self._name_typed)
        self._form.addRow("Name", self._name_edit)
        self.frozen_box = QCheckBox("Frozen")
        tip = ("A frozen layer (trainable=False in Keras) keeps its weights while the rest of "
               "the network trains, as a pre-trained base does in transfer learning (Ctrl+F).")
        self.frozen_box.setToolTip(tip)
        self.frozen_box.toggled.connect(self._set_frozen)
        self.history_keys.watch(self.frozen_box)
        # The explanation wraps in a narrow column (1024 px presenting) instead of widening it.
        explanation = _ClickLabel("(its weights are not trained)", self.frozen_box.toggle)
        explanation.setWordWrap(True)
        explanation.setToolTip(tip)
        frozen_row = QWidget()
        row_layout = QHBoxLayout(frozen_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.frozen_box)
        row_layout.addWidget(explanation, 1)
        self._form.addRow(frozen_row)
        self.base_values = {}
        if self._type == PRETRAINED_BASE:
            self._add_base_rows()
            return
        for definition in param_defs(self._type):
            field = _ParamField(definition, lambda value, key=definition.name: self._set(key, value))
            for editor in field.editors():
                self.history_keys.watch(editor)
            self._fields[definition.name] = field
            label = QLabel(definition.label)
            label.setToolTip(definition.help)
            self._form.addRow(label, field.widget)

    def _add_base_rows(self) -> None:
        """Read-only rows for a base (its measured values are never typed in) and its
        buttons."""
        for key, label, tip in (
                ("base", "Base", "The network, its weights, where it is cut, its input size"),
                ("output", "Output", "The shape the base gives, measured when it was prepared"),
                ("params", "Parameters", "The base's weights, as Keras counts them"),
                ("file", "Prepared file", "The base saved as a Keras file (made again when "
                                          "missing)")):
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setToolTip(tip)
            caption = QLabel(label)
            caption.setToolTip(tip)
            self.base_values[key] = value
            self._form.addRow(caption, value)
        self.change_base_button = QPushButton("Change base…")
        self.change_base_button.setToolTip("Choose another network, weights, size or cut; "
                                           "the base is prepared again (Ctrl+Z undoes it)")
        self.change_base_button.clicked.connect(
            lambda: self.change_base_requested.emit(self._row))
        self.prepare_again_button = QPushButton("Prepare again")
        self.prepare_again_button.setToolTip("Make the missing file again from what the spec "
                                             "says the base is")
        self.prepare_again_button.clicked.connect(self.prepare_again_requested)
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 4, 0, 0)
        row.addWidget(self.change_base_button)
        row.addWidget(self.prepare_again_button)
        row.addStretch(1)
        self._form.addRow(buttons)

    def _refresh_base(self, layer: Any, report: Any) -> None:
        from cnnviz.core.transfer.base_blocks import describe_base

        p = layer.params
        values = self.base_values
        values["base"].setText(describe_base(layer))
        values["output"].setText(dims_text(tuple(p["output_shape"])) if p["output_shape"]
                                 else "not measured")
        values["params"].setText(
            f"{count_text(report.params)}: {count_text(report.trainable)} trainable, "
            f"{count_text(report.non_trainable)} not trained"
            + (" (frozen)" if not layer.trainable else ""))
        missing = block_file_missing(layer)
        values["file"].setText(error_text("Missing: " + breakable(str(p["block_file"])))
                               if missing else breakable(str(p["block_file"])))
        self.prepare_again_button.setVisible(missing)

    def _refresh(self) -> None:
        layers = self._document.spec.layers
        if self._row >= len(layers) or (self._row >= 0 and layers[self._row].type != self._type):
            self.show_layer(min(self._row, len(layers) - 1))
            return
        if self._row < 0:
            self._title.setText("No layer selected")
            self._description.setText("Pick a layer in the stack to edit it, or add one from "
                                      "the palette on the left.")
            self._message.clear()
            return
        layer = layers[self._row]
        report = self._document.report.layers[self._row]
        self._title.setText(f"{self._row + 1}. "
                            + ("Pre-built base" if layer.type == PRETRAINED_BASE else layer.type))
        self._description.setText(LAYER_DESCRIPTIONS.get(layer.type, ""))
        if not self._name_edit.hasFocus():
            self._name_edit.setText(layer.name or "")
            self._name_edit.setPlaceholderText(report.name)
        if self.frozen_box.isChecked() == layer.trainable:
            self.frozen_box.blockSignals(True)
            self.frozen_box.setChecked(not layer.trainable)
            self.frozen_box.blockSignals(False)
        for key, field in self._fields.items():
            if field.value() != layer.get(key):
                field.set_value(layer.get(key))
        if self.base_values:
            self._refresh_base(layer, report)
        self._message.setText(("⚠ " + report.error) if report.error else
                              ("⚠ " + report.warning) if report.warning else "")

    def _set(self, key: str, value: Any) -> None:
        row = self._row
        try:
            new = spec_edits.set_param(self._document.spec, row, key, value)
        except SpecError as exc:
            self._message.setText("⚠ " + str(exc))
            return
        name = self._document.report.layers[row].name
        self._document.apply(new, f"Change {key} of {name}", merge_key=f"param:{row}:{key}",
                             select=row, current=row)

    def _set_frozen(self, frozen: bool) -> None:
        row = self._row
        if row < 0:
            return
        name = self._document.report.layers[row].name
        new = spec_edits.set_trainable(self._document.spec, [row], not frozen)
        self._document.apply(new, f"{'Freeze' if frozen else 'Unfreeze'} {name}",
                             select=row, current=row)

    def _name_typed(self) -> bool:
        """Whether the name box holds typing not yet made a model edit."""
        row = self._row
        committed = self._document.spec.layers[row].name if 0 <= row < len(
            self._document.spec.layers) else None
        return self._name_edit.text() != (committed or "")

    def _rename(self) -> None:
        row = self._row
        if row < 0:
            return
        try:
            new = spec_edits.rename_layer(self._document.spec, row, self._name_edit.text())
        except SpecError as exc:
            self._message.setText("⚠ " + str(exc))
            self._name_edit.setText(self._document.spec.layers[row].name or "")
            return
        self._document.apply(new, "Rename layer", select=row, current=row)


class InputShapeEditor(QWidget):
    """The model's input: an image (height × width × channels) or a sequence (steps ×
    channels), chosen in a combo box; switching kinds is one undoable edit."""

    KINDS = (("Image", 3, "An image: height × width × channels."),
             ("Sequence", 2, "A sequence (a signal or time series): steps × channels."))
    # The shape a switch starts from when this editor has not seen one of that kind yet.
    DEFAULT_SHAPES: dict[int, tuple[int, ...]] = {3: (28, 28, 1), 2: (150, 1)}

    def __init__(self, document: SpecDocument) -> None:
        super().__init__()
        self._document = document
        self._last_shapes = dict(self.DEFAULT_SHAPES)
        self.history_keys = ModelUndoKeys(document, self)
        self.kind_combo = QComboBox()
        for text, rank, tip in self.KINDS:
            self.kind_combo.addItem(text, rank)
            self.kind_combo.setItemData(self.kind_combo.count() - 1, tip,
                                        Qt.ItemDataRole.ToolTipRole)
        self.kind_combo.setToolTip("Images take Conv2D and 2-D pooling; sequences (signals, "
                                   "time series) take Conv1D and 1-D pooling.")
        self.history_keys.watch(self.kind_combo)
        self.height_box = _spin(1, MAX_INPUT_SIDE, "Input height in pixels.")
        self.width_box = _spin(1, MAX_INPUT_SIDE, "Input width in pixels.")
        self.channels_box = _spin(1, MAX_CHANNELS, "Channels: 1 for grayscale, 3 for colour (RGB).")
        self.steps_box = _spin(1, MAX_INPUT_STEPS, "Input length: how many time steps.")
        self.sequence_channels_box = _spin(
            1, MAX_SEQUENCE_CHANNELS, "Channels: values per step (1 for a single signal, 3 for "
                                      "an accelerometer's x, y and z).")
        # One row when there is room; in a narrow column (1024 px, presentation zoom) the
        # size boxes move under the kind, so the column never forces the page to scroll.
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(QLabel("<b>Input</b>"), 0, 0)
        self._layout.addWidget(self.kind_combo, 0, 1)
        self._two_rows = False
        self.pages = QStackedWidget()
        self._pages: dict[int, QWidget] = {}
        for rank, boxes in ((3, (("H", self.height_box), ("W", self.width_box),
                                 ("C", self.channels_box))),
                            (2, (("Steps", self.steps_box), ("C", self.sequence_channels_box)))):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            for label, box in boxes:
                caption = QLabel(label)
                caption.setToolTip(box.toolTip())
                caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                row.addWidget(caption)
                row.addWidget(box)
                box.valueChanged.connect(self._changed)
                self.history_keys.watch(box)
            row.addStretch(1)
            self.pages.addWidget(page)
            self._pages[rank] = page
        self._layout.addWidget(self.pages, 0, 2)
        self._layout.setColumnStretch(2, 1)
        self.kind_combo.activated.connect(self._kind_chosen)
        document.changed.connect(self._refresh)
        self._refresh()

    def _one_row_width(self) -> int:
        spacing = max(self._layout.horizontalSpacing(), 0)
        label = self._layout.itemAtPosition(0, 0).widget()
        return (label.sizeHint().width() + self.kind_combo.sizeHint().width()
                + self.pages.minimumSizeHint().width() + 2 * spacing)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        # As narrow as the two-row arrangement needs: the row wraps rather than widening.
        hint = super().minimumSizeHint()
        label = self._layout.itemAtPosition(0, 0).widget()
        narrow = max(label.sizeHint().width() + self.kind_combo.sizeHint().width()
                     + max(self._layout.horizontalSpacing(), 0),
                     self.pages.minimumSizeHint().width())
        return QSize(narrow, hint.height())

    def is_two_rows(self) -> bool:
        """Whether the size boxes sit under the kind (a narrow column)."""
        return self._two_rows

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        two_rows = event.size().width() < self._one_row_width()
        if two_rows != self._two_rows:
            self._two_rows = two_rows
            self._layout.removeWidget(self.pages)
            if two_rows:
                self._layout.addWidget(self.pages, 1, 0, 1, 3)
            else:
                self._layout.addWidget(self.pages, 0, 2)

    def _boxes(self, rank: int) -> tuple[QSpinBox, ...]:
        if rank == 2:
            return (self.steps_box, self.sequence_channels_box)
        return (self.height_box, self.width_box, self.channels_box)

    def _refresh(self) -> None:
        shape = tuple(self._document.spec.input_shape)
        rank = len(shape)
        if rank not in self._pages:
            return
        self._last_shapes[rank] = shape
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(rank))
        self.pages.setCurrentWidget(self._pages[rank])
        for box, value in zip(self._boxes(rank), shape):
            if box.value() != value:
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)

    def _apply(self, shape: tuple[int, ...], what: str, merge: bool) -> None:
        try:
            new = spec_edits.set_input_shape(self._document.spec, shape)
        except SpecError:
            return  # the spin boxes' ranges already keep values valid
        self._document.apply(new, what, merge_key="input_shape" if merge else None)

    def _changed(self) -> None:
        rank = int(self.kind_combo.currentData())
        self._apply(tuple(box.value() for box in self._boxes(rank)), "Change input shape",
                    merge=True)

    def _kind_chosen(self, index: int) -> None:
        rank = int(self.kind_combo.itemData(index))
        if rank == len(self._document.spec.input_shape):
            return
        kind = "a sequence" if rank == 2 else "an image"
        self._document.break_merge()
        self._apply(self._last_shapes[rank], f"Make the input {kind}", merge=False)
