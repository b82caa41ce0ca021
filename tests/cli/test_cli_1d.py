"""The commands on 1-D models and time series: `train` on the bundled GunPoint and a series
CSV, `evaluate` and `explain` on a UCR folder's TEST file, `explain --position T` equal to
Keras, and plain refusals when images meet a 1-D model or signals a 2-D one."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cnnviz.cli import main
from tests.core.data.series_fixtures import series_values, write_ts

STEPS = 24


def small_fcn_spec(path, steps: int = 150, channels: int = 1, classes: int = 2):
    """A small FCN-like spec file: Conv1D, BatchNorm, ReLU, global pooling, softmax."""
    from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer, save_spec

    layers = [LayerSpec.make("Conv1D", filters=4, kernel_size=5, padding="same"),
              LayerSpec.make("BatchNormalization"),
              LayerSpec.make("Activation", activation="relu"),
              LayerSpec.make("GlobalAveragePooling1D"),
              LayerSpec.make("Dense", units=classes, activation="softmax")]
    save_spec(ModelSpec((steps, channels), [normalize_layer(layer) for layer in layers],
                        name="tiny_fcn"), path)
    return path


@pytest.fixture(scope="module")
def conv1d_model_path(tmp_path_factory):
    """A saved Conv1D model for STEPS × 2 signals: causal, dilated conv, pooling, 2 classes."""
    import keras

    keras.utils.set_random_seed(11)
    model = keras.Sequential([
        keras.Input((STEPS, 2)),
        keras.layers.Conv1D(3, 3, padding="causal", dilation_rate=2, activation="relu",
                            name="conv"),
        keras.layers.MaxPooling1D(3, strides=2, padding="same", name="pool"),
        keras.layers.GlobalAveragePooling1D(name="global"),
        keras.layers.Dense(2, activation="softmax", name="out"),
    ])
    path = tmp_path_factory.mktemp("model") / "conv1d.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def ucr_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ucr") / "Pair"
    folder.mkdir()
    x_train, x_test = series_values(6, STEPS, 2, seed=1), series_values(5, STEPS, 2, seed=2)
    write_ts(folder / "Pair_TRAIN.ts", x_train, ["a", "b"] * 3, name="Pair")
    write_ts(folder / "Pair_TEST.ts", x_test, ["b", "a", "a", "b", "a"], name="Pair")
    return folder, x_test.astype(np.float32)


def run_json(capsys, *argv) -> dict:
    assert main(["explain", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------- train


def test_train_on_gunpoint_without_validation_reports_the_150_test_series(tmp_path, capsys):
    import keras

    spec = small_fcn_spec(tmp_path / "fcn.json")
    out = tmp_path / "fcn.keras"
    assert main(["train", str(spec), "--data", "gunpoint-sample", "--val-split", "0",
                 "--epochs", "2", "--batch-size", "10", "--augment", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "50 train / 150 test series" in captured.err
    epochs = [line for line in captured.err.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and all("val_" not in line for line in epochs)
    printed = float(captured.out.strip().splitlines()[-1].split(": ")[1])

    from cnnviz.core.data.datasets import load_dataset

    test = load_dataset("gunpoint-sample").test
    model = keras.models.load_model(out)
    assert [type(layer).__name__ for layer in model.layers][0] == "Conv1D"  # no augmentation
    guessed = model.predict(test.x, verbose=0).argmax(axis=1)
    assert test.count == 150
    assert printed == pytest.approx(float(np.mean(guessed == test.labels())), abs=1e-4)


def test_train_on_a_series_csv_with_a_named_label_column_and_z_normalisation(tmp_path,
                                                                            capsys):
    x = series_values(12, STEPS, seed=3) * 5 + 7
    rows = ["t" + ",t".join(str(i) for i in range(STEPS)) + ",kind"]
    rows += [",".join(repr(float(v)) for v in series[:, 0]) + f",{'up' if i % 2 else 'down'}"
             for i, series in enumerate(x)]
    csv = tmp_path / "waves.csv"
    csv.write_text("\n".join(rows) + "\n")
    spec = small_fcn_spec(tmp_path / "fcn.json", steps=STEPS)
    out = tmp_path / "waves.keras"
    # A single file has no test part of its own: the model is saved, and that is said.
    assert main(["train", str(spec), "--data", str(csv), "--label-column", "kind",
                 "--z-normalize", "--val-split", "0.25", "--epochs", "1", "--out",
                 str(out)]) == 2
    captured = capsys.readouterr()
    assert "z-normalised" in captured.err and "val_loss" in captured.err
    assert "Saved the trained model" in captured.out and "no test series" in captured.err

    frame = run_json(capsys, str(out), "--data", str(csv), "--label-column", "kind",
                     "--z-normalize", "--index", "4", "--layer", "conv1d", "--position", "2")
    series = x[4, :, 0]
    z = (series - series.mean()) / series.std()
    np.testing.assert_allclose(np.array(frame["window"])[:, 0], z[:5], rtol=1e-4, atol=1e-5)


def test_train_refuses_a_one_channel_spec_on_two_channel_signals(tmp_path, ucr_folder,
                                                                 capsys):
    folder, _ = ucr_folder
    spec = small_fcn_spec(tmp_path / "fcn.json", steps=STEPS, channels=1)
    assert main(["train", str(spec), "--data", str(folder), "--epochs", "1", "--out",
                 str(tmp_path / "m.keras")]) != 0
    err = capsys.readouterr().err
    assert "signals with 1 channel" in err and "2 channels" in err
    assert f"Change the model's input to ({STEPS}, 2)" in err


# ---------------------------------------------------------------- evaluate


def test_evaluate_a_1d_model_on_images_or_a_2d_model_on_signals_says_why(conv1d_model_path,
                                                                         tmp_path, capsys):
    assert main(["evaluate", str(conv1d_model_path), "--data", "mnist-sample"]) != 0
    err = capsys.readouterr().err
    assert "1-D network" in err and "images" in err and "--adapt" not in err

    import keras

    image_model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                    keras.layers.Dense(2, activation="softmax")])
    image_model.save(tmp_path / "image.keras")
    assert main(["evaluate", str(tmp_path / "image.keras"), "--data", "gunpoint-sample"]) != 0
    assert "these are signals" in capsys.readouterr().err


# ---------------------------------------------------------------- explain --json


def test_json_frame_of_a_conv1d_step_of_a_ucr_test_series_equals_keras(conv1d_model_path,
                                                                       ucr_folder, capsys):
    import keras

    folder, x_test = ucr_folder
    frame = run_json(capsys, str(conv1d_model_path), "--data", str(folder), "--index", "3",
                     "--layer", "conv", "--position", "7", "--filter", "2")
    assert frame["input"] == "series #3 of the 5 test series of Pair (label b)"
    model = keras.models.load_model(conv1d_model_path)
    conv = model.get_layer("conv")
    series = x_test[3][None]
    expected = np.asarray(conv(series))[0]
    linear = keras.layers.Conv1D(3, 3, padding="causal", dilation_rate=2)
    linear.build((None, STEPS, 2))
    linear.set_weights(conv.get_weights())
    expected_pre = np.asarray(linear(series))[0]
    assert frame["type"] == "Conv1D" and frame["out_t"] == 7 and frame["filter"] == 2
    assert frame["output"] == pytest.approx(float(expected[7, 2]), rel=1e-4, abs=1e-6)
    assert frame["pre_activation"] == pytest.approx(float(expected_pre[7, 2]), rel=1e-4,
                                                    abs=1e-6)
    # The same keys as a 2-D frame, so a script reads both alike.
    for key in ("window", "kernel", "products", "channel_sums", "bias", "pre_activation",
                "activation", "output"):
        assert key in frame
    window, kernel = np.array(frame["window"]), np.array(frame["kernel"])
    # Causal with dilation 2: step 7 reads input steps 3, 5 and 7 of series 3.
    assert frame["input_steps"] == [3, 5, 7]
    np.testing.assert_allclose(window, x_test[3][[3, 5, 7]], rtol=1e-6)
    np.testing.assert_allclose(np.array(frame["products"]), window * kernel, rtol=1e-6)
    assert sum(frame["channel_sums"]) + frame["bias"] == pytest.approx(
        frame["pre_activation"], rel=1e-5, abs=1e-6)


def test_json_frame_of_a_1d_max_pooling_step_equals_keras(conv1d_model_path, ucr_folder,
                                                          capsys):
    import keras

    folder, x_test = ucr_folder
    model = keras.models.load_model(conv1d_model_path)
    before = np.asarray(model.get_layer("conv")(x_test[0][None]))[0]
    expected = np.asarray(model.get_layer("pool")(before[None]))[0]
    last = expected.shape[0] - 1  # 'same' padding: the last window hangs over the end
    frame = run_json(capsys, str(conv1d_model_path), "--data", str(folder), "--layer", "pool",
                     "--position", str(last), "--filter", "1")
    assert frame["type"] == "MaxPooling1D" and frame["mode"] == "max"
    assert frame["output"] == pytest.approx(float(expected[last, 1]), rel=1e-5, abs=1e-7)
    assert frame["output"] == max(np.array(frame["window"])[np.array(frame["inside"])])


@pytest.mark.parametrize("extra, message", [
    (["--layer", "conv", "--position", "3,5"], "give --position T, one step (not 3,5)"),
    (["--layer", "conv", "--position", "99"], "outside conv's output of 24 steps (0–23)"),
    (["--layer", "conv", "--position", "1", "--filter", "3"], "conv has 3 filters (0 to 2)"),
    (["--layer", "global", "--position", "1"], "has no single step to print"),
    (["--layer", "conv", "--position", "1", "--index", "5"], "numbered 0 to 4"),
])
def test_bad_1d_json_requests_get_one_readable_line(conv1d_model_path, ucr_folder, capsys,
                                                    extra, message):
    folder, _ = ucr_folder
    assert main(["explain", str(conv1d_model_path), "--data", str(folder), *extra,
                 "--json"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_picture_for_a_1d_model_is_refused_in_words(conv1d_model_path, tmp_path, capsys):
    from PIL import Image

    picture = tmp_path / "digit.png"
    Image.new("L", (28, 28)).save(picture)
    assert main(["explain", str(conv1d_model_path), "--data", str(picture), "--layer", "conv",
                 "--position", "1", "--json"]) == 2
    assert "1-D network that takes signals" in capsys.readouterr().err


# ---------------------------------------------------------------- explain --out


def test_pictures_of_a_1d_model(conv1d_model_path, ucr_folder, tmp_path, capsys):
    folder, _ = ucr_folder
    out = tmp_path / "pictures"
    assert main(["explain", str(conv1d_model_path), "--data", str(folder), "--index", "1",
                 "--out", str(out), "--max-frames", "4"]) == 0
    names = set(p.name for p in out.iterdir())
    assert "probabilities.png" in names
    assert "04_out_steps.png" in names  # the Dense layer's view, as for images
    assert {"01_conv_steps.png", "01_conv_animation.gif", "01_conv_feature_maps.png",
            "01_conv_filters.png", "02_pool_steps.png", "02_pool_animation.gif",
            "02_pool_feature_maps.png"} <= names
    captured = capsys.readouterr()
    assert re.search(r"Explained series #1 of the 5 test series of Pair", captured.out)


def test_help_names_gunpoint_and_the_series_options(capsys):
    for command in ("train", "evaluate", "explain"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "gunpoint-sample" in text and "--label-column" in text
        assert "--z-normalize" in text and ".ts" in text
