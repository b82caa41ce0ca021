"""What the convolution and pooling step views share: the layout, the output map filling in,
the sliding-window highlight, the written calculation, legends, clicks and tooltips.

The picture, left to right: the input map with the window on it; in the middle the numbers of
this step (the window, the kernel, the products, the result) joined by ×, = and →; the output
map, filled in up to the current cell. Under them the calculation in words, and the colour
legends. The middle block is arranged as a row, two rows or a column, whichever leaves the maps
and the middle numbers the most room at the widget's size. Subclasses supply the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from cnnviz.ui.grid_painting import (
    GRID_LINE, HIGHLIGHT, MUTED_TEXT, PADDING_CELL, PADDING_HATCH, Run, ValueGrid, draw_highlight,
    draw_runs, draw_title, pixel_font, runs_text, text_fonts, wrapped_line_count,
)
from cnnviz.ui.value_colors import ColorLegend, format_value

Table = list[list[str | None]]   # grid keys and operator texts ("×", "=", "→"), None = empty
BEAM_FILL = QColor(HIGHLIGHT.red(), HIGHLIGHT.green(), HIGHLIGHT.blue(), 55)
BEAM_EDGE = QColor(HIGHLIGHT.red(), HIGHLIGHT.green(), HIGHLIGHT.blue(), 150)
BACKGROUND = QColor(255, 255, 255)
LARGEST_MAP_CELL = 64
MAX_BASE_PIXELS = 28.0   # titles and numbers on a big screen or projector
MAX_TEXT_PIXELS = 32


@dataclass
class _Chosen:
    table: Table
    cell: int          # cell size of the middle grids
    side: int          # side of the square box each map is fitted into
    middle: tuple[float, float]
    score: tuple[float, float]


class StepViewBase(QWidget):
    """Base of ConvStepView and PoolStepView; see the module docstring."""

    step_clicked = Signal(int)         # a click on output cell (y, x) asks for step y * OW + x
    step_count_changed = Signal(int)   # new data: the number of steps changed (or may have)

    LEGENDS: tuple[tuple[str, str, str], ...] = ()   # (key, label, tooltip) of each colour scale
    EMPTY_TEXT = "Nothing to show yet"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input_grid = ValueGrid(digits=2)
        self.output_grid = ValueGrid(digits=2)
        self.result_grid = ValueGrid(digits=3, per_step=True)
        self._step = 0
        self._lines: list[list[Run]] = []
        self._reserved_lines = 1
        self._layout_valid = False
        self._last_layout_key: tuple = ()
        self._fonts = text_fonts(self.font(), 13)
        self._title_font = pixel_font(self.font(), 13, bold=True)
        self._titles: dict[str, QRectF] = {}
        self._operators: list[tuple[str, QRectF]] = []
        self._calc_rect = QRectF()
        self._legend_labels: list[tuple[str, QRectF]] = []
        self._padding_swatch: tuple[QRectF, QRectF, str] | None = None
        self._legend_label_font = self._note_font = self._title_font
        self._legends = {key: ColorLegend(self) for key, _label, _tip in self.LEGENDS}
        for legend in self._legends.values():
            legend.setMinimumWidth(90)
            # The view is always drawn on white, so its legends write in dark ink even when the
            # desktop uses a dark theme (where the palette's text colour would be white).
            palette = legend.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(30, 30, 30))
            legend.setPalette(palette)
            legend.hide()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(420, 300)

    # ------------------------------------------------------------------ hooks for subclasses
    def _has_data(self) -> bool:
        raise NotImplementedError

    def step_count(self) -> int:
        raise NotImplementedError

    def _middle_grids(self) -> dict[str, ValueGrid]:
        """The middle block's grids by key; "result" is the single output cell of this step."""
        raise NotImplementedError

    def _middle_tables(self) -> list[Table]:
        raise NotImplementedError

    def _title(self, key: str) -> str | tuple[str, ...]:
        """A grid's title, or several versions of it, longest first (the first that fits)."""
        raise NotImplementedError

    def _show_step(self, step: int) -> None:
        """Work out step `step` and put its numbers into the middle grids."""
        raise NotImplementedError

    def _calculation_lines(self, step: int | None = None) -> list[list[Run]]:
        """The calculation of `step` (default: the current one) as lines of runs."""
        raise NotImplementedError

    def _window_block(self) -> tuple[int, int, int, int]:
        """(row, col, rows, cols) of the window on the drawn input grid (padding included)."""
        raise NotImplementedError

    def _legend_limits(self) -> dict[str, float]:
        raise NotImplementedError

    def _tooltip(self, key: str, row: int, col: int) -> str:
        raise NotImplementedError

    def _decorate(self, painter: QPainter) -> None:
        """Extra drawing on top of the middle grids (the max a pooling window picks)."""

    # ------------------------------------------------------------------ public
    def step(self) -> int:
        return self._step

    def set_step(self, step: int) -> None:
        """Show step `step`: output position (step // OW, step % OW)."""
        if not self._has_data():
            return
        self._step = max(0, min(int(step), self.step_count() - 1))
        self._show_step(self._step)
        self._lines = self._calculation_lines()
        if self._layout_valid and self._wrapped(self._lines) > self._reserved_lines:
            self._layout_valid = False
        self.update()

    def calculation_text(self) -> str:
        """The written calculation of the current step, as drawn (one line per written line)."""
        return runs_text(self._lines)

    def output_cell_rect(self, y: int, x: int) -> QRect:
        """Where output cell (y, x) is drawn, in widget coordinates."""
        self._ensure_layout()
        return self.output_grid.cell_rect(y, x).toRect()

    def input_cell_rect(self, row: int, col: int) -> QRect:
        """Where cell (row, col) of the drawn input is, padding border included."""
        self._ensure_layout()
        return self.input_grid.cell_rect(row, col).toRect()

    def input_drawn_shape(self) -> tuple[int, int]:
        """Rows and columns of the input as drawn: the input plus any padding border."""
        return self.input_grid.rows, self.input_grid.cols

    # ------------------------------------------------------------------ data changes
    def _data_changed(self, new_steps: bool = True) -> None:
        """Subclasses call this after new data: relayout, and (for a new layer) tell the
        playback the count. Another filter or channel keeps the count and the playback going."""
        for legend in self._legends.values():
            legend.setVisible(self._has_data())
        if self._has_data():
            for key, limit in self._legend_limits().items():
                self._legends[key].set_limit(limit)
            self._step = min(self._step, self.step_count() - 1)
            self._show_step(self._step)
            self._lines = self._calculation_lines()
        else:
            self._lines = []
        # Laying out costs more than a step; new numbers in grids of the same shapes (the same
        # layer after another epoch of training) keep the layout they had.
        key = self._layout_key()
        if key != self._last_layout_key:
            self._last_layout_key = key
            self._reserved_lines = 1
            self._layout_valid = False
        if new_steps:
            self.step_count_changed.emit(self.step_count())
        self.update()

    def _layout_key(self) -> tuple:
        """What the layout depends on besides the widget's size: grid shapes, number widths."""
        if not self._has_data():
            return ()
        grids = [self.input_grid, self.output_grid, *self._middle_grids().values()]
        return tuple((grid.rows, grid.cols,
                      tuple(len(text) for text in (getattr(grid, "font_samples", None) or ())))
                     for grid in grids)

    def _wrapped(self, lines: list[list[Run]]) -> int:
        return wrapped_line_count(lines, self._fonts, max(50.0, self._calc_rect.width()))

    # ------------------------------------------------------------------ layout
    def resizeEvent(self, event) -> None:  # noqa: N802
        self._layout_valid = False
        self._reserved_lines = 1   # the calculation wraps differently at the new width
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._layout_valid = False
        super().changeEvent(event)

    def _ensure_layout(self) -> None:
        if not self._layout_valid and self._has_data():
            self._relayout()
            self._layout_valid = True

    def _relayout(self) -> None:
        """Lay out for the widget's size. The maps and the middle numbers are usually limited by
        the width; height left over goes into a larger calculation text and legends, up to a
        third larger, rather than into empty bands."""
        width, height = float(self.width()), float(self.height())
        pixels = max(12.0, min(MAX_BASE_PIXELS, width / 50, height / 29))
        base = self._plan(pixels, pixels)
        text_pixels = pixels
        while text_pixels < min(MAX_TEXT_PIXELS, pixels * 1.25):
            bigger = self._plan(pixels, text_pixels + 1, base["chosen"])
            if bigger["total_h"] > height - 2 * bigger["margin"]:
                break
            text_pixels += 1
        self._apply(self._plan(pixels, text_pixels, base["chosen"]))

    def _plan(self, pixels: float, text_pixels: float, chosen: _Chosen | None = None) -> dict:
        """Fonts, arrangement and heights at a size for titles and numbers, and one for the
        calculation and legends (sets the fonts on the view)."""
        width, height = float(self.width()), float(self.height())
        self._fonts = text_fonts(self.font(), text_pixels)
        self._title_font = pixel_font(self.font(), pixels, bold=True)
        line = QFontMetricsF(self._fonts["strong"]).lineSpacing()
        title_h = round(QFontMetricsF(self._title_font).lineSpacing() * 1.25)
        margin, gap = max(8.0, pixels * 0.6), pixels * 1.2
        number_pixels = pixels * 0.85

        # Bottom up: legends, then the calculation (as many lines as it wraps to), then the maps.
        legend_font = pixel_font(self.font(), max(10.0, round(pixels * 0.85)))
        for legend in self._legends.values():
            legend.setFont(legend_font)
        legend_h = next(iter(self._legends.values())).sizeHint().height() if self._legends else 0
        self._calc_rect = QRectF(margin, 0, width - 2 * margin, 0)
        samples = [self._lines] + [self._calculation_lines(s) for s in self._sample_steps()]
        reserved = max(self._wrapped(sample) for sample in samples)
        calc_h = reserved * line
        top_h = height - 2 * margin - calc_h - legend_h - 2 * gap * 0.6
        number_font = pixel_font(self.font(), number_pixels)
        number_w = QFontMetricsF(number_font).horizontalAdvance("\u22120.00")
        if chosen is None:
            free_w = width - 2 * margin - 2 * gap
            chosen = self._choose(free_w, top_h, title_h, number_w + 8, pixels)
        content_h = max(title_h + chosen.side, chosen.middle[1])
        return dict(pixels=pixels, text_pixels=text_pixels, margin=margin, gap=gap,
                    number_pixels=number_pixels,
                    title_h=title_h, legend_h=legend_h, reserved=reserved, calc_h=calc_h,
                    chosen=chosen, content_h=content_h,
                    total_h=content_h + calc_h + legend_h + 2 * gap * 0.6)

    def _apply(self, plan: dict) -> None:
        """Place every grid, title, the calculation and the legends as planned."""
        width, height = float(self.width()), float(self.height())
        self._plan(plan["pixels"], plan["text_pixels"], plan["chosen"])   # the fonts of this plan
        margin, gap, chosen = plan["margin"], plan["gap"], plan["chosen"]
        number_pixels, title_h, legend_h = plan["number_pixels"], plan["title_h"], plan["legend_h"]
        self._reserved_lines = max(self._reserved_lines, plan["reserved"])
        calc_h = self._reserved_lines * QFontMetricsF(self._fonts["strong"]).lineSpacing()
        content_h = plan["content_h"]
        total_h = content_h + calc_h + legend_h + 2 * gap * 0.6
        middle_w, middle_h = chosen.middle
        spare = max(0.0, width - 2 * margin - 2 * chosen.side - middle_w - 2 * gap)
        gap_x = gap + min(spare / 2, gap * 2)
        content_w = 2 * chosen.side + middle_w + 2 * gap_x
        top = max(margin, (height - total_h) / 2)
        left = (width - content_w) / 2
        ratio = self.devicePixelRatioF()

        self._titles = {}
        middle_left = left + chosen.side + gap_x
        for grid, key, x, bounds in (
                (self.input_grid, "input", left, (margin, middle_left - 6)),
                (self.output_grid, "output", middle_left + middle_w + gap_x,
                 (middle_left + middle_w + 6, width - margin))):
            box = QRectF(x, top + title_h, chosen.side, chosen.side)
            grid.place(box, LARGEST_MAP_CELL, self.font(), number_pixels, ratio, align_top=True)
            # A map's title may spread over the gaps beside it, centred on the map.
            centre = grid.rect().center().x()
            half = max(chosen.side / 2, min(centre - bounds[0], bounds[1] - centre))
            self._titles[key] = QRectF(centre - half, top, 2 * half, title_h)
        middle_top = top + max(0.0, (title_h + chosen.side - middle_h) / 2)
        self._place_middle(chosen, QPointF(left + chosen.side + gap_x, middle_top), title_h,
                           number_pixels, ratio)

        calc_top = top + content_h + gap * 0.6
        self._calc_rect = QRectF(margin, calc_top, width - 2 * margin, calc_h)
        legend_top = calc_top + calc_h + gap * 0.6
        self._place_legends(QRectF(margin, legend_top, width - 2 * margin, legend_h))

    def _sample_steps(self) -> list[int]:
        count = self.step_count()
        return sorted({0, count // 2, count - 1}) if count else []

    def _operator_width(self, pixels: float) -> float:
        font = pixel_font(self.font(), pixels * 1.5, bold=True)
        return QFontMetricsF(font).horizontalAdvance("→") + 10

    def _result_cell(self, cell: int) -> int:
        window = self._middle_grids()["window"]
        return max(cell, round(min(window.rows, window.cols) * cell * 0.67))

    def _measure(self, table: Table, cell: int, title_h: float, pixels: float):
        """Column widths and row heights of a middle table at a cell size."""
        grids = self._middle_grids()
        title_metrics = QFontMetricsF(self._title_font)
        op_w = self._operator_width(pixels)
        columns = max(len(row) for row in table)
        widths, heights = [0.0] * columns, [0.0] * len(table)
        for r, row in enumerate(table):
            for c, key in enumerate(row):
                if key is None:
                    continue
                if key in grids:
                    grid = grids[key]
                    side = self._result_cell(cell) if key == "result" else cell
                    title = self._title(key)
                    title = title if isinstance(title, str) else title[-1]
                    w = max(grid.cols * side, title_metrics.horizontalAdvance(title) + 6)
                    h = title_h + grid.rows * side
                else:
                    w, h = op_w, title_h + pixels * 1.6
                widths[c], heights[r] = max(widths[c], w), max(heights[r], h)
        spacing = pixels * 0.3
        total_w = sum(widths) + spacing * (columns - 1)
        return widths, heights, total_w, sum(heights) + spacing * (len(table) - 1)

    def _choose(self, free_w: float, top_h: float, title_h: float, cell_wanted: float,
                pixels: float) -> _Chosen:
        """The arrangement and cell size that give maps and middle numbers the most room."""
        side_wanted = max(1.0, top_h - title_h)
        best: _Chosen | None = None
        for table in self._middle_tables():
            for cell in range(6, int(cell_wanted * 1.3) + 1):
                *_sizes, middle_w, middle_h = self._measure(table, cell, title_h, pixels)
                side = min(side_wanted, (free_w - middle_w) / 2)
                if middle_h > top_h or side < 40:
                    break
                # Numbers a class can read matter more than big maps: maps count as full size
                # at three quarters of the height.
                a, b = min(1.0, side / (side_wanted * 0.77)), min(1.0, cell / cell_wanted)
                score = (min(a, b), a + b)
                if best is None or score > best.score:
                    best = _Chosen(table, cell, int(side), (middle_w, middle_h), score)
        if best is None:  # a tiny widget: the smallest arrangement, whatever it costs
            table = self._middle_tables()[0]
            *_sizes, middle_w, middle_h = self._measure(table, 6, title_h, pixels)
            best = _Chosen(table, 6, int(max(20.0, min(side_wanted, (free_w - middle_w) / 2))),
                           (middle_w, middle_h), (0.0, 0.0))
        return best

    def _place_middle(self, chosen: _Chosen, origin: QPointF, title_h: float, number_pixels: float,
                      ratio: float) -> None:
        pixels = self._title_font.pixelSize()
        widths, heights, _w, _h = self._measure(chosen.table, chosen.cell, title_h, pixels)
        spacing = pixels * 0.3
        grids = self._middle_grids()
        self._operators = []
        y = origin.y()
        for r, row in enumerate(chosen.table):
            x = origin.x()
            grid_h = heights[r] - title_h
            for c, key in enumerate(row):
                if key in grids:
                    side = self._result_cell(chosen.cell) if key == "result" else chosen.cell
                    box = QRectF(x, y + title_h, widths[c], grid_h)
                    font_pixels = number_pixels * (1.15 if key == "result" else 1)
                    grids[key].place(box, side, self.font(), font_pixels, ratio, align_top=True)
                    self._titles[key] = QRectF(x - spacing / 2, y, widths[c] + spacing, title_h)
                elif key is not None:
                    self._operators.append((key, QRectF(x, y + title_h, widths[c], grid_h)))
                x += widths[c] + spacing
            y += heights[r] + spacing

    def _place_legends(self, row: QRectF) -> None:
        """The legends side by side under the calculation, each after its label; then, when the
        input has a padding border, a hatched swatch saying what it is. Each legend gets the
        width its numbers need and the room left over is shared out; in a narrow view the
        gaps, then the fonts, shrink until the row fits."""
        self._legend_labels = []
        self._padding_swatch = None
        note = self._padding_note()
        size = self._title_font.pixelSize()
        while True:
            self._legend_label_font = pixel_font(self.font(), size, bold=True)
            self._note_font = pixel_font(self.font(), size)
            legend_font = pixel_font(self.font(), max(10.0, round(size * 0.85)))
            label_metrics = QFontMetricsF(self._legend_label_font)
            note_w = 0.0
            if note:
                note_w = QFontMetricsF(self._note_font).horizontalAdvance(note)
                note_w += row.height() * 0.7 + 8   # the swatch and its gap
            parts = []
            for key, label, tooltip in self.LEGENDS:
                legend = self._legends[key]
                legend.setFont(legend_font)
                numbers = QFontMetricsF(legend_font)
                need = sum(numbers.horizontalAdvance(text) for text in (
                    format_value(-legend.limit()), "0", format_value(legend.limit()))) + 28
                label_w = label_metrics.horizontalAdvance(label) + 8
                parts.append([key, label, tooltip, label_w, need])
            fixed = sum(part[3] + part[4] for part in parts) + note_w
            spacing = max(10.0, min(20.0, (row.width() - fixed) / max(len(parts), 1)))
            used = fixed + spacing * len(parts)
            if used <= row.width() or size <= 10:
                break
            size -= 1
        extra = max(0.0, row.width() - used) / max(len(parts), 1)
        x = row.left() + max(0.0, row.width() - used - extra * len(parts)) / 2
        for key, label, tooltip, label_w, need in parts:
            legend_w = need + min(extra, 300 - need) if need < 300 else need
            slot_extra = extra - (legend_w - need)
            x += slot_extra / 2
            # The label sits beside the colour bar, as high as ColorLegend draws the bar.
            bar_h = max(8.0, row.height() - legend.fontMetrics().height() - 8)
            self._legend_labels.append((label, QRectF(x, row.top() + 2, label_w, bar_h)))
            legend = self._legends[key]
            legend.setToolTip(tooltip)
            legend.setGeometry(QRect(round(x + label_w), round(row.top()), round(legend_w),
                                     round(row.height())))
            x += label_w + legend_w + spacing + slot_extra / 2
        if note:
            first_legend = self._legends[self.LEGENDS[0][0]]
            side = max(8.0, row.height() - first_legend.fontMetrics().height() - 8)
            swatch = QRectF(x, row.top() + 2, side, side)
            text = QRectF(swatch.right() + 6, row.top() + 2, note_w - side - 6, side)
            self._padding_swatch = (swatch, text, note)

    def _padding_note(self) -> str:
        """What the hatched border cells mean ("" when the input has none)."""
        return ""

    # ------------------------------------------------------------------ painting
    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if not self._has_data():
            painter.setPen(MUTED_TEXT)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.EMPTY_TEXT)
            painter.end()
            return
        self._ensure_layout()
        row, col, rows, cols = self._window_block()
        window_rect = self.input_grid.block_rect(row, col, rows, cols)
        out_y, out_x = divmod(self._step, self.output_grid.cols)
        current = self.output_grid.cell_rect(out_y, out_x)
        grids = self._middle_grids()
        self._draw_beam(painter, window_rect, grids["window"].rect())
        self._draw_beam(painter, grids["result"].rect(), current)

        for key, rect in self._titles.items():
            draw_title(painter, rect, self._title(key), self._title_font, colour=QColor(25, 25, 25))
        self.input_grid.draw(painter)
        draw_highlight(painter, window_rect)
        for grid in grids.values():
            grid.draw(painter)
        op_font = pixel_font(self.font(), self._title_font.pixelSize() * 1.5, bold=True)
        painter.setPen(QColor(70, 70, 70))
        for text, rect in self._operators:
            draw_title(painter, rect, text, op_font)
        draw_highlight(painter, grids["result"].rect(), width=2)
        self._decorate(painter)
        self.output_grid.draw_first(painter, self._step + 1)
        draw_highlight(painter, current, width=3 if current.width() >= 8 else 2)
        draw_runs(painter, self._calc_rect, self._lines, self._fonts)
        for label, rect in self._legend_labels:
            draw_title(painter, rect, label, self._legend_label_font, Qt.AlignmentFlag.AlignRight,
                       QColor(25, 25, 25))
        if self._padding_swatch is not None:
            swatch, text_rect, note = self._padding_swatch
            painter.fillRect(swatch, PADDING_CELL)
            painter.fillRect(swatch, QBrush(PADDING_HATCH, Qt.BrushStyle.BDiagPattern))
            painter.setPen(QPen(GRID_LINE, 1))
            painter.drawRect(swatch)
            draw_title(painter, text_rect, note, self._note_font, Qt.AlignmentFlag.AlignLeft,
                       QColor(25, 25, 25))
        painter.end()

    def _draw_beam(self, painter: QPainter, source: QRectF, target: QRectF) -> None:
        """A translucent band joining the window to its numbers and the result to its cell."""
        if target.left() <= source.right():
            return
        path = QPainterPath(source.topRight())
        path.lineTo(target.topLeft())
        path.lineTo(target.bottomLeft())
        path.lineTo(source.bottomRight())
        path.closeSubpath()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillPath(path, BEAM_FILL)
        painter.setPen(QPen(BEAM_EDGE, 1))
        painter.drawLine(source.topRight(), target.topLeft())
        painter.drawLine(source.bottomRight(), target.bottomLeft())
        painter.restore()

    # ------------------------------------------------------------------ mouse and tooltips
    def _grid_under(self, point: QPointF) -> tuple[str, ValueGrid, tuple[int, int]] | None:
        self._ensure_layout()
        candidates = {"input": self.input_grid, "output": self.output_grid, **self._middle_grids()}
        for key, grid in candidates.items():
            cell = grid.cell_at(point)
            if cell is not None:
                return key, grid, cell
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self._has_data() and event.button() == Qt.MouseButton.LeftButton:
            cell = self.output_grid.cell_at(event.position())
            if cell is not None:
                self.step_clicked.emit(cell[0] * self.output_grid.cols + cell[1])
                return
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self._has_data():
            found = self._grid_under(QPointF(event.pos()))
            if found is None:
                QToolTip.hideText()
                event.ignore()
                return True
            key, grid, (row, col) = found
            QToolTip.showText(event.globalPos(), self._tooltip(key, row, col), self,
                              grid.cell_rect(row, col).toRect())
            return True
        return super().event(event)

    def tooltip_at(self, point: QPointF) -> str:
        """The tooltip the view shows when the mouse rests at `point` ("" outside every map)."""
        found = self._grid_under(QPointF(point))
        if found is None or not self._has_data():
            return ""
        key, _grid, (row, col) = found
        return self._tooltip(key, row, col)
