"""Drawing helpers shared by the convolution and pooling step views (QPainter only, no widgets).

`ValueGrid` is one map of numbers on screen: where it sits, its cell size, and a cached pixmap
of its coloured cells (with the numbers written on them when the cells are big enough), so a
playback step only blits what is already drawn. `draw_runs` writes the calculation as wrapped
text with highlighted parts; the other helpers draw titles, highlights and operators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap

from cnnviz.core.formatting import plain_value, tiny_value_note
from cnnviz.ui.common.value_colors import diverging_image

GRID_LINE = QColor(190, 190, 190)
BLANK_CELL = QColor(234, 234, 234)      # not computed yet (a computed 0 is white)
PADDING_CELL = QColor(214, 214, 214)
PADDING_HATCH = QColor(160, 160, 160)
PADDING_TEXT = QColor(110, 110, 110)
REAL_EDGE = QColor(60, 60, 60)
HIGHLIGHT = QColor(255, 176, 0)          # the sliding window and the current cell: amber
HIGHLIGHT_EDGE = QColor(20, 20, 20)
PICKED = QColor(0, 160, 80)              # the max a pooling window picks: green
MUTED_TEXT = QColor(105, 105, 105)
FOCUS_BACKGROUND = QColor(255, 226, 150)  # behind the drawn channel's part of the sum

MIN_NUMBER_PIXELS = 8                    # smallest font that still reads on a projector


VIEW_DIGITS = 2   # one number format across a step view: cells, the written sum, the result


def display_value(value: float, digits: int = VIEW_DIGITS) -> str:
    """plain_value with a real minus sign (−): it reads better than a hyphen when projected.
    A cell, a factor in the written sum and the sum itself all round this way, so a cell never
    says 0.00 where the sum says 0.004."""
    return plain_value(value, digits).replace("-", "\u2212")


def cell_label(value: float, digits: int = VIEW_DIGITS) -> str:
    """A number in a grid cell: the same text as in the written sum."""
    return display_value(value, digits)


def operand(value: float, digits: int = VIEW_DIGITS) -> str:
    """A number as a factor in a written sum: negative ones in brackets, 0.50×(−0.31)."""
    text = display_value(value, digits)
    return f"({text})" if float(value) < 0 else text


def tiny_notes(values, digits: int = VIEW_DIGITS) -> str:
    """A note for the first value written as zero though it is not ("" when there is none)."""
    for value in np.ravel(values):
        note = tiny_value_note(float(value), digits)
        if note:
            return note
    return ""


def pixel_font(base: QFont, pixels: float, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setPixelSize(max(1, int(round(pixels))))
    font.setBold(bold)
    return font


def fit_cell_size(rows: int, cols: int, width: float, height: float, largest: int) -> int:
    """The largest whole-pixel cell that fits rows×cols into width×height (at least 1)."""
    cell = math.floor(min(width / max(cols, 1), height / max(rows, 1)))
    return int(max(1, min(cell, largest)))


class ValueGrid:
    """A (rows, cols) map of values drawn as coloured cells on the zero-centred scale.

    `real` marks cells over real data; the others (a padding border) are drawn grey and
    hatched, with `padding_text` written on them. Call `place` when the widget is laid out,
    then `draw` (cached pixmap) or `draw_first` (the first n cells, row by row, the rest blank).
    """

    def __init__(self, digits: int = 2, padding_text: str = "0", per_step: bool = False) -> None:
        self.digits = digits
        self.per_step = per_step            # redrawn each step: painted directly, not cached
        self.padding_text = padding_text
        self.values = np.zeros((1, 1), np.float32)
        self.real = np.ones((1, 1), bool)
        self.limit = 1.0
        self.origin = QPointF(0, 0)
        self.cell = 1        # cell height (and width, for square cells)
        self.cell_w = 1      # cell width: the middle grids' cells are as wide as their numbers
        self.max_font_pixels = 14.0
        self.min_font_pixels = float(MIN_NUMBER_PIXELS)   # the layout raises it with the zoom
        self.base_font = QFont()
        self.device_pixel_ratio = 1.0
        # Grids redrawn every step fit their font to these samples (the layer's widest numbers)
        # instead of the current values, so the text size does not flicker from step to step.
        self.font_samples: list[str] | None = None
        self._labels: list[str] | None = None
        self._number_font: QFont | None = None
        self._full: QPixmap | None = None
        self._blank: QPixmap | None = None

    # ------------------------------------------------------------------ data and geometry
    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def cols(self) -> int:
        return int(self.values.shape[1])

    def set_values(self, values: np.ndarray, limit: float, real: np.ndarray | None = None) -> None:
        self.values = np.atleast_2d(np.asarray(values, np.float32))
        self.real = np.ones(self.values.shape, bool) if real is None else np.asarray(real, bool)
        self.limit = float(limit)
        self._labels = None
        self._invalidate(keep_font=self.font_samples is not None)

    def set_font_samples(self, samples: list[str] | None) -> None:
        self.font_samples = list(samples) if samples else None
        self._invalidate()

    def place(self, box: QRectF, largest_cell: int, base_font: QFont, max_font_pixels: float,
              device_pixel_ratio: float = 1.0, align_top: bool = False,
              cell_size: tuple[int, int] | None = None) -> None:
        """Fit the grid into `box` (centred; at its top when align_top): square cells
        ≤ largest_cell, or cells of exactly `cell_size` (width, height) when given."""
        if cell_size is None:
            cell = fit_cell_size(self.rows, self.cols, box.width(), box.height(), largest_cell)
            cell_w = cell
        else:
            cell_w, cell = max(1, int(cell_size[0])), max(1, int(cell_size[1]))
        width, height = cell_w * self.cols, cell * self.rows
        left = box.left() + (box.width() - width) / 2
        top = box.top() if align_top else box.top() + (box.height() - height) / 2
        origin = QPointF(round(left), round(top))
        if (cell, cell_w, origin, self.max_font_pixels, self.device_pixel_ratio) != (
                self.cell, self.cell_w, self.origin, max_font_pixels, device_pixel_ratio) \
                or base_font != self.base_font:
            self.cell, self.cell_w, self.origin = cell, cell_w, origin
            self.max_font_pixels, self.base_font = max_font_pixels, QFont(base_font)
            self.device_pixel_ratio = device_pixel_ratio
            self._invalidate()

    def rect(self) -> QRectF:
        return QRectF(self.origin.x(), self.origin.y(), self.cell_w * self.cols,
                      self.cell * self.rows)

    def cell_rect(self, row: int, col: int) -> QRectF:
        return QRectF(self.origin.x() + col * self.cell_w, self.origin.y() + row * self.cell,
                      self.cell_w, self.cell)

    def block_rect(self, row: int, col: int, rows: int, cols: int) -> QRectF:
        """The rectangle covering rows×cols cells from (row, col)."""
        return QRectF(self.origin.x() + col * self.cell_w, self.origin.y() + row * self.cell,
                      self.cell_w * cols, self.cell * rows)

    def cell_at(self, point: QPointF) -> tuple[int, int] | None:
        col = math.floor((point.x() - self.origin.x()) / self.cell_w)
        row = math.floor((point.y() - self.origin.y()) / self.cell)
        if 0 <= row < self.rows and 0 <= col < self.cols:
            return row, col
        return None

    # ------------------------------------------------------------------ numbers
    def widest_labels(self) -> list[str]:
        """The texts the number font must fit: the font samples, or the longest labels."""
        labels = self.font_samples or self.labels()
        return sorted(set(labels), key=len)[-6:] + [self.padding_text]

    def labels(self) -> list[str]:
        if self._labels is None:
            self._labels = [cell_label(v, self.digits) for v in self.values.ravel()]
        return self._labels

    def number_font(self) -> QFont | None:
        """The font the numbers are written in, or None when the cells are too small for them."""
        if self._number_font is None:
            self._number_font = self._fit_number_font()
        return self._number_font or None

    def shows_numbers(self) -> bool:
        return self.number_font() is not None

    def _fit_number_font(self):
        widest = self.widest_labels()
        # Square cells keep a margin around their numbers; cells made to the numbers' size
        # (wider than high) are filled by them.
        largest = int(min(self.max_font_pixels, max(self.cell, self.cell_w) * 0.45))
        for pixels in range(largest, int(self.min_font_pixels) - 1, -1):
            font = pixel_font(self.base_font, pixels)
            metrics = QFontMetricsF(font)
            width = max(metrics.horizontalAdvance(text) for text in widest)
            if width <= self.cell_w - 3 and metrics.height() <= self.cell - 2:
                return font
        return False

    # ------------------------------------------------------------------ drawing
    def _invalidate(self, keep_font: bool = False) -> None:
        self._full = self._blank = None
        if not keep_font:
            self._number_font = None

    def _new_pixmap(self) -> QPixmap:
        ratio = self.device_pixel_ratio
        pixmap = QPixmap(max(1, round(self.cell_w * self.cols * ratio)),
                         max(1, round(self.cell * self.rows * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        return pixmap

    def full_pixmap(self) -> QPixmap:
        if self._full is None:
            self._full = self._new_pixmap()
            painter = QPainter(self._full)
            self.paint_cells(painter, QPointF(0, 0))
            painter.end()
        return self._full

    def blank_pixmap(self) -> QPixmap:
        if self._blank is None:
            self._blank = self._new_pixmap()
            self._blank.fill(BLANK_CELL)
            painter = QPainter(self._blank)
            self._paint_lines(painter, QPointF(0, 0), force=True)
            painter.end()
        return self._blank

    def paint_cells(self, painter: QPainter, origin: QPointF) -> None:
        """Everything about the grid, drawn directly: colours, padding, lines, numbers."""
        size_w, size = self.cell_w, self.cell
        target = QRectF(origin.x(), origin.y(), size_w * self.cols, size * self.rows)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, diverging_image(self.values, self.limit))
        padded = ~self.real
        small = min(size, size_w) < 6
        if padded.any():
            style = Qt.BrushStyle.SolidPattern if small else Qt.BrushStyle.BDiagPattern
            hatch = QBrush(PADDING_HATCH, style)
            for row, col in zip(*np.nonzero(padded)):
                cell = QRectF(origin.x() + col * size_w, origin.y() + row * size, size_w, size)
                painter.fillRect(cell, PADDING_CELL)
                if not small:
                    painter.fillRect(cell, hatch)
        self._paint_lines(painter, origin)
        self._paint_numbers(painter, origin)
        if padded.any():
            rows, cols = np.nonzero(self.real)
            if rows.size:
                edge = QRectF(origin.x() + cols.min() * size_w, origin.y() + rows.min() * size,
                              (cols.max() - cols.min() + 1) * size_w,
                              (rows.max() - rows.min() + 1) * size)
                painter.setPen(QPen(REAL_EDGE, 1 if small else 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(edge)
        painter.restore()

    def _paint_lines(self, painter: QPainter, origin: QPointF, force: bool = False) -> None:
        size_w, size = self.cell_w, self.cell
        smallest = min(size, size_w)
        if smallest < 5 and not force:
            return
        painter.setPen(QPen(GRID_LINE, 1) if smallest >= 5 else QPen(QColor(235, 235, 235), 0))
        if smallest < 3:
            painter.drawRect(QRectF(origin.x(), origin.y(), size_w * self.cols, size * self.rows))
            return
        right, bottom = origin.x() + size_w * self.cols, origin.y() + size * self.rows
        for col in range(self.cols + 1):
            x = origin.x() + col * size_w
            painter.drawLine(QPointF(x, origin.y()), QPointF(x, bottom))
        for row in range(self.rows + 1):
            y = origin.y() + row * size
            painter.drawLine(QPointF(origin.x(), y), QPointF(right, y))

    def _paint_numbers(self, painter: QPainter, origin: QPointF) -> None:
        font = self.number_font()
        if font is None:
            return
        painter.setFont(font)
        size_w, size, labels, limit = self.cell_w, self.cell, self.labels(), self.limit
        dark, light = QColor(30, 30, 30), QColor("white")
        flat_values, flat_real = self.values.ravel(), self.real.ravel()
        for index, text in enumerate(labels):
            row, col = divmod(index, self.cols)
            cell = QRectF(origin.x() + col * size_w, origin.y() + row * size, size_w, size)
            if not flat_real[index]:
                painter.setPen(PADDING_TEXT)
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, self.padding_text)
                continue
            painter.setPen(light if abs(flat_values[index]) / limit > 0.6 else dark)
            painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, text)

    def draw(self, painter: QPainter) -> None:
        if self.per_step:
            self.paint_cells(painter, self.origin)
        else:
            painter.drawPixmap(self.origin, self.full_pixmap())

    def draw_first(self, painter: QPainter, count: int) -> None:
        """The first `count` cells (row by row) as computed, the rest blank: the map filling in."""
        painter.drawPixmap(self.origin, self.blank_pixmap())
        count = max(0, min(count, self.rows * self.cols))
        full_rows, extra = divmod(count, self.cols)
        ratio, size, full = self.device_pixel_ratio, self.cell, self.full_pixmap()
        width = self.cell_w
        if full_rows:
            height = full_rows * size
            painter.drawPixmap(QRectF(self.origin.x(), self.origin.y(), self.cols * width, height),
                               full, QRectF(0, 0, self.cols * width * ratio, height * ratio))
        if extra:
            top = full_rows * size
            painter.drawPixmap(QRectF(self.origin.x(), self.origin.y() + top, extra * width, size),
                               full, QRectF(0, top * ratio, extra * width * ratio, size * ratio))


# ---------------------------------------------------------------------- other drawing helpers

def draw_highlight(painter: QPainter, rect: QRectF, colour: QColor = HIGHLIGHT,
                   width: float = 3) -> None:
    """A bold outline that reads on blue, white and red cells alike: colour with a dark edge."""
    painter.save()
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    outer = rect.adjusted(-width / 2 - 1, -width / 2 - 1, width / 2 + 1, width / 2 + 1)
    painter.setPen(QPen(HIGHLIGHT_EDGE, 1))
    painter.drawRect(outer)
    painter.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.SquareCap,
                        Qt.PenJoinStyle.MiterJoin))
    painter.drawRect(rect)
    painter.restore()


def draw_title(painter: QPainter, rect: QRectF, text: str | tuple[str, ...], font: QFont,
               align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignHCenter,
               colour: QColor | None = None) -> None:
    """One line of text in `rect`. Given several versions (longest first), the first that fits
    is drawn; the last is elided with … when even it does not fit."""
    painter.setFont(font)
    if colour is not None:
        painter.setPen(colour)
    metrics = QFontMetricsF(font)
    versions = (text,) if isinstance(text, str) else text
    chosen = next((v for v in versions if metrics.horizontalAdvance(v) <= rect.width()), None)
    if chosen is None:
        chosen = metrics.elidedText(versions[-1], Qt.TextElideMode.ElideRight, rect.width())
    painter.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter, chosen)


# ---------------------------------------------------------------------- the written calculation

@dataclass
class Run:
    """A piece of the written calculation; style is "plain", "strong", "focus" or "muted"."""

    text: str
    style: str = "plain"


def runs_text(lines: list[list[Run]]) -> str:
    """The calculation as plain text, one line per written line."""
    return "\n".join("".join(run.text for run in line) for line in lines)


def _layout_runs(lines: list[list[Run]], fonts: dict[str, QFont], width: float,
                 indent: float) -> tuple[list[tuple[float, int, Run]], int]:
    """(x, visual line, run) for every run, wrapping between runs; and the number of lines."""
    metrics = {style: QFontMetricsF(font) for style, font in fonts.items()}
    placed: list[tuple[float, int, Run]] = []
    visual = 0
    for line in lines:
        x = 0.0
        for run in line:
            advance = metrics[run.style].horizontalAdvance(run.text)
            if x > indent and x + advance > width:
                visual += 1
                x = indent
                if run.text[:1] in (" ", ",", ";"):
                    # A continuation starts with its term ("+ 0.5×0.2"), not a space or comma.
                    stripped = Run(run.text.lstrip(" ,;"), run.style)
                    advance = metrics[run.style].horizontalAdvance(stripped.text)
                    run = stripped
            placed.append((x, visual, run))
            x += advance
        visual += 1
    return placed, visual


def wrapped_line_count(lines: list[list[Run]], fonts: dict[str, QFont], width: float) -> int:
    return _layout_runs(lines, fonts, width, indent=width * 0.04)[1]


def draw_runs(painter: QPainter, rect: QRectF, lines: list[list[Run]],
              fonts: dict[str, QFont]) -> None:
    """Write the lines into rect, wrapping long ones between runs (continuations indented)."""
    placed, _count = _layout_runs(lines, fonts, rect.width(), indent=rect.width() * 0.04)
    line_height = max(QFontMetricsF(font).lineSpacing() for font in fonts.values())
    ascent = max(QFontMetricsF(font).ascent() for font in fonts.values())
    for x, visual, run in placed:
        top = rect.top() + visual * line_height
        if top + line_height > rect.bottom() + 1:
            break
        font = fonts[run.style]
        painter.setFont(font)
        if run.style == "focus":
            width = QFontMetricsF(font).horizontalAdvance(run.text)
            behind = QRectF(rect.left() + x - 2, top, width + 4, line_height)
            painter.fillRect(behind, FOCUS_BACKGROUND)
        painter.setPen(MUTED_TEXT if run.style == "muted" else QColor(20, 20, 20))
        painter.drawText(QPointF(rect.left() + x, top + ascent), run.text)


def text_fonts(base: QFont, pixels: float) -> dict[str, QFont]:
    """The fonts for the written calculation's run styles at a pixel size."""
    plain = pixel_font(base, pixels)
    strong = pixel_font(base, pixels, bold=True)
    return {"plain": plain, "strong": strong, "focus": strong, "muted": plain}
