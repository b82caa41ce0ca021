"""Inputs for the explainer: drawings normalised like MNIST, image files, dataset examples."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.errors import ExplainError
from cnnviz.core.data.input_images import (dataset_input, explain_split, image_file_to_input,
                                      input_mismatch, prepare_drawing)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    plane = image[..., 0] if image.ndim == 3 else image
    rows, cols = np.indices(plane.shape)
    mass = plane.sum()
    return float((rows * plane).sum() / mass), float((cols * plane).sum() / mass)


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """(height, width) of the bounding box of everything not black."""
    plane = image[..., 0]
    rows = np.flatnonzero(plane.max(axis=1) > 0)
    cols = np.flatnonzero(plane.max(axis=0) > 0)
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


# -- drawings ------------------------------------------------------------------------------

def test_a_stroke_in_a_corner_ends_up_centred_by_mass_inside_a_20x20_box():
    ink = np.zeros((280, 280), np.float32)
    # An "L" drawn small in the top-right corner: its mass is far from its box's centre.
    ink[10:90, 200:212] = 1.0
    ink[78:90, 200:260] = 1.0
    out = prepare_drawing(ink)
    assert out.shape == (28, 28, 1) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    # MNIST's digits have their centre of mass at pixel (14, 14) (index coordinates).
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5
    height, width = ink_box(out)
    assert height == 20 and width <= 20  # the longer side fills the MNIST box, no more


def test_a_digit_already_normalised_like_mnist_comes_back_unchanged():
    digit = np.zeros((28, 28), np.float32)
    digit[4:7, 7:20] = 1.0                      # the bar of a "7": 20 rows tall with the stem
    for row in range(7, 24):
        col = 18 - (row - 7) // 2
        digit[row, col:col + 3] = (0.4, 1.0, 0.6)  # the stem, with soft edges
    cy, cx = centre_of_mass(digit[..., None])
    # Moved by whole pixels to where MNIST puts a digit's centre of mass.
    digit = np.roll(digit, (round(14 - cy), round(14 - cx)), axis=(0, 1))
    cy, cx = centre_of_mass(digit[..., None])
    assert abs(cy - 14) < 0.45 and abs(cx - 14) < 0.45 and ink_box(digit[..., None])[0] == 20
    assert digit[0].max() == digit[:, 0].max() == 0  # nothing wrapped round the edge
    drawn = np.kron(digit, np.ones((10, 10), np.float32))  # the same digit drawn 10× larger
    np.testing.assert_allclose(prepare_drawing(drawn)[..., 0], digit, atol=1e-6)


def test_centres_of_mass_average_where_mnist_has_them():
    rng = np.random.default_rng(11)
    centres = []
    for _ in range(40):
        ink = np.zeros((140, 140), np.float32)
        y, x = rng.integers(20, 120, 2)
        for _ in range(4):  # a pen path: four joined thick strokes in random directions
            y2, x2 = np.clip((y, x) + rng.integers(-40, 41, 2), 0, 139)
            for t in np.linspace(0, 1, 50):
                cy, cx = int(y + t * (y2 - y)), int(x + t * (x2 - x))
                ink[max(cy - 5, 0):cy + 5, max(cx - 5, 0):cx + 5] = 1.0
            y, x = y2, x2
        centres.append(centre_of_mass(prepare_drawing(ink)))
    centres = np.array(centres)
    assert np.all(np.abs(centres - 14) <= 0.5)
    # Whole-pixel shifts scatter the centres by ±0.5, evenly: on average they sit at
    # (14, 14), as MNIST's do (13.98, 14.01 over its test set), not at 13.5.
    np.testing.assert_allclose(centres.mean(axis=0), (14, 14), atol=0.12)


def test_a_lopsided_drawing_is_kept_whole_rather_than_pushed_off_the_field():
    ink = np.zeros((200, 200), np.float32)
    ink[10:190, 10:14] = 1.0      # a long thin line...
    ink[150:190, 100:190] = 1.0   # ...ending in a heavy blob: the mass sits near one corner
    out = prepare_drawing(ink)
    height, width = ink_box(out)
    assert height == 20 and width == 20  # nothing cut off...
    assert out[0, :, 0].max() > 0 and out[:, 0, 0].max() == 0  # ...moved only as far as the edge


def test_the_aspect_ratio_is_kept():
    ink = np.zeros((200, 300), np.float32)
    ink[50:150, 120:170] = 1.0  # 100 tall, 50 wide
    height, width = ink_box(prepare_drawing(ink))
    assert height == 20 and width == 10


def test_a_wide_drawing_fits_by_its_width_and_other_sizes_scale_the_box():
    ink = np.zeros((100, 100), np.float32)
    ink[40:50, 0:100] = 1.0  # a horizontal bar, 10 × 100
    out = prepare_drawing(ink, size=(56, 56))
    assert out.shape == (56, 56, 1)
    height, width = ink_box(out)
    assert width == 40 and height == 4  # 20/28 of 56 is 40
    cy, cx = centre_of_mass(out)
    assert abs(cy - 28) <= 0.5 and abs(cx - 28) <= 0.5


def test_shrinking_is_anti_aliased():
    ink = np.zeros((280, 280), np.float32)
    ink[40:48, 40:240] = 1.0   # a bar across the top makes the drawing 200 px wide...
    ink[40:240, 85:93] = 1.0   # ...so this 8 px line shrinks (10×) to 0.8 px between two columns
    out = prepare_drawing(ink)[..., 0]
    row = out[14]  # through the middle of the line, below the bar
    lit = row[row > 0.02]
    # Sampling would give one fully lit pixel or none; averaging spreads 0.8 px of ink
    # over two partly lit pixels.
    assert len(lit) >= 2 and lit.max() < 0.9
    assert row.sum() == pytest.approx(0.8, abs=0.05)


@pytest.mark.parametrize("ink", [np.zeros((280, 280)), np.full((280, 280), 0.001)])
def test_an_empty_drawing_asks_to_draw_first(ink):
    with pytest.raises(ExplainError, match="Draw something first"):
        prepare_drawing(ink)


def test_a_stray_dot_counts_as_empty():
    ink = np.zeros((280, 280), np.float32)
    ink[100:103, 100:103] = 1.0
    with pytest.raises(ExplainError, match="Draw something first"):
        prepare_drawing(ink)


# -- image files ---------------------------------------------------------------------------

def write_test_images(folder):
    """One picture (a bright square on a dark field) in several modes and formats."""
    base = np.zeros((40, 60, 3), np.uint8)
    base[10:30, 20:40] = (250, 200, 40)
    rgb = Image.fromarray(base, "RGB")
    paths = {}
    rgba = rgb.convert("RGBA")
    paths["rgba.png"] = rgba
    paths["palette.png"] = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    paths["gray.png"] = rgb.convert("L")
    paths["photo.jpg"] = rgb
    for name, image in paths.items():
        image.save(folder / name)
    return sorted(paths)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_image_files_of_every_mode_become_model_inputs(tmp_path, shape):
    for name in write_test_images(tmp_path):
        out = image_file_to_input(tmp_path / name, shape)
        assert out.shape == shape and out.dtype == np.float32, name
        assert 0.0 <= out.min() and out.max() <= 1.0
        # The bright square is in the middle and the border is dark, whatever the format.
        height, width = shape[:2]
        centre = out[height // 2, width // 2].mean()
        assert centre > 0.5 and out[1, 1].mean() < 0.1, name


def test_colour_is_kept_for_rgb_models(tmp_path):
    write_test_images(tmp_path)
    red, green, blue = image_file_to_input(tmp_path / "rgba.png", (32, 32, 3))[16, 16]
    assert red > 0.9 and 0.7 < green < 0.85 and blue < 0.25  # (250, 200, 40) / 255


def test_transparent_areas_become_white_like_training_images(tmp_path):
    image = np.zeros((10, 10, 4), np.uint8)
    image[:, :5] = (0, 0, 0, 255)  # left half opaque black, right half transparent
    Image.fromarray(image, "RGBA").save(tmp_path / "half.png")
    out = image_file_to_input(tmp_path / "half.png", (10, 10, 1))
    assert out[5, 1, 0] < 0.05 and out[5, 8, 0] > 0.95


def test_a_text_file_named_png_is_refused_by_name(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("these are my lecture notes, not a picture")
    with pytest.raises(ExplainError, match="notes.png") as caught:
        image_file_to_input(path, (28, 28, 1))
    assert "not an image" in str(caught.value)


def test_a_truncated_file_is_refused_by_name(tmp_path):
    write_test_images(tmp_path)
    data = (tmp_path / "photo.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ExplainError, match="cut.jpg"):
        image_file_to_input(tmp_path / "cut.jpg", (28, 28, 1))


def test_a_missing_file_and_an_odd_channel_count_are_explained(tmp_path):
    with pytest.raises(ExplainError, match="gone.png: there is no such file"):
        image_file_to_input(tmp_path / "gone.png", (28, 28, 1))
    write_test_images(tmp_path)
    with pytest.raises(ExplainError, match="4 channels"):
        image_file_to_input(tmp_path / "rgba.png", (28, 28, 4))


@pytest.mark.parametrize("kind", ["png", "jpg"])
def test_a_10000_pixel_square_image_converts(tmp_path, kind):
    path = tmp_path / f"huge.{kind}"
    # One colour: cheap to write, yet the decoder must still deal with 100 million pixels.
    if kind == "png":
        Image.new("L", (10_000, 10_000), 200).save(path)
    else:
        Image.new("RGB", (10_000, 10_000), (200, 60, 20)).save(path, quality=80)
    out = image_file_to_input(path, (32, 32, 3))
    assert out.shape == (32, 32, 3)
    expected = (200, 200, 200) if kind == "png" else (200, 60, 20)
    np.testing.assert_allclose(out[16, 16] * 255, expected, atol=4)


def png_header_only(width: int, height: int, colour_type: int = 0) -> bytes:
    """A PNG whose header claims width × height (colour type 0 gray, 2 RGB) but holds few
    pixels: whatever is refused from the header alone is refused before any decoding."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def test_a_huge_colour_png_gets_a_clear_answer_instead_of_400_mb(tmp_path):
    path = tmp_path / "poster.png"
    path.write_bytes(png_header_only(10_000, 10_000, colour_type=2))
    with pytest.raises(ExplainError, match=r"poster.png is 10,000×10,000 pixels.*MB of memory"):
        image_file_to_input(path, (28, 28, 1))


def test_an_image_past_the_decompression_bomb_limit_is_refused_clearly(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(20_000, 20_000))  # 400 million pixels
    with pytest.raises(ExplainError, match="bomb.png is too large to open safely"):
        image_file_to_input(path, (28, 28, 1))


# -- dataset examples ----------------------------------------------------------------------

def tiny_dataset(test_count: int = 5, validation_count: int = 3) -> Dataset:
    rng = np.random.default_rng(3)

    def split(count: int, offset: int) -> ArraySplit:
        x = rng.integers(0, 256, (count, 8, 8, 1), dtype=np.uint8)
        y = (np.arange(count) + offset) % 3
        return ArraySplit(x, y)

    return Dataset("tiny", "tiny test data", ["cat", "dog", "fox"], (8, 8, 1),
                   train=split(6, 0),
                   validation=split(validation_count, 1) if validation_count else None,
                   test=split(test_count, 2) if test_count else None)


def test_dataset_input_gives_the_image_in_0_1_and_its_label():
    data = tiny_dataset()
    image, label = dataset_input(data, "test", 3)
    assert image.dtype == np.float32 and image.shape == (8, 8, 1)
    np.testing.assert_array_equal(image, data.test.images([3])[0] / np.float32(255))
    assert label == int(data.test.labels()[3]) == (3 + 2) % 3


def test_dataset_input_out_of_range_or_missing_split_is_an_explain_error():
    data = tiny_dataset(test_count=0)
    with pytest.raises(ExplainError, match="no test images"):
        dataset_input(data, "test", 0)
    with pytest.raises(ExplainError, match="no image #6: the 6 training images of tiny are numbered 0 to 5"):
        dataset_input(data, "train", 6)


def test_explain_split_prefers_test_then_validation_then_train():
    assert explain_split(tiny_dataset()) == "test"
    assert explain_split(tiny_dataset(test_count=0)) == "validation"
    assert explain_split(tiny_dataset(test_count=0, validation_count=0)) == "train"


def test_input_mismatch_says_what_the_model_expects():
    message = input_mismatch((32, 32, 3), (28, 28, 1))
    assert message == ("The model expects 28×28×1 (grayscale) images, but these are "
                       "32×32×3 (colour).")
    assert "28×28×3" in input_mismatch((28, 28, 1), (28, 28, 3))
    assert input_mismatch((28, 28, 1), (28, 28, 1)) is None
    assert input_mismatch((28, 28, 1), (None, None, 1)) is None
