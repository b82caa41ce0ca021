"""Errors a user can cause. Their messages are written for a student to read."""


class CnnvizError(Exception):
    """Base class for every error cnnviz shows to the user instead of a traceback."""


class SpecError(CnnvizError):
    """A model spec (JSON or in memory) is malformed or has values out of range."""


class ModelFileError(CnnvizError):
    """A file could not be read as a Keras model."""


class UntrustedModelError(ModelFileError):
    """The model carries Python code (Lambda layers) or names a custom class in a Python
    module. Safe mode refuses it; it opens with trust=True. `layers` names the layers.

    The message says what and why, not how to trust the file: the command line adds its
    `--trust` option, the app its "I trust this file" button, each where it applies."""

    def __init__(self, message: str, layers: list[str] | None = None) -> None:
        super().__init__(message)
        self.layers = list(layers or [])


class UnsupportedLayerError(CnnvizError):
    """A Keras model uses layers the builder cannot represent."""


class DatasetError(CnnvizError):
    """A data source could not be found, downloaded or read (bad file, empty folder, offline...)."""


class TrainingError(CnnvizError):
    """Training settings or the model/data pairing cannot work (batch size 0, unknown optimizer, ...)."""


class ExplainError(CnnvizError):
    """An input or a layer cannot be explained (not an image, an empty drawing, no such layer...)."""
