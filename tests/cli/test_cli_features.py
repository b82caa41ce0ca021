"""`cnnviz features` as a user meets it: the bundled trained model on the MNIST sample."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz.cli import main

MODEL_FILE = Path(__file__).parents[2] / "sample_models" / "mnist_cnn_small.keras"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["features", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_writes_features_coordinates_and_a_map(capsys, tmp_path):
    code, out, err = run(capsys, str(MODEL_FILE), "--data", "mnist-sample", "--layer", "dense",
                         "--out", str(tmp_path), "--split", "validation", "--limit", "120")
    assert code == 0, err
    assert "dense: 10 numbers per image" in out and "nearest-neighbour accuracy" in out
    with np.load(tmp_path / "features.npz", allow_pickle=False) as stored:
        assert stored["features"].shape == (120, 10)
        assert str(stored["layer"]) == "dense"
        assert str(stored["base"]) == "mnist_cnn_small.keras"
        indices, labels = stored["indices"], stored["labels"]
        # The last layer is the softmax: each row is the model's probabilities.
        np.testing.assert_allclose(stored["features"].sum(axis=1), 1.0, rtol=1e-5)
    with open(tmp_path / "coordinates.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["index"]) for r in rows] == indices.tolist()
    assert [int(r["label"]) for r in rows] == labels.tolist()
    picture = Image.open(tmp_path / "map.png")
    assert picture.width > 500 and picture.height > 400
    # Points of several classes were drawn: many distinct colours on the picture.
    colours = np.unique(np.asarray(picture.convert("RGB")).reshape(-1, 3), axis=0)
    assert len(colours) > 50


def test_several_layers_side_by_side_and_the_cache(capsys, tmp_path):
    args = [str(MODEL_FILE), "--data", "mnist-sample", "--layer", "conv2d,max_pooling2d_1",
            "--layer", "dense", "--out", str(tmp_path), "--limit", "200"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    for layer in ("conv2d", "max_pooling2d_1", "dense"):
        assert (tmp_path / f"features-{layer}.npz").is_file()
        assert (tmp_path / f"coordinates-{layer}.csv").is_file()
    assert "images: 200 of the 2,000 test digits of MNIST sample" in out
    assert "averaged over its positions" in out.splitlines()[2]
    accuracies = [float(line.rsplit(" ", 1)[1].rstrip("%")) for line in out.splitlines()
                  if "nearest-neighbour accuracy" in line]
    assert accuracies[0] < accuracies[2]
    code, out, _ = run(capsys, *args)
    assert code == 0 and out.count("(from the cache)") == 3


def test_a_layer_that_does_not_exist_is_named(capsys, tmp_path):
    code, _, err = run(capsys, str(MODEL_FILE), "--data", "mnist-sample", "--layer", "dense_2",
                       "--out", str(tmp_path))
    assert code == 2
    assert "no layer called 'dense_2'" in err and "dense" in err
    assert "Traceback" not in err


def test_data_of_another_size_is_refused_then_adapted(capsys, tmp_path):
    folder = tmp_path / "photos"
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (folder / name).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
                folder / name / f"{i}.png")
    npz = tmp_path / "colour.npz"
    np.savez(npz, x=rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8),
             y=np.arange(12) % 2)
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, str(MODEL_FILE), "--data", str(npz), "--layer", "dense",
                       "--out", str(out_dir))
    assert code == 2
    assert "does not fit the model" in err and "--adapt" in err
    code, out, err = run(capsys, str(MODEL_FILE), "--data", str(npz), "--layer", "dense",
                         "--out", str(out_dir), "--adapt", "--no-cache")
    assert code == 0, err
    with np.load(out_dir / "features.npz") as stored:
        assert stored["features"].shape == (12, 10)
    # A folder is decoded at the model's size and colours straight away.
    code, out, err = run(capsys, str(MODEL_FILE), "--data", str(folder), "--layer", "flatten",
                         "--out", str(out_dir), "--method", "tsne")
    assert code == 0, err
    assert "images: 12 of all 12 images of photos" in out and "flatten: 800 numbers per image" in out
    with open(out_dir / "coordinates.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(r["label"]) for r in rows) == [0] * 6 + [1] * 6
    assert len({(r["x"], r["y"]) for r in rows}) == 12  # t-SNE placed each image


def test_bad_numbers_are_refused(capsys, tmp_path):
    code, _, err = run(capsys, str(MODEL_FILE), "--data", "mnist-sample", "--layer", "dense",
                       "--out", str(tmp_path), "--limit", "-3")
    assert code == 2 and "--limit" in err


def test_a_keras_application_by_name(capsys, tmp_path, monkeypatch):
    """MobileNetV2 with random weights (offline): its own preprocess resizes the digits."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    code, out, err = run(capsys, "mobilenet_v2", "--weights", "random", "--size", "32",
                         "--data", "mnist-sample", "--layer", "out_relu", "--limit", "40",
                         "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "base: mobilenet_v2, 32×32×3 input, random weights" in err
    assert "out_relu: 1,280 numbers per image" in out
    with np.load(tmp_path / "out" / "features.npz", allow_pickle=False) as stored:
        assert stored["features"].shape == (40, 1280)
        assert str(stored["base"]) == "mobilenet_v2"


def test_a_wrong_weights_file_is_named_with_the_way_out(capsys, tmp_path, monkeypatch):
    from cnnviz.core.transfer.bases import weights_file_for

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    file_name, _url, expected = weights_file_for("vgg16")
    (tmp_path / "keras" / "models").mkdir(parents=True)
    (tmp_path / "keras" / "models" / file_name).write_bytes(b"not an HDF5 file")
    code, _out, err = run(capsys, "vgg16", "--data", "mnist-sample", "--layer",
                          "block5_pool", "--out", str(tmp_path / "out"))
    assert code == 2 and expected
    assert file_name in err and str(expected) in err and "--weights random" in err
    assert len(err.strip().splitlines()) == 1
