"""Training: Keras `fit` with live reports, pause and stop, checked before it starts.

    engine        TrainConfig, train(), evaluate_test()
    callbacks     the Keras callbacks behind train(): reports, pause/stop, NaN, keep-best
    augmentation  input pipelines and random augmentation of training data (images and signals)
    checks        does this model fit this data? (with one-click fixes for specs)
    history       what a run has recorded: per-batch points, per-epoch logs, CSV export
"""

__all__ = ["engine", "callbacks", "augmentation", "checks", "history"]
