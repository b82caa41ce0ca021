"""What the explainer reads from one forward pass: the steps of the layer being looked at and
the model's answer. The GUI's explain session and `cnnviz explain` share these, and neither
needs Qt for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cnnviz.core.explain.learning_snapshots import class_probabilities

if TYPE_CHECKING:
    from cnnviz.core.explain.activations import ActivationProbe, ForwardPass
    from cnnviz.core.explain.frames import LayerSteps

__all__ = ["INPUT_LAYER", "answer_of", "layer_steps"]

INPUT_LAYER = -1  # the layer index that stands for the input image itself


def layer_steps(probe: "ActivationProbe", forward: "ForwardPass", index: int) -> "LayerSteps":
    """The steps of layer `index` of the pass (INPUT_LAYER for the image itself); an index
    past either end is clamped to the first or last layer."""
    if index == INPUT_LAYER or not forward.layers:
        return probe.input_steps(forward)
    return probe.steps(forward, max(0, min(index, len(forward.layers) - 1)))


def answer_of(forward: "ForwardPass") -> np.ndarray | None:
    """The class probabilities of a pass, or None when the model is not a classifier."""
    probabilities = getattr(forward, "probabilities", None)
    if probabilities is None and forward.layers and np.ndim(forward.layers[-1].output) == 1:
        probabilities = class_probabilities(forward.layers[-1].output)
    return None if probabilities is None else np.asarray(probabilities, np.float32)
