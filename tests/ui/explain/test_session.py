"""ExplainSession's background work on a real tiny Keras model: the newest request wins."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.ui.explain.session import ExplainSession


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(2, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])


@pytest.fixture
def session(qtbot, tiny_model):
    session = ExplainSession()
    session.results, session.steps, session.busy_texts = [], [], []
    session.forward_ready.connect(session.results.append)
    session.steps_ready.connect(lambda steps, keep: session.steps.append((steps.name, keep)))
    session.busy_changed.connect(session.busy_texts.append)
    session.use_model(tiny_model, trained=False, origin="test")
    session.set_input(np.random.default_rng(0).random((8, 8, 1)), "noise", 1)
    yield session
    session.shutdown()


def test_a_forward_pass_arrives_then_the_session_says_it_is_done(qtbot, session):
    session.layer_index = 1
    session.compute()
    assert session.busy and session.busy_texts[-1] != ""
    qtbot.waitUntil(lambda: bool(session.results) and not session.busy, timeout=30_000)
    result = session.results[-1]
    assert session.forward is result.forward and result.steps.kind == "pool"
    assert result.probabilities.shape == (3,) and result.label == 1
    assert session.busy_texts[-1] == ""


def test_only_the_newest_layer_request_is_delivered(qtbot, session):
    session.compute()
    qtbot.waitUntil(lambda: bool(session.results) and not session.busy, timeout=30_000)
    names = [layer.name for layer in session.forward.layers]
    for index in (0, 1, 2, 1, 3):
        session.select_layer(index)
    qtbot.waitUntil(lambda: not session.busy, timeout=30_000)
    qtbot.wait(200)   # any older, superseded result would have arrived by now
    assert session.steps == [(names[3], False)]
    assert session.busy_texts[-1] == ""


def test_a_new_model_drops_the_pass_for_the_old_one_and_shutdown_waits(qtbot, session,
                                                                       tiny_model):
    session.compute()
    session.use_model(object(), trained=False, origin="another")   # the user moved on
    assert not session.busy and session.busy_texts[-1] == ""
    session.shutdown()   # waits for the superseded pass's thread: its result is dropped
    qtbot.wait(100)
    assert session.results == [] and session.forward is None
