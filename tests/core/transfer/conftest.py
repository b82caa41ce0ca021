"""Fixtures the tests of pre-built bases as spec layers share: a prepared MobileNetV2 (random
weights, 32×32, grey) in a folder of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.core.model.spec import LayerSpec
from cnnviz.core.transfer.base_blocks import prepare_base_block


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bases")


@pytest.fixture(scope="module")
def mobilenet(home: Path) -> LayerSpec:
    # Random weights: ImageNet's are not downloadable here; the architecture is the same.
    return prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32),
                              input_channels=1, folder=home)
