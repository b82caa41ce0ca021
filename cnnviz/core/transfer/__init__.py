"""Pre-built networks: bases, transfer learning, feature extraction.

    bases           open a base: a Keras application (ImageNet weights from Keras's cache,
                    or random) or any model file cnnviz opens, with its input preprocessing
    transfer_model  cut a base at a layer, freeze it, add a head, train and fine-tune it
    features        a layer's features for a dataset: batch-wise, cached on disk, exported
    feature_maps    features as a 2-D map (PCA, t-SNE), class separation, nearest neighbours
    base_blocks     a base as one layer of a model spec (PretrainedBase), so the builder
                    edits the head on top of it: prepared, measured and saved as a Keras file
    spec_with_bases a saved model with one nested network → a spec, the network (with its
                    current weights) saved and kept as a PretrainedBase layer
    caches          the disk the feature and base caches use: sizes, clearing, the feature
                    cache's size limit (least recently used files go first)
"""

__all__ = ["bases", "transfer_model", "features", "feature_maps", "base_blocks",
           "spec_with_bases", "caches"]
