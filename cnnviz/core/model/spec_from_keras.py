"""Keras model → ModelSpec, refusing (by name, with reasons) whatever a spec cannot hold.

`model_to_spec` accepts a Sequential model, or a functional one that is a single straight
chain from one input: an image (height, width, channels) or a sequence (steps, channels). Each layer's `get_config()` is mapped back to the spec's
parameters (which use Keras's names); every setting the spec cannot express makes the
layer unsupported, so converting never silently changes a model. Weights, initialisers
and dropout seeds are not part of a spec and are ignored.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from cnnviz.core.errors import SpecError, UnsupportedLayerError
# The per-layer arithmetic behind analyze(), used here with Keras's own input shapes.
from cnnviz.core.model.shapes import LayerProblem, analyze, layer_arithmetic
from cnnviz.core.model.spec_params import ACTIVATIONS, check_input_shape
from cnnviz.core.model.spec import LayerSpec, ModelSpec, normalize_layer

if TYPE_CHECKING:
    import keras


def _plain(value: Any) -> Any:
    """Tuples as lists, so (1, 1) from a config equals [1, 1]."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _regularizer_to_spec(config: Any) -> tuple[dict[str, float] | None, str | None]:
    """A serialised Keras regulariser as the spec's {"l1", "l2"} dict, or a reason it is not one."""
    if config is None:
        return None, None
    if (isinstance(config, dict) and config.get("class_name") in ("L1", "L2", "L1L2")
            and config.get("module") in (None, "keras.regularizers")
            and not config.get("registered_name")):
        inner = config.get("config", {})
        l1, l2 = float(inner.get("l1", 0.0) or 0.0), float(inner.get("l2", 0.0) or 0.0)
        if config["class_name"] == "L1":
            # Keras's L1 (unlike L2 and L1L2) keeps its factor as float32, so 0.01 comes back
            # as 0.00999999977...; the shortest decimal with the same float32 is what was typed.
            import numpy as np

            l1 = float(str(np.float32(l1)))
        if l1 == 0 and l2 == 0:
            return None, None
        return {"l1": l1, "l2": l2}, None
    return None, "has a custom kernel regulariser; cnnviz offers only L1 and L2"


def _activation_reason(value: Any) -> str | None:
    if isinstance(value, str) and value in ACTIVATIONS:
        return None
    shown = value if isinstance(value, str) else (value or {}).get("config", value)
    return (f"uses the activation {shown!r}, which cnnviz does not offer "
            f"(it has: {', '.join(ACTIVATIONS)})")


# Settings that cnnviz specs cannot express: (config key, the only value allowed, why not).
_WEIGHT_EXTRAS = (
    ("bias_regularizer", None, "has a bias regulariser; cnnviz regularises only the kernel"),
    ("activity_regularizer", None, "has an activity regulariser, which cnnviz does not offer"),
    ("kernel_constraint", None, "has a kernel constraint, which cnnviz does not offer"),
    ("bias_constraint", None, "has a bias constraint, which cnnviz does not offer"),
    ("lora_rank", None, "has LoRA adapters, which cnnviz does not offer"),
    ("quantization_config", None, "is quantised; cnnviz builds float32 layers"),
)
_CHANNELS_LAST = ("data_format", "channels_last",
                  "uses data_format='channels_first'; cnnviz works channels-last (H × W × C)")
_CHANNELS_LAST_1D = ("data_format", "channels_last",
                     "uses data_format='channels_first'; cnnviz works channels-last "
                     "(steps × channels)")
_KEEPDIMS = ("keepdims", False, "keeps the pooled dimensions (keepdims=True); cnnviz drops them")
_CONV_EXTRAS = (
    _CHANNELS_LAST,
    ("dilation_rate", [1, 1], "has dilation_rate {value}; cnnviz convolutions are not dilated"),
    ("groups", 1, "splits its channels into {value} groups; cnnviz convolutions use 1 group"),
)
_BN_EXTRAS = (
    ("center", True, "has no learned shift (center=False); cnnviz always learns one"),
    ("scale", True, "has no learned scale (scale=False); cnnviz always learns one"),
    ("beta_regularizer", None, "has a regulariser on beta, which cnnviz does not offer"),
    ("gamma_regularizer", None, "has a regulariser on gamma, which cnnviz does not offer"),
    ("beta_constraint", None, "has a constraint on beta, which cnnviz does not offer"),
    ("gamma_constraint", None, "has a constraint on gamma, which cnnviz does not offer"),
    ("renorm", False, "uses batch renormalisation, which cnnviz does not offer"),
)
_EXTRAS: dict[str, tuple[tuple[str, Any, str], ...]] = {
    "Conv2D": _CONV_EXTRAS + _WEIGHT_EXTRAS,
    "Dense": _WEIGHT_EXTRAS,
    "MaxPooling2D": (_CHANNELS_LAST,),
    "AveragePooling2D": (_CHANNELS_LAST,),
    "GlobalMaxPooling2D": (_CHANNELS_LAST, ("keepdims", False,
                           "keeps the pooled dimensions (keepdims=True); cnnviz drops them")),
    "GlobalAveragePooling2D": (_CHANNELS_LAST, ("keepdims", False,
                               "keeps the pooled dimensions (keepdims=True); cnnviz drops them")),
    "Conv1D": (_CHANNELS_LAST_1D, ("groups", 1, "splits its channels into {value} groups; "
                                   "cnnviz convolutions use 1 group")) + _WEIGHT_EXTRAS,
    "MaxPooling1D": (_CHANNELS_LAST_1D,),
    "AveragePooling1D": (_CHANNELS_LAST_1D,),
    "GlobalMaxPooling1D": (_CHANNELS_LAST_1D, _KEEPDIMS),
    "GlobalAveragePooling1D": (_CHANNELS_LAST_1D, _KEEPDIMS),
    "Flatten": (_CHANNELS_LAST,),
    "BatchNormalization": _BN_EXTRAS,
    "Dropout": (("noise_shape", None,
                 "drops whole slices (noise_shape is set); cnnviz drops single values"),),
}
# Which config keys become spec params, per supported Keras class (names are shared).
_SPEC_KEYS: dict[str, tuple[str, ...]] = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation", "use_bias"),
    "Dense": ("units", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "GlobalMaxPooling2D": (),
    "GlobalAveragePooling2D": (),
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation",
               "use_bias"),
    "MaxPooling1D": ("pool_size", "strides", "padding"),
    "AveragePooling1D": ("pool_size", "strides", "padding"),
    "GlobalMaxPooling1D": (),
    "GlobalAveragePooling1D": (),
    "Flatten": (),
    "BatchNormalization": ("momentum", "epsilon"),
    "Dropout": ("rate",),
    "Activation": ("activation",),
}
_NESTED_MODELS = ("Sequential", "Functional", "Model")


def _activation_layer(cls: str, config: dict[str, Any],
                      input_rank: int) -> tuple[LayerSpec | None, list[str]]:
    """A standalone activation layer as Activation(...), only where the result is identical."""
    last_axis = config.get("axis", -1) in (-1, input_rank - 1, [-1], [input_rank - 1])
    if cls == "ReLU":
        if (config.get("max_value") is None and not config.get("negative_slope")
                and not config.get("threshold")):
            return LayerSpec("Activation", {"activation": "relu"}), []
        return None, ["is a ReLU with a cap, slope or threshold; cnnviz's 'relu' has none"]
    if cls == "Softmax":
        if last_axis:
            return LayerSpec("Activation", {"activation": "softmax"}), []
        return None, [f"applies softmax over axis {config.get('axis')}; cnnviz's softmax "
                      f"uses the last axis"]
    if cls == "LeakyReLU":
        slope = config.get("negative_slope", 0.3)
        # The 'leaky_relu' activation function has slope 0.2; the LeakyReLU layer defaults to 0.3.
        if slope == 0.2:
            return LayerSpec("Activation", {"activation": "leaky_relu"}), []
        return None, [f"has negative_slope {slope}; cnnviz's 'leaky_relu' uses 0.2"]
    if cls == "ELU":
        if config.get("alpha", 1.0) == 1.0:
            return LayerSpec("Activation", {"activation": "elu"}), []
        return None, [f"has alpha {config.get('alpha')}; cnnviz's 'elu' uses 1.0"]
    raise AssertionError(cls)


def _is_prepared_base(layer: Any) -> bool:
    """Whether a nested model is a block core.transfer.base_blocks prepared (its input
    named 'images', then its resizing to the base's size)."""
    names = [str(inner.name) for inner in getattr(layer, "layers", [])[:3]]
    return bool(names) and names[0] == "images" and "resize_for_base" in names


def _layer_to_spec(layer: Any, input_rank: int) -> tuple[LayerSpec | None, list[str]]:
    """A Keras layer as a LayerSpec, or None and every reason it cannot be one."""
    cls = type(layer).__name__
    reasons: list[str] = []
    policy = getattr(getattr(layer, "dtype_policy", None), "name", "float32")
    if policy != "float32":
        reasons.append(f"computes in {policy}; cnnviz builds float32 layers")
    if cls in _NESTED_MODELS or hasattr(layer, "layers"):
        # core.transfer.spec_with_bases turns one such network into a PretrainedBase layer
        # (the builder's "open in the builder" does); a plain stack of layers cannot hold it.
        if _is_prepared_base(layer):
            return None, reasons + [
                "is a pre-built base; a stack of plain layers cannot hold it (opening the "
                "model in the builder keeps it as a Pre-built base with its weights)"]
        return None, reasons + ["is a model nested inside the model; a stack of plain layers "
                                "cannot hold it (opening the model in the builder keeps one "
                                "such network as a Pre-built base with its weights)"]
    if cls == "Lambda":
        return None, reasons + ["runs custom Python code, which a cnnviz spec cannot hold"]
    config = layer.get_config()
    if cls in ("ReLU", "Softmax", "LeakyReLU", "ELU"):
        converted, more = _activation_layer(cls, config, input_rank)
    elif cls in _SPEC_KEYS:
        converted, more = _supported_layer(cls, config, input_rank)
    else:
        converted, more = None, [f"cnnviz has no {cls} layer"]
    reasons += more
    if reasons:
        return None, reasons
    assert converted is not None
    converted.trainable = bool(layer.trainable)  # a frozen layer stays frozen in the spec
    try:
        return normalize_layer(converted), []
    except SpecError as exc:  # e.g. 5000 filters: more than the editor allows
        return None, [str(exc).rstrip(".")]


def _supported_layer(cls: str, config: dict[str, Any],
                     input_rank: int) -> tuple[LayerSpec | None, list[str]]:
    reasons = []
    for key, allowed, why in _EXTRAS.get(cls, ()):
        value = config.get(key, allowed)
        if _plain(value) != _plain(allowed):
            reasons.append(why.format(value=_plain(value)))
    if cls == "BatchNormalization" and config.get("axis", -1) not in (-1, input_rank - 1):
        reasons.append(f"normalises axis {config.get('axis')}; cnnviz normalises channels "
                       f"(the last axis)")
    if "activation" in _SPEC_KEYS[cls]:
        problem = _activation_reason(config.get("activation"))
        if problem:
            reasons.append(problem)
    params = {key: _plain(config[key]) for key in _SPEC_KEYS[cls] if key in config}
    if cls in ("Conv1D", "MaxPooling1D", "AveragePooling1D"):
        # Keras stores 1-D sizes as 1-tuples, (3,); the spec writes the number.
        params = {key: value[0] if isinstance(value, list) and len(value) == 1 else value
                  for key, value in params.items()}
    if cls in ("Conv2D", "Conv1D", "Dense"):
        params["kernel_regularizer"], problem = _regularizer_to_spec(
            config.get("kernel_regularizer"))
        if problem:
            reasons.append(problem)
    if (cls in ("MaxPooling2D", "AveragePooling2D", "MaxPooling1D", "AveragePooling1D")
            and params.get("strides") == params["pool_size"]):
        params["strides"] = None  # Keras stores the default (= pool size) explicitly
    if reasons:
        return None, reasons
    return LayerSpec(cls, params), []


def _node_of(tensor: Any) -> tuple[int, int]:
    """(operation id, node index) of the call that produced a symbolic tensor."""
    op, node_index, _ = tensor._keras_history
    return id(op), node_index


def _graph_chain(model: Any) -> tuple[list[Any], dict[str, list[str]], list[Any]]:
    """For a functional model: (the layers after the input, in order, if it is one straight
    chain; the graph's problems by operation name; every operation, in graph order).

    The chain is found by walking back from the outputs through each tensor's history,
    which names exactly the nodes of this model even when layers are reused elsewhere.
    """
    problems: dict[str, list[str]] = {}
    ops: dict[int, Any] = {}
    uses: Counter[int] = Counter()
    consumers: Counter[tuple[int, int]] = Counter()  # per (op, node): a shared op has several
    feeds: dict[int, Any] = {}  # producer op id → the op that consumes its output
    seen_nodes: set[tuple[int, int]] = set()
    stack = list(model.outputs)
    for tensor in model.outputs:
        consumers[_node_of(tensor)] += 1
    while stack:
        op, node_index, _ = stack.pop()._keras_history
        if (id(op), node_index) in seen_nodes:
            continue
        seen_nodes.add((id(op), node_index))
        ops[id(op)] = op
        uses[id(op)] += 1
        inputs = op._inbound_nodes[node_index].input_tensors
        if len(inputs) > 1:
            problems.setdefault(op.name, []).append(
                f"takes {len(inputs)} inputs (it joins branches); cnnviz models are one "
                f"straight chain")
        for tensor in inputs:
            consumers[_node_of(tensor)] += 1
            feeds[id(tensor._keras_history[0])] = op
            stack.append(tensor)
    for op_id, op in ops.items():
        if uses[op_id] > 1:
            problems.setdefault(op.name, []).append(
                f"is used {uses[op_id]} times (a shared layer); cnnviz uses each layer once")
    for (op_id, _), count in consumers.items():
        if count > 1:
            problems.setdefault(ops[op_id].name, []).append(
                f"its output feeds {count} layers or outputs (the model branches here); "
                f"cnnviz models are one straight chain")
    if len(model.outputs) > 1:
        for tensor in model.outputs:
            problems.setdefault(tensor._keras_history[0].name, []).append(
                f"is one of the model's {len(model.outputs)} outputs; cnnviz models have one")
    ordered = [op for op in model.operations if id(op) in ops]
    chain: list[Any] = []
    if not problems and len(model.inputs) == 1:
        op = model.inputs[0]._keras_history[0]
        while id(op) in feeds:
            op = feeds[id(op)]
            chain.append(op)
    return chain, problems, ordered


def _spec_safe_name(name: str, taken: set[str]) -> str:
    """The Keras name, with characters a spec file does not allow replaced, unique."""
    clean = "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in name) or "layer"
    candidate, n = clean, 1
    while candidate in taken:
        candidate, n = f"{clean}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _drop_automatic_names(spec: ModelSpec) -> ModelSpec:
    """Leave out layer names that cnnviz would generate anyway, so round trips are exact."""
    names = spec.layer_names()
    trial = spec.copy()
    for layer in trial.layers:
        kept, layer.name = layer.name, None
        if trial.layer_names() != names:  # the automatic name would differ: keep it
            layer.name = kept
    return trial


def _convert(model: Any) -> tuple[ModelSpec | None, list[tuple[str, str, str]]]:
    """The spec of a model, or None and every (name, type, reason) that prevents one."""
    import keras

    problems: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}

    def refuse(name: str, kind: str, why: str) -> None:
        kinds.setdefault(name, kind)
        problems.setdefault(name, []).append(why)

    def result() -> list[tuple[str, str, str]]:
        return [(name, kinds[name], "; ".join(reasons)) for name, reasons in problems.items()]

    if not isinstance(model, keras.Model):
        return None, [(getattr(model, "name", "?"), type(model).__name__, "is not a Keras model")]
    model_kind = type(model).__name__
    if isinstance(model, keras.Sequential):
        chain, ordered = list(model.layers), list(model.layers)
    elif hasattr(model, "_nodes_by_depth") and hasattr(model, "operations"):
        chain, graph_problems, ordered = _graph_chain(model)
        for op in ordered:
            for why in graph_problems.get(op.name, []):
                refuse(op.name, type(op).__name__, why)
    else:
        return None, [(model.name, model_kind, "is a subclassed model: its layers are joined by "
                       "Python code, not a layer graph cnnviz can read")]

    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        refuse(model.name, model_kind, "has no input shape yet; give it keras.Input(shape=...)")
        return None, result()
    if len(inputs) > 1:
        for tensor in inputs:
            op = tensor._keras_history[0]
            refuse(op.name, type(op).__name__,
                   f"is one of {len(inputs)} inputs; cnnviz models take one image or sequence")
    input_op = inputs[0]._keras_history[0]
    image_shape = tuple(inputs[0].shape[1:])
    try:
        if len(image_shape) not in (2, 3) or None in image_shape:
            raise SpecError(f"the input has shape {image_shape}; cnnviz needs a fixed "
                            f"(height, width, channels) image or (steps, channels) sequence")
        input_shape = check_input_shape(image_shape)
    except SpecError as exc:
        refuse(input_op.name, type(input_op).__name__, str(exc).rstrip("."))

    converted_by_id: dict[int, LayerSpec] = {}
    chain_ids = {id(layer) for layer in chain}
    for layer in ordered:
        if type(layer).__name__ == "InputLayer":
            continue
        if not isinstance(layer, keras.layers.Layer):  # e.g. keras.ops.add on tensors
            refuse(layer.name, type(layer).__name__,
                   "is a raw Keras operation, not a layer; cnnviz has no such layer")
            continue
        converted, reasons = _layer_to_spec(layer, _input_rank(layer))
        if converted is not None and id(layer) in chain_ids:
            reasons = _arithmetic_differences(converted, layer)
        for why in reasons:
            refuse(layer.name, type(layer).__name__, why)
        if converted is not None:
            converted_by_id[id(layer)] = converted
    if problems:
        return None, result()
    layers: list[LayerSpec] = []
    taken: set[str] = set()
    for layer in chain:
        converted = converted_by_id[id(layer)]
        converted.name = _spec_safe_name(layer.name, taken)
        layers.append(converted)
    spec = ModelSpec(input_shape, layers, model.name or "model")
    report = analyze(spec)
    if not report.ok:  # cannot happen after the per-layer checks; never return a broken spec
        refuse(model.name, model_kind, str(report.error_message()).rstrip("."))
        return None, result()
    return _drop_automatic_names(spec), []


def _input_rank(layer: Any) -> int:
    """Rank (with batch) of the layer's input; 0 when it has several (a shared layer)."""
    try:
        return len(layer.input.shape)
    except (AttributeError, ValueError):
        return 0


def _arithmetic_differences(converted: LayerSpec, layer: Any) -> list[str]:
    """Why cnnviz's arithmetic would not reproduce this Keras layer, e.g. Dense on a volume.

    Each layer is checked with Keras's own input shape, so one problem does not hide the
    next. A mismatch here would be a difference the config checks missed: refuse, don't guess.
    """
    input_shape = tuple(layer.input.shape[1:])
    keras_shape = tuple(layer.output.shape[1:])
    if None in input_shape:
        return [f"gets an input of varying size {input_shape}; cnnviz needs fixed sizes"]
    try:
        out, trainable, frozen = layer_arithmetic(normalize_layer(converted), input_shape)
    except (LayerProblem, SpecError) as exc:
        return [str(exc).rstrip(".")]
    if out != keras_shape or trainable + frozen != layer.count_params():
        return [f"Keras gives it output {keras_shape} with {layer.count_params()} parameters, "
                f"but cnnviz would compute {out} with {trainable + frozen}"]
    return []


def unsupported_layers(model: "keras.Model") -> list[tuple[str, str, str]]:
    """Every part of `model` a cnnviz spec cannot represent exactly: (name, type, reason).

    An empty list means `model_to_spec(model)` will succeed.
    """
    return _convert(model)[1]


def model_to_spec(model: "keras.Model") -> ModelSpec:
    """The spec of a Sequential model, or a functional one that is a single straight chain.

    Standalone ReLU/Softmax/ELU/LeakyReLU layers become Activation layers when they compute
    exactly the same function. Weights and initialisers are not part of a spec.

    Raises UnsupportedLayerError naming every layer that cannot be represented, and why.
    """
    spec, problems = _convert(model)
    if problems or spec is None:
        lines = "\n".join(f"  • '{name}' ({kind}): {why}." for name, kind, why in problems)
        count = f"{len(problems)} part{'s' if len(problems) != 1 else ''}"
        raise UnsupportedLayerError(
            f"cnnviz cannot turn the model '{model.name}' into an editable stack: {count} "
            f"cannot be represented exactly.\n{lines}"
        )
    return spec
