"""Opening bases: Keras's weights cache (found, refused when wrong, missing offline), the
table of applications against Keras's own source, and preprocessing as each network expects."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.transfer.bases import (
    APPLICATIONS, BaseError, WeightsFileError, open_base, weights_file_for,
)

SAMPLE_MODEL = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def offline(url, target, report):
    raise OSError("[Errno -3] Temporary failure in name resolution")


def never_called(url, target, report):
    raise AssertionError("a cached file must not be downloaded again")


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_weights_table_names_the_files_and_addresses_keras_uses(name):
    import keras

    app = APPLICATIONS[name]
    source = inspect.getsource(inspect.getmodule(getattr(keras.applications, app.constructor)))
    source = re.sub(r'"\s*\n\s*"', "", source)  # join strings split over lines
    file_name, url, file_hash = weights_file_for(name)
    assert url == app.weights_url_folder + file_name
    # Where Keras downloads from, and the hash it checks, are Keras's own.
    assert app.weights_url_folder in source
    if file_hash:
        assert file_hash in source
    assert file_name.endswith(("_no_top.h5", "_notop.h5", "no_top_v2.h5"))


def test_offline_names_the_file_its_address_and_the_folder(keras_home):
    with pytest.raises(WeightsFileError) as caught:
        open_base("resnet50", fetch=offline)
    message = str(caught.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert ("https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5") in message
    assert str(keras_home / "models") in message
    assert "random weights" in message
    assert not list((keras_home / "models").glob("*"))  # no partial file left to look cached


def test_a_wrong_cached_file_is_refused_with_its_expected_hash(keras_home):
    models = keras_home / "models"
    models.mkdir(parents=True)
    (models / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"not weights")
    with pytest.raises(WeightsFileError) as caught:
        open_base("vgg16", fetch=never_called)
    assert "6d6bbae143d832006294945121d1f1fc" in str(caught.value)
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in str(caught.value)


def test_the_cached_file_keras_would_use_is_loaded(keras_home):
    """A MobileNetV2 weights file in Keras's cache, under Keras's name for 96×96, is used."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    source = keras.applications.MobileNetV2(include_top=False, weights=None,
                                            input_shape=(96, 96, 3))
    models = keras_home / "models"
    models.mkdir(parents=True)
    with h5py.File(models / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5",
                   "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, source)
    base = open_base("mobilenet_v2", input_shape=(96, 96), fetch=never_called)
    assert base.weights_note == "ImageNet weights"
    for mine, theirs in zip(base.model.weights, source.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_random_weights_and_preprocess_as_the_network_expects():
    base = open_base("mobilenet_v2", weights="random", input_shape=(32, 32))
    assert base.weights_note == "random weights" and base.input_shape == (32, 32, 3)
    assert tuple(base.model.output.shape[1:]) == (1, 1, 1280)  # no top
    grey = np.zeros((2, 20, 20, 1), np.float32)
    grey[:, :10] = 255.0
    x = base.preprocess(grey)
    assert x.shape == (2, 32, 32, 3)
    assert x.min() == -1.0 and x.max() == 1.0  # MobileNetV2's own scaling of 0..255
    np.testing.assert_array_equal(x[..., 0], x[..., 2])  # grey copied to every channel


def test_a_model_file_base_scales_as_cnnviz_feeds_models():
    base = open_base(SAMPLE_MODEL)
    assert base.kind == "file" and base.input_shape == (28, 28, 1)
    colour = np.full((1, 56, 56, 3), 255.0, np.float32)
    x = base.preprocess(colour)
    assert x.shape == (1, 28, 28, 1)
    np.testing.assert_allclose(x, 1.0, atol=1e-5)


@pytest.mark.parametrize("name, words", [
    ("alexnet", "mobilenet_v2"),
    ("mobilenet_v2", "at least 32×32"),
])
def test_bad_names_and_sizes_are_readable(name, words):
    with pytest.raises(BaseError, match=words):
        open_base(name, weights="random", input_shape=(16, 16))
