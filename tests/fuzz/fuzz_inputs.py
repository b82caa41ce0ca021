"""Hostile inputs for the fuzz test: valid tiny files in the real formats, and the ways to spoil them.

Everything is derived from a `random.Random` seeded by (seed, category, case number), so a case
name such as ``npz#17:huge-npy-shape`` always builds the same bytes. A case is a function that
writes its input under a folder and returns what to read; the worker feeds it to the real
reader (see fuzz_worker.py).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import random
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.core.data.dataset_fixtures import (
    cifar_batch_bytes,
    cifar_meta_bytes,
    idx_bytes,
    python2_pickle,
)

REPO = Path(__file__).resolve().parents[2]
SPEC_FILES = sorted((REPO / "sample_models").glob("*.json"))

# --------------------------------------------------------------------------- bytes


def truncate(data: bytes, rng: random.Random) -> bytes:
    """Cut anywhere, the header included (an interrupted download or copy)."""
    return data[:rng.randrange(len(data))]


def flip_bits(data: bytes, rng: random.Random, flips: int | None = None) -> bytes:
    out = bytearray(data)
    for _ in range(flips or rng.randint(1, 8)):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def flip_bits_near_start(data: bytes, rng: random.Random) -> bytes:
    """Flips inside the first 64 bytes, where headers (sizes, counts, magic numbers) live."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(min(64, len(out)))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def smash_bytes(data: bytes, rng: random.Random) -> bytes:
    """A run of 0x00, 0xFF or random bytes written over the data."""
    out = bytearray(data)
    start = rng.randrange(len(out))
    length = rng.randint(1, 64)
    filler = rng.choice([b"\x00", b"\xff", None])
    chunk = bytes(rng.randrange(256) for _ in range(length)) if filler is None else filler * length
    out[start:start + length] = chunk
    return bytes(out[:len(data)])


def random_bytes(rng: random.Random, keep_prefix: bytes = b"") -> bytes:
    """Noise, sometimes behind the format's real magic number so the reader goes further."""
    return keep_prefix + bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 17, 300, 4096])))


def byte_mutation(data: bytes, rng: random.Random, kind: str, prefix_len: int = 4) -> bytes:
    if kind == "truncated":
        return truncate(data, rng)
    if kind == "bit-flipped":
        return flip_bits(data, rng)
    if kind == "header-flipped":
        return flip_bits_near_start(data, rng)
    if kind == "smashed":
        return smash_bytes(data, rng)
    if kind == "random-bytes":
        return random_bytes(rng, data[:prefix_len] if rng.random() < 0.5 else b"")
    raise ValueError(kind)


BYTE_KINDS = ["truncated", "bit-flipped", "header-flipped", "smashed", "random-bytes"]

# --------------------------------------------------------------------------- JSON


def deep_json(depth: int, kind: str = "list") -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def _weird_value(rng: random.Random) -> Any:
    return rng.choice([
        None, True, False, -1, 0, 2**31, 2**63, -2**63, 10**40, 1e308, -0.5, float("nan"),
        float("inf"), "", "x" * 5000, "\u202e\u0000é", [], {}, [1, 2, 3], [2**31, 2**31, 3],
        {"class_name": "Lambda", "config": {}}, "../../etc/passwd", [[[[[[[[[[[[1]]]]]]]]]]]],
        {"module": "os", "class_name": "system", "config": {}},
    ])


def _nodes(tree: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """(container, key) for every value inside a parsed JSON tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.append((tree, key))
            _nodes(value, out)
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out.append((tree, index))
            _nodes(value, out)
    return out


def mutate_tree(tree: Any, rng: random.Random, changes: int | None = None) -> Any:
    """A copy with 1-3 values replaced by wrong types or absurd numbers, or keys dropped."""
    tree = copy.deepcopy(tree)
    for _ in range(changes or rng.randint(1, 3)):
        nodes = _nodes(tree, [])
        if not nodes:
            return _weird_value(rng)
        container, key = rng.choice(nodes)
        action = rng.random()
        if action < 0.15 and isinstance(container, dict):
            del container[key]
        elif action < 0.25 and isinstance(container[key], (int, float)) \
                and not isinstance(container[key], bool):
            container[key] = rng.choice([2**31, 10**9, -(2**31), 0, 2**62])
        else:
            container[key] = _weird_value(rng)
    return tree


def json_mutation(tree: Any, rng: random.Random, kind: str) -> bytes:
    """One JSON document derived from `tree` by the mutation `kind` (JSON_KINDS)."""
    text = json.dumps(tree)
    if kind == "wrong-types":
        return json.dumps(mutate_tree(tree, rng)).encode()
    if kind == "truncated-json":
        return text[:rng.randrange(len(text))].encode()
    if kind == "deep-nesting":
        depth = rng.choice([1_000, 20_000, 100_000])
        if isinstance(tree, dict) and rng.random() < 0.7:
            mutated = copy.deepcopy(tree)
            key = rng.choice(sorted(mutated))
            placeholder = '"__deep__"'
            mutated[key] = "__deep__"
            return json.dumps(mutated).replace(placeholder, deep_json(depth, rng.choice(
                ["list", "dict"]))).encode()
        return deep_json(depth, rng.choice(["list", "dict"])).encode()
    if kind == "not-utf8":
        return flip_bits(text.encode(), rng, 1) + b"\xff\xfe\xc3"
    if kind == "bit-flipped-json":
        return flip_bits(text.encode(), rng)
    if kind == "wrong-top-type":
        return json.dumps(rng.choice([[tree], "model", 3, None, [], {}])).encode()
    raise ValueError(kind)


JSON_KINDS = ["wrong-types", "wrong-types", "truncated-json", "deep-nesting", "not-utf8",
              "bit-flipped-json", "wrong-top-type"]

# --------------------------------------------------------------------------- zip


def rezip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def declare_huge_size(data: bytes, member: str, size: int = 0xFFFFFFFE,
                      compressed_too: bool = False) -> bytes:
    """The zip with `member`'s uncompressed size (local and central headers) set to `size`."""
    out = bytearray(data)
    encoded = member.encode()
    for signature, name_len_at, usize_at, csize_at, name_at in (
            (b"PK\x03\x04", 26, 22, 18, 30), (b"PK\x01\x02", 28, 24, 20, 46)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            name_len = struct.unpack_from("<H", out, start + name_len_at)[0]
            if bytes(out[start + name_at:start + name_at + name_len]) == encoded:
                struct.pack_into("<I", out, start + usize_at, size)
                if compressed_too:
                    struct.pack_into("<I", out, start + csize_at, size)
            start += 4
    return bytes(out)


def deflate_bomb_zip(members: dict[str, bytes], member: str, inflated_bytes: int,
                     filler: bytes = b" ") -> bytes:
    """A zip where `member` holds its data followed by `inflated_bytes` of filler, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            if name != member:
                archive.writestr(name, data)
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            handle.write(members[member].rstrip(b"}"))
            block = filler * (1 << 20)
            for _ in range(inflated_bytes >> 20):
                handle.write(block)
            handle.write(b"}")
    return buffer.getvalue()

# --------------------------------------------------------------------------- npz


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_with_header(descr: str, shape: tuple[int, ...], payload: bytes) -> bytes:
    """An .npy whose header declares (descr, shape) over whatever payload follows."""
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def base_npz_members(rng: random.Random) -> dict[str, np.ndarray]:
    n, side = rng.choice([(6, 8), (4, 5), (10, 28)])
    return {
        "x_train": np.asarray(np.random.default_rng(rng.randrange(99)).integers(
            0, 256, (n, side, side)), dtype=np.uint8),
        "y_train": np.arange(n, dtype=np.uint8) % 3,
        "x_test": np.zeros((2, side, side), dtype=np.uint8),
        "y_test": np.asarray([0, 2], dtype=np.uint8),
    }


def npz_case(rng: random.Random, kind: str) -> bytes:
    arrays = base_npz_members(rng)
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays.items()}
    if kind in BYTE_KINDS:
        return byte_mutation(rezip(members, rng.choice([zipfile.ZIP_STORED,
                                                         zipfile.ZIP_DEFLATED])), rng, kind)
    key = rng.choice(["x_train", "y_train", "x_test"])
    if kind == "huge-npy-shape":
        shape = rng.choice([(2**31, 28, 28), (2**40,), (2**62, 2), (2**31, 2**31, 2**31),
                            (10**6, 10**6)])
        descr = rng.choice(["|u1", "<f8", "<i8"])
        members[f"{key}.npy"] = npy_with_header(descr, shape, rng.randbytes(64))
    elif kind == "negative-or-odd-shape":
        shape = rng.choice([(-1, 4), (0, 8, 8), (3, 0, 0), (5,), (2, 2, 2, 2, 2), ()])
        members[f"{key}.npy"] = npy_with_header("|u1", shape, b"\x01" * 8)
    elif kind == "strange-dtype":
        descr = rng.choice(["<c16", "<U4", "|V8", "<M8[s]", "|b1", "<f2", "|O", ">u4",
                            "[('a', '<i4')]"])
        array_shape = arrays[key].shape
        itemsize = 16
        members[f"{key}.npy"] = npy_with_header(
            descr, array_shape, b"\x00" * (int(np.prod(array_shape)) * itemsize))
    elif kind == "bad-values":
        value = arrays[key].astype(np.float64)
        value.flat[rng.randrange(value.size)] = rng.choice([np.nan, np.inf, -5.0, 1e300, 0.5])
        members[f"{key}.npy"] = npy_bytes(value)
    elif kind == "zip-declares-huge":
        data = rezip(members, rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
        return declare_huge_size(data, f"{key}.npy", rng.choice([2**31, 0xFFFFFFFE]),
                                 compressed_too=rng.random() < 0.5)
    elif kind == "garbage-header":
        members[f"{key}.npy"] = b"\x93NUMPY\x01\x00" + struct.pack("<H", 60) + \
            rng.choice([b"{'descr': __import__('os')", b"[" * 58 + b"\n", b"\xff" * 60,
                        b"{'descr': '|u1', 'fortran_order': False, 'shape': (1e9,), }"])
    elif kind == "missing-arrays":
        for name in rng.sample(sorted(members), rng.randint(1, 3)):
            del members[name]
    else:
        raise ValueError(kind)
    return rezip(members, rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))


NPZ_KINDS = BYTE_KINDS + ["huge-npy-shape", "negative-or-odd-shape", "strange-dtype",
                          "bad-values", "zip-declares-huge", "garbage-header", "missing-arrays"]

# --------------------------------------------------------------------------- IDX


def idx_folder_case(folder: Path, rng: random.Random, kind: str) -> None:
    """train-*/t10k-* IDX files (gzipped or not), one of them spoiled."""
    folder.mkdir(parents=True, exist_ok=True)
    gz = rng.random() < 0.5
    files: dict[str, bytes] = {}
    for prefix, count in (("train", 12), ("t10k", 5)):
        images = np.random.default_rng(count).integers(0, 256, (count, 6, 6), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(images)
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(labels)
    if rng.random() < 0.25:  # the test files alone
        files = {k: v for k, v in files.items() if k.startswith("t10k")}
    victim = rng.choice(sorted(files))
    data = files[victim]
    if kind in BYTE_KINDS:
        data = byte_mutation(data, rng, kind)
    elif kind == "huge-dims":
        ndim = data[3]
        dims = [rng.choice([2**31, 2**32 - 1, 2**16, 0, 1]) for _ in range(ndim)]
        data = data[:4] + struct.pack(f">{ndim}I", *dims) + data[4 + 4 * ndim:]
    elif kind == "odd-ndim":
        ndim = rng.choice([0, 2, 4, 255])
        data = data[:3] + bytes([ndim]) + data[4:]
    elif kind == "wrong-type-code":
        data = data[:2] + bytes([rng.choice([0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF])]) + data[3:]
    elif kind == "labels-out-of-range":
        if "labels" in victim:
            data = data[:8] + bytes(rng.choice([255, 200, 10]) for _ in data[8:])
    elif kind == "gzip-bomb":
        (folder / f"{victim}.gz").write_bytes(gzip_bomb(data, rng.choice([1 << 20, 1 << 28])))
        del files[victim]
    else:
        raise ValueError(kind)
    files[victim] = data
    for name, content in files.items():
        if gz:
            spoil_gzip = kind in ("truncated", "bit-flipped") and name == victim and rng.random() < 0.5
            packed = gzip.compress(content, mtime=0)
            if spoil_gzip:
                packed = byte_mutation(packed, rng, kind)
            (folder / f"{name}.gz").write_bytes(packed)
        else:
            (folder / name).write_bytes(content)


_ZEROS_MEMBERS: dict[int, bytes] = {}


def gzip_bomb(head: bytes, inflated_bytes: int) -> bytes:
    """A .gz of `head` and then `inflated_bytes` zeros (1 GiB packs into about 1 MB).

    The zeros are a second gzip member: readers go on from one member to the next.
    """
    if inflated_bytes not in _ZEROS_MEMBERS:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: with a gzip header
        block = bytes(1 << 20)
        _ZEROS_MEMBERS[inflated_bytes] = b"".join(
            packer.compress(block) for _ in range(inflated_bytes >> 20)) + packer.flush()
    return gzip.compress(head, mtime=0) + _ZEROS_MEMBERS[inflated_bytes]


IDX_KINDS = BYTE_KINDS + ["huge-dims", "odd-ndim", "wrong-type-code", "labels-out-of-range",
                          "gzip-bomb"]

# --------------------------------------------------------------------------- CIFAR-10


def _binstring_claiming(length: int) -> bytes:
    """A pickle that declares a `length`-byte string and then ends."""
    return b"\x80\x02T" + struct.pack("<i", length) + b"abc"


def cifar_batch_case(rng: random.Random, kind: str) -> bytes:
    good, data, labels = cifar_batch_bytes(4, rng.randrange(100))
    if kind in BYTE_KINDS:
        return byte_mutation(good, rng, kind, prefix_len=2)
    if kind == "huge-declared-string":
        return _binstring_claiming(rng.choice([2**31 - 1, 2**30, 10**8]))
    if kind == "huge-array-shape":
        shape = rng.choice([(2**31, 3072), (2**40,), (10**6, 10**6)])
        array = np.zeros((1, 3072), dtype=np.uint8)
        pickled = python2_pickle({b"data": array, b"labels": [0]})
        # numpy pickles the shape as a tuple of ints right after its `_reconstruct` call;
        # the packed form (1, 3072) is K\x01M\x00\x0c.
        packed = b"K\x01M\x00\x0c"
        replacement = b"".join(b"J" + struct.pack("<i", min(d, 2**31 - 1)) if d < 2**31
                               else b"\x8a\x08" + struct.pack("<q", d) for d in shape)
        assert packed in pickled
        return pickled.replace(packed, replacement, 1)
    if kind == "wrong-types":
        batch: dict[Any, Any] = {b"data": data, b"labels": list(labels)}
        key = rng.choice([b"data", b"labels"])
        batch[key] = rng.choice([None, "text", 3, [1.5] * 4, ["a"] * 4, data.astype(np.float32),
                                 data.reshape(-1), data[:, :100], {b"x": 1}, [-1, 0, 1, 99],
                                 [2**70] * 4])
        return python2_pickle(batch)
    if kind == "runs-code":
        return rng.choice([b"cos\nsystem\n(S'echo pwned'\ntR.",
                           b"\x80\x02cbuiltins\neval\nq\x00X\x04\x00\x00\x001+1q\x01\x85q\x02Rq\x03.",
                           b"\x80\x02c__builtin__\nopen\n(S'/etc/passwd'\ntR."])
    if kind == "deep-pickle":
        depth = rng.choice([10_000, 200_000])
        return b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    raise ValueError(kind)


CIFAR_KINDS = BYTE_KINDS + ["huge-declared-string", "huge-array-shape", "wrong-types",
                            "runs-code", "deep-pickle", "tar-truncated", "tar-flipped",
                            "tar-huge-member", "tar-link"]


def cifar_case(root: Path, rng: random.Random, kind: str) -> Path:
    """A CIFAR-10 folder or .tar.gz with one member spoiled; returns the path to load."""
    members = {f"data_batch_{i}": cifar_batch_bytes(3, i)[0] for i in range(1, 6)}
    members["test_batch"] = cifar_batch_bytes(3, 9)[0]
    if rng.random() < 0.5:
        members["batches.meta"] = cifar_meta_bytes()
    victim = rng.choice(sorted(members))
    if not kind.startswith("tar-"):
        members[victim] = cifar_batch_case(rng, kind)
    as_tar = kind.startswith("tar-") or rng.random() < 0.4
    if not as_tar:
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for name, data in members.items():
            (folder / name).write_bytes(data)
        return root
    name = rng.choice(["cifar-10-python.tar.gz", "cifar10.tgz", "cifar-10-python.tar"])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for member_name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member_name}")
            info.size = len(data)
            if kind == "tar-link" and member_name == victim:
                info.type = rng.choice([tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE])
                info.linkname = "/etc/passwd"
                info.size = 0
                archive.addfile(info)
                continue
            archive.addfile(info, io.BytesIO(data))
    raw = bytearray(buffer.getvalue())
    if kind == "tar-huge-member":
        start = raw.find(f"cifar-10-batches-py/{victim}".encode())
        raw[start + 124:start + 136] = rng.choice([b"77777777777\x00",
                                                   b"\x80" + b"\x00" * 3 + b"\xff" * 8])
        checksum = sum(raw[start:start + 148]) + 8 * 32 + sum(raw[start + 156:start + 512])
        raw[start + 148:start + 156] = b"%06o\x00 " % checksum
    packed = bytes(raw) if name.endswith(".tar") else gzip.compress(bytes(raw), mtime=0)
    if kind == "tar-truncated":
        packed = truncate(packed, rng)
    elif kind == "tar-flipped":
        packed = flip_bits(packed, rng)
    path = root / name
    path.write_bytes(packed)
    return path

# --------------------------------------------------------------------------- images

IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "gif": "GIF", "webp": "WEBP",
                 "tif": "TIFF"}


def image_bytes(fmt: str, rng: random.Random, size: tuple[int, int] = (12, 10)) -> bytes:
    mode = rng.choice(["RGB", "L", "RGBA", "P"]) if fmt not in ("jpg",) else rng.choice(["RGB", "L"])
    pixels = np.random.default_rng(rng.randrange(99)).integers(0, 256, (size[1], size[0], 3),
                                                               dtype=np.uint8)
    img = Image.fromarray(pixels, "RGB")
    img = img.convert(mode) if mode != "P" else img.convert("P", palette=Image.Palette.ADAPTIVE)
    buffer = io.BytesIO()
    img.save(buffer, IMAGE_FORMATS[fmt])
    return buffer.getvalue()


def _huge_header(data: bytes, fmt: str, rng: random.Random) -> bytes:
    """The image with its header's width and height replaced by absurd (but well-formed) ones."""
    out = bytearray(data)
    width, height = rng.choice([(65535, 65535), (2**31 - 1, 2**31 - 1), (30000, 30000),
                                (12000, 12000), (1, 2**30), (0, 0), (100000, 1)])
    if fmt == "png":  # IHDR: width, height at 16; CRC over type+data at 29
        struct.pack_into(">II", out, 16, width, height)
        struct.pack_into(">I", out, 29, zlib.crc32(bytes(out[12:29])))
    elif fmt == "jpg":
        for marker in (b"\xff\xc0", b"\xff\xc2"):
            at = out.find(marker)
            if at != -1:
                struct.pack_into(">HH", out, at + 5, min(height, 65535), min(width, 65535))
    elif fmt == "bmp":
        struct.pack_into("<ii", out, 18, min(width, 2**31 - 1), -min(height, 2**31 - 1)
                         if rng.random() < 0.5 else min(height, 2**31 - 1))
    elif fmt == "gif":
        struct.pack_into("<HH", out, 6, min(width, 65535), min(height, 65535))
        at = out.find(b"\x2c", 13)
        if at != -1:
            struct.pack_into("<HH", out, at + 5, min(width, 65535), min(height, 65535))
    elif fmt == "webp":
        at = out.find(b"VP8")
        if at != -1 and out[at + 3:at + 4] == b"X":
            out[at + 12:at + 18] = (width - 1).to_bytes(3, "little")[:3] + \
                (height - 1).to_bytes(4, "little")[:3]
        elif at != -1:
            out[at + 14:at + 18] = struct.pack("<HH", min(width, 16383), min(height, 16383))
    elif fmt == "tif":
        return data  # left to the byte mutations
    return bytes(out)


IMAGE_KINDS = BYTE_KINDS + ["huge-header", "huge-header", "empty-file", "wrong-extension"]


def image_case(rng: random.Random, kind: str) -> tuple[str, bytes]:
    """(extension, bytes) of one spoiled image file."""
    fmt = rng.choice(sorted(IMAGE_FORMATS))
    data = image_bytes(fmt, rng)
    if kind in BYTE_KINDS:
        return fmt, byte_mutation(data, rng, kind, prefix_len=8)
    if kind == "huge-header":
        if fmt == "tif":
            fmt, data = "png", image_bytes("png", rng)
        return fmt, _huge_header(data, fmt, rng)
    if kind == "empty-file":
        return fmt, b""
    if kind == "wrong-extension":
        other = rng.choice(sorted(IMAGE_FORMATS))
        return other, rng.choice([data, b"%PDF-1.4\n", b"GIF89a", b"\x89PNG\r\n\x1a\n"])
    raise ValueError(kind)


def image_folder_case(root: Path, rng: random.Random, kind: str) -> Path:
    """Two class folders of small real images, plus one spoiled image (sometimes the only one)."""
    classes = ["cats", "dogs"]
    for label, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for n in range(rng.choice([0, 1, 2])):
            fmt = rng.choice(["png", "jpg", "bmp", "gif"])
            (folder / f"{n}.{fmt}").write_bytes(image_bytes(fmt, rng))
    fmt, data = image_case(rng, kind)
    (root / rng.choice(classes) / f"spoiled.{fmt}").write_bytes(data)
    return root

# --------------------------------------------------------------------------- specs


def spec_case(rng: random.Random, kind: str) -> bytes:
    tree = json.loads(rng.choice(SPEC_FILES).read_text(encoding="utf-8"))
    if kind in JSON_KINDS:
        return json_mutation(tree, rng, kind)
    if kind == "many-layers":
        count = rng.choice([1_000, 10_000])
        tree["layers"] = [{"type": "Dense", "params": {"units": 4}}] * count
        return json.dumps(tree).encode()
    if kind == "absurd-sizes":
        tree["input_shape"] = rng.choice([[2**31, 2**31, 3], [100000, 100000, 3], [28, 28, 2**40],
                                          [0, 28, 1], [28.5, 28, 1], [-28, 28, 1], ["28", 28, 1]])
        if rng.random() < 0.5 and tree.get("layers"):
            layer = rng.choice(tree["layers"])
            layer.setdefault("params", {})
            layer["params"][rng.choice(["filters", "units", "kernel_size", "pool_size",
                                        "strides", "rate"])] = rng.choice(
                [2**40, [2**31, 2**31], 0, -3, 1e308, float("nan"), [3], [3, 3, 3]])
        return json.dumps(tree).encode()
    if kind == "bit-flipped-file":
        return flip_bits(json.dumps(tree).encode(), rng)
    raise ValueError(kind)


SPEC_KINDS = JSON_KINDS + ["many-layers", "absurd-sizes", "bit-flipped-file"]

# --------------------------------------------------------------------------- models

# Only on request (CNNVIZ_FUZZ_SLOW=1): TensorFlow spends 10 s per case retrying the
# allocation of a layer declared with 2**40 filters before it gives up.
SLOW_KINDS = os.environ.get("CNNVIZ_FUZZ_SLOW") == "1"
MODEL_KINDS = {
    "keras": BYTE_KINDS + ["config-json", "config-json", "metadata-json", "weights-flipped",
                           "zip-declares-huge", "config-bomb", "missing-member"],
    "h5": BYTE_KINDS + ["config-attr", "config-attr", "weights-flipped-h5"],
    "json": JSON_KINDS + (["absurd-layer-sizes"] if SLOW_KINDS else []),
}


_BOMBS: dict[str, bytes] = {}


def keras_case(base: bytes, rng: random.Random, kind: str) -> bytes:
    """A .keras archive (config.json, metadata.json, model.weights.h5) spoiled by `kind`."""
    if kind in BYTE_KINDS:
        return byte_mutation(base, rng, kind)
    members = zip_members(base)
    if kind == "config-json":
        config = json.loads(members["config.json"])
        members["config.json"] = json_mutation(config, rng, rng.choice(
            ["wrong-types", "wrong-types", "wrong-types", "truncated-json", "not-utf8",
             "wrong-top-type"]))
    elif kind == "metadata-json":
        members["metadata.json"] = json_mutation(json.loads(members["metadata.json"]), rng,
                                                 rng.choice(["wrong-types", "truncated-json"]))
    elif kind == "weights-flipped":
        members["model.weights.h5"] = byte_mutation(members["model.weights.h5"], rng, rng.choice(
            ["bit-flipped", "header-flipped", "smashed", "truncated"]))
    elif kind == "zip-declares-huge":
        return declare_huge_size(rezip(members), rng.choice(sorted(members)),
                                 rng.choice([2**31, 0xFFFFFFFE]), rng.random() < 0.5)
    elif kind == "config-bomb":
        if "config-bomb" not in _BOMBS:
            _BOMBS["config-bomb"] = deflate_bomb_zip(members, "config.json", 256 << 20)
        return _BOMBS["config-bomb"]
    elif kind == "missing-member":
        del members[rng.choice(sorted(members))]
    else:
        raise ValueError(kind)
    return rezip(members, rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))


# Failures that lie in code this branch does not own, and whose they are: the fuzz reports
# them in a test of their own (xfail) instead of fixing them here. Each entry is
# (category, mutation kind or None for any, text in the failure or "" for any, owner).
def absurd_layer_config(config: Any, rng: random.Random) -> Any:
    """A model config whose layer sizes would need terabytes of weights."""
    config = copy.deepcopy(config)
    for layer in config.get("config", {}).get("layers", []):
        inner = layer.get("config", {})
        for key in ("units", "filters"):
            if key in inner:
                inner[key] = rng.choice([2**31, 10**9, 2**40, -1, 0])
        if "batch_shape" in inner and rng.random() < 0.5:
            inner["batch_shape"] = [None, 2**31, 2**31, 3]
    return config

