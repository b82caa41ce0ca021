"""The Inspect view: a saved Keras model opened from a file, its structure, its weights and
its evaluation.

Modules:
    model_tab: the Inspect tab itself (opening a file safely, the inspector and evaluation).
    opened_model_actions: what the main window does with an opened model (explain it,
        fine-tune it, edit a copy in the builder) and with files dropped on the window.
    inspect_panel: the inspector (header, layer table and graph, the picked layer's weights).
    inspect_stats: the picked layer's weight statistics, computed in the background.
    weight_histogram: the weight statistics table and the histogram of one weight array.
    model_graph: the model's layers drawn as a graph, branches and merges included.
    evaluation_panel: loss, accuracy, confusion matrix and per-class table on a data split.
    confusion_matrix: the clickable confusion matrix.
    misclassified_gallery: the images of an evaluation, the most confident mistakes first.
"""

__all__ = [
    "confusion_matrix", "evaluation_panel", "inspect_panel", "inspect_stats",
    "misclassified_gallery", "model_graph", "model_tab", "opened_model_actions",
    "weight_histogram",
]
