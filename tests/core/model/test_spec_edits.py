"""Pure spec edits: each returns a new spec and leaves the original untouched (undo relies on it)."""

import pytest

from cnnviz.core.model import spec_edits
from cnnviz.core.errors import SpecError
from cnnviz.core.model.layer_text import layer_summary
from cnnviz.core.model.spec import LayerSpec, ModelSpec


def tutorial() -> ModelSpec:
    L = LayerSpec.make
    return ModelSpec((28, 28, 1), [L("Conv2D", filters=32, activation="relu"), L("MaxPooling2D"),
                                   L("Flatten"), L("Dense", units=10, activation="softmax")])


def test_every_edit_leaves_the_original_alone():
    spec = tutorial()
    frozen = spec.to_json()
    spec_edits.insert_layer(spec, 1, LayerSpec.make("Dropout"))
    spec_edits.remove_layer(spec, 0)
    spec_edits.duplicate_layer(spec, 0)
    spec_edits.move_layer(spec, 0, 3)
    spec_edits.set_param(spec, 0, "filters", 8)
    spec_edits.set_input_shape(spec, (32, 32, 3))
    spec_edits.rename_layer(spec, 0, "first")
    assert spec.to_json() == frozen


def test_edits_do_what_they_say():
    spec = tutorial()
    assert [l.type for l in spec_edits.move_layer(spec, 0, 2).layers] == \
        ["MaxPooling2D", "Flatten", "Conv2D", "Dense"]
    dup = spec_edits.duplicate_layer(spec_edits.rename_layer(spec, 0, "c1"), 0)
    assert [l.name for l in dup.layers[:2]] == ["c1", None]  # names stay unique
    assert spec_edits.set_param(spec, 0, "kernel_size", 5).layers[0].params["kernel_size"] == [5, 5]
    assert spec_edits.insert_layer(spec, 99, LayerSpec.make("Dropout")).layers[-1].type == "Dropout"


def test_out_of_range_values_and_clashing_names_are_refused():
    spec = tutorial()
    with pytest.raises(SpecError, match="strides"):
        spec_edits.set_param(spec, 0, "strides", [0, 1])
    with pytest.raises(SpecError, match="filters"):
        spec_edits.set_param(spec, 0, "filters", 0)
    with pytest.raises(SpecError, match="already called 'dense'"):
        spec_edits.rename_layer(spec, 0, "dense")
    with pytest.raises(SpecError, match="letters, digits"):
        spec_edits.rename_layer(spec, 0, "my layer!")
    with pytest.raises(SpecError, match="channels"):
        spec_edits.set_input_shape(spec, (28, 28, 0))


def test_layer_summaries_read_like_a_textbook():
    L = LayerSpec.make
    assert layer_summary(L("Conv2D", filters=32, activation="relu")) == "32 filters 3×3, relu"
    assert layer_summary(L("Conv2D", filters=8, kernel_size=[5, 5], strides=[2, 2],
                           padding="same", use_bias=False)) == \
        "8 filters 5×5, stride 2×2, padding same, no bias"
    assert layer_summary(L("MaxPooling2D", strides=[1, 1])) == "2×2, stride 1×1"
    assert layer_summary(L("Dense", units=10, activation="softmax")) == "10 units, softmax"
    assert layer_summary(L("Dropout", rate=0.25)) == "rate 0.25"
