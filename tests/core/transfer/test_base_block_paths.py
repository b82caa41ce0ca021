"""A spec with a pre-built base (PretrainedBase) everywhere outside the builder: the exported
Python script rebuilds the same model with Keras alone; a sweep refuses to vary the base;
a saved model with a base explains, attributes and inspects with the base as one step;
model_to_spec says why such a model cannot become a spec."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.model.builder import build_model, weight_count
from cnnviz.core.model.codegen import (
    BASE_APPLICATIONS, CAFFE_BGR_MEAN, FILE_BASE_PART_NAME, LUMA_WEIGHTS, export_python,
)
from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.core.transfer.base_blocks import prepare_base_block
from tests.core.transfer.test_transfer_model import SAMPLE_MODEL


@pytest.fixture(scope="module")
def file_base(home: Path) -> LayerSpec:
    return prepare_base_block(str(SAMPLE_MODEL), input_channels=1, folder=home)


def head_spec(base: LayerSpec, classes: int = 3) -> ModelSpec:
    layers = [copy.deepcopy(base)]
    if len(base.params["output_shape"]) == 3:
        layers.append(LayerSpec.new("GlobalAveragePooling2D"))
    layers += [LayerSpec.make("Dense", units=8, activation="relu"),
               LayerSpec.make("Dense", units=classes, activation="softmax")]
    return ModelSpec((28, 28, 1), layers, "with_base")


def _rows(model) -> list[tuple]:
    """Every layer, nested ones included: name, output shape, trainable and frozen counts."""
    rows = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        output = getattr(layer, "output", None)
        shape = tuple(output.shape[1:]) if output is not None and hasattr(output, "shape") \
            else None
        # Keras numbers unnamed input layers per process: their names differ, nothing else.
        name = "input" if type(layer).__name__ == "InputLayer" else layer.name
        rows.append((name, type(layer).__name__, shape, weight_count(layer.trainable_weights),
                     weight_count(layer.non_trainable_weights)))
    return rows


def test_the_application_table_of_codegen_equals_the_bases_cnnviz_offers() -> None:
    from cnnviz.core.data.data_fit import LUMA_WEIGHTS as luma
    from cnnviz.core.transfer.bases import APPLICATIONS, CAFFE_BGR_MEAN as mean
    from cnnviz.core.transfer.transfer_model import BASE_PART_NAME

    assert BASE_APPLICATIONS == {name: (app.constructor, app.preprocess_mode)
                                 for name, app in APPLICATIONS.items()}
    assert (CAFFE_BGR_MEAN, LUMA_WEIGHTS, FILE_BASE_PART_NAME) == (mean, luma, BASE_PART_NAME)


@pytest.mark.parametrize("which,frozen", [("mobilenet", True), ("mobilenet", False),
                                          ("file_base", True)])
def test_the_exported_script_rebuilds_the_same_model_with_keras_alone(
        which: str, frozen: bool, request: pytest.FixtureRequest) -> None:
    base = request.getfixturevalue(which)
    spec = head_spec(base)
    spec.layers[0].trainable = not frozen
    code = export_python(spec)
    assert "block_file" not in code and ".keras\"" not in code.split("saved_model")[0]
    if which == "mobilenet":
        assert "keras.applications.MobileNetV2(" in code and "weights=None" in code
    else:
        assert f"keras.models.load_model({str(SAMPLE_MODEL)!r}".replace("'", '"') in code
    namespace: dict = {}
    exec(compile(code, "exported.py", "exec"), namespace)  # noqa: S102 - our own output
    exported = namespace["model"]
    built = build_model(spec)
    assert _rows(exported) == _rows(built)
    assert "frozen" not in code or frozen == ("pretrained_base.trainable = False" in code)
    # With build_model's weights copied in, the script's model predicts the same.
    exported.set_weights(built.get_weights())
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(exported.predict(images, verbose=0),
                               built.predict(images, verbose=0), rtol=1e-4, atol=1e-5)


def test_an_imagenet_base_is_exported_with_keras_downloading_its_weights(
        mobilenet: LayerSpec) -> None:
    base = copy.deepcopy(mobilenet)
    base.params["weights"] = "imagenet"
    code = export_python(head_spec(base))
    assert 'weights="imagenet"' in code and "weights=None" not in code
    compile(code, "exported.py", "exec")
    assert max(len(line) for line in code.splitlines()) <= 99


@pytest.fixture(scope="module")
def saved_models(mobilenet: LayerSpec, file_base: LayerSpec,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both kinds of base with a head, saved as .keras files as `cnnviz train` saves them."""
    from cnnviz.core.model.builder import save_model_file

    folder = tmp_path_factory.mktemp("saved")
    paths = {}
    for key, base in (("mobilenet", mobilenet), ("file_base", file_base)):
        paths[key] = Path(save_model_file(build_model(head_spec(base, classes=10)),
                                          folder / f"{key}.keras"))
    return paths


def _digit() -> np.ndarray:
    return np.random.default_rng(3).random((28, 28, 1)).astype(np.float32)


@pytest.mark.parametrize("which,network,shown", [("mobilenet", "MobileNetV2", "feature maps"),
                                                 ("file_base", "", "output vector")])
def test_the_explainer_shows_a_saved_base_as_one_step(saved_models, which: str, network: str,
                                                      shown: str) -> None:
    from cnnviz.core.explain.activations import ActivationProbe
    from cnnviz.core.explain.frames import GenericSteps
    from cnnviz.core.model.builder import load_model_file

    model = load_model_file(saved_models[which])
    probe = ActivationProbe(model)
    forward = probe.run(_digit())
    steps = [probe.steps(forward, index) for index in range(len(model.layers))]
    base = steps[0]
    assert isinstance(base, GenericSteps)
    assert base.note.startswith(f"A pre-built base ({network}") and shown in base.note
    np.testing.assert_allclose(base.output, np.asarray(model.layers[0](_digit()[None]))[0],
                               rtol=1e-5, atol=1e-5)
    assert steps[-1].kind == "dense"  # the head after it is explained as usual
    from cnnviz.core.explain.lessons import lesson_for_steps

    assert lesson_for_steps(base).title == "A pre-built base"
    assert lesson_for_steps(steps[-1]).title != "A pre-built base"


@pytest.mark.parametrize("which,layer,size", [("mobilenet", "pretrained_base/Conv1", (16, 16)),
                                              ("file_base",
                                               "pretrained_base/frozen_base/conv2d_1",
                                               (11, 11))])
def test_gradcam_reaches_a_convolution_inside_the_base(saved_models, which: str, layer: str,
                                                       size: tuple[int, int]) -> None:
    from cnnviz.core.explain.attribution import Attribution
    from cnnviz.core.model.builder import load_model_file

    model = load_model_file(saved_models[which])
    attribution = Attribution(model)
    assert layer in attribution.conv_layers()
    assert attribution.default_layer().startswith("pretrained_base/")
    inside = attribution.gradcam(_digit(), layer)
    assert inside.values.shape == size and np.isfinite(inside.values).all()
    default = attribution.gradcam(_digit())
    assert default.layer == attribution.default_layer()
    probabilities = model.predict(_digit()[None], verbose=0)[0]
    # Random MobileNetV2 weights at 32×32 can tie every class: any top class is the answer.
    assert probabilities[default.predicted] == pytest.approx(probabilities.max())


@pytest.mark.parametrize("which", ["mobilenet", "file_base"])
def test_inspect_shows_the_base_as_one_row_with_the_counts_of_keras(saved_models,
                                                                    which: str) -> None:
    from cnnviz.core.errors import CnnvizError
    from cnnviz.core.inspect.inspection import inspect_model
    from cnnviz.core.model.builder import load_model_file
    from cnnviz.core.model.spec_from_keras import model_to_spec

    model = load_model_file(saved_models[which])
    info = inspect_model(model)
    base = model.layers[0]
    assert [row.name for row in info.layers][:1] == ["pretrained_base"]
    row = info.layers[0]
    assert (row.params, row.trainable_params) == (base.count_params(),
                                                  weight_count(base.trainable_weights))
    assert row.trainable_params == 0  # saved frozen, reopened frozen
    with pytest.raises(CnnvizError, match="'pretrained_base' .*is a pre-built base; a stack "
                                          "of plain layers cannot hold it"):
        model_to_spec(model)


def test_a_sweep_refuses_to_vary_the_base(mobilenet: LayerSpec) -> None:
    from cnnviz.core.experiments.sweep import parse_dimension
    from cnnviz.core.experiments.sweep_storage import SweepError

    specs = {"with_base": head_spec(mobilenet)}
    with pytest.raises(SweepError, match="pre-built base; each value would be a different "
                                         "network .* Sweep the layers of the head"):
        parse_dimension("pretrained_base.input_size=32,64", specs)
    assert parse_dimension("dense.units=4,8", specs) == ("dense.units", [4, 8])
