"""Watching a 1-D pooling window slide along one channel: the value it keeps, the output growing.

Top: the chosen channel as a line plot, its 'same' padding hatched (padding is not counted),
the window on it and, for max pooling, the value it picks ringed in green; for average
pooling a dashed line at the window's mean. Under it the pooled sequence growing step by step.
Then the window's numbers → the result, and "max(a, b, c) = m" or "(a + b + c) / 3 = m" in
words. Pooling works on each channel alone, so there is a channel but no filter to choose.
Every number comes from Pool1DSteps / Pool1DFrame (core), equal to Keras.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QWidget

from cnnviz.core.explain.frames_1d import Pool1DFrame, Pool1DSteps
from cnnviz.ui.common.value_colors import symmetric_limit
from cnnviz.ui.common.zoom import line_width
from cnnviz.ui.explain.views.conv1d_step_view import padding_words
from cnnviz.ui.explain.views.grid_painting import (
    HIGHLIGHT_EDGE,
    PICKED,
    Run,
    ValueGrid,
    cell_label,
    display_value,
    draw_highlight,
    operand,
    tiny_notes,
)
from cnnviz.ui.explain.views.sequence_step_view import (
    SequenceStepViewBase,
    Table,
    WindowMarks,
)

MAX_WRITTEN_VALUES = 9
PADDING_MARK = "\u2013"   # an en dash on padding cells: they are not counted


class Pool1DStepView(SequenceStepViewBase):
    """A MaxPooling1D / AveragePooling1D layer worked out step by step on one channel."""

    LEGENDS = (("values", "Values", "Colours of the input, the window and the pooled output"),)
    EMPTY_TEXT = "Choose a pooling layer to watch its window slide along the sequence."
    NOTED_GRIDS = ("window",)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.window_grid = ValueGrid(digits=2, padding_text=PADDING_MARK, per_step=True)
        super().__init__(parent)
        self._steps: Pool1DSteps | None = None
        self._channel = 0
        self._frame: Pool1DFrame | None = None
        self._limit = 1.0

    # ------------------------------------------------------------------ public
    def set_steps(self, steps: Pool1DSteps | None) -> None:
        """Show a 1-D pooling layer's explanation (None clears the view); channel 0."""
        self._steps = steps
        self._channel = 0
        self._step = 0
        if steps is not None:
            self._limit = symmetric_limit(steps.input, steps.output)
            self.window_grid.set_font_samples(
                [cell_label(steps.input.min()), cell_label(steps.input.max()), "\u22120.00"])
            self._channel_changed()
        self._data_changed()

    def steps(self) -> Pool1DSteps | None:
        return self._steps

    def set_channel(self, channel: int) -> None:
        """Which channel is pooled and drawn (0-based)."""
        if self._steps is None:
            return
        self._channel = max(0, min(int(channel), self._steps.input.shape[1] - 1))
        self._channel_changed()
        self._data_changed(new_steps=False)

    def channel(self) -> int:
        return self._channel

    def step_count(self) -> int:
        return 0 if self._steps is None else int(self._steps.output.shape[0])

    def frame(self) -> Pool1DFrame | None:
        return self._frame

    # ------------------------------------------------------------------ data into grids
    def _channel_changed(self) -> None:
        steps, c = self._steps, self._channel
        name = "input" if steps.input.shape[1] == 1 else f"ch {c}"
        self.input_panel.set_data(steps.input[:, c:c + 1], steps.pad_left, steps.pad_right,
                                  [name], self._limit, strips=False)
        self.output_track.set_values(steps.output[:, c], self._limit)

    def _show_step(self, step: int) -> None:
        frame = self._steps.frame(step, self._channel)
        self._frame = frame
        self.window_grid.set_values(frame.window[None, :], self._limit, frame.inside[None, :])
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
        length, channels = steps.input.shape
        suffix = f", channel {self._channel} of {channels}" if channels > 1 else ""
        if key == "input":
            what = f"Input: {length} steps{suffix}"
            extras = [padding_words(steps.padding, steps.pad_left, steps.pad_right)]
            if steps.strides != steps.pool_size:
                extras.append(f"stride {steps.strides}")
            extras = [e for e in extras if e]
            return "  ·  ".join([what] + extras), what, f"Input, {length} steps"
        if key == "output":
            return (f"Pooled: {steps.output.shape[0]} steps{suffix}", "Pooled")
        if key == "result":
            return "max" if steps.mode == "max" else "mean"
        return f"window of {steps.pool_size}", "window"

    def _padding_note(self) -> str:
        steps = self._steps
        return "padding, not counted" if steps.pad_left or steps.pad_right else ""

    def _window_marks(self) -> WindowMarks:
        frame = self._frame
        return WindowMarks(frame.start, self._steps.pool_size, frame.input_steps, frame.inside,
                           [0])

    def _output_positions(self) -> np.ndarray:
        steps = self._steps
        count = steps.output.shape[0]
        return np.arange(count) * steps.strides - steps.pad_left + (steps.pool_size - 1) / 2

    def _legend_limits(self) -> dict[str, float]:
        return {"values": self._limit}

    def _cell_notes(self, key: str) -> list[str]:
        frame = self._frame
        return [f"t {int(t)}" if inside else "pad"
                for t, inside in zip(frame.input_steps, frame.inside)]

    def _decorate(self, painter: QPainter) -> None:
        frame, panel = self._frame, self.input_panel
        if frame.picked is None:   # average: the mean as a dashed line across the window
            span = panel.span_rect(frame.start, self._steps.pool_size)
            y = panel.y_of(0, frame.output)
            painter.save()
            painter.setPen(QPen(PICKED, line_width(2), Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(span.left(), y), QPointF(span.right(), y))
            painter.restore()
            return
        draw_highlight(painter, self.window_grid.cell_rect(0, frame.picked), PICKED, width=4)
        step = int(frame.input_steps[frame.picked])
        point = QPointF(panel.x_of(step), panel.y_of(0, frame.output))
        radius = max(5.0, min(11.0, panel.step_width() * 0.7))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(HIGHLIGHT_EDGE, line_width(1)))
        painter.drawEllipse(point, radius + line_width(1.5), radius + line_width(1.5))
        painter.setPen(QPen(PICKED, line_width(3)))
        painter.drawEllipse(point, radius, radius)
        painter.restore()

    # ------------------------------------------------------------------ the written calculation
    def _calculation_lines(self, step: int | None = None) -> list[list[Run]]:
        if self._steps is None:
            return []
        frame = self._frame if step is None else self._steps.frame(step, self._channel)
        cells = [i for i in range(frame.window.shape[0]) if frame.inside[i]]
        skipped = frame.window.size - len(cells)
        shown: list[int | None] = list(cells)
        if len(cells) > MAX_WRITTEN_VALUES:
            shown = cells[:4] + [None] + cells[-2:]
        where = f"Output step {frame.out_t}:  "
        if frame.mode == "max":
            line = [Run("Largest in the window:  ", "muted"), Run("max(")]
            for index, cell in enumerate(shown):
                if cell is None:
                    line.append(Run(f", … {len(cells) - 6} more …", "muted"))
                    continue
                style = "focus" if cell == frame.picked else "plain"
                line += [Run("" if index == 0 else ", "),
                         Run(display_value(frame.window[cell]), style)]
            line += [Run(") = "), Run(display_value(frame.output), "strong")]
            kept = [Run(where, "muted"),
                    Run(f"keeps input step {int(frame.input_steps[frame.picked])} = "),
                    Run(display_value(frame.output), "strong")]
            others = len(cells) - 1
            kept.append(Run(f"; the other {others} value{'s are' if others > 1 else ' is'} "
                            "dropped" if others else "; the only input value under the window",
                            "muted"))
        else:
            line = [Run("Mean of the window:  ", "muted"), Run("(")]
            for index, cell in enumerate(shown):
                if cell is None:
                    line.append(Run(f" + … {len(cells) - 6} more …", "muted"))
                    continue
                line.append(Run(("" if index == 0 else " + ") + operand(frame.window[cell])))
            line += [Run(f") / {frame.count} = "), Run(display_value(frame.output), "strong")]
            total = float(frame.window[frame.inside].sum(dtype=np.float32))
            kept = [Run(where, "muted"),
                    Run(f"sum {display_value(total)} / {frame.count} steps = "),
                    Run(display_value(frame.output), "strong")]
        if skipped:
            kept.append(Run(f" ({skipped} padding step{'s' if skipped > 1 else ''} "
                            "not counted)", "muted"))
        note = tiny_notes(np.append(frame.window[frame.inside], frame.output))
        return [line, kept] + ([[Run(f"({note})", "muted")]] if note else [])

    def _tooltip(self, key: str, index: int, lane: int) -> str:
        steps, frame, c = self._steps, self._frame, self._channel
        if key == "input":
            if not 0 <= index < steps.input.shape[0]:
                return "Padding (padding='same'): not counted by the pooling"
            return f"input[{index}, {c}] = {steps.input[index, c]:.6g}"
        if key == "window":
            if not frame.inside[index]:
                return "Padding: not counted"
            text = f"input[{int(frame.input_steps[index])}, {c}] = {frame.window[index]:.6g}"
            if frame.picked == index:
                text += "\nthe largest in the window: this is what max pooling keeps"
            return text
        if key == "result":
            return f"output[{frame.out_t}, {c}] = {frame.output:.6g}"
        return (f"output[{index}, {c}] = {steps.output[index, c]:.6g}\n"
                f"step {index + 1}; click to jump there")
