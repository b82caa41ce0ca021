"""The offline samples shipped inside the package (cnnviz/assets/samples, see CREDITS.md there).

- mnist-sample: the real MNIST test split (10,000 digits) as IDX .gz; the first 8,000 train,
  the last 2,000 test.
- cifar10-sample: 4,000 real CIFAR-10 images as JPEGs in one stored zip, decoded into memory.
- folder-sample: a small image folder in mixed formats, read by the ordinary folder loader.
- gunpoint-sample: the UCR archive's GunPoint time series (.ts, 50 train / 150 test series
  of 150 steps, 2 classes), read by the ordinary UCR folder loader.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_files import CIFAR10_CLASSES, DIGIT_CLASSES, read_idx_folder
from cnnviz.core.data.dataset_types import LoadOptions, SourceParts
from cnnviz.core.errors import DatasetError
from cnnviz.core.data.image_decoding import ImageProblem, decode_image
from cnnviz.core.data.image_folders import load_image_folder
from cnnviz.core.data.time_series import read_series_folder

ProgressCallback = Callable[[str, int, int], None]

SAMPLE_NAMES = ("mnist-sample", "cifar10-sample", "folder-sample", "gunpoint-sample")
MNIST_SAMPLE_FOLDER = "mnist_sample"
CIFAR10_SAMPLE_ZIP = "cifar10_sample.zip"
FOLDER_SAMPLE_FOLDER = "folder_sample"
GUNPOINT_SAMPLE_FOLDER = "gunpoint"


def samples_dir() -> Path:
    """cnnviz/assets/samples, inside the installed package (package data in pyproject.toml)."""
    return Path(__file__).resolve().parents[2] / "assets" / "samples"


def _asset(name: str) -> Path:
    path = samples_dir() / name
    if not path.exists():
        raise DatasetError(f"The bundled sample {name} is missing from this installation "
                           f"(looked in {samples_dir()}). Reinstall cnnviz.")
    return path


def load_mnist_sample(on_progress: ProgressCallback | None = None) -> SourceParts:
    """10,000 real MNIST test digits: first 8,000 for training, last 2,000 for testing."""
    parts = read_idx_folder(_asset(MNIST_SAMPLE_FOLDER), name="MNIST sample",
                            class_names=list(DIGIT_CLASSES), noun="digits",
                            test_only_train_fraction=0.8, on_progress=on_progress)
    # The reader's note explains a user's t10k-only folder; the description says it for us.
    parts.report.notes.clear()
    parts.origin_note = "from the MNIST test split"
    parts.whole = None  # a sample has its own test part: the last 2,000 digits
    return parts


def load_cifar10_sample(on_progress: ProgressCallback | None = None) -> SourceParts:
    """4,000 real CIFAR-10 images (300 train + 100 test per class), decoded into memory."""
    path = _asset(CIFAR10_SAMPLE_ZIP)
    label_of = {name: i for i, name in enumerate(CIFAR10_CLASSES)}
    pixels: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    labels: dict[str, list[int]] = {"train": [], "test": []}
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(m for m in archive.namelist() if m.lower().endswith(".jpg"))
            for done, member in enumerate(members):
                split, class_name = PurePosixPath(member).parts[:2]
                if split not in pixels or class_name not in label_of:
                    raise DatasetError(f"{path.name} has an unexpected entry {member}.")
                pixels[split].append(decode_image(archive.read(member), (32, 32), 3))
                labels[split].append(label_of[class_name])
                if on_progress and done % 500 == 0:
                    on_progress("Decoding the CIFAR-10 sample", done, len(members))
    except (zipfile.BadZipFile, OSError, ValueError, ImageProblem) as exc:
        raise DatasetError(
            f"The bundled sample {path.name} is damaged ({exc}). Reinstall cnnviz.") from None
    if not pixels["train"] or not pixels["test"]:
        raise DatasetError(f"The bundled sample {path.name} is incomplete. Reinstall cnnviz.")
    if on_progress:
        on_progress("Decoding the CIFAR-10 sample", len(members), len(members))
    splits = {}
    for split in ("train", "test"):
        # Mix the classes (the zip lists them one after another), as the real batches are mixed.
        order = np.random.default_rng(0).permutation(len(labels[split]))
        splits[split] = ArraySplit(np.stack(pixels[split])[order], np.asarray(labels[split])[order])
    return SourceParts(name="CIFAR-10 sample", class_names=list(CIFAR10_CLASSES),
                       train=splits["train"], test=splits["test"],
                       origin_note="real CIFAR-10 images")


def load_folder_sample(target_size: tuple[int, int] | None, color_mode: str, seed: int,
                       on_progress: ProgressCallback | None = None) -> SourceParts:
    """The small example image folder, through the same loader as a user's own folder."""
    parts = load_image_folder(_asset(FOLDER_SAMPLE_FOLDER), target_size, color_mode, seed,
                              name="Example image folder", on_progress=on_progress)
    parts.origin_note = "small CIFAR-10 photos in mixed formats, an example image folder"
    parts.whole = None  # a sample behaves like the others: train, validation, and no whole
    return parts


def load_gunpoint_sample(options: LoadOptions) -> SourceParts:
    """The UCR archive's GunPoint (Ratanamahatana and Keogh): 50 training and 150 test series
    of 150 steps in two classes (labelled 1 and 2), through the ordinary UCR folder reader
    (options.z_normalize applies; the archive's series are z-normalised already)."""
    parts = read_series_folder(_asset(GUNPOINT_SAMPLE_FOLDER), options)
    parts.name = "GunPoint sample"
    parts.origin_note = "; ".join(note for note in ("the UCR archive's GunPoint",
                                                     parts.origin_note) if note)
    return parts
