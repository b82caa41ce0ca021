"""A pre-built base (a whole network as one layer, Keras type Functional) is named as such
in the Explain view's layer strip, not by Keras's class name."""

from cnnviz.ui.explain.layer_strip import short_type


def test_a_nested_network_chip_says_pre_built_base():
    assert short_type("Functional") == "Pre-built base"
    assert short_type("Sequential") == "Pre-built base"
    assert short_type("Dense") == "Dense"
