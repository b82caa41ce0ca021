"""Watching a pooling window slide over one channel: the value it keeps, the map filling in.

Left: the input channel (with the padding border when padding='same') and the window on it.
Middle: the numbers under the window, the largest one outlined (max pooling) → the result.
Right: the pooled map filling in. Below: "max(a, b, c, d) = m" or "(a + b + c + d) / 4 = m".
Pooling works on each channel alone, so there is a channel but no filter to choose.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from cnnviz.core.explain.frames import PoolFrame, PoolSteps
from cnnviz.ui.explain.views.conv_step_view import padded_shape
from cnnviz.ui.explain.views.grid_painting import (
    PICKED, Run, ValueGrid, cell_label, display_value, draw_highlight, operand, tiny_notes,
)
from cnnviz.ui.explain.views.step_view_base import StepViewBase
from cnnviz.ui.explain.views.step_view_layout import Table
from cnnviz.ui.common.value_colors import symmetric_limit

MAX_WRITTEN_VALUES = 9
PADDING_MARK = "\u2013"   # an en dash on padding cells: they are not counted


class PoolStepView(StepViewBase):
    """A MaxPooling2D / AveragePooling2D layer worked out step by step on one channel."""

    LEGENDS = (("values", "Values", "Colours of the input, the window and the pooled output"),)
    EMPTY_TEXT = "Choose a pooling layer to watch its window at work."

    def __init__(self, parent: QWidget | None = None) -> None:
        self.window_grid = ValueGrid(digits=2, padding_text=PADDING_MARK, per_step=True)
        super().__init__(parent)
        self.input_grid.padding_text = PADDING_MARK
        self._steps: PoolSteps | None = None
        self._channel = 0
        self._frame: PoolFrame | None = None
        self._padding = (0, 0, 0, 0)
        self._limit = 1.0

    # ------------------------------------------------------------------ public
    def set_steps(self, steps: PoolSteps | None) -> None:
        """Show a pooling layer's explanation (None clears the view). The channel resets to 0."""
        self._steps = steps
        self._channel = 0
        self._step = 0
        if steps is not None:
            height, width = steps.input.shape[:2]
            out_h, out_w = steps.output.shape[:2]
            (sy, sx), (ph, pw) = steps.strides, steps.pool_size
            top, bottom = padded_shape(height, out_h, sy, ph, steps.pad_top)
            left, right = padded_shape(width, out_w, sx, pw, steps.pad_left)
            self._padding = (top, bottom, left, right)
            self._limit = symmetric_limit(steps.input, steps.output)
            self.window_grid.set_font_samples(
                [cell_label(steps.input.min()), cell_label(steps.input.max()), "\u22120.00"])
            self._channel_changed()
        self._data_changed()

    def steps(self) -> PoolSteps | None:
        return self._steps

    def set_channel(self, channel: int) -> None:
        """Which channel is pooled and drawn (0-based)."""
        if self._steps is None:
            return
        self._channel = max(0, min(int(channel), self._steps.input.shape[2] - 1))
        self._channel_changed()
        self._data_changed(new_steps=False)

    def channel(self) -> int:
        return self._channel

    def step_count(self) -> int:
        if self._steps is None:
            return 0
        out_h, out_w = self._steps.output.shape[:2]
        return out_h * out_w

    def frame(self) -> PoolFrame | None:
        return self._frame

    # ------------------------------------------------------------------ data into grids
    def _channel_changed(self) -> None:
        steps, c = self._steps, self._channel
        top, bottom, left, right = self._padding
        image = np.pad(steps.input[..., c], ((top, bottom), (left, right)))
        real = np.pad(np.ones(steps.input.shape[:2], bool), ((top, bottom), (left, right)))
        self.input_grid.set_values(image, self._limit, real)
        self.output_grid.set_values(steps.output[..., c], self._limit)

    def _show_step(self, step: int) -> None:
        out_y, out_x = divmod(step, self._steps.output.shape[1])
        frame = self._steps.frame(out_y, out_x, self._channel)
        self._frame = frame
        self.window_grid.set_values(frame.window, self._limit, frame.inside)
        self.result_grid.set_values(np.array([[frame.output]]), self._limit)

    # ------------------------------------------------------------------ hooks
    def _has_data(self) -> bool:
        return self._steps is not None

    def _middle_grids(self) -> dict[str, ValueGrid]:
        return {"window": self.window_grid, "result": self.result_grid}

    def _middle_tables(self) -> list[Table]:
        return [[["window", "→", "result"]], [["window"], ["→"], ["result"]]]

    def _title(self, key: str) -> str | tuple[str, ...]:
        steps = self._steps
        height, width, channels = steps.input.shape
        out_h, out_w = steps.output.shape[:2]
        suffix = f", channel {self._channel}" if channels > 1 else ""
        if key == "input":
            return (f"Input {height}×{width}{suffix}", f"Input{suffix}",
                    f"Channel {self._channel}")
        if key == "output":
            return (f"Pooled {out_h}×{out_w}{suffix}", f"Pooled{suffix}", "Pooled")
        if key == "result":
            return "max" if steps.mode == "max" else "mean"
        return f"window {steps.pool_size[0]}×{steps.pool_size[1]}", "window"

    def _padding_note(self) -> str:
        return "padding, not counted" if any(self._padding) else ""

    def _window_block(self) -> tuple[int, int, int, int]:
        frame = self._frame
        return (frame.top + self._padding[0], frame.left + self._padding[2], *self._steps.pool_size)

    def _legend_limits(self) -> dict[str, float]:
        return {"values": self._limit}

    def _decorate(self, painter: QPainter) -> None:
        frame = self._frame
        if frame.picked is None:
            return
        row, col = frame.picked
        draw_highlight(painter, self.window_grid.cell_rect(row, col), PICKED, width=4)
        top, left = frame.top + self._padding[0], frame.left + self._padding[2]
        cell = self.input_grid.cell_rect(top + row, left + col)
        draw_highlight(painter, cell, PICKED, width=2 if cell.width() < 12 else 3)

    # ------------------------------------------------------------------ the written calculation
    def _calculation_lines(self, step: int | None = None) -> list[list[Run]]:
        if self._steps is None:
            return []
        frame = self._frame if step is None else self._steps.frame(
            *divmod(step, self._steps.output.shape[1]), self._channel)
        cells = [(r, c) for r in range(frame.window.shape[0]) for c in range(frame.window.shape[1])
                 if frame.inside[r, c]]
        skipped = frame.window.size - len(cells)
        shown: list[tuple[int, int] | None] = list(cells)
        if len(cells) > MAX_WRITTEN_VALUES:
            shown = cells[:4] + [None] + cells[-2:]
        where = f"Output ({frame.out_y}, {frame.out_x}):  "
        if frame.mode == "max":
            line = [Run("Largest in the window:  ", "muted"), Run("max(")]
            for index, cell in enumerate(shown):
                joiner = "" if index == 0 else ", "
                if cell is None:
                    line.append(Run(f", … {len(cells) - 6} more …", "muted"))
                    continue
                style = "focus" if cell == tuple(frame.picked) else "plain"
                line += [Run(joiner), Run(display_value(frame.window[cell]), style)]
            line += [Run(") = "), Run(display_value(frame.output), "strong")]
            row, col = frame.picked
            kept = [Run(where, "muted"),
                    Run(f"keeps input ({frame.top + row}, {frame.left + col}) = "),
                    Run(display_value(frame.output), "strong")]
            others = len(cells) - 1
            kept.append(Run(f"; the other {others} value{'s are' if others > 1 else ' is'} dropped"
                            if others else "; the only input value under the window", "muted"))
        else:
            line = [Run("Mean of the window:  ", "muted"), Run("(")]
            for index, cell in enumerate(shown):
                joiner = "" if index == 0 else " + "
                if cell is None:
                    line.append(Run(f" + … {len(cells) - 6} more …", "muted"))
                    continue
                line.append(Run(joiner + operand(frame.window[cell])))
            line += [Run(f") / {frame.count} = "), Run(display_value(frame.output), "strong")]
            total = float(frame.window[frame.inside].sum(dtype=np.float32))
            kept = [Run(where, "muted"),
                    Run(f"sum {display_value(total)} / {frame.count} cells = "),
                    Run(display_value(frame.output), "strong")]
        if skipped:
            cells_word = "cells" if skipped > 1 else "cell"
            kept.append(Run(f" ({skipped} padding {cells_word} not counted)", "muted"))
        note = tiny_notes(np.append(frame.window[frame.inside], frame.output))
        return [line, kept] + ([[Run(f"({note})", "muted")]] if note else [])

    def _tooltip(self, key: str, row: int, col: int) -> str:
        steps, frame, c = self._steps, self._frame, self._channel
        if key == "input":
            y, x = row - self._padding[0], col - self._padding[2]
            if not (0 <= y < steps.input.shape[0] and 0 <= x < steps.input.shape[1]):
                return "Padding (padding='same'): not counted by the pooling"
            return f"input[{y}, {x}, {c}] = {steps.input[y, x, c]:.6g}"
        if key == "window":
            if not frame.inside[row, col]:
                return "Padding: not counted"
            value = frame.window[row, col]
            text = f"input[{frame.top + row}, {frame.left + col}, {c}] = {value:.6g}"
            if frame.picked is not None and (row, col) == tuple(frame.picked):
                text += "\nthe largest in the window: this is what max pooling keeps"
            return text
        if key == "result":
            return f"output[{frame.out_y}, {frame.out_x}, {c}] = {frame.output:.6g}"
        step = row * steps.output.shape[1] + col + 1
        value = steps.output[row, col, c]
        return f"output[{row}, {col}, {c}] = {value:.6g}\nstep {step}; click to jump there"
