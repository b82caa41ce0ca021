"""The trained models in sample_models/: small files that load safely, equal their spec JSON,
are as accurate as the README says on the bundled samples, and open in the explainer."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.explain.activations import ActivationProbe
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.explain.frames import GenericSteps
from cnnviz.core.model.spec import load_spec
from cnnviz.core.model.spec_from_keras import model_to_spec

FOLDER = Path(__file__).resolve().parents[2] / "sample_models"
MAX_BYTES = 2_000_000

# model → (bundled sample it was trained on, lowest acceptable test accuracy). Each floor is
# a few points under what make_models.py measured (sample_models/README.md), leaving room
# for other CPUs and TensorFlow versions, far above chance (10 %).
SAMPLES = {
    "mnist_cnn_small": ("mnist-sample", 0.95),     # measured 98.4 %
    "lenet5": ("mnist-sample", 0.93),              # measured 96.5 %
    "cifar10_vgg_small": ("cifar10-sample", 0.55),  # measured 60.2 %
}


def _make_models_script():
    """sample_models/make_models.py as a module (the folder is not a package)."""
    name = "sample_models_make_models"
    spec = importlib.util.spec_from_file_location(name, FOLDER / "make_models.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture(scope="module")
def models():
    """Each sample model loaded once, by plain Keras in safe mode and without compiling."""
    import keras

    return {key: keras.models.load_model(FOLDER / f"{key}.keras", compile=False)
            for key in SAMPLES}


@pytest.fixture(scope="module")
def datasets():
    return {name: load_dataset(name) for name in {data for data, _ in SAMPLES.values()}}


def test_the_committed_models_are_the_ones_the_script_makes():
    script = _make_models_script()
    assert {path.stem for path in FOLDER.glob("*.keras")} == set(SAMPLES)
    assert set(script.SAMPLE_MODELS) == set(SAMPLES)
    for key, sample in script.SAMPLE_MODELS.items():
        assert sample.data == SAMPLES[key][0]
        # A stale JSON would show the builder a different model from the one in the file.
        assert load_spec(FOLDER / f"{key}.json") == sample.spec(), key


@pytest.mark.parametrize("key", list(SAMPLES))
def test_sample_model_file_is_under_2_mb(key):
    size = (FOLDER / f"{key}.keras").stat().st_size
    assert 0 < size < MAX_BYTES, f"{key}.keras is {size:,} bytes"


@pytest.mark.parametrize("key", list(SAMPLES))
def test_sample_model_layers_equal_its_spec_json(models, key):
    spec = load_spec(FOLDER / f"{key}.json")
    assert model_to_spec(models[key]) == spec
    assert models[key].name == spec.name


@pytest.mark.parametrize("key", list(SAMPLES))
def test_sample_model_accuracy_on_the_bundled_test_split(models, datasets, key):
    data_name, floor = SAMPLES[key]
    test = datasets[data_name].test
    images, labels = test.images(range(test.count)), test.labels()
    assert images.shape[1:] == tuple(models[key].inputs[0].shape[1:])
    guesses = []
    for start in range(0, test.count, 500):
        x = images[start:start + 500].astype(np.float32) / 255.0  # as training scaled them
        guesses.append(np.asarray(models[key](x, training=False)).argmax(axis=1))
    accuracy = float(np.mean(np.concatenate(guesses) == labels))
    assert accuracy >= floor, f"{key}: test accuracy {accuracy:.4f} is below {floor}"


@pytest.mark.parametrize("key", list(SAMPLES))
def test_explainer_runs_sample_model_on_a_test_image_layer_by_layer(models, datasets, key):
    model = models[key]
    test = datasets[SAMPLES[key][0]].test
    image = test.images([0])[0].astype(np.float32) / 255.0
    probe = ActivationProbe(model)
    forward = probe.run(image)

    assert [record.name for record in forward.layers] == [layer.name for layer in model.layers]
    expected = np.asarray(model(image[None], training=False))[0]
    np.testing.assert_allclose(forward.probabilities, expected, rtol=1e-5, atol=1e-6)
    assert forward.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    for index, record in enumerate(forward.layers):
        steps = probe.steps(forward, index)
        # Every layer of a sample model has its step-by-step view, none the plain fallback.
        assert not isinstance(steps, GenericSteps), f"{record.name}: {steps.note}"
        assert steps.name == record.name
