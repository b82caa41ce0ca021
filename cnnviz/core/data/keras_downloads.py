"""MNIST, Fashion-MNIST and CIFAR-10 from Keras's download cache (~/.keras/datasets).

The files and their places are the ones `keras.datasets.*.load_data()` uses, so a dataset
Keras downloaded is found here and one downloaded here is found by Keras. We download
ourselves (urllib, in chunks) only to report progress in bytes; then the cached files are
read by the same readers as local files. Offline, the error names the local-file option.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from cnnviz.core.data.dataset_files import (
    CIFAR_FOLDER_NAME, DIGIT_CLASSES, FASHION_CLASSES, find_cifar_batches_folder,
    read_cifar_archive, read_cifar_folder, read_idx_folder, read_npz)
from cnnviz.core.data.dataset_types import SourceParts
from cnnviz.core.errors import DatasetError

ProgressCallback = Callable[[str, int, int], None]

KERAS_SOURCE_NAMES = ("mnist", "fashion_mnist", "cifar10")
KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_CHUNK_BYTES = 256 * 1024
_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class RemoteFile:
    """One file Keras downloads: where from, where it lives under <keras home>/datasets."""

    url: str
    cache_path: str  # relative to the datasets folder, "/"-separated
    sha256: str | None = None  # as keras.datasets checks it, when Keras knows it


MNIST_FILE = RemoteFile(
    KERAS_DATASETS_URL + "mnist.npz", "mnist.npz",
    "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
FASHION_FILES = tuple(
    RemoteFile(KERAS_DATASETS_URL + name, f"fashion-mnist/{name}")
    for name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"))
# Keras 3 keeps the archive as "<name>_archive" beside the folder it extracts it to;
# tf.keras 2 kept "cifar-10-batches-py.tar.gz" and "cifar-10-batches-py/". Both are read.
CIFAR10_FILE = RemoteFile(
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    f"{CIFAR_FOLDER_NAME}-target_archive",
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
_OLD_CIFAR_ARCHIVE = f"{CIFAR_FOLDER_NAME}.tar.gz"

_LOCAL_FILE_ADVICE = {
    "mnist": ("download mnist.npz (from " + MNIST_FILE.url + ") on a computer that is online "
              "and pass its path as the data source, or use the bundled offline sample "
              "'mnist-sample'"),
    "fashion_mnist": ("download the four Fashion-MNIST files (train-images-idx3-ubyte.gz, "
                      "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                      "t10k-labels-idx1-ubyte.gz) into one folder and pass that folder's path "
                      "as the data source, or use the bundled offline sample 'mnist-sample'"),
    "cifar10": ("download cifar-10-python.tar.gz (from " + CIFAR10_FILE.url + ") and pass its "
                "path as the data source, or use the bundled offline sample 'cifar10-sample'"),
}


def keras_home() -> Path:
    """$KERAS_HOME if set, else ~/.keras (or /tmp/.keras when home is read-only), as Keras does."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = Path.home()
    if not os.access(home, os.W_OK):
        return Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras"
    return home / ".keras"


def keras_datasets_dir() -> Path:
    """Where Keras caches dataset downloads: <keras home>/datasets."""
    base = keras_home()
    # Keras writes to a temporary folder when the cache folder cannot be written.
    if base.exists() and not os.access(base, os.W_OK):
        base = Path("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()) / ".keras"
    return base / "datasets"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(remote: RemoteFile, target: Path, source_name: str,
                  on_progress: ProgressCallback | None = None) -> Path:
    """Download remote.url to target in chunks, reporting ("Downloading <file>", bytes, total).

    Writes to "<target>.part" first so an interrupted download never looks cached.
    Raises DatasetError (offline, server error, damaged download) naming the local-file option.
    """
    file_name = remote.url.rsplit("/", 1)[-1]
    stage = f"Downloading {file_name}"
    advice = _LOCAL_FILE_ADVICE.get(source_name, "pass a local copy's path as the data source")
    partial = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(remote.url, timeout=_TIMEOUT_SECONDS) as response, \
                open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            if on_progress:
                on_progress(stage, 0, total)
            while True:
                chunk = response.read(_CHUNK_BYTES)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if on_progress:
                    on_progress(stage, done, max(total, done))
        if total and done < total:
            raise DatasetError(f"The download of {file_name} stopped early ({done:,} of {total:,} "
                               f"bytes). Try again, or {advice}.")
        if remote.sha256 and _sha256(partial) != remote.sha256:
            raise DatasetError(f"The downloaded {file_name} is damaged (its checksum is not the "
                               f"published one). Try again, or {advice}.")
        os.replace(partial, target)
    except DatasetError:
        partial.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise DatasetError(f"Could not download {file_name}: the server answered {exc.code} "
                           f"{exc.reason}. To work offline, {advice}.") from None
    except (urllib.error.URLError, socket.timeout, OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        host = urlsplit(remote.url).hostname
        raise DatasetError(f"Could not download {file_name} from {host} (no internet "
                           f"connection? {reason}). To work offline, {advice}.") from None
    return target


def _cached_or_downloaded(remote: RemoteFile, source_name: str,
                          on_progress: ProgressCallback | None) -> Path:
    target = keras_datasets_dir() / remote.cache_path
    if target.is_file():
        return target
    return download_file(remote, target, source_name, on_progress)


def _read_cached(reader: Callable[[], SourceParts], where: Path, cached: bool) -> SourceParts:
    """Run a reader; if a file that was already cached is damaged, say how to refresh it."""
    try:
        return reader()
    except DatasetError as exc:
        if not cached:
            raise
        raise DatasetError(f"{exc} (Cached copy: {where}. Delete it and load again to download "
                           "a fresh copy.)") from None


def load_keras_source(name: str, on_progress: ProgressCallback | None = None) -> SourceParts:
    """mnist, fashion_mnist or cifar10 from Keras's cache, downloading what is missing."""
    datasets_dir = keras_datasets_dir()
    if name == "mnist":
        cached = (datasets_dir / MNIST_FILE.cache_path).is_file()
        path = _cached_or_downloaded(MNIST_FILE, name, on_progress)
        return _read_cached(lambda: read_npz(path, name="MNIST", class_names=list(DIGIT_CLASSES),
                                             noun="digits"), path, cached)
    if name == "fashion_mnist":
        folder = datasets_dir / "fashion-mnist"
        cached = all((datasets_dir / f.cache_path).is_file() for f in FASHION_FILES)
        for remote in FASHION_FILES:
            _cached_or_downloaded(remote, name, on_progress)
        return _read_cached(lambda: read_idx_folder(folder, name="Fashion-MNIST",
                                                    class_names=list(FASHION_CLASSES),
                                                    on_progress=on_progress), folder, cached)
    if name == "cifar10":
        extracted = find_cifar_batches_folder(datasets_dir / f"{CIFAR_FOLDER_NAME}-target") \
            or find_cifar_batches_folder(datasets_dir / CIFAR_FOLDER_NAME)
        if extracted is not None:
            return _read_cached(lambda: read_cifar_folder(extracted, on_progress), extracted, True)
        for archive in (datasets_dir / CIFAR10_FILE.cache_path, datasets_dir / _OLD_CIFAR_ARCHIVE):
            if archive.is_file():
                return _read_cached(lambda: read_cifar_archive(archive, on_progress), archive, True)
        path = _cached_or_downloaded(CIFAR10_FILE, name, on_progress)
        return read_cifar_archive(path, on_progress)
    raise ValueError(f"not a Keras dataset name: {name!r}")
