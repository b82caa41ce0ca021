"""The plain data every loader returns: options in, a `Dataset` and its `LoadReport` out.

`SourceParts` is what one reader (npz, IDX, CIFAR, image folder, sample, download) hands to
`datasets.load_dataset`, which applies the options every source shares (limit, validation
split) and writes the one-line description.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.core.data.data_splits import DataSplit

DEFAULT_FOLDER_SIZE = (64, 64)
COLOR_MODES = ("rgb", "grayscale")
MAX_SKIPPED_EXAMPLES = 10
# Every split a Dataset can have; "all" is the whole source when it has no test part.
SPLIT_NAMES = ("all", "test", "validation", "train")


@dataclass
class LoadOptions:
    """How to load a source. target_size and color_mode apply to image folders only;
    label_column and z_normalize to time series (see time_series.py)."""

    target_size: tuple[int, int] | None = None  # (height, width); None → 64×64 for folders
    color_mode: str = "rgb"  # "rgb" | "grayscale"
    validation_split: float = 0.1  # carved from train (seeded) when the source has none; 0 → none
    seed: int = 1337
    limit: int | None = None  # at most this many training examples (taken before validation)
    # A series CSV's label column: a header name, a column number from 1, "first" or "last";
    # None → the first or last column, whichever is not numbers or has fewer distinct values.
    label_column: str | None = None
    z_normalize: bool = False  # each series' channels to mean 0, standard deviation 1


@dataclass
class LoadReport:
    """What the user should be told about loading: skipped files, resized images, notes."""

    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    resized: int = 0
    notes: list[str] = field(default_factory=list)

    def add_skipped(self, path: str, reason: str) -> None:
        """Count one skipped file, keeping the first few "path: reason" lines as examples."""
        self.skipped += 1
        if len(self.skipped_examples) < MAX_SKIPPED_EXAMPLES:
            self.skipped_examples.append(f"{path}: {reason}")

    def lines(self) -> list[str]:
        """Everything above as sentences, for a dialog or the command line."""
        out: list[str] = []
        if self.skipped:
            out.append(f"Skipped {self.skipped:,} file{'s' if self.skipped != 1 else ''} "
                       "that could not be read as images:")
            out.extend(f"  {line}" for line in self.skipped_examples)
            if self.skipped > len(self.skipped_examples):
                out.append(f"  ... and {self.skipped - len(self.skipped_examples):,} more")
        if self.resized:
            out.append(f"{self.resized:,} image{'s' if self.resized != 1 else ''} "
                       "will be resized to the target size.")
        out.extend(self.notes)
        return out


@dataclass
class Dataset:
    """One loaded data source: splits, class names, input shape and what to tell the user."""

    name: str
    description: str
    class_names: list[str]
    input_shape: tuple[int, ...]  # (height, width, channels); (steps, channels) for series
    train: DataSplit
    validation: DataSplit | None
    test: DataSplit | None
    report: LoadReport = field(default_factory=LoadReport)
    # The source as the user handed it, all of it, in its own order: set exactly when the
    # source has no test part of its own (a folder of class folders, t10k files, an x/y npz,
    # a lone CIFAR test_batch). Evaluating and explaining use it; training splits as before.
    whole: DataSplit | None = None
    noun: str = "images"  # "digits" for MNIST, "series" for signals
    source_label: str = ""  # the file or folder name the user gave: "photos", "test_batch"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_series(self) -> bool:
        """True for signals (time series) shaped (steps, channels); False for images."""
        return len(self.input_shape) == 2

    def split(self, name: str) -> DataSplit | None:
        """The split called "train", "validation", "test" or "all" (the whole source, see
        `whole`); None if the source has none."""
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split {name!r}: use 'all', 'test', 'validation' or "
                             "'train'")
        return {"train": self.train, "validation": self.validation, "test": self.test,
                "all": self.whole}[name]

    def class_counts(self, split: str = "train") -> dict[str, int]:
        """Examples per class name in one split, every class listed; {} if the split is absent."""
        data = self.split(split)
        if data is None:
            return {}
        counts = np.bincount(data.labels(), minlength=self.num_classes)
        return {name: int(counts[i]) for i, name in enumerate(self.class_names)}


@dataclass
class SourceParts:
    """A reader's result before the shared options are applied."""

    name: str
    class_names: list[str]
    train: DataSplit
    validation: DataSplit | None = None
    test: DataSplit | None = None
    # The whole source in its own order, set only when it has no test part of its own
    # (see Dataset.whole); untouched by limit and the validation carve.
    whole: DataSplit | None = None
    noun: str = "images"  # "digits" reads better for MNIST
    source_label: str = ""  # the file or folder name as given; "" → name
    origin_note: str = ""  # appended to the description, e.g. "from the MNIST test split"
    report: LoadReport = field(default_factory=LoadReport)
