"""Reading one image file: a cheap header check, and a decode with Pillow.

`probe_image` checks a file's header without decoding the pixels, so scanning a folder of
20,000 photos stays quick; for plain PNG and JPEG files it reads the header itself (no
Pillow object per file) and says which `PixelFormat` the file holds, so that `FileSplit`
can decode it with TensorFlow's own decoders, which give the same pixels. `decode_image`
turns any mode Pillow knows (L, RGB, RGBA, palette with transparency, 16-bit grayscale,
CMYK) into uint8 L or RGB at the target size; `decode_unresized` does the same conversions
but leaves the resizing to the caller. Transparent pixels are laid on white, the way a
viewer shows them.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

ImageSource = Union[str, Path, bytes, BinaryIO]

# Pillow opens more formats than these, but these are what cameras, phones, browsers and
# the standard datasets produce; anything else is more likely a mistake than a photo.
SUPPORTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "BMP", "GIF", "WEBP", "TIFF", "PPM"})
# JPEG can be decoded straight at 1/2, 1/4 or 1/8 size (draft mode), which is what keeps a
# 10,000 x 10,000 photo from costing 300 MB.
_DRAFTABLE_FORMATS = frozenset({"JPEG", "MPO"})
# Above this many pixels an image is worth a note: every read has to shrink it again.
LARGE_IMAGE_PIXELS = 25_000_000
# The most memory one decoded picture may take before it is shrunk (the explainer's
# image_file_to_input refuses the same, with a finer estimate, before decoding).
MAX_DECODE_BYTES = 200 * 2**20
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_WIDE_GRAY_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})


class ImageProblem(Exception):
    """A file that cannot be used as an image; the message is the reason, in plain words."""


@dataclass(frozen=True)
class ImageHeader:
    """What the header says: format name, size in pixels (width, height), pixel format."""

    format: str
    width: int
    height: int
    pixel_format: "PixelFormat | None" = None  # None: only Pillow decodes it as cnnviz wants

    @property
    def pixels(self) -> int:
        return self.width * self.height


class PixelFormat(IntEnum):
    """Pixels TensorFlow's decoders read exactly as Pillow does (see `FileSplit`).

    GRAY: 8-bit grayscale PNG. COLOR: 8-bit RGB or palette PNG without transparency.
    COLOR_ALPHA: 8-bit RGBA PNG. JPEG_COLOR: a three-channel JPEG (its grayscale is the
    decoder's luma, as Pillow's draft mode gives). JPEG_GRAY: a one-channel JPEG.
    """

    GRAY = 1
    COLOR = 2
    COLOR_ALPHA = 3
    JPEG_COLOR = 4
    JPEG_GRAY = 5


# Above this many pixels a file goes through Pillow, which can decode a JPEG at 1/2 .. 1/8
# size and shrink anything before the final resize, so one huge photo stays cheap.
FAST_DECODE_PIXELS = 16_000_000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_FORMATS = {(8, 0): PixelFormat.GRAY, (8, 2): PixelFormat.COLOR,
                (1, 3): PixelFormat.COLOR, (2, 3): PixelFormat.COLOR,
                (4, 3): PixelFormat.COLOR, (8, 3): PixelFormat.COLOR,
                (8, 6): PixelFormat.COLOR_ALPHA}
_PNG_MODES = frozenset({(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (1, 3), (2, 3),
                        (4, 3), (8, 3), (8, 4), (16, 4), (8, 6), (16, 6)})
# Baseline, extended and progressive Huffman JPEG: what every camera and library writes.
_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_JPEG_OTHER_FRAMES = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_HEADER_BYTES = 65_536


def _png_header(data: bytes) -> ImageHeader | None:
    """Header of a clean PNG, checking every chunk's checksum as Pillow's verify() does;
    None for anything unusual (Pillow then gives its own verdict)."""
    if len(data) < 8 + 25 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    transparent = False
    position = 8
    end = len(data)
    while True:
        if position + 12 > end:
            return None  # truncated: Pillow words the problem
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        stop = position + 8 + length
        if stop + 4 > end:
            return None
        checksum = zlib.crc32(data[position + 4:stop])
        if checksum != struct.unpack(">I", data[stop:stop + 4])[0]:
            return None
        if kind == b"tRNS":
            transparent = True
        if kind == b"IEND":
            break
        position = stop + 4
    if width < 1 or height < 1 or width * height > (Image.MAX_IMAGE_PIXELS or width * height):
        return None
    if (depth, colour) not in _PNG_MODES:
        return None
    pixel_format = None if transparent else _PNG_FORMATS.get((depth, colour))
    if width * height > FAST_DECODE_PIXELS:
        pixel_format = None
    return ImageHeader("PNG", width, height, pixel_format)


def _jpeg_header(data: bytes) -> ImageHeader | None:
    """Header of a plain 8-bit JPEG, read up to its first scan (as far as Pillow's open
    reads); None for anything unusual (Pillow then gives its own verdict)."""
    position = 2
    end = len(data)
    frame: tuple[int, int, int, int, int] | None = None  # marker, precision, h, w, layers
    plain = True  # no Adobe colour transform
    while True:
        if position + 4 > end or data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:
            position += 1  # fill byte
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        length = (data[position + 2] << 8) | data[position + 3]
        if length < 2 or position + 2 + length > end:
            return None
        if marker == 0xDA:  # start of scan: the header is complete
            break
        if marker in _JPEG_FRAMES or marker in _JPEG_OTHER_FRAMES:
            if frame is not None or length < 8:
                return None
            precision, height, width, layers = struct.unpack_from(">BHHB", data, position + 4)
            frame = (marker, precision, height, width, layers)
        elif marker == 0xEE and data.startswith(b"Adobe", position + 4):
            plain = False
        elif marker == 0xE2 and data.startswith(b"MPF", position + 4):
            return None  # MPO: Pillow names the format
        elif marker == 0xD9 or marker == 0xD8:
            return None
        position += 2 + length
    if frame is None:
        return None
    marker, precision, height, width, layers = frame
    if precision != 8 or layers not in (1, 3, 4) or width < 1 or height < 1 \
            or width * height > (Image.MAX_IMAGE_PIXELS or width * height):
        return None
    pixel_format: PixelFormat | None = None
    if marker in _JPEG_FRAMES and plain and width * height <= FAST_DECODE_PIXELS:
        pixel_format = {1: PixelFormat.JPEG_GRAY, 3: PixelFormat.JPEG_COLOR}.get(layers)
    return ImageHeader("JPEG", width, height, pixel_format)


def _quick_header(source: ImageSource) -> ImageHeader | None:
    """The header of a plain PNG or JPEG file read without Pillow, or None."""
    if not isinstance(source, (str, Path)):
        return None
    descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        start = os.read(descriptor, _JPEG_HEADER_BYTES)
        if start.startswith(_PNG_SIGNATURE):
            rest = [start]
            while len(rest[-1]):
                rest.append(os.read(descriptor, 1 << 20))
            return _png_header(b"".join(rest))
    finally:
        os.close(descriptor)
    if start.startswith(b"\xff\xd8\xff"):
        return _jpeg_header(start)
    return None


def _open(source: ImageSource) -> Image.Image:
    """Image.open for a path, bytes or file object, with Pillow's reasons made readable."""
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        return Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise ImageProblem(
            f"too large to load safely ({exc}); shrink it with an image editor"
        ) from None
    except UnidentifiedImageError:
        raise ImageProblem("not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageProblem(f"damaged image ({exc})") from None


def probe_image(source: ImageSource) -> ImageHeader:
    """Check that `source` is a supported, undamaged-looking image without decoding pixels.

    Raises ImageProblem with a short reason when it is not; OSError when it cannot be read.
    """
    quick = _quick_header(source)
    if quick is not None:
        return quick
    # Pillow warns (once per process) about images between its soft and hard pixel limits;
    # we resize those ourselves, so the warning would only alarm the user.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _open(source)
        try:
            fmt = img.format or "unknown"
            if fmt not in SUPPORTED_FORMATS:
                raise ImageProblem(f"{fmt} images are not supported (use PNG, JPEG, BMP or GIF)")
            width, height = img.size
            # verify() walks the file's structure (PNG chunk checksums, for instance) without
            # decoding pixels: cheap, and it catches many truncated files up front.
            img.verify()
        except ImageProblem:
            raise
        except Exception as exc:  # Pillow's plugins raise a zoo of types for damaged files
            raise ImageProblem(f"damaged image ({exc})") from None
        finally:
            img.close()
    if width < 1 or height < 1:
        raise ImageProblem("image has no pixels")
    return ImageHeader(fmt, width, height)


def _to_8bit_gray(img: Image.Image) -> Image.Image:
    """16-bit or float grayscale scaled to 8 bits (Pillow's own conversion clips instead)."""
    values = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        peak = 1.0 if values.max(initial=0.0) <= 1.0 else 255.0
    else:
        peak = 65535.0 if values.max(initial=0.0) > 255 else 255.0
    scaled = np.clip(values * (255.0 / peak), 0, 255).round().astype(np.uint8)
    return Image.fromarray(scaled, "L")


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in _ALPHA_MODES or "transparency" in img.info


def _refuse_oversized(img: Image.Image) -> None:
    """ImageProblem when the (drafted) picture would take more than MAX_DECODE_BYTES.

    A header can claim 12,000 x 12,000 pixels over a few bytes of data; Pillow allocates
    the whole picture before finding the data missing.
    """
    full_w, full_h = img.size
    per_pixel = 1 if img.mode in ("1", "L", "P") else 4
    if full_w * full_h * per_pixel > MAX_DECODE_BYTES:
        raise ImageProblem(f"{full_w:,}×{full_h:,} pixels: too large to decode safely; shrink "
                           "it with an image editor")


@contextmanager
def _decoding(source: ImageSource) -> Iterator[Image.Image]:
    """The opened image, with every way decoding can fail turned into ImageProblem, and the
    file closed afterwards (multi-frame GIFs keep their handle open until closed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        original = _open(source)
        try:
            yield original
        except ImageProblem:
            raise
        except MemoryError:
            raise ImageProblem("too large to decode with the memory available") from None
        except Exception as exc:
            raise ImageProblem(f"damaged image ({exc})") from None
        finally:
            original.close()


def decode_image(source: ImageSource, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode one image to uint8 (height, width, channels) at size=(height, width).

    channels is 1 (grayscale) or 3 (RGB). Transparent areas become white. Raises ImageProblem.
    """
    height, width = size
    mode = "L" if channels == 1 else "RGB"
    with _decoding(source) as img:
        if img.format in _DRAFTABLE_FORMATS:
            img.draft(mode, (width, height))
        # A header can claim 12,000 x 12,000 pixels over a few bytes of data; Pillow
        # allocates the whole picture before finding the data missing.
        _refuse_oversized(img)
        img.load()
        if img.mode in _WIDE_GRAY_MODES:
            img = _to_8bit_gray(img)
        alpha = _has_alpha(img)
        # Shrink first, convert after: a 10,000 x 10,000 grayscale scan stays 100 MB
        # instead of becoming 300 MB of RGB. Palette and alpha images are resized as RGBA
        # (Pillow premultiplies), then laid on white; resizing palette indices would
        # snap colours.
        if alpha:
            work_mode = "RGBA"
        elif img.mode in ("L", "RGB"):
            work_mode = img.mode
        else:
            work_mode = "L" if img.mode == "1" else "RGB"
        if img.mode != work_mode:
            img = img.convert(work_mode)
        if img.size != (width, height):
            img = img.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        if alpha:
            backdrop = Image.new("RGBA", img.size, (255, 255, 255, 255))
            img = Image.alpha_composite(backdrop, img)
        if img.mode != mode:
            img = img.convert(mode)
        pixels = np.asarray(img, dtype=np.uint8)
    if channels == 1:
        pixels = pixels[:, :, np.newaxis]
    return pixels


def decode_unresized(source: ImageSource, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode one image to uint8 (h, w, channels) as `decode_image` does, without its resize.

    The caller resizes to size=(height, width). Only a very large image is made smaller first:
    a JPEG is decoded at 1/2 .. 1/8 scale, anything else is shrunk by whole-pixel averaging,
    never below twice `size`. Transparent areas become white. Raises ImageProblem.
    """
    height, width = size
    mode = "L" if channels == 1 else "RGB"
    with _decoding(source) as img:
        huge = img.width * img.height > FAST_DECODE_PIXELS
        if img.format in _DRAFTABLE_FORMATS:
            # Draft mode also reads a colour JPEG's grayscale as its luma, like TF does.
            img.draft(mode, (width * 2, height * 2) if huge else img.size)
        _refuse_oversized(img)
        img.load()
        if img.mode in _WIDE_GRAY_MODES:
            img = _to_8bit_gray(img)
        factor = min(img.width // (2 * width), img.height // (2 * height))
        if huge and factor > 1:
            img = img.reduce(factor)
        if _has_alpha(img):
            img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)),
                                        img.convert("RGBA"))
        elif img.mode not in ("L", "RGB"):
            img = img.convert("L" if img.mode == "1" else "RGB")
        if img.mode != mode:
            img = img.convert(mode)
        pixels = np.asarray(img, dtype=np.uint8)
    return pixels.reshape(pixels.shape[0], pixels.shape[1], channels)


@lru_cache(maxsize=1)
def white_backdrop_table() -> np.ndarray:
    """uint8 (256, 256): table[value, alpha] is one channel of Pillow's alpha_composite of
    that value at that alpha over opaque white, so TensorFlow can lay RGBA on white exactly
    as `decode_unresized` does."""
    values, alphas = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgba = np.stack([values, values, values, alphas], axis=-1).astype(np.uint8)
    laid = Image.alpha_composite(Image.new("RGBA", (256, 256), (255, 255, 255, 255)),
                                 Image.fromarray(rgba, "RGBA"))
    return np.asarray(laid, dtype=np.uint8)[:, :, 0].copy()
