"""Parsers for time-series files: UCR/UEA `.ts`, UCR 2018 `.tsv`, UEA `.arff` and CSV.

Each parser reads one file into a `SeriesTable`: every series as float64 (steps, channels)
with its label text and the line it came from. Nothing is numbered or padded here (see
time_series.py). Every problem a user can cause is a DatasetError naming the file and line.

Choices, stated once:
- Missing values ("?", "NaN", an empty cell) are refused with their file, line and step:
  cnnviz does not invent values. The one exception is the UCR 2018 `.tsv` archive's own
  convention, where NaN *at the end of a row* marks a shorter series.
- Rows of different lengths are refused where the format says they are equal (`.ts` with
  `@equalLength true`, `.arff`, CSV); where it says they may differ (`.ts` with
  `@equalLength false`, NaN-padded `.tsv`) they are read as they are and padded later.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnviz.core.errors import DatasetError

__all__ = ["SeriesTable", "parse_ts", "parse_ucr_tsv", "parse_arff", "parse_series_csv",
           "MISSING_TOKENS", "MAX_SERIES_FILE_BYTES"]

MISSING_TOKENS = frozenset({"?", "nan", "na", ""})
# A text file of series this large would not fit in memory as Python lists anyway.
MAX_SERIES_FILE_BYTES = 1 << 30
_QUOTES = "'\""


@dataclass
class SeriesTable:
    """One file's labelled series before classes are numbered."""

    file_label: str                       # the file's name, for messages
    series: list[np.ndarray] = field(default_factory=list)   # float64 (steps, channels) each
    labels: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)           # 1-based line of each series
    declared_classes: list[str] | None = None                # @classLabel / nominal {a,b}
    problem_name: str | None = None                          # @problemName / @relation
    equal_length: bool = True                                 # as the file declares
    notes: list[str] = field(default_factory=list)


def _read_lines(path: Path) -> list[str]:
    try:
        size = path.stat().st_size
        if size > MAX_SERIES_FILE_BYTES:
            raise DatasetError(f"{path.name} is {size / 2**30:.1f} GB, more than cnnviz reads "
                               "as a time-series file (1 GB). Use a part of it.")
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path.name} could not be read ({exc.strerror or exc}).") from None
    if b"\x00" in raw[:4096]:
        raise DatasetError(f"{path.name} is not a text file, so it cannot be a time-series "
                           f"file ({path.suffix or 'no extension'}).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.splitlines()


def _where(file_label: str, line: int) -> str:
    return f"{file_label}, line {line}"


def _shown(token: str) -> str:
    token = "".join(ch if ch.isprintable() else "?" for ch in token.strip())
    return token if len(token) <= 24 else token[:21] + "..."


def _numbers(tokens: list[str], file_label: str, line: int, what: str = "",
             trailing_nan_ends: bool = False) -> np.ndarray:
    """float64 values of the tokens, or DatasetError naming the first bad one by step."""
    try:
        values = np.asarray(tokens, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and np.all(np.isfinite(values)):
        return values
    if values is not None and trailing_nan_ends:
        finite = np.isfinite(values)
        last = int(np.flatnonzero(finite)[-1]) + 1 if finite.any() else 0
        if finite[:last].all() and np.isnan(values[last:]).all() and last > 0:
            return values[:last]
    for step, token in enumerate(tokens, start=1):
        text = token.strip()
        if text.lower() in MISSING_TOKENS:
            raise DatasetError(
                f"{_where(file_label, line)}: {what}step {step} is a missing value "
                f"('{_shown(text)}'). cnnviz does not fill in missing values: fill them "
                "(for example by interpolating) or drop that series, then load again.")
        try:
            number = float(text)
        except ValueError:
            raise DatasetError(f"{_where(file_label, line)}: {what}step {step} is "
                               f"'{_shown(text)}', which is not a number.") from None
        if not np.isfinite(number):
            raise DatasetError(f"{_where(file_label, line)}: {what}step {step} is "
                               f"'{_shown(text)}'; every value must be a finite number.")
    raise AssertionError("unreachable: a token failed to parse but none was found")


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]:
        return text[1:-1]
    return text


# --------------------------------------------------------------------------- .ts

_TS_BOOLEAN_TAGS = ("timestamps", "missing", "univariate", "equallength")


def _ts_boolean(value: str, tag: str, file_label: str, line: int) -> bool:
    word = value.strip().lower()
    if word not in ("true", "false"):
        raise DatasetError(f"{_where(file_label, line)}: @{tag} should be true or false, "
                           f"not '{_shown(value)}'. The header is broken.")
    return word == "true"


def _ts_count(value: str, tag: str, file_label: str, line: int) -> int:
    try:
        count = int(value.strip())
    except ValueError:
        count = 0
    if count < 1:
        raise DatasetError(f"{_where(file_label, line)}: @{tag} should be a whole number of "
                           f"at least 1, not '{_shown(value)}'. The header is broken.")
    return count


def parse_ts(path: Path) -> SeriesTable:
    """A UCR/UEA `.ts` file (sktime's format): '#' comments, '@' headers, then @data with one
    series per line, its dimensions separated by ':' and its class label last."""
    label = path.name
    table = SeriesTable(label)
    header: dict[str, object] = {}
    in_data = False
    dimensions: int | None = None
    for number, raw in enumerate(_read_lines(path), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise DatasetError(f"{_where(label, number)}: series data before any @data "
                                   "line (is @data missing?). A .ts file lists its @ headers, "
                                   "then @data, then one series per line.")
            written, _, value = line[1:].partition(" ")
            tag = written.lower()
            if tag == "data":
                in_data = True
                continue
            if tag == "problemname":
                if not value.strip():
                    raise DatasetError(f"{_where(label, number)}: @problemName has no name. "
                                       "The header is broken.")
                table.problem_name = value.strip()
            elif tag in _TS_BOOLEAN_TAGS:
                header[tag] = _ts_boolean(value, written, label, number)
            elif tag in ("dimensions", "serieslength"):
                header[tag] = _ts_count(value, written, label, number)
            elif tag == "classlabel":
                words = value.split()
                if not words:
                    raise DatasetError(f"{_where(label, number)}: @classLabel should be true "
                                       "(followed by the class labels) or false. The header "
                                       "is broken.")
                has_labels = _ts_boolean(words[0], "classLabel", label, number)
                if has_labels and len(words) < 2:
                    raise DatasetError(f"{_where(label, number)}: @classLabel true lists no "
                                       "class labels. The header is broken.")
                header["classlabel"] = has_labels
                table.declared_classes = words[1:] if has_labels else None
            elif tag == "targetlabel":
                if value.strip().lower().startswith("true"):
                    raise DatasetError(f"{label} is a regression problem (@targetLabel true): "
                                       "its series have numbers to predict, not classes. "
                                       "cnnviz trains classifiers; use a classification set.")
            else:
                table.notes.append(f"{label}: ignored the unknown header line @{written} "
                                   f"(line {number}).")
            continue
        # ---- a series
        if header.get("timestamps"):
            raise DatasetError(f"{label} has time stamps (@timeStamps true); cnnviz reads "
                               "series of evenly spaced values only.")
        if header.get("classlabel") is not True:
            raise DatasetError(f"{label} has no class labels (@classLabel is missing or false), "
                               "so there is nothing to learn to classify. Use a file whose "
                               "series end in a class label.")
        if line.startswith("("):
            raise DatasetError(f"{_where(label, number)}: values in (time, value) pairs need "
                               "time stamps; cnnviz reads plain comma-separated values.")
        fields = line.split(":")
        if len(fields) < 2 or not fields[-1].strip():
            raise DatasetError(f"{_where(label, number)}: the series has no class label after "
                               "its values (each line ends in ':label').")
        dims = fields[:-1]
        if dimensions is None:
            dimensions = len(dims)
            declared = header.get("dimensions")
            if header.get("univariate") is True and dimensions != 1:
                raise DatasetError(f"{_where(label, number)}: the header says @univariate true "
                                   f"but this series has {dimensions} dimensions.")
            if declared is not None and declared != dimensions:
                raise DatasetError(f"{_where(label, number)}: the header says @dimensions "
                                   f"{declared} but this series has {dimensions}.")
        elif len(dims) != dimensions:
            raise DatasetError(f"{_where(label, number)}: this series has {len(dims)} "
                               f"dimensions where the ones before have {dimensions}. Every "
                               "series needs the same dimensions.")
        channels = []
        for index, text in enumerate(dims, start=1):
            tokens = text.split(",")
            where = f"dimension {index}, " if dimensions > 1 else ""
            channels.append(_numbers(tokens, label, number, where))
        lengths = {len(c) for c in channels}
        equal = header.get("equallength", True) is not False
        if len(lengths) > 1 and equal:
            raise DatasetError(f"{_where(label, number)}: the dimensions of this series have "
                               f"different lengths ({', '.join(str(len(c)) for c in channels)}) "
                               "but the header says @equalLength true.")
        expected = header.get("serieslength")
        steps = max(lengths)
        if equal and table.series and steps != table.series[0].shape[0]:
            raise DatasetError(f"{_where(label, number)}: this series has {steps} values where "
                               f"the first has {table.series[0].shape[0]}: a ragged row. The "
                               "header says @equalLength true, so every series needs the same "
                               "length.")
        if equal and expected is not None and steps != expected:
            raise DatasetError(f"{_where(label, number)}: this series has {steps} values but "
                               f"the header says @seriesLength {expected}.")
        table.series.append(_stack_channels(channels))
        table.labels.append(fields[-1].strip())
        table.lines.append(number)
    if not in_data:
        raise DatasetError(f"{label} has no @data line, so it holds no series. A .ts file "
                           "lists its @ headers, then @data, then one series per line.")
    table.equal_length = header.get("equallength", True) is not False
    if not table.series:
        raise DatasetError(f"{label} holds no series after @data.")
    return table


def _stack_channels(channels: list[np.ndarray]) -> np.ndarray:
    """(steps, channels), shorter channels padded with zeros at the end."""
    steps = max(len(c) for c in channels)
    out = np.zeros((steps, len(channels)), dtype=np.float64)
    for index, values in enumerate(channels):
        out[:len(values), index] = values
    return out


# --------------------------------------------------------------------------- .tsv


def parse_ucr_tsv(path: Path) -> SeriesTable:
    """A UCR 2018 archive `.tsv`: one series per line, its class label first, tab-separated.
    Variable-length sets pad their rows with NaN at the end; such a row is a shorter series."""
    label = path.name
    table = SeriesTable(label)
    width: int | None = None
    for number, raw in enumerate(_read_lines(path), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DatasetError(f"{_where(label, number)}: expected a class label and values "
                               "separated by tabs (a UCR .tsv row), found one field.")
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            raise DatasetError(f"{_where(label, number)}: {len(fields) - 1} values where the "
                               f"first row has {width - 1}: a ragged row. (A UCR .tsv pads "
                               "shorter series with NaN so every row has the same length.)")
        class_label = fields[0].strip()
        if not class_label or class_label.lower() in MISSING_TOKENS:
            raise DatasetError(f"{_where(label, number)}: the class label (first field) is "
                               "missing.")
        values = _numbers(fields[1:], label, number, trailing_nan_ends=True)
        if len(values) < width - 1:
            table.equal_length = False
        table.series.append(values[:, np.newaxis])
        table.labels.append(class_label)
        table.lines.append(number)
    if not table.series:
        raise DatasetError(f"{label} holds no series.")
    return table


# --------------------------------------------------------------------------- .arff

_ARFF_ATTRIBUTE = re.compile(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s*(.*)$", re.IGNORECASE)
_ARFF_NUMERIC = ("numeric", "real", "integer")


def _arff_nominal(kind: str) -> list[str] | None:
    kind = kind.strip()
    if not (kind.startswith("{") and kind.endswith("}")):
        return None
    return [_strip_quotes(v) for v in kind[1:-1].split(",") if v.strip()]


def _split_quoted_value(line: str) -> tuple[str, str] | None:
    """"'a\\nb',label" → ("a\\nb", "label"); None when the row does not start with a quote."""
    if not line or line[0] not in _QUOTES:
        return None
    end = line.rfind(line[0])
    if end <= 0:
        return None
    rest = line[end + 1:].strip()
    if not rest.startswith(","):
        return None
    return line[1:end], rest[1:].strip()


def parse_arff(path: Path) -> SeriesTable:
    """A UEA/UCR `.arff`: numeric attributes (one per step) and a nominal class attribute
    last, or (multivariate) one relational attribute whose rows are the dimensions, written
    as 'dim1\\ndim2...' with a literal backslash-n between dimensions."""
    label = path.name
    table = SeriesTable(label)
    attributes: list[tuple[str, str]] = []  # (name, kind) at the top level
    relational: str | None = None
    relational_steps = 0
    in_data = False
    for number, raw in enumerate(_read_lines(path), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        lower = line.lower()
        if not in_data:
            if lower.startswith("@relation"):
                table.problem_name = _strip_quotes(line[len("@relation"):]) or None
            elif lower.startswith("@attribute"):
                match = _ARFF_ATTRIBUTE.match(line)
                if match is None or not match.group(2).strip():
                    raise DatasetError(f"{_where(label, number)}: an @attribute line needs a "
                                       "name and a type. The header is broken.")
                name, kind = _strip_quotes(match.group(1)), match.group(2).strip()
                if relational is not None:
                    if kind.lower() not in _ARFF_NUMERIC:
                        raise DatasetError(f"{_where(label, number)}: attribute '{name}' inside "
                                           f"'{relational}' is {kind}; its steps must be "
                                           "numeric.")
                    relational_steps += 1
                    continue
                if kind.lower() == "relational":
                    if any(k.lower() == "relational" for _, k in attributes):
                        raise DatasetError(f"{_where(label, number)}: a second relational "
                                           "attribute; cnnviz reads one (the series).")
                    relational = name
                attributes.append((name, kind))
            elif lower.startswith("@end"):
                if relational is None:
                    raise DatasetError(f"{_where(label, number)}: @end without a relational "
                                       "attribute to end. The header is broken.")
                relational = None
            elif lower.startswith("@data"):
                if relational is not None:
                    raise DatasetError(f"{_where(label, number)}: @data before '@end "
                                       f"{relational}'. The header is broken.")
                in_data = True
                _check_arff_attributes(attributes, relational_steps, label, number)
                table.declared_classes = _arff_nominal(attributes[-1][1])
            else:
                raise DatasetError(f"{_where(label, number)}: '{_shown(line)}' is not an ARFF "
                                   "header line (@relation, @attribute, @end or @data).")
            continue
        if line.startswith("{"):
            raise DatasetError(f"{_where(label, number)}: sparse ARFF rows are not supported; "
                               "save the file with every value written out.")
        multivariate = attributes[0][1].lower() == "relational"
        if multivariate:
            parts = _split_quoted_value(line)
            if parts is None:
                raise DatasetError(f"{_where(label, number)}: expected a quoted series "
                                   "('dim1\\ndim2...') followed by a comma and the class label.")
            body, class_label = parts
            dims = body.replace("\r", "").replace("\\n", "\n").split("\n")
            channels = []
            for index, text in enumerate(dims, start=1):
                values = _numbers(text.split(","), label, number,
                                  f"dimension {index}, " if len(dims) > 1 else "")
                if len(values) != relational_steps:
                    raise DatasetError(f"{_where(label, number)}: dimension {index} has "
                                       f"{len(values)} values but the header declares "
                                       f"{relational_steps} steps: a ragged row.")
                channels.append(values)
            if table.series and len(channels) != table.series[0].shape[1]:
                raise DatasetError(f"{_where(label, number)}: this series has {len(channels)} "
                                   f"dimensions where the first has {table.series[0].shape[1]}.")
            series = np.stack(channels, axis=1)
        else:
            fields = line.split(",")
            if len(fields) != len(attributes):
                raise DatasetError(f"{_where(label, number)}: {len(fields)} fields where the "
                                   f"header declares {len(attributes)} attributes "
                                   f"({len(attributes) - 1} steps and the class): a ragged row.")
            class_label = fields[-1]
            series = _numbers(fields[:-1], label, number)[:, np.newaxis]
        class_label = _strip_quotes(class_label)
        if not class_label or class_label.lower() in MISSING_TOKENS:
            raise DatasetError(f"{_where(label, number)}: the class label is missing.")
        table.series.append(series)
        table.labels.append(class_label)
        table.lines.append(number)
    if not in_data:
        raise DatasetError(f"{label} has no @data line, so it holds no series. An .arff file "
                           "lists @relation and @attribute lines, then @data and the rows.")
    if not table.series:
        raise DatasetError(f"{label} holds no series after @data.")
    return table


def _check_arff_attributes(attributes: list[tuple[str, str]], relational_steps: int,
                           label: str, line: int) -> None:
    if len(attributes) < 2:
        raise DatasetError(f"{_where(label, line)}: the header declares "
                           f"{len(attributes)} attribute(s); a series file needs its steps and "
                           "a class attribute.")
    class_kind = attributes[-1][1]
    if _arff_nominal(class_kind) is None:
        raise DatasetError(f"{label}: the last attribute '{attributes[-1][0]}' is {class_kind}, "
                           "not a class. cnnviz needs the class last, as a nominal attribute "
                           "such as @attribute target {1,2}.")
    first_kind = attributes[0][1].lower()
    if first_kind == "relational":
        if len(attributes) != 2:
            raise DatasetError(f"{label}: a multivariate .arff should hold one relational "
                               "attribute and the class, nothing else.")
        if relational_steps < 1:
            raise DatasetError(f"{label}: the relational attribute '{attributes[0][0]}' "
                               "declares no steps.")
        return
    for name, kind in attributes[:-1]:
        if kind.lower() not in _ARFF_NUMERIC:
            raise DatasetError(f"{label}: attribute '{name}' is {kind}; every attribute "
                               "before the class must be numeric (one per step).")


# --------------------------------------------------------------------------- CSV


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    lines = _read_lines(path)
    first = next((line for line in lines if line.strip()), "")
    delimiter = "," if "," in first else ";" if ";" in first else "\t" if "\t" in first else ","
    rows = []
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            if row and any(cell.strip() for cell in row):
                rows.append((number, [cell.strip() for cell in row]))
    except csv.Error as exc:
        raise DatasetError(f"{path.name} could not be read as CSV ({exc}).") from None
    return rows


def _choose_label_column(header: list[str] | None, rows: list[tuple[int, list[str]]],
                         requested: str | None, label: str) -> tuple[int, str]:
    """The label column's index and a sentence saying how it was chosen."""
    width = len(rows[0][1])
    names = header or [f"column {i + 1}" for i in range(width)]
    if requested is not None and requested.strip():
        wanted = requested.strip()
        if header is not None:
            lowered = [h.lower() for h in header]
            if wanted in header or wanted.lower() in lowered:
                index = header.index(wanted) if wanted in header else lowered.index(wanted.lower())
                return index, "the column you named"
        if wanted.lower() in ("first", "last"):
            index = 0 if wanted.lower() == "first" else width - 1
            return index, f"the {wanted.lower()} column, as you asked"
        if wanted.isdigit() and 1 <= int(wanted) <= width:
            return int(wanted) - 1, f"column {int(wanted)}, as you asked"
        listed = ", ".join(f"'{n}'" for n in names[:8]) + (", ..." if len(names) > 8 else "")
        headed = (f"its columns are {listed}" if header is not None else
                  f"it has no header row naming its columns, and {width} columns")
        raise DatasetError(f"{label} has no label column '{_shown(wanted)}': {headed}. Name "
                           "a column from its header, give its number (1 is the first), or "
                           "write first or last.")
    first_numeric = all(_is_number(r[0]) for _, r in rows)
    last_numeric = all(_is_number(r[-1]) for _, r in rows)
    if not first_numeric and last_numeric:
        return 0, "the first column, as it is not numbers and the last is"
    if first_numeric and not last_numeric:
        return width - 1, "the last column, as it is not numbers and the first is"
    if not first_numeric:
        return 0, "the first column, as both ends hold text"
    first_distinct = len({float(r[0]) for _, r in rows})
    last_distinct = len({float(r[-1]) for _, r in rows})
    if last_distinct < first_distinct:
        return width - 1, (f"the last column, as it has fewer distinct values ({last_distinct}) "
                           f"than the first ({first_distinct})")
    return 0, (f"the first column, as it has no more distinct values ({first_distinct}) than "
               f"the last ({last_distinct})")


def parse_series_csv(path: Path, label_column: str | None = None) -> SeriesTable:
    """A CSV with one series per row and a label column: the one named by `label_column`
    (a header name, a column number from 1, "first" or "last"), else the first or the last
    column, whichever is not numbers or has fewer distinct values (the first on a tie).
    A header row is recognised when its cells are not numbers where the data's are."""
    label = path.name
    rows = _csv_rows(path)
    if not rows:
        raise DatasetError(f"{label} is empty.")
    header: list[str] | None = None
    first = rows[0][1]
    if len(rows) > 1:
        second = rows[1][1]
        text_cells = [i for i, cell in enumerate(first) if not _is_number(cell)]
        if len(text_cells) >= 2 or any(i < len(second) and _is_number(second[i])
                                       for i in text_cells):
            header = [_strip_quotes(cell) for cell in first]
            rows = rows[1:]
    elif not any(_is_number(cell) for cell in first):
        raise DatasetError(f"{label} holds only a header row and no series.")
    width = len(rows[0][1])
    for number, row in rows:
        if len(row) != width:
            raise DatasetError(f"{_where(label, number)}: {len(row)} fields where line "
                               f"{rows[0][0]} has {width}: a ragged row. Every series in a CSV "
                               "needs the same number of values.")
    if header is not None and len(header) != width:
        raise DatasetError(f"{label}: the header names {len(header)} columns but the rows have "
                           f"{width}.")
    if width < 2:
        raise DatasetError(f"{label} has one column; it needs a label column and at least one "
                           "column of values.")
    label_index, how = _choose_label_column(header, rows, label_column, label)
    value_columns = [i for i in range(width) if i != label_index]
    if not any(_is_number(rows[0][1][i]) for i in value_columns):
        raise DatasetError(f"{label} has no numeric columns besides the label column, so there "
                           "are no series values in it. A series CSV holds one series per row: "
                           "a label and then the values.")
    table = SeriesTable(label)
    column_name = header[label_index] if header else f"column {label_index + 1}"
    table.notes.append(f"{label}: the class labels are column '{column_name}', {how}; the "
                       f"other {len(value_columns)} columns are the steps. Name another label "
                       "column in the load options if that is wrong.")
    for number, row in rows:
        class_label = _strip_quotes(row[label_index])
        if not class_label or class_label.lower() in MISSING_TOKENS:
            raise DatasetError(f"{_where(label, number)}: the class label "
                               f"({column_name}) is missing.")
        values = _numbers([row[i] for i in value_columns], label, number)
        table.series.append(values[:, np.newaxis])
        table.labels.append(class_label)
        table.lines.append(number)
    return table
