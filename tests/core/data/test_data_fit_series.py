"""Which signals fit which model: 1-D inputs (steps, channels) against series data, images
against 1-D models, and signals against 2-D models."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.data.data_fit import (adapt_dataset, can_adapt, fit_problem,
                                       image_fit_problem, suggested_source, takes_sequences)
from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.datasets import load_dataset
from tests.core.data.series_fixtures import series_values, write_ts


@pytest.fixture(scope="module")
def gunpoint():
    return load_dataset("gunpoint-sample", LoadOptions(validation_split=0))


@pytest.fixture
def six_channels(tmp_path):
    path = write_ts(tmp_path / "Six.ts", series_values(4, 150, channels=6), ["a", "b"] * 2)
    return load_dataset(str(path), LoadOptions(validation_split=0))


@pytest.fixture
def digits(tmp_path):
    x = np.zeros((4, 28, 28), np.uint8)
    np.savez(tmp_path / "digits.npz", x=x, y=np.array([0, 1, 0, 1]))
    return load_dataset(str(tmp_path / "digits.npz"), LoadOptions(validation_split=0))


def test_matching_1d_inputs_fit(gunpoint):
    for shape in ((150, 1), (None, 1), (150, None), (150,)):
        assert fit_problem(gunpoint, shape) is None, shape
    assert adapt_dataset(gunpoint, (150, 1)) is gunpoint


def test_one_channel_model_on_six_channel_signals(six_channels):
    problem = fit_problem(six_channels, (150, 1))
    assert problem == ("The model takes signals with 1 channel (150 steps × 1), but these "
                       "signals have 6 channels (150 steps × 6). Set the model's input to "
                       "(150, 6).")
    assert not can_adapt(six_channels, (150, 1))
    with pytest.raises(ValueError):
        adapt_dataset(six_channels, (150, 1))


def test_wrong_number_of_steps(gunpoint):
    assert fit_problem(gunpoint, (100, 1)) == (
        "The model takes signals of 100 steps, but these have 150 steps. Set the model's "
        "input to (150, 1), or use signals of its length.")


def test_2d_model_given_signals(gunpoint):
    problem = fit_problem(gunpoint, (28, 28, 1))
    assert problem.startswith("The model takes 28×28×1 images, but these are signals "
                              "(150 steps × 1 channel). A signal needs a 1-D model")
    assert not can_adapt(gunpoint, (28, 28, 1))
    # evaluate_model checks examples by their shape alone: signals are compared as signals.
    assert image_fit_problem((150, 1), (150, 1)) is None
    assert "1-D model" in image_fit_problem((150, 1), (32, 32, 3))


def test_1d_model_given_images(digits):
    problem = fit_problem(digits, (150, 1), sequence_input=True)
    assert problem.startswith("The model is a 1-D network taking signals of 150 steps × 1 "
                              "channel, but these are 28×28×1 images.")
    assert not can_adapt(digits, (150, 1), sequence_input=True)
    # The same shape from a Flatten-first 2-D model is a picture size, as before.
    assert fit_problem(digits, (28, 28)) is None


def test_suggested_source_and_takes_sequences():
    assert suggested_source((150, 1)) == "gunpoint-sample"
    assert suggested_source((150, 1), sequence_input=True) == "gunpoint-sample"
    assert suggested_source((28, 28)) == "mnist-sample"
    assert suggested_source((28, 28), sequence_input=True) is None
    assert takes_sequences(["InputLayer", "Conv1D", "GlobalAveragePooling1D", "Dense"])
    assert not takes_sequences(["Conv2D", "Flatten", "Dense"])
