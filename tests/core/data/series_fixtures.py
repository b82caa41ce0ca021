"""Tiny time-series files in the real formats: UCR/UEA .ts, UCR 2018 .tsv, UEA .arff, CSV.

Each writer lays the file out as the archives do (headers, separators, label position),
only with a few short series, and returns what a correct reader must find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def series_values(count: int, steps: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """(count, steps, channels) values with up to six decimals, as the archives print them."""
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(size=(count, steps, channels)), 6)


def _row(values: np.ndarray) -> str:
    return ",".join(repr(float(v)) for v in values)


def write_ts(path: Path, x: np.ndarray, labels: list[str], name: str = "Tiny",
             declared: list[str] | None = None, equal_length: bool = True,
             lengths: list[int] | None = None) -> Path:
    """A .ts file: comments, @ headers, @data, then 'dim1:dim2:...:label' per series.
    lengths cuts series i to lengths[i] steps (with @equalLength false)."""
    channels = x.shape[2]
    lines = ["# A tiny problem written by the tests", f"@problemName {name}",
             "@timeStamps false", "@missing false",
             f"@univariate {'true' if channels == 1 else 'false'}"]
    if channels > 1:
        lines.append(f"@dimensions {channels}")
    lines.append(f"@equalLength {'true' if equal_length else 'false'}")
    if equal_length:
        lines.append(f"@seriesLength {x.shape[1]}")
    classes = declared if declared is not None else sorted(set(labels))
    lines += [f"@classLabel true {' '.join(classes)}", "@data"]
    for i, label in enumerate(labels):
        steps = lengths[i] if lengths else x.shape[1]
        dims = [_row(x[i, :steps, c]) for c in range(channels)]
        lines.append(":".join(dims) + f":{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_tsv(path: Path, x: np.ndarray, labels: list[str],
              lengths: list[int] | None = None) -> Path:
    """A UCR 2018 .tsv: 'label<TAB>v1<TAB>v2...'; shorter series padded with NaN."""
    lines = []
    for i, label in enumerate(labels):
        values = [repr(float(v)) for v in x[i, :, 0]]
        if lengths:
            values = values[:lengths[i]] + ["NaN"] * (x.shape[1] - lengths[i])
        lines.append("\t".join([label] + values))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_arff(path: Path, x: np.ndarray, labels: list[str], name: str = "Tiny") -> Path:
    """A UEA .arff: univariate (one numeric attribute per step) or multivariate (one
    relational attribute, dimensions joined by a literal \\n inside quotes)."""
    classes = sorted(set(labels))
    steps, channels = x.shape[1], x.shape[2]
    lines = ["% written by the tests", f"@relation {name}", ""]
    if channels == 1:
        lines += [f"@attribute att{t + 1} numeric" for t in range(steps)]
    else:
        lines.append("@attribute relationalAtt relational")
        lines += [f"  @attribute t{t + 1} numeric" for t in range(steps)]
        lines.append("@end relationalAtt")
    lines += [f"@attribute target {{{','.join(classes)}}}", "", "@data"]
    for i, label in enumerate(labels):
        if channels == 1:
            lines.append(f"{_row(x[i, :, 0])},{label}")
        else:
            body = "\\n".join(_row(x[i, :, c]) for c in range(channels))
            lines.append(f"'{body}',{label}")
    path.write_text("\n".join(lines) + "\n")
    return path
