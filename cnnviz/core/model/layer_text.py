"""Short human descriptions of layers, shared by the editor, the diagram and the CLI."""

from __future__ import annotations

from cnnviz.core.model.spec import LayerSpec


def _x(pair: list[int] | None) -> str:
    return f"{pair[0]}×{pair[1]}" if pair else ""


def layer_summary(layer: LayerSpec) -> str:
    """The settings that matter, e.g. '32 filters 3×3, relu', '64 filters 3, relu' (1-D) or
    '2×2, stride 1'."""
    p = layer.params
    parts: list[str] = []
    get = layer.get
    try:
        if layer.type == "Conv2D":
            parts.append(f"{get('filters')} filters {_x(get('kernel_size'))}")
            if get("strides") != [1, 1]:
                parts.append(f"stride {_x(get('strides'))}")
            if get("padding") != "valid":
                parts.append(f"padding {get('padding')}")
            if get("activation") != "linear":
                parts.append(str(get("activation")))
            if not get("use_bias"):
                parts.append("no bias")
            if get("kernel_regularizer"):
                parts.append("regularised")
        elif layer.type == "Conv1D":
            parts.append(f"{get('filters')} filters {get('kernel_size')}")
            if get("strides") != 1:
                parts.append(f"stride {get('strides')}")
            if get("dilation_rate") != 1:
                parts.append(f"dilation {get('dilation_rate')}")
            if get("padding") != "valid":
                parts.append(f"padding {get('padding')}")
            if get("activation") != "linear":
                parts.append(str(get("activation")))
            if not get("use_bias"):
                parts.append("no bias")
            if get("kernel_regularizer"):
                parts.append("regularised")
        elif layer.type in ("MaxPooling1D", "AveragePooling1D"):
            parts.append(str(get("pool_size")))
            strides = get("strides")
            if strides is not None and strides != get("pool_size"):
                parts.append(f"stride {strides}")
            if get("padding") != "valid":
                parts.append(f"padding {get('padding')}")
        elif layer.type in ("MaxPooling2D", "AveragePooling2D"):
            parts.append(_x(get("pool_size")))
            strides = get("strides")
            if strides is not None and strides != get("pool_size"):
                parts.append(f"stride {_x(strides)}")
            if get("padding") != "valid":
                parts.append(f"padding {get('padding')}")
        elif layer.type == "Dense":
            units = get("units")
            parts.append(f"{units} unit" if units == 1 else f"{units} units")
            if get("activation") != "linear":
                parts.append(str(get("activation")))
            if not get("use_bias"):
                parts.append("no bias")
            if get("kernel_regularizer"):
                parts.append("regularised")
        elif layer.type == "Activation":
            parts.append(str(get("activation")))
        elif layer.type == "Dropout":
            parts.append(f"rate {get('rate'):g}")
    except (KeyError, TypeError, IndexError):
        # A hand-made spec with odd values: show its raw parameters rather than fail.
        return ", ".join(f"{k}={v}" for k, v in p.items())
    return ", ".join(parts)
