"""Presentation mode: the window made for a projector, and the zoom for any screen.

Presentation mode shows the window full screen with high-contrast colours and thick lines, at
its own zoom (150 % the first time, then whatever the teacher chose); leaving it puts the
window back exactly as it was (geometry, maximised or not, zoom, side panels). The zoom
(100–250 %, Ctrl+plus / Ctrl+minus / Ctrl+0) is remembered for each mode. Side panels (the
palette and properties, the data and settings, the input picker and the lesson) can be folded
away to give the main view the room; views name theirs with zoom.mark_side_panel.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from cnnviz.ui.common.zoom import PRESENTATION_ZOOM, SIDE_PANEL, Zoom, zoom_of_app


def high_contrast_palette(base: QPalette) -> QPalette:
    """Black on white with a strong blue selection: readable on a washed-out projector."""
    palette = QPalette(base)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Window, QColor("#ffffff"))
        palette.setColor(group, QPalette.ColorRole.Base, QColor("#ffffff"))
        palette.setColor(group, QPalette.ColorRole.AlternateBase, QColor("#eef2f7"))
        palette.setColor(group, QPalette.ColorRole.WindowText, QColor("#000000"))
        palette.setColor(group, QPalette.ColorRole.Text, QColor("#000000"))
        palette.setColor(group, QPalette.ColorRole.ButtonText, QColor("#000000"))
        palette.setColor(group, QPalette.ColorRole.Button, QColor("#e4e8ee"))
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor("#0b3d91"))
        palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
        palette.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#333333"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#555555"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#555555"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#555555"))
    return palette


class PresentationMode:
    """Full screen, zoom, contrast and side panels of one main window.

    settings: where the zoom of each mode is remembered; changed: the state changed (menus
    follow it).
    """

    def __init__(self, window: QMainWindow, settings: Callable[[], QSettings],
                 changed: Callable[[], None]) -> None:
        self._window = window
        self._settings = settings
        self._changed = changed
        self.zoom: Zoom = zoom_of_app()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self._app = app
        self._normal_palette = QPalette(app.palette())
        self._saved_geometry: QByteArray | None = None
        self._saved_state: Qt.WindowState = Qt.WindowState.WindowNoState
        self._side_panels_before: bool = True
        self.side_panels_shown = True
        self.zoom.set_factor(self._remembered_zoom(False))

    @property
    def on(self) -> bool:
        return self.zoom.presenting

    def _key(self, presenting: bool) -> str:
        return "zoom/presentation" if presenting else "zoom/normal"

    def _remembered_zoom(self, presenting: bool) -> float:
        default = PRESENTATION_ZOOM if presenting else 1.0
        value = self._settings().value(self._key(presenting), default)
        try:
            return float(value)
        except (TypeError, ValueError):
            return default

    # ------------------------------------------------------------------ zoom

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom.factor + 0.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom.factor - 0.25)

    def reset_zoom(self) -> None:
        self.set_zoom(PRESENTATION_ZOOM if self.on else 1.0)

    def set_zoom(self, factor: float) -> None:
        self.zoom.set_factor(factor)
        self._settings().setValue(self._key(self.on), self.zoom.factor)
        self._changed()

    # ------------------------------------------------------------------ the mode

    def set_presentation(self, on: bool) -> None:
        """Enter or leave presentation mode."""
        if on == self.on:
            return
        window = self._window
        if on:
            self._saved_geometry = window.saveGeometry()
            self._saved_state = window.windowState()
            self._side_panels_before = self.side_panels_shown
            self._normal_palette = QPalette(self._app.palette())
            self._app.setPalette(high_contrast_palette(self._normal_palette))
            self.zoom.set_presenting(True)
            self.zoom.set_factor(self._remembered_zoom(True))
            window.showFullScreen()
        else:
            self.zoom.set_presenting(False)
            self._app.setPalette(self._normal_palette)
            self.zoom.set_factor(self._remembered_zoom(False))
            self.set_side_panels(self._side_panels_before)
            window.setWindowState(self._saved_state)
            if not self._saved_state & (Qt.WindowState.WindowMaximized
                                        | Qt.WindowState.WindowFullScreen):
                window.showNormal()
                if self._saved_geometry is not None:
                    window.restoreGeometry(self._saved_geometry)
        self._changed()

    def toggle(self) -> None:
        self.set_presentation(not self.on)

    # ------------------------------------------------------------------ side panels

    def set_side_panels(self, shown: bool) -> None:
        """Show or fold away every side panel of every view."""
        self.side_panels_shown = shown
        for widget in self._window.findChildren(QWidget):
            if widget.property(SIDE_PANEL):
                widget.setVisible(shown)
        self._changed()

    def toggle_side_panels(self) -> None:
        self.set_side_panels(not self.side_panels_shown)
