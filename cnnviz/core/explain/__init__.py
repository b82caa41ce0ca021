"""The explainer: what each layer did to one input, every number equal to Keras's.

    activations           ActivationProbe: every layer's output for one image in one call
    forward_pass          the steps of the chosen layer and the model's answer from one pass
    steps                 explain_layer(): a Keras layer recomputed step by step in numpy
    steps_spatial         the same for Conv2D, pooling and global pooling
    steps_1d              the same for Conv1D, 1-D pooling and global pooling on a sequence
    frames                the explainer's data (LayerSteps and its kinds) and single values
    frames_1d             the same for the sequence layers (Conv1DSteps, Pool1DSteps, ...)
    activation_functions  Keras's activation functions in numpy
    learning_snapshots    filters, maps and the prediction for a pinned input, per epoch
    lessons               plain-language words about each layer type
    attribution           where the network looks: Grad-CAM, saliency, integrated gradients
"""

__all__ = [
    "activations", "forward_pass", "steps", "steps_spatial", "steps_1d", "frames", "frames_1d",
    "activation_functions", "learning_snapshots", "lessons", "attribution",
]
