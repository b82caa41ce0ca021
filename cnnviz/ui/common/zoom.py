"""One zoom factor for the whole window, for a projector at the back of a classroom.

The factor (100–250 %) scales the application font, so every widget that draws with its
own font follows at once. A widget that wants a font larger or bolder than the text around
it uses `set_relative_font` (not a fixed point size), so it follows too. Widgets that draw
with pixel sizes (grids, charts, lines) read `zoom_factor()` and `line_width()` when they
lay out or paint, and `watch_zoom` tells them to redo that when the factor changes.

Presentation mode also switches to thick lines and high-contrast colours (`presenting()`).
The state lives on the QApplication (one per process), so any widget can read it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

MIN_ZOOM, MAX_ZOOM, ZOOM_STEP = 1.0, 2.5, 0.25
PRESENTATION_ZOOM = 1.5          # the factor presentation mode starts with, the first time
FONT_SCALE = "cnnvizFontScale"   # dynamic properties of widgets with a relative font
FONT_BOLD = "cnnvizFontBold"
SIDE_PANEL = "cnnvizSidePanel"   # dynamic property of the side panels the window can fold away


class Zoom(QObject):
    """The window's zoom factor and whether it is presenting; `changed` after either changes."""

    changed = Signal()

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._base_font = QFont(app.font())
        self.factor = 1.0
        self.presenting = False

    def set_factor(self, factor: float) -> None:
        """Zoom to `factor` (clamped to 100–250 %, rounded to whole percents)."""
        factor = round(min(MAX_ZOOM, max(MIN_ZOOM, float(factor))), 2)
        if factor == self.factor:
            return
        self.factor = factor
        self._apply()

    def step(self, steps: int) -> None:
        """Zoom in (+1) or out (−1) by one step of 25 %."""
        self.set_factor(self.factor + steps * ZOOM_STEP)

    def set_presenting(self, presenting: bool) -> None:
        if presenting != self.presenting:
            self.presenting = presenting
            self.changed.emit()

    def _apply(self) -> None:
        font = QFont(self._base_font)
        if self._base_font.pointSizeF() > 0:
            font.setPointSizeF(self._base_font.pointSizeF() * self.factor)
        else:
            font.setPixelSize(max(1, round(self._base_font.pixelSize() * self.factor)))
        self._app.setFont(font)
        for widget in self._app.allWidgets():
            if widget.property(FONT_SCALE) is not None:
                _apply_relative_font(widget)
        self.changed.emit()


def zoom_of_app() -> Zoom:
    """The application's Zoom, made on first use."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("zoom needs a QApplication")
    zoom = app.findChild(Zoom)
    if zoom is None:
        zoom = Zoom(app)
    return zoom


def zoom_factor() -> float:
    """The current zoom factor (1.0 without a QApplication)."""
    app = QApplication.instance()
    zoom = app.findChild(Zoom) if isinstance(app, QApplication) else None
    return 1.0 if zoom is None else zoom.factor


def presenting() -> bool:
    """Whether presentation mode is on: thick lines and high-contrast colours."""
    app = QApplication.instance()
    zoom = app.findChild(Zoom) if isinstance(app, QApplication) else None
    return False if zoom is None else zoom.presenting


def scaled(pixels: float) -> int:
    """A size in pixels at the current zoom."""
    return max(1, round(pixels * zoom_factor()))


def line_width(base: float = 1.0) -> float:
    """The width of a drawn line: zoomed, and twice as thick when presenting."""
    return base * zoom_factor() * (2.0 if presenting() else 1.0)


def watch_zoom(callback: Callable[[], None]) -> None:
    """Call `callback` whenever the zoom or presentation mode changes. Pass a method of a
    QObject (a widget): Qt disconnects it when that object is destroyed."""
    zoom_of_app().changed.connect(callback)


def set_relative_font(widget: QWidget, scale: float = 1.0, bold: bool = False) -> None:
    """Give `widget` a font `scale` times the application's (bold if asked), kept in step
    with the zoom."""
    widget.setProperty(FONT_SCALE, float(scale))
    widget.setProperty(FONT_BOLD, bool(bold))
    _apply_relative_font(widget)


def _apply_relative_font(widget: QWidget) -> None:
    app_font = QApplication.font()
    font = QFont(widget.font())
    scale = float(widget.property(FONT_SCALE))
    if app_font.pointSizeF() > 0:
        font.setPointSizeF(app_font.pointSizeF() * scale)
    else:
        font.setPixelSize(max(1, round(app_font.pixelSize() * scale)))
    font.setBold(bool(widget.property(FONT_BOLD)))
    widget.setFont(font)


def mark_side_panel(widget: QWidget) -> None:
    """Let the window fold `widget` away (View → Side Panels, F9) to give the main view room."""
    widget.setProperty(SIDE_PANEL, True)
