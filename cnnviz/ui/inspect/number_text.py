"""How the Inspect view writes a weight statistic: one fixed-point format for the whole view.

Students read 0.001234, not 1.234e-03. Four significant digits, at most six decimals; only a
value that would then read as zero (smaller than 0.0000005) is written as a power of ten, and
its tooltip says why.
"""

from __future__ import annotations

import math

MAX_DECIMALS = 6
SIGNIFICANT = 4


def stat_text(value: float) -> str:
    """A statistic as students read it: -0.2871, 0.01234, 0.000123, 12.35, 1234;
    1.23e-07 only for a non-zero value that six decimals would show as 0."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if is_too_small(value):
        return f"{value:.3g}"
    magnitude = abs(value)
    if magnitude >= 10 ** SIGNIFICANT:
        return f"{value:.0f}"
    decimals = min(MAX_DECIMALS, max(0, SIGNIFICANT - 1 - math.floor(math.log10(magnitude))))
    return f"{value:.{decimals}f}"


def is_too_small(value: float) -> bool:
    """A non-zero value that the fixed-point format would show as 0."""
    value = float(value)
    return value != 0 and math.isfinite(value) and round(value, MAX_DECIMALS) == 0


def stat_tooltip(value: float) -> str:
    """The value with more digits, and for a power of ten, why it is written that way."""
    value = float(value)
    if is_too_small(value):
        mantissa, exponent = f"{value:.3e}".split("e")
        return (f"{value:.3g} means {mantissa} × 10^{int(exponent)}: the value is smaller "
                f"than 0.000001 and would read 0.000000 with six decimals, so it is written "
                f"as a power of ten.")
    return f"{value:.8g}" if math.isfinite(value) else str(value)


def tick_text(value: float, step: float) -> str:
    """An axis tick with just enough decimals for its spacing (0.05, -0.1, 0.0002), in the
    same fixed-point format; a spacing finer than six decimals falls back to stat_text."""
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k" if value % 1000 == 0 else stat_text(value)
    decimals = 0
    while decimals < MAX_DECIMALS and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    if abs(round(step, decimals) - step) > step * 1e-6:
        return stat_text(value)
    return f"{value:.{decimals}f}"
