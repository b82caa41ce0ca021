"""What the convolution and pooling step views share: the layout, the output map filling in,
the sliding-window highlight, the written calculation, legends, clicks and tooltips.

The picture, left to right: the input map with the window on it; in the middle the numbers of
this step (the window, the kernel, the products, the result) joined by ×, = and →; the output
map, filled in up to the current cell. Under them the calculation in words, and the colour
legends. The middle block is arranged as a row, two rows or a column, whichever leaves the maps
and the middle numbers the most room at the widget's size. Subclasses supply the data.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from cnnviz.ui.common.value_colors import ColorLegend
from cnnviz.ui.explain.views.grid_painting import (
    GRID_LINE, HIGHLIGHT, MUTED_TEXT, PADDING_CELL, PADDING_HATCH, Run, ValueGrid, draw_highlight,
    draw_runs, draw_title, pixel_font, runs_text,
)
from cnnviz.ui.explain.views.step_view_layout import StepContent, StepLayout, Table

BEAM_FILL = QColor(HIGHLIGHT.red(), HIGHLIGHT.green(), HIGHLIGHT.blue(), 55)
BEAM_EDGE = QColor(HIGHLIGHT.red(), HIGHLIGHT.green(), HIGHLIGHT.blue(), 150)
BACKGROUND = QColor(255, 255, 255)


class StepViewBase(QWidget):
    """Base of ConvStepView and PoolStepView; see the module docstring. Its `layout_plan`
    (a StepLayout, step_view_layout.py) works out where everything goes."""

    step_clicked = Signal(int)         # a click on output cell (y, x) asks for step y * OW + x
    step_count_changed = Signal(int)   # new data: the number of steps changed (or may have)

    LEGENDS: tuple[tuple[str, str, str], ...] = ()   # (key, label, tooltip) of each colour scale
    EMPTY_TEXT = "Nothing to show yet"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input_grid = ValueGrid(digits=2)
        self.output_grid = ValueGrid(digits=2)
        self.result_grid = ValueGrid(per_step=True)
        self._step = 0
        self._lines: list[list[Run]] = []
        self._layout_valid = False
        self._last_layout_key: tuple = ()
        self._legends = {key: ColorLegend(self) for key, _label, _tip in self.LEGENDS}
        for legend in self._legends.values():
            legend.setMinimumWidth(90)
            # The view is always drawn on white, so its legends write in dark ink even when the
            # desktop uses a dark theme (where the palette's text colour would be white).
            palette = legend.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(30, 30, 30))
            legend.setPalette(palette)
            legend.hide()
        self.layout_plan = StepLayout(self.input_grid, self.output_grid, self._middle_grids(),
                                      self._middle_tables(), self._legends, self.LEGENDS,
                                      self.font())
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
        if self._layout_valid and self.layout_plan.wrapped(self._lines) > \
                self.layout_plan.reserved_lines:
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
            self.layout_plan.reset_reserved_lines()
            self._layout_valid = False
            self._update_minimum()
        if new_steps:
            self.step_count_changed.emit(self.step_count())
        self.update()

    def _content(self) -> StepContent:
        return StepContent(self._title, self._lines,
                           [self._calculation_lines(s) for s in self._sample_steps()],
                           self._padding_note())

    def _update_minimum(self) -> None:
        """Ask for the room every number needs at the current font (it follows the zoom): in
        a smaller room the view scrolls (StepViews puts it in a scroll area) instead of
        dropping the numbers."""
        if not self._has_data():
            self.setMinimumSize(420, 300)
            return
        # The room there is: the scroll area's viewport, or the view's own size when alone.
        parent = self.parentWidget() or self
        room = (float(parent.width()), float(parent.height()))
        plan = self.layout_plan
        plan.numbers_on_maps = True
        width, height = plan.minimum_size(self.font(), self._content(), room)
        if not plan.numbers_always and (width > room[0] + 1 or height > room[1] + 1):
            # Numbers on the maps would not fit: the maps shrink to the room instead.
            plan.numbers_on_maps = False
            width, height = plan.minimum_size(self.font(), self._content(), room)
        if (width, height) != (self.minimumWidth(), self.minimumHeight()):
            self.setMinimumSize(max(420, width), max(300, height))
        self._layout_valid = False

    def set_numbers_always(self, on: bool) -> None:
        """Write the numbers on maps up to 32×32 always (the view scrolls when they need more
        room than there is), or only when they fit (else the maps shrink to the room and
        their values are in the tooltips)."""
        self.layout_plan.numbers_always = bool(on)
        self._update_minimum()
        self.update()

    def numbers_on_maps(self) -> bool:
        """Whether the maps carry their numbers at the current size."""
        return self.layout_plan.numbers_on_maps

    def _layout_key(self) -> tuple:
        """What the layout depends on besides the widget's size: grid shapes, number widths."""
        if not self._has_data():
            return ()
        grids = [self.input_grid, self.output_grid, *self._middle_grids().values()]
        return tuple((grid.rows, grid.cols, max(len(text) for text in grid.widest_labels()))
                     for grid in grids)

    # ------------------------------------------------------------------ layout
    def _ensure_layout(self) -> None:
        if not self._layout_valid and self._has_data():
            self.layout_plan.arrange(float(self.width()), float(self.height()), self.font(),
                                     self.devicePixelRatioF(), self._content())
            self._layout_valid = True

    def _sample_steps(self) -> list[int]:
        """A few steps whose calculations the layout reserves room for."""
        count = self.step_count()
        return sorted({0, count // 2, count - 1}) if count else []

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._layout_valid = False
        self.layout_plan.reset_reserved_lines()   # the calculation wraps differently now
        if self._has_data():
            self._update_minimum()   # the room changed: another arrangement may scroll less
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._layout_valid = False
            if event.type() == QEvent.Type.FontChange and self._has_data():
                self.layout_plan.reset_reserved_lines()
                self._update_minimum()
        super().changeEvent(event)

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

        plan = self.layout_plan
        for key, rect in plan.titles.items():
            draw_title(painter, rect, self._title(key), plan.title_font, colour=QColor(25, 25, 25))
        self.input_grid.draw(painter)
        draw_highlight(painter, window_rect)
        for grid in grids.values():
            grid.draw(painter)
        op_font = pixel_font(self.font(), plan.title_font.pixelSize() * 1.5, bold=True)
        painter.setPen(QColor(70, 70, 70))
        for text, rect in plan.operators:
            draw_title(painter, rect, text, op_font)
        draw_highlight(painter, grids["result"].rect(), width=2)
        self._decorate(painter)
        self.output_grid.draw_first(painter, self._step + 1)
        draw_highlight(painter, current, width=3 if current.width() >= 8 else 2)
        draw_runs(painter, plan.calc_rect, self._lines, plan.fonts)
        for label, rect in plan.legend_labels:
            draw_title(painter, rect, label, plan.legend_label_font, Qt.AlignmentFlag.AlignRight,
                       QColor(25, 25, 25))
        if plan.padding_swatch is not None:
            swatch, text_rect, note = plan.padding_swatch
            painter.fillRect(swatch, PADDING_CELL)
            painter.fillRect(swatch, QBrush(PADDING_HATCH, Qt.BrushStyle.BDiagPattern))
            painter.setPen(QPen(GRID_LINE, 1))
            painter.drawRect(swatch)
            draw_title(painter, text_rect, note, plan.note_font, Qt.AlignmentFlag.AlignLeft,
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
