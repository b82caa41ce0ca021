"""Fixtures the tests of pre-built networks share: a prepared MobileNetV2 (random weights,
32×32, grey) in a folder of its own; the small sample CNN file and the MNIST sample, for the
feature and cache tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.inspect.model_files import open_model
from cnnviz.core.model.spec import LayerSpec
from cnnviz.core.transfer.base_blocks import prepare_base_block

MODEL_FILE = Path(__file__).parents[3] / "sample_models" / "mnist_cnn_small.keras"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bases")


@pytest.fixture(scope="module")
def mobilenet(home: Path) -> LayerSpec:
    # Random weights: ImageNet's are not downloadable here; the architecture is the same.
    return prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32),
                              input_channels=1, folder=home)


@pytest.fixture(scope="module")
def model():
    """The small sample CNN, opened from its file."""
    return open_model(MODEL_FILE).model


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("mnist-sample")
