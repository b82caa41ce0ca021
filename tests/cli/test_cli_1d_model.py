"""`cnnviz summary` and `cnnviz export-code` on 1-D models: sequence specs and saved Keras
models with Conv1D layers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cnnviz.cli import main

SAMPLE_MODELS = Path(__file__).resolve().parents[2] / "sample_models"

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def keras_rows(model) -> list[tuple[str, str, str]]:
    """(layer (type), output shape, params) per layer, as Keras's own model.summary() prints."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, line_break=True: lines.append(text))
    text = re.sub(r"[│┃]", "|", "\n".join(lines))
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not (line.startswith("|") and line.endswith("|")):
            continue
        cells = [cell.strip() for cell in line[1:-1].split("|")]
        if len(cells) != 3:
            continue
        if cells[2].replace(",", "").isdigit():
            rows.append((cells[0], cells[1], cells[2]))
        elif rows and cells[0] and not cells[1] and not cells[2]:
            # A long name goes on in the next line: "global_average_pooling1d" / "(Glob...)".
            name, shape, params = rows[-1]
            rows[-1] = (f"{name} {cells[0]}", shape, params)
    return rows


def our_rows(out: str) -> list[tuple[str, str, str]]:
    found = re.findall(r"^ (\S+ \(\w+\))\s+(\(None[^)]*\))\s+([\d,]+)$", out, re.M)
    return [row for row in found if not row[0].endswith("(InputLayer)")]


def test_summary_of_the_keras_guide_spec_equals_keras_summary(capsys):
    from cnnviz.core.model.builder import build_model
    from cnnviz.core.model.spec import load_spec

    path = SAMPLE_MODELS / "keras_sequence_1d.json"
    assert main(["summary", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert re.search(r"^ input \(InputLayer\)\s+\(None, 64, 100\)\s+0$", out, re.M)
    assert re.search(r"^ conv1d \(Conv1D\)\s+\(None, 62, 64\)\s+19,264$", out, re.M)
    assert re.search(r"^ max_pooling1d \(MaxPooling1D\)\s+\(None, 20, 64\)\s+0$", out, re.M)
    assert " Total params: 105,729 (413.00 KB)" in out.splitlines()
    rows = our_rows(out)
    assert len(rows) == 8
    assert rows == keras_rows(build_model(load_spec(path)))


def test_summary_of_a_bad_sequence_spec_names_the_layer(tmp_path, capsys):
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"input_shape": [3, 2], "layers": [
        {"type": "Conv1D", "params": {"filters": 4, "kernel_size": 5}}]}), encoding="utf-8")
    assert main(["summary", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == ("cnnviz: Layer 1 (Conv1D 'conv1d'): a kernel of 5 on a sequence of 3 "
                           "steps leaves nothing. Use padding='same' or 'causal', or a smaller "
                           "kernel.")
    assert "conv1d (Conv1D)" in out and "Total params" not in out


def test_summary_of_a_saved_keras_sequence_model(tmp_path, capfd):
    import keras

    model = keras.Sequential([
        keras.Input((128, 3)),
        keras.layers.Conv1D(8, 7, padding="causal", dilation_rate=2, name="causal"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.AveragePooling1D(4, name="pool"),
        keras.layers.GlobalMaxPooling1D(name="gmp"),
        keras.layers.Dense(4, activation="softmax", name="out"),
    ], name="sensor")
    model.save(tmp_path / "sensor.keras")
    capfd.readouterr()
    assert main(["summary", str(tmp_path / "sensor.keras")]) == 0
    out, err = capfd.readouterr()
    assert err == ""
    assert re.search(r"^ input \(InputLayer\)\s+\(None, 128, 3\)\s+0$", out, re.M)
    assert our_rows(out) == keras_rows(model)
    assert f" Total params: {model.count_params():,} " in out


def test_export_code_of_a_sequence_spec(tmp_path, capsys):
    path = SAMPLE_MODELS / "signal_fcn.json"
    target = tmp_path / "fcn.py"
    assert main(["export-code", str(path), "-o", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    code = target.read_text(encoding="utf-8")
    compile(code, str(target), "exec")
    assert "keras.Input(shape=(150, 1))" in code
    assert 'layers.Conv1D(32, 8, padding="same", name="conv1d"),' in code
    assert 'layers.GlobalAveragePooling1D(name="global_average_pooling1d"),' in code
    assert "(N, steps, channels) = (N, 150, 1)" in code


def test_export_code_refuses_a_conv1d_on_an_image(tmp_path, capsys):
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"input_shape": [28, 28, 1], "layers": [
        {"type": "Conv1D"}]}), encoding="utf-8")
    target = tmp_path / "out.py"
    assert main(["export-code", str(path), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert "Conv1D needs a sequence (steps × channels), but it gets an image-shaped volume of " \
           "28×28×1. Use Conv2D for images" in err
    assert not target.exists()
