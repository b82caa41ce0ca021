"""Icons the Explain view draws itself with QPainter, so they never depend on a font having a
glyph (a "⏸" text glyph is an empty box where the font lacks it)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF

ICON_SIZES = (16, 20, 24, 32, 48, 64)   # pixmaps for every zoom: Qt picks the nearest
INK = QColor(40, 40, 40)


def _icon(draw) -> QIcon:
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(INK)
        draw(painter, float(size))
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def _play(painter: QPainter, size: float) -> None:
    m = size * 0.18
    painter.drawPolygon(QPolygonF([QPointF(m * 1.3, m), QPointF(size - m, size / 2),
                                   QPointF(m * 1.3, size - m)]))


def _pause(painter: QPainter, size: float) -> None:
    m, bar = size * 0.2, size * 0.22
    painter.drawRect(QRectF(m, m, bar, size - 2 * m))
    painter.drawRect(QRectF(size - m - bar, m, bar, size - 2 * m))


def play_icon() -> QIcon:
    """A right-pointing triangle."""
    return _icon(_play)


def pause_icon() -> QIcon:
    """Two vertical bars."""
    return _icon(_pause)
