"""A quiet start: TensorFlow's start-up chatter (oneDNN, CUDA, cpu_feature_guard and cuInit
lines, printed twice) and Keras's warnings never reach the terminal unless --verbose is given,
on every path: the app's start (TensorFlow loads in a background thread there) and each command.

TensorFlow writes those lines from C++ before it reads TF_CPP_MIN_LOG_LEVEL, and only in a
fresh process, so the real paths run in subprocesses without the variable that
tests/conftest.py sets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.quiet import is_tensorflow_noise, quiet_tensorflow

ROOT = Path(__file__).resolve().parents[2]
KERAS2_H5 = ROOT / "tests" / "data" / "keras2" / "sequential_cnn.h5"

# What TensorFlow 2.21 and Keras 3 print on a CPU-only machine (as seen on this project's CI).
NOISE_MARKERS = (
    "absl::InitializeLog", "oneDNN custom operations", "Could not find cuda drivers",
    "cpu_feature_guard", "rebuild TensorFlow with the appropriate compiler flags", "cuInit",
    "Do not pass an `input_shape`", "WARNING:absl", "UserWarning",
)
REAL_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796515244.653572   12836 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors from "
    "different computation orders. To turn them off, set the environment variable "
    "`TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796515244.653953   12836 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
    "I0000 00:00:1796515244.700296   12836 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI FMA, in "
    "other operations, rebuild TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1796515246.883935   12836 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
]


def noise_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(m in line for m in NOISE_MARKERS)]


def fresh_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's cnnviz, whatever the venv points at
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def run_cnnviz(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnnviz", *args], capture_output=True,
                          text=True, timeout=240, env=fresh_env(), cwd=ROOT)


# ---------------------------------------------------------------- the filter itself


def test_the_filter_knows_tensorflows_start_up_lines_and_keeps_everything_else():
    assert all(is_tensorflow_noise(line, min_level=2) for line in REAL_LINES)
    kept = [
        "cnnviz: No such file: model.keras",
        "Traceback (most recent call last):",
        "E0000 00:00:1796515246.883935   12836 op_kernel.cc:1830] OP_REQUIRES failed: OOM",
        "F0000 00:00:1796515246.883935   12836 cuda_platform.cc:52] a fatal error about CUDA",
        "epoch 1/5 · loss 0.5011 · accuracy 0.8514",
    ]
    assert not any(is_tensorflow_noise(line, min_level=2) for line in kept)
    # TF_CPP_MIN_LOG_LEVEL=0, set by the user: TensorFlow's notes are wanted.
    assert not any(is_tensorflow_noise(line, min_level=0) for line in REAL_LINES)


def test_native_writes_to_stderr_are_filtered_and_the_rest_passes_in_order(capfd):
    with quiet_tensorflow():
        os.write(2, ("\n".join(REAL_LINES) + "\nkeep this line\n").encode())
        os.write(2, b"I0000 00:00:1.5   1 port.cc:153] split across ")
        os.write(2, b"two writes\n\rlive progress")
    assert capfd.readouterr().err == "keep this line\n\rlive progress"
    os.write(2, b"after the context\n")  # the real stderr is back
    assert capfd.readouterr().err == "after the context\n"


def test_verbose_hides_nothing(capfd):
    with quiet_tensorflow(verbose=True):
        os.write(2, (REAL_LINES[1] + "\n").encode())
    assert capfd.readouterr().err == REAL_LINES[1] + "\n"


# ---------------------------------------------------------------- every path, for real


def test_summary_of_saved_models_prints_no_start_up_chatter(tmp_path):
    """`cnnviz summary` of a .keras file, of an .h5 saved by this Keras and of one saved by
    Keras 2 (which makes Keras 3 warn about `input_shape`)."""
    import keras

    keras3_h5 = tmp_path / "lenet5.h5"
    model = keras.models.load_model(ROOT / "sample_models" / "lenet5.keras", compile=False)
    model.save(keras3_h5)
    for path in (ROOT / "sample_models" / "lenet5.keras", keras3_h5, KERAS2_H5):
        result = run_cnnviz("summary", str(path))
        assert result.returncode == 0, result.stderr
        assert "Total params" in result.stdout
        assert result.stderr == "", f"{path.name}: {noise_in(result.stderr) or result.stderr!r}"


def test_verbose_is_accepted_before_and_after_the_command(tmp_path):
    result = run_cnnviz("--verbose", "summary", str(KERAS2_H5))
    assert result.returncode == 0 and "Total params" in result.stdout
    result = run_cnnviz("summary", "--verbose", str(ROOT / "sample_models" / "lenet5.json"))
    assert result.returncode == 0 and "Total params" in result.stdout


def test_evaluate_prints_no_start_up_chatter():
    result = run_cnnviz("evaluate", str(ROOT / "sample_models" / "lenet5.keras"),
                        "--data", "mnist-sample", "--batch-size", "512")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("accuracy")
    assert noise_in(result.stderr) == []


GUI_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
import cnnviz.ui.app as app_module

made = app_module.create_app

def create_app(argv=None):
    app = made(argv)

    def when_tensorflow_is_loading():
        # The window's background preload imports TensorFlow; wait for it, then open a
        # Keras 2 .h5 file as the Inspect view does, and close.
        if "tensorflow" not in sys.modules:
            QTimer.singleShot(50, when_tensorflow_is_loading)
            return
        import tensorflow as tf
        tf.constant(0.0)
        from cnnviz.core.inspect.model_files import open_model
        open_model(sys.argv[1])
        print("opened", flush=True)
        app.quit()

    QTimer.singleShot(0, when_tensorflow_is_loading)
    return app

app_module.create_app = create_app
from cnnviz.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_the_app_starts_without_start_up_chatter(tmp_path, verbose):
    """`cnnviz` (the window, TensorFlow loading in its background thread, then an .h5 file
    opened) writes nothing to the terminal; `cnnviz --verbose` is accepted and starts too."""
    script = tmp_path / "start_app.py"
    script.write_text(GUI_SCRIPT, encoding="utf-8")
    argv = ["--verbose"] if verbose else []
    result = subprocess.run([sys.executable, str(script), str(KERAS2_H5), *argv],
                            capture_output=True, text=True, timeout=240, env=fresh_env(),
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "opened"
    if not verbose:
        assert noise_in(result.stderr) == [], result.stderr


# ---------------------------------------------------------------- options reach the app


def test_presentation_and_verbose_reach_the_app(tmp_path, monkeypatch):
    calls: list[tuple[str | None, bool]] = []
    fake_app = types.ModuleType("cnnviz.ui.app")
    fake_app.run_app = (  # type: ignore[attr-defined]
        lambda path=None, presentation=False: calls.append((path, presentation)) or 0)
    monkeypatch.setitem(sys.modules, "cnnviz.ui.app", fake_app)
    verbose_seen: list[bool] = []
    import cnnviz.cli.front_door as front_door

    real_quiet = front_door.quiet_tensorflow
    monkeypatch.setattr(front_door, "quiet_tensorflow",
                        lambda verbose=False: verbose_seen.append(verbose) or real_quiet(verbose))
    spec = ROOT / "sample_models" / "lenet5.json"
    assert main([]) == 0
    assert main(["--presentation"]) == 0
    assert main(["--presentation", "--verbose", str(spec)]) == 0
    assert main([str(spec), "--presentation"]) == 0
    assert calls == [(None, False), (None, True), (str(spec), True), (str(spec), True)]
    assert verbose_seen == [False, False, True, False]


def test_the_gui_launcher_is_quiet_too_and_takes_the_same_options(monkeypatch, capfd):
    """`cnnviz-gui` (ui/app.py's main, no console) enters the same filter around the app."""
    import cnnviz.ui.app as app_module

    seen: list[tuple[str | None, bool, str]] = []

    def fake_run_app(path=None, presentation=False):
        os.write(2, (REAL_LINES[2] + "\nkept\n").encode())
        seen.append((path, presentation, "filtered"))
        return 0

    monkeypatch.setattr(app_module, "run_app", fake_run_app)
    assert app_module.main(["--presentation", "model.keras"]) == 0
    assert seen == [("model.keras", True, "filtered")]
    assert capfd.readouterr().err == "kept\n"
    assert app_module.main(["--verbose"]) == 0
    assert seen[-1][:2] == (None, False)
    assert REAL_LINES[2] in capfd.readouterr().err
