"""The presets fit the data a user will try them on, and new layers start the tutorial's way."""

from __future__ import annotations

from cnnviz.core.data.dataset_types import DEFAULT_FOLDER_SIZE
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.model.codegen import export_python
from cnnviz.core.model.presets import PRESETS, preset_spec
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.model.spec_params import param_defs
from cnnviz.core.training.checks import check_model_fits_data


def test_image_folder_preset_fits_the_bundled_folder_sample() -> None:
    # The bundled example folder (cat, frog, ship), loaded as the Train view loads it.
    data = load_dataset("folder-sample")
    spec = preset_spec("image_folder_cnn")
    assert check_model_fits_data(spec, data) == []
    assert spec.input_shape == (*DEFAULT_FOLDER_SIZE, 3) == data.input_shape
    last = spec.layers[-1]
    assert (last.params["units"], last.params["activation"]) == (data.num_classes, "softmax")
    preset = PRESETS["image_folder_cnn"]
    # Named for that data, with an honest description: no cats vs dogs, no 150×150, two classes.
    assert "cats vs dogs" not in preset.title
    for name in data.class_names:
        assert name in preset.title
    assert "64×64" in preset.description and "3 classes" in preset.description
    assert "150" not in preset.description


def test_a_new_conv2d_or_dense_starts_with_relu_and_says_so() -> None:
    for layer_type in ("Conv2D", "Dense"):
        assert LayerSpec.new(layer_type).params["activation"] == "relu"
        # Keras's default stays the meaning of a spec that leaves the activation out.
        assert LayerSpec.make(layer_type).params["activation"] == "linear"
        help_text = next(p.help for p in param_defs(layer_type) if p.name == "activation")
        assert "relu here" in help_text and "Keras's own default is linear" in help_text
    assert LayerSpec.new("MaxPooling2D") == LayerSpec.make("MaxPooling2D")


def test_new_layers_export_with_their_relu_written_out() -> None:
    spec = ModelSpec((8, 8, 1), [LayerSpec.new("Conv2D"), LayerSpec.new("Flatten"),
                                 LayerSpec.new("Dense"), LayerSpec.make("Dense", units=2)])
    script = export_python(spec)
    conv_line = next(line for line in script.splitlines() if "layers.Conv2D(" in line)
    dense_lines = [line for line in script.splitlines() if "layers.Dense(" in line]
    assert 'activation="relu"' in conv_line
    assert 'activation="relu"' in dense_lines[0]
    assert "activation" not in dense_lines[1]  # linear is Keras's default: left out


def test_new_layers_round_trip_through_keras() -> None:
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.spec_from_keras import model_to_spec

    spec = ModelSpec((8, 8, 1), [LayerSpec.new("Conv2D"), LayerSpec.new("Flatten"),
                                 LayerSpec.new("Dense"), LayerSpec.make("Dense", units=2)])
    model = build_model(spec)
    assert model.layers[0].get_config()["activation"] == "relu"
    assert model_to_spec(model) == spec
