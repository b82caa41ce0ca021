"""`cnnviz evaluate` as a user meets it: a real saved model on the bundled MNIST sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main

COLOUR_SPEC = {
    "name": "colour",
    "input_shape": [32, 32, 3],
    "layers": [
        {"type": "Conv2D", "params": {"filters": 2, "kernel_size": [5, 5], "strides": [3, 3]}},
        {"type": "Flatten"},
        {"type": "Dense", "params": {"units": 10, "activation": "softmax"}},
    ],
}


@pytest.fixture(scope="module")
def mnist_model(tmp_path_factory) -> Path:
    """A small CNN trained for one quick epoch on part of the MNIST sample, saved as .keras."""
    import keras

    from cnnviz.core.model.builder import save_model_file
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.training.engine import TrainConfig, train

    keras.utils.set_random_seed(11)
    data = load_dataset("mnist-sample", LoadOptions(limit=1500, validation_split=0))
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    train(model, data, TrainConfig(epochs=1, batch_size=32, learning_rate=0.01, seed=1))
    return save_model_file(model, tmp_path_factory.mktemp("models") / "digits.keras")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["evaluate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def matrix_rows(out: str, count: int) -> np.ndarray:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("confusion matrix"))
    header = lines[start + 1].split()
    assert header[:3] == ["true", "\\", "predicted"]
    rows = lines[start + 2:start + 2 + count]
    return np.array([[int(v.replace(",", "")) for v in row.split()[-count:]] for row in rows])


def test_evaluate_prints_scores_matrix_and_the_accuracy_last(mnist_model, capsys):
    code, out, err = run(capsys, str(mnist_model), "--data", "mnist-sample",
                         "--batch-size", "500")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("MNIST sample:") and "28×28 grayscale" in lines[0]
    assert "split: the 2,000 test digits of MNIST sample" in out
    assert lines[-1].startswith("accuracy: ")
    printed = float(lines[-1].split(": ")[1])

    from cnnviz.core.model.builder import load_model_file
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.inspect.evaluation import evaluate_model

    expected = evaluate_model(load_model_file(mnist_model), load_dataset("mnist-sample"))
    assert lines[-1] == f"accuracy: {expected.accuracy:.4f}"
    assert 0.5 < printed < 1.0  # trained, but briefly
    assert f"loss: {expected.loss:.4f}" in out
    np.testing.assert_array_equal(matrix_rows(out, 10), expected.confusion)
    table = lines[lines.index(next(l for l in lines if l.startswith("class"))):][:11]
    assert table[0].split() == ["class", "precision", "recall", "support"]
    for k, row in enumerate(table[1:]):
        name, precision, recall, support = row.split()
        assert name == str(k) and int(support.replace(",", "")) == expected.support[k]
        assert float(recall) == pytest.approx(expected.recall[k], abs=5e-5)
        assert float(precision) == pytest.approx(expected.precision[k], abs=5e-5)
    assert "evaluating: 2,000/2,000 images" in err  # progress on stderr, not stdout
    assert "evaluating" not in out


def test_a_mismatch_says_what_does_not_fit_and_adapt_converts(tmp_path, capsys):
    spec = tmp_path / "colour.json"
    spec.write_text(json.dumps(COLOUR_SPEC), encoding="utf-8")
    code, out, err = run(capsys, str(spec), "--data", "mnist-sample")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("cnnviz: ")
    assert "32×32×3 (colour)" in err and "28×28×1 (grayscale)" in err and "--adapt" in err

    code, out, err = run(capsys, str(spec), "--data", "mnist-sample", "--adapt",
                         "--split", "validation")
    assert code == 0, err
    assert "resized from 28×28 to 32×32 and converted from grayscale to RGB" in out
    assert "split: the 800 validation digits of MNIST sample" in out
    assert out.strip().splitlines()[-1].startswith("accuracy: ")
    assert "random weights" in err
    assert matrix_rows(out, 10).sum() == 800


def test_images_that_cannot_be_converted_are_refused_even_with_adapt(tmp_path, capsys):
    import keras

    from cnnviz.core.model.builder import save_model_file

    model = keras.Sequential([keras.Input((28, 28, 4)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    path = save_model_file(model, tmp_path / "four.keras")
    code, _, err = run(capsys, str(path), "--data", "mnist-sample")
    assert code == 2 and "28×28×4" in err and "--adapt" not in err
    code, _, err = run(capsys, str(path), "--data", "mnist-sample", "--adapt")
    assert code == 2 and "cannot convert" in err and len(err.strip().splitlines()) == 1


def three_class_npz(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(30, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 3, size=30).astype(np.uint8)
    np.savez(path, x_train=x, y_train=y, x_test=x[:9], y_test=y[:9])
    return path


def png_folder_without_test(root: Path) -> Path:
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(root / name / f"{i}.png")
    return root


@pytest.mark.parametrize("case, words", [
    ("missing", "No such file"),
    ("text", "cannot read '.txt' files"),
    ("damaged", "damaged"),
    ("source", "Unknown data source 'imagenet'"),
    ("batch", "--batch-size must be at least 1"),
    ("classes", "10 class scores, but the data has 3 classes"),
    ("split", "no test images; use --split all or --split validation or --split train"),
])
def test_bad_input_exits_2_with_one_line(mnist_model, tmp_path, capsys, case, words):
    model, data, extra = str(mnist_model), "mnist-sample", []
    if case == "missing":
        model = str(tmp_path / "nope.keras")
    elif case == "text":
        model = str(tmp_path / "notes.txt")
        Path(model).write_text("not a model", encoding="utf-8")
    elif case == "damaged":
        model = str(tmp_path / "broken.keras")
        Path(model).write_bytes(b"PK\x03\x04 cut short")
    elif case == "source":
        data = "imagenet"
    elif case == "batch":
        extra = ["--batch-size", "0"]
    elif case == "classes":
        data = str(three_class_npz(tmp_path / "three.npz"))
    elif case == "split":
        data = str(png_folder_without_test(tmp_path / "photos"))
        extra = ["--split", "test"]
    code, out, err = run(capsys, model, "--data", data, *extra)
    assert code == 2
    assert err.startswith("cnnviz: ") and words in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and out == ""


def test_an_architecture_json_with_its_weights_beside_it_is_evaluated(tmp_path, capsys):
    """`model.to_json()` plus `model.save_weights()` work as MODEL, like a .keras file."""
    import re

    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.presets import preset_spec

    model = build_model(preset_spec("lenet5"))
    (tmp_path / "lenet.json").write_text(model.to_json(), encoding="utf-8")
    model.save_weights(tmp_path / "lenet.weights.h5")
    model.save(tmp_path / "lenet.keras")
    assert main(["evaluate", str(tmp_path / "lenet.json"), "--data", "mnist-sample"]) == 0
    from_json = capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "lenet.keras"), "--data", "mnist-sample"]) == 0
    from_keras = capsys.readouterr()
    last = re.compile(r"accuracy: (\d\.\d+)\s*$")
    assert last.search(from_json.out).group(1) == last.search(from_keras.out).group(1)
    (tmp_path / "lenet.weights.h5").unlink()
    (tmp_path / "lenet.keras").unlink()   # a whole model beside it would serve as weights too
    assert main(["evaluate", str(tmp_path / "lenet.json"), "--data", "mnist-sample"]) == 0
    assert "random" in capsys.readouterr().err
