"""The view for layers without a step-by-step animation (and for the input image): a box with
the layer's name, type, shapes and the reason, above its output maps."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnviz.core.explain.frames import LayerSteps
from cnnviz.ui.common.layer_style import layer_color
from cnnviz.core.formatting import dims_text, format_value
from cnnviz.ui.common.value_colors import ValueMap
from cnnviz.ui.explain.views.view_parts import note_label, position_text
from cnnviz.ui.common.zoom import set_relative_font

INPUT_NOTE = ("This is the picture the network receives, as numbers: one value per pixel and "
              "channel. Every later layer starts from here.")


def looks_like_image(values: np.ndarray) -> bool:
    """Pixel values in [0, 1] with 1 or 3 channels: show them as a picture, not as a heat map."""
    return (values.ndim == 3 and values.shape[2] in (1, 3) and values.size > 0
            and float(np.nanmin(values)) >= 0.0 and float(np.nanmax(values)) <= 1.0)


class GenericLayerView(QWidget):
    """A layer shown as a box (name, type, shapes, why there is no animation) and its outputs.

    The input image is shown as a picture (pointing at a pixel gives its value), with its
    colour channels beside it. `grid` is any widget with `set_maps(output, title)`; by default
    the feature-map grid.
    """

    def __init__(self, parent: QWidget | None = None, grid: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: LayerSteps | None = None
        if grid is None:
            from cnnviz.ui.common.feature_map_grid import FeatureMapGrid

            grid = FeatureMapGrid()
        self.grid = grid
        layout = QVBoxLayout(self)
        self.box = QFrame()
        self.box.setObjectName("layerBox")
        box_layout = QVBoxLayout(self.box)
        box_layout.setContentsMargins(12, 8, 12, 8)
        self.title = QLabel()
        set_relative_font(self.title, 1.3, bold=True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.shapes = QLabel()
        self.note = note_label()
        for label in (self.shapes, self.note):
            set_relative_font(label)   # in a box under a style sheet: follows the zoom so
        for widget in (self.title, self.shapes, self.note):
            box_layout.addWidget(widget)
        layout.addWidget(self.box)
        row = QHBoxLayout()
        picture_column = QVBoxLayout()
        self.picture = ValueMap(title="what the network sees", gray=True)
        self.picture.cell_hovered.connect(self._show_pixel)
        self.pixel = QLabel()
        self.pixel.setAlignment(Qt.AlignmentFlag.AlignCenter)
        picture_column.addWidget(self.picture, 1)
        picture_column.addWidget(self.pixel)
        self.picture_panel = QWidget()
        self.picture_panel.setLayout(picture_column)
        row.addWidget(self.picture_panel, 1)
        row.addWidget(self.grid, 2)
        layout.addLayout(row, 1)

    def set_steps(self, steps: LayerSteps) -> None:
        self.steps = steps
        source = np.asarray(steps.input, np.float32)
        output = np.asarray(steps.output, np.float32)
        is_input = steps.kind == "input"
        picture = is_input and looks_like_image(output)
        colour = layer_color("Input" if is_input else steps.layer_type)
        self.box.setStyleSheet(
            f"QFrame#layerBox {{ border: 2px solid {colour.name()}; border-radius: 8px; "
            f"background: {colour.lighter(185).name()}; }}")
        if is_input:
            self.title.setText(f"Input image  ·  {dims_text(output.shape)}")
            low, high = (float(output.min()), float(output.max())) if output.size else (0.0, 0.0)
            self.shapes.setText(f"values from {format_value(low)} to {format_value(high)}"
                                + ("  (0 is black, 1 is white)" if picture else ""))
            self.note.setText(INPUT_NOTE)
            title = "its channels, as numbers"
        else:
            self.title.setText(f"{steps.name}  ·  {steps.layer_type}")
            self.shapes.setText(f"input {dims_text(source.shape)}  →  output "
                                f"{dims_text(output.shape)}")
            note = getattr(steps, "note", "") or (
                "The explainer has no step-by-step animation for this layer; here is what it "
                "produced.")
            self.note.setText(note)
            title = f"{steps.name}: output"
        self.picture_panel.setVisible(picture)
        if picture:
            self.picture.set_values(output)
            self._show_pixel(None)
        # A gray picture says it all; colour pictures also get their three channels.
        self.grid.setVisible(not picture or output.shape[2] > 1)
        self.grid.set_maps(output, title)

    def _show_pixel(self, position) -> None:
        if position is None or self.steps is None:
            self.pixel.setText("Point at a pixel to see its value.")
            return
        values = np.asarray(self.steps.output)[tuple(position)]
        numbers = ", ".join(format_value(v) for v in np.atleast_1d(values))
        self.pixel.setText(f"pixel {position_text(tuple(position))} = {numbers}")

    def summary_text(self) -> str:
        return "\n".join([self.title.text(), self.shapes.text(), self.note.text()])
