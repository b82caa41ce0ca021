"""Watching one Conv1D filter slide along its input sequence, with the real numbers.

Top: the input, a line plot per channel (heat strips when there are more than eight), its
zero padding hatched ('same' on both ends, 'causal' before the sequence only), the window on
it and the steps the kernel reads marked (with dilation, the steps between them are skipped);
each channel's sum at the end of its lane. Under it the filter's output sequence growing step
by step. Then the numbers of this step for the chosen input channel: the window × the kernel
(a stem plot over its weights) = the products → the output value; and the sum written out per
channel and in total, with the bias and the activation, as the 2-D view writes it. Every
number comes from Conv1DSteps / Conv1DFrame (core), equal to Keras.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from cnnviz.core.explain.frames_1d import Conv1DFrame, Conv1DSteps
from cnnviz.ui.common.value_colors import symmetric_limit
from cnnviz.ui.explain.views.conv_step_view import channel_sum_line, channels_sum_line
from cnnviz.ui.explain.views.grid_painting import (
    Run,
    ValueGrid,
    cell_label,
    display_value,
    tiny_notes,
)
from cnnviz.ui.explain.views.sequence_step_view import (
    SequenceStepViewBase,
    Table,
    WindowMarks,
)
from cnnviz.ui.explain.views.series_painting import MAX_LINE_LANES


def lane_names(channels: int) -> list[str]:
    """What the input lanes are called: "input" for one channel, else "ch 0", "ch 1", …"""
    return ["input"] if channels == 1 else [f"ch {c}" for c in range(channels)]


def padding_words(padding: str, before: int, after: int) -> str:
    """"padding 'same': 3 zeros before, 3 after" ("" when the windows read no padding)."""
    if not before and not after:
        return f"padding '{padding}'" if padding != "valid" else ""
    parts = []
    if before:
        parts.append(f"{before} zero{'s' if before > 1 else ''} before")
    if after:
        parts.append(f"{after} after" if before else
                     f"{after} zero{'s' if after > 1 else ''} after")
    return f"padding '{padding}': " + ", ".join(parts)


class Conv1DStepView(SequenceStepViewBase):
    """A Conv1D layer worked out step by step: set_steps, set_filter, set_channel, set_step."""

    LEGENDS = (
        ("input", "Input", "Colours of the input and of the window's numbers"),
        ("kernel", "Weights", "Colours of this filter's kernel weights"),
        ("output", "Output", "Colours of the products, the result and the output sequence"),
    )
    EMPTY_TEXT = "Choose a Conv1D layer to watch its filters slide along the sequence."
    STEM_GRIDS = ("kernel",)
    NOTED_GRIDS = ("window",)

    def __init__(self, parent: QWidget | None = None) -> None:
        self.window_grid = ValueGrid(digits=2, per_step=True)
        self.kernel_grid = ValueGrid(digits=2)
        self.products_grid = ValueGrid(digits=2, per_step=True)
        super().__init__(parent)
        self._steps: Conv1DSteps | None = None
        self._filter = 0
        self._channel = 0
        self._frame: Conv1DFrame | None = None
        self._limits = {"input": 1.0, "kernel": 1.0, "output": 1.0}

    # ------------------------------------------------------------------ public
    def set_steps(self, steps: Conv1DSteps | None) -> None:
        """Show a Conv1D layer's explanation (None clears the view); filter and channel go
        to 0."""
        self._steps = steps
        self._filter = self._channel = 0
        self._step = 0
        if steps is not None:
            channels = steps.input.shape[1]
            self._limits["input"] = symmetric_limit(steps.input)
            self.input_panel.set_data(steps.input, steps.pad_left, steps.pad_right,
                                      lane_names(channels), self._limits["input"])
            self.window_grid.set_font_samples(
                [cell_label(steps.input.min()), cell_label(steps.input.max()), "\u22120.00"])
            self._filter_changed()
            self._channel_changed()
        self._data_changed()

    def steps(self) -> Conv1DSteps | None:
        return self._steps

    def set_filter(self, filter_index: int) -> None:
        """Which filter's output sequence is built (0-based)."""
        if self._steps is None:
            return
        self._filter = max(0, min(int(filter_index), self._steps.kernel.shape[2] - 1))
        self._filter_changed()
        self._channel_changed()
        self._data_changed(new_steps=False)

    def filter_index(self) -> int:
        return self._filter

    def set_channel(self, channel: int) -> None:
        """Which input channel's window, kernel and products are shown (and highlighted on
        the input); the written sum still covers every channel."""
        if self._steps is None:
            return
        self._channel = max(0, min(int(channel), self._steps.input.shape[1] - 1))
        self._channel_changed()
        self._data_changed(new_steps=False)

    def channel(self) -> int:
        return self._channel

    def step_count(self) -> int:
        return 0 if self._steps is None else int(self._steps.pre_activation.shape[0])

    def frame(self) -> Conv1DFrame | None:
        """The worked-out sum of the current step."""
        return self._frame

    # ------------------------------------------------------------------ data into grids
    def _filter_changed(self) -> None:
        steps, f = self._steps, self._filter
        self._limits["kernel"] = symmetric_limit(steps.kernel[..., f])
        self._limits["output"] = symmetric_limit(steps.output[:, f], steps.pre_activation[:, f])
        self.output_track.set_values(steps.output[:, f], self._limits["output"])
        self.products_grid.set_font_samples([cell_label(-self._limits["output"]), "\u22120.00"])

    def _channel_changed(self) -> None:
        steps, c = self._steps, self._channel
        self.input_panel.set_focus(c if steps.input.shape[1] > 1 else None)
        self.kernel_grid.set_values(steps.kernel[:, c, self._filter][None, :],
                                    self._limits["kernel"])

    def _show_step(self, step: int) -> None:
        frame = self._steps.frame(step, self._filter)
        self._frame = frame
        c = self._channel
        self.window_grid.set_values(frame.window[:, c][None, :], self._limits["input"],
                                    frame.inside[None, :])
        self.products_grid.set_values(frame.products[:, c][None, :], self._limits["output"])
        self.result_grid.set_values(np.array([[frame.output]]), self._limits["output"])

    # ------------------------------------------------------------------ hooks
    def _has_data(self) -> bool:
        return self._steps is not None

    def _middle_grids(self) -> dict[str, ValueGrid]:
        return {"window": self.window_grid, "kernel": self.kernel_grid,
                "products": self.products_grid, "result": self.result_grid}

    def _middle_tables(self) -> list[Table]:
        return [
            [["window", "×", "kernel", "=", "products", "→", "result"]],
            [[None, "window", "×", "kernel"], ["=", "products", "→", "result"]],
            [["window"], ["×"], ["kernel"], ["="], ["products"], ["→"], ["result"]],
        ]

    def _title(self, key: str) -> str | tuple[str, ...]:
        steps = self._steps
        length, channels = steps.input.shape
        out_steps, filters = steps.output.shape
        if key == "input":
            what = (f"Input: {length} steps × {channels} channel{'s' if channels > 1 else ''}")
            extras = [padding_words(steps.padding, steps.pad_left, steps.pad_right)]
            if steps.dilation > 1:
                extras.append(f"dilation {steps.dilation}: the kernel reads every "
                              f"{steps.dilation}th step" if steps.dilation > 2 else
                              "dilation 2: the kernel reads every other step")
            if steps.strides > 1:
                extras.append(f"stride {steps.strides}")
            extras = [e for e in extras if e]
            full = "  ·  ".join([what] + extras)
            return full, "  ·  ".join([what] + extras[:1]), what, f"Input, {length} steps"
        if key == "output":
            return (f"Output: {out_steps} steps, filter {self._filter} of {filters}",
                    f"Output, filter {self._filter}", "Output")
        if key == "result":
            return "output" if steps.activation == "linear" else steps.activation
        if key == "window":
            several = channels > 1
            return ((f"window, channel {self._channel}", "window") if several else "window")
        if key == "kernel":
            return (f"kernel {steps.kernel_size}, filter {self._filter}", "kernel")
        return key  # "products"

    def _padding_note(self) -> str:
        return "zero padding" if self._steps.pad_left or self._steps.pad_right else ""

    def _window_marks(self) -> WindowMarks:
        frame, steps = self._frame, self._steps
        channels = steps.input.shape[1]
        lanes = list(range(channels)) if channels <= MAX_LINE_LANES else [self._channel]
        return WindowMarks(frame.start, steps.span, frame.input_steps, frame.inside, lanes)

    def _output_positions(self) -> np.ndarray:
        steps = self._steps
        count = steps.pre_activation.shape[0]
        return (np.arange(count) * steps.strides - steps.pad_left + (steps.span - 1) / 2)

    def _legend_limits(self) -> dict[str, float]:
        return dict(self._limits)

    def _cell_notes(self, key: str) -> list[str]:
        frame = self._frame
        return [f"t {int(t)}" if inside else "pad"
                for t, inside in zip(frame.input_steps, frame.inside)]

    def _lane_notes(self) -> list[str]:
        if self._steps.input.shape[1] < 2 or self._frame is None:
            return []
        return [f"\u03a3 {display_value(s)}" for s in self._frame.channel_sums]

    # ------------------------------------------------------------------ the written calculation
    def _calculation_lines(self, step: int | None = None) -> list[list[Run]]:
        if self._steps is None:
            return []
        frame = self._frame if step is None else self._steps.frame(step, self._filter)
        c = self._channel
        several = frame.channel_sums.shape[0] > 1
        lines = [channel_sum_line(frame, c, several)]
        if several:
            lines.append(channels_sum_line(frame, c))
        total = float(frame.channel_sums.sum(dtype=np.float32))
        last = [Run(f"Output step {frame.out_t}:  ", "muted"),
                Run(display_value(total)), Run(f" + bias {display_value(frame.bias)}"),
                Run(" = "), Run(display_value(frame.pre_activation), "strong")]
        if frame.activation != "linear":
            last += [Run(f" → {frame.activation} → "),
                     Run(display_value(frame.output), "strong")]
        lines.append(last)
        note = tiny_notes(np.concatenate([
            frame.window[:, c], frame.kernel[:, c], frame.products[:, c], frame.channel_sums,
            np.array([total, frame.bias, frame.pre_activation, frame.output], np.float32)]))
        if note:
            lines.append([Run(f"({note})", "muted")])
        return lines

    def _tooltip(self, key: str, index: int, lane: int) -> str:
        steps, frame, c, f = self._steps, self._frame, self._channel, self._filter
        if key == "input":
            if not 0 <= index < steps.input.shape[0]:
                side = "before" if index < 0 else "after"
                return (f"Zero padding {side} the sequence (padding='{steps.padding}'): "
                        "the kernel reads 0 here")
            return f"input[{index}, {lane}] = {steps.input[index, lane]:.6g}"
        if key == "kernel":
            return f"weight[{index}, channel {c}, filter {f}] = {frame.kernel[index, c]:.6g}"
        if key == "window":
            if not frame.inside[index]:
                return "Zero padding: 0"
            step = int(frame.input_steps[index])
            return f"input[{step}, {c}] = {frame.window[index, c]:.6g}"
        if key == "products":
            return (f"{frame.window[index, c]:.6g} × {frame.kernel[index, c]:.6g} = "
                    f"{frame.products[index, c]:.6g}")
        if key == "result":
            return f"output[{frame.out_t}, {f}] = {frame.output:.6g}"
        value, before = steps.output[index, f], steps.pre_activation[index, f]
        text = f"output[{index}, {f}] = {value:.6g}"
        if steps.activation != "linear":
            text += f" ({steps.activation} of {before:.6g})"
        return text + f"\nstep {index + 1}; click to jump there"
