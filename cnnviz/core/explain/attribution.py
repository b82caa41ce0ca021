"""Where the network looks: Grad-CAM, gradient saliency and integrated gradients for one input.

`Attribution(model)` prepares, once per model, a Keras sub-model that gives the class scores
BEFORE the softmax (the logits): when the last layer has a softmax activation (a Dense with
activation="softmax", say) its pre-activation is computed from the same weights; when the
softmax is a layer of its own (Softmax, or Activation("softmax")), its input is taken. Every
map is the gradient of that score for one class: the predicted class, or any class asked for.

    Grad-CAM (Selvaraju et al. 2017), at a conv layer with maps A_k (default: the last conv
        layer): w_k = the mean over space of d score / d A_k; map = ReLU(sum_k w_k A_k), at
        the layer's own resolution (upsampling is for drawing only). The conv layer may sit
        inside a network used as one layer (a transfer model's frozen base, one or more
        levels deep): it is named "base/layer" ("outer/inner/layer" deeper), or by its plain
        name when no other layer has it. Its maps are reached by calling the nested
        network's own layers, in its own graph order, on the outer input (the same layers and
        weights: the model and its predictions are not changed).
    Saliency (Simonyan et al. 2014): the largest |d score / d input| over the channels,
        at the input's resolution.
    Integrated gradients (Sundararajan et al. 2017): a black (all-zero) baseline and
        `steps` points on the straight path from it to the input (right Riemann sum);
        attribution = (input - baseline) × mean gradient, summed over the channels (signed:
        negative values are evidence against the class). Its total is close to
        score(input) - score(baseline).

A 2-D model gives (height, width) maps; a 1-D model (steps × channels signals) gives maps
over the steps. The gradient functions are `tf.function`s built once per layer and reused
for every input and class (the class is a tensor argument, so nothing is traced again).

TensorFlow and Keras are imported inside the functions; no Qt here. Calls are serialised by a
lock, so one Attribution may serve a worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from cnnviz.core.errors import ExplainError

if TYPE_CHECKING:
    import keras

METHODS: tuple[str, ...] = ("gradcam", "saliency", "integrated-gradients")
METHOD_TITLES: dict[str, str] = {
    "gradcam": "Grad-CAM", "saliency": "Saliency", "integrated-gradients": "Integrated gradients",
}
DEFAULT_IG_STEPS = 32
# Convolution layers whose output maps Grad-CAM can weigh (Keras class names).
CONV_LAYER_TYPES: frozenset[str] = frozenset({
    "Conv1D", "Conv2D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D",
    "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose",
})
_SOFTMAX_LAYER_TYPES = ("Softmax", "Activation")


class AttributionError(ExplainError):
    """A map that cannot be computed: no conv layer, an unknown layer or class, a bad input."""


@dataclass(frozen=True)
class AttributionMap:
    """One map for one input.

    values: (height, width) for an image model (Grad-CAM: the conv layer's height and width;
    the others: the input's), (steps,) for a 1-D model. class_index: the class explained;
    score: its score before the softmax; predicted: the model's answer; layer: the conv layer
    (Grad-CAM) or None; steps: integrated gradients' number of path points, else None.
    """

    method: str
    values: np.ndarray
    class_index: int
    score: float
    predicted: int
    layer: str | None = None
    steps: int | None = None
    baseline: str | None = None

    @property
    def title(self) -> str:
        return METHOD_TITLES[self.method]


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return str(getattr(activation, "__name__", activation or "")).lower()


def _graph_tensors(output: Any) -> dict[int, tuple[Any, Any]]:
    """For each layer on the way from the model's input to `output`: (its output tensor, its
    input tensor) in THIS graph, keyed by id(layer). A layer's own `.output` may belong to
    another call of it (a Sequential model loaded from a file is built twice), whose graph
    the gradient cannot follow."""
    found: dict[int, tuple[Any, Any]] = {}
    pending = [output]
    while pending:
        tensor = pending.pop()
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None or id(history.operation) in found:
            continue
        node = history.operation._inbound_nodes[history.node_index]
        inputs = list(node.input_tensors)
        found[id(history.operation)] = (tensor, inputs[0] if len(inputs) == 1 else None)
        pending.extend(inputs)
    return found


def _is_nested_model(layer: Any) -> bool:
    """Whether `layer` is a whole network used as one layer (a Functional or Sequential)."""
    import keras

    return isinstance(layer, keras.Model)


def layer_paths(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(path, layer) for every layer of `model`, in order, with the layers of nested networks
    after the network itself, named "network/layer" ("outer/inner/layer" deeper)."""
    found: list[tuple[str, Any]] = []
    for layer in getattr(model, "layers", []):
        path = prefix + layer.name
        found.append((path, layer))
        if _is_nested_model(layer):
            found.extend(layer_paths(layer, path + "/"))
    return found


def conv_layer_paths(model: Any) -> list[str]:
    """The conv layers Grad-CAM can use, first to last, nested ones as "network/layer"
    (what the pickers list). Attribution.conv_layers() also leaves out layers that are
    not on the way to the output."""
    return [path for path, layer in layer_paths(model)
            if type(layer).__name__ in CONV_LAYER_TYPES]


def _functional_of(model: Any) -> Any:
    """The graph a nested network runs: itself (Functional) or a built Sequential's own."""
    if hasattr(model, "_run_through_graph"):
        return model
    return getattr(model, "_functional", None)


def _is_softmax_layer(layer: Any) -> bool:
    kind = type(layer).__name__
    return kind == "Softmax" or (kind == "Activation" and _activation_name(layer) == "softmax")


class Attribution:
    """Attribution maps for one Keras model (2-D images or 1-D signals, one input, one output
    vector of class scores)."""

    def __init__(self, model: "keras.Model") -> None:
        """Prepare the logits. Raises AttributionError for a model that is not a classifier of
        one input with a known size."""
        from cnnviz.core.model.builder import model_tensors

        inputs, outputs = model_tensors(model)
        if not inputs or not outputs:
            raise AttributionError("This model does not know its input size yet, so no map "
                                   "can be computed. Give its first layer an input shape.")
        if len(inputs) != 1 or len(outputs) != 1:
            raise AttributionError("Attribution maps need a model with one input and one "
                                   "output; this one has "
                                   f"{len(inputs)} inputs and {len(outputs)} outputs.")
        input_shape = tuple(inputs[0].shape[1:])
        if len(input_shape) not in (2, 3) or any(size is None for size in input_shape):
            raise AttributionError(
                "Attribution maps work on image models (height, width, channels) and 1-D "
                f"models (steps, channels) of a fixed size; this model's input is {input_shape}.")
        if len(outputs[0].shape) != 2:
            raise AttributionError("Attribution maps explain a class score, but this model's "
                                   f"output has shape {tuple(outputs[0].shape[1:])}, not one "
                                   "score per class.")
        self.model = model
        self.input_shape: tuple[int, ...] = tuple(int(size) for size in input_shape)
        self.class_count = int(outputs[0].shape[-1])
        self._input = inputs[0]
        self._output = outputs[0]
        self._lock = threading.Lock()
        self._tensors = _graph_tensors(outputs[0])
        self._head_input, self._head = self._logits_head(outputs[0])
        self._functions: dict[tuple[str, str | None], Callable[..., Any]] = {}

    # ------------------------------------------------------------------ the model's layers

    @property
    def is_sequence(self) -> bool:
        """Whether the input is a signal (steps × channels) rather than an image."""
        return len(self.input_shape) == 2

    def conv_layers(self) -> list[str]:
        """The names of the conv layers Grad-CAM can use (those on the way to the output),
        first to last; a layer inside a nested network as "network/layer"."""
        names: list[str] = []
        for layer in self.model.layers:
            if id(layer) not in self._tensors:
                continue
            if type(layer).__name__ in CONV_LAYER_TYPES:
                names.append(layer.name)
            elif _is_nested_model(layer) and _functional_of(layer) is not None:
                names.extend(path for path, inner in layer_paths(layer, layer.name + "/")
                             if type(inner).__name__ in CONV_LAYER_TYPES)
        return names

    def default_layer(self) -> str:
        """The last conv layer. Raises AttributionError when the model has none."""
        layers = self.conv_layers()
        if not layers:
            kinds = ", ".join(dict.fromkeys(type(layer).__name__ for _, layer in
                                            layer_paths(self.model)))
            raise AttributionError(
                "Grad-CAM weighs the maps of a convolution layer by how much each one matters "
                f"for the class, but this model has no convolution layer (it has {kinds}). "
                "The saliency map works on any model: use it instead.")
        return layers[-1]

    def _conv_layer(self, name: str | None) -> str:
        """The full name ("network/layer" when nested) of Grad-CAM's conv layer `name` (a
        full name, or a plain one no other layer has; None: the last conv layer)."""
        if name is None:
            return self.default_layer()
        convs = self.conv_layers()
        if name in convs:
            return name
        paths = dict(layer_paths(self.model))
        if "/" not in name:
            same = [path for path in paths if path.rsplit("/", 1)[-1] == name]
            if len(same) > 1:
                raise AttributionError(
                    f"More than one layer is named {name!r} ({', '.join(same)}); give the "
                    "full name, network/layer.")
            if len(same) == 1 and same[0] in convs:
                return same[0]
            if same:
                name = same[0]
        if name not in paths:
            hint = (f"the conv layers are: {', '.join(convs)}." if convs
                    else "this model has no conv layer; use the saliency map.")
            raise AttributionError(f"There is no layer named {name!r}; {hint}")
        layer = paths[name]
        if type(layer).__name__ not in CONV_LAYER_TYPES:
            hint = (f"pick a conv layer: {', '.join(convs)}." if convs
                    else "this model has none; use the saliency map.")
            raise AttributionError(
                f"{name} is a {type(layer).__name__} layer; Grad-CAM needs a convolution "
                f"layer, whose maps still say where things are: {hint}")
        raise AttributionError(f"{name} is not on the way from the input to the output, so "
                               f"its maps do not change the class score; pick one of: "
                               f"{', '.join(convs)}.")

    def _expanded_call(self, x: Any, path: str) -> tuple[Any, Any]:
        """(the maps of the nested conv layer `path`, the tensor the logits head reads) for
        the batch `x`: the model's graph run with every nested network expanded into its own
        layers, in its own graph order (the same layers and weights, in inference mode), so
        the inner maps are on the gradient's way. Run inside the gradient function: no new
        Keras model is made (layer names may repeat across levels)."""
        head_layer = self._output._keras_history.operation
        recorded: dict[str, Any] = {}

        def expand(network: Any, prefix: str, inputs: Any) -> Any:
            functional = _functional_of(network)
            if functional is None:
                raise AttributionError(
                    f"{prefix.rstrip('/')} has no input size of its own, so the layers inside "
                    "it cannot be reached; the saliency map works on any model.")

            def operation_fn(operation: Any) -> Callable[..., Any]:
                name = prefix + operation.name
                if _is_nested_model(operation):
                    return lambda *args, **kwargs: expand(
                        operation, name + "/", args[0] if len(args) == 1 else list(args))

                def run(*args: Any, **kwargs: Any) -> Any:
                    if getattr(operation, "_call_has_training_arg", False):
                        kwargs["training"] = False
                    output = operation(*args, **kwargs)
                    recorded[name] = output
                    if operation is head_layer and not prefix:
                        recorded["\0head input"] = args[0]
                    return output
                return run
            return functional._run_through_graph(inputs, operation_fn=operation_fn)

        output = expand(self.model, "", x)
        head_input = (output if self._head_input is self._output
                      else recorded["\0head input"])
        return recorded[path], head_input

    def _logits_head(self, output: Any) -> tuple[Any, Callable[[Any], Any]]:
        """(tensor the head reads, function from it to the logits)."""
        from keras import ops

        history = getattr(output, "_keras_history", None)
        layer = history.operation if history is not None else self.model.layers[-1]
        head_input = self._tensors.get(id(layer), (None, None))[1]
        if head_input is None:
            return output, lambda x: x
        if _is_softmax_layer(layer):
            return head_input, lambda x: x
        if _activation_name(layer) == "softmax":
            if type(layer).__name__ == "Dense":
                kernel, bias = layer.kernel, getattr(layer, "bias", None)

                def dense_logits(x: Any) -> Any:
                    logits = ops.matmul(x, kernel)
                    return logits if bias is None else logits + bias
                return head_input, dense_logits
            # Any other layer with a softmax activation: the same layer, same weights, no softmax.
            config = dict(layer.get_config(), activation="linear", name=layer.name + "_logits")
            linear = type(layer).from_config(config)
            linear.build(tuple(head_input.shape))
            linear.set_weights(layer.get_weights())
            return head_input, linear
        return output, lambda x: x

    # ------------------------------------------------------------------ the gradient functions

    def _class_tensor(self, class_index: int | None) -> Any:
        import tensorflow as tf

        if class_index is None:
            return tf.constant(-1, tf.int32)
        if not 0 <= class_index < self.class_count:
            raise AttributionError(f"Class {class_index} does not exist: this model has "
                                   f"{self.class_count} classes, numbered 0 to "
                                   f"{self.class_count - 1}.")
        return tf.constant(int(class_index), tf.int32)

    def _function(self, method: str, layer_name: str | None) -> Callable[..., Any]:
        key = (method, layer_name)
        if key not in self._functions:
            self._functions[key] = self._build_function(method, layer_name)
        return self._functions[key]

    def _build_function(self, method: str, layer_name: str | None) -> Callable[..., Any]:
        import keras
        import tensorflow as tf

        head = self._head

        def compiled(function: Callable[..., Any]) -> Callable[..., Any]:
            traced: Callable[..., Any] = tf.function(function, reduce_retracing=True)
            return traced
        spatial_axes = tuple(range(1, len(self.input_shape)))  # (1, 2) or (1,)
        channel_axis = len(self.input_shape)

        def pick(logits: Any, class_index: Any) -> tuple[Any, Any, Any]:
            predicted = tf.argmax(logits[0], output_type=tf.int32)
            chosen = tf.where(class_index < 0, predicted, class_index)
            return chosen, predicted, logits[:, chosen]

        if method == "gradcam":
            assert layer_name is not None
            sub: Callable[..., Any]
            if "/" in layer_name:   # inside a nested network: its layers called one by one
                path = layer_name

                def expanded(x: Any, training: bool = False) -> tuple[Any, Any]:
                    return self._expanded_call(x, path)
                sub = expanded
            else:
                layer_output = self._tensors[id(self.model.get_layer(layer_name))][0]
                sub = keras.Model(self._input, [layer_output, self._head_input])

            def gradcam(x: Any, class_index: Any) -> tuple[Any, ...]:
                with tf.GradientTape() as tape:
                    maps, features = sub(x, training=False)
                    logits = head(features)
                    chosen, predicted, score = pick(logits, class_index)
                grads = tape.gradient(score, maps)
                weights = tf.reduce_mean(grads, axis=spatial_axes, keepdims=True)
                cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))
                return cam[0], chosen, predicted, score[0]
            return compiled(gradcam)

        sub = keras.Model(self._input, self._head_input)
        if method == "saliency":
            def saliency(x: Any, class_index: Any) -> tuple[Any, ...]:
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    logits = head(sub(x, training=False))
                    chosen, predicted, score = pick(logits, class_index)
                grads = tape.gradient(score, x)
                return tf.reduce_max(tf.abs(grads), axis=channel_axis)[0], chosen, predicted, score[0]
            return compiled(saliency)

        def integrated(x: Any, class_index: Any, alphas: Any) -> tuple[Any, ...]:
            logits = head(sub(x, training=False))
            chosen, predicted, score = pick(logits, class_index)
            shape = tf.concat([tf.shape(alphas), tf.ones([len(self.input_shape)], tf.int32)], 0)
            path = tf.reshape(alphas, shape) * x  # baseline 0: baseline + a (x - baseline)
            with tf.GradientTape() as tape:
                tape.watch(path)
                path_scores = tf.gather(head(sub(path, training=False)), chosen, axis=1)
                total = tf.reduce_sum(path_scores)  # inside the tape: each point's own gradient
            grads = tape.gradient(total, path)
            attribution = x[0] * tf.reduce_mean(grads, axis=0)
            return tf.reduce_sum(attribution, axis=-1), chosen, predicted, score[0]
        return compiled(integrated)

    # ------------------------------------------------------------------ the maps

    def _batch(self, image: np.ndarray) -> np.ndarray:
        array = np.asarray(image, np.float32)
        if array.shape == (1, *self.input_shape):
            return array
        if array.shape != self.input_shape:
            what = "signal" if self.is_sequence else "image"
            raise AttributionError(f"The {what} has shape {array.shape}, but the model takes "
                                   f"{self.input_shape}.")
        return array[None]

    def compute(self, method: str, image: np.ndarray, layer: str | None = None,
                class_index: int | None = None, steps: int = DEFAULT_IG_STEPS) -> AttributionMap:
        """The `method` map (one of METHODS) of `image` (the model's input without the batch
        axis, as the model takes it) for `class_index` (None: the predicted class). `layer`
        is Grad-CAM's conv layer (None: the last one; "network/layer" or a plain name no
        other layer has, for one inside a nested network); the other methods ignore it. Raises
        AttributionError for an unknown method, layer or class, or an input of the wrong shape."""
        import tensorflow as tf

        if method not in METHODS:
            raise AttributionError(f"Unknown method {method!r}; choose {', '.join(METHODS)}.")
        x = tf.constant(self._batch(image))
        target = self._class_tensor(class_index)
        layer_name = self._conv_layer(layer) if method == "gradcam" else None
        with self._lock:
            function = self._function(method, layer_name)
            if method == "integrated-gradients":
                if steps < 1:
                    raise AttributionError("Integrated gradients needs at least 1 step.")
                alphas = tf.constant(np.arange(1, steps + 1, dtype=np.float32) / steps)
                values, chosen, predicted, score = function(x, target, alphas)
            else:
                values, chosen, predicted, score = function(x, target)
        return AttributionMap(
            method=method, values=np.asarray(values, np.float32), class_index=int(chosen),
            score=float(score), predicted=int(predicted), layer=layer_name,
            steps=steps if method == "integrated-gradients" else None,
            baseline="black (all zeros)" if method == "integrated-gradients" else None)

    def gradcam(self, image: np.ndarray, layer: str | None = None,
                class_index: int | None = None) -> AttributionMap:
        """Grad-CAM at `layer` (None: the last conv layer); see compute()."""
        return self.compute("gradcam", image, layer, class_index)

    def saliency(self, image: np.ndarray, class_index: int | None = None) -> AttributionMap:
        """The gradient saliency map; see compute()."""
        return self.compute("saliency", image, None, class_index)

    def integrated_gradients(self, image: np.ndarray, class_index: int | None = None,
                             steps: int = DEFAULT_IG_STEPS) -> AttributionMap:
        """Integrated gradients from a black baseline in `steps` steps; see compute()."""
        return self.compute("integrated-gradients", image, None, class_index, steps)


# ---------------------------------------------------------------------- drawing helpers


def upsampled(values: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """A map stretched to `size` ((height, width), or (steps,) for a 1-D map) by linear
    interpolation, for drawing over the input. The numbers reported stay the map's own."""
    values = np.asarray(values, np.float64)
    result = values
    for axis, target in enumerate(size):
        source = result.shape[axis]
        if source == target:
            continue
        # Pixel centres of the small map placed over the large one.
        positions = (np.arange(target) + 0.5) * source / target - 0.5
        positions = np.clip(positions, 0, source - 1)
        low = np.floor(positions).astype(int)
        high = np.minimum(low + 1, source - 1)
        fraction = positions - low
        shape = [1] * result.ndim
        shape[axis] = target
        fraction = fraction.reshape(shape)
        result = (np.take(result, low, axis=axis) * (1 - fraction)
                  + np.take(result, high, axis=axis) * fraction)
    return result.astype(np.float32)


def normalized(values: np.ndarray) -> np.ndarray:
    """|values| scaled to 0..1 by the largest (all zeros stay zeros): what the overlay draws."""
    magnitude = np.abs(np.asarray(values, np.float32))
    peak = float(magnitude.max()) if magnitude.size else 0.0
    return magnitude / peak if peak > 0 else magnitude


def heat_colours(values01: np.ndarray) -> np.ndarray:
    """uint8 RGB colours for values in 0..1 on matplotlib's 'inferno' map (dark purple: less
    important, bright yellow: more important): readable in grey print and by most colour-blind
    readers. Agg-free: only the colour table is used, no figure."""
    from matplotlib import colormaps

    table = colormaps["inferno"](np.linspace(0.0, 1.0, 256))[:, :3]
    indices = np.clip(np.rint(np.asarray(values01, np.float64) * 255), 0, 255).astype(int)
    return np.asarray(np.rint(table[indices] * 255), np.uint8)


def image_as_rgb(image: np.ndarray) -> np.ndarray:
    """An input image (height, width, channels) as uint8 RGB, stretched from its own smallest to
    largest value (so inputs scaled to 0..1, to -1..1 or left at 0..255 all show)."""
    array = np.asarray(image, np.float64)
    if array.ndim == 2:
        array = array[..., None]
    low, high = float(array.min()), float(array.max())
    scaled = (array - low) / (high - low) if high > low else np.zeros_like(array)
    if scaled.shape[-1] == 1:
        scaled = np.repeat(scaled, 3, axis=-1)
    elif scaled.shape[-1] != 3:
        scaled = np.repeat(scaled.mean(axis=-1, keepdims=True), 3, axis=-1)
    return np.asarray(np.rint(scaled * 255), np.uint8)


def overlay_rgb(image: np.ndarray, values: np.ndarray, opacity: float = 0.8) -> np.ndarray:
    """The map drawn over an image: each pixel mixes in the heat colour by the square root of
    how important it is (`opacity` at the most important, nothing where the map is 0; the
    root keeps middling values visible), so the input stays visible where the network did not
    look. uint8 (height, width, 3)."""
    base = image_as_rgb(image).astype(np.float64)
    strength = normalized(upsampled(values, base.shape[:2]))
    heat = heat_colours(strength).astype(np.float64)
    alpha = (opacity * np.sqrt(strength))[..., None]
    return np.asarray(np.rint(base * (1 - alpha) + heat * alpha), np.uint8)
