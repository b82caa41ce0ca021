"""Words for learners: a short plain-language explanation of each layer type.

Written for a 15-year-old student and their teacher; each lesson stays under ~120 words so it
fits beside a view and can be read aloud in a minute. The text is plain, with at most <b> and
<i> tags, so a Qt label, a terminal (after `plain_text`) and the JSON export can all show it.
No Qt and no TensorFlow here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cnnviz.core.explain.frames import LayerSteps

MAX_WORDS = 120

RANDOM_WEIGHTS_NOTE = (
    "This model has not been trained yet: its weights are still random numbers, so its maps "
    "look like noise and its answers are guesses. Train it, then come back and compare."
)


@dataclass(frozen=True)
class Lesson:
    """A titled explanation: a few short paragraphs (plain text or minimal HTML)."""

    title: str
    paragraphs: tuple[str, ...]

    def text(self) -> str:
        """The paragraphs as plain text, separated by blank lines (tags removed)."""
        return "\n\n".join(plain_text(paragraph) for paragraph in self.paragraphs)

    def word_count(self) -> int:
        return len(self.text().split())


def plain_text(html: str) -> str:
    """Minimal HTML (as used in the lessons) turned into plain text."""
    text = re.sub(r"<[^>]+>", "", html)
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


# One sentence per activation function, added to the activation lesson.
ACTIVATION_SENTENCES: dict[str, str] = {
    "relu": "<b>ReLU</b> keeps positive values exactly as they are and turns every negative "
            "value into 0. It is simple, fast, and the most common choice in CNNs.",
    "sigmoid": "<b>Sigmoid</b> squeezes any number into the range 0 to 1: big negative values "
               "come out close to 0, big positive ones close to 1, and 0 becomes 0.5.",
    "tanh": "<b>Tanh</b> is an S-shaped curve like sigmoid, but it squeezes values into the "
            "range −1 to 1, and 0 stays 0.",
    "softmax": "<b>Softmax</b> is the odd one out: it looks at all the values together and "
               "turns them into probabilities that are positive and add up to 1.",
    "elu": "<b>ELU</b> keeps positive values and bends negative ones smoothly towards −1, "
           "instead of cutting them off sharply at 0 like ReLU.",
    "selu": "<b>SELU</b> is ELU stretched by two fixed numbers, chosen so that values keep a "
            "steady spread as they pass through many layers.",
    "leaky_relu": "<b>Leaky ReLU</b> keeps positive values and, instead of zeroing negative "
                  "ones, multiplies them by a small number such as 0.2, so a little signal "
                  "leaks through.",
    "linear": "<b>Linear</b> means no change at all: the output equals the input. Keras uses "
              "it when a layer has no activation of its own.",
}

_FUNCTION_ALIASES = {
    "leakyrelu": "leaky_relu", "leaky relu": "leaky_relu", "leaky-relu": "leaky_relu",
    "none": "linear", "identity": "linear", "": "linear",
    "avg": "average", "mean": "average",
}

_ACTIVATION_BASE = (
    "An activation function works on every value on its own: one number goes in, a new number "
    "comes out, following the curve. Without this bend, stacking layers would be pointless, "
    "because many layers that only multiply and add can always be squashed into a single "
    "one. The bend is what lets a network learn complicated shapes."
)

_POOL_BASE = (
    "Pooling makes maps smaller. A small window, often 2×2, moves across each map, and "
    "everything under the window is replaced by one number. Each channel is pooled on its own."
)
_POOL_SENTENCES = {
    "max": "<b>Max pooling</b> keeps the largest value in the window. If a filter found its "
           "pattern anywhere in that little patch, the strongest signal survives, so the exact "
           "position matters a bit less.",
    "average": "<b>Average pooling</b> keeps the mean of the values in the window: a softer "
               "summary of the patch, where every value has a say.",
}
_POOL_END = (
    "A 2×2 window halves the width and the height, leaving four times fewer numbers for the "
    "next layers. Pooling has no weights: nothing in it is learned."
)

_GLOBAL_POOL_BASE = (
    "Global pooling uses a window as big as the whole map. Each channel's map, whatever its "
    "size, becomes one single number, so a stack of 64 maps becomes a list of 64 numbers."
)
_GLOBAL_POOL_SENTENCES = {
    "max": "<b>Global max pooling</b> keeps each map's largest value: how strongly the pattern "
           "appeared at its best spot.",
    "average": "<b>Global average pooling</b> keeps each map's mean: how strongly the pattern "
               "appeared over the whole image.",
}
_GLOBAL_POOL_END = (
    "It often replaces Flatten before the last Dense layer. It passes on far fewer numbers, so "
    "the next layer needs fewer weights, and it no longer matters where in the image a pattern "
    "was. Nothing here is learned."
)

# The same ideas along a sequence (a signal: steps × channels), for the 1-D layers.
_POOL1D_BASE = (
    "Pooling makes a sequence shorter. A small window, often 2 steps long, slides along each "
    "channel, and everything under the window is replaced by one number."
)
_POOL1D_SENTENCES = {
    "max": "<b>Max pooling</b> keeps the largest value in the window. If a filter found its "
           "pattern anywhere in that stretch, the strongest response survives, so the exact "
           "moment matters a bit less.",
    "average": "<b>Average pooling</b> keeps the mean of the values in the window: a smoother, "
               "gentler summary of the stretch. At a padded end only the real values count.",
}
_POOL1D_END = (
    "A window of 2 moving 2 steps at a time halves the length: 150 steps become 75. Pooling "
    "has no weights: nothing in it is learned."
)

_GLOBAL_POOL1D_BASE = (
    "Global pooling uses a window as long as the whole sequence. Each channel, however many "
    "steps it has, becomes one single number, so 64 channels become a list of 64 numbers."
)
_GLOBAL_POOL1D_SENTENCES = {
    "max": "<b>Global max pooling</b> keeps each channel's largest value: how strongly the "
           "pattern appeared at its best moment.",
    "average": "<b>Global average pooling</b> keeps each channel's mean: how strongly the "
               "pattern appeared over the whole signal.",
}
_GLOBAL_POOL1D_END = (
    "It no longer matters when a pattern happened, only how strongly, and sequences of "
    "different lengths all give lists of the same size. Nothing here is learned."
)

_LESSONS: dict[str, Lesson] = {
    "input": Lesson("The input image", (
        "This is what the network sees: a grid of numbers, one for each pixel. A grayscale "
        "image has one channel; a colour image has three (red, green and blue). The values are "
        "usually scaled to lie between 0 and 1, so black is 0 and white is 1.",
        "Every later layer only ever works with these numbers. The network does not know it "
        "is looking at a digit or a cat: it has learned which patterns of numbers tend to go "
        "with which answer.",
    )),
    "conv": Lesson("Convolution", (
        "A convolution layer slides small grids of weights, called <b>filters</b> (or "
        "kernels), across its input. At each position it multiplies the values under the "
        "filter by the filter's weights, adds up all the products and adds a bias. That one "
        "number becomes one pixel of an output map.",
        "Each filter makes its own map: a layer of 32 filters makes 32 maps. Training adjusts the "
        "weights until the filters react to useful patterns: early layers often find edges "
        "and spots, later layers combine them into parts of shapes. Red marks places where a "
        "filter's sum is positive, blue where it is negative.",
    )),
    "signal": Lesson("The input signal", (
        "This is what the network sees: a sequence of numbers measured one after another, "
        "such as a sensor read 150 times. Each moment is a <b>step</b>. A signal can have "
        "several <b>channels</b> measured side by side, like the three axes of a motion "
        "sensor; each channel is drawn as its own line.",
        "The network never sees the curve as a picture, only the numbers, and it has "
        "learned which shapes of those numbers tend to go with which answer.",
    )),
    "conv1d": Lesson("1-D convolution", (
        "A 1-D convolution slides a short row of weights, the <b>kernel</b>, along the "
        "signal. At each step it multiplies the values under the kernel by its weights, "
        "channel by channel, adds up all the products and a bias: one number of the output "
        "sequence. Each filter makes its own sequence, high where its shape appears.",
        "<b>Padding</b> adds zeros at the ends so the kernel can reach them: 'same' at both "
        "ends, 'causal' only before the start, so each output sees the present and the past, "
        "never the future. <b>Dilation</b> spreads the weights apart, reading every second "
        "step for a dilation of 2, so a short kernel covers a longer stretch.",
    )),
    "batchnorm": Lesson("Batch normalization", (
        "During training this layer kept track of each channel's typical average (the "
        "<b>mean</b>) and spread (the <b>variance</b>). Now it uses them to rescale every "
        "value: subtract the mean and divide by the standard deviation (the square root of "
        "the variance), so the channel is centred on 0 with a spread of about 1.",
        "Then it multiplies by <b>gamma</b> and adds <b>beta</b>, two numbers per channel "
        "learned in training, so the network can pick the scale it likes best. Altogether "
        "this is one straight line per channel: y = a·x + b. Steady value ranges make "
        "training faster and more stable.",
    )),
    "dropout": Lesson("Dropout", (
        "Dropout only acts while the network is training. Then, at every step, it silences a "
        "random share of the values (the <b>rate</b>, say 50%) by setting them to 0, and "
        "scales up the rest so the total stays about the same.",
        "This stops the network from relying on any single value, a bit like a team that "
        "practises with random players sitting out: it learns sturdier patterns and overfits "
        "less. When the trained network is used, as here, dropout lets every value through "
        "unchanged. The output equals the input.",
    )),
    "flatten": Lesson("Flatten", (
        "Dense layers expect one simple list of numbers, but convolution and pooling layers "
        "produce a stack of maps (height × width × channels). Flatten rearranges the stack "
        "into one long list without changing any value.",
        "Keras reads the stack row by row, left to right, and at each pixel it takes all the "
        "channels of that pixel together before moving on to the next pixel. So a 5×5×64 "
        "stack becomes a list of 1,600 numbers. Flatten has no weights of its own, but the "
        "next layer will learn one weight for every position in this list.",
    )),
    "dense": Lesson("Dense (fully connected)", (
        "Each unit of a dense layer is connected to every input value. It multiplies each "
        "input by its own <b>weight</b>, adds all the products together, adds a <b>bias</b>, "
        "and passes the sum through its activation function.",
        "A positive weight means “this input is evidence for me”; a negative weight means "
        "evidence against. The biggest products show which inputs pushed the unit most, up "
        "or down. In the last layer there is one unit per class, and the unit with the "
        "largest output is the network's answer. Dense layers usually hold most of a CNN's "
        "weights.",
    )),
    "softmax": Lesson("Softmax", (
        "Softmax turns a list of raw scores, called <b>logits</b>, into probabilities. Each "
        "score x is turned into eˣ (e ≈ 2.718 raised to the power x), which makes every "
        "number positive and makes big scores stand out even more. Then each result is "
        "divided by their total, so they add up to exactly 1.",
        "Subtracting the largest score first does not change the answer; it only stops the "
        "numbers from growing too big for the computer. A probability of 0.93 means the "
        "network is 93% sure by its own reckoning. It can still be confidently wrong, "
        "especially on images unlike the ones it was trained on.",
    )),
    "generic": Lesson("Other layers", (
        "The explainer cannot take this layer apart step by step, so you see only what comes "
        "out of it: its output maps, drawn with the same colours as everywhere else (red for "
        "positive, blue for negative, white for zero).",
        "It still did its work exactly as Keras defines it. The layer's type, and its Keras "
        "documentation, tell you what it computes. Compare its maps with those of the layer "
        "before to see what changed.",
    )),
    "pretrained_base": Lesson("A pre-built base", (
        "This step is a whole network trained before, often on a million ImageNet photos, and "
        "reused here as one layer. Its layers already learnt to find edges, textures and "
        "shapes, so the few layers after it only learn to combine these features into your "
        "classes.",
        "It is usually <b>frozen</b>: training leaves its weights alone. What you see is "
        "what comes out of it. To look inside, use <i>Where it looks</i> with one of its "
        "convolutions.",
    )),
}

LESSON_KINDS: tuple[str, ...] = (
    "input", "conv", "pool", "global_pool", "activation", "batchnorm", "dropout", "flatten",
    "dense", "softmax", "generic", "signal", "conv1d", "pool1d", "global_pool1d",
    "pretrained_base",
)
# The kinds whose lesson depends on "max" or "average".
POOLING_KINDS: tuple[str, ...] = ("pool", "global_pool", "pool1d", "global_pool1d")


def normalize_function(function: str | None) -> str | None:
    """'LeakyReLU' → 'leaky_relu', 'avg' → 'average', None stays None."""
    if function is None:
        return None
    name = function.strip().lower()
    return _FUNCTION_ALIASES.get(name, name)


def _activation_lesson(function: str | None) -> Lesson:
    if function is None:
        return Lesson("Activation function", (_ACTIVATION_BASE,))
    sentence = ACTIVATION_SENTENCES.get(
        function,
        f"This layer uses <b>{function}</b>; the curve shows exactly what it does to each value.",
    )
    title = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "tanh": "Tanh", "elu": "ELU",
             "selu": "SELU"}.get(function, function.capitalize())
    return Lesson(f"Activation: {title}", (_ACTIVATION_BASE, sentence))


def _pool_lesson(function: str | None, along_a_sequence: bool = False) -> Lesson:
    base, sentences, end = ((_POOL1D_BASE, _POOL1D_SENTENCES, _POOL1D_END) if along_a_sequence
                            else (_POOL_BASE, _POOL_SENTENCES, _POOL_END))
    suffix = " along a sequence" if along_a_sequence else ""
    if function in sentences:
        title = "Max pooling" if function == "max" else "Average pooling"
        return Lesson(title + suffix, (base, sentences[function], end))
    both = ("<b>Max pooling</b> keeps the largest value in each window; <b>average "
            "pooling</b> keeps their mean.")
    return Lesson("Pooling" + suffix, (base, both, end))


def _global_pool_lesson(function: str | None, along_a_sequence: bool = False) -> Lesson:
    base, sentences, end = (
        (_GLOBAL_POOL1D_BASE, _GLOBAL_POOL1D_SENTENCES, _GLOBAL_POOL1D_END) if along_a_sequence
        else (_GLOBAL_POOL_BASE, _GLOBAL_POOL_SENTENCES, _GLOBAL_POOL_END))
    suffix = " along a sequence" if along_a_sequence else ""
    if function in sentences:
        title = "Global max pooling" if function == "max" else "Global average pooling"
        return Lesson(title + suffix, (base, sentences[function], end))
    what = "channel" if along_a_sequence else "map"
    both = f"It keeps either each {what}'s largest value (max) or its mean (average)."
    return Lesson("Global pooling" + suffix, (base, both, end))


def lesson_for(kind: str, function: str | None = None) -> Lesson:
    """The lesson for a layer kind (one of LESSON_KINDS; unknown kinds get the generic one).

    `function` refines it: the activation's Keras name for "activation" ("relu", "sigmoid",
    ...), "max" or "average" for the pooling kinds (POOLING_KINDS); other kinds ignore it.
    The 1-D kinds ("signal", "conv1d", "pool1d", "global_pool1d") speak of steps of a signal.
    """
    function = normalize_function(function)
    if kind == "activation":
        return _activation_lesson(function)
    if kind in ("pool", "pool1d"):
        return _pool_lesson(function, along_a_sequence=kind == "pool1d")
    if kind in ("global_pool", "global_pool1d"):
        return _global_pool_lesson(function, along_a_sequence=kind == "global_pool1d")
    return _LESSONS.get(kind, _LESSONS["generic"])


def lesson_for_steps(steps: "LayerSteps") -> Lesson:
    """The lesson that fits one explained layer (any `cnnviz.core.explain.frames.LayerSteps`).

    An activation that is softmax gets the softmax lesson; pooling gets its mode's lesson; an
    input of steps × channels (a signal) gets the signal lesson.
    """
    kind = steps.kind
    if kind == "activation":
        function = normalize_function(getattr(steps, "function", None))
        return lesson_for("softmax") if function == "softmax" else lesson_for(kind, function)
    if kind in POOLING_KINDS:
        return lesson_for(kind, getattr(steps, "mode", None))
    if kind == "input" and np.ndim(steps.input) == 2:
        return lesson_for("signal")
    if kind == "generic" and steps.layer_type in ("Functional", "Sequential", "Model"):
        return lesson_for("pretrained_base")  # a whole network used as one layer
    return lesson_for(kind)


# ---------------------------------------------------------------- where the network looks

_ATTRIBUTION_METHOD_SENTENCES = {
    "gradcam": "<b>Grad-CAM</b> asks a convolution layer: for each of your maps, how much would "
               "the score rise if the map grew? Maps that help get a big weight; the weighted "
               "maps are added up and negative parts dropped. Deep layers give coarse blobs "
               "(their maps are small); early layers give sharper, noisier ones.",
    "saliency": "<b>Saliency</b> asks the same of every input pixel: how much would the score "
                "change if this pixel changed a tiny bit? It is sharp, but often speckled.",
    "integrated-gradients": "<b>Integrated gradients</b> starts from a black input and brightens "
                            "it step by step to the real one, adding up the gradients on the "
                            "way. The map's total is close to the score's rise from black.",
}


def attribution_lesson(method: str) -> Lesson:
    """What an attribution map ("gradcam", "saliency" or "integrated-gradients") does and does
    not mean: a few short paragraphs for the overlay in the Explain view."""
    sentence = _ATTRIBUTION_METHOD_SENTENCES.get(method, _ATTRIBUTION_METHOD_SENTENCES["saliency"])
    return Lesson("Where the network looks", (
        "The coloured overlay shows which parts of the input most changed the network's raw "
        "score for one class (the score before softmax). Bright means important for that "
        "class, faint means it hardly mattered.",
        sentence,
        "The map does <b>not</b> show what the network “sees” or understands, and it does "
        "not prove the answer is right. A network can look at the right place for the "
        "wrong reason, such as a background or a border. Compare classes: the same place "
        "lit for every class tells you little.",
    ))
