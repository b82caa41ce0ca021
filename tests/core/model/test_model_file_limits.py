"""Saved models that declare sizes no model has (zip bombs, huge .h5 configs) are refused in
words before anything of them is read (issue 13)."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.errors import ModelFileError
from cnnviz.core.inspect.model_files import open_model
from cnnviz.core.model.builder import load_model_file
from cnnviz.core.model.model_file_limits import CONFIG_SIZE_LIMIT, check_keras_archive

GIB = 1024 ** 3


@pytest.fixture(scope="module")
def config_bomb(tmp_path_factory) -> Path:
    """A real .keras zip (4-5 MB) whose config.json unpacks to 1 GiB of spaces."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.keras"
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        with archive.open("config.json", "w", force_zip64=True) as member:
            for _ in range(1024):
                member.write(chunk)
        archive.writestr("model.weights.h5", b"")
    assert path.stat().st_size < 8 * 2**20
    return path


def refusal_and_peak(open_it, path: Path) -> tuple[str, int]:
    """The refusal message, and the peak memory Python allocated while refusing."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            open_it(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(info.value), peak


@pytest.mark.parametrize("open_it", [load_model_file, open_model],
                         ids=["load_model_file", "open_model"])
def test_a_config_that_unpacks_to_a_gigabyte_is_refused_before_it_is_read(
        config_bomb, monkeypatch, open_it):
    def no_reading(*_args, **_kwargs):
        raise AssertionError("a member of the archive was read")

    monkeypatch.setattr(zipfile.ZipFile, "read", no_reading)
    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    message, peak = refusal_and_peak(open_it, config_bomb)
    assert "bomb.keras" in message and "config.json" in message and "1.0 GB" in message
    assert "will not open it" in message and "\n" not in message
    assert peak < 16 * 2**20  # megabytes at most, never the gigabyte


def test_a_real_model_passes_the_size_checks(tmp_path):
    import keras

    path = tmp_path / "small.keras"
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)]).save(path)
    check_keras_archive(path)  # no error
    assert load_model_file(path).count_params() == 36


def test_an_absurd_total_is_refused(tmp_path):
    """Weights that unpack to over a gigabyte from an archive packed 100 times over."""
    path = tmp_path / "weights_bomb.keras"
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        with archive.open("model.weights.h5", "w", force_zip64=True) as member:
            for _ in range(1025):
                member.write(chunk)
    with pytest.raises(ModelFileError, match=r"unpacks to 1\.0 GB; that is no saved model"):
        open_model(path)


@pytest.mark.parametrize("kind", ["variable-length", "fixed-length"])
def test_an_h5_model_with_a_huge_config_attribute_is_refused(tmp_path, monkeypatch, kind):
    """Keras writes the config as a variable-length string attribute and parses all of it."""
    import h5py

    path = tmp_path / "huge_config.h5"
    text = " " * (CONFIG_SIZE_LIMIT + 1024)
    with h5py.File(path, "w", libver="latest") as handle:
        handle.attrs["model_config"] = text if kind == "variable-length" else np.bytes_(text)
    monkeypatch.setattr(json, "loads", lambda *_a, **_k: pytest.fail("the config was parsed"))
    for open_it in (load_model_file, open_model):
        with pytest.raises(ModelFileError, match="stores a model config of 16 MB"):
            open_it(path)


def test_an_h5_model_whose_weight_array_declares_more_than_the_file_holds_is_refused(tmp_path):
    """HDF5 allocates an unwritten array's space lazily: a few kilobytes of file can declare
    400 MB of weights that the loader would allocate before finding them empty."""
    import h5py
    import keras

    path = tmp_path / "hollow.h5"
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)]).save(path)
    with h5py.File(path, "a") as handle:
        handle.create_dataset("model_weights/hollow", shape=(100_000_000,), dtype="float32")
    assert path.stat().st_size < 100_000
    for open_it in (load_model_file, open_model):
        with pytest.raises(ModelFileError, match=r"declares a weight array of 381 MB, more than"):
            open_it(path)


def test_a_saved_h5_model_passes_the_weight_array_check(tmp_path):
    import keras

    path = tmp_path / "fine.h5"
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(300)]).save(path)
    assert load_model_file(path).count_params() == 8 * 300 + 300


def test_a_keras_message_quoting_damaged_bytes_is_made_printable(tmp_path):
    from cnnviz.core.model.builder import load_failure_message

    message = load_failure_message(tmp_path / "model.h5",
                                   ValueError("Received: config=\u202e\x00é"), trust=False)
    assert message.endswith("config=??é") and message.isprintable()
