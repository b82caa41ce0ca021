"""`cnnviz attribution` as a user meets it: the map as JSON (equal to the core's, at the right
resolution), the PNG pictures, a 1-D model's one-row map, and errors in words."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main

SAMPLE_MODELS = Path(__file__).resolve().parents[2] / "sample_models"
LENET = SAMPLE_MODELS / "lenet5.keras"


def run_json(capsys, *argv) -> dict:
    assert main(["attribution", *argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_gradcam_json_equals_the_core_map_at_the_conv_layer_resolution(capsys):
    import keras

    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.input_images import dataset_input
    from cnnviz.core.data.split_choice import measured_split
    from cnnviz.core.explain.attribution import Attribution

    result = run_json(capsys, str(LENET), "--data", "mnist-sample", "--index", "3",
                      "--method", "gradcam")
    model = keras.saving.load_model(LENET, compile=False)
    attribution = Attribution(model)
    last_conv = attribution.conv_layers()[-1]
    assert result["method"] == "gradcam" and result["layer"] == last_conv
    height, width = model.get_layer(last_conv).output.shape[1:3]
    assert np.array(result["map"]).shape == (height, width)
    dataset = load_dataset("mnist-sample", load_options_for(attribution.input_shape))
    image, label = dataset_input(dataset, measured_split(dataset, None), 3)
    expected = attribution.gradcam(image)
    assert result["class"] == expected.class_index == result["predicted"]
    assert result["label"] == label
    np.testing.assert_allclose(np.array(result["map"]), expected.values, rtol=1e-4, atol=1e-6)
    assert result["score"] == pytest.approx(expected.score, rel=1e-5)


def test_saliency_json_is_at_the_input_resolution_for_a_chosen_class(capsys):
    result = run_json(capsys, str(LENET), "--data", "mnist-sample", "--index", "1",
                      "--method", "saliency", "--class", "7")
    assert result["class"] == 7 and result["layer"] is None
    saliency = np.array(result["map"])
    assert saliency.shape == (28, 28) and saliency.min() >= 0 and saliency.max() > 0


def test_a_1d_model_gives_one_row_over_the_steps(capsys):
    result = run_json(capsys, str(SAMPLE_MODELS / "signal_fcn.json"), "--data",
                      "gunpoint-sample", "--method", "integrated-gradients", "--steps", "4")
    ig = np.array(result["map"])
    assert ig.shape == (1, 150)
    assert result["steps"] == 4 and "zero" in result["baseline"]


def test_out_writes_the_map_and_the_overlay(tmp_path, capsys):
    out = tmp_path / "maps"
    assert main(["attribution", str(LENET), "--data", "mnist-sample", "--index", "2",
                 "--method", "gradcam", "--out", str(out)]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert written == ["lenet5_2_gradcam_map.png", "lenet5_2_gradcam_overlay.png"]
    for name in written:
        with Image.open(out / name) as picture:
            assert picture.size[0] >= 300 and picture.size[1] >= 300
            assert len(picture.convert("RGB").getcolors(1 << 20) or []) > 20  # not blank
    assert "Grad-CAM at" in capsys.readouterr().out


@pytest.mark.parametrize("extra,words", [
    (["--method", "gradcam", "--layer", "nothing_here"], "no layer named 'nothing_here'"),
    (["--method", "gradcam", "--layer", "flatten"], "Grad-CAM needs a convolution layer"),
    (["--method", "saliency", "--class", "10"], "Class 10 does not exist"),
    (["--method", "saliency", "--layer", "conv2d"], "leave --layer out"),
    (["--method", "saliency"], "either --out DIR"),
])
def test_bad_requests_are_one_readable_line(extra, words, capsys):
    argv = ["attribution", str(LENET), "--data", "mnist-sample", *extra]
    if words != "either --out DIR":
        argv.append("--json")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "Traceback" not in err


def test_a_model_without_conv_layers_says_why_and_saliency_still_works(capsys):
    dense = str(SAMPLE_MODELS / "dense_baseline.json")
    assert main(["attribution", dense, "--data", "mnist-sample", "--method", "gradcam",
                 "--json"]) == 2
    assert "no convolution layer" in capsys.readouterr().err
    assert np.array(run_json(capsys, dense, "--data", "mnist-sample", "--method",
                             "saliency")["map"]).shape == (28, 28)


def test_gradcam_inside_a_transfer_models_base_by_full_or_plain_name(tmp_path, capsys):
    import keras

    from cnnviz.core.explain.attribution import Attribution
    from cnnviz.core.transfer.bases import open_base
    from cnnviz.core.transfer.transfer_model import build_transfer_model

    keras.utils.set_random_seed(5)
    base = open_base(SAMPLE_MODELS / "mnist_cnn_small.keras")
    path = tmp_path / "transfer.keras"
    build_transfer_model(base, (28, 28, 1), 10, head_units=8).model.save(path)
    by_plain = run_json(capsys, str(path), "--data", "mnist-sample", "--index", "4",
                        "--method", "gradcam", "--layer", "conv2d", "--class", "2")
    by_full = run_json(capsys, str(path), "--data", "mnist-sample", "--index", "4",
                       "--method", "gradcam", "--layer", "frozen_base/conv2d", "--class", "2")
    assert by_plain["layer"] == by_full["layer"] == "frozen_base/conv2d"
    assert by_plain["map"] == by_full["map"]
    default = run_json(capsys, str(path), "--data", "mnist-sample", "--index", "4",
                       "--method", "gradcam")
    assert default["layer"] == "frozen_base/conv2d_1"
    assert np.array(by_plain["map"]).shape == (26, 26)
    assert np.array(default["map"]).shape == (11, 11)
    model = keras.saving.load_model(path, compile=False)
    from cnnviz.core.data.data_fit import load_options_for
    from cnnviz.core.data.datasets import load_dataset
    from cnnviz.core.data.input_images import dataset_input
    from cnnviz.core.data.split_choice import measured_split

    dataset = load_dataset("mnist-sample", load_options_for((28, 28, 1)))
    image, _ = dataset_input(dataset, measured_split(dataset, None), 4)
    expected = Attribution(model).gradcam(image, "frozen_base/conv2d", 2)
    np.testing.assert_allclose(np.array(by_plain["map"]), expected.values, rtol=1e-4, atol=1e-6)


def test_help_says_how_layers_inside_a_nested_network_are_named(capsys):
    with pytest.raises(SystemExit):
        main(["attribution", "--help"])
    assert "network/layer" in " ".join(capsys.readouterr().out.split())
