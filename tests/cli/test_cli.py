"""The command line as a user meets it: summaries, code export, and one-line errors.

Most tests call `main([...])` in-process; a few run real subprocesses to prove the installed
entry points work and that `cnnviz summary spec.json` never imports TensorFlow.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cnnviz.cli import main

ROOT = Path(__file__).resolve().parents[2]

# Conv 32@3×3 → pool → Conv 64@3×3 → Flatten → Dense 64 → Dense 10 on 28×28×1, by hand:
#   conv2d   3·3·1·32 + 32  =     320   (26×26×32)
#   pool                     =       0   (13×13×32)
#   conv2d_1 3·3·32·64 + 64  =  18,496   (11×11×64 → flatten 7,744)
#   dense    7,744·64 + 64   = 495,680
#   dense_1  64·10 + 10      =     650
#   total                    = 515,146   × 4 bytes = 2,060,584 B = 1.97 MB
MNIST_SPEC = {
    "format": "cnnviz-model-spec",
    "format_version": 1,
    "name": "mnist_cnn",
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "params": {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}},
        {"type": "MaxPooling2D", "params": {"pool_size": [2, 2]}},
        {"type": "Conv2D", "params": {"filters": 64, "kernel_size": [3, 3], "activation": "relu"}},
        {"type": "Flatten"},
        {"type": "Dense", "params": {"units": 64, "activation": "relu"}},
        {"type": "Dense", "params": {"units": 10, "activation": "softmax"}},
    ],
}

# 8×8 → conv 3×3 → 6×6 → pool → 3×3, then a 5×5 kernel that cannot fit.
TOO_BIG_KERNEL_SPEC = {
    "input_shape": [8, 8, 1],
    "layers": [
        {"type": "Conv2D", "params": {"filters": 4, "kernel_size": [3, 3]}},
        {"type": "MaxPooling2D"},
        {"type": "Conv2D", "params": {"filters": 4, "kernel_size": [5, 5]}},
        {"type": "Flatten"},
        {"type": "Dense", "params": {"units": 2}},
    ],
}


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def mnist_spec(tmp_path: Path) -> Path:
    return write_json(tmp_path / "mnist_cnn.json", MNIST_SPEC)


def assert_one_line_error(err: str, out: str = "") -> str:
    """The user sees exactly one line on stderr, starting "cnnviz:", and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got: {err!r}"
    assert lines[0].startswith("cnnviz: ")
    assert "Traceback" not in err + out
    return lines[0]


def run_python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


# ---------------------------------------------------------------- summary of a spec


def test_summary_of_spec_prints_keras_style_table_and_totals(mnist_spec, capsys):
    assert main(["summary", str(mnist_spec)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == 'Model: "mnist_cnn"'
    assert re.search(r"Layer \(type\)\s+Output Shape\s+Param #", out)
    assert re.search(r"input \(InputLayer\)\s+\(None, 28, 28, 1\)\s+0$", out, re.M)
    assert re.search(r"conv2d_1 \(Conv2D\)\s+\(None, 11, 11, 64\)\s+18,496$", out, re.M)
    assert re.search(r"dense \(Dense\)\s+\(None, 64\)\s+495,680$", out, re.M)
    assert re.search(r"dense_1 \(Dense\)\s+\(None, 10\)\s+650$", out, re.M)
    assert " Total params: 515,146 (1.97 MB)" in lines
    assert " Trainable params: 515,146 (1.97 MB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines


def test_summary_counts_batch_normalization_statistics_as_non_trainable(tmp_path, capsys):
    spec = write_json(tmp_path / "bn.json", {
        "input_shape": [4, 4, 3],
        "layers": [{"type": "BatchNormalization"}, {"type": "Flatten"}],
    })
    assert main(["summary", str(spec)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # gamma, beta learn (2·3); moving mean and variance do not (2·3); 4 bytes each.
    assert " Total params: 12 (48.00 B)" in lines
    assert " Trainable params: 6 (24.00 B)" in lines
    assert " Non-trainable params: 6 (24.00 B)" in lines


def test_summary_stops_at_the_invalid_layer_with_its_message(tmp_path, capsys):
    spec = write_json(tmp_path / "bad.json", TOO_BIG_KERNEL_SPEC)
    assert main(["summary", str(spec)]) == 2
    out, err = capsys.readouterr()
    line = assert_one_line_error(err, out)
    assert line.startswith(
        "cnnviz: Layer 3 (Conv2D 'conv2d_1'): its 5×5 kernel is larger than its 3×3 input")
    assert "max_pooling2d (MaxPooling2D)" in out  # the rows before the problem are shown
    assert "flatten" not in out  # ... and nothing after it
    assert "Total params" not in out  # totals of a broken stack would be wrong


def test_spec_summary_and_gui_file_check_import_neither_tensorflow_nor_qt(mnist_spec, tmp_path):
    code = (
        "import sys; from cnnviz.cli import main; "
        f"rc = main(['summary', {str(mnist_spec)!r}]); "
        f"rc_gui = main([{str(tmp_path / 'missing.json')!r}]); "
        "print(rc, rc_gui, 'tensorflow' in sys.modules, 'keras' in sys.modules, "
        "'PySide6' in sys.modules)"
    )
    result = run_python("-c", code)
    assert "515,146" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 2 False False False"
    assert_one_line_error(result.stderr, result.stdout)
    assert "No such file" in result.stderr


def test_python_dash_m_and_console_script_are_real_entry_points(tmp_path):
    spec = write_json(tmp_path / "bad.json", TOO_BIG_KERNEL_SPEC)
    result = run_python("-m", "cnnviz", "summary", str(spec))
    assert result.returncode == 2
    assert "conv2d (Conv2D)" in result.stdout
    assert "5×5 kernel is larger than its 3×3 input" in assert_one_line_error(
        result.stderr, result.stdout)

    script = Path(sys.executable).with_name("cnnviz.exe" if os.name == "nt" else "cnnviz")
    assert script.exists(), "the `cnnviz` console script is not installed (pip install -e .)"
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0
    assert version.stdout.strip().startswith("cnnviz ")


# ---------------------------------------------------------------- summary of a saved model


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside Keras's own .h5 saving
def test_summary_of_saved_keras_models_matches_keras_counts(tmp_path, capfd):
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            keras.layers.Conv2D(4, 3, name="conv"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(3, name="out"),
        ],
        name="tiny",
    )
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert (trainable, frozen) == (40 + 8 + 435, 8)  # sanity: what the table must show
    model.save(tmp_path / "tiny.keras")
    model.save(tmp_path / "tiny.h5")
    capfd.readouterr()

    for name in ("tiny.keras", "tiny.h5"):
        assert main(["summary", str(tmp_path / name)]) == 0
        out, err = capfd.readouterr()
        assert err == "", f"{name}: TensorFlow/Keras noise on stderr: {err!r}"
        lines = out.splitlines()
        assert lines[0] == 'Model: "tiny"'
        assert re.search(r"conv \(Conv2D\)\s+\(None, 6, 6, 4\)\s+40$", out, re.M)
        assert f" Total params: {model.count_params():,} (1.92 KB)" in lines
        assert f" Trainable params: {trainable:,} (1.89 KB)" in lines
        assert f" Non-trainable params: {frozen:,} (32.00 B)" in lines

    # TensorFlow is already loaded in this process, so its start-up noise (C++ logs that
    # ignore TF_CPP_MIN_LOG_LEVEL) only shows in a fresh one, with the CLI's own settings:
    # a bad model then a good one must give exactly the one-line error on stderr.
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x89HDF\r\n" + bytes(200))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = ("from cnnviz.cli import main; "
            f"print(main(['summary', {str(garbage)!r}]), main(['summary', {str(tmp_path / 'tiny.keras')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=180, env=env)
    assert result.stdout.splitlines()[-1] == "2 0"
    assert f" Total params: {model.count_params():,} (1.92 KB)" in result.stdout
    assert "garbage.h5" in assert_one_line_error(result.stderr, result.stdout)


# ---------------------------------------------------------------- export-code


def test_export_code_prints_valid_keras_python(mnist_spec, capsys):
    assert main(["export-code", str(mnist_spec)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    compile(out, "exported.py", "exec")
    assert "keras.Sequential" in out
    assert "Conv2D(64" in out and "Dense(10" in out


def test_export_code_writes_the_file_given_with_dash_o(mnist_spec, tmp_path, capsys):
    target = tmp_path / "mnist_model.py"
    assert main(["export-code", str(mnist_spec), "-o", str(target)]) == 0
    out, _ = capsys.readouterr()
    assert str(target) in out
    code = target.read_text(encoding="utf-8")
    compile(code, str(target), "exec")
    assert "keras.Sequential" in code


# ---------------------------------------------------------------- opening the GUI


def test_gui_is_opened_with_the_given_spec_or_none(mnist_spec, monkeypatch):
    calls: list[str | None] = []
    fake_app = types.ModuleType("cnnviz.ui.app")
    fake_app.run_app = lambda path=None, presentation=False: calls.append(path) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cnnviz.ui.app", fake_app)
    assert main([]) == 0
    assert main([str(mnist_spec)]) == 0
    assert calls == [None, str(mnist_spec)]


# ---------------------------------------------------------------- bad input


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "a_folder.json"
    folder.mkdir()
    text_keras = tmp_path / "notes.keras"
    text_keras.write_text("this is not a model\n", encoding="utf-8")
    garbage_h5 = tmp_path / "garbage.h5"
    garbage_h5.write_bytes(bytes(range(256)) * 4)
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"input_shape": [28, 28, 1], "layers": [', encoding="utf-8")
    unknown_layer = write_json(tmp_path / "unknown_layer.json", {
        "input_shape": [28, 28, 1], "layers": [{"type": "Conv3D"}]})
    out_of_range = write_json(tmp_path / "out_of_range.json", {
        "input_shape": [28, 28, 1], "layers": [{"type": "Dropout", "params": {"rate": 1.5}}]})
    unknown_ext = tmp_path / "model.txt"
    unknown_ext.write_text("hello", encoding="utf-8")
    return {
        "missing": tmp_path / "missing.json", "folder": folder, "text_keras": text_keras,
        "garbage_h5": garbage_h5, "malformed": malformed, "unknown_layer": unknown_layer,
        "out_of_range": out_of_range, "unknown_ext": unknown_ext,
    }


@pytest.mark.parametrize(
    "command, which, expected",
    [
        ("summary", "missing", "No such file"),
        ("summary", "folder", "is a folder"),
        ("summary", "malformed", "not valid JSON"),
        ("summary", "unknown_layer", "Unknown layer type 'Conv3D'"),
        ("summary", "out_of_range", "'rate' must be a number from 0 below 1"),
        ("summary", "text_keras", "is not a Keras model file"),
        ("summary", "garbage_h5", "garbage.h5"),
        ("summary", "unknown_ext", "'.txt'"),
        ("export-code", "missing", "No such file"),
        ("export-code", "malformed", "not valid JSON"),
        ("export-code", "unknown_layer", "Unknown layer type 'Conv3D'"),
        ("export-code", "text_keras", "needs a model spec (.json)"),
        ("gui", "missing", "No such file"),
        ("gui", "folder", "is a folder"),
        ("gui", "out_of_range", "'rate'"),
        ("gui", "unknown_ext", "'.txt'"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, capfd, command, which, expected):
    path = str(_bad_files(tmp_path)[which])
    argv = [path] if command == "gui" else [command, path]
    assert main(argv) == 2
    out, err = capfd.readouterr()
    line = assert_one_line_error(err, out)
    assert expected in line


def test_export_code_refuses_a_spec_whose_script_would_fail(tmp_path, capsys):
    spec = write_json(tmp_path / "bad.json", TOO_BIG_KERNEL_SPEC)
    target = tmp_path / "out.py"
    assert main(["export-code", str(spec), "-o", str(target)]) == 2
    out, err = capsys.readouterr()
    assert "5×5 kernel" in assert_one_line_error(err, out)
    assert not target.exists()


@pytest.mark.parametrize("argv", [["summary"], ["summary", "a.json", "b.json"], ["--frobnicate"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: cnnviz" in capsys.readouterr().err


# ---------------------------------------------------------------- README and CI agree


def readme_text() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    """The shell commands of the README's "Quick start" section, its first."""
    readme = readme_text()
    first_section = re.search(r"^## (.*)$", readme, re.M)
    assert first_section and first_section.group(1) == "Quick start", \
        "the Quick start must be the README's first section"
    # The next heading ends the section; shell commands sit in fenced blocks.
    section = re.split(r"\n#{1,6} ", readme[first_section.end():], maxsplit=1)[0]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_shows_the_real_summary_of_the_bundled_sample(capsys):
    assert main(["summary", str(ROOT / "sample_models" / "mnist_cnn.json")]) == 0
    out = capsys.readouterr().out
    assert " Total params: 515,146 (1.97 MB)" in out.splitlines()
    assert out in (ROOT / "README.md").read_text(encoding="utf-8"), "README example is stale"


def test_ci_runs_the_readme_test_command_verbatim():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith(".venv/bin/cnnviz")
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()
    assert "set -euo pipefail" in ci
    if os.name == "posix":
        assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_gui_opens_a_saved_model_or_an_architecture_json(tmp_path, monkeypatch):
    """`cnnviz model.keras` and `cnnviz arch.json` start the app with the file (it opens
    in the Inspect view, which reports a damaged file in a dialog)."""
    calls: list[str | None] = []
    fake_app = types.ModuleType("cnnviz.ui.app")
    fake_app.run_app = lambda path=None, presentation=False: calls.append(path) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cnnviz.ui.app", fake_app)
    model = tmp_path / "model.keras"
    model.write_bytes(b"PK\x05\x06" + bytes(18))
    architecture = write_json(tmp_path / "arch.json", {
        "class_name": "Sequential", "config": {"name": "s", "layers": []},
        "keras_version": "3.0.0", "backend": "tensorflow"})
    assert main([str(model)]) == 0
    assert main([str(architecture)]) == 0
    assert calls == [str(model), str(architecture)]


def test_readme_opens_with_the_name_and_a_one_line_description():
    lines = readme_text().splitlines()
    assert lines[0] == "# cnnviz"
    assert lines[1] == "" and lines[2].startswith("See inside convolutional neural networks")
    assert lines[3] == "" and lines[4] == "## Quick start"


def test_readme_states_sizes_varying_results_and_the_licence():
    readme = readme_text()
    assert "about 600 MB" in readme and "2.6 GB" in readme
    assert "vary from run to run" in readme
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 the cnnviz authors\n")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = { text = "MIT" }' in pyproject


def test_the_readme_example_of_a_kernel_too_big_is_shipped_and_prints_what_it_shows(capsys):
    """The README's `cnnviz summary examples/too_big_kernel.json` block is the real output."""
    example = ROOT / "examples" / "too_big_kernel.json"
    assert main(["summary", str(example)]) == 2
    out, err = capsys.readouterr()
    block = re.search(r"```text\n\$ cnnviz summary examples/too_big_kernel.json\n(.*?)\$ echo \$\?\n2\n```",
                      readme_text(), re.S)
    assert block, "the README shows `cnnviz summary examples/too_big_kernel.json`"
    assert block.group(1) == out + err


def command_options(argv: list[str], capsys) -> set[str]:
    """Every option a command's --help lists."""
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    help_text = capsys.readouterr().out
    options = help_text.split("options:", 1)[1].split("commands:", 1)[0]
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", options))


@pytest.mark.parametrize("command", ["", "summary", "export-code", "train", "explain", "evaluate",
                                     "runs", "dense-vs-cnn"])
def test_the_readme_lists_every_option_of_every_command(command, capsys):
    options = command_options([command] if command else [], capsys)
    assert "--verbose" in options and "--help" in options
    rows = [line for line in readme_text().split("### Every option", 1)[1].splitlines()
            if line.startswith(f"| `cnnviz {command}".rstrip() + (" " if command else " ["))]
    assert len(rows) == 1, f"one row for `cnnviz {command}` in the README's Every option table"
    missing = {option for option in options if f"`{option}" not in rows[0]}
    assert not missing, f"cnnviz {command}: options missing from the README: {sorted(missing)}"


def test_the_app_options_are_listed_by_the_usage_too(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    assert "[--verbose] [--presentation]" in usage


def debian_package_of(soname: str) -> str:
    """Debian's package name for a shared library: libxcb-icccm.so.4 → libxcb-icccm4,
    libX11.so.6 → libx11-6 (a dash when the name ends in a digit)."""
    name, version = soname.lower().split(".so.")
    return f"{name}{'-' if name[-1].isdigit() else ''}{version.split('.')[0]}"


@pytest.mark.skipif(sys.platform != "linux", reason="Qt's xcb plugin is Linux's")
def test_the_readme_apt_line_names_every_x11_library_qts_window_needs():
    """`ldd` on PySide6's xcb platform plugin: each X11/xcb/xkb library it needs (found or
    "not found") is in the README's one `sudo apt install` line."""
    import importlib.util
    import shutil

    if shutil.which("ldd") is None:
        pytest.skip("no ldd here")
    pyside = Path(importlib.util.find_spec("PySide6").origin).parent
    qt = pyside / "Qt"
    libraries = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob("libQt6XcbQpa.so*")),
                 *sorted((qt / "plugins" / "xcbglintegrations").glob("*.so"))]
    needed: set[str] = set()
    for library in libraries:
        listing = subprocess.run(["ldd", str(library)], capture_output=True, text=True).stdout
        needed |= {soname for soname in re.findall(r"^\s*(\S+\.so\.\d+)", listing, re.M)
                   if re.match(r"lib(xcb|X11|xkbcommon)", soname)}
    assert "libxcb-icccm.so.4" in needed  # the one that stopped a teacher's first start
    apt_lines = [line for line in readme_text().splitlines() if line.startswith("sudo apt install ")]
    assert len(apt_lines) == 1
    packages = set(apt_lines[0].split()[3:])
    missing = {debian_package_of(soname) for soname in needed} - packages
    assert not missing, f"missing from the README's apt line: {sorted(missing)}"
    assert {"libegl1", "libgl1", "libfontconfig1", "libglib2.0-0", "libdbus-1-3"} <= packages
