"""Hostile inputs on the command line (issue 13): whatever goes wrong, one line and an exit
code, never a raw traceback; sizes no model has are refused in words before work starts; an
output that cannot be written is found before training, not after it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.core.model.spec import MAX_LAYERS
from tests.cli.cli_output import one_line

TINY_SPEC = {
    "name": "tiny",
    "input_shape": [12, 12, 1],
    "layers": [
        {"type": "Conv2D", "params": {"filters": 4, "kernel_size": [3, 3], "activation": "relu"}},
        {"type": "Flatten"},
        {"type": "Dense", "params": {"units": 3, "activation": "softmax"}},
    ],
}


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture()
def cnnviz_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CNNVIZ_HOME", str(home))
    return home


def no_tensorflow(monkeypatch) -> None:
    """Make starting TensorFlow (the first step of real work) an error, to prove a refusal
    comes before it."""
    def refuse() -> None:
        raise AssertionError("the command started work before checking its arguments")

    for module in ("cnnviz.cli.train", "cnnviz.cli.explain"):
        monkeypatch.setattr(f"{module}.start_tensorflow", refuse)


# ---------------------------------------------------------------- the catch-all


def test_an_unexpected_error_is_one_line_exit_1_and_a_log_with_the_traceback(
        tmp_path, capsys, monkeypatch, cnnviz_home):
    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("something nobody foresaw")

    monkeypatch.setattr("cnnviz.cli.front_door.cmd_summary", broken)
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    assert main(["summary", str(spec)]) == 1
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert "ZeroDivisionError: something nobody foresaw" in line
    logs = list((cnnviz_home / "logs").iterdir())
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in broken" in text
    assert f"cnnviz summary {spec}" in text

    # --verbose still shows the traceback, and the line after it.
    assert main(["--verbose", "summary", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("cnnviz: an unexpected error")


def test_a_user_error_keeps_exit_2_and_writes_no_log(tmp_path, capsys, cnnviz_home):
    assert main(["summary", str(tmp_path / "missing.json")]) == 2
    assert "No such file" in one_line(capsys.readouterr().err)
    assert not (cnnviz_home / "logs").exists()


def test_a_spec_nested_100000_deep_is_refused_in_words_by_the_real_program(tmp_path,
                                                                            cnnviz_home):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    env = {**__import__("os").environ, "CNNVIZ_HOME": str(cnnviz_home)}
    done = subprocess.run([sys.executable, "-m", "cnnviz", "summary", str(deep)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert "nested too deeply to be a spec" in line and "deep.json" in line
    assert not (cnnviz_home / "logs").exists()  # the spec reader answered, not the catch-all


# ---------------------------------------------------------------- the layer limit


def test_a_spec_beyond_the_layer_limit_is_refused_by_summary_and_train(tmp_path, capsys,
                                                                       monkeypatch):
    no_tensorflow(monkeypatch)
    spec = dict(TINY_SPEC, layers=[{"type": "Dense", "params": {"units": 2}}] * 10_000)
    path = write_json(tmp_path / "huge.json", spec)
    assert main(["summary", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "10,000 layers" in line and f"at most {MAX_LAYERS:,}" in line
    assert main(["train", str(path), "--data", "mnist-sample", "--epochs", "1",
                 "--out", str(tmp_path / "m.keras")]) == 2
    assert "10,000 layers" in one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- outputs and epochs


@pytest.fixture()
def locked_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize("option", ["--out", "--history"])
def test_train_into_a_read_only_or_missing_folder_is_refused_before_training(
        tmp_path, capsys, monkeypatch, locked_folder, option):
    no_tensorflow(monkeypatch)
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    outputs = {"--out": str(tmp_path / "m.keras"), "--history": str(tmp_path / "h.csv")}
    name = "m.keras" if option == "--out" else "h.csv"
    for folder, words in ((locked_folder, "read-only"), (tmp_path / "missing", "does not exist")):
        outputs[option] = str(folder / name)
        args = [arg for key, value in outputs.items() for arg in (key, value)]
        assert main(["train", str(spec), "--data", "mnist-sample", "--epochs", "1", *args]) == 2
        line = one_line(capsys.readouterr().err)
        assert option in line and words in line and "before training" in line
    assert list(locked_folder.iterdir()) == []


def test_epochs_have_an_upper_bound(tmp_path, capsys, monkeypatch):
    no_tensorflow(monkeypatch)
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    assert main(["train", str(spec), "--data", "mnist-sample", "--epochs", "100000",
                 "--out", str(tmp_path / "m.keras")]) == 2
    line = one_line(capsys.readouterr().err)
    assert "--epochs 100,000" in line and "1,000" in line


def test_explain_out_into_a_read_only_folder_is_refused_before_any_work(
        tmp_path, capsys, monkeypatch, locked_folder):
    no_tensorflow(monkeypatch)
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    for out in (locked_folder, locked_folder / "pictures"):
        assert main(["explain", str(spec), "--data", "mnist-sample", "--out", str(out)]) == 2
        line = one_line(capsys.readouterr().err)
        assert "--out" in line and "read-only" in line
    assert list(locked_folder.iterdir()) == []


# ---------------------------------------------------------------- trusting a file


def test_a_lambda_model_refusal_names_the_trust_option(tmp_path, capsys):
    import keras

    path = tmp_path / "with_code.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x + 1.0, name="plus"),
                      keras.layers.Dense(2)]).save(path)
    for command in (["summary", str(path)],
                    ["evaluate", str(path), "--data", "mnist-sample"]):
        assert main(command) == 2
        line = one_line(capsys.readouterr().err)
        assert "Python code" in line and "--trust" in line
        assert "I trust this file" not in line  # the app's button is not on the command line
