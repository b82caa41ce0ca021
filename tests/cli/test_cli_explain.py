"""`cnnviz explain` as a user meets it: numbers anyone can check against Keras, pictures, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main
from cnnviz.core.model.builder import build_model, save_model_file
from cnnviz.core.model.spec import LayerSpec, ModelSpec


def small_spec() -> ModelSpec:
    """A 28×28×1 model with a strided 'same' conv (even kernel), pooling and a softmax head."""
    return ModelSpec(name="small", input_shape=[28, 28, 1], layers=[
        LayerSpec("Conv2D", name="conv", params={"filters": 3, "kernel_size": [4, 4],
                                                 "strides": [2, 2], "padding": "same",
                                                 "activation": "relu"}),
        LayerSpec("MaxPooling2D", name="pool", params={"pool_size": [2, 2]}),
        LayerSpec("Flatten", name="flat"),
        LayerSpec("Dense", name="out", params={"units": 10, "activation": "softmax"}),
    ])


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    model = build_model(small_spec())
    path = folder / "small.keras"
    save_model_file(model, path)
    return path, model


def digit_png(path, value: int = 200):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[6:22, 12:16] = value  # a "1"
    Image.fromarray(pixels, mode="L").save(path)
    return path


def run_json(capsys, *argv) -> dict:
    assert main(["explain", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_frame_of_a_conv_position_equals_keras(saved_model, tmp_path, capsys):
    import keras

    path, model = saved_model
    image_path = digit_png(tmp_path / "one.png")
    frame = run_json(capsys, str(path), "--data", str(image_path), "--layer", "conv",
                     "--position", "3,7", "--filter", "1")
    image = np.asarray(Image.open(image_path), np.float32)[..., None] / 255.0
    conv = model.get_layer("conv")
    expected = np.asarray(conv(image[None]))[0]
    pre = keras.layers.Conv2D(3, 4, strides=2, padding="same")
    pre.build((None, 28, 28, 1))
    pre.set_weights(conv.get_weights())
    expected_pre = np.asarray(pre(image[None]))[0]
    assert frame["layer"] == "conv" and frame["type"] == "Conv2D"
    assert frame["output"] == pytest.approx(float(expected[3, 7, 1]), rel=1e-4, abs=1e-6)
    assert frame["pre_activation"] == pytest.approx(float(expected_pre[3, 7, 1]), rel=1e-4, abs=1e-6)
    window, kernel = np.array(frame["window"]), np.array(frame["kernel"])
    assert window.shape == kernel.shape == (4, 4, 1)
    np.testing.assert_allclose(np.array(frame["products"]), window * kernel, rtol=1e-6)
    assert sum(frame["channel_sums"]) + frame["bias"] == pytest.approx(frame["pre_activation"],
                                                                        rel=1e-5, abs=1e-6)
    # Stride 2 and 'same' with a 4×4 kernel: Keras pads 1 row above, 2 below; row 3 starts at 5.
    assert (frame["top"], frame["left"]) == (5, 13)


def test_json_frame_of_pooling_and_dense_from_a_dataset(saved_model, capsys):
    path, model = saved_model
    pool = run_json(capsys, str(path), "--data", "mnist-sample", "--index", "4", "--layer",
                    "pool", "--position", "2,3", "--filter", "2")
    assert pool["mode"] == "max"
    assert pool["output"] == pytest.approx(max(max(row) for row in pool["window"]))
    dense = run_json(capsys, str(path), "--data", "mnist-sample", "--index", "4", "--layer",
                     "out", "--filter", "9")
    assert dense["unit"] == 9
    assert sum(dense["top_products"]) + dense["rest_sum"] + dense["bias"] == pytest.approx(
        dense["pre_activation"], rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("extra, message", [
    (["--layer", "nope", "--position", "1,1"], "no layer named 'nope'"),
    (["--layer", "conv", "--position", "99,1"], "outside conv's 14×14 output"),
    (["--layer", "conv", "--position", "1,1", "--filter", "7"], "has 3 filters"),
    (["--layer", "conv", "--position", "one,two"], "write it as Y,X"),
    (["--layer", "flat", "--position", "1,1"], "no single step"),
    (["--layer", "conv"], "give --position"),
])
def test_bad_json_requests_get_one_readable_line(saved_model, tmp_path, capsys, extra, message):
    path, _model = saved_model
    image_path = digit_png(tmp_path / "one.png")
    assert main(["explain", str(path), "--data", str(image_path), *extra, "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cnnviz: ") and message in err and "\n" not in err


def test_bad_inputs_get_one_readable_line(saved_model, tmp_path, capsys):
    path, _model = saved_model
    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    cases = [
        (["--data", str(fake), "--out", str(tmp_path / "o")], "notes.png"),
        (["--data", "mnist-sample", "--index", "999999", "--out", str(tmp_path / "o")], "--index"),
        (["--data", "cifar10-sample", "--out", str(tmp_path / "o")], "28×28×1"),
        (["--data", "mnist-sample"], "--out DIR"),
    ]
    for extra, message in cases:
        assert main(["explain", str(path), *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("cnnviz: ") and message in err and "\n" not in err, err


def test_pictures_and_gif_are_written_for_a_layer(saved_model, tmp_path, capsys):
    path, _model = saved_model
    out = tmp_path / "pictures"
    assert main(["explain", str(path), "--data", "mnist-sample", "--index", "2", "--layer",
                 "conv", "--out", str(out), "--max-frames", "12"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["01_conv_animation.gif", "01_conv_feature_maps.png", "01_conv_filters.png",
                     "01_conv_steps.png", "probabilities.png"]
    with Image.open(out / "01_conv_animation.gif") as gif:
        assert gif.n_frames == 12
    with Image.open(out / "01_conv_steps.png") as png:
        assert png.width >= 600 and png.height >= 400
        colours = np.unique(np.asarray(png.convert("RGB")).reshape(-1, 3), axis=0)
        assert len(colours) > 20   # a real picture, not a blank
    printed = capsys.readouterr().out
    assert "01_conv_animation.gif" in printed
