"""Make the bundled offline samples in cnnviz/assets/samples from the shared source data.

    .venv/bin/python assets/make_samples.py /path/to/shared/data [--out cnnviz/assets/samples]

The data folder must hold mnist-t10k/ (MNIST's t10k IDX .gz files) and cifar10-sample/
(train/<class>/*.jpg, test/<class>/*.jpg). This script is the only place that reads it: the
app and its tests use the samples this writes. Output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "cnnviz" / "assets" / "samples"
MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
FOLDER_SAMPLE_CLASSES = ("cat", "frog", "ship")
FOLDER_SAMPLE_PER_CLASS = 40
# A fixed timestamp keeps the zip identical from run to run.
ZIP_DATE = (2009, 4, 8, 0, 0, 0)


def make_mnist_sample(data: Path, out: Path) -> None:
    """Copy the real MNIST test split unchanged (IDX, gzipped)."""
    target = out / "mnist_sample"
    target.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        shutil.copyfile(data / "mnist-t10k" / name, target / name)


def make_cifar10_sample(data: Path, out: Path) -> int:
    """Put the CIFAR-10 sample's JPEGs, unchanged, into one zip without recompressing them."""
    source = data / "cifar10-sample"
    count = 0
    zip_path = out / "cifar10_sample.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as archive:
        for split in ("train", "test"):
            for class_name in CIFAR10_CLASSES:
                for jpeg in sorted((source / split / class_name).glob("*.jpg")):
                    info = zipfile.ZipInfo(f"{split}/{class_name}/{jpeg.name}", ZIP_DATE)
                    archive.writestr(info, jpeg.read_bytes(), compress_type=zipfile.ZIP_STORED)
                    count += 1
    return count


def _with_transparent_border(img: Image.Image) -> Image.Image:
    rgba = img.convert("RGBA")
    alpha = Image.new("L", rgba.size, 0)
    alpha.paste(255, (3, 3, rgba.width - 3, rgba.height - 3))
    rgba.putalpha(alpha)
    return rgba


def _palette_with_transparency(img: Image.Image) -> Image.Image:
    pal = img.convert("P", palette=Image.Palette.ADAPTIVE, colors=63)
    colours = pal.getpalette()[: 63 * 3]
    # Pad to 63 colours, then a 64th entry (magenta) that is made transparent.
    colours += [0, 0, 0] * (63 - len(colours) // 3) + [255, 0, 255]
    pal.putpalette(colours)
    pal.paste(63, (0, 0, pal.width, 2))  # the top two rows show it
    pal.info["transparency"] = 63
    return pal


def _save_variant(jpeg: Path, index: int, folder: Path) -> None:
    """One of eight formats/modes/sizes, so the sample exercises the folder loader."""
    stem = folder / f"{jpeg.parent.name}_{index:03d}"
    variant = index % 8
    if variant == 0:  # the original JPEG bytes
        shutil.copyfile(jpeg, stem.with_suffix(".jpg"))
        return
    img = Image.open(jpeg).convert("RGB")
    if variant == 1:
        img.save(stem.with_suffix(".png"), optimize=True)
    elif variant == 2:
        img.save(stem.with_suffix(".bmp"))
    elif variant == 3:
        img.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(stem.with_suffix(".gif"))
    elif variant == 4:
        _with_transparent_border(img).save(stem.with_suffix(".png"), optimize=True)
    elif variant == 5:
        img.convert("L").resize((40, 56), Image.Resampling.BICUBIC).save(
            stem.with_suffix(".png"), optimize=True)
    elif variant == 6:
        _palette_with_transparency(img).save(stem.with_suffix(".png"), optimize=True,
                                             transparency=63)
    else:
        img.resize((64, 64), Image.Resampling.BICUBIC).save(stem.with_suffix(".jpeg"), quality=85)


def make_folder_sample(data: Path, out: Path) -> int:
    """A small image folder from the CIFAR sample's test images, in mixed formats and sizes."""
    target = out / "folder_sample"
    if target.exists():
        shutil.rmtree(target)
    count = 0
    for class_name in FOLDER_SAMPLE_CLASSES:
        folder = target / class_name
        folder.mkdir(parents=True)
        jpegs = sorted((data / "cifar10-sample" / "test" / class_name).glob("*.jpg"))
        for index, jpeg in enumerate(jpegs[:FOLDER_SAMPLE_PER_CLASS]):
            _save_variant(jpeg, index, folder)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder holding mnist-t10k/ and cifar10-sample/")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the samples")
    args = parser.parse_args(argv)
    for needed in ("mnist-t10k", "cifar10-sample"):
        if not (args.data / needed).is_dir():
            print(f"{args.data / needed} is missing", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    make_mnist_sample(args.data, args.out)
    cifar = make_cifar10_sample(args.data, args.out)
    folder = make_folder_sample(args.data, args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"mnist_sample: 10,000 digits; cifar10_sample.zip: {cifar:,} JPEGs; "
          f"folder_sample: {folder} images; {total / 1e6:.2f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
