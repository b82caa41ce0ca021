"""What the Conv1D and 1-D pooling step views share: a window sliding along a sequence.

The picture, top to bottom: the input sequence (a line plot per channel, or heat strips for
many channels) with its padding hatched and the window on it, the input steps the window reads
marked (with dilation, the steps between them are not); right under it the output sequence,
aligned so each output value sits under the middle of its window, filled in up to the current
step; then the numbers of this step (the window, the kernel as a stem plot over its weights,
the products, the result) joined by ×, = and →; then the calculation in words and the colour
legends. Subclasses supply the data; the playback drives `set_step`, as for the 2-D views.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontInfo, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from cnnviz.core.formatting import plain_value
from cnnviz.ui.common.value_colors import ColorLegend
from cnnviz.ui.common.zoom import line_width, presenting, watch_zoom, zoom_factor
from cnnviz.ui.explain.views.grid_painting import (
    FOCUS_BACKGROUND,
    GRID_LINE,
    HIGHLIGHT,
    HIGHLIGHT_EDGE,
    MUTED_TEXT,
    PADDING_CELL,
    PADDING_HATCH,
    Run,
    ValueGrid,
    draw_highlight,
    draw_runs,
    draw_title,
    pixel_font,
    runs_text,
    text_fonts,
    wrapped_line_count,
)
from cnnviz.ui.explain.views.series_painting import (
    OutputTrack,
    SeriesPanel,
    axis_labels,
    draw_stems,
    range_labels,
)

Table = list[list[str | None]]   # grid keys and operator texts ("×", "=", "→"), None = empty
BEAM_FILL = QColor(HIGHLIGHT.red(), HIGHLIGHT.green(), HIGHLIGHT.blue(), 55)
READ_FILL = QColor(HIGHLIGHT.red(), HIGHLIGHT.green(), HIGHLIGHT.blue(), 110)
BACKGROUND = QColor(255, 255, 255)
MAX_BASE_PIXELS = 24.0    # titles and numbers on a big screen (at zoom 100 %)


@dataclass
class WindowMarks:
    """Where this step's window is on the input: its first step (negative in the padding), how
    many steps it spans, the steps it reads and which of them are real input."""
    start: int
    span: int
    read: np.ndarray
    inside: np.ndarray
    lanes: list[int] = field(default_factory=list)   # the lanes whose read values are marked


@dataclass
class SeriesPlan:
    """Sizes for one font size (see SequenceStepViewBase._plan)."""
    pixels: float
    margin: float
    gap: float
    title_h: float
    axis_h: float
    cell: tuple[int, int]
    table: Table
    middle: tuple[float, float]
    calc_h: float
    legend_h: float
    name_w: float
    notes_w: float
    input_min: float
    output_min: float
    fixed_h: float

    @property
    def needed_h(self) -> float:
        return self.fixed_h + self.input_min + self.output_min

    @property
    def needed_w(self) -> float:
        return max(self.middle[0], self.name_w + self.notes_w + 240) + 2 * self.margin


class SequenceStepViewBase(QWidget):
    """Base of Conv1DStepView and Pool1DStepView; see the module docstring."""

    step_clicked = Signal(int)         # a click on output step t asks for step t
    step_count_changed = Signal(int)

    LEGENDS: tuple[tuple[str, str, str], ...] = ()
    EMPTY_TEXT = "Nothing to show yet"
    STEM_GRIDS: tuple[str, ...] = ()   # middle grids drawn with a stem plot over their numbers
    NOTED_GRIDS: tuple[str, ...] = ()  # middle grids with a note under each cell (its step)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input_panel = SeriesPanel()
        self.output_track = OutputTrack()
        self.result_grid = ValueGrid(per_step=True)
        self._step = 0
        self._lines: list[list[Run]] = []
        self._reserved_lines = 1
        self._layout_valid = False
        self._plan_used: SeriesPlan | None = None
        self._titles: dict[str, QRectF] = {}
        self._operators: list[tuple[str, QRectF]] = []
        self._stem_cells: dict[str, list[QRectF]] = {}
        self._calc_rect = QRectF()
        self._legend_labels: list[tuple[str, QRectF]] = []
        self._padding_swatch: tuple[QRectF, QRectF, str] | None = None
        self._fonts = text_fonts(self.font(), 13)
        self._title_font = self._small_font = self._op_font = self.font()
        self._legends = {key: ColorLegend(self) for key, _label, _tip in self.LEGENDS}
        for legend in self._legends.values():
            palette = legend.palette()   # drawn on white, so dark ink even in a dark theme
            palette.setColor(QPalette.ColorRole.WindowText, QColor(30, 30, 30))
            legend.setPalette(palette)
            legend.hide()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(420, 300)
        watch_zoom(self._zoom_changed)

    # ------------------------------------------------------------------ hooks for subclasses
    def _has_data(self) -> bool:
        raise NotImplementedError

    def step_count(self) -> int:
        raise NotImplementedError

    def _middle_grids(self) -> dict[str, ValueGrid]:
        """The middle block's grids by key; "result" is this step's output value."""
        raise NotImplementedError

    def _middle_tables(self) -> list[Table]:
        raise NotImplementedError

    def _title(self, key: str) -> str | tuple[str, ...]:
        raise NotImplementedError

    def _show_step(self, step: int) -> None:
        raise NotImplementedError

    def _calculation_lines(self, step: int | None = None) -> list[list[Run]]:
        raise NotImplementedError

    def _window_marks(self) -> WindowMarks:
        raise NotImplementedError

    def _output_positions(self) -> np.ndarray:
        """Each output step's place on the input axis: the middle of its window."""
        raise NotImplementedError

    def _legend_limits(self) -> dict[str, float]:
        raise NotImplementedError

    def _tooltip(self, key: str, index: int, lane: int) -> str:
        raise NotImplementedError

    def _cell_notes(self, key: str) -> list[str]:
        """The note under each cell of a NOTED_GRIDS grid (the input step it reads)."""
        return []

    def _lane_notes(self) -> list[str]:
        """A note at the right end of each input lane (a channel's sum), or none."""
        return []

    def _padding_note(self) -> str:
        return ""

    def _decorate(self, painter: QPainter) -> None:
        """Extra drawing on top of everything (the value a max pooling window picks)."""

    # ------------------------------------------------------------------ public
    def step(self) -> int:
        return self._step

    def set_step(self, step: int) -> None:
        """Show output step `step`."""
        if not self._has_data():
            return
        self._step = max(0, min(int(step), self.step_count() - 1))
        self._show_step(self._step)
        self._lines = self._calculation_lines()
        if self._layout_valid and self._wrapped(self._lines) > self._reserved_lines:
            self._layout_valid = False
        self.update()

    def calculation_text(self) -> str:
        """The written calculation of the current step, as drawn."""
        return runs_text(self._lines)

    def lane_notes(self) -> list[str]:
        """The notes written at the right end of the input lanes (each channel's sum)."""
        return self._lane_notes() if self._has_data() else []

    def output_point(self, step: int) -> QPointF:
        """Where output step `step` is drawn, in widget coordinates."""
        self._ensure_layout()
        return self.output_track.point(step)

    def input_point(self, position: int, lane: int = 0) -> QPointF:
        """Where input step `position` of a lane is drawn (at the lane's middle for strips)."""
        self._ensure_layout()
        panel = self.input_panel
        value = 0.0 if panel.is_padding(position) else float(panel.values[position, lane])
        return QPointF(panel.x_of(position), panel.y_of(lane, value))

    def middle_cell_rect(self, key: str, col: int) -> QRect:
        self._ensure_layout()
        return self._middle_grids()[key].cell_rect(0, col).toRect()

    def drawn_number_pixels(self) -> int:
        """The pixel size the middle numbers are written at (0 when they are not written)."""
        self._ensure_layout()
        font = self._middle_grids()["window"].number_font()
        return 0 if font is None else QFontInfo(font).pixelSize()

    # ------------------------------------------------------------------ data changes
    def _data_changed(self, new_steps: bool = True) -> None:
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
        self._reserved_lines = 1
        self._layout_valid = False
        self._update_minimum()
        if new_steps:
            self.step_count_changed.emit(self.step_count())
        self.update()

    def _zoom_changed(self) -> None:
        self._layout_valid = False
        self._update_minimum()
        self.update()

    # ------------------------------------------------------------------ layout
    def _floor_pixels(self) -> float:
        return float(max(12, QFontInfo(self.font()).pixelSize()))

    def _sample_lines(self) -> list[list[list[Run]]]:
        count = self.step_count()
        steps = sorted({0, count // 2, count - 1}) if count else []
        return [self._lines] + [self._calculation_lines(s) for s in steps]

    def _wrapped(self, lines: list[list[Run]]) -> int:
        return wrapped_line_count(lines, self._fonts, max(50.0, self._calc_rect.width()))

    def _cell_size(self, pixels: float) -> tuple[int, int]:
        metrics = QFontMetricsF(pixel_font(self.font(), pixels * 0.85))
        texts = ["\u22120.00"]
        for grid in self._middle_grids().values():
            grid.min_font_pixels = pixels * 0.85
            texts += grid.widest_labels()
        cell_h = metrics.height() + 8
        cell_w = max(cell_h, max(metrics.horizontalAdvance(t) for t in texts) + 9)
        return math.ceil(cell_w), math.ceil(cell_h)

    def _grid_extent(self, key: str, cell: tuple[int, int]) -> tuple[float, float, float]:
        """(width, height above the numbers, height of and under the numbers) of a middle grid
        (without its title)."""
        grid = self._middle_grids()[key]
        width, height = self._grid_cell(key, cell)
        above = 2.0 * cell[1] if key in self.STEM_GRIDS else 0.0
        below = QFontMetricsF(self._small_font).height() + 4 if key in self.NOTED_GRIDS else 0.0
        return grid.cols * width, above, grid.rows * height + below

    def _grid_cell(self, key: str, cell: tuple[int, int]) -> tuple[int, int]:
        if key == "result":
            return round(cell[0] * 1.25), round(cell[1] * 1.3)
        return cell

    def _measure(self, table: Table, cell: tuple[int, int], title_h: float, op_w: float):
        """Column widths, each row's (height above the numbers, height from them down) and
        the total size of a middle table."""
        title_metrics = QFontMetricsF(self._title_font)
        columns = max(len(row) for row in table)
        widths = [0.0] * columns
        rows = []
        grids = self._middle_grids()
        for row in table:
            above = below = 0.0
            for c, key in enumerate(row):
                if key is None:
                    continue
                if key in grids:
                    width, grid_above, grid_below = self._grid_extent(key, cell)
                    title = self._title(key)
                    title = title if isinstance(title, str) else title[-1]
                    widths[c] = max(widths[c], width,
                                    title_metrics.horizontalAdvance(title) + 8)
                    above, below = max(above, grid_above + title_h), max(below, grid_below)
                else:
                    widths[c] = max(widths[c], op_w)
                    below = max(below, cell[1])
            rows.append((above, below))
        spacing = title_h * 0.3
        total_w = sum(widths) + spacing * (columns - 1)
        total_h = sum(a + b for a, b in rows) + spacing * 2 * (len(table) - 1)
        return widths, rows, total_w, total_h

    def _plan(self, pixels: float, width: float) -> SeriesPlan:
        """Fonts and sizes at a text size, for a widget `width` wide (sets the fonts)."""
        font = self.font()
        self._fonts = text_fonts(font, pixels)
        self._title_font = pixel_font(font, pixels, bold=True)
        self._small_font = pixel_font(font, max(10.0, pixels * 0.85))
        self._op_font = pixel_font(font, pixels * 1.4, bold=True)
        margin, gap = max(8.0, pixels * 0.6), pixels * 0.8
        title_h = round(QFontMetricsF(self._title_font).lineSpacing() * 1.25)
        small = QFontMetricsF(self._small_font)
        axis_h = small.height() + 6
        cell = self._cell_size(pixels)
        op_w = QFontMetricsF(self._op_font).horizontalAdvance("→") + 10
        room = width - 2 * margin
        measured = [(table, self._measure(table, cell, title_h, op_w))
                    for table in self._middle_tables()]
        fitting = [m for m in measured if m[1][2] <= room]
        table, (_w, _r, middle_w, middle_h) = fitting[0] if fitting else min(
            measured, key=lambda m: m[1][2])
        self._calc_rect = QRectF(margin, 0, max(room, middle_w), 0)
        reserved = max(self._reserved_lines, max(self._wrapped(s) for s in self._sample_lines()))
        calc_h = reserved * QFontMetricsF(self._fonts["strong"]).lineSpacing()
        legend_font = pixel_font(font, max(10.0, round(pixels * 0.85)))
        for legend in self._legends.values():
            legend.setFont(legend_font)
        legend_h = (next(iter(self._legends.values())).sizeHint().height()
                    if self._legends else 0)
        panel = self.input_panel
        names = panel.names + [plain_value(v) for r in panel.ranges for v in r]
        names += [plain_value(self.output_track.low), plain_value(self.output_track.high)]
        name_w = max(small.horizontalAdvance(n) for n in names) + 12
        notes = self._lane_notes()
        notes_w = (max(small.horizontalAdvance(n) for n in notes) + 14) if notes else margin
        lanes = panel.lanes
        if panel.strips:
            input_min = max(pixels * 3, lanes * 3.0)
        elif lanes == 1:
            input_min = pixels * 5
        else:
            input_min = lanes * max(22.0, pixels * 1.7)
        output_min = pixels * 4
        fixed_h = (2 * margin + 2 * title_h + axis_h + gap + middle_h + gap + calc_h
                   + gap * 0.6 + legend_h)
        return SeriesPlan(pixels, margin, gap, title_h, axis_h, cell, table,
                          (middle_w, middle_h), calc_h, legend_h, name_w, notes_w, input_min,
                          output_min, fixed_h)

    def _choose_plan(self, width: float, height: float) -> SeriesPlan:
        """The largest text that lets everything fit; the floor (the widget's font, which
        follows the zoom) when nothing does: then the view asks for room and scrolls."""
        floor = self._floor_pixels()
        pixels = max(floor, min(MAX_BASE_PIXELS * zoom_factor(), width / 64, height / 38))
        while True:
            plan = self._plan(pixels, width)
            if pixels <= floor or (plan.needed_w <= width and plan.needed_h <= height):
                return plan
            pixels = max(floor, pixels * 0.9)

    def _update_minimum(self) -> None:
        if not self._has_data():
            self.setMinimumSize(420, 300)
            return
        parent = self.parentWidget() or self
        plan = self._plan(self._floor_pixels(), max(float(parent.width()), 420.0))
        width, height = math.ceil(plan.needed_w) + 2, math.ceil(plan.needed_h) + 2
        if (width, height) != (self.minimumWidth(), self.minimumHeight()):
            self.setMinimumSize(max(420, width), max(300, height))
        self._layout_valid = False

    def _ensure_layout(self) -> None:
        if not self._layout_valid and self._has_data():
            self._arrange(float(self.width()), float(self.height()))
            self._layout_valid = True

    def _arrange(self, width: float, height: float) -> None:
        plan = self._choose_plan(width, height)
        self._plan_used = plan
        self._reserved_lines = max(self._reserved_lines,
                                   round(plan.calc_h / QFontMetricsF(
                                       self._fonts["strong"]).lineSpacing()))
        ratio = self.devicePixelRatioF()
        margin, gap, title_h = plan.margin, plan.gap, plan.title_h
        panels_h = max(0.0, height - plan.fixed_h)
        lanes = self.input_panel.lanes
        input_cap = plan.pixels * (14 if lanes == 1 else 5 * lanes) if not \
            self.input_panel.strips else max(plan.input_min, plan.pixels * 12)
        input_h = min(input_cap, max(plan.input_min, panels_h * 0.62))
        output_h = min(plan.pixels * 10, max(plan.output_min, panels_h - input_h))
        spare = max(0.0, panels_h - input_h - output_h)
        input_h = min(input_cap * 1.3, input_h + spare * 0.5)
        left, right = margin + plan.name_w, width - margin - plan.notes_w
        top = margin
        self._titles = {"input": QRectF(margin, top, width - 2 * margin, title_h)}
        self.input_panel.place(QRectF(left, top + title_h, right - left, input_h),
                               plan.name_w, self._small_font, ratio)
        top += title_h + input_h + plan.axis_h + gap
        self._titles["output"] = QRectF(margin, top, width - 2 * margin, title_h)
        xs = np.array([self.input_panel.x_of(p) for p in self._output_positions()])
        self.output_track.place(QRectF(left, top + title_h, right - left, output_h), xs, ratio)
        top += title_h + output_h + gap
        self._place_middle(plan, QPointF((width - plan.middle[0]) / 2, top), ratio)
        top += plan.middle[1] + gap
        self._calc_rect = QRectF(margin, top, width - 2 * margin, plan.calc_h)
        top += plan.calc_h + gap * 0.6
        self._place_legends(QRectF(margin, top, width - 2 * margin, plan.legend_h))

    def _place_middle(self, plan: SeriesPlan, origin: QPointF, ratio: float) -> None:
        op_w = QFontMetricsF(self._op_font).horizontalAdvance("→") + 10
        widths, rows, _w, _h = self._measure(plan.table, plan.cell, plan.title_h, op_w)
        spacing = plan.title_h * 0.3
        grids = self._middle_grids()
        number_pixels = plan.pixels * 0.85
        self._operators = []
        self._stem_cells = {}
        y = origin.y()
        for row, (above, below) in zip(plan.table, rows):
            x = origin.x()
            numbers_top = y + above
            for c, key in enumerate(row):
                if key in grids:
                    cell = self._grid_cell(key, plan.cell)
                    grid_w, grid_above, _below = self._grid_extent(key, plan.cell)
                    box = QRectF(x, numbers_top, widths[c], cell[1] * grids[key].rows)
                    pixels = number_pixels * (1.15 if key == "result" else 1)
                    grids[key].place(box, max(cell), self.font(), pixels, ratio,
                                     align_top=True, cell_size=cell)
                    grid_rect = grids[key].rect()
                    self._titles[key] = QRectF(x - spacing / 2,
                                               numbers_top - grid_above - plan.title_h,
                                               widths[c] + spacing, plan.title_h)
                    if key in self.STEM_GRIDS:
                        self._stem_cells[key] = [
                            QRectF(grid_rect.left() + i * cell[0], numbers_top - grid_above,
                                   cell[0], grid_above - 2) for i in range(grids[key].cols)]
                elif key is not None:
                    self._operators.append((key, QRectF(x, numbers_top, widths[c],
                                                        plan.cell[1])))
                x += widths[c] + spacing
            y += above + below + 2 * spacing

    def _place_legends(self, row: QRectF) -> None:
        """The legends side by side, each after its label; then the padding swatch."""
        self._legend_labels = []
        self._padding_swatch = None
        note = self._padding_note()
        label_font = pixel_font(self.font(), self._title_font.pixelSize(), bold=True)
        metrics = QFontMetricsF(label_font)
        note_w = (QFontMetricsF(self._small_font).horizontalAdvance(note) + row.height() + 12
                  if note else 0.0)
        parts = []
        for key, label, tooltip in self.LEGENDS:
            legend = self._legends[key]
            numbers = legend.fontMetrics()
            need = sum(numbers.horizontalAdvance(text) for text in (
                plain_value(-legend.limit()), "0", plain_value(legend.limit()))) + 28
            parts.append((key, label, tooltip, metrics.horizontalAdvance(label) + 8, need))
        fixed = sum(p[3] + p[4] for p in parts) + note_w
        extra = max(0.0, row.width() - fixed - 16 * len(parts)) / max(1, len(parts))
        x = row.left()
        for key, label, tooltip, label_w, need in parts:
            legend_w = min(need + extra, max(need, 300.0))
            legend = self._legends[key]
            bar_h = max(8.0, row.height() - legend.fontMetrics().height() - 8)
            self._legend_labels.append((label, QRectF(x, row.top() + 2, label_w, bar_h)))
            legend.setToolTip(tooltip)
            legend.setGeometry(QRect(round(x + label_w), round(row.top()), round(legend_w),
                                     round(row.height())))
            x += label_w + legend_w + 16
        if note:
            side = max(8.0, min(row.height() * 0.6, metrics.height()))
            swatch = QRectF(x, row.top() + 2, side, side)
            text = QRectF(swatch.right() + 6, row.top() + 2, note_w - side, side)
            self._padding_swatch = (swatch, text, note)

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._layout_valid = False
        self._reserved_lines = 1
        if self._has_data():
            self._update_minimum()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._layout_valid = False
            if event.type() == QEvent.Type.FontChange and self._has_data():
                self._reserved_lines = 1
                self._update_minimum()
        super().changeEvent(event)

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
        dark = QColor(25, 25, 25)
        for key in ("input", "output"):
            draw_title(painter, self._titles[key], self._title(key), self._title_font,
                       Qt.AlignmentFlag.AlignLeft, dark)
        panel, track = self.input_panel, self.output_track
        panel.draw(painter)
        marks = self._window_marks()
        span = panel.span_rect(marks.start, marks.span)
        current = track.point(self._step)
        self._draw_funnel(painter, span, current)
        self._draw_marks(painter, marks, span)
        axis_labels(painter, panel, self._small_font, panel.plot.bottom())
        if not panel.strips and panel.lanes == 1:
            range_labels(painter, panel.plot, *panel.ranges[0],
                         lambda v: panel.y_of(0, v), self._small_font, panel.name_width)
        self._draw_lane_notes(painter)
        track.draw_first(painter, self._step + 1)
        range_labels(painter, track.rect, track.low, track.high, track.y_of, self._small_font,
                     panel.name_width)
        self._draw_current(painter, current)

        grids = self._middle_grids()
        for key in grids:
            draw_title(painter, self._titles[key], self._title(key), self._title_font,
                       colour=dark)
        for key, grid in grids.items():
            grid.draw(painter)
        for key, cells in self._stem_cells.items():
            grid = grids[key]
            draw_stems(painter, cells, grid.values.ravel(), grid.limit)
        self._draw_cell_notes(painter)
        painter.setPen(QColor(70, 70, 70))
        for text, rect in self._operators:
            draw_title(painter, rect, text, self._op_font)
        draw_highlight(painter, grids["result"].rect(), width=2)
        self._decorate(painter)
        draw_runs(painter, self._calc_rect, self._lines, self._fonts)
        for label, rect in self._legend_labels:
            draw_title(painter, rect, label, self._title_font, Qt.AlignmentFlag.AlignRight, dark)
        if self._padding_swatch is not None:
            swatch, text_rect, note = self._padding_swatch
            painter.fillRect(swatch, PADDING_CELL)
            painter.fillRect(swatch, QBrush(PADDING_HATCH, Qt.BrushStyle.BDiagPattern))
            painter.setPen(QPen(GRID_LINE, 1))
            painter.drawRect(swatch)
            draw_title(painter, text_rect, note, self._small_font, Qt.AlignmentFlag.AlignLeft,
                       dark)
        painter.end()

    def _draw_funnel(self, painter: QPainter, span: QRectF, current: QPointF) -> None:
        """A translucent band from the window on the input to its output value."""
        top = self.input_panel.plot.bottom()
        bottom = self.output_track.rect.top()
        half = max(3.0, min(span.width() / 2, self.output_track.spacing() / 2))
        points = [QPointF(span.left(), top), QPointF(span.right(), top),
                  QPointF(current.x() + half, bottom), QPointF(current.x() - half, bottom)]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BEAM_FILL)
        painter.drawPolygon(points)
        painter.restore()

    def _draw_marks(self, painter: QPainter, marks: WindowMarks, span: QRectF) -> None:
        """The window on the input: the steps it reads filled amber (with dilation, not the
        steps between them), its span outlined, and each read value marked on its lane."""
        panel = self.input_panel
        width = panel.step_width()
        fill = BEAM_FILL if panel.strips else READ_FILL   # lighter over coloured strips
        for position in marks.read:
            painter.fillRect(panel.span_rect(int(position), 1), fill)
        draw_highlight(painter, span, width=2 if width < 12 else 3)
        if panel.strips:
            for lane in marks.lanes:
                lane_rect = panel.lane_rect(lane)
                painter.setPen(QPen(HIGHLIGHT_EDGE, line_width(1)))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                for position in marks.read:
                    cell = panel.span_rect(int(position), 1)
                    painter.drawRect(QRectF(cell.left(), lane_rect.top(), cell.width(),
                                            lane_rect.height()))
            return
        radius = max(2.5, min(6.0 * zoom_factor(), width * 0.42,
                              panel.lane_rect(0).height() * 0.16))
        radius *= 1.2 if presenting() else 1.0
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for lane in marks.lanes:
            for position, inside in zip(marks.read, marks.inside):
                point = QPointF(panel.x_of(int(position)),
                                panel.y_of(lane, panel.values[int(position), lane]
                                           if inside else 0.0))
                painter.setPen(QPen(HIGHLIGHT_EDGE, line_width(1.2)))
                painter.setBrush(HIGHLIGHT if inside else QColor(255, 255, 255))
                painter.drawEllipse(point, radius, radius)
        painter.restore()

    def _draw_lane_notes(self, painter: QPainter) -> None:
        notes = self._lane_notes()
        panel = self.input_panel
        metrics = QFontMetricsF(self._small_font)
        if not notes or panel.lane_rect(0).height() < metrics.height():
            return
        painter.setFont(self._small_font)
        for lane, note in enumerate(notes):
            rect = panel.lane_rect(lane)
            box = QRectF(rect.right() + 6, rect.center().y() - metrics.height() / 2,
                         metrics.horizontalAdvance(note) + 4, metrics.height())
            if lane == panel.focus:
                painter.fillRect(box, FOCUS_BACKGROUND)
            painter.setPen(QColor(25, 25, 25))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, note)

    def _draw_current(self, painter: QPainter, current: QPointF) -> None:
        """The output value of this step: an amber dot with a dark edge on the track."""
        track = self.output_track
        radius = max(4.0, min(9.0, self._title_font.pixelSize() * 0.4))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(HIGHLIGHT, line_width(2.5)))
        painter.drawLine(QPointF(current.x(), track.y_of(0.0)), current)
        painter.setPen(QPen(HIGHLIGHT_EDGE, line_width(1.5)))
        painter.setBrush(HIGHLIGHT)
        painter.drawEllipse(current, radius, radius)
        painter.restore()

    def _draw_cell_notes(self, painter: QPainter) -> None:
        grids = self._middle_grids()
        metrics = QFontMetricsF(self._small_font)
        painter.setFont(self._small_font)
        painter.setPen(MUTED_TEXT)
        for key in self.NOTED_GRIDS:
            grid = grids[key]
            for col, note in enumerate(self._cell_notes(key)):
                cell = grid.cell_rect(grid.rows - 1, col)
                box = QRectF(cell.left() - 4, cell.bottom() + 2, cell.width() + 8,
                             metrics.height())
                draw_title(painter, box, note, self._small_font)

    # ------------------------------------------------------------------ mouse and tooltips
    def _hit(self, point: QPointF) -> tuple[str, int, int] | None:
        """(what, index, lane) under a point: "input" (position, lane), "output" (step) or a
        middle grid (column)."""
        self._ensure_layout()
        found = self.input_panel.position_at(point)
        if found is not None:
            return "input", found[0], found[1]
        index = self.output_track.index_at(point)
        if index is not None:
            return "output", index, 0
        for key, grid in self._middle_grids().items():
            cell = grid.cell_at(point)
            if cell is not None:
                return key, cell[1], cell[0]
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self._has_data() and event.button() == Qt.MouseButton.LeftButton:
            self._ensure_layout()
            index = self.output_track.index_at(event.position())
            if index is not None:
                self.step_clicked.emit(index)
                return
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self._has_data():
            text = self.tooltip_at(QPointF(event.pos()))
            if not text:
                QToolTip.hideText()
                event.ignore()
                return True
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def tooltip_at(self, point: QPointF) -> str:
        """The tooltip shown when the mouse rests at `point` ("" where there is none)."""
        if not self._has_data():
            return ""
        found = self._hit(QPointF(point))
        return "" if found is None else self._tooltip(*found)

