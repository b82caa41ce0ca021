"""`cnnviz transfer` as a user meets it: a sample digit model as the base for new classes,
the saved model reopened by `cnnviz evaluate` with the same accuracy, runs recorded, and
one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnviz.cli import main
from cnnviz.core.experiments.run_store import RunStore

SAMPLE_MODEL = Path(__file__).resolve().parents[2] / "sample_models" / "mnist_cnn_small.keras"


def shapes_npz(path: Path, size: int = 28, count: int = 160) -> Path:
    """Three new classes for a digit network: a bright square, a bar, a cross."""
    rng = np.random.default_rng(0)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 3, n)
        x = rng.integers(0, 30, (n, size, size), dtype=np.uint8)
        middle = size // 2
        for i, label in enumerate(labels):
            if label == 0:
                x[i, 6:middle + 4, 6:middle + 4] = 240
            elif label == 1:
                x[i, :, middle - 2:middle + 2] = 240
            else:
                x[i, middle - 2:middle + 2] = 240
                x[i, :, middle - 2:middle + 2] = 240
        return x, labels.astype(np.uint8)

    x_train, y_train = images(count)
    x_test, y_test = images(count // 2)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def test_transfer_from_a_digit_model_trains_fine_tunes_saves_and_records(tmp_path, capsys,
                                                                         monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("CNNVIZ_HOME", str(home))
    data, out = shapes_npz(tmp_path / "shapes.npz"), tmp_path / "shapes.keras"
    code = main(["transfer", str(SAMPLE_MODEL), "--data", str(data), "--epochs", "3",
                 "--head-units", "16", "--lr", "0.01", "--fine-tune", "3",
                 "--fine-tune-epochs", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "cut at 'flatten'" in captured.err and "epoch 4/4" in captured.err
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ")
    accuracy = float(last.split(": ")[1])
    assert accuracy >= 0.8  # three obvious shapes on top of digit features

    assert main(["evaluate", str(out), "--data", str(data), "--split", "test"]) == 0
    assert f"accuracy: {accuracy:.4f}" in capsys.readouterr().out

    runs = sorted(RunStore(home / "runs.sqlite").runs(), key=lambda run: run.id)
    assert [run.epochs_done for run in runs] == [3, 1]
    assert "transfer" in runs[0].tags and "frozen base" in runs[0].name
    assert runs[1].final["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)


@pytest.mark.parametrize("extra, words", [
    (["--cut", "conv9"], "has no layer called 'conv9'"),
    (["--fine-tune", "9", "--fine-tune-epochs", "1"], "has 5 layers; it cannot fine-tune 9"),
    (["--fine-tune", "2"], "--fine-tune needs --fine-tune-epochs"),
])
def test_bad_transfer_settings_exit_2_with_one_line(tmp_path, capsys, extra, words):
    data = shapes_npz(tmp_path / "shapes.npz", count=16)
    code = main(["transfer", str(SAMPLE_MODEL), "--data", str(data), "--epochs", "1",
                 "--no-record", "--out", str(tmp_path / "m.keras"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "Traceback" not in err


def test_an_application_too_small_for_the_images_offers_resizing(tmp_path, capsys):
    data = shapes_npz(tmp_path / "small.npz", size=12, count=16)
    args = ["transfer", "mobilenet_v2", "--weights", "random", "--data", str(data),
            "--epochs", "1", "--no-record", "--out", str(tmp_path / "m.keras")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "takes 32×32 images; these are 12×12" in err and "--resize" in err
