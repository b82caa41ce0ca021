"""The Build view: a model's architecture edited layer by layer, with undo, a live summary
and a diagram.

Modules:
    builder_panel: the Build tab, putting the parts below together.
    layer_palette: the layer types to add (double-click, Enter or drag into the stack).
    layer_stack: the ordered list of layers, with drag-and-drop and keyboard editing.
    property_editor: the picked layer's settings and the model's input shape.
    summary_table: a live `model.summary()`: output shape and parameters per layer.
    architecture_diagram: the stack drawn like a textbook CNN figure, one 3-D box per layer.
    base_dialog: "Pre-built base…": choose a pre-built network, its weights, size and cut, and
        prepare it in the background as one frozen layer.
"""

__all__ = [
    "architecture_diagram", "base_dialog", "builder_panel", "layer_palette", "layer_stack",
    "property_editor", "summary_table",
]
