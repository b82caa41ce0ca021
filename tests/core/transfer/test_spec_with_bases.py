"""A saved model with a pre-built base opens as a spec whose base keeps its weights: real
transfer and builder models, saved and opened again, rebuilt from the spec."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cnnviz.core.errors import UnsupportedLayerError
from cnnviz.core.model.builder import build_model, load_model_file, save_model_file, weight_count
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.model.spec_from_keras import model_to_spec
from cnnviz.core.model.spec_params import PRETRAINED_BASE
from cnnviz.core.transfer.bases import open_base
from cnnviz.core.transfer.spec_with_bases import model_to_spec_with_bases, unsupported_parts
from cnnviz.core.transfer.transfer_model import build_transfer_model, unfreeze_top_layers

SAMPLE_MODEL = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"


def _digits(count: int = 4) -> np.ndarray:
    return np.random.default_rng(1).random((count, 28, 28, 1)).astype("float32")


def _network(model: keras.Model) -> keras.Layer:
    return next(layer for layer in model.layers if hasattr(layer, "layers"))


def _base_output(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """What the model computes up to its nested network's output."""
    network = _network(model)
    index = model.layers.index(network)
    x = images
    for layer in model.layers[:index + 1]:
        if not isinstance(layer, keras.layers.InputLayer):
            x = layer(x)
    return np.asarray(x)


def _counts(model: keras.Model) -> tuple[int, int]:
    return weight_count(model.trainable_weights), weight_count(model.non_trainable_weights)


def _saved_and_opened(model: keras.Model, path: Path) -> keras.Model:
    save_model_file(model, path)
    return load_model_file(path)


def _transfer_model(tmp_path: Path, fine_tune: bool) -> keras.Model:
    transfer = build_transfer_model(open_base(str(SAMPLE_MODEL)), (28, 28, 1), 3,
                                    head_units=8, dropout=0.1)
    if fine_tune:
        unfreeze_top_layers(transfer, 3)  # conv2d_1, pooling, Flatten
        # What fine-tuning does to the top layers: new weights, unlike the file's.
        top = [layer for layer in transfer.base_part.layers if layer.weights][-1]
        top.set_weights([w + 0.25 for w in top.get_weights()])
    return _saved_and_opened(transfer.model, tmp_path / "transfer.keras")


@pytest.mark.parametrize("fine_tune", [False, True], ids=["frozen", "fine-tuned"])
def test_a_transfer_model_opens_with_its_base_computing_as_before(tmp_path, fine_tune):
    opened = _transfer_model(tmp_path, fine_tune)
    assert unsupported_parts(opened) == []
    spec = model_to_spec_with_bases(opened, folder=tmp_path / "bases")
    # The sample's default cut is its Flatten: the head reads a flat vector, no pooling.
    assert [layer.type for layer in spec.layers] == [PRETRAINED_BASE, "Dense", "Dropout",
                                                     "Dense"]
    assert spec.layers[0].trainable is fine_tune          # frozen stays frozen
    assert tuple(spec.input_shape) == (28, 28, 1)
    assert spec.layers[-1].params["units"] == 3 and spec.layers[-1].params["activation"] == \
        "softmax"
    rebuilt = build_model(spec)
    images = _digits()
    np.testing.assert_allclose(np.asarray(rebuilt.layers[0](images)),
                               _base_output(opened, images), rtol=0, atol=1e-6)
    assert _counts(rebuilt) == _counts(opened)
    if fine_tune:
        assert 0 < _counts(rebuilt.layers[0])[0] < sum(_counts(rebuilt.layers[0]))
        # The new weights, not the sample file's: its base computes something else.
        original = build_transfer_model(open_base(str(SAMPLE_MODEL)), (28, 28, 1), 3).model
        assert not np.allclose(_base_output(original, images), _base_output(opened, images))


def test_a_builder_model_with_a_base_opens_again_and_again(mobilenet: LayerSpec, tmp_path):
    spec = ModelSpec((28, 28, 1), [mobilenet, LayerSpec.make("GlobalAveragePooling2D"),
                                   LayerSpec.make("Dense", units=4, activation="softmax")])
    images = _digits(2)
    model = build_model(spec)
    for round_trip in range(2):
        opened = _saved_and_opened(model, tmp_path / f"model{round_trip}.keras")
        again = model_to_spec_with_bases(opened, folder=tmp_path / "bases")
        assert [layer.type for layer in again.layers] == [
            PRETRAINED_BASE, "GlobalAveragePooling2D", "Dense"]
        assert not again.layers[0].trainable
        assert again.layers[0].params["output_shape"] == mobilenet.params["output_shape"]
        model = build_model(again)
        np.testing.assert_allclose(np.asarray(model.layers[0](images)),
                                   _base_output(opened, images), rtol=0, atol=1e-5)
        assert _counts(model) == _counts(opened)


def test_the_same_base_opened_twice_is_saved_once(tmp_path):
    opened = _transfer_model(tmp_path, fine_tune=False)
    folder = tmp_path / "bases"
    first = model_to_spec_with_bases(opened, folder=folder, blocks_folder=folder)
    files = sorted(folder.iterdir())
    stamps = [path.stat().st_mtime_ns for path in files]
    second = model_to_spec_with_bases(load_model_file(tmp_path / "transfer.keras"),
                                      folder=folder, blocks_folder=folder)
    assert second.layers[0].params == first.layers[0].params
    assert sorted(folder.iterdir()) == files and len(files) == 2   # the base and its block
    assert [path.stat().st_mtime_ns for path in files] == stamps


def test_a_model_without_a_nested_network_is_model_to_spec(tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    assert model_to_spec_with_bases(model, folder=tmp_path) == model_to_spec(model)
    assert not tmp_path.joinpath("bases").exists() and list(tmp_path.iterdir()) == []


def _small_network(name: str) -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, name=f"{name}_conv")(inputs), name=name)


def test_two_nested_networks_are_refused_naming_both(tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 1)), _small_network("first"),
                              keras.layers.Conv2D(1, 1, padding="same"),
                              keras.layers.ZeroPadding2D(1), _small_network("second_net")],
                             name="two")
    problems = unsupported_parts(model)
    assert [name for name, _kind, _why in problems] == ["first", "second_net"]
    with pytest.raises(UnsupportedLayerError, match=r"'first' \(Functional\): is one of 2 "
                                                    r"networks nested in the model"):
        model_to_spec_with_bases(model, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_base_on_a_branch_and_an_unsupported_head_are_refused_in_words(tmp_path):
    inputs = keras.Input((8, 8, 1))
    features = _small_network("net")(inputs)
    joined = keras.layers.Add(name="join")([features, keras.layers.Conv2D(2, 3)(inputs)])
    branched = keras.Model(inputs, keras.layers.Flatten()(joined), name="branched")
    [(name, kind, why)] = unsupported_parts(branched)
    assert (name, kind) == ("join", "Add") and "joins branches" in why
    with pytest.raises(UnsupportedLayerError, match="'join' \\(Add\\): takes 2 inputs"):
        model_to_spec_with_bases(branched, folder=tmp_path)
    head = keras.Sequential([keras.Input((8, 8, 1)), _small_network("net"),
                             keras.layers.LayerNormalization(name="norm")])
    [(name, kind, why)] = unsupported_parts(head)
    assert (name, kind, why) == ("norm", "LayerNormalization",
                                 "cnnviz has no LayerNormalization layer")
    sequence = keras.Sequential([keras.Input((10, 1)), keras.Sequential(
        [keras.Input((10, 1)), keras.layers.Conv1D(2, 3)], name="seq_net")])
    [(name, _kind, why)] = unsupported_parts(sequence)
    assert name == "seq_net" and "takes images of a fixed size" in why
    assert list(tmp_path.iterdir()) == []
