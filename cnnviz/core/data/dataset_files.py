"""Readers for the standard dataset files: Keras's mnist.npz, IDX (MNIST / Fashion-MNIST) and
CIFAR-10's python batches (the .tar.gz archive or its extracted folder).

Each reader checks what it reads (magic numbers, lengths, label counts, value ranges) and
turns every failure into one DatasetError a student can act on. Archives are read member by
member in memory; nothing is extracted to disk.
"""

from __future__ import annotations

import gzip
import io
import re
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

import numpy as np

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import LoadOptions, SourceParts
from cnnviz.core.errors import DatasetError
from cnnviz.core.data.safe_unpickle import load_restricted_pickle
from cnnviz.core.data.time_series import series_parts_from_arrays

ProgressCallback = Callable[[str, int, int], None]

DIGIT_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]

# A gzip bomb should stop with a message, not fill memory; the largest real file here
# (Fashion-MNIST's train images) is 47 MB uncompressed.
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024
# A CIFAR-10 batch is 31 MB; anything far bigger under that name is not one.
MAX_CIFAR_MEMBER_BYTES = 256 * 1024 * 1024
# NotImplementedError: zipfile's answer to a flag it does not support (encryption, say),
# which a flipped bit in a member header also produces.
_DAMAGED_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError,
                       NotImplementedError)


def _reason(exc: BaseException) -> str:
    """An exception as a short printable phrase for a message: damaged files make libraries
    quote their raw bytes, which would bury the sentence around it."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(exc).split("\n")[0])
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _listed_names(names: set[str]) -> str:
    """Array names for a message: a damaged archive's names can be any bytes, any number."""
    shown = ["".join(ch if ch.isprintable() and ch.isascii() else "?" for ch in name[:40])
             for name in sorted(names)[:6]]
    more = f" and {len(names) - 6:,} more" if len(names) > 6 else ""
    return (", ".join(shown) + more) or "nothing"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- npz


def read_npz(path: Path, name: str | None = None, class_names: list[str] | None = None,
             noun: str = "images", options: LoadOptions | None = None) -> SourceParts:
    """Read a Keras-style .npz holding x_train, y_train, x_test, y_test (x_val/y_val optional),
    or one holding only x and y: a whole set with no parts, measured all at once (training
    carves it as it carves any source without a test part).

    Its x arrays are series rather than images (see time_series.series_parts_from_arrays)
    when shaped (n, steps), or (n, steps, channels) unless they look like grayscale pictures:
    uint8 values or two equal sides, as (n, 28, 28) MNIST digits.
    """
    label = path.name
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError as exc:
        raise DatasetError(f"{label} could not be read ({exc.strerror or exc}).") from None
    if head.startswith(b"\x93NUMPY"):
        raise DatasetError(f"{label} is a single .npy array; a dataset file is a .npz holding "
                           "x_train, y_train, x_test and y_test (numpy.savez makes one).")
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise DatasetError(f"{label} is not a .npz file (a .npz is a zip archive of numpy arrays, "
                           "like Keras's mnist.npz).")
    try:
        _check_declared_array_sizes(path, label)
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            whole_only = {"x", "y"} <= keys and not keys & {"x_train", "y_train"}
            missing = [k for k in ("x_train", "y_train") if k not in keys]
            if missing and not whole_only:
                hint = ""
                if not any(k.endswith("npy") or k.startswith(("x_", "y_")) for k in keys):
                    hint = " If it is a zipped image folder, unzip it and pass the folder."
                raise DatasetError(
                    f"{label} is not a Keras dataset file: it has no {' or '.join(missing)} array "
                    f"(found: {_listed_names(keys)}). A Keras .npz holds x_train, "
                    f"y_train, x_test and y_test (or just x and y).{hint}")
            wanted = (("x", "y") if whole_only else
                      ("x_train", "y_train", "x_test", "y_test", "x_val", "y_val"))
            arrays = {k: archive[k] for k in wanted if k in keys}
            series = _holds_series(arrays.get("x" if whole_only else "x_train"))
    except DatasetError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetError(
                f"{label} holds Python objects rather than plain number arrays; cnnviz does not "
                "load those, because they could run code. Save the arrays with numpy.savez."
            ) from None
        raise DatasetError(
            f"{label} could not be read: the file is damaged or incomplete "
            f"({_reason(exc)}).") from None
    except _DAMAGED_ZIP_ERRORS as exc:
        raise DatasetError(
            f"{label} could not be read as a .npz file: it is damaged or incomplete "
            f"({_reason(exc)}).") from None
    except MemoryError:
        raise DatasetError(f"{label} holds more data than fits in this computer's memory; use "
                           "a smaller part of it.") from None

    if series:
        return _series_npz(arrays, label, whole_only, options or LoadOptions())
    if whole_only:
        x = _as_image_array(arrays["x"], f"{label}: x")
        y = _as_label_array(arrays["y"], f"{label}: y")
        _check_counts(len(x), len(y), f"{label}: x", "y")
        if len(x) == 0:
            raise DatasetError(f"{label}: x holds no images.")
        whole = ArraySplit(x, y)
        classes = class_names or _default_class_names([whole], label)
        return SourceParts(name=name or label, class_names=classes, train=whole, whole=whole,
                           noun=noun, source_label=label)
    splits: dict[str, ArraySplit | None] = {}
    for split_name, suffix in (("train", "train"), ("validation", "val"), ("test", "test")):
        if f"x_{suffix}" in arrays and f"y_{suffix}" in arrays:
            x = _as_image_array(arrays[f"x_{suffix}"], f"{label}: x_{suffix}")
            y = _as_label_array(arrays[f"y_{suffix}"], f"{label}: y_{suffix}")
            _check_counts(len(x), len(y), f"{label}: x_{suffix}", f"y_{suffix}")
            splits[split_name] = ArraySplit(x, y)
        elif f"x_{suffix}" in arrays or f"y_{suffix}" in arrays:
            raise DatasetError(f"{label} has only one of x_{suffix} and y_{suffix}; it needs both.")
        else:
            splits[split_name] = None
    train = splits["train"]
    assert train is not None
    if train.count == 0:
        raise DatasetError(f"{label}: x_train holds no images.")
    _check_same_shapes(label, train, splits["validation"], splits["test"])
    present = [s for s in splits.values() if s is not None]
    classes = class_names or _default_class_names(present, label)
    return SourceParts(name=name or label, class_names=classes, train=train,
                       validation=splits["validation"], test=splits["test"], noun=noun)


def _holds_series(x: np.ndarray | None) -> bool:
    if x is None:
        return False
    if x.ndim == 2:
        return True
    return x.ndim == 3 and x.dtype != np.uint8 and x.shape[1] != x.shape[2]


def _series_npz(arrays: dict[str, np.ndarray], label: str, whole_only: bool,
                options: LoadOptions) -> SourceParts:
    parts = series_parts_from_arrays(arrays, label, whole_only, options)
    x = arrays["x" if whole_only else "x_train"]
    if x.ndim == 3:
        parts.report.notes.append(
            f"{label}: x is read as {x.shape[0]:,} series of {x.shape[1]:,} steps with "
            f"{x.shape[2]} channel{'' if x.shape[2] == 1 else 's'} (count, steps, channels).")
    return parts


def _check_declared_array_sizes(path: Path, label: str) -> None:
    """Each .npy member's header must describe no more data than the member holds.

    numpy allocates what a header declares before reading a byte of it, so a few-byte file
    claiming (2**40,) values would otherwise fail with MemoryError or take the memory.
    """
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                except _DAMAGED_ZIP_ERRORS:
                    raise
                except Exception as exc:  # noqa: BLE001 - numpy's header parser raises tokenize errors too
                    raise DatasetError(
                        f"{label} is damaged: the header of its array {info.filename[:-4]} "
                        f"cannot be read ({type(exc).__name__}).") from None
                data_bytes = info.file_size - member.tell()
            if dtype.hasobject:
                continue  # pickled objects: np.load refuses them with its own message
            declared = dtype.itemsize
            for side in shape:
                declared *= side
            if declared > data_bytes:
                raise DatasetError(
                    f"{label} is damaged: its array {info.filename[:-4]} declares "
                    f"{'×'.join(map(str, shape)) or 'one'} values ({declared:,} bytes) but holds "
                    f"only {max(data_bytes, 0):,} bytes. Save the arrays again with numpy.savez.")


def _as_image_array(x: np.ndarray, what: str) -> np.ndarray:
    """uint8 (N, H, W, C) from (N, H, W) or (N, H, W, 1|3) arrays of bytes or [0, 1] floats."""
    if x.ndim == 3:
        x = x[:, :, :, np.newaxis]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise DatasetError(f"{what} has shape {x.shape}; expected images shaped (count, height, "
                           "width) or (count, height, width, 1 or 3).")
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating):
        peak = float(np.nanmax(x)) if x.size else 0.0
        scale = 255.0 if peak <= 1.0 else 1.0
        return np.asarray(np.clip(np.nan_to_num(x) * scale, 0, 255).round().astype(np.uint8))
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DatasetError(f"{what} has pixel values outside 0..255.")
        return x.astype(np.uint8)
    raise DatasetError(f"{what} holds {x.dtype} values, not pixel numbers.")


def _as_label_array(y: np.ndarray, what: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(f"{what} has shape {y.shape}; labels should be one number per image. "
                           "(One-hot labels are not supported: use class numbers.)")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and y.size and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise DatasetError(f"{what} holds {y.dtype} values; labels must be whole "
                               "class numbers.")
    if y.size and y.min() < 0:
        raise DatasetError(f"{what} has negative labels; classes are numbered from 0.")
    return y.astype(np.int64)


def _check_counts(images: int, labels: int, image_what: str, label_what: str) -> None:
    if images != labels:
        raise DatasetError(
            f"{image_what} has {_plural(images, 'image')} but {label_what} has "
            f"{_plural(labels, 'label')}; every image needs exactly one label.")


def _check_same_shapes(label: str, *splits: ArraySplit | None) -> None:
    shapes = {s.image_shape for s in splits if s is not None}
    if len(shapes) > 1:
        listed = ", ".join("×".join(map(str, s)) for s in sorted(shapes))
        raise DatasetError(f"{label}: its splits hold images of different shapes ({listed}).")


def _default_class_names(splits: list[ArraySplit], label: str) -> list[str]:
    top = max(int(s.labels().max()) for s in splits if s.count)
    if top > 999:
        raise DatasetError(f"{label} has a label {top}; class numbers above 999 look like "
                           "a mistake.")
    return [str(i) for i in range(top + 1)]


# --------------------------------------------------------------------------- IDX

IDX_NAME = re.compile(r"^(train|t10k)-(images|labels)[.-]idx([13])-ubyte(\.gz)?$", re.IGNORECASE)
_IMAGES_MAGIC, _LABELS_MAGIC = 0x00000803, 0x00000801


def read_maybe_gzipped(path: Path) -> bytearray:
    """An IDX file's bytes, gunzipped if it starts with gzip's magic number (whatever its name).

    Only as many bytes as the IDX header declares (plus one, to notice extra data) are read,
    so a small .gz that unzips to gigabytes stops after the header's size, and a header
    declaring more than MAX_DECOMPRESSED_BYTES is refused before anything is allocated.
    """
    try:
        with open(path, "rb") as handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
            handle.seek(0)
            if not gzipped:
                return _read_declared_idx(handle, path.name)
            with gzip.GzipFile(fileobj=handle) as unzipped:
                return _read_declared_idx(unzipped, path.name)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path.name} could not be unzipped: the .gz file is damaged or "
                           f"incomplete ({_reason(exc)}). Download it again.") from None
    except OSError as exc:
        raise DatasetError(f"{path.name} could not be read ({exc.strerror or exc}).") from None


def _read_up_to(stream: io.BufferedIOBase, count: int) -> bytearray:
    """Up to `count` bytes (fewer only where the stream ends), read in chunks: memory follows
    the data actually there, not what a header claims."""
    data = bytearray()
    while len(data) < count:
        chunk = stream.read(min(count - len(data), 4 << 20))
        if not chunk:
            break
        data += chunk
    return data


def _read_declared_idx(stream: io.BufferedIOBase, file_label: str) -> bytearray:
    """The IDX header, then at most one byte more than the values it declares."""
    data = _read_up_to(stream, 4)
    if len(data) < 4 or struct.unpack(">I", data)[0] not in (_IMAGES_MAGIC, _LABELS_MAGIC):
        return data  # parse_idx names what is wrong with it
    if len(data) == 4:
        data += _read_up_to(stream, 4 * data[3])
    if len(data) < 4 or len(data) < 4 + 4 * data[3]:
        return data  # parse_idx says it is too short, or ends inside its header
    declared = 1
    for side in struct.unpack(f">{data[3]}I", data[4:]):
        declared *= side
    if declared > MAX_DECOMPRESSED_BYTES:
        raise DatasetError(f"{file_label} declares {declared:,} values, more than "
                           f"{MAX_DECOMPRESSED_BYTES // 2**20} MB; it is not an MNIST-style file.")
    data += _read_up_to(stream, declared + 1)  # +1 byte to notice extra data
    return data


def parse_idx(data: bytes | bytearray, file_label: str, expect_images: bool) -> np.ndarray:
    """The array inside an IDX file: images (N, H, W) or labels (N,), uint8. Raises DatasetError."""
    kind, magic = ("image", _IMAGES_MAGIC) if expect_images else ("label", _LABELS_MAGIC)
    if len(data) < 4:
        raise DatasetError(f"{file_label} is too short to be an IDX {kind} file "
                           f"({len(data)} bytes): it is empty or truncated.")
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        what = {_IMAGES_MAGIC: " (that is an image file)", _LABELS_MAGIC: " (that is a label file)"}
        raise DatasetError(
            f"{file_label} is not an IDX {kind} file: it starts with magic number 0x{found:08X}"
            f"{what.get(found, '')}, but an IDX {kind} file starts with 0x{magic:08X}.")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{file_label} is truncated: it ends inside its header.")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    # Both accepted magic numbers say "unsigned bytes", so one value is one byte.
    expected = int(np.prod(dims, dtype=np.int64))
    found_bytes = len(data) - header
    if found_bytes != expected:
        problem = "is truncated" if found_bytes < expected else "has extra data at its end"
        raise DatasetError(
            f"{file_label} {problem}: its header promises {', '.join(map(str, dims))} values "
            f"({expected:,} bytes) but it holds {found_bytes:,} bytes. Download it again.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_pair(images_path: Path, labels_path: Path) -> ArraySplit:
    """One split from an IDX image file and its IDX label file."""
    x = parse_idx(read_maybe_gzipped(images_path), images_path.name, expect_images=True)
    y = parse_idx(read_maybe_gzipped(labels_path), labels_path.name, expect_images=False)
    _check_counts(len(x), len(y), images_path.name, labels_path.name)
    return ArraySplit(x[:, :, :, np.newaxis], y.astype(np.int64))


def find_idx_files(folder: Path) -> dict[tuple[str, str], Path]:
    """{("train"|"t10k", "images"|"labels"): path} for the IDX files in a folder."""
    found: dict[tuple[str, str], Path] = {}
    for entry in sorted(folder.iterdir()):
        match = IDX_NAME.match(entry.name)
        if match and entry.is_file():
            key = (match.group(1).lower(), match.group(2).lower())
            # Prefer the uncompressed copy when someone keeps both: no need to gunzip.
            if key not in found or found[key].suffix.lower() == ".gz":
                found[key] = entry
    return found


def read_idx_folder(folder: Path, name: str | None = None, class_names: list[str] | None = None,
                    noun: str = "images", test_only_train_fraction: float = 0.8,
                    on_progress: ProgressCallback | None = None) -> SourceParts:
    """Read train-*/t10k-* IDX files (gzipped or not) from a folder.

    A folder with only the t10k (test) files has no training data of its own: its first
    `test_only_train_fraction` of examples become train and the rest test, and a note says so.
    """
    found = find_idx_files(folder)
    splits: dict[str, ArraySplit] = {}
    for prefix in ("train", "t10k"):
        images, labels = found.get((prefix, "images")), found.get((prefix, "labels"))
        if images is None and labels is None:
            continue
        if images is None or labels is None:
            have, need = (images, "labels") if images is not None else (labels, "images")
            assert have is not None  # one of the two was found, or the loop went on
            raise DatasetError(f"{folder.name}: found {have.name} but no matching {prefix}-{need} "
                               f"IDX file beside it; both are needed.")
        if on_progress:
            on_progress(f"Reading {images.name}", len(splits), 2)
        splits[prefix] = read_idx_pair(images, labels)
    if not splits:
        raise DatasetError(f"{folder.name} holds no IDX files "
                           "(train-images-idx3-ubyte.gz and friends).")
    train, test = splits.get("train"), splits.get("t10k")
    whole: ArraySplit | None = None
    notes: list[str] = []
    if train is None:
        assert test is not None
        cut = int(round(test.count * test_only_train_fraction))
        if cut < 1 or cut >= test.count:
            raise DatasetError(f"{folder.name}: {test.count} test examples are too few to split.")
        notes.append(f"This folder holds only the test files (t10k-...): evaluating measures "
                     f"all {test.count:,} of them; for training, the first {cut:,} are used for "
                     f"training and the last {test.count - cut:,} for testing.")
        whole = test  # the test set itself: evaluate and explain measure all of it
        train, test = test.subset(range(cut)), test.subset(range(cut, test.count))
    _check_same_shapes(folder.name, train, test)
    if class_names is None:
        top_label = max(int(s.labels().max()) for s in (train, test) if s is not None and s.count)
        if top_label > 9:
            class_names = [str(i) for i in range(top_label + 1)]
        elif "fashion" in str(folder).lower():
            class_names = FASHION_CLASSES
        else:
            class_names, noun = DIGIT_CLASSES, "digits"
    parts = SourceParts(name=name or f"{folder.name} (IDX)", class_names=class_names,
                        train=train, test=test, whole=whole, noun=noun, source_label=folder.name)
    parts.report.notes.extend(notes)
    return parts


# --------------------------------------------------------------------------- CIFAR-10

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_MEMBERS = CIFAR_TRAIN_BATCHES + ("test_batch", "batches.meta")
CIFAR_FOLDER_NAME = "cifar-10-batches-py"
# A batch file passed on its own (its name, lower case).
CIFAR_BATCH_FILES = CIFAR_TRAIN_BATCHES + ("test_batch",)


def _cifar_batch(data: bytes, file_label: str) -> ArraySplit:
    batch = load_restricted_pickle(data, file_label)
    if not isinstance(batch, dict):
        raise DatasetError(f"{file_label} is not a CIFAR-10 batch "
                           f"(it holds a {type(batch).__name__}).")
    pixels = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(pixels, np.ndarray) or labels is None:
        raise DatasetError(f"{file_label} is not a CIFAR-10 batch: it lacks 'data' or 'labels'. "
                           "(CIFAR-100 files are not supported.)")
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{file_label}: its 'data' is {pixels.dtype} {pixels.shape}, not uint8 "
                           "rows of 3,072 pixel values.")
    try:
        y = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError, OverflowError):
        raise DatasetError(f"{file_label}: its 'labels' are not class numbers.") from None
    _check_counts(len(pixels), len(y), file_label, "its label list")
    if y.size and (y.min() < 0 or y.max() > 9):
        raise DatasetError(f"{file_label} has labels outside 0..9.")
    # Rows are stored as 1,024 red, then green, then blue values; Keras wants (32, 32, 3).
    x = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return ArraySplit(x, y)


def _cifar_class_names(meta: bytes | None, file_label: str) -> list[str]:
    if meta is None:
        return list(CIFAR10_CLASSES)
    loaded = load_restricted_pickle(meta, file_label)
    names = loaded.get(b"label_names") if isinstance(loaded, dict) else None
    if isinstance(names, list) and len(names) == 10 and all(isinstance(n, bytes) for n in names):
        return [n.decode("utf-8", "replace") for n in names]
    return list(CIFAR10_CLASSES)


def _cifar_test_only(members: dict[str, bytes], source_label: str,
                     test_only_train_fraction: float = 0.8) -> SourceParts:
    """CIFAR-10's test_batch alone: the whole set to evaluate; training carves it like t10k."""
    whole = _cifar_batch(members["test_batch"], f"{source_label}: test_batch")
    cut = int(round(whole.count * test_only_train_fraction))
    if cut < 1 or cut >= whole.count:
        raise DatasetError(f"{source_label}: {whole.count} test images are too few to split.")
    parts = SourceParts(name="CIFAR-10", train=whole.subset(range(cut)),
                        test=whole.subset(range(cut, whole.count)), whole=whole,
                        source_label=source_label,
                        class_names=_cifar_class_names(members.get("batches.meta"),
                                                       f"{source_label}: batches.meta"))
    parts.report.notes.append(
        f"{source_label} holds only CIFAR-10's test_batch: evaluating measures all "
        f"{whole.count:,} of its images; for training, the first {cut:,} are used for training "
        f"and the last {whole.count - cut:,} for testing.")
    return parts


def _cifar_parts(members: dict[str, bytes], source_label: str,
                 on_progress: ProgressCallback | None) -> SourceParts:
    present = [b for b in CIFAR_TRAIN_BATCHES if b in members]
    if not present and "test_batch" in members:
        return _cifar_test_only(members, source_label)
    if not present:
        raise DatasetError(
            f"{source_label} holds no CIFAR-10 training batches (data_batch_1 ... data_batch_5). "
            "Pass CIFAR-10's python version: cifar-10-python.tar.gz or its extracted folder.")
    train_batches = []
    for done, batch_name in enumerate(present):
        if on_progress:
            on_progress("Reading CIFAR-10 batches", done, len(present) + 1)
        train_batches.append(_cifar_batch(members[batch_name], f"{source_label}: {batch_name}"))
    train = ArraySplit(np.concatenate([b.x for b in train_batches]),
                       np.concatenate([b.labels() for b in train_batches]))
    test = (_cifar_batch(members["test_batch"], f"{source_label}: test_batch")
            if "test_batch" in members else None)
    if on_progress:
        on_progress("Reading CIFAR-10 batches", len(present) + 1, len(present) + 1)
    parts = SourceParts(name="CIFAR-10", train=train, test=test,
                        whole=train if test is None else None, source_label=source_label,
                        class_names=_cifar_class_names(members.get("batches.meta"),
                                                       f"{source_label}: batches.meta"))
    missing = [b for b in CIFAR_TRAIN_BATCHES if b not in members]
    if missing:
        parts.report.notes.append(f"{', '.join(missing)} missing: using {len(present)} of 5 "
                                  "training batches.")
    if test is None:
        parts.report.notes.append("test_batch is missing: there is no test split.")
    return parts


def read_cifar_archive(path: Path, on_progress: ProgressCallback | None = None) -> SourceParts:
    """Read CIFAR-10 batches straight out of cifar-10-python.tar.gz (no extraction to disk).

    Refuses archives with absolute paths, '..' components or links, so a doctored archive
    cannot pass itself off as the real thing.
    """
    label = path.name
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.name.startswith(("/", "\\")) or ".." in parts or (
                        parts and ":" in parts[0]):
                    raise DatasetError(
                        f"{label} contains an entry with a path outside the archive "
                        f"('{member.name}'); cnnviz will not read it. Download CIFAR-10 again.")
                base = parts[-1] if parts else ""
                if base not in CIFAR_MEMBERS:
                    continue
                if not member.isfile():
                    raise DatasetError(f"{label}: '{member.name}' is a link or special file, not "
                                       "a CIFAR-10 batch; cnnviz will not follow it.")
                if member.size > MAX_CIFAR_MEMBER_BYTES:
                    raise DatasetError(f"{label}: '{member.name}' is {member.size:,} bytes, far "
                                       "larger than a CIFAR-10 batch.")
                if base in members:
                    raise DatasetError(f"{label} holds '{base}' twice; which one is real "
                                       "is unclear.")
                if on_progress:
                    on_progress(f"Unpacking {label}", len(members), len(CIFAR_MEMBERS))
                handle = archive.extractfile(member)
                assert handle is not None
                members[base] = handle.read()
    except DatasetError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DatasetError(f"{label} could not be read: the archive is damaged or incomplete "
                           f"({_reason(exc)}). Download it again.") from None
    return _cifar_parts(members, label, on_progress)


def find_cifar_batches_folder(folder: Path) -> Path | None:
    """The folder that holds data_batch_* / test_batch: `folder` itself or a known subfolder."""
    for candidate in (folder, folder / CIFAR_FOLDER_NAME,
                      folder / f"{CIFAR_FOLDER_NAME}-target" / CIFAR_FOLDER_NAME):
        if candidate.is_dir() and any((candidate / n).is_file()
                                      for n in CIFAR_TRAIN_BATCHES + ("test_batch",)):
            return candidate
    return None


def read_cifar_folder(folder: Path, on_progress: ProgressCallback | None = None) -> SourceParts:
    """Read an extracted cifar-10-batches-py folder."""
    members: dict[str, bytes] = {}
    for member in CIFAR_MEMBERS:
        file_path = folder / member
        if file_path.is_file():
            try:
                members[member] = file_path.read_bytes()
            except OSError as exc:
                raise DatasetError(
                    f"{file_path} could not be read ({exc.strerror or exc}).") from None
    return _cifar_parts(members, folder.name, on_progress)


def read_cifar_file(path: Path, on_progress: ProgressCallback | None = None) -> SourceParts:
    """One CIFAR-10 batch file passed on its own (test_batch, data_batch_1, ...), with
    batches.meta beside it if there is one (for the class names)."""
    members: dict[str, bytes] = {}
    for member, file_path in ((path.name.lower(), path), ("batches.meta",
                                                          path.parent / "batches.meta")):
        if member == "batches.meta" and not file_path.is_file():
            continue
        try:
            size = file_path.stat().st_size
            if size > MAX_CIFAR_MEMBER_BYTES:
                raise DatasetError(f"{file_path.name} is {size:,} bytes, far larger than a "
                                   "CIFAR-10 batch.")
            members[member] = file_path.read_bytes()
        except OSError as exc:
            raise DatasetError(
                f"{file_path} could not be read ({exc.strerror or exc}).") from None
    return _cifar_parts(members, path.name, on_progress)
