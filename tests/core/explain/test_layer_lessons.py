"""Words for learners: every layer kind has a short lesson, activations get their own sentence."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnviz.core.explain import frames, frames_1d
from cnnviz.core.explain.lessons import (
    ACTIVATION_SENTENCES, LESSON_KINDS, MAX_WORDS, POOLING_KINDS, RANDOM_WEIGHTS_NOTE, Lesson,
    lesson_for, lesson_for_steps, plain_text,
)

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu", "linear")
ALLOWED_TAGS = {"b", "i", "/b", "/i"}


def every_lesson() -> list[tuple[str, str | None, Lesson]]:
    lessons = []
    for kind in LESSON_KINDS:
        functions: tuple[str | None, ...] = (None,)
        if kind == "activation":
            functions = (None, *ACTIVATIONS)
        elif kind in POOLING_KINDS:
            functions = (None, "max", "average")
        lessons += [(kind, function, lesson_for(kind, function)) for function in functions]
    return lessons


def test_every_kind_the_explainer_draws_has_its_own_lesson():
    kinds = {"input", "conv", "pool", "global_pool", "activation", "batchnorm", "dropout",
             "flatten", "dense", "softmax", "generic", "signal", "conv1d", "pool1d",
             "global_pool1d"}
    assert kinds <= set(LESSON_KINDS)
    titles = {lesson_for(kind).title for kind in kinds}
    assert len(titles) == len(kinds), "two kinds share a lesson"


@pytest.mark.parametrize("kind, function, lesson", every_lesson(),
                         ids=lambda value: str(value) if not isinstance(value, Lesson) else "")
def test_each_lesson_is_short_titled_and_plain(kind, function, lesson):
    assert lesson.title.strip()
    assert lesson.paragraphs and all(paragraph.strip() for paragraph in lesson.paragraphs)
    assert 30 <= lesson.word_count() <= MAX_WORDS <= 120, (kind, function, lesson.word_count())
    for paragraph in lesson.paragraphs:
        tags = set(re.findall(r"<(/?\w+)[^>]*>", paragraph))
        assert tags <= ALLOWED_TAGS, f"{kind}: only <b> and <i> are allowed, got {tags}"
        assert "<" not in plain_text(paragraph)


@pytest.mark.parametrize("function", ACTIVATIONS)
def test_each_activation_function_has_its_own_sentence(function):
    lesson = lesson_for("activation", function)
    sentence = ACTIVATION_SENTENCES[function]
    assert sentence in lesson.paragraphs
    others = [ACTIVATION_SENTENCES[other] for other in ACTIVATIONS if other != function]
    assert not any(other in lesson.paragraphs for other in others)
    # The generic lesson without a function carries none of them.
    assert sentence not in lesson_for("activation").paragraphs


def test_activation_sentences_say_what_the_function_does():
    relu = plain_text(ACTIVATION_SENTENCES["relu"])
    assert "into 0" in relu and "negative" in relu
    assert "0 to 1" in ACTIVATION_SENTENCES["sigmoid"]
    assert "−1 to 1" in ACTIVATION_SENTENCES["tanh"]
    assert "add up to 1" in ACTIVATION_SENTENCES["softmax"]
    assert "output equals the input" in ACTIVATION_SENTENCES["linear"]


def test_function_names_are_forgiving_and_unknown_ones_still_get_a_sentence():
    assert lesson_for("activation", "LeakyReLU") == lesson_for("activation", "leaky_relu")
    assert lesson_for("activation", " ReLU ") == lesson_for("activation", "relu")
    gelu = lesson_for("activation", "gelu")
    assert "gelu" in gelu.text() and gelu.word_count() <= MAX_WORDS
    assert lesson_for("pool", "avg") == lesson_for("pool", "average")
    assert "largest" in lesson_for("pool", "max").text()
    assert "mean" in lesson_for("global_pool", "average").text()
    assert lesson_for("no_such_kind") == lesson_for("generic")


def test_lessons_follow_the_explained_layer():
    image = np.zeros((4, 4, 2), np.float32)
    softmax_layer = frames.ActivationSteps("act", "Activation", image, image, function="softmax")
    relu_layer = frames.ActivationSteps("act", "Activation", image, image, function="relu")
    average = frames.PoolSteps("pool", "AveragePooling2D", image, image[:2, :2], mode="average")
    global_max = frames.GlobalPoolSteps("gp", "GlobalMaxPooling2D", image, image[0, 0], mode="max")
    assert lesson_for_steps(softmax_layer) == lesson_for("softmax")
    assert lesson_for_steps(relu_layer) == lesson_for("activation", "relu")
    assert lesson_for_steps(average) == lesson_for("pool", "average")
    assert lesson_for_steps(global_max) == lesson_for("global_pool", "max")
    dense = frames.DenseSteps("d", "Dense", image.ravel(), image[0, 0])
    assert lesson_for_steps(dense) == lesson_for("dense")
    generic = frames.GenericSteps("z", "ZeroPadding2D", image, image, note="no animation")
    assert lesson_for_steps(generic) == lesson_for("generic")


def test_1d_lessons_follow_the_explained_sequence_layer():
    signal = np.zeros((12, 3), np.float32)
    conv = frames_1d.Conv1DSteps("c", "Conv1D", signal, signal[:10], padding="causal")
    average = frames_1d.Pool1DSteps("p", "AveragePooling1D", signal, signal[:6], mode="average")
    global_max = frames_1d.GlobalPool1DSteps("g", "GlobalMaxPooling1D", signal, signal[0],
                                             mode="max")
    assert lesson_for_steps(conv) == lesson_for("conv1d")
    assert lesson_for_steps(average) == lesson_for("pool1d", "average")
    assert lesson_for_steps(global_max) == lesson_for("global_pool1d", "max")
    signal_input = frames.InputSteps("input", "InputLayer", signal, signal)
    image_input = frames.InputSteps("input", "InputLayer", np.zeros((4, 4, 1)), np.zeros((4, 4, 1)))
    assert lesson_for_steps(signal_input) == lesson_for("signal")
    assert lesson_for_steps(image_input) == lesson_for("input")
    # the 1-D words speak of steps and a sequence, never of a picture's width and height
    for kind in ("signal", "conv1d", "pool1d", "global_pool1d"):
        text = lesson_for(kind, "max").text().lower()
        assert "step" in text or "sequence" in text, kind
        assert "width" not in text and "pixel" not in text and "×" not in text, kind


def test_the_1d_convolution_lesson_explains_padding_causal_and_dilation():
    text = lesson_for("conv1d").text()
    assert "kernel" in text and "multiplies" in text and "bias" in text
    assert "'causal'" in text and "future" in text and "past" in text
    assert "Dilation" in text and "every second step" in text
    assert "'same'" in text


def test_random_weights_note_says_the_weights_are_random():
    assert "random" in RANDOM_WEIGHTS_NOTE and "train" in RANDOM_WEIGHTS_NOTE.lower()
    assert len(RANDOM_WEIGHTS_NOTE.split()) <= 40
