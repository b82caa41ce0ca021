"""How cnnviz writes shapes, counts, sizes, percentages and values: one place for every view,
the command line and the messages, so a number reads the same wherever it appears."""

from __future__ import annotations

import math
from typing import Any, Sequence

__all__ = [
    "BYTES_PER_PARAM", "count_text", "dims_text", "format_duration", "format_value",
    "keras_shape", "params_with_size", "percent_of", "plain_value", "probability_percent",
    "readable_size", "tiny_value_note",
]

BYTES_PER_PARAM = 4   # float32 weights, as Keras's summary assumes for a default model
NO_VALUE = "—"


def keras_shape(shape: Any) -> str:
    """An output shape the way Keras's summary writes it, batch first: (None, 26, 26, 32).

    Accepts the shape with or without its batch dimension, or a list of shapes (a layer with
    several outputs, joined by ", "); None gives "—".
    """
    if shape is None:
        return NO_VALUE
    shape = tuple(shape)
    if shape and all(isinstance(part, (tuple, list)) for part in shape):
        return ", ".join(keras_shape(part) for part in shape)
    if not shape or shape[0] is not None:
        shape = (None, *shape)
    return "(" + ", ".join("None" if d is None else str(int(d)) for d in shape) + ")"


def dims_text(shape: Sequence[int | None] | None) -> str:
    """A tensor's size as people write it: "28×28×1"; an unknown dimension is "any"; none "—"."""
    if not shape:
        return NO_VALUE
    return "×".join("any" if d is None else str(int(d)) for d in shape)


def count_text(count: int) -> str:
    """A whole number with thousands separators: 18,496."""
    return f"{int(count):,}"


def readable_size(num_bytes: float) -> str:
    """A byte count the way Keras's summary writes it: 1024-based, two decimals ("1.97 MB")."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes / 1024 < 1:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


def params_with_size(count: int) -> str:
    """"515,146 (1.97 MB)": a parameter count and its float32 weight size."""
    return f"{count:,} ({readable_size(count * BYTES_PER_PARAM)})"


def probability_percent(probability: float) -> str:
    """A probability as a percentage: "98.1%", "0.4%", "<0.1%" for tiny non-zero, "0%"."""
    percent = 100.0 * float(probability)
    if percent == 0:
        return "0%"
    if percent < 0.05:
        return "<0.1%"
    return f"{percent:.1f}%"


def percent_of(part: int, whole: int) -> str:
    """What share `part` is of `whole`, rounded to a whole percent: "42%" ("0%" of nothing)."""
    return f"{100.0 * part / whole:.0f}%" if whole else "0%"


def format_value(value: float, digits: int = 3) -> str:
    """A number short enough for a grid cell: 0.123, -1.50, 12.3, 1.2e+03."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000 or magnitude < 0.001:
        return f"{value:.1e}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.{max(digits - 1, 1)}f}" if magnitude >= 1 else f"{value:.{digits}f}"


def _plain_decimals(magnitude: float, digits: int) -> int:
    """Decimals plain_value writes a number of this size with (see plain_value)."""
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return min(digits, 2)
    decimals = digits
    # A small value keeps one significant digit (0.004, not 0.00), up to three more decimals.
    while decimals < digits + 3 and round(magnitude, decimals) == 0:
        decimals += 1
    return decimals


def plain_value(value: float, digits: int = 3) -> str:
    """A number as a student reads it, never in scientific notation: 0.123, −1.50, 12.3, 1,234.

    `digits` decimals below 1 (at most two from 1 to 10); a small value keeps one significant
    digit (0.004 with digits=2) up to `digits + 3` decimals; anything smaller is written as
    zero with those decimals ("0.00000"), and `tiny_value_note` says what it really is.
    """
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.{_plain_decimals(magnitude, digits)}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def tiny_value_note(value: float, digits: int = 3) -> str:
    """Why plain_value wrote a non-zero `value` as zero ("shown as 0.00000 because it is
    3e-07"), or "" when it did not."""
    value = float(value)
    if value == 0 or not math.isfinite(value) or round(abs(value), digits + 3) != 0:
        return ""
    return f"shown as {plain_value(value, digits)} because it is {value:.0e}"


def format_duration(seconds: float | None) -> str:
    """'0:42', '12:05', '1:02:10'; '–' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
