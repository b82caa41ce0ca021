"""`cnnviz evaluate` on a UCR folder measures its TEST file, as Keras scores the same series."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.cli import main
from tests.cli.test_cli_whole_sources import evaluate_cli
from tests.core.data.series_fixtures import series_values, write_ts


def conv1d_model(folder, steps: int, channels: int, classes: int):
    import keras

    keras.utils.set_random_seed(5)
    model = keras.Sequential([
        keras.Input((steps, channels)),
        keras.layers.Conv1D(4, 3, activation="relu"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(classes, activation="softmax"),
    ])
    path = folder / "conv1d.keras"
    model.save(path)
    return path


def test_evaluate_on_a_ucr_folder_uses_its_test_file(tmp_path, capsys):
    import keras

    folder = tmp_path / "Tiny"
    folder.mkdir()
    x_train, x_test = series_values(6, 24, seed=1) * 3, series_values(9, 24, seed=2) * 3
    test_labels = ["2", "1", "1", "2", "1", "2", "2", "2", "1"]
    write_ts(folder / "Tiny_TRAIN.ts", x_train, ["1", "2"] * 3)
    write_ts(folder / "Tiny_TEST.ts", x_test, test_labels)
    model_path = conv1d_model(tmp_path, 24, 1, 2)
    split, loss, accuracy = evaluate_cli(capsys, model_path, folder)
    assert split == "split: the 9 test series of Tiny"
    model = keras.models.load_model(model_path)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    y = np.array([int(label) - 1 for label in test_labels])
    expected_loss, expected_accuracy = model.evaluate(x_test.astype(np.float32), y, verbose=0)
    assert loss == pytest.approx(expected_loss, abs=2e-4)
    assert accuracy == pytest.approx(expected_accuracy, abs=1e-4)


def test_evaluate_refuses_signals_with_the_wrong_channels(tmp_path, capsys):
    folder = tmp_path / "Six"
    folder.mkdir()
    for part in ("TRAIN", "TEST"):
        write_ts(folder / f"Six_{part}.ts", series_values(4, 24, channels=6), ["a", "b"] * 2)
    model_path = conv1d_model(tmp_path, 24, 1, 2)
    assert main(["evaluate", str(model_path), "--data", str(folder)]) != 0
    err = capsys.readouterr().err
    assert "signals with 1 channel" in err and "6 channels" in err
