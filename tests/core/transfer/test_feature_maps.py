"""2-D maps, class separation and nearest neighbours, against direct computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.inspect.model_files import open_model
from cnnviz.core.transfer.feature_maps import (
    class_separation, layer_maps, nearest_neighbours, pca_map, project, tsne_map,
)
from cnnviz.core.transfer.features import FeatureError, Features

MODEL_FILE = Path(__file__).parents[3] / "sample_models" / "mnist_cnn_small.keras"


def blobs(per_class: int = 40, dims: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes around far-apart centres, with noise in every direction."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(3, dims))
    labels = np.repeat(np.arange(3), per_class)
    return centres[labels] + rng.normal(0, 1, size=(3 * per_class, dims)), labels


def test_pca_equals_the_covariance_eigenvectors_up_to_sign():
    rng = np.random.default_rng(4)
    values = rng.normal(size=(120, 6)) @ rng.normal(size=(6, 6)) + 3.0
    result = pca_map(values)
    centred = values - values.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    order = np.argsort(eigenvalues)[::-1]
    reference = centred @ eigenvectors[:, order[:2]]
    for axis in range(2):
        got = result.coordinates[:, axis]
        sign = np.sign(got @ reference[:, axis])
        np.testing.assert_allclose(got, sign * reference[:, axis], rtol=1e-4, atol=1e-4)
    shown = eigenvalues[order[:2]].sum() / eigenvalues.sum()
    assert f"{shown:.0%} of the variance" in result.note
    # Nearly all of it is written with a decimal, so it never reads as "100 %" too soon.
    line = np.linspace(-1, 1, 50)
    almost_flat = np.stack([line, 2 * line, 0.02 * np.sin(40 * line)], axis=1)
    flat = np.stack([line, line ** 2, 3 * line, 0.08 * np.cos(25 * line)], axis=1)
    assert "show 100.0%" not in pca_map(almost_flat).note
    note = pca_map(flat).note
    share = float(note.split("show ")[1].split("%")[0])
    assert 99 <= share < 100 and "." in note.split("show ")[1].split("%")[0], note


def test_pca_of_too_few_or_broken_features_is_refused():
    with pytest.raises(FeatureError, match="at least 2 images"):
        pca_map(np.zeros((1, 3)))
    with pytest.raises(FeatureError, match="NaN"):
        pca_map(np.array([[0.0, 1.0], [np.nan, 2.0]]))
    with pytest.raises(FeatureError, match="no map method called 'umap'"):
        project(np.zeros((3, 2)), "umap")


def test_class_separation_is_leave_one_out_nearest_neighbour_accuracy():
    values, labels = blobs()
    assert class_separation(values, labels) == 1.0
    shuffled = np.random.default_rng(1).permutation(labels)
    brute = np.linalg.norm(values[:, None] - values[None], axis=2)
    np.fill_diagonal(brute, np.inf)
    expected = np.mean(shuffled[np.argmin(brute, axis=1)] == shuffled)
    assert class_separation(values, shuffled) == pytest.approx(expected)
    assert expected < 0.7


def test_nearest_neighbours_by_example_number():
    values, labels = blobs(per_class=10)
    indices = np.arange(100, 130)
    features = Features(values=values.astype(np.float32), labels=labels, indices=indices,
                        layer="x", base="b", reduction="flattened", layer_shape=(20,))
    found, distances = nearest_neighbours(features, 105, k=4)
    brute = np.linalg.norm(values - values[5], axis=1)
    brute[5] = np.inf
    assert found.tolist() == (indices[np.argsort(brute)[:4]]).tolist()
    np.testing.assert_allclose(distances, np.sort(brute)[:4], rtol=1e-5)
    assert set(labels[found - 100]) == {labels[5]}
    with pytest.raises(FeatureError, match="Image 7 is not among the 30"):
        nearest_neighbours(features, 7)


def test_tsne_keeps_classes_apart_and_repeats_with_its_seed():
    values, labels = blobs(per_class=30, dims=60)
    first = tsne_map(values, seed=3)
    assert first.coordinates.shape == (90, 2) and first.method == "tsne"
    assert class_separation(first.coordinates, labels) == 1.0
    np.testing.assert_allclose(tsne_map(values, seed=3).coordinates, first.coordinates)


def test_classes_separate_deeper_in_the_trained_network():
    model = open_model(MODEL_FILE).model
    digits = load_dataset("mnist-sample")
    maps = layer_maps(model, ["conv2d", "max_pooling2d_1", "dense"], digits, "test",
                      limit=300)
    assert [m.features.layer for m in maps] == ["conv2d", "max_pooling2d_1", "dense"]
    assert all(m.map.coordinates.shape == (300, 2) for m in maps)
    separations = [m.separation for m in maps]
    assert separations[0] < separations[1] <= separations[2]
    assert separations[2] > 0.9


def test_pca_of_a_large_matrix_takes_the_randomized_path_and_agrees():
    rng = np.random.default_rng(8)
    values = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 500)) * [[5.0]] \
        + rng.normal(size=(400, 500))
    fast = pca_map(values).coordinates
    centred = values - values.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    reference = centred @ directions[:2].T
    for axis in range(2):
        sign = np.sign(fast[:, axis] @ reference[:, axis])
        np.testing.assert_allclose(fast[:, axis], sign * reference[:, axis], rtol=1e-3,
                                   atol=1e-3)

