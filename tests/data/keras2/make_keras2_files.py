"""Make the Keras 2 (tf.keras) model files that tests/core/test_model_files.py opens with Keras 3.

These files must be written by real Keras 2, so this script does NOT run in cnnviz's own
environment (Keras 3). It was run once, in a separate venv outside the repository:

    python3 -m venv /tmp/k2
    /tmp/k2/bin/pip install "tensorflow-cpu==2.15.1"      # brings Keras 2.15.0 as tf.keras
    /tmp/k2/bin/python tests/data/keras2/make_keras2_files.py

It writes, beside itself (each file well under 100 KB):

- sequential_cnn.h5       Sequential: Conv2D → BatchNorm → MaxPooling2D → Flatten → Dropout
                          → Dense(3, softmax), saved with model.save(..., save_format="h5")
- functional_cnn.h5       functional, with branches: two Conv2D joined by Add and Concatenate,
                          GlobalAveragePooling2D, Dense(3) → Activation("softmax")
- functional_cnn.json     the same functional model's model.to_json() (Keras 2 format) ...
- functional_cnn_weights.h5  ... and its model.save_weights(..., save_format="h5")
- lambda_cnn.h5           Sequential with a Lambda layer (Python code: refused unless trusted)
- tf_op_cnn.h5            functional with a raw TensorFlow operation (`image * 2.0 - 1.0`), which
                          tf.keras stores as TFOpLambda layers that Keras 3 cannot rebuild
- input.npy               two fixed 8×8×1 images (float32)
- <name>.expected.npy     Keras 2's own model.predict(input) for each model above but tf_op_cnn

The weights are random but fixed (seeded) and non-trivial (BatchNorm statistics are set),
so equal outputs under Keras 3 mean every weight was read into the right place.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
keras = tf.keras
layers = keras.layers


def require_keras_2() -> None:
    version = getattr(tf.keras, "__version__", None) or tf.__version__
    if not tf.__version__.startswith("2.") or int(tf.__version__.split(".")[1]) >= 16:
        sys.exit(f"Run this with TensorFlow ≤ 2.15 (Keras 2); this is TensorFlow {tf.__version__}"
                 f" (Keras {version}).")


def randomize(model: "keras.Model", seed: int) -> None:
    """Fixed random weights; BatchNorm variance kept positive."""
    rng = np.random.default_rng(seed)
    values = []
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "moving_variance" in weight.name:
            values.append(rng.uniform(0.5, 2.0, shape).astype("float32"))
        else:
            values.append(rng.normal(0.0, 0.5, shape).astype("float32"))
    model.set_weights(values)


def sequential_cnn() -> "keras.Model":
    return keras.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1), name="conv"),
        layers.BatchNormalization(name="norm"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flat"),
        layers.Dropout(0.25, name="drop"),
        layers.Dense(3, activation="softmax", name="probabilities"),
    ], name="keras2_sequential")


def functional_cnn() -> "keras.Model":
    image = keras.Input((8, 8, 1), name="image")
    left = layers.Conv2D(3, 3, padding="same", activation="relu", name="left")(image)
    right = layers.Conv2D(3, 1, name="right")(image)
    added = layers.Add(name="added")([left, right])
    joined = layers.Concatenate(name="joined")([added, left])
    pooled = layers.GlobalAveragePooling2D(name="pooled")(joined)
    scores = layers.Dense(3, name="scores")(pooled)
    probabilities = layers.Activation("softmax", name="probabilities")(scores)
    return keras.Model(image, probabilities, name="keras2_functional")


def lambda_cnn() -> "keras.Model":
    return keras.Sequential([
        layers.Lambda(lambda t: t * 2.0 - 1.0, input_shape=(8, 8, 1), name="rescale"),
        layers.Conv2D(2, 3, name="conv"),
        layers.Flatten(name="flat"),
        layers.Dense(3, activation="softmax", name="probabilities"),
    ], name="keras2_lambda")


def tf_op_cnn() -> "keras.Model":
    image = keras.Input((8, 8, 1), name="image")
    scaled = image * 2.0 - 1.0  # tf.keras records these as TFOpLambda layers
    features = layers.Flatten(name="flat")(layers.Conv2D(2, 3, name="conv")(scaled))
    return keras.Model(image, layers.Dense(3, activation="softmax", name="probabilities")(features),
                       name="keras2_tf_op")


def main() -> None:
    require_keras_2()
    images = np.random.default_rng(0).uniform(0.0, 1.0, (2, 8, 8, 1)).astype("float32")
    np.save(HERE / "input.npy", images)
    for seed, (name, make) in enumerate([("sequential_cnn", sequential_cnn),
                                         ("functional_cnn", functional_cnn),
                                         ("lambda_cnn", lambda_cnn),
                                         ("tf_op_cnn", tf_op_cnn)], start=1):
        model = make()
        randomize(model, seed)
        model.save(HERE / f"{name}.h5", save_format="h5")
        if name != "tf_op_cnn":  # Keras 3 refuses it, so there is nothing to compare
            np.save(HERE / f"{name}.expected.npy", model.predict(images, verbose=0))
        if name == "functional_cnn":
            (HERE / f"{name}.json").write_text(model.to_json(), encoding="utf-8")
            model.save_weights(HERE / f"{name}_weights.h5", save_format="h5")
    for path in sorted(HERE.iterdir()):
        if path.suffix in (".h5", ".json", ".npy"):
            print(f"{path.name:32} {path.stat().st_size:7,} bytes")
    print(f"written by TensorFlow {tf.__version__}")


if __name__ == "__main__":
    main()
