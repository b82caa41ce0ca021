"""How the convolution and pooling step views lay themselves out: the arrangement of the
middle numbers (a row, two rows or a column), the cell and map sizes, the fonts, and where the
grids, titles, calculation and legends go. A mixin of StepViewBase; see step_view_base.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QFontMetricsF

from cnnviz.ui.explain.views.grid_painting import pixel_font, text_fonts
from cnnviz.ui.common.value_colors import format_value

Table = list[list[str | None]]   # grid keys and operator texts ("×", "=", "→"), None = empty
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


class StepViewLayout:
    """Layout methods of StepViewBase (a QWidget); they use its grids, fonts and hooks."""

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
