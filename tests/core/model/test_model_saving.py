"""Saving a trained model: both formats, atomic, and refusals that keep the old file."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from cnnviz.core.model.builder import build_model, load_model_file, save_model_file
from cnnviz.core.errors import ModelFileError
from cnnviz.core.model.spec import LayerSpec, ModelSpec


def small_model():
    spec = ModelSpec(name="small", input_shape=[6, 6, 1], layers=[
        LayerSpec("Conv2D", params={"filters": 2, "kernel_size": [3, 3], "activation": "relu"}),
        LayerSpec("Flatten"),
        LayerSpec("Dense", params={"units": 3, "activation": "softmax"}),
    ])
    return build_model(spec)


@pytest.mark.parametrize("name", ["model.keras", "model.h5", "model"])
def test_saved_model_loads_back_with_the_same_outputs(tmp_path, name):
    model = small_model()
    written = save_model_file(model, tmp_path / name)
    assert written.suffix in (".keras", ".h5") and written.exists()
    assert [p.name for p in tmp_path.iterdir()] == [written.name]  # no temporary left behind
    x = np.random.default_rng(0).random((2, 6, 6, 1), dtype=np.float32)
    np.testing.assert_allclose(load_model_file(written).predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_read_only_target_is_refused_and_left_intact(tmp_path):
    target = tmp_path / "kept.keras"
    target.write_bytes(b"previous model")
    target.chmod(stat.S_IRUSR)
    try:
        with pytest.raises(ModelFileError, match="read-only"):
            save_model_file(small_model(), target)
        assert target.read_bytes() == b"previous model"
        assert os.listdir(tmp_path) == ["kept.keras"]
    finally:
        target.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_bad_targets_are_readable_errors(tmp_path):
    model = small_model()
    with pytest.raises(ModelFileError, match="does not exist"):
        save_model_file(model, tmp_path / "missing" / "m.keras")
    with pytest.raises(ModelFileError, match=r"\.keras"):
        save_model_file(model, tmp_path / "m.txt")
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        save_model_file(model, tmp_path / "folder.keras")
