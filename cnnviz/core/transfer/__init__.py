"""Transfer learning: pre-built bases, cutting and freezing them, and feature extraction.

    bases           open a base: a Keras application (ImageNet weights from Keras's cache,
                    or random) or any model file cnnviz opens, with its input preprocessing
    transfer_model  cut a base at a layer, freeze it, add a head, train and fine-tune it
    features        a layer's features for a dataset (batch-wise, cached) and their 2-D maps
"""

__all__ = ["bases", "transfer_model"]
