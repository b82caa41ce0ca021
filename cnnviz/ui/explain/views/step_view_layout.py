"""How the convolution and pooling step views lay themselves out: the arrangement of the
middle numbers (a row, two rows or a column), the cell and map sizes, the fonts, and where the
grids, titles, calculation and legends go.

`StepLayout` is owned by a step view (step_view_base.py). It is given the view's grids and
legends when made, and each `arrange` call the widget's size and font and what the data says
(`StepContent`); it places the grids and legends and keeps the rest (titles, operators, the
calculation's rectangle, fonts) for the view to paint.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QFont, QFontInfo, QFontMetricsF

from cnnviz.core.formatting import plain_value
from cnnviz.ui.common.value_colors import ColorLegend
from cnnviz.ui.common.zoom import zoom_factor
from cnnviz.ui.explain.views.grid_painting import (
    Run, ValueGrid, pixel_font, text_fonts, wrapped_line_count,
)

Table = list[list[str | None]]   # grid keys and operator texts ("×", "=", "→"), None = empty
LARGEST_MAP_CELL = 64
MAX_BASE_PIXELS = 28.0   # titles and numbers on a big screen or projector (at zoom 100 %)
MAX_TEXT_PIXELS = 32
NUMBERED_MAP_CELLS = 34  # maps up to 32×32 (34 with a padding border) carry their numbers


Cell = tuple[int, int]   # (width, height) of a middle grid's cell


@dataclass
class Chosen:
    """The arrangement picked for the middle block."""
    table: Table
    cell: Cell         # cell size of the middle grids
    side: int          # side of the square box each map is fitted into
    middle: tuple[float, float]
    score: tuple[float, ...]
    fits: bool = True  # False: even the smallest readable arrangement is larger than the room


@dataclass
class Plan:
    """Sizes worked out for one font size of titles and numbers and one of the calculation."""
    pixels: float
    text_pixels: float
    margin: float
    gap: float
    number_pixels: float
    title_h: float
    legend_h: float
    reserved: int
    calc_h: float
    chosen: Chosen
    content_h: float
    total_h: float


@dataclass
class StepContent:
    """What the layout needs from the view's data."""
    title: Callable[[str], str | tuple[str, ...]]   # a grid's title(s), longest first
    lines: list[list[Run]]                           # the current step's calculation
    samples: list[list[list[Run]]]                   # calculations of a few other steps
    padding_note: str                                # "" when the input has no padding border


class StepLayout:
    """Lays out a step view's grids, titles, calculation and legends for its size.

    `legend_specs` are the view's (key, label, tooltip) legends; `legends` their widgets by key.
    After `arrange`, the attributes `fonts`, `title_font`, `titles`, `operators`, `calc_rect`,
    `legend_labels`, `legend_label_font`, `note_font` and `padding_swatch` say what to paint.
    """

    def __init__(self, input_grid: ValueGrid, output_grid: ValueGrid,
                 middle_grids: dict[str, ValueGrid], tables: list[Table],
                 legends: dict[str, ColorLegend],
                 legend_specs: tuple[tuple[str, str, str], ...], font: QFont) -> None:
        self.input_grid = input_grid
        self.output_grid = output_grid
        self.middle_grids = middle_grids      # "result" is the single output cell of a step
        self.tables = tables
        self.legends = legends
        self.legend_specs = legend_specs
        self.reserved_lines = 1
        self.fonts = text_fonts(font, 13)
        self.title_font = pixel_font(font, 13, bold=True)
        self.titles: dict[str, QRectF] = {}
        self.operators: list[tuple[str, QRectF]] = []
        self.calc_rect = QRectF()
        self.legend_labels: list[tuple[str, QRectF]] = []
        self.padding_swatch: tuple[QRectF, QRectF, str] | None = None
        self.legend_label_font = self.note_font = self.title_font
        self._font = font
        self._content: StepContent | None = None
        # Maps up to 32×32 carry their numbers: always (the view scrolls when they need more
        # room than there is), or only when they fit (numbers_always False, the default).
        self.numbers_always = False
        self.numbers_on_maps = True   # what the layout does now (the view decides)

    def wrapped(self, lines: list[list[Run]]) -> int:
        """How many lines the calculation wraps to at the current width and fonts."""
        return wrapped_line_count(lines, self.fonts, max(50.0, self.calc_rect.width()))

    def reset_reserved_lines(self) -> None:
        """Forget the calculation's height: new shapes or a new width wrap it differently."""
        self.reserved_lines = 1

    def arrange(self, width: float, height: float, font: QFont, ratio: float,
                content: StepContent) -> None:
        """Lay out for a widget of width×height. The maps and the middle numbers are usually
        limited by the width; height left over goes into a larger calculation text and
        legends, up to a third larger, rather than into empty bands. Numbers never shrink
        below the widget's font (which follows the zoom): when they do not fit, the layout
        keeps them readable and `minimum_size` tells the view how much room it needs."""
        self._font, self._content = font, content
        floor = self.floor_pixels()
        largest = max(floor, min(MAX_BASE_PIXELS * zoom_factor(), width / 50, height / 29))
        # Larger titles and numbers need larger cells and lines, which leave the maps less
        # room. The maps are the picture a class looks at, so they count twice as much as the
        # size of the text: the size that makes map side × √(text size) largest. On a small
        # screen that is the floor (the font); on a large one the text grows a little.
        plans: list[Plan] = []
        pixels = largest
        while True:
            plans.append(self._plan(width, height, pixels, pixels))
            if pixels <= floor:
                break
            pixels = max(floor, pixels * 0.88)
        fitting = [plan for plan in plans if plan.chosen.fits] or plans
        base = max(fitting, key=lambda plan: (
            self._map_side(plan.chosen.side) * math.sqrt(plan.pixels), plan.pixels))
        pixels = base.pixels
        text_pixels = pixels
        while text_pixels < min(MAX_TEXT_PIXELS * zoom_factor(), pixels * 1.25):
            bigger = self._plan(width, height, pixels, text_pixels + 1, base.chosen)
            if bigger.total_h > height - 2 * bigger.margin:
                break
            text_pixels += 1
        self._apply(width, height, ratio, self._plan(width, height, pixels, text_pixels,
                                                     base.chosen))

    def _map_side(self, side: float) -> int:
        """How large the maps are drawn in a square of `side`: whole-pixel cells, at most
        LARGEST_MAP_CELL (the smaller of the two maps)."""
        drawn = []
        for grid in (self.input_grid, self.output_grid):
            cells = max(grid.rows, grid.cols, 1)
            drawn.append(min(LARGEST_MAP_CELL, math.floor(side / cells)) * cells)
        return min(drawn)

    def floor_pixels(self) -> float:
        """The smallest size of titles and numbers: the widget's font, so it follows the zoom."""
        return float(max(12, QFontInfo(self._font).pixelSize()))

    def minimum_size(self, font: QFont, content: StepContent,
                     room: tuple[float, float] = (0.0, 0.0)) -> tuple[int, int]:
        """The smallest (width, height) at which every number is drawn at a readable size.

        `room` is the visible (width, height). An arrangement that fits it whole is taken
        when its maps are at least half as large as the largest any arrangement could draw
        across the room's width; otherwise the one with the largest maps, as high as they
        need: the view then scrolls down rather than sideways, and the maps stay the
        picture. Only when no arrangement fits the width does the view scroll sideways."""
        self._font, self._content = font, content
        pixels = self.floor_pixels()
        plan = self._plan(1e6, 1e6, pixels, pixels)   # fonts and heights at the floor size
        cell_wanted, min_side = self._needs(pixels)
        cell = (math.ceil(cell_wanted[0]), math.ceil(cell_wanted[1]))
        line = QFontMetricsF(self.fonts["strong"]).lineSpacing()
        samples = [content.lines] + content.samples
        options = []   # (width, height, map side, table index)
        for index, table in enumerate(self.tables):
            *_sizes, middle_w, middle_h = self._measure(table, cell, plan.title_h, pixels)
            width = 2 * plan.margin + 2 * min_side + middle_w + 2 * plan.gap
            # The maps as large as the room's width allows, no higher than the room shows
            # (in a very short room, as high as 12 lines of text: they are the picture).
            across = (room[0] - 2 * plan.margin - middle_w - 2 * plan.gap) / 2
            shown = max(room[1] - 2 * plan.margin - plan.title_h, 12 * line)
            side = max(min_side, min(across, shown))
            self.calc_rect = QRectF(0, 0, max(width, room[0]) - 2 * plan.margin, 0)
            calc_h = max(self.wrapped(sample) for sample in samples) * line
            height = (2 * plan.margin + max(plan.title_h + side, middle_h) + calc_h
                      + plan.legend_h + 1.2 * plan.gap)
            options.append((width, height, self._map_side(side), index))
        across_room = [o for o in options if o[0] <= room[0] + 1]
        if not across_room:   # sideways scrolling cannot be avoided: the least of it
            best = min(options, key=lambda o: (2 * (o[0] - room[0]) + max(0.0, o[1] - room[1]),
                                               o[0] * o[1]))
            return int(best[0]) + 2, int(best[1]) + 2
        largest = max(o[2] for o in across_room)
        whole = [o for o in across_room if o[1] <= room[1] + 1 and o[2] >= 0.5 * largest]
        if whole:
            best = min(whole, key=lambda o: (-o[2], o[1]))
        else:
            best = min(across_room, key=lambda o: (-o[2], o[1]))
        return int(best[0]) + 2, int(best[1]) + 2

    def _needs(self, pixels: float) -> tuple[tuple[float, float], float]:
        """(the middle grids' smallest cell (width, height), the maps' smallest side) for
        numbers that read: a middle cell is as wide as its widest number and as high as a
        line of them, no larger, so the maps keep the room."""
        number_font = pixel_font(self._font, pixels * 0.85)
        metrics = QFontMetricsF(number_font)
        texts = ["\u22120.00"]
        for grid in self.middle_grids.values():
            grid.min_font_pixels = pixels * 0.85
            texts += grid.widest_labels()
        cell_h = metrics.height() + 5
        cell_w = max(cell_h, max(metrics.horizontalAdvance(text) for text in texts) + 7)
        map_pixels = max(8.0, round(pixels * 0.7))
        min_side = 40.0
        for grid in (self.input_grid, self.output_grid):
            grid.min_font_pixels = map_pixels
            if not self.numbers_on_maps or max(grid.rows, grid.cols) > NUMBERED_MAP_CELLS:
                continue
            map_metrics = QFontMetricsF(pixel_font(self._font, map_pixels))
            cell = max(max(map_metrics.horizontalAdvance(t) for t in grid.widest_labels()) + 4,
                       map_metrics.height() + 2)
            min_side = max(min_side, cell * max(grid.rows, grid.cols))
        return (cell_w, cell_h), min_side

    def _plan(self, width: float, height: float, pixels: float, text_pixels: float,
              chosen: Chosen | None = None) -> Plan:
        """Fonts, arrangement and heights at a size for titles and numbers, and one for the
        calculation and legends (sets the fonts)."""
        self.fonts = text_fonts(self._font, text_pixels)
        self.title_font = pixel_font(self._font, pixels, bold=True)
        line = QFontMetricsF(self.fonts["strong"]).lineSpacing()
        title_h = round(QFontMetricsF(self.title_font).lineSpacing() * 1.25)
        margin, gap = max(8.0, pixels * 0.6), pixels * 1.0
        number_pixels = pixels * 0.85

        # Bottom up: legends, then the calculation (as many lines as it wraps to), then the maps.
        legend_font = pixel_font(self._font, max(10.0, round(pixels * 0.85)))
        for legend in self.legends.values():
            legend.setFont(legend_font)
        legend_h = next(iter(self.legends.values())).sizeHint().height() if self.legends else 0
        self.calc_rect = QRectF(margin, 0, width - 2 * margin, 0)
        samples = [self._content.lines] + self._content.samples
        reserved = max(self.wrapped(sample) for sample in samples)
        calc_h = reserved * line
        top_h = height - 2 * margin - calc_h - legend_h - 2 * gap * 0.6
        if chosen is None:
            free_w = width - 2 * margin - 2 * gap
            cell_wanted, min_side = self._needs(pixels)
            chosen = self._choose(free_w, top_h, title_h, cell_wanted, pixels, min_side)
        content_h = max(title_h + chosen.side, chosen.middle[1])
        return Plan(pixels=pixels, text_pixels=text_pixels, margin=margin, gap=gap,
                    number_pixels=number_pixels, title_h=title_h, legend_h=legend_h,
                    reserved=reserved, calc_h=calc_h, chosen=chosen, content_h=content_h,
                    total_h=content_h + calc_h + legend_h + 2 * gap * 0.6)

    def _apply(self, width: float, height: float, ratio: float, plan: Plan) -> None:
        """Place every grid, title, the calculation and the legends as planned."""
        self._plan(width, height, plan.pixels, plan.text_pixels, plan.chosen)   # its fonts
        margin, gap, chosen = plan.margin, plan.gap, plan.chosen
        number_pixels, title_h, legend_h = plan.number_pixels, plan.title_h, plan.legend_h
        self.reserved_lines = max(self.reserved_lines, plan.reserved)
        calc_h = self.reserved_lines * QFontMetricsF(self.fonts["strong"]).lineSpacing()
        content_h = plan.content_h
        total_h = content_h + calc_h + legend_h + 2 * gap * 0.6
        middle_w, middle_h = chosen.middle
        spare = max(0.0, width - 2 * margin - 2 * chosen.side - middle_w - 2 * gap)
        gap_x = gap + min(spare / 2, gap * 2)
        content_w = 2 * chosen.side + middle_w + 2 * gap_x
        top = max(margin, (height - total_h) / 2)
        left = (width - content_w) / 2

        self.titles = {}
        middle_left = left + chosen.side + gap_x
        for grid, key, x, bounds in (
                (self.input_grid, "input", left, (margin, middle_left - 6)),
                (self.output_grid, "output", middle_left + middle_w + gap_x,
                 (middle_left + middle_w + 6, width - margin))):
            box = QRectF(x, top + title_h, chosen.side, chosen.side)
            grid.place(box, LARGEST_MAP_CELL, self._font, number_pixels, ratio, align_top=True)
            # A map's title may spread over the gaps beside it, centred on the map.
            centre = grid.rect().center().x()
            half = max(chosen.side / 2, min(centre - bounds[0], bounds[1] - centre))
            self.titles[key] = QRectF(centre - half, top, 2 * half, title_h)
        middle_top = top + max(0.0, (title_h + chosen.side - middle_h) / 2)
        self._place_middle(chosen, QPointF(left + chosen.side + gap_x, middle_top), title_h,
                           number_pixels, ratio)

        calc_top = top + content_h + gap * 0.6
        self.calc_rect = QRectF(margin, calc_top, width - 2 * margin, calc_h)
        legend_top = calc_top + calc_h + gap * 0.6
        self._place_legends(QRectF(margin, legend_top, width - 2 * margin, legend_h))

    def _operator_width(self, pixels: float) -> float:
        font = pixel_font(self._font, pixels * 1.5, bold=True)
        return QFontMetricsF(font).horizontalAdvance("→") + 6

    def _result_cell(self, cell: Cell) -> Cell:
        """The result's box: its number is written 15 % larger, in a box about two thirds
        as high as the window."""
        window = self.middle_grids["window"]
        height = max(round(cell[1] * 1.2), round(window.rows * cell[1] * 0.67))
        return max(round(cell[0] * 1.2), height), height

    def _measure(self, table: Table, cell: Cell, title_h: float, pixels: float):
        """Column widths and row heights of a middle table at a cell size."""
        grids = self.middle_grids
        title_metrics = QFontMetricsF(self.title_font)
        op_w = self._operator_width(pixels)
        columns = max(len(row) for row in table)
        widths, heights = [0.0] * columns, [0.0] * len(table)
        for r, row in enumerate(table):
            for c, key in enumerate(row):
                if key is None:
                    continue
                if key in grids:
                    grid = grids[key]
                    cell_w, cell_h = self._result_cell(cell) if key == "result" else cell
                    title = self._content.title(key)
                    title = title if isinstance(title, str) else title[-1]
                    w = max(grid.cols * cell_w, title_metrics.horizontalAdvance(title) + 6)
                    h = title_h + grid.rows * cell_h
                else:
                    w, h = op_w, title_h + pixels * 1.6
                widths[c], heights[r] = max(widths[c], w), max(heights[r], h)
        spacing = pixels * 0.25
        total_w = sum(widths) + spacing * (columns - 1)
        return widths, heights, total_w, sum(heights) + spacing * (len(table) - 1)

    def _choose(self, free_w: float, top_h: float, title_h: float,
                cell_wanted: tuple[float, float], pixels: float,
                min_side: float = 40.0) -> Chosen:
        """The arrangement and cell size that give the maps the most room, then the middle
        numbers; the middle cells never smaller than `cell_wanted` (their numbers fit), the
        maps never smaller than `min_side`. Maps within 5 % of the largest they could be
        count as full size; among those the middle cells grow (towards squares) into what
        room is left."""
        side_wanted = max(min_side, top_h - title_h)
        best: Chosen | None = None
        first = (int(math.ceil(cell_wanted[0])), int(math.ceil(cell_wanted[1])))
        for table in self.tables:
            for grow in (1.0, 1.1, 1.2, 1.3):
                width = round(first[0] * grow)
                shortest = round(first[1] * grow)
                for height in sorted({shortest, round((shortest + width) / 2), width}):
                    cell = (width, max(shortest, height))
                    *_sizes, middle_w, middle_h = self._measure(table, cell, title_h, pixels)
                    side = min(side_wanted, (free_w - middle_w) / 2)
                    if middle_h > top_h or side < min_side:
                        continue
                    # The maps as drawn (whole-pixel cells), full size within 5 %; then
                    # higher (squarer) and larger cells.
                    maps = min(1.0, self._map_side(side) /
                               max(1.0, 0.95 * self._map_side(side_wanted)))
                    score = (round(maps, 3), cell[1], cell[0])
                    if best is None or score > best.score:
                        best = Chosen(table, cell, int(side), (middle_w, middle_h), score)
        if best is None:  # too small a widget: readable numbers anyway (the view scrolls)
            options = []
            for table in self.tables:
                *_sizes, middle_w, middle_h = self._measure(table, first, title_h, pixels)
                options.append((middle_w + 2 * min_side, middle_h, table))
            middle_w_total, middle_h, table = min(options, key=lambda o: (o[0], o[1]))
            best = Chosen(table, first, int(math.ceil(min_side)),
                          (middle_w_total - 2 * min_side, middle_h), (0.0, 0.0), fits=False)
        return best

    def _place_middle(self, chosen: Chosen, origin: QPointF, title_h: float,
                      number_pixels: float, ratio: float) -> None:
        pixels = self.title_font.pixelSize()
        widths, heights, _w, _h = self._measure(chosen.table, chosen.cell, title_h, pixels)
        spacing = pixels * 0.25
        grids = self.middle_grids
        self.operators = []
        y = origin.y()
        for r, row in enumerate(chosen.table):
            x = origin.x()
            grid_h = heights[r] - title_h
            for c, key in enumerate(row):
                if key in grids:
                    cell = self._result_cell(chosen.cell) if key == "result" else chosen.cell
                    box = QRectF(x, y + title_h, widths[c], grid_h)
                    font_pixels = number_pixels * (1.15 if key == "result" else 1)
                    grids[key].place(box, max(cell), self._font, font_pixels, ratio,
                                      align_top=True, cell_size=cell)
                    self.titles[key] = QRectF(x - spacing / 2, y, widths[c] + spacing, title_h)
                elif key is not None:
                    self.operators.append((key, QRectF(x, y + title_h, widths[c], grid_h)))
                x += widths[c] + spacing
            y += heights[r] + spacing

    def _place_legends(self, row: QRectF) -> None:
        """The legends side by side under the calculation, each after its label; then, when the
        input has a padding border, a hatched swatch saying what it is. Each legend gets the
        width its numbers need and the room left over is shared out; in a narrow view the
        gaps, then the fonts, shrink until the row fits."""
        self.legend_labels = []
        self.padding_swatch = None
        note = self._content.padding_note
        size = self.title_font.pixelSize()
        while True:
            self.legend_label_font = pixel_font(self._font, size, bold=True)
            self.note_font = pixel_font(self._font, size)
            legend_font = pixel_font(self._font, max(10.0, round(size * 0.85)))
            label_metrics = QFontMetricsF(self.legend_label_font)
            note_w = 0.0
            if note:
                note_w = QFontMetricsF(self.note_font).horizontalAdvance(note)
                note_w += row.height() * 0.7 + 8   # the swatch and its gap
            parts = []
            for key, label, tooltip in self.legend_specs:
                legend = self.legends[key]
                legend.setFont(legend_font)
                numbers = QFontMetricsF(legend_font)
                need = sum(numbers.horizontalAdvance(text) for text in (
                    plain_value(-legend.limit()), "0", plain_value(legend.limit()))) + 28
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
            legend = self.legends[key]
            # The label sits beside the colour bar, as high as ColorLegend draws the bar.
            bar_h = max(8.0, row.height() - legend.fontMetrics().height() - 8)
            self.legend_labels.append((label, QRectF(x, row.top() + 2, label_w, bar_h)))
            legend.setToolTip(tooltip)
            legend.setGeometry(QRect(round(x + label_w), round(row.top()), round(legend_w),
                                     round(row.height())))
            x += label_w + legend_w + spacing + slot_extra / 2
        if note:
            first_legend = self.legends[self.legend_specs[0][0]]
            side = max(8.0, row.height() - first_legend.fontMetrics().height() - 8)
            swatch = QRectF(x, row.top() + 2, side, side)
            text = QRectF(swatch.right() + 6, row.top() + 2, note_w - side - 6, side)
            self.padding_swatch = (swatch, text, note)
