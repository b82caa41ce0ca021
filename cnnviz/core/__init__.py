"""The Qt-free core of cnnviz: everything the GUI and the command line compute.

Feature packages, each depending only on those below it:

    experiments         the run store (every training run recorded) and sweeps (Optuna)
    transfer            pre-built bases, cutting and freezing, feature extraction and maps
    inspect, explain    opening saved models, inspection, evaluation / the explainer's numbers
    training            TrainConfig, the engine, callbacks, checks, history
    data                one Dataset for every source
    model               specs, shapes by arithmetic, presets, Keras both ways, code export

and at the bottom the modules every package may use: errors (what a user can cause),
formatting (how numbers are written), atomic_save, user_folders (where cnnviz keeps its own
files: crash logs). No Qt here, ever; TensorFlow and Keras are
imported inside functions, never at module top (tests/test_architecture.py checks both).
"""

__all__ = [
    "model", "data", "training", "explain", "inspect", "experiments", "transfer", "errors", "formatting", "atomic_save",
    "user_folders",
]
