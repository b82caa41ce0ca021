"""The Inspect view: a saved Keras model opened from a file, its structure, its weights and
its evaluation.

Modules:
    model_tab: the Inspect tab itself (opening a file safely, the inspector and evaluation);
        the opened model and what the user asks of it go into the workspace.
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
    "misclassified_gallery", "model_graph", "model_tab", "weight_histogram",
]
