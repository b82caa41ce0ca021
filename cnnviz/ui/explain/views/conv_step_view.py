"""Watching one convolution filter slide over its input, with the real numbers.

Left: the input (one channel, with the zero border when padding='same') and the window on it.
Middle: the numbers under the window × the kernel's weights = the products → this step's output.
Right: the filter's output map filling in cell by cell. Below: the sum written out, per channel
and in total, plus bias and activation. Everything comes from ConvSteps / ConvFrame (core).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from cnnviz.core.explain.frames import ConvFrame, ConvSteps
from cnnviz.ui.explain.views.grid_painting import (
    Run, ValueGrid, cell_label, display_value, operand, tiny_notes,
)
from cnnviz.ui.explain.views.step_view_base import StepViewBase
from cnnviz.ui.explain.views.step_view_layout import Table
from cnnviz.ui.common.value_colors import symmetric_limit

MAX_WRITTEN_TERMS = 9        # a 3×3 channel's sum is written in full; longer ones are shortened
MAX_WRITTEN_CHANNELS = 8


def padded_shape(size: int, out: int, stride: int, kernel: int, before: int) -> tuple[int, int]:
    """(rows before, rows after) of padding the windows reach along one axis."""
    after = max(0, (out - 1) * stride + kernel - size - before)
    return before, after


def channel_sum_line(frame, c: int, several: bool) -> list[Run]:
    """Channel c's part of a convolution's sum written out: window × kernel terms = its sum
    (a 2-D ConvFrame or a Conv1DFrame; long sums are shortened)."""
    window, kernel = frame.window[..., c].ravel(), frame.kernel[..., c].ravel()
    count = window.size
    shown: list[int | None] = list(range(count))
    if count > MAX_WRITTEN_TERMS:
        shown = [0, 1, 2, 3, None, count - 2, count - 1]
    line = [Run(f"Channel {c}:  " if several else "Window × kernel:  ", "muted")]
    first = True
    for index in shown:
        joiner = "" if first else " + "
        first = False
        if index is None:
            line.append(Run(f" + … {count - 6} more …", "muted"))
            continue
        line.append(Run(f"{joiner}{operand(window[index])}×{operand(kernel[index])}"))
    line.append(Run(" = "))
    line.append(Run(display_value(frame.channel_sums[c]), "focus" if several else "strong"))
    return line


def channels_sum_line(frame, c: int) -> list[Run]:
    """The channels' sums added up, channel c's highlighted (many channels shortened)."""
    sums = frame.channel_sums
    count = sums.size
    if count <= MAX_WRITTEN_CHANNELS:
        shown: list[int | None] = list(range(count))
    else:
        picks = sorted({0, 1, 2, c, count - 1})
        shown = []
        for index in picks:
            if shown and index - shown[-1] > 1:
                shown.append(None)
            shown.append(index)
    line = [Run(f"Sum of {count} channels:  ", "muted")]
    for position, index in enumerate(shown):
        joiner = "" if position == 0 else " + "
        if index is None:
            line.append(Run(" + …", "muted"))
            continue
        line.append(Run(joiner, "plain"))
        line.append(Run(operand(sums[index]), "focus" if index == c else "plain"))
    total = float(sums.sum(dtype=np.float32))
    line += [Run(" = "), Run(display_value(total), "strong")]
    return line


class ConvStepView(StepViewBase):
    """A Conv2D layer worked out step by step: set_steps, set_filter, set_channel, set_step."""

    LEGENDS = (
        ("input", "Input", "Colours of the input and of the window's numbers"),
        ("kernel", "Weights", "Colours of this filter's kernel weights"),
        ("output", "Output", "Colours of the products, the result and the output map"),
    )
    EMPTY_TEXT = "Choose a convolution layer to watch its filters at work."

    def __init__(self, parent: QWidget | None = None) -> None:
        self.window_grid = ValueGrid(digits=2, per_step=True)
        self.kernel_grid = ValueGrid(digits=2)
        self.products_grid = ValueGrid(digits=2, per_step=True)
        super().__init__(parent)
        self._steps: ConvSteps | None = None
        self._filter = 0
        self._channel = 0
        self._frame: ConvFrame | None = None
        self._padding = (0, 0, 0, 0)     # top, bottom, left, right
        self._limits = {"input": 1.0, "kernel": 1.0, "output": 1.0}

    # ------------------------------------------------------------------ public
    def set_steps(self, steps: ConvSteps | None) -> None:
        """Show a Conv2D layer's explanation (None clears the view); filter and channel go to 0."""
        self._steps = steps
        self._filter = self._channel = 0
        self._step = 0
        if steps is not None:
            height, width = steps.input.shape[:2]
            out_h, out_w = steps.pre_activation.shape[:2]
            kh, kw = steps.kernel.shape[:2]
            top, bottom = padded_shape(height, out_h, steps.strides[0], kh, steps.pad_top)
            left, right = padded_shape(width, out_w, steps.strides[1], kw, steps.pad_left)
            self._padding = (top, bottom, left, right)
            self._limits["input"] = symmetric_limit(steps.input)
            input_samples = [cell_label(steps.input.min()), cell_label(steps.input.max()),
                             "\u22120.00"]
            self.window_grid.set_font_samples(input_samples)
            self._filter_changed()
        self._data_changed()

    def steps(self) -> ConvSteps | None:
        return self._steps

    def set_filter(self, filter_index: int) -> None:
        """Which filter's output map is built (0-based)."""
        if self._steps is None:
            return
        self._filter = max(0, min(int(filter_index), self._steps.kernel.shape[3] - 1))
        self._filter_changed()
        self._data_changed(new_steps=False)

    def filter_index(self) -> int:
        return self._filter

    def set_channel(self, channel: int) -> None:
        """Which input channel is drawn; the written sum still covers every channel."""
        if self._steps is None:
            return
        self._channel = max(0, min(int(channel), self._steps.input.shape[2] - 1))
        self._channel_changed()
        self.set_step(self._step)

    def channel(self) -> int:
        return self._channel

    def step_count(self) -> int:
        if self._steps is None:
            return 0
        out_h, out_w = self._steps.pre_activation.shape[:2]
        return out_h * out_w

    def frame(self) -> ConvFrame | None:
        """The worked-out sum of the current step."""
        return self._frame

    # ------------------------------------------------------------------ data into grids
    def _filter_changed(self) -> None:
        steps, f = self._steps, self._filter
        self._limits["kernel"] = symmetric_limit(steps.kernel[..., f])
        self._limits["output"] = symmetric_limit(steps.output[..., f], steps.pre_activation[..., f])
        self.output_grid.set_values(steps.output[..., f], self._limits["output"])
        self.products_grid.set_font_samples([cell_label(-self._limits["output"]), "\u22120.00"])
        self._channel_changed()

    def _channel_changed(self) -> None:
        steps, c = self._steps, self._channel
        top, bottom, left, right = self._padding
        image = np.pad(steps.input[..., c], ((top, bottom), (left, right)))
        real = np.pad(np.ones(steps.input.shape[:2], bool), ((top, bottom), (left, right)))
        self.input_grid.set_values(image, self._limits["input"], real)
        self.kernel_grid.set_values(steps.kernel[:, :, c, self._filter], self._limits["kernel"])

    def _show_step(self, step: int) -> None:
        out_y, out_x = divmod(step, self._steps.pre_activation.shape[1])
        frame = self._steps.frame(out_y, out_x, self._filter)
        self._frame = frame
        c = self._channel
        self.window_grid.set_values(frame.window[..., c], self._limits["input"], frame.inside)
        self.products_grid.set_values(frame.products[..., c], self._limits["output"])
        self.result_grid.set_values(np.array([[frame.output]]), self._limits["output"])

    # ------------------------------------------------------------------ hooks
    def _has_data(self) -> bool:
        return self._steps is not None

    def _middle_grids(self) -> dict[str, ValueGrid]:
        return {"window": self.window_grid, "kernel": self.kernel_grid,
                "products": self.products_grid, "result": self.result_grid}

    def _middle_tables(self) -> list[Table]:
        return [
            [[None, "window", "×", "kernel"], ["=", "products", "→", "result"]],
            [["window", "×", "kernel", "=", "products", "→", "result"]],
            [["window"], ["×"], ["kernel"], ["="], ["products"], ["→"], ["result"]],
        ]

    def _title(self, key: str) -> str | tuple[str, ...]:
        steps = self._steps
        height, width, channels = steps.input.shape
        out_h, out_w, filters = steps.output.shape
        if key == "input":
            if channels == 1:
                return f"Input {height}×{width}", "Input"
            return (f"Input {height}×{width}×{channels}, channel {self._channel}",
                    f"Input, channel {self._channel}", f"Channel {self._channel}")
        if key == "output":
            return (f"Output {out_h}×{out_w}, filter {self._filter} of {filters}",
                    f"Output {out_h}×{out_w}, filter {self._filter}", f"Filter {self._filter}")
        if key == "result":
            return "output" if steps.activation == "linear" else steps.activation
        return key  # "window", "kernel", "products"

    def _padding_note(self) -> str:
        return "zero padding" if any(self._padding) else ""

    def _window_block(self) -> tuple[int, int, int, int]:
        frame, kh, kw = self._frame, *self._steps.kernel.shape[:2]
        return frame.top + self._padding[0], frame.left + self._padding[2], kh, kw

    def _legend_limits(self) -> dict[str, float]:
        return dict(self._limits)

    def _calculation_lines(self, step: int | None = None) -> list[list[Run]]:
        if self._steps is None:
            return []
        frame = self._frame if step is None else self._steps.frame(
            *divmod(step, self._steps.pre_activation.shape[1]), self._filter)
        channels, c = frame.channel_sums.shape[0], self._channel
        several = channels > 1
        lines = [channel_sum_line(frame, c, several)]
        if several:
            lines.append(channels_sum_line(frame, c))
        total = float(frame.channel_sums.sum(dtype=np.float32))
        last = [Run(f"Output ({frame.out_y}, {frame.out_x}):  ", "muted"),
                Run(display_value(total)), Run(f" + bias {display_value(frame.bias)}"),
                Run(" = "), Run(display_value(frame.pre_activation), "strong")]
        if frame.activation != "linear":
            last += [Run(f" → {frame.activation} → "),
                     Run(display_value(frame.output), "strong")]
        lines.append(last)
        note = tiny_notes(np.concatenate([
            frame.window[..., c].ravel(), frame.kernel[..., c].ravel(),
            frame.products[..., c].ravel(), frame.channel_sums.ravel(),
            np.array([total, frame.bias, frame.pre_activation, frame.output], np.float32)]))
        if note:
            lines.append([Run(f"({note})", "muted")])
        return lines

    def _tooltip(self, key: str, row: int, col: int) -> str:
        steps, frame, c, f = self._steps, self._frame, self._channel, self._filter
        if key == "input":
            top, _bottom, left, _right = self._padding
            y, x = row - top, col - left
            if not (0 <= y < steps.input.shape[0] and 0 <= x < steps.input.shape[1]):
                return "Zero padding (padding='same'): the kernel sees 0 here"
            return f"input[{y}, {x}, {c}] = {steps.input[y, x, c]:.6g}"
        if key == "kernel":
            weight = frame.kernel[row, col, c]
            return f"weight[{row}, {col}, channel {c}, filter {f}] = {weight:.6g}"
        if key == "window":
            if not frame.inside[row, col]:
                return "Zero padding: 0"
            value = frame.window[row, col, c]
            return f"input[{frame.top + row}, {frame.left + col}, {c}] = {value:.6g}"
        if key == "products":
            return (f"{frame.window[row, col, c]:.6g} × {frame.kernel[row, col, c]:.6g} = "
                    f"{frame.products[row, col, c]:.6g}")
        if key == "result":
            return f"output[{frame.out_y}, {frame.out_x}, {f}] = {frame.output:.6g}"
        value = steps.output[row, col, f]
        before = steps.pre_activation[row, col, f]
        step = row * steps.output.shape[1] + col + 1
        text = f"output[{row}, {col}, {f}] = {value:.6g}"
        if steps.activation != "linear":
            text += f" ({steps.activation} of {before:.6g})"
        return text + f"\nstep {step}; click to jump there"
