"""The Train view: choosing the data, the training settings, the run with live charts, and
what it leaves behind.

Modules:
    training_panel: the Train tab: data, settings, Start/Pause/Stop, progress and charts.
    dataset_chooser: picking and loading the data (samples, Keras downloads, files, folders).
    dataset_preview: a grid of sample images with their class names.
    training_settings: the settings form (optimizer, learning rate, epochs, ...) → TrainConfig.
    training_charts: live loss and accuracy charts, cheap enough to update while training.
    training_fit: does the model fit the data? The mismatch banner and its one-click fix.
    training_outputs: saving the trained model, its history and the chart image.
    (TrainingWorker, which runs training in a QThread, is in ui/common/workers.py.)
"""

__all__ = [
    "dataset_chooser", "dataset_preview", "training_charts", "training_fit",
    "training_outputs", "training_panel", "training_settings",
]
