"""The Transfer page: transfer learning on a pre-built or saved network.

Modules:
    transfer_view: the page itself: base, cut and head, data, what will be trained, and
        fine-tuning; the model is trained in the Train view.
    transfer_bases: choosing and opening a base (Keras applications with their ImageNet
        weights or random ones, sample models, the model opened in Inspect, a model file).
    transfer_summary: the frozen / trainable parameter counts and the layer list.
"""

__all__ = ["transfer_bases", "transfer_summary", "transfer_view"]
