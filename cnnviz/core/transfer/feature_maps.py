"""Features as a 2-D map, how well the classes separate, and an image's nearest neighbours.

    pca_map(values)                → PCA at once (SVD): coordinates + variance shown
    tsne_map(values)               → t-SNE (scikit-learn), on request: slower, local structure
    class_separation(values, y)    → leave-one-out nearest-neighbour accuracy in feature space
    layer_maps(model, layers, ...) → one map per layer, side by side, with its separation
    nearest_neighbours(f, index)   → the closest images to one image (example numbers, distances)

Separation is measured in the features themselves, not on the flat map: the share of images
whose nearest other image (Euclidean) has the same class. It grows deeper in a trained
network, which is the point students should see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnviz.core.data.dataset_types import Dataset
from cnnviz.core.transfer.features import (
    FeatureCache, FeatureError, Features, Preprocess, ProgressCallback, StopCallback,
    extract_features,
)

if TYPE_CHECKING:
    import keras

__all__ = ["METHODS", "FeatureMap", "LayerMap", "pca_map", "tsne_map", "project",
           "class_separation", "layer_maps", "nearest_neighbours"]

METHODS = ("pca", "tsne")
TSNE_INPUT_DIMENSIONS = 50  # t-SNE runs on the first 50 principal components (standard practice)
DISTANCE_CHUNK = 1024
FULL_SVD_UP_TO = 300  # min(images, numbers per image) up to which PCA takes a full SVD


@dataclass
class FeatureMap:
    """Images placed on a plane: coordinates float32 (n, 2) and how they were made."""

    coordinates: np.ndarray
    method: str  # "pca" or "tsne"
    note: str  # "PCA: the two axes show 41 % of the variance"


@dataclass
class LayerMap:
    """One layer's features, their map, and the nearest-neighbour accuracy in them."""

    features: Features
    map: FeatureMap
    separation: float  # 0..1


def _checked_values(values: np.ndarray, at_least: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise FeatureError(f"Features must be one row per image; got shape {array.shape}.")
    if array.shape[0] < at_least:
        raise FeatureError(f"A map needs at least {at_least} images; there are "
                           f"{array.shape[0]}.")
    if not np.isfinite(array).all():
        raise FeatureError("The features hold infinite or missing values (NaN), so they "
                           "cannot be mapped; the model's weights may have diverged.")
    return array


def pca_map(values: np.ndarray) -> FeatureMap:
    """The first two principal components of `values` (n, d), by SVD of the centred data.

    Each axis is a unit direction of greatest remaining variance; the signs are fixed so the
    largest coordinate along each axis is positive (PCA's signs are otherwise arbitrary).
    Features with one dimension or none that varies get a zero second axis.
    """
    centred = _checked_values(values, 2)
    centred = centred - centred.mean(axis=0)
    directions = _top_directions(centred)
    coordinates = np.zeros((centred.shape[0], 2))
    kept = directions.shape[0]
    coordinates[:, :kept] = centred @ directions.T
    for axis in range(kept):
        column = coordinates[:, axis]
        if column[np.argmax(np.abs(column))] < 0:
            coordinates[:, axis] = -column
    total = float(np.sum(centred * centred))
    shown = float(np.sum(coordinates * coordinates)) / total if total > 0 else 0.0
    return FeatureMap(coordinates.astype(np.float32), "pca",
                      _variance_note(shown))


def _variance_note(shown: float) -> str:
    # One decimal near the top: a rounded "100 %" would read as nothing lost.
    share = f"{shown:.1%}" if 0.99 <= shown < 0.9995 else f"{shown:.0%}"
    return f"PCA: the two axes show {share} of the variance"


def _top_directions(centred: np.ndarray) -> np.ndarray:
    """The (at most) two right singular vectors of the largest singular values, as rows.

    Small matrices get numpy's full SVD. Large ones (thousands of images of thousands of
    numbers, where a full SVD takes half a minute on a laptop) get scikit-learn's randomized
    SVD (Halko et al. 2011, as its PCA uses): 20 extra directions and 7 power iterations,
    seeded, which agrees with the full SVD wherever the two axes mean something (the
    variance they show stands out from the rest)."""
    rows, columns = centred.shape
    if min(rows, columns) <= FULL_SVD_UP_TO:
        _, _, directions = np.linalg.svd(centred, full_matrices=False)
        return np.asarray(directions[:min(2, directions.shape[0])])
    from sklearn.utils.extmath import randomized_svd

    _, _, directions = randomized_svd(centred, n_components=2, n_oversamples=20, n_iter=7,
                                      random_state=0)
    return np.asarray(directions)


def tsne_map(values: np.ndarray, seed: int = 0) -> FeatureMap:
    """A t-SNE map (scikit-learn) of `values` (n, d): neighbours stay neighbours, but
    distances between clusters and cluster sizes mean little. Runs on the first
    TSNE_INPUT_DIMENSIONS principal components; seeded, so the same data gives the same map.
    """
    array = _checked_values(values, 5)
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    centred = array - array.mean(axis=0)
    if centred.shape[1] > TSNE_INPUT_DIMENSIONS and centred.shape[0] > TSNE_INPUT_DIMENSIONS:
        centred = PCA(TSNE_INPUT_DIMENSIONS, random_state=seed).fit_transform(centred)
    perplexity = float(min(30.0, (centred.shape[0] - 1) / 3.0))
    embedding: Any = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                     learning_rate="auto").fit_transform(centred)
    return FeatureMap(np.asarray(embedding, dtype=np.float32), "tsne",
                      f"t-SNE (perplexity {perplexity:.0f}): near points are similar; gaps "
                      "and cluster sizes mean little")


def project(values: np.ndarray, method: str = "pca", seed: int = 0) -> FeatureMap:
    """The map by `method`, "pca" or "tsne". Raises FeatureError for another name."""
    if method == "pca":
        return pca_map(values)
    if method == "tsne":
        return tsne_map(values, seed=seed)
    raise FeatureError(f"There is no map method called '{method}': use pca or tsne.")


def _squared_distances(rows: np.ndarray, values: np.ndarray, norms: np.ndarray) -> np.ndarray:
    # |a-b|² = |a|² - 2ab + |b|², clipped: rounding can make it slightly negative.
    block: np.ndarray = norms[None, :] - 2.0 * rows @ values.T + np.einsum("ij,ij->i", rows, rows)[:, None]
    return np.asarray(np.maximum(block, 0.0))


def class_separation(values: np.ndarray, labels: np.ndarray) -> float:
    """The share of images (0..1) whose nearest other image in feature space (Euclidean)
    has the same class: leave-one-out nearest-neighbour accuracy."""
    array = _checked_values(values, 2)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != array.shape[0]:
        raise FeatureError("There must be one label per image.")
    norms = np.einsum("ij,ij->i", array, array)
    correct = 0
    for start in range(0, array.shape[0], DISTANCE_CHUNK):
        rows = array[start:start + DISTANCE_CHUNK]
        distances = _squared_distances(rows, array, norms)
        distances[np.arange(rows.shape[0]), np.arange(start, start + rows.shape[0])] = np.inf
        nearest = np.argmin(distances, axis=1)
        correct += int(np.sum(labels[nearest] == labels[start:start + rows.shape[0]]))
    return float(correct / array.shape[0])


def nearest_neighbours(features: Features, example_index: int, k: int = 8
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The k images closest to image `example_index` in feature space (itself excluded):
    their example numbers (int64) and Euclidean distances (float64), nearest first.
    Raises FeatureError when the image is not among the features."""
    if k < 1:
        raise FeatureError("Ask for at least one neighbour.")
    row = features.row_of(example_index)
    array = np.asarray(features.values, dtype=np.float64)
    distances = np.sqrt(np.sum((array - array[row]) ** 2, axis=1))
    distances[row] = np.inf
    count = min(k, array.shape[0] - 1)
    order = np.argsort(distances, kind="stable")[:count]
    return features.indices[order].astype(np.int64), distances[order]


def layer_maps(model: "keras.Model", layers: Sequence[str], dataset: Dataset,
               split: str | None = None, *, method: str = "pca", base_name: str = "",
               preprocess: Preprocess | None = None, batch_size: int = 128,
               limit: int | None = None, cache: FeatureCache | None = None,
               on_progress: ProgressCallback | None = None,
               should_stop: StopCallback | None = None, **options: Any) -> list[LayerMap]:
    """One map per layer, in the order given, each with its class separation, from one pass
    over the data (see features.extract_features for the arguments and errors)."""
    if method not in METHODS:
        raise FeatureError(f"There is no map method called '{method}': use pca or tsne.")
    all_features = extract_features(model, list(layers), dataset, split, base_name=base_name,
                                    preprocess=preprocess, batch_size=batch_size, limit=limit,
                                    cache=cache, on_progress=on_progress,
                                    should_stop=should_stop, **options)
    return [LayerMap(features, project(features.values, method),
                     class_separation(features.values, features.labels))
            for features in all_features]
