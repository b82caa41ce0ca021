"""Pre-built networks in the app: feature extraction (and transfer learning).

Modules:
    features_view: the Feature extraction view: a base, data and layers in; a 2-D map per
        layer side by side, nearest neighbours of a picked image, exports.
    feature_jobs: the view's background work without Qt: opening a base, fitting the data,
        computing the maps and t-SNE, the weights' status and download.
    feature_scatter: one layer's map as a scatter plot (hover for the image, click to pick).
    feature_neighbours: the nearest-neighbours strip of a picked image.
"""

__all__ = ["feature_jobs", "feature_neighbours", "feature_scatter", "features_view"]
