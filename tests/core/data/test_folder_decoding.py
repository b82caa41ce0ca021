"""FileSplit's decode: TensorFlow's decoders where they give Pillow's pixels, Pillow elsewhere.

Every file is converted as `image_decoding.decode_unresized` (Pillow) converts it and then
resized with `tf.image.resize` (bilinear, as Keras's `image_dataset_from_directory`), through
`tf_dataset` and `images()` alike.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.data.data_splits import FileSplit
from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.image_decoding import PixelFormat, decode_unresized, probe_image

# Measured on photo-like JPEGs (smooth gradients plus noise, quality 50..95, 4:2:0 and 4:4:4):
# with the accurate integer DCT, TensorFlow and Pillow gave identical pixels (0); one level
# is allowed for other libjpeg-turbo builds. TF's default fast DCT is up to 6 levels off.
JPEG_TOLERANCE = 1


def photo(rng: np.random.Generator, size: tuple[int, int], channels: int = 3) -> np.ndarray:
    height, width = size
    ramp = np.linspace(0, 1, width)[None, :, None]
    base = rng.uniform(40, 220, channels)
    pixels = base * (0.5 + 0.5 * ramp) + rng.normal(0, 25, (height, width, channels))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def png_cases(rng: np.random.Generator) -> dict[str, Image.Image]:
    """One image per PNG flavour a user's folder may hold (all 12×10)."""
    rgb = Image.fromarray(photo(rng, (10, 12)), "RGB")
    rgba = np.dstack([photo(rng, (10, 12)), rng.integers(0, 256, (10, 12), dtype=np.uint8)])
    palette = rgb.quantize(16)
    keyed = palette.copy()
    keyed.info["transparency"] = 3
    la = Image.fromarray(np.dstack([photo(rng, (10, 12), 1)[:, :, 0],
                                    rng.integers(0, 256, (10, 12), dtype=np.uint8)]), "LA")
    wide = Image.fromarray(rng.integers(0, 65536, (10, 12), dtype=np.uint16))  # I;16
    return {"L": rgb.convert("L"), "RGB": rgb, "RGBA": Image.fromarray(rgba, "RGBA"),
            "P": palette, "P-transparent": keyed, "LA": la, "16-bit": wide,
            "1-bit": rgb.convert("1"), "P-4bit": rgb.quantize(5)}


def write_split(folder: Path, images: dict[str, Image.Image], suffix: str, size: tuple[int, int],
                channels: int, **save: object) -> FileSplit:
    """A FileSplit of these images built the way the folder loader builds it (headers too)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in images.items():
        path = folder / f"{name}{suffix}"
        image.save(path, **save)
        paths.append(str(path))
    return FileSplit(paths, np.zeros(len(paths), np.int64), size, channels,
                     headers=[probe_image(p) for p in paths])


def pillow_expected(split: FileSplit) -> np.ndarray:
    """Pillow's conversion, then Keras's resize (rounded to whole levels)."""
    import tensorflow as tf

    out = []
    for path in split.paths:
        pixels = decode_unresized(path, split.image_size, split.channels)
        if pixels.shape[:2] != split.image_size:
            pixels = tf.round(tf.image.resize(pixels, split.image_size)).numpy()
        out.append(pixels.astype(np.uint8))
    return np.stack(out)


def both_paths(split: FileSplit) -> tuple[np.ndarray, np.ndarray]:
    """(images() of every file, the tf_dataset's pixels back in 0..255) in split order."""
    batches = [x.numpy() for x, _ in split.tf_dataset(batch_size=4)]
    streamed = np.round(np.concatenate(batches) * 255.0).astype(np.uint8)
    return split.images(range(split.count)), streamed


@pytest.mark.parametrize("channels", [1, 3])
def test_png_pixels_equal_pillows_through_both_paths(tmp_path, channels):
    rng = np.random.default_rng(channels)
    split = write_split(tmp_path, png_cases(rng), ".png", (10, 12), channels)
    formats = {Path(p).stem: probe_image(p).pixel_format for p in split.paths}
    # The common kinds go through TensorFlow; the rest through Pillow.
    assert formats["L"] is PixelFormat.GRAY and formats["RGB"] is PixelFormat.COLOR
    assert formats["RGBA"] is PixelFormat.COLOR_ALPHA and formats["P"] is PixelFormat.COLOR
    assert formats["P-transparent"] is None and formats["LA"] is None
    assert formats["16-bit"] is None and formats["1-bit"] is None
    expected = pillow_expected(split)
    via_images, via_dataset = both_paths(split)
    for row, path in enumerate(split.paths):
        name = Path(path).stem
        np.testing.assert_array_equal(via_images[row], expected[row], err_msg=name)
        np.testing.assert_array_equal(via_dataset[row], expected[row], err_msg=name)


def test_rgb_to_gray_uses_pillows_integer_formula_for_every_colour(tmp_path):
    # Every (r, g, b) step of 5 (52^3 = 140,608 colours) in one RGB PNG.
    steps = np.arange(0, 256, 5, dtype=np.uint8)
    r, g, b = np.meshgrid(steps, steps, steps, indexing="ij")
    colours = np.stack([r, g, b], axis=-1).reshape(52 * 52, 52, 3)
    split = write_split(tmp_path, {"all": Image.fromarray(colours, "RGB")}, ".png",
                        (52 * 52, 52), 1)
    expected = np.asarray(Image.fromarray(colours, "RGB").convert("L"))[:, :, None]
    np.testing.assert_array_equal(split.images([0])[0], expected)


def test_alpha_over_white_equals_pillow_for_every_value_and_alpha(tmp_path):
    values, alphas = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    rgba = np.stack([values, 255 - values, values // 2, alphas], axis=-1).astype(np.uint8)
    split = write_split(tmp_path, {"all": Image.fromarray(rgba, "RGBA")}, ".png", (256, 256), 3)
    assert probe_image(split.paths[0]).pixel_format is PixelFormat.COLOR_ALPHA
    expected = decode_unresized(split.paths[0], (256, 256), 3)
    np.testing.assert_array_equal(split.images([0])[0], expected)


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_pixels_are_within_decoder_tolerance_of_pillows(tmp_path, channels):
    rng = np.random.default_rng(7)
    images = {}
    for quality in (50, 75, 95):
        for subsampling in (0, 2):
            name = f"q{quality}-s{subsampling}"
            images[name] = Image.fromarray(photo(rng, (37, 45)), "RGB")
    images["gray"] = Image.fromarray(photo(rng, (37, 45), 1)[:, :, 0], "L")
    folder = tmp_path / "jpeg"
    folder.mkdir()
    paths = []
    for index, (name, image) in enumerate(images.items()):
        path = folder / f"{name}.jpg"
        quality = 50 + 45 * (index % 3) // 2
        image.save(path, quality=quality, subsampling=index % 2 * 2)
        paths.append(str(path))
    split = FileSplit(paths, np.zeros(len(paths), np.int64), (37, 45), channels,
                      headers=[probe_image(p) for p in paths])
    assert {probe_image(p).pixel_format for p in paths} == {PixelFormat.JPEG_COLOR,
                                                            PixelFormat.JPEG_GRAY}
    expected = pillow_expected(split).astype(int)
    via_images, via_dataset = both_paths(split)
    np.testing.assert_array_equal(via_images, via_dataset)
    assert np.abs(via_images.astype(int) - expected).max() <= JPEG_TOLERANCE


def test_cmyk_jpeg_webp_and_tiff_still_decode_through_pillow(tmp_path):
    rng = np.random.default_rng(3)
    rgb = Image.fromarray(photo(rng, (16, 16)), "RGB")
    folder = tmp_path / "other"
    folder.mkdir()
    rgb.convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    rgb.save(folder / "photo.webp", lossless=True)
    rgb.save(folder / "photo.tiff")
    paths = [str(folder / n) for n in ("cmyk.jpg", "photo.webp", "photo.tiff")]
    assert all(probe_image(p).pixel_format is None for p in paths)
    split = FileSplit(paths, np.zeros(3, np.int64), (16, 16), 3,
                      headers=[probe_image(p) for p in paths])
    via_images, via_dataset = both_paths(split)
    np.testing.assert_array_equal(via_images, via_dataset)
    np.testing.assert_array_equal(via_images[1], np.asarray(rgb))  # lossless WebP
    np.testing.assert_array_equal(via_images[2], np.asarray(rgb))


def test_resizing_is_kerases_bilinear_in_both_paths(tmp_path):
    import keras

    rng = np.random.default_rng(5)
    root = tmp_path / "folder"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for index in range(3):
            Image.fromarray(photo(rng, (40, 50)), "RGB").save(root / label / f"{index}.png")
    from cnnviz.core.data.datasets import load_dataset

    data = load_dataset(str(root), LoadOptions(target_size=(24, 20), validation_split=0))
    order = np.argsort(data.train.paths)
    keras_batch = next(iter(keras.utils.image_dataset_from_directory(
        str(root), image_size=(24, 20), batch_size=6, shuffle=False, verbose=False)))[0]
    ours = data.train.images(order)
    np.testing.assert_array_equal(ours, np.round(keras_batch.numpy()).astype(np.uint8))
    x, _ = next(iter(data.train.tf_dataset(6)))
    np.testing.assert_array_equal(np.round(x.numpy() * 255).astype(np.uint8)[order], ours)


def test_a_file_tf_cannot_decode_goes_to_pillow_and_a_broken_one_is_blank_once(tmp_path):
    rng = np.random.default_rng(9)
    folder = tmp_path / "files"
    folder.mkdir()
    paths = []
    for index in range(5):
        path = folder / f"{index}.png"
        Image.fromarray(photo(rng, (8, 8)), "RGB").save(path)
        paths.append(str(path))
    failures: list[tuple[str, str]] = []
    split = FileSplit(paths, np.arange(5) % 2, (8, 8), 3,
                      on_decode_failure=lambda p, r: failures.append((p, r)),
                      headers=[probe_image(p) for p in paths])
    # Since the scan: one file became a WebP (TF's PNG decoder cannot read it, Pillow
    # can), one was truncated (nobody can).
    webp = Image.fromarray(photo(rng, (8, 8)), "RGB")
    buffer = io.BytesIO()
    webp.save(buffer, "WEBP", lossless=True)
    Path(paths[1]).write_bytes(buffer.getvalue())
    Path(paths[3]).write_bytes(Path(paths[3]).read_bytes()[:40])
    via_images, via_dataset = both_paths(split)
    np.testing.assert_array_equal(via_images, via_dataset)
    np.testing.assert_array_equal(via_images[1], np.asarray(webp))
    assert via_images[3].max() == 0
    assert [p for p, _ in failures] == [paths[3]]
    labels = np.concatenate([y.numpy() for _, y in split.tf_dataset(2, shuffle=True, seed=1)])
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1]  # every example, labels kept
