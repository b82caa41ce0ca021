"""Time-series sources: a UCR/UEA folder (NAME_TRAIN.* and NAME_TEST.*), one `.ts`, `.tsv`,
`.arff` or series CSV file, or the arrays of a series `.npz`, made into `SourceParts`.

    read_series_folder(Path("GunPoint"), options)     → train = GunPoint_TRAIN, test = _TEST
    read_series_file(Path("ecg.csv"), options)        → the whole file, measured all at once
    series_parts_from_arrays(...)                     → the same rules for an x/y .npz

Rules every source follows:
- Classes are the distinct labels in sorted order, numerically when every label is a number
  (as Keras's folder loader sorts its class folders); labels a `.ts`/`.arff` header declares
  count even when no series carries them.
- Series of unequal length (allowed only where the file says so, see series_formats) are
  padded with zeros at the end to the longest, after z-normalisation when it is on, so a
  padded tail sits at the series' mean. The report says how many were padded.
- Optional per-series z-normalisation (LoadOptions.z_normalize): each channel of each series
  minus its mean, divided by its standard deviation (population, ddof=0), over its own steps;
  a flat channel becomes zeros.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cnnviz.core.data.dataset_types import LoadOptions, SourceParts
from cnnviz.core.data.series_formats import (
    SeriesTable,
    parse_arff,
    parse_series_csv,
    parse_ts,
    parse_ucr_tsv,
)
from cnnviz.core.data.series_split import SeriesSplit
from cnnviz.core.errors import DatasetError

__all__ = ["SERIES_SUFFIXES", "read_series_file", "read_series_folder", "find_series_pair",
           "series_parts_from_arrays", "sorted_class_labels", "z_normalized", "is_series_file",
           "Z_NORMALIZED_NOTE"]

# In the order a folder holding several formats of one problem prefers them.
SERIES_SUFFIXES = (".ts", ".arff", ".tsv")
CSV_SUFFIXES = (".csv",)
_PAIR_NAME = re.compile(r"^(?P<name>.+)_(?P<part>TRAIN|TEST)(?P<suffix>\.(ts|arff|tsv))$",
                        re.IGNORECASE)
Z_NORMALIZED_NOTE = "z-normalised per series"


def is_series_file(path: Path) -> bool:
    """Whether the file's name says it is a time-series file cnnviz reads (.ts, .tsv, .arff,
    .csv)."""
    return path.suffix.lower() in SERIES_SUFFIXES + CSV_SUFFIXES


def _parse(path: Path, options: LoadOptions) -> SeriesTable:
    suffix = path.suffix.lower()
    if suffix == ".ts":
        return parse_ts(path)
    if suffix == ".tsv":
        return parse_ucr_tsv(path)
    if suffix == ".arff":
        return parse_arff(path)
    return parse_series_csv(path, options.label_column)


def sorted_class_labels(labels: list[str]) -> list[str]:
    """Distinct labels sorted numerically when all are numbers ("2" before "10"), else as
    text; numerically equal labels ("1" and "1.0") are one class, named as first written."""
    distinct = list(dict.fromkeys(labels))
    try:
        numbers = [float(label) for label in distinct]
    except ValueError:
        return sorted(distinct)
    if not all(np.isfinite(numbers)):
        return sorted(distinct)
    first_of: dict[float, str] = {}
    for number, label in zip(numbers, distinct):
        first_of.setdefault(number, label)
    return [first_of[number] for number in sorted(first_of)]


def _class_key(label: str, numeric: bool) -> str | float:
    return float(label) if numeric else label


def z_normalized(series: np.ndarray) -> np.ndarray:
    """One series (steps, channels) with each channel shifted to mean 0 and scaled to standard
    deviation 1 (population std); a channel with no spread becomes zeros."""
    values = np.asarray(series, dtype=np.float64)
    mean = values.mean(axis=0, keepdims=True)
    std = values.std(axis=0, keepdims=True)
    centred = values - mean
    out: np.ndarray = np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)
    return out


def _tables_to_splits(tables: list[SeriesTable], options: LoadOptions, parts_report: list[str]
                      ) -> tuple[list[str], list[SeriesSplit]]:
    """Number the classes over all tables, pad to one length, z-normalise; one split each."""
    declared: list[str] = []
    for table in tables:
        declared += table.declared_classes or []
    all_labels = declared + [label for table in tables for label in table.labels]
    classes = sorted_class_labels(all_labels)
    numeric = all(_is_number(label) for label in classes)
    index_of = {_class_key(label, numeric): i for i, label in enumerate(classes)}
    for table in tables:
        if table.declared_classes:
            allowed = {_class_key(c, numeric) for c in table.declared_classes}
            for label, line in zip(table.labels, table.lines):
                if _class_key(label, numeric) not in allowed:
                    raise DatasetError(
                        f"{table.file_label}, line {line}: the class label '{label}' is not one "
                        f"of the labels its header declares ({', '.join(table.declared_classes)}).")
    channels = tables[0].series[0].shape[1]
    for table in tables:
        for series, line in zip(table.series, table.lines):
            if series.shape[1] != channels:
                raise DatasetError(
                    f"{table.file_label}, line {line}: this series has {series.shape[1]} "
                    f"dimensions where {tables[0].file_label} has {channels}. Every series needs "
                    "the same dimensions.")
    longest = max(s.shape[0] for table in tables for s in table.series)
    padded = 0
    splits = []
    for table in tables:
        x = np.zeros((len(table.series), longest, channels), dtype=np.float32)
        for row, series in enumerate(table.series):
            values = z_normalized(series) if options.z_normalize else series
            x[row, :values.shape[0]] = values
            padded += values.shape[0] < longest
        y = np.asarray([index_of[_class_key(label, numeric)] for label in table.labels],
                       dtype=np.int64)
        splits.append(SeriesSplit(x, y))
    if padded:
        parts_report.append(f"{padded:,} series were shorter than {longest:,} steps and were "
                            "padded with zeros at the end.")
    for table in tables:
        parts_report.extend(table.notes)
    return classes, splits


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _origin(options: LoadOptions) -> str:
    return Z_NORMALIZED_NOTE if options.z_normalize else ""


def read_series_file(path: Path, options: LoadOptions) -> SourceParts:
    """One `.ts`, `.tsv`, `.arff` or CSV file: a whole set with no test part of its own, so
    evaluating and explaining measure all of it, and training carves it like any such source."""
    table = _parse(path, options)
    notes: list[str] = []
    classes, (whole,) = _tables_to_splits([table], options, notes)
    parts = SourceParts(name=table.problem_name or path.name, class_names=classes, train=whole,
                        whole=whole, noun="series", source_label=path.name,
                        origin_note=_origin(options))
    parts.report.notes.extend(notes)
    return parts


def find_series_pair(folder: Path) -> tuple[Path | None, Path | None] | None:
    """The NAME_TRAIN.* and NAME_TEST.* files of a UCR/UEA problem folder (either may be
    None), or None when the folder holds no such file. Raises DatasetError when it holds
    several problems."""
    try:
        entries = [p for p in folder.iterdir() if p.is_file()]
    except OSError:
        return None
    found: dict[str, dict[str, dict[str, Path]]] = {}
    for entry in entries:
        match = _PAIR_NAME.match(entry.name)
        if match is None:
            continue
        found.setdefault(match["name"], {}).setdefault(match["part"].upper(), {})[
            match["suffix"].lower()] = entry
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(sorted(found)[:6])
        raise DatasetError(f"{folder.name} holds the files of several problems ({names}). "
                           "Pass the folder of one problem, or one file.")
    (problem,) = found.values()

    def pick(part: str) -> Path | None:
        by_suffix = problem.get(part, {})
        for suffix in SERIES_SUFFIXES:
            if suffix in by_suffix:
                return by_suffix[suffix]
        return None

    return pick("TRAIN"), pick("TEST")


def read_series_folder(folder: Path, options: LoadOptions) -> SourceParts:
    """A UCR/UEA problem folder: NAME_TRAIN.* is the training part and NAME_TEST.* the test
    part (evaluate and explain use it). With only one of them, it is read as one file."""
    pair = find_series_pair(folder)
    if pair is None:
        raise DatasetError(f"{folder.name} holds no NAME_TRAIN / NAME_TEST series files.")
    train_path, test_path = pair
    if train_path is None or test_path is None:
        only = train_path or test_path
        assert only is not None
        parts = read_series_file(only, options)
        parts.report.notes.append(f"{folder.name} has only {only.name}: it is measured all at "
                                  "once, and training sets part of it aside.")
        return parts
    if train_path.suffix.lower() != test_path.suffix.lower():
        raise DatasetError(f"{folder.name}: {train_path.name} and {test_path.name} are in "
                           "different formats; give both parts in one format.")
    train_table, test_table = _parse(train_path, options), _parse(test_path, options)
    notes: list[str] = []
    classes, (train, test) = _tables_to_splits([train_table, test_table], options, notes)
    others = [s for s in SERIES_SUFFIXES if s != train_path.suffix.lower()
              and (folder / train_path.name.replace(train_path.suffix, s)).exists()]
    if others:
        notes.append(f"Read the {train_path.suffix} files of {folder.name} (it also holds "
                     f"{', '.join(others)} copies).")
    name = train_table.problem_name or train_path.name[:-len("_TRAIN" + train_path.suffix)]
    parts = SourceParts(name=name, class_names=classes, train=train, test=test, noun="series",
                        source_label=folder.name, origin_note=_origin(options))
    parts.report.notes.extend(notes)
    return parts


def series_parts_from_arrays(arrays: dict[str, np.ndarray], label: str, whole_only: bool,
                             options: LoadOptions) -> SourceParts:
    """A series .npz: x (n, steps) or (n, steps, channels) with labels y (numbers or text), or
    x_train/y_train with x_test/y_test (and x_val/y_val) so shaped. Classes are the sorted
    distinct labels, as for the text formats."""
    names = (("whole", "x", "y"),) if whole_only else (
        ("train", "x_train", "y_train"), ("validation", "x_val", "y_val"),
        ("test", "x_test", "y_test"))
    tables: dict[str, SeriesTable] = {}
    for role, x_key, y_key in names:
        if x_key not in arrays and y_key not in arrays:
            continue
        if x_key not in arrays or y_key not in arrays:
            raise DatasetError(f"{label} has only one of {x_key} and {y_key}; it needs both.")
        x, y = arrays[x_key], arrays[y_key]
        if x.ndim == 2:
            x = x[:, :, np.newaxis]
        if x.ndim != 3 or x.shape[1] < 1 or x.shape[2] < 1:
            raise DatasetError(f"{label}: {x_key} has shape {x.shape}; series are shaped "
                               "(count, steps) or (count, steps, channels).")
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise DatasetError(f"{label}: {x_key} holds {x.dtype} values, not numbers.")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(y) != len(x):
            raise DatasetError(f"{label}: {y_key} has shape {y.shape}; it needs one label per "
                               f"series ({len(x):,}).")
        bad = np.argwhere(~np.isfinite(x.astype(np.float64)))
        if len(bad):
            row, step, channel = (int(v) for v in bad[0])
            where = f", channel {channel + 1}" if x.shape[2] > 1 else ""
            raise DatasetError(f"{label}: {x_key}[{row}] has a missing or infinite value at "
                               f"step {step + 1}{where}. cnnviz does not fill in missing "
                               "values: fill them or drop that series, then load again.")
        if len(x) == 0:
            raise DatasetError(f"{label}: {x_key} holds no series.")
        if np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        table = SeriesTable(f"{label}: {x_key}")
        table.series = list(x.astype(np.float64))
        table.labels = [str(v) for v in y.tolist()]
        table.lines = list(range(1, len(x) + 1))
        tables[role] = table
    if not whole_only and "train" not in tables:
        raise DatasetError(f"{label} has no x_train and y_train arrays.")
    notes: list[str] = []
    roles = list(tables)
    classes, splits = _tables_to_splits([tables[r] for r in roles], options, notes)
    split_of = dict(zip(roles, splits))
    if whole_only:
        whole = split_of["whole"]
        parts = SourceParts(name=label, class_names=classes, train=whole, whole=whole,
                            noun="series", source_label=label, origin_note=_origin(options))
    else:
        parts = SourceParts(name=label, class_names=classes, train=split_of["train"],
                            validation=split_of.get("validation"), test=split_of.get("test"),
                            noun="series", source_label=label, origin_note=_origin(options))
    parts.report.notes.extend(notes)
    return parts
