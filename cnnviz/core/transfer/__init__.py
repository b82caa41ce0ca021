"""Pre-built networks: bases, cutting and freezing, feature extraction.

    features      a layer's features for a dataset: batch-wise, cached on disk, exported
    feature_maps  features as a 2-D map (PCA, t-SNE), class separation, nearest neighbours
"""

__all__ = ["features", "feature_maps"]
