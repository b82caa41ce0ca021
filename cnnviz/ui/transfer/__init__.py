"""The Pre-built view (tab 6): transfer learning and feature extraction with pre-built networks.

Modules:
    transfer_view: the Transfer page: base, cut and head, data, what will be trained, and
        fine-tuning; the model is trained in the Train view.
    transfer_bases: choosing and opening a base (Keras applications with their ImageNet
        weights or random ones, sample models, the model opened in Inspect, a model file).
    transfer_summary: the frozen / trainable parameter counts and the layer list.
    features_view: the Features page: a base, data and layers in; a 2-D map per layer side by
        side, nearest neighbours of a picked image, exports.
    feature_jobs: the Features page's background work without Qt: opening a base, fitting the
        data, computing the maps and t-SNE, the weights' status and download.
    feature_scatter: one layer's map as a scatter plot (hover for the image, click to pick).
    feature_neighbours: the nearest-neighbours strip of a picked image.
"""

__all__ = ["feature_jobs", "feature_neighbours", "feature_scatter", "features_view",
           "transfer_bases", "transfer_summary", "transfer_view"]
