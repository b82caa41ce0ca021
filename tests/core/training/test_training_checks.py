"""check_model_fits_data: mismatches between a model and the data, caught before training,
and one-click fixes that really fix the spec (and leave the original alone)."""

from __future__ import annotations

import pytest

from cnnviz.core.model.presets import mnist_cnn
from cnnviz.core.model.shapes import analyze
from cnnviz.core.model.spec import ModelSpec
from cnnviz.core.training.checks import Mismatch, check_model_fits_data
from tests.core.training.training_fixtures import layer, make_data, tiny_model, tiny_spec


def data_like(classes: int, shape: tuple[int, int, int] = (8, 8, 1)):
    return make_data(num_classes=classes, size=shape[0], channels=shape[2], train=4,
                     validation=0, test=0)


def apply_all(spec: ModelSpec, data) -> ModelSpec:
    """Apply the first fix again and again, as a user clicking the button would."""
    for _ in range(5):
        problems = check_model_fits_data(spec, data)
        if not problems:
            return spec
        assert problems[0].fix is not None, problems[0].message
        spec = problems[0].fix(spec)
    raise AssertionError("the fixes never settle")


def test_a_fitting_spec_and_model_have_no_mismatch():
    assert check_model_fits_data(tiny_spec(3), data_like(3)) == []
    assert check_model_fits_data(tiny_spec(1, "sigmoid"), data_like(2)) == []
    assert check_model_fits_data(tiny_spec(2, "softmax"), data_like(2)) == []  # also fine
    assert check_model_fits_data(mnist_cnn(), data_like(10, (28, 28, 1))) == []
    assert check_model_fits_data(tiny_model(3), data_like(3)) == []


def test_ten_outputs_for_two_classes_fixed_by_one_sigmoid_unit():
    spec = tiny_spec(10)
    [problem] = check_model_fits_data(spec, data_like(2))
    assert problem.severity == "error"
    assert "10 outputs" in problem.message and "2 classes (class 0, class 1)" in problem.message
    assert problem.fix_label == "Use one sigmoid unit for two classes"
    fixed = problem.fix(spec)
    assert check_model_fits_data(fixed, data_like(2)) == []
    assert fixed.layers[-1].params["units"] == 1
    assert fixed.layers[-1].params["activation"] == "sigmoid"
    assert spec.layers[-1].params["units"] == 10  # the fix is pure


def test_wrong_number_of_outputs_for_many_classes():
    spec = mnist_cnn()
    [problem] = check_model_fits_data(spec, data_like(5, (28, 28, 1)))
    assert "5 classes" in problem.message
    assert problem.fix_label == "Make the last Dense layer 5 units with softmax"
    fixed = problem.fix(spec)
    assert check_model_fits_data(fixed, data_like(5, (28, 28, 1))) == []
    assert len(fixed.layers) == len(spec.layers)  # changed in place, nothing appended


def test_grayscale_model_on_colour_data_fixed_by_changing_the_input():
    spec = mnist_cnn()
    data = data_like(10, (32, 32, 3))
    [problem] = check_model_fits_data(spec, data)
    assert "28×28×1" in problem.message and "32×32×3" in problem.message
    assert "colour" in problem.message and "grayscale" in problem.message
    assert problem.fix_label == "Change the model's input to 32×32×3"
    fixed = problem.fix(spec)
    assert tuple(fixed.input_shape) == (32, 32, 3)
    assert check_model_fits_data(fixed, data) == []
    assert analyze(fixed).ok


def test_two_problems_at_once_are_both_listed_and_both_fixable():
    spec = mnist_cnn()
    data = data_like(2, (32, 32, 3))
    problems = check_model_fits_data(spec, data)
    assert [p.fix_label for p in problems] == [
        "Change the model's input to 32×32×3", "Use one sigmoid unit for two classes"]
    fixed = apply_all(spec, data)
    assert tuple(fixed.input_shape) == (32, 32, 3) and fixed.layers[-1].params["units"] == 1


@pytest.mark.parametrize("activation, severity", [("relu", "error"), ("tanh", "error"),
                                                  ("linear", "warning")])
def test_output_activation_that_is_not_softmax(activation, severity):
    spec = tiny_spec(3, activation)
    [problem] = check_model_fits_data(spec, data_like(3))
    assert problem.severity == severity
    assert "softmax" in problem.message and f"'{activation}'" in problem.message
    assert problem.fix_label == "Use softmax on the last layer"
    fixed = problem.fix(spec)
    assert fixed.layers[-1].params["activation"] == "softmax"
    assert check_model_fits_data(fixed, data_like(3)) == []


def test_one_unit_needs_sigmoid():
    [problem] = check_model_fits_data(tiny_spec(1, "relu"), data_like(2))
    assert "sigmoid" in problem.message and "between 0 and 1" in problem.message
    assert check_model_fits_data(problem.fix(tiny_spec(1, "relu")), data_like(2)) == []


def test_trailing_activation_layer_is_the_one_changed():
    spec = tiny_spec(10, "linear")
    spec.layers += [layer("Activation", activation="softmax"), layer("Dropout", rate=0.2)]
    fixed = apply_all(spec, data_like(2))
    dense, activation = fixed.layers[-3], fixed.layers[-2]
    assert (dense.params["units"], dense.params["activation"]) == (1, "linear")
    assert activation.params["activation"] == "sigmoid"  # not applied twice


def test_model_ending_in_an_image_gets_flatten_and_dense():
    spec = ModelSpec((8, 8, 1), [layer("Conv2D", filters=4, kernel_size=[3, 3])])
    [problem] = check_model_fits_data(spec, data_like(3))
    assert "6×6×4" in problem.message
    fixed = problem.fix(spec)
    assert [l.type for l in fixed.layers] == ["Conv2D", "Flatten", "Dense"]
    assert check_model_fits_data(fixed, data_like(3)) == []


def test_global_pooling_output_gets_an_activation_layer():
    spec = ModelSpec((8, 8, 1), [layer("Conv2D", filters=3, kernel_size=[3, 3]),
                                 layer("GlobalAveragePooling2D")])
    [problem] = check_model_fits_data(spec, data_like(3))
    assert problem.fix_label == "Use softmax on the last layer"
    fixed = problem.fix(spec)
    assert fixed.layers[-1].type == "Activation"
    assert check_model_fits_data(fixed, data_like(3)) == []


def test_invalid_spec_is_reported_without_a_fix():
    spec = ModelSpec((8, 8, 1), [layer("Conv2D", filters=4, kernel_size=[9, 9]), layer("Flatten"),
                                 layer("Dense", units=3, activation="softmax")])
    [problem] = check_model_fits_data(spec, data_like(3))
    assert problem.message.startswith("The model has a problem:")
    assert "9×9 kernel is larger than its 8×8 input" in problem.message
    assert problem.fix is None and problem.fix_label is None


def test_keras_model_mismatches_have_messages_but_no_fix():
    model = tiny_model(units=10)
    problems = check_model_fits_data(model, data_like(2, (32, 32, 3)))
    assert len(problems) == 2
    assert "8×8×1" in problems[0].message and "32×32×3" in problems[0].message
    assert "10 outputs" in problems[1].message
    assert all(isinstance(p, Mismatch) and p.fix is None and p.fix_label is None for p in problems)
    [relu] = check_model_fits_data(tiny_model(3, "relu"), data_like(3))
    assert "'relu'" in relu.message and relu.severity == "error"
