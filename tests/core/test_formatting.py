"""The one formatting module: numbers read the same in the CLI, the views and the messages."""

from __future__ import annotations

from cnnviz.core.formatting import dims_text, format_duration, keras_shape, params_with_size


def test_format_duration():
    assert format_duration(None) == "–"
    assert format_duration(42.4) == "0:42"
    assert format_duration(725) == "12:05"
    assert format_duration(3730) == "1:02:10"


def test_keras_shape_writes_the_batch_axis_as_keras_summary_does():
    assert keras_shape((26, 26, 32)) == "(None, 26, 26, 32)"
    assert keras_shape((None, 26, 26, 32)) == "(None, 26, 26, 32)"
    assert keras_shape((10,)) == "(None, 10)"
    assert keras_shape(None) == "—"


def test_dims_text_and_parameter_sizes():
    assert dims_text((28, 28, 1)) == "28×28×1"
    assert dims_text((None, None, 3)) == "any×any×3"
    # 515,146 float32 weights are 2,060,584 bytes: Keras's summary says 1.97 MB
    assert params_with_size(515_146) == "515,146 (1.97 MB)"
    assert params_with_size(0) == "0 (0.00 B)"
