"""Image folders: one subfolder per class, optionally inside train/, val/ (validation/), test/.

The scan opens every file's header (no pixel decoding), so unreadable or non-image files are
found and counted before training starts, and the result is just a list of paths per split:
`FileSplit` decodes the images while batches are drawn. Class names are the class folder
names sorted alphabetically, as Keras's `image_dataset_from_directory` sorts them, so a
two-class folder gives labels 0 and 1 in the same order Keras would.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from cnnviz.core.data.data_splits import FileSplit
from cnnviz.core.data.dataset_types import DEFAULT_FOLDER_SIZE, LoadReport, SourceParts
from cnnviz.core.errors import DatasetError
from cnnviz.core.data.image_decoding import (LARGE_IMAGE_PIXELS, ImageHeader, ImageProblem,
                                             probe_image)

ProgressCallback = Callable[[str, int, int], None]

# Folder names (lower case) that mean "this is a split, not a class".
SPLIT_FOLDERS = {"train": "train", "training": "train", "val": "validation",
                 "valid": "validation", "validation": "validation", "test": "test",
                 "testing": "test"}
_PROGRESS_EVERY = 200
MAX_FAILURE_NOTES = 10


@dataclass
class _ScannedSplit:
    folder: Path
    paths: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (width, height) from the header
    headers: list[ImageHeader] = field(default_factory=list)  # how FileSplit decodes each file


def _visible_entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        raise DatasetError(
            f"The folder {folder} could not be read ({exc.strerror or exc}).") from None


def _subfolders(folder: Path) -> list[str]:
    return [e.name for e in _visible_entries(folder) if e.is_dir()]


def _files_under(folder: Path) -> list[str]:
    """Every visible file below `folder` (class folders may have their own subfolders)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(os.path.join(dirpath, f) for f in sorted(filenames) if not f.startswith("."))
    return found


def _split_layout(root: Path) -> dict[str, Path] | None:
    """{"train": path, "validation": path?, "test": path?} if root uses split folders."""
    splits: dict[str, Path] = {}
    for name in _subfolders(root):
        role = SPLIT_FOLDERS.get(name.lower())
        if role and role not in splits:
            splits[role] = root / name
    if not splits:
        return None
    if "train" not in splits:
        # "test/" alone is more likely a class called test than a missing train folder,
        # unless its own subfolders look like classes and nothing else is there.
        others = [n for n in _subfolders(root) if n.lower() not in SPLIT_FOLDERS]
        if others:
            return None
        raise DatasetError(
            f"{root} has {', '.join(p.name + '/' for p in splits.values())} but no train/ folder. "
            "Put the training images in train/<class name>/.")
    return splits


def _list_split(folder: Path, class_names: list[str]) -> list[tuple[int, list[str]]]:
    """[(label, files)] for the class folders present in one split folder."""
    return [(label, _files_under(folder / name)) for label, name in enumerate(class_names)
            if (folder / name).is_dir()]


def _scan_split(folder: Path, listing: list[tuple[int, list[str]]], report: LoadReport,
                counter: list[int], total: int,
                on_progress: ProgressCallback | None) -> _ScannedSplit:
    scanned = _ScannedSplit(folder)
    for label, paths in listing:
        for path in paths:
            counter[0] += 1
            if on_progress and counter[0] % _PROGRESS_EVERY == 0:
                on_progress("Checking images", counter[0], total)
            try:
                header = probe_image(path)
            except ImageProblem as problem:
                report.add_skipped(path, str(problem))
                continue
            except OSError as exc:
                report.add_skipped(path, f"could not be read ({exc.strerror or exc})")
                continue
            scanned.paths.append(path)
            scanned.labels.append(label)
            scanned.sizes.append((header.width, header.height))
            scanned.headers.append(header)
    return scanned


def _check_classes(split_name: str, folder: Path, scanned: _ScannedSplit,
                   class_names: list[str], required: bool) -> None:
    counts = Counter(scanned.labels)
    where = f" (in {folder.name}/)" if split_name != "" else ""
    empty = [name for i, name in enumerate(class_names)
             if counts[i] == 0 and (required or (folder / name).is_dir())]
    if empty:
        listed = ", ".join(f"'{n}'" for n in empty)
        raise DatasetError(
            f"The class folder{'s' if len(empty) > 1 else ''} {listed}{where} "
            f"{'have' if len(empty) > 1 else 'has'} no readable images. Add images, or remove "
            "the folder so it is not a class.")


def load_image_folder(root: Path, options_target: tuple[int, int] | None, color_mode: str,
                      seed: int, name: str | None = None,
                      on_progress: ProgressCallback | None = None) -> SourceParts:
    """Scan an image folder into FileSplits (nothing is decoded). Raises DatasetError.

    options_target is (height, width) or None for 64×64; color_mode is "rgb" or "grayscale".
    """
    size = tuple(options_target) if options_target else DEFAULT_FOLDER_SIZE
    height, width = int(size[0]), int(size[1])
    channels = 1 if color_mode == "grayscale" else 3
    report = LoadReport()

    layout = _split_layout(root)
    split_folders = layout if layout is not None else {"train": root}
    if layout is not None:
        beside = [n for n in _subfolders(root) if n.lower() not in SPLIT_FOLDERS]
        if beside:
            report.notes.append(f"Folders beside train/ were ignored: {', '.join(beside)}.")
    class_names = _subfolders(split_folders["train"])
    if not class_names:
        loose = [e for e in _visible_entries(split_folders["train"]) if e.is_file()]
        detail = (f"it holds {len(loose):,} loose files but no class subfolders" if loose
                  else "it is empty")
        raise DatasetError(
            f"No images found in {split_folders['train']}: {detail}. Put each class's images in "
            "its own subfolder, e.g. photos/cats/*.jpg and photos/dogs/*.jpg.")
    for role, folder in split_folders.items():
        if role == "train":
            continue
        strangers = [c for c in _subfolders(folder) if c not in class_names]
        if strangers:
            raise DatasetError(
                f"{folder.name}/ has class folders that train/ does not: "
                f"{', '.join(strangers)}. Every class needs training images.")

    listings = {role: _list_split(folder, class_names) for role, folder in split_folders.items()}
    files_total = sum(len(paths) for listing in listings.values() for _, paths in listing)
    counter = [0]
    scanned = {role: _scan_split(split_folders[role], listing, report, counter, files_total,
                                 on_progress)
               for role, listing in listings.items()}
    for folder in split_folders.values():
        loose_files = sum(1 for e in _visible_entries(folder) if e.is_file())
        if loose_files:
            plural = "s" if loose_files != 1 else ""
            report.notes.append(f"{loose_files:,} file{plural} directly in {folder} "
                                "ignored: images must be inside a class folder.")
    if on_progress:
        on_progress("Checking images", files_total, files_total)

    if not any(s.paths for s in scanned.values()):
        problem = (f"none of its {files_total:,} files could be read as an image"
                   if files_total else "its class folders are empty")
        raise DatasetError(f"No images found in {root}: {problem}. Supported formats: PNG, JPEG, "
                           "BMP, GIF (also WebP, TIFF).")
    if len(class_names) < 2:
        raise DatasetError(
            f"{split_folders['train']} has only one class folder ('{class_names[0]}'). "
            "A classifier needs at least two: put each class's images in its own subfolder.")
    for role, split in scanned.items():
        _check_classes("" if layout is None else role, split.folder, split, class_names,
                       required=(role == "train"))

    all_sizes = [s for split in scanned.values() for s in split.sizes]
    report.resized = sum(1 for w, h in all_sizes if (w, h) != (width, height))
    large = [(w, h) for w, h in all_sizes if w * h > LARGE_IMAGE_PIXELS]
    if large:
        biggest = max(large, key=lambda wh: wh[0] * wh[1])
        report.notes.append(
            f"{len(large):,} very large image{'s' if len(large) != 1 else ''} (up to "
            f"{biggest[0]:,}×{biggest[1]:,} pixels) will be shrunk each time "
            f"{'they are' if len(large) != 1 else 'it is'} read, which is slow; shrinking them "
            "once with an image editor makes training faster.")
    if len({(w, h) for w, h in all_sizes}) > 1:
        report.notes.append(f"The images have different sizes; all are resized to "
                            f"{height}×{width}.")

    failures = [0]

    def remember_failure(path: str, reason: str) -> None:
        # Called from tf.data's threads; the first few are named, then they are only counted.
        failures[0] += 1
        if failures[0] <= MAX_FAILURE_NOTES:
            report.notes.append(f"{path} could not be decoded ({reason}); a blank image was used.")
        elif failures[0] == MAX_FAILURE_NOTES + 1:
            report.notes.append("More images could not be decoded; blank images were used.")

    def file_split(split: _ScannedSplit) -> FileSplit | None:
        if not split.paths:
            return None
        # A fixed, seeded order mixes the classes like the standard datasets' files, so
        # even an unshuffled pass does not see one class after another.
        order = np.random.default_rng(seed).permutation(len(split.paths))
        return FileSplit([split.paths[i] for i in order], np.asarray(split.labels)[order],
                         (height, width), channels, on_decode_failure=remember_failure,
                         headers=[split.headers[i] for i in order])

    train = file_split(scanned["train"])
    assert train is not None
    return SourceParts(
        name=name or f"{root.name} (folder)", class_names=class_names, train=train,
        validation=file_split(scanned["validation"]) if "validation" in scanned else None,
        test=file_split(scanned["test"]) if "test" in scanned else None,
        whole=(None if "test" in scanned else
               _whole_split([scanned[r] for r in ("train", "validation") if r in scanned],
                            (height, width), channels, remember_failure)),
        source_label=root.name, report=report)


def _whole_split(splits: list[_ScannedSplit], size: tuple[int, int], channels: int,
                 on_decode_failure: Callable[[str, str], None]) -> FileSplit | None:
    """Every image of a folder without test/, unshuffled, in the order Keras's
    `image_dataset_from_directory(shuffle=False)` lists them: class folders sorted, then
    each class's files sorted by (folder, name) as its `index_directory` walks them; with
    train/ and val/, all of train/ in that order, then all of val/."""
    paths: list[str] = []
    labels: list[int] = []
    headers: list[ImageHeader] = []
    for split in splits:
        keyed = sorted(zip(split.labels, split.paths, split.headers),
                       key=lambda item: (item[0], os.path.dirname(item[1]),
                                         os.path.basename(item[1])))
        labels.extend(label for label, _, _ in keyed)
        paths.extend(path for _, path, _ in keyed)
        headers.extend(header for _, _, header in keyed)
    if not paths:
        return None
    # The scanned headers tell FileSplit which files TensorFlow can decode; without them
    # every file would take the slower Pillow path.
    return FileSplit(paths, np.asarray(labels), size, channels,
                     on_decode_failure=on_decode_failure, headers=headers)
