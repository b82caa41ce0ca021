"""Colours that identify layer types, shared by the stack, palette and diagram."""

from __future__ import annotations

from PySide6.QtGui import QColor

_COLORS: dict[str, tuple[int, int, int]] = {
    "Input": (120, 144, 156),
    "Conv2D": (30, 136, 229),
    "MaxPooling2D": (67, 160, 71),
    "AveragePooling2D": (102, 187, 106),
    "GlobalMaxPooling2D": (46, 125, 50),
    "GlobalAveragePooling2D": (56, 142, 60),
    "BatchNormalization": (142, 36, 170),
    "Activation": (255, 160, 0),
    "Dropout": (158, 158, 158),
    "Flatten": (121, 85, 72),
    "Dense": (0, 137, 123),
    # 1-D layers: the colours of their 2-D counterparts, a shade deeper.
    "Conv1D": (21, 101, 192),
    "MaxPooling1D": (46, 125, 50),
    "AveragePooling1D": (67, 160, 71),
    "GlobalMaxPooling1D": (27, 94, 32),
    "GlobalAveragePooling1D": (46, 125, 50),
}


def layer_color(layer_type: str) -> QColor:
    """The colour of a layer type (a neutral grey for types without one)."""
    return QColor(*_COLORS.get(layer_type, (144, 164, 174)))
