"""Sizes a saved model may declare before anything of it is read, so a hostile file (a "zip
bomb" whose few megabytes unpack to gigabytes, or an .h5 file with a huge config attribute) is
refused in milliseconds instead of filling the memory.

A .keras file is a zip archive that Keras writes uncompressed: config.json (ResNet-50's is
0.18 MB, about 1 KB per layer), metadata.json (64 bytes) and model.weights.h5. The zip's
central directory declares each member's unpacked size, and Python's zipfile never unpacks more
than that, so checking the declared sizes bounds what a later read can cost.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from cnnviz.core.errors import ModelFileError

# 16 MiB: about ten times the config of a 1,000-layer network (MAX_LAYERS in spec.py).
CONFIG_SIZE_LIMIT = 16 * 1024 * 1024
# metadata.json holds the Keras version and a date.
METADATA_SIZE_LIMIT = 1024 * 1024
# Keras stores members uncompressed (ratio 1); zip's own best is about 1,000 on zeros. Past
# 1 GiB unpacked, a whole archive packed more than 100 times is not a model that was saved.
SUSPICIOUS_TOTAL = 1024 ** 3
SUSPICIOUS_RATIO = 100
# The largest models a laptop could hold anyway; beyond this the total is absurd.
TOTAL_SIZE_LIMIT = 64 * 1024 ** 3

# Weight arrays written with compression by other tools unpack to at most this many times the
# file (float weights compress poorly; a ratio this high means a hostile or damaged header).
COMPRESSED_RATIO_LIMIT = 100

_JSON_MEMBERS = {"config.json": CONFIG_SIZE_LIMIT, "metadata.json": METADATA_SIZE_LIMIT}


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size < 2**30 else f"{size / 2**30:,.1f} GB"


def check_keras_archive(path: Path) -> None:
    """Refuse a .keras archive whose declared sizes no real model has, before reading it.

    Reads only the zip's directory. Raises ModelFileError naming the member and the size;
    a file that is not a zip at all is left to the real reader to diagnose.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return
    packed = sum(member.compress_size for member in members)
    unpacked = sum(member.file_size for member in members)
    for member in members:
        limit = _JSON_MEMBERS.get(member.filename)
        if limit is not None and member.file_size > limit:
            raise ModelFileError(
                f"{path.name} says its {member.filename} unpacks to {_mib(member.file_size)}, "
                f"but a model's {member.filename} is at most a few megabytes; the file is "
                f"damaged or made to exhaust the memory, so cnnviz will not open it.")
    if unpacked > TOTAL_SIZE_LIMIT or (
            unpacked > SUSPICIOUS_TOTAL and unpacked > SUSPICIOUS_RATIO * max(packed, 1)):
        raise ModelFileError(
            f"{path.name} is {_mib(path.stat().st_size)} but says it unpacks to "
            f"{_mib(unpacked)}; that is no saved model (it is damaged or made to exhaust the "
            f"memory), so cnnviz will not open it.")


def check_h5_config(path: Path) -> None:
    """Refuse an .h5 model whose stored config attribute is beyond CONFIG_SIZE_LIMIT, before
    Keras parses it (parsing a JSON costs many times its size in memory).

    HDF5 attributes are never compressed, so an attribute costs no more to read than the file
    is large: a fixed-size string is measured without reading it; a variable-length one (what
    Keras writes) is read, measured, and never parsed here. Files h5py cannot open are left to
    the real reader to diagnose.
    """
    import h5py

    size = 0
    try:
        with h5py.File(path, "r") as handle:
            _check_h5_datasets(handle, path)
            if "model_config" not in handle.attrs:
                return
            attribute = handle.attrs.get_id("model_config")
            if attribute.get_type().is_variable_str():
                value = handle.attrs["model_config"]
                size = len(value) if isinstance(value, (str, bytes)) else 0
            else:
                size = attribute.get_storage_size()
    except ModelFileError:
        raise
    except Exception:  # damaged files: the real load says what is wrong
        return
    if size > CONFIG_SIZE_LIMIT:
        raise ModelFileError(
            f"{path.name} stores a model config of {_mib(size)}, but a model's config is at "
            f"most a few megabytes; the file is damaged or made to exhaust the memory, so "
            f"cnnviz will not open it.")


def _check_h5_datasets(handle: Any, path: Path) -> None:
    """Refuse an .h5 file whose weight arrays declare more data than the file could hold.

    Keras stores weights uncompressed, so an array's size is at most the file's; a damaged
    header can declare hundreds of megabytes, which the loader would allocate before reading.
    Compressed arrays (other writers) may unpack to COMPRESSED_RATIO_LIMIT times the file.
    """
    import h5py

    file_size = max(path.stat().st_size, 1)
    declared: list[int] = []

    def measure(_name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            limit = file_size if item.compression is None else file_size * COMPRESSED_RATIO_LIMIT
            if item.nbytes > limit:
                declared.append(int(item.nbytes))

    handle.visititems(measure)
    if declared:
        raise ModelFileError(
            f"{path.name} declares a weight array of {_mib(max(declared))}, more than the "
            f"file itself holds; the file is damaged, so cnnviz will not open it.")


def check_model_file_sizes(path: Path) -> None:
    """check_keras_archive or check_h5_config, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".keras":
        check_keras_archive(path)
    elif suffix in (".h5", ".hdf5"):
        check_h5_config(path)
