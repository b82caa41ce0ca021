"""The model: a spec (input shape + layer stack) as plain data, and everything done with it.

    spec             ModelSpec / LayerSpec, reading and writing spec files
    spec_params      the layer types a spec may use and their parameters
    spec_edits       edits of a spec as pure functions
    shapes           output shapes and parameter counts by arithmetic, without TensorFlow
    layer_text       short human descriptions of layers
    presets          named architectures to start from
    builder          spec → Keras model, model files, summaries of any Keras model
    model_file_limits  sizes a saved model may declare, checked before it is read (zip bombs)
    spec_from_keras  Keras model → spec
    codegen          a spec as a runnable Keras script
"""

__all__ = [
    "spec", "spec_params", "spec_edits", "shapes", "layer_text", "presets", "builder",
    "model_file_limits", "spec_from_keras", "codegen",
]
