"""Tiny dataset files in the real formats (IDX, npz, CIFAR pickles and tar.gz, image folders).

Every writer produces what the real thing looks like byte for byte, only with fewer
examples, so the loaders under test cannot tell the difference.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file: 0x0000, type 0x08 (ubyte), ndim, big-endian dims, then the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def digits(count: int, seed: int = 0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Random 'digits': images (count, size, size) uint8 whose mean brightness encodes the label."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.uint8) % 10
    rng.shuffle(labels)
    images = (labels[:, None, None] * 25 + rng.integers(0, 5, (count, size, size))).astype(np.uint8)
    return images, labels


def write_idx_folder(folder: Path, train: int | None = 30, test: int | None = 10,
                     gz: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST-layout IDX files (train-* and/or t10k-*), gzipped or not; returns the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for prefix, count, seed in (("train", train, 1), ("t10k", test, 2)):
        if count is None:
            continue
        images, labels = digits(count, seed)
        for kind, array, dims in (("images", images, 3), ("labels", labels, 1)):
            name = f"{prefix}-{kind}-idx{dims}-ubyte" + (".gz" if gz else "")
            data = idx_bytes(array)
            (folder / name).write_bytes(gzip.compress(data, mtime=0) if gz else data)
        written[prefix] = (images, labels)
    return written


class _Python2StylePickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes bytes as Python 2 `str` opcodes, as cPickle did when CIFAR-10 was made.

    (Python 3's own protocol 2 wraps bytes in a call to _codecs.encode, a global the real
    files never use and the restricted unpickler rightly refuses.)
    """

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def python2_pickle(obj: object, numpy_module: str = "numpy.core.multiarray") -> bytes:
    """obj pickled the way Python 2 + numpy 1 wrote CIFAR-10's batches (protocol 2)."""
    buffer = io.BytesIO()
    _Python2StylePickler(buffer, protocol=2).dump(obj)
    # numpy 2 names its module numpy._core; the real files, written by numpy 1, say numpy.core.
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n",
                                     f"c{numpy_module}\n".encode())


def cifar_batch_bytes(count: int, seed: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A CIFAR-10 python batch as the real ones are: a dict with bytes keys, pickled."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, count)]
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": labels, b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(count)]}
    return python2_pickle(batch), data, np.asarray(labels)


def cifar_meta_bytes() -> bytes:
    names = [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer",
                                  "dog", "frog", "horse", "ship", "truck")]
    return python2_pickle({b"num_cases_per_batch": 10, b"label_names": names, b"num_vis": 3072})


def cifar_members(per_batch: int = 4) -> dict[str, bytes]:
    """{member name: bytes} for data_batch_1..5, test_batch and batches.meta."""
    members = {f"data_batch_{i}": cifar_batch_bytes(per_batch, i)[0] for i in range(1, 6)}
    members["test_batch"] = cifar_batch_bytes(per_batch, 9)[0]
    members["batches.meta"] = cifar_meta_bytes()
    return members


def write_cifar_folder(folder: Path, members: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (members or cifar_members()).items():
        (folder / name).write_bytes(data)
    return folder


def write_tar_gz(path: Path, members: dict[str, bytes],
                 prefix: str = "cifar-10-batches-py/") -> Path:
    """A .tar.gz with these members (names prefixed as in the real archive)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def save_image(path: Path, size: tuple[int, int] = (20, 16), mode: str = "RGB",
               colour: int | tuple = (200, 30, 30), fmt: str | None = None) -> Path:
    """One image of a flat colour; size is (width, height) as Pillow counts it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "P":
        Image.new("RGB", size, colour).convert("P", palette=Image.Palette.ADAPTIVE).save(path, fmt)
    else:
        Image.new(mode, size, colour).save(path, fmt)
    return path


def write_image_folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (20, 16),
                       suffix: str = ".png") -> Path:
    """root/<class>/<n><suffix>: flat images, a distinct brightness per class."""
    for label, (class_name, count) in enumerate(sorted(classes.items())):
        for n in range(count):
            grey = 40 + 60 * label
            save_image(root / class_name / f"{n:03d}{suffix}", size, "RGB", (grey, grey, grey))
    return root
