"""Reading one image file with Pillow: a cheap header check, and a decode to a fixed size.

`probe_image` opens a file and checks its header without decoding the pixels, so scanning a
folder of 20,000 photos stays quick. `decode_image` turns any mode Pillow knows (L, RGB,
RGBA, palette with transparency, 16-bit grayscale, CMYK) into uint8 L or RGB at the target
size; transparent pixels are laid on white, the way a viewer shows them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
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
    """What the header says: format name and size in pixels (width, height)."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


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

    Raises ImageProblem with a short reason when it is not.
    """
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


def decode_image(source: ImageSource, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode one image to uint8 (height, width, channels) at size=(height, width).

    channels is 1 (grayscale) or 3 (RGB). Transparent areas become white. Raises ImageProblem.
    """
    height, width = size
    mode = "L" if channels == 1 else "RGB"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        original = img = _open(source)
        try:
            if img.format in _DRAFTABLE_FORMATS:
                img.draft(mode, (width, height))
            # A header can claim 12,000 x 12,000 pixels over a few bytes of data; Pillow
            # allocates the whole picture before finding the data missing.
            full_w, full_h = img.size
            per_pixel = 1 if img.mode in ("1", "L", "P") else 4
            if full_w * full_h * per_pixel > MAX_DECODE_BYTES:
                raise ImageProblem(
                    f"{full_w:,}×{full_h:,} pixels: too large to decode safely; shrink it with "
                    "an image editor")
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
        except ImageProblem:
            raise
        except MemoryError:
            raise ImageProblem("too large to decode with the memory available") from None
        except Exception as exc:
            raise ImageProblem(f"damaged image ({exc})") from None
        finally:
            original.close()  # the file handle stays open until closed for multi-frame GIFs
    if channels == 1:
        pixels = pixels[:, :, np.newaxis]
    return pixels
