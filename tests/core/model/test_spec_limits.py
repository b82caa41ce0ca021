"""Specs no one would write are refused in words by the spec reader (issue 13): nesting far
beyond a spec's few levels, and more layers than MAX_LAYERS, wherever a stack can grow."""

from __future__ import annotations

import json

import pytest

from cnnviz.core.errors import ModelFileError, SpecError
from cnnviz.core.inspect.model_file_reading import read_json
from cnnviz.core.model import spec_edits
from cnnviz.core.model.builder import build_model
from cnnviz.core.model.spec import MAX_LAYERS, LayerSpec, ModelSpec, load_spec


def dense_stack(count: int) -> ModelSpec:
    return ModelSpec((4, 4, 1), [LayerSpec.make("Flatten")]
                     + [LayerSpec.make("Dense", units=2) for _ in range(count - 1)])


def test_a_spec_nested_100000_deep_is_refused_in_words(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(SpecError, match="nested too deeply to be a spec"):
        load_spec(path)


def test_an_architecture_json_nested_100000_deep_is_refused_in_words(tmp_path):
    path = tmp_path / "deep_model.json"
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000, encoding="utf-8")
    with pytest.raises(ModelFileError, match="nested too deeply"):
        read_json(path)


def test_the_limit_itself_is_accepted_and_one_more_is_refused(tmp_path):
    data = dense_stack(MAX_LAYERS).to_dict()
    assert len(ModelSpec.from_dict(data).layers) == MAX_LAYERS
    data["layers"].append({"type": "Dense", "params": {"units": 2}})
    with pytest.raises(SpecError, match=rf"{MAX_LAYERS + 1:,} layers; cnnviz handles at most"):
        ModelSpec.from_dict(data)


def test_the_builder_edits_refuse_to_grow_past_the_limit():
    full = dense_stack(MAX_LAYERS)
    with pytest.raises(SpecError, match=f"at most {MAX_LAYERS:,}"):
        spec_edits.insert_layer(full, 0, LayerSpec.new("Dense"))
    with pytest.raises(SpecError, match=f"at most {MAX_LAYERS:,}"):
        spec_edits.duplicate_layer(full, 3)
    assert len(full.layers) == MAX_LAYERS  # untouched
    assert len(spec_edits.remove_layer(full, 1).layers) == MAX_LAYERS - 1


def test_building_a_stack_beyond_the_limit_is_refused_before_keras():
    spec = dense_stack(MAX_LAYERS + 1)
    with pytest.raises(SpecError, match=f"at most {MAX_LAYERS:,}"):
        build_model(spec)


def test_a_deep_but_legal_json_still_reads(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(dense_stack(5).to_dict()), encoding="utf-8")
    assert len(load_spec(path).layers) == 5


def test_a_long_wrong_value_is_quoted_short(tmp_path) -> None:
    from cnnviz.core.model.spec import load_spec

    path = tmp_path / "long.json"
    path.write_text(json.dumps({"format": "cnnviz-model-spec", "format_version": 1,
                                "input_shape": [28, 28, "x" * 5000], "layers": []}))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert len(message) < 200 and "xxx…" in message
