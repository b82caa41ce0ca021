"""The builder view: palette, layer stack, properties, summary table and diagram together.

A pre-built base (PretrainedBase) comes from the "Pre-built base…" dialog: it is prepared in
the background and inserted frozen at the top of the stack (with a standard head when the
stack is empty) as one undoable edit; "Change base…" replaces it the same way. A spec whose
prepared base file is missing says so above the stack and offers "Prepare again".
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from cnnviz.core.model.presets import PRESETS, preset_spec
from cnnviz.core.model.spec import LayerSpec
from cnnviz.core.model.spec_params import PRETRAINED_BASE
from cnnviz.ui.build.architecture_diagram import ArchitectureDiagramView
from cnnviz.ui.build.base_dialog import BaseDialog
from cnnviz.ui.build.layer_palette import LayerPalette
from cnnviz.ui.build.layer_stack import LayerStackView
from cnnviz.ui.build.property_editor import InputShapeEditor, PropertyEditor
from cnnviz.workspace import SpecDocument
from cnnviz.ui.build.summary_table import SummaryTable
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.pretrained_bases import (
    DEFAULT_CLASSES, BaseChoice, base_label, error_text, head_layers, missing_bases,
)
from cnnviz.ui.common.workers import NewestRequest
from cnnviz.ui.common.zoom import mark_side_panel


def _titled(title: str, widget: QWidget, extra: QWidget | None = None) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.setSpacing(4)
    header = QHBoxLayout()
    label = QLabel(f"<b>{title}</b>")
    header.addWidget(label)
    header.addStretch(1)
    if extra is not None:
        header.addWidget(extra)
    layout.addLayout(header)
    layout.addWidget(widget, 1)
    return box


class BuilderPanel(QWidget):
    """Compose a CNN: every edit goes through the SpecDocument and refreshes every view."""

    def __init__(self, document: SpecDocument) -> None:
        super().__init__()
        self.document = document
        self._shown_once = False
        self._summary_width_chosen = False
        # The core's download hook for ImageNet weights (tests set an offline one).
        self.fetch: Callable[..., Any] | None = None
        # How many classes the loaded data has (None: no data), for a new base's head.
        self.classes_source: Callable[[], int | None] = lambda: None
        self.base_dialog: BaseDialog | None = None
        self._prepare_again = NewestRequest(self)
        self.palette = LayerPalette()
        self.stack = LayerStackView(document)
        self.properties = PropertyEditor(document)
        self.input_editor = InputShapeEditor(document)
        self.summary = SummaryTable()
        self.diagram = ArchitectureDiagramView()

        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("Replace the stack with a well-known architecture "
                                     "(Ctrl+Z brings yours back).")
        self.preset_combo.addItem("Start from a preset…", None)
        for key, preset in PRESETS.items():
            self.preset_combo.addItem(preset.title, key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, preset.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.activated.connect(self._preset_chosen)
        # The closed box need not be as wide as the longest title (that would set the middle
        # column's least width); the open list still shows every title whole.
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(len("Start from a preset…"))
        self.preset_combo.view().setTextElideMode(Qt.TextElideMode.ElideNone)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip, slot in (
            ("up", "↑ Up", "Move the selected layer up (Alt+Up)", lambda: self.stack.move_current(-1)),
            ("down", "↓ Down", "Move the selected layer down (Alt+Down)",
             lambda: self.stack.move_current(+1)),
            ("duplicate", "Duplicate", "Duplicate the selected layer (Ctrl+D)", self.stack.duplicate_current),
            ("delete", "Delete", "Delete the selected layer (Delete)", self.stack.remove_current),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[key] = button
        buttons.addStretch(1)

        stack_box = QWidget()
        stack_layout = QVBoxLayout(stack_box)
        stack_layout.setContentsMargins(6, 6, 6, 6)
        stack_layout.setSpacing(4)
        top_row = QHBoxLayout()
        top_row.addWidget(QLabel("<b>Layers</b>"))
        top_row.addStretch(1)
        top_row.addWidget(self.preset_combo)
        stack_layout.addLayout(top_row)
        stack_layout.addWidget(self.input_editor)
        self.missing_text = QLabel()
        self.missing_text.setWordWrap(True)
        self.prepare_again_button = QPushButton("Prepare again")
        self.prepare_again_button.setToolTip("Make the base's file again from what the spec "
                                             "says it is (a download may be needed)")
        self.prepare_again_button.clicked.connect(self.prepare_again)
        self.missing_box = QWidget()
        missing_row = QHBoxLayout(self.missing_box)
        missing_row.setContentsMargins(0, 0, 0, 0)
        missing_row.addWidget(self.missing_text, 1)
        missing_row.addWidget(self.prepare_again_button, 0, Qt.AlignmentFlag.AlignTop)
        self.missing_box.hide()
        stack_layout.addWidget(self.missing_box)
        stack_layout.addWidget(self.stack, 1)
        stack_layout.addLayout(buttons)

        properties_scroll = QScrollArea()
        properties_scroll.setWidgetResizable(True)
        properties_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        properties_scroll.setWidget(self.properties)
        self.properties_scroll = properties_scroll

        top = QSplitter(Qt.Orientation.Horizontal)
        palette_box = _titled("Palette", self.palette)
        mark_side_panel(palette_box)
        top.addWidget(palette_box)
        top.addWidget(stack_box)
        top.addWidget(_titled("Properties", properties_scroll))
        top.setStretchFactor(0, 0)
        top.setStretchFactor(1, 1)
        top.setStretchFactor(2, 0)
        palette_width = self._fit_side_panels()
        top.setSizes([palette_width, 520, 340])
        top.setChildrenCollapsible(False)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(_titled("Architecture", self.diagram))
        bottom.addWidget(_titled("Summary", self.summary))
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([600, 420])
        bottom.setChildrenCollapsible(False)
        # Once the user drags this divider, the summary's width is theirs.
        bottom.splitterMoved.connect(self._summary_sized_by_user)

        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(top)
        outer.addWidget(bottom)
        outer.setStretchFactor(0, 3)
        outer.setStretchFactor(1, 2)
        outer.setChildrenCollapsible(False)
        self.splitters = (outer, top, bottom)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

        self.palette.add_requested.connect(self.stack.insert_layer)
        self.palette.base_requested.connect(lambda: self.open_base_dialog())
        self.properties.change_base_requested.connect(self.open_base_dialog)
        self.properties.prepare_again_requested.connect(self.prepare_again)
        self.stack.current_layer_changed.connect(self._layer_selected)
        self.summary.layer_activated.connect(self.stack.select_layer)
        self.diagram.layer_clicked.connect(self.stack.select_layer)
        document.changed.connect(self._refresh)
        self._refresh()
        self._layer_selected(self.stack.current_layer())

    def _fit_side_panels(self) -> int:
        """Make the palette and the properties wide enough for the longest layer name and the
        widest property row at the current font (it follows the zoom), so neither needs a
        horizontal scroll bar. Returns the palette's width."""
        view = self.preset_combo.view()
        view.setMinimumWidth(view.sizeHintForColumn(0) + view.verticalScrollBar().sizeHint().width())
        palette_width = self.palette.width_for_names()
        self.palette.setMinimumWidth(palette_width)
        scroll = self.properties_scroll
        scrollbar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(self.properties.minimumSizeHint().width() + scrollbar)
        return palette_width

    # The summary's share of the row: as wide as its columns need within these bounds. The
    # diagram beside it scrolls sideways, while a table that scrolls hides parameter counts.
    SUMMARY_SHARE = (0.4, 0.6)

    def _summary_sized_by_user(self, _position: int, _index: int) -> None:
        self._summary_width_chosen = True

    def _fit_summary(self) -> None:
        """Give the summary the width its columns need (see SUMMARY_SHARE), until the user
        drags the divider (it cuts the names in the middle before it hides a number)."""
        bottom = self.splitters[2]
        sizes = bottom.sizes()
        total = sum(sizes)
        if total <= 0 or self._summary_width_chosen:
            return
        least, most = (int(total * share) for share in self.SUMMARY_SHARE)
        wanted = max(least, min(self.summary.preferred_width(), most))
        if sizes[1] != wanted:
            bottom.setSizes([total - wanted, wanted])

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self._fit_summary()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_summary()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_side_panels()
            self._fit_summary()

    def _refresh(self) -> None:
        report = self.document.report
        self.palette.set_input_rank(len(self.document.spec.input_shape))
        labels = {row: base_label(layer) for row, layer in enumerate(self.document.spec.layers)
                  if layer.type == PRETRAINED_BASE}
        self.summary.set_report(report, labels)
        self._fit_summary()  # a longer name or a base's type may need more room
        self.diagram.set_report(report, labels)
        self._show_missing()
        row = self.stack.current_layer()
        self._update_buttons(row)

    def _layer_selected(self, row: int) -> None:
        self.properties.show_layer(row)
        self.summary.select_layer(row)
        self.diagram.set_selected(row)
        self._update_buttons(row)

    def _update_buttons(self, row: int) -> None:
        count = len(self.document.spec.layers)
        self.buttons["up"].setEnabled(row > 0)
        self.buttons["down"].setEnabled(0 <= row < count - 1)
        self.buttons["duplicate"].setEnabled(row >= 0)
        self.buttons["delete"].setEnabled(row >= 0)

    def _preset_chosen(self, combo_index: int) -> None:
        key = self.preset_combo.itemData(combo_index)
        self.preset_combo.setCurrentIndex(0)
        if key is None:
            return
        self.apply_preset(key)

    def apply_preset(self, key: str) -> None:
        """Replace the stack with a preset, as one undoable edit."""
        self.document.apply(preset_spec(key), f"Preset {PRESETS[key].title}", select=0,
                            current=self.stack.current_layer())

    # ------------------------------------------------------------------ pre-built bases

    def _image_channels(self) -> int | None:
        shape = self.document.spec.input_shape
        return int(shape[2]) if len(shape) == 3 else None

    def open_base_dialog(self, row: int | None = None) -> BaseDialog | None:
        """Choose and prepare a pre-built base: a new one (row None) goes to the top of the
        stack; otherwise it replaces the base at `row`. Returns the (non-blocking) dialog."""
        channels = self._image_channels()
        if channels is None:
            dialogs.show_error(self, "A pre-built base needs images",
                               "A pre-built network takes images (height × width × "
                               "channels); this model's input is a sequence. Make the input "
                               "an image first.")
            return None
        layers = self.document.spec.layers
        initial = (BaseChoice.of_layer(layers[row]) if row is not None and 0 <= row < len(layers)
                   and layers[row].type == PRETRAINED_BASE else None)
        if self.base_dialog is not None and self.base_dialog.isVisible() \
                and self.base_dialog.busy:   # still preparing: that dialog comes forward
            self.base_dialog.raise_()
            self.base_dialog.activateWindow()
            return self.base_dialog
        if self.base_dialog is not None:
            self.base_dialog.shutdown()
            self.base_dialog.deleteLater()
        title = "Change the pre-built base" if initial else "Pre-built base"
        dialog = BaseDialog(channels, initial, self.fetch, self, title=title)
        dialog.prepared.connect(lambda layer: self._base_prepared(layer, row if initial
                                                                  else None))
        self.base_dialog = dialog
        dialog.open()
        return dialog

    def _base_prepared(self, layer: LayerSpec, row: int | None) -> None:
        spec = self.document.spec.copy()
        if row is not None and 0 <= row < len(spec.layers) \
                and spec.layers[row].type == PRETRAINED_BASE:
            old = spec.layers[row]
            spec.layers[row] = LayerSpec(layer.type, dict(layer.params), old.name,
                                         old.trainable)
            self.document.apply(spec, f"Change base to {base_label(layer)}", select=row,
                                current=row)
            return
        added = [LayerSpec(layer.type, dict(layer.params), layer.name, trainable=False)]
        if not spec.layers:
            classes = self.classes_source() or DEFAULT_CLASSES
            added += head_layers(added[0], classes)
        spec.layers[0:0] = added
        self.document.apply(spec, f"Add {base_label(layer)}", select=0,
                            current=self.stack.current_layer())

    def _show_missing(self) -> None:
        rows = missing_bases(self.document.spec)
        if not rows:
            self.missing_box.hide()
            return
        layers = self.document.spec.layers
        names = ", ".join(f"{row + 1}. {base_label(layers[row])}" for row in rows)
        if not self._prepare_again.busy:
            self.missing_text.setText(error_text(
                f"The prepared file of the pre-built base ({names}) is not on this computer, "
                f"so the model cannot be built or trained. Prepare it again from what the "
                f"spec says it is."))
        self.missing_box.show()

    def prepare_again(self) -> None:
        """Make the missing base files again in the background (ensure_base_blocks); the
        spec naming the new files replaces the current one as one undoable edit."""
        spec, fetch = self.document.spec.copy(), self.fetch
        if not missing_bases(spec):
            return

        def work(report: Callable[[str, int, int], None]) -> Any:
            from cnnviz.core.transfer.base_blocks import ensure_base_blocks

            report("Preparing the base again…", 0, 0)
            return ensure_base_blocks(spec, on_progress=report, fetch=fetch)

        def done(prepared: Any) -> None:
            self.prepare_again_button.setEnabled(True)
            # The user may have edited meanwhile: only the bases' files change.
            fresh = {_identity(layer): layer for layer in prepared.layers
                     if layer.type == PRETRAINED_BASE}
            current = self.document.spec.copy()
            for index, layer in enumerate(current.layers):
                match = fresh.get(_identity(layer)) if layer.type == PRETRAINED_BASE else None
                if match is not None:
                    current.layers[index] = LayerSpec(layer.type, dict(match.params),
                                                      layer.name, layer.trainable)
            self.document.apply(current, "Prepare the base again",
                                current=self.stack.current_layer())
            self._show_missing()

        def failed(message: str, _details: str) -> None:
            self.prepare_again_button.setEnabled(True)
            self.missing_text.setText(error_text(message))

        self.prepare_again_button.setEnabled(False)
        self.missing_text.setText("Preparing the base again…")
        self._prepare_again.submit(work, done, failed,
                                   lambda stage, _d, _t: self.missing_text.setText(stage))

    def shutdown(self) -> None:
        """Cancel background work and wait for its threads (the window is closing)."""
        self._prepare_again.shutdown()
        if self.base_dialog is not None:
            self.base_dialog.shutdown()


def _identity(layer: LayerSpec) -> tuple[Any, ...]:
    """What a base is, whatever its file: source, weights, size, channels and cut."""
    p = layer.params
    return (p.get("source"), p.get("weights"), tuple(p.get("input_size") or ()),
            p.get("input_channels"), p.get("cut"))
