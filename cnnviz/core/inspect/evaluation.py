"""How well a trained classifier does on one split: loss, accuracy, confusion matrix, mistakes.

    result = evaluate_model(model, dataset, "test", on_progress=show, should_stop=cancelled)
    result.accuracy, result.confusion[true, predicted], result.misclassified()[:20]

The split is streamed in batches through `model(x, training=False)` (a folder of images is
never decoded whole). The loss is the one the model trains with here (see
`training.loss_for`): sparse categorical cross-entropy, or binary cross-entropy for one
sigmoid unit; an output without activation counts as raw scores (logits). Accuracy counts
predictions the way Keras's accuracy metrics do, so it equals `model.evaluate`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cnnviz.core.data.data_splits import DataSplit
from cnnviz.core.data.dataset_types import SPLIT_NAMES, Dataset
from cnnviz.core.data.split_choice import measured_split
from cnnviz.core.errors import CnnvizError, DatasetError
from cnnviz.core.data.data_fit import image_fit_problem
from cnnviz.core.data.input_images import input_mismatch
from cnnviz.core.training.checks import keras_io_shapes, keras_output_activation

if TYPE_CHECKING:
    import keras

__all__ = ["Evaluation", "EvaluationError", "evaluate_model", "classifier_output",
           "TOP_K"]

TOP_K = 3
_PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")
_RAW_SCORE_ACTIVATIONS = ("linear", None)


class EvaluationError(CnnvizError):
    """A model cannot be evaluated on this data (not a classifier, wrong shapes, stopped...)."""


@dataclass(eq=False)  # arrays inside: compare results field by field, not with ==
class Evaluation:
    """The result of evaluating a classifier on one split (arrays in split order)."""

    split: str
    count: int
    loss: float
    accuracy: float
    class_names: list[str]
    confusion: np.ndarray            # (K, K) int64, rows = true class, columns = predicted
    precision: np.ndarray            # (K,) float64, nan where a class was never predicted
    recall: np.ndarray               # (K,) float64, nan where a class has no examples
    support: np.ndarray              # (K,) int64 examples per true class
    labels: np.ndarray               # (N,) int64 true class per example
    predictions: np.ndarray          # (N,) int64 predicted class
    probabilities: np.ndarray        # (N, K) float32; a sigmoid unit p becomes [1 - p, p]
    top3: np.ndarray                 # (N, min(3, K)) int64 class indices, most probable first
    top3_probabilities: np.ndarray   # (N, min(3, K)) float32, matching top3

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def correct(self) -> int:
        """How many examples were classified correctly."""
        return int(np.trace(self.confusion))

    def confidence(self) -> np.ndarray:
        """(N,) float32: the probability the model gave its own prediction."""
        return np.asarray(self.probabilities[np.arange(self.count), self.predictions])

    def misclassified(self) -> np.ndarray:
        """Indices of the wrongly classified examples, most confident mistakes first.

        Equally confident mistakes keep split order.
        """
        wrong = np.flatnonzero(self.predictions != self.labels)
        order = np.argsort(-self.confidence()[wrong], kind="stable")
        return wrong[order]

    def cell_indices(self, true: int, predicted: int) -> np.ndarray:
        """Indices (split order) of the examples of class `true` predicted as `predicted`.

        Raises IndexError for a class index outside 0 .. K-1.
        """
        for value in (true, predicted):
            if not 0 <= int(value) < self.num_classes:
                raise IndexError(f"class index {value} out of range for "
                                 f"{self.num_classes} classes")
        return np.flatnonzero((self.labels == int(true)) & (self.predictions == int(predicted)))


# ---------------------------------------------------------------- checks


@dataclass
class _Output:
    """How to read a classifier's output: binary (one unit) or one score per class."""

    binary: bool
    logits: bool  # raw scores (no softmax/sigmoid at the end)


def classifier_output(model: "keras.Model", num_classes: int) -> _Output:
    """How the model's output gives class probabilities for `num_classes` classes.

    Raises EvaluationError when the model is not a one-input, one-output classifier or its
    class count differs from the data's.
    """
    try:
        _, output_shape = keras_io_shapes(model)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    if len(output_shape) != 1 or output_shape[0] is None:
        shape = "×".join("?" if d is None else str(d) for d in output_shape)
        raise EvaluationError(
            f"The model '{model.name}' is not a classifier: its output is a {shape} volume, "
            f"not one score per class. End it with Flatten and a Dense layer with softmax.")
    units = int(output_shape[0])
    activation = keras_output_activation(model)
    if activation not in _PROBABILITY_ACTIVATIONS + _RAW_SCORE_ACTIVATIONS:
        wanted = "sigmoid" if units == 1 else "softmax"
        raise EvaluationError(
            f"The model '{model.name}' is not a classifier: its last layer uses "
            f"'{activation}', which does not give class probabilities (a classifier ends "
            f"with {wanted}).")
    if units == 1 and activation == "softmax":
        raise EvaluationError(
            f"The model '{model.name}' is not a classifier: softmax over one output is "
            f"always 1. Two classes need one sigmoid unit (or two softmax units).")
    if units == 1:
        if num_classes != 2:
            raise EvaluationError(
                f"The model has one sigmoid output, so it tells two classes apart, but the "
                f"data has {num_classes} classes.")
        return _Output(binary=True, logits=activation != "sigmoid")
    if units != num_classes:
        raise EvaluationError(
            f"The model gives {units} class scores, but the data has {num_classes} classes: "
            f"it was trained for different data.")
    if activation == "sigmoid":
        raise EvaluationError(
            f"The model '{model.name}' ends with {units} sigmoid units (independent yes/no "
            f"answers), not one probability per class; cnnviz evaluates softmax classifiers.")
    return _Output(binary=False, logits=activation != "softmax")


def _model_input_shape(model: "keras.Model") -> tuple[Any, ...]:
    try:
        input_shape, _ = keras_io_shapes(model)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    return input_shape


def _checked_split(dataset: Dataset, split: str | None) -> tuple[str, DataSplit]:
    """(split name, split): the one asked for, or the default measured_split picks."""
    if split is not None and split not in SPLIT_NAMES:
        raise EvaluationError(f"There is no split called '{split}': use all, test, validation "
                              f"or train.")
    data = None if split is None else dataset.split(split)
    if data is not None and data.count < 1:
        raise EvaluationError(f"The {split} split of {dataset.name} is empty.")
    try:
        name = measured_split(dataset, split)
    except DatasetError as exc:
        raise EvaluationError(str(exc)) from None
    data = dataset.split(name)
    if data is None or data.count < 1:
        raise EvaluationError(f"{dataset.name} has no images to evaluate.")
    return name, data


# ---------------------------------------------------------------- evaluation


def _batch_scores(model: "keras.Model", x: Any, y: Any,
                  scores: Callable[[Any, Any], tuple[Any, Any, Any]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(probabilities (b, K) float32, predictions (b,), per-example loss (b,), extra loss)."""
    import keras

    probabilities, predictions, losses = scores(x, y)
    # Additional losses (weight regularisers, add_loss) count as Keras counts them.
    extra = float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))
    return (probabilities.numpy().astype(np.float32, copy=False),
            predictions.numpy().astype(np.int64), losses.numpy().reshape(-1), extra)


def _compiled_scores(model: "keras.Model", output: _Output, x: Any, y: Any
                     ) -> Callable[[Any, Any], tuple[Any, Any, Any]]:
    """_tensor_scores as one TensorFlow function for batches shaped like (x, y), traced
    once (any batch size), as Keras's evaluate runs its steps: calling the model eagerly
    batch after batch costs more than reading the images."""
    import tensorflow as tf

    signature = [tf.TensorSpec((None,) + tuple(x.shape[1:]), x.dtype),
                 tf.TensorSpec((None,) + tuple(y.shape[1:]), y.dtype)]
    compiled: Callable[[Any, Any], tuple[Any, Any, Any]] = tf.function(
        lambda images, labels: _tensor_scores(model, images, labels, output),
        input_signature=signature)
    return compiled


def _tensor_scores(model: "keras.Model", x: Any, y: Any, output: _Output) -> tuple[Any, Any, Any]:
    """(probabilities, predictions, per-example losses) as tensors; evaluate_model runs it
    as one compiled TensorFlow function, as Keras's own evaluate does."""
    import keras
    import tensorflow as tf

    raw = model(x, training=False)
    if isinstance(raw, (list, tuple)):
        raw = raw[0]
    raw = tf.convert_to_tensor(raw)
    if output.binary:
        scores = tf.reshape(tf.cast(raw, tf.float32), (-1, 1))
        truth = tf.reshape(tf.cast(y, tf.float32), (-1, 1))
        losses = keras.losses.binary_crossentropy(truth, scores, from_logits=output.logits)
        p = tf.sigmoid(scores) if output.logits else scores
        probabilities = tf.concat([1.0 - p, p], axis=1)
        # Keras's BinaryAccuracy: above the threshold is class 1 (0 for raw scores, where
        # sigmoid(0.0000001) would round to 0.5 and lose the answer).
        predictions = tf.cast(scores[:, 0] > (0.0 if output.logits else 0.5), tf.int64)
    else:
        scores = tf.cast(raw, tf.float32)
        losses = keras.losses.sparse_categorical_crossentropy(
            tf.cast(y, tf.int32), scores, from_logits=output.logits)
        probabilities = tf.nn.softmax(scores, axis=-1) if output.logits else scores
        predictions = tf.argmax(scores, axis=-1)  # Keras's SparseCategoricalAccuracy
    return probabilities, predictions, losses


def _takes_sequences(model: "keras.Model") -> bool:
    """The model slides along sequences (a Conv1D, 1-D pooling, ... layer): it is 1-D."""
    return any(type(layer).__name__.endswith("1D") for layer in model.layers)


def _reshaped(x: Any, rank: int) -> Any:
    """A (b, H, W, C) batch for a model taking (H, W) (C is 1) or flat vectors."""
    import tensorflow as tf

    if rank == 2:
        return tf.squeeze(x, axis=-1)
    return tf.reshape(x, (tf.shape(x)[0], -1))


def _top_k(probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Class indices of the k highest probabilities per row (ties: lower index first)."""
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return order.astype(np.int64), np.take_along_axis(probabilities, order, axis=1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(numerator.shape, np.nan, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def evaluate_model(model: "keras.Model", dataset: Dataset, split: str | None = None,
                   batch_size: int = 256,
                   on_progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> Evaluation:
    """Evaluate a classifier on one split of `dataset` ("all", "test", "validation",
    "train"; None: the one `split_choice.measured_split` picks, all of a source without a
    test part, else test, else validation, else train).

    The split is read in batches of `batch_size` (folders stay on disk). on_progress(done,
    total) counts examples after each batch; should_stop() is asked before each batch. Both
    run on the calling thread. The model is neither compiled nor changed.

    Raises EvaluationError when the model is not a classifier, its class count differs from
    the data's, the split is missing or empty, the images do not fit the model's input, or
    should_stop() asked to stop.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise EvaluationError(f"The batch size must be a whole number of at least 1; "
                              f"got {batch_size!r}.")
    split, data = _checked_split(dataset, split)
    output = classifier_output(model, dataset.num_classes)
    model_input = _model_input_shape(model)
    if len(data.image_shape) == 2 or _takes_sequences(model):
        # Signals, or a 1-D model: a (steps, channels) shape is not a grayscale picture.
        problem = input_mismatch(data.image_shape, model_input)
    else:
        problem = image_fit_problem(data.image_shape, model_input)
    if problem:
        raise EvaluationError(problem)
    input_rank = len(model_input)  # 3 for images; 2 takes (H, W); 1 takes flat vectors

    total = int(data.count)
    num_classes = dataset.num_classes
    probabilities = np.empty((total, num_classes), dtype=np.float32)
    predictions = np.empty(total, dtype=np.int64)
    labels = np.empty(total, dtype=np.int64)
    loss_sum = 0.0
    done = 0
    scores: Callable[[Any, Any], tuple[Any, Any, Any]] | None = None
    for x, y in data.tf_dataset(batch_size, shuffle=False):
        if should_stop is not None and should_stop():
            raise EvaluationError(f"Evaluation stopped after {done:,} of {total:,} images.")
        if input_rank != len(data.image_shape):   # images for an (H, W) or a flat input
            x = _reshaped(x, input_rank)
        if scores is None:
            scores = _compiled_scores(model, output, x, y)
        batch_probabilities, batch_predictions, batch_losses, extra = _batch_scores(
            model, x, y, scores)
        size = len(batch_predictions)
        probabilities[done:done + size] = batch_probabilities
        predictions[done:done + size] = batch_predictions
        labels[done:done + size] = y.numpy()
        loss_sum += float(np.sum(batch_losses, dtype=np.float64)) + extra * size
        done += size
        if on_progress is not None:
            on_progress(done, total)
    if done != total:  # a split that yields fewer examples than it counts
        raise EvaluationError(f"The {split} split gave {done:,} images instead of {total:,}.")

    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    diagonal = np.diag(confusion)
    loss = loss_sum / total
    top, top_probabilities = _top_k(probabilities, min(TOP_K, num_classes))
    return Evaluation(
        split=split, count=total, loss=float(loss),
        accuracy=float(diagonal.sum()) / total, class_names=list(dataset.class_names),
        confusion=confusion, precision=_ratio(diagonal, predicted),
        recall=_ratio(diagonal, support), support=support, labels=labels,
        predictions=predictions, probabilities=probabilities, top3=top,
        top3_probabilities=top_probabilities)
