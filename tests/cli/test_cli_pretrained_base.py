"""The commands on a spec with a pre-built base (PretrainedBase): `cnnviz train` prepares a
missing base file again and trains; the saved model evaluates and explains with attribution;
`summary` names the base without TensorFlow; `export-code` writes a script Keras runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.transfer.base_blocks import prepare_base_block
from tests.cli.test_cli_train import three_pattern_npz

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def base_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A head on MobileNetV2 (random weights, 32×32) for 12×12 grey images, whose prepared
    file is then deleted, as on a computer the spec was copied to."""
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CNNVIZ_RECORD_RUNS", "0")
    base = prepare_base_block("mobilenet_v2", weights="random", input_size=(32, 32),
                              input_channels=1)
    spec = ModelSpec((12, 12, 1), [base, LayerSpec.new("GlobalAveragePooling2D"),
                                   LayerSpec.make("Dense", units=3, activation="softmax")],
                     "on_mobilenet")
    path = tmp_path / "on_mobilenet.json"
    path.write_text(spec.to_json(), encoding="utf-8")
    Path(base.params["block_file"]).unlink()
    return path


def test_train_prepares_the_missing_base_trains_and_saves_a_model_that_reopens(
        base_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = three_pattern_npz(tmp_path / "patterns.npz", count=96)
    out = tmp_path / "trained.keras"
    code = main(["train", str(base_spec), "--data", str(data), "--epochs", "1",
                 "--batch-size", "32", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "preparing the pre-built base mobilenet_v2 (random weights), cut at 'out_relu', " \
           "32×32" in captured.err
    assert list((tmp_path / "home" / "bases").glob("mobilenet_v2-random-32x32x1-*.keras"))
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ") and 0 <= float(last.split(": ")[1]) <= 1

    # The saved model reopens with the base as one frozen layer, and evaluates and attributes.
    assert main(["summary", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "pretrained_base (Functional)" in summary and "(None, 1, 1, 1280)" in summary
    assert main(["evaluate", str(out), "--data", str(data)]) == 0
    assert "accuracy:" in capsys.readouterr().out
    assert main(["attribution", str(out), "--data", str(data), "--method", "gradcam",
                 "--layer", "pretrained_base/Conv1", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["layer"] == "pretrained_base/Conv1"
    assert (len(answer["map"]), len(answer["map"][0])) == (16, 16)


def test_summary_names_the_base_without_tensorflow(base_spec: Path) -> None:
    code = ("import sys; from cnnviz.cli import main; "
            f"rc = main(['summary', {str(base_spec)!r}]); "
            "print(rc, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    lines = result.stdout.splitlines()
    assert lines[-1] == "0 False False", result.stderr
    row = next(line for line in lines if line.startswith(" pretrained_base ("))
    assert "pre-built mobilenet_v2" in row and "(None, 1, 1, 1280)" in row
    assert row.rstrip().endswith("2,257,984")
    assert (" pretrained_base: mobilenet_v2 (random weights), cut at 'out_relu', 32×32; "
            "0 trainable and 2,257,984 non-trainable params, frozen") in lines


def test_export_code_writes_a_script_that_builds_the_base_with_keras(
        base_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "model.py"
    assert main(["export-code", str(base_spec), "-o", str(script)]) == 0
    code = script.read_text(encoding="utf-8")
    assert "keras.applications.MobileNetV2(" in code and "weights=None" in code
    assert "block_file" not in code and "import cnnviz" not in code and "from cnnviz" not in code
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Trainable params: 3,843" in result.stdout  # only the head trains
