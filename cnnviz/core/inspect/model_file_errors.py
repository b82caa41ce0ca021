"""The errors open_model raises, and turning whatever Keras or h5py raised while loading a
model or its weights into one readable sentence (which layers, which module, which shape).
"""

from __future__ import annotations

import re
from pathlib import Path

from cnnviz.core.errors import ModelFileError, UntrustedModelError
from cnnviz.core.inspect.model_file_reading import LayerEntry, is_builtin_layer
from cnnviz.core.model.builder import load_failure_message

# What tf.keras (Keras 2) made of raw TensorFlow calls in a functional model.
_TF_OP_LAYERS = ("TFOpLambda", "SlicingOpLambda")


class CustomCodeError(ModelFileError):
    """The model needs custom Python code (a layer class, activation, ...) that is neither in
    the file nor importable here; trusting the file would not help."""

    def __init__(self, message: str, layers: list[str] | None = None) -> None:
        super().__init__(message)
        self.layers = list(layers or [])


def _names(entries: list[LayerEntry]) -> str:
    shown = [f"'{entry.name}'" for entry in entries[:4]]
    more = f" and {len(entries) - 4} more" if len(entries) > 4 else ""
    return ", ".join(shown) + more


def importable_module(entry: LayerEntry) -> str | None:
    """The Python module a custom class says it lives in, if cnnviz could import it."""
    if (entry.module and entry.module not in ("__main__", "builtins")
            and not is_builtin_layer(entry)):
        return entry.module
    return None


def _custom_failure(path: Path, entries: list[LayerEntry], exc: BaseException,
                    trust: bool) -> ModelFileError:
    """The error for a model whose custom classes Keras could not find."""
    text = str(exc)
    custom = [entry for entry in entries if not is_builtin_layer(entry)]
    found = re.search(r"Could not locate (?:class|function) '([^']+)'", text) or re.search(
        r"Unknown (?:layer|object|activation|loss|metric|initializer|regularizer)[^:]*: "
        r"'?([^'.\s]+)", text)
    missing = found.group(1).split(">")[-1] if found else None
    if custom:
        what = f"the custom layer{'s' if len(custom) > 1 else ''} {_names(custom)} (" + ", ".join(
            sorted({entry.class_name for entry in custom})) + ")"
    else:
        what = f"the custom object '{missing}'" if missing else "custom code"
    names = [entry.name for entry in custom]
    tf_ops = [entry for entry in custom if entry.class_name in _TF_OP_LAYERS]
    if tf_ops:
        return CustomCodeError(
            f"{path.name} applies TensorFlow operations directly ({_names(tf_ops)}), which "
            f"tf.keras (Keras 2) could save but Keras 3 cannot rebuild; re-save the model "
            f"from Keras 2 with those operations written as Keras layers.", names)
    modules = sorted({m for m in (importable_module(entry) for entry in custom) if m})
    if modules and not trust:
        return UntrustedModelError(
            f"{path.name} uses {what}, whose Python code is not in the file but in the "
            f"module {', '.join(modules)}; importing it runs that code, so cnnviz does so only "
            f"for a file you trust.", names)
    return CustomCodeError(
        f"{path.name} uses {what}, whose Python code is not stored in the file and is not "
        f"available here, so cnnviz cannot rebuild the model (trusting the file would not "
        f"help).", names)


def load_failure(path: Path, kind: str, exc: BaseException, trust: bool,
                 entries: list[LayerEntry]) -> ModelFileError:
    """One readable error for any exception Keras or h5py raised while loading."""
    text = str(exc)
    if "safe_mode" in text and not trust:
        lambdas = [entry for entry in entries if entry.class_name == "Lambda"]
        if lambdas:
            which = f"Lambda layer{'s' if len(lambdas) > 1 else ''} {_names(lambdas)}"
        else:
            which = "a Lambda layer or a Python function"
        return UntrustedModelError(
            f"{path.name} contains Python code ({which}) that would run on your computer when "
            f"the model is used, so cnnviz refuses it in safe mode.",
            [entry.name for entry in lambdas])
    if re.search(r"Could not locate (class|function)|Unknown (layer|object|activation|loss|"
                 r"metric|initializer|regularizer)|cannot be imported", text):
        return _custom_failure(path, entries, exc, trust)
    if kind == "keras" and "Expected a model.weights" in text:
        return ModelFileError(
            f"{path.name} has no weights inside (the archive lacks model.weights.h5); it is "
            f"damaged or was not completely written.")
    if kind == "keras" and "could not be loaded" in text:
        found = re.search(r"A total of (\d+) objects? could not be loaded.*?for object "
                          r"<\w+ name=([^,>]+)", text, re.S)
        which = (f" (for {found.group(1)} part{'s' if found.group(1) != '1' else ''} of the "
                 f"model, e.g. layer '{found.group(2)}')" if found else "")
        return ModelFileError(
            f"{path.name} is damaged: some of its stored weights are missing or do not fit "
            f"the layers{which}.")
    if kind == "h5" and path.name.lower().endswith(".weights.h5") or "No model config" in text:
        return ModelFileError(
            f"{path.name} holds only weights, no model architecture; open the model's "
            f"architecture (.json) and choose this file as its weights.")
    if kind == "json":
        return ModelFileError(f"{path.name} is not a valid Keras model architecture: "
                              f"{first_line(text)}")
    return ModelFileError(load_failure_message(path, exc, trust))


def first_line(text: str, limit: int = 160) -> str:
    """The first line of an exception's text, cut to `limit` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    # A damaged file's bytes end up quoted in Keras's messages; a terminal or a dialog
    # should not receive control or direction-changing characters.
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def weights_mismatch(weights: Path, architecture: Path, exc: BaseException) -> ModelFileError:
    """One readable error for weights that would not load into an architecture."""
    text = str(exc)
    detail = ""
    found = re.search(r"named (\S+?)\)?\s*for weight (\S+)\. Weight expects shape (\([^)]*\))\. "
                      r"Received saved weight with shape (\([^)]*\))", text)
    if found:
        detail = (f": layer '{found.group(1)}' needs {found.group(2)} of shape "
                  f"{found.group(3)}, the file has {found.group(4)}")
    else:
        found = re.search(r"for object <\w+ name=([^,>]+).*?variable\.shape=(\([^)]*\)), "
                          r"Received: value\.shape=(\([^)]*\))", text, re.S)
        if found:
            detail = (f": layer '{found.group(1)}' needs a weight of shape {found.group(2)}, "
                      f"the file has {found.group(3)}")
        elif re.search(r"layer count mismatch|contains \d+ layers", text, re.I):
            detail = f" ({first_line(text)})"
    if detail or re.search(r"shape|mismatch|could not be loaded", text, re.I):
        return ModelFileError(f"The weights in {weights.name} do not fit the architecture "
                              f"in {architecture.name}{detail or ''}.")
    return ModelFileError(f"Cannot read weights from {weights.name}: {first_line(text)}")
