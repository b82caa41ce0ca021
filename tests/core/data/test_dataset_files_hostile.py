"""Regressions the fuzz test (tests/fuzz) found in the dataset file readers: headers that
declare more than the file holds, gzip bombs, numbers too large for int64, damaged bytes
quoted in messages. Each input is tiny and written in the real format."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.errors import DatasetError
from tests.core.data.dataset_fixtures import idx_bytes, python2_pickle, write_idx_folder

# What reading these kilobyte files may allocate in Python and numpy (tracemalloc sees both).
SMALL_PEAK = 16 * 2**20


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_declaring(shape: tuple[int, ...], payload: bytes, descr: str = "|u1") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


def write_npz(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def good_members() -> dict[str, bytes]:
    return {"x_train.npy": npy(np.zeros((4, 5, 5), np.uint8)),
            "y_train.npy": npy(np.arange(4, dtype=np.uint8) % 2)}


def peak_while(call) -> tuple[int, BaseException | None]:
    """(peak bytes allocated while `call` ran, what it raised)."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except BaseException as exc:  # noqa: BLE001 - returned to the test to check
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised


@pytest.mark.parametrize("shape", [(2**40,), (2**31, 28, 28), (10**6, 10**6)])
def test_npz_array_declaring_terabytes_is_refused_before_allocating(tmp_path, shape):
    members = good_members()
    members["x_train.npy"] = npy_declaring(shape, b"\x00" * 64)
    path = write_npz(tmp_path / "data.npz", members)
    with pytest.raises(DatasetError, match="declares .* but holds only 64 bytes"):
        load_dataset(str(path))


def test_npz_array_header_numpy_cannot_parse_is_reported_as_damaged(tmp_path):
    members = good_members()
    # An unterminated bracket: numpy's header parser raises tokenize.TokenError for it.
    members["y_train.npy"] = b"\x93NUMPY\x01\x00" + (58).to_bytes(2, "little") + \
        b"{'descr': '|u1', 'shape': ((((" + b" " * 29 + b"\n"
    path = write_npz(tmp_path / "data.npz", members)
    with pytest.raises(DatasetError, match="header of its array y_train cannot be read"):
        load_dataset(str(path))


def test_npz_damaged_names_and_bytes_are_not_quoted_raw(tmp_path):
    members = good_members()
    members["\x01\x02\xff-garbage" * 20] = b"\xff" * 100
    del members["y_train.npy"]
    path = write_npz(tmp_path / "data.npz", members)
    with pytest.raises(DatasetError) as caught:
        load_dataset(str(path))
    message = str(caught.value)
    assert "no y_train array" in message
    assert message.isprintable() and len(message) < 300


def _idx_gzip_bomb(folder: Path, zeros: int) -> None:
    """MNIST-style t10k files whose images .gz unzips to `zeros` bytes past its real data."""
    write_idx_folder(folder, train=None, test=10, gz=True)
    images = gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    tail = b"".join(packer.compress(block) for _ in range(zeros >> 20)) + packer.flush()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(images, mtime=0) + tail)


def test_idx_gzip_bomb_is_read_only_as_far_as_its_header_declares(tmp_path):
    _idx_gzip_bomb(tmp_path / "bomb", 256 << 20)  # a 250 KB file that unzips to 256 MB
    peak, raised = peak_while(lambda: load_dataset(str(tmp_path / "bomb")))
    assert isinstance(raised, DatasetError) and "has extra data at its end" in str(raised)
    assert peak < SMALL_PEAK


def test_idx_header_promising_300_mb_in_a_tiny_file_allocates_only_what_is_there(tmp_path):
    folder = tmp_path / "idx"
    write_idx_folder(folder, train=None, test=10, gz=False)
    images = folder / "t10k-images-idx3-ubyte"
    data = bytearray(images.read_bytes())
    data[4:8] = (400_000).to_bytes(4, "big")  # 400,000 images of 28×28: 314 MB promised
    images.write_bytes(bytes(data))
    peak, raised = peak_while(lambda: load_dataset(str(folder)))
    assert isinstance(raised, DatasetError) and "is truncated" in str(raised)
    assert peak < SMALL_PEAK


def test_idx_header_declaring_more_than_the_limit_is_refused_unread(tmp_path):
    folder = tmp_path / "idx"
    write_idx_folder(folder, train=None, test=10, gz=True)
    header = idx_bytes(np.zeros((1, 1, 1), np.uint8))[:4] + \
        b"".join(side.to_bytes(4, "big") for side in (2**31, 2**16, 2**16))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(header, mtime=0))
    with pytest.raises(DatasetError, match="declares .* values, more than 512 MB"):
        load_dataset(str(folder))


def test_cifar_labels_too_large_for_int64_are_not_class_numbers(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [2**70, 1]}
    (folder / "data_batch_1").write_bytes(python2_pickle(batch))
    with pytest.raises(DatasetError, match="its 'labels' are not class numbers"):
        load_dataset(str(tmp_path))


def test_damaged_cifar_pickle_message_quotes_no_raw_bytes(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    # numpy.dtype (allowed: real batches need it) called with a long string of control
    # characters: numpy's error message repeats the whole string.
    junk = ("\x01\u202e" * 300).encode()
    (folder / "data_batch_1").write_bytes(
        b"\x80\x02cnumpy\ndtype\nX" + len(junk).to_bytes(4, "little") + junk + b"\x85R.")
    with pytest.raises(DatasetError) as caught:
        load_dataset(str(tmp_path))
    assert str(caught.value).isprintable() and len(str(caught.value)) < 300


def test_folder_image_whose_header_claims_12000_squared_pixels_is_not_allocated(tmp_path):
    import struct

    from PIL import Image

    from tests.core.data.dataset_fixtures import write_image_folder

    root = write_image_folder(tmp_path / "photos", {"cats": 2, "dogs": 2})
    buffer = io.BytesIO()
    Image.new("RGB", (12, 10), (10, 20, 30)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    struct.pack_into(">II", data, 16, 12000, 12000)  # IHDR width and height
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    (root / "cats" / "liar.png").write_bytes(bytes(data))
    dataset = load_dataset(str(root))
    split = dataset.train if "liar" in " ".join(dataset.train.paths) else dataset.validation
    index = next(i for i, p in enumerate(split.paths) if "liar" in p)
    split.images([1 - min(index, 1)])  # a good image first: TensorFlow's import is not the liar's
    peak, raised = peak_while(lambda: split.images([index]))
    assert raised is None and peak < SMALL_PEAK
    assert any("too large to decode safely" in note for note in dataset.report.notes)


def test_npz_member_flagged_as_encrypted_is_reported_as_damaged(tmp_path):
    """A flipped bit in a member's flags asks zipfile for encryption it does not support."""
    path = write_npz(tmp_path / "flagged.npz", good_members())
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    data[local + 6] |= 0x40  # general purpose flag bit 6: strong encryption
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="damaged or incomplete"):
        load_dataset(str(path))
