"""`cnnviz train` as a user meets it: a real (tiny) training run, and one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from cnnviz.cli import main

TINY_SPEC = {
    "name": "tiny",
    "input_shape": [12, 12, 1],
    "layers": [
        {"type": "Conv2D", "params": {"filters": 4, "kernel_size": [3, 3], "activation": "relu"}},
        {"type": "MaxPooling2D"},
        {"type": "Flatten"},
        {"type": "Dense", "params": {"units": 3, "activation": "softmax"}},
    ],
}


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def three_pattern_npz(path: Path, count: int = 240) -> Path:
    """A Keras-style .npz with three easy classes: a bright top, left or bottom half."""
    rng = np.random.default_rng(0)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 3, size=n)
        x = rng.integers(0, 40, size=(n, 12, 12), dtype=np.uint8)
        for i, label in enumerate(labels):
            region = (slice(0, 6), slice(None)) if label == 0 else \
                (slice(None), slice(0, 6)) if label == 1 else (slice(6, 12), slice(None))
            x[i][region] = 220
        return x, labels.astype(np.uint8)

    x_train, y_train = images(count)
    x_test, y_test = images(count // 4)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def test_train_saves_a_model_and_prints_test_accuracy_last(tmp_path, capsys):
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    data = three_pattern_npz(tmp_path / "patterns.npz")
    out, history = tmp_path / "trained.keras", tmp_path / "history.csv"
    code = main(["train", str(spec), "--data", str(data), "--epochs", "4", "--batch-size", "16",
                 "--lr", "0.01", "--out", str(out), "--history", str(history)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ")
    accuracy = float(last.split(": ")[1])
    assert accuracy >= 0.9  # three obvious patterns: a working engine learns them
    assert "epoch 4/4" in captured.err  # progress went to stderr
    rows = list(csv.DictReader(history.open(encoding="utf-8")))
    assert [row["epoch"] for row in rows] == ["1", "2", "3", "4"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])

    from cnnviz.core.model.builder import load_model_file

    model = load_model_file(out)
    assert model.count_params() == 3 * 3 * 1 * 4 + 4 + 5 * 5 * 4 * 3 + 3


@pytest.mark.parametrize("args, words", [
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--epochs", "1", "--batch-size", "0"], "--batch-size"),
    (["--epochs", "1", "--val-split", "1.5"], "--val-split"),
    (["--epochs", "1", "--lr", "-1"], "--lr"),
])
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, args, words):
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    code = main(["train", str(spec), "--data", "mnist-sample", "--out", str(tmp_path / "m.keras"),
                 *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("cnnviz: ") and words in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_source_and_missing_files_exit_2(tmp_path, capsys):
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    out = str(tmp_path / "m.keras")
    assert main(["train", str(spec), "--data", "imagenet", "--epochs", "1", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "imagenet" in err and "mnist-sample" in err and len(err.strip().splitlines()) == 1
    assert main(["train", str(tmp_path / "nope.json"), "--data", "mnist-sample", "--epochs", "1",
                 "--out", out]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["train", str(spec), "--data", "mnist-sample", "--epochs", "1",
                 "--out", str(tmp_path / "missing" / "m.keras")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()


def test_a_model_that_does_not_fit_the_data_is_refused_with_the_fix(tmp_path, capsys):
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)  # 12×12×1 with 3 classes
    code = main(["train", str(spec), "--data", "mnist-sample", "--epochs", "1",
                 "--out", str(tmp_path / "m.keras")])
    err = capsys.readouterr().err
    assert code == 2
    assert "does not fit" in err and "28×28×1" in err and "Fix:" in err
    assert not (tmp_path / "m.keras").exists()
