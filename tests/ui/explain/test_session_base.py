"""The Explain view's session on a builder spec with a pre-built base whose prepared file is
missing: it prepares the base in the background, then explains the base as one step."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.transfer.base_blocks import prepare_base_block
from cnnviz.ui.explain.session import ExplainSession

SAMPLE = Path(__file__).resolve().parents[3] / "sample_models" / "mnist_cnn_small.keras"


def test_a_spec_with_a_missing_base_file_is_prepared_and_explained(qtbot, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path))
    base = prepare_base_block(str(SAMPLE), input_channels=1)
    Path(base.params["block_file"]).unlink()
    spec = ModelSpec((28, 28, 1), [base, LayerSpec.make("Dense", units=3,
                                                        activation="softmax")], "on_file")
    session = ExplainSession()
    results, failures = [], []
    session.forward_ready.connect(results.append)
    session.failed.connect(lambda *args: failures.append(args))
    try:
        session.use_spec(spec)
        session.set_input(np.random.default_rng(0).random((28, 28, 1)).astype(np.float32),
                          "noise", 1)
        session.layer_index = 0
        session.compute()
        qtbot.waitUntil(lambda: bool(results or failures) and not session.busy,
                        timeout=60_000)
    finally:
        session.shutdown()
    assert failures == []
    steps = results[-1].steps
    assert steps.kind == "generic" and steps.note.startswith("A pre-built base (")
    assert steps.output.shape == (800,)
    assert list((tmp_path / "bases").glob("mnist_cnn_small-file-28x28x1-*.keras"))
