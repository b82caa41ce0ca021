"""Which images evaluate and explain measure, and how the output names them.

    measured_split(dataset)          → "all" for a folder of class folders, "test" for MNIST
    measured_split(dataset, "train") → "train" (or DatasetError naming the parts that exist)
    split_phrase(dataset, "all")     → "all 10,000 images of photos"

A source with no test part of its own (a folder of class folders, MNIST's t10k files, an
x/y .npz, a lone CIFAR-10 test_batch) is the evaluation set itself: by default all of it
is measured, in its own order, so image 7 is the source's image 7. Otherwise the test part,
else validation, else train.
"""

from __future__ import annotations

from cnnviz.core.data.dataset_types import SPLIT_NAMES, Dataset
from cnnviz.core.errors import DatasetError

__all__ = ["SPLIT_WORDS", "available_splits", "measured_split", "split_phrase"]

# How a split is named in a sentence ("the 2,000 test digits").
SPLIT_WORDS = {"all": "all", "test": "test", "validation": "validation", "train": "training"}


def available_splits(dataset: Dataset) -> list[str]:
    """The splits that hold images, in the order "all", "test", "validation", "train"."""
    present = []
    for name in SPLIT_NAMES:
        data = dataset.split(name)
        if data is not None and data.count > 0:
            present.append(name)
    return present


def measured_split(dataset: Dataset, requested: str | None = None) -> str:
    """The split to evaluate or explain: `requested` when the dataset has it, else (None)
    the whole source when it is one, else test, else validation, else train.

    Raises DatasetError when `requested` is not a split of this dataset, naming those it has.
    """
    present = available_splits(dataset)
    if requested is None:
        return present[0] if present else "train"
    if requested not in SPLIT_NAMES:
        raise DatasetError(f"There is no split called '{requested}': use "
                           f"{', '.join(SPLIT_NAMES[:-1])} or {SPLIT_NAMES[-1]}.")
    if requested in present:
        return requested
    if not present:
        raise DatasetError(f"{dataset.name} has no images.")
    listed = [f"{name} ({dataset.split(name).count:,})"  # type: ignore[union-attr]
              for name in present]
    choices = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"
    if requested == "all":
        # "all" means a source that is one evaluation set; this one has parts of its own.
        raise DatasetError(f"{dataset.name} has a test part of its own, so it is measured by "
                           f"its parts, not all at once. Choose {choices}.")
    raise DatasetError(f"{dataset.name} has no {requested} split. Choose {choices}.")


def split_phrase(dataset: Dataset, split: str) -> str:
    """The images of a split in words: "all 10,000 images of photos", "the 2,000 test digits
    of MNIST sample", "the 1 validation image of tiny"."""
    data = dataset.split(split)
    count = 0 if data is None else data.count
    noun = dataset.noun or "images"
    if count == 1 and noun.endswith("s") and noun != "series":
        noun = noun[:-1]
    if split == "all":
        return f"all {count:,} {noun} of {dataset.source_label or dataset.name}"
    return f"the {count:,} {SPLIT_WORDS.get(split, split)} {noun} of {dataset.name}"
