"""Errors a user can cause. Their messages are written for a student to read."""


class CnnvizError(Exception):
    """Base class for every error cnnviz shows to the user instead of a traceback."""


class SpecError(CnnvizError):
    """A model spec (JSON or in memory) is malformed or has values out of range."""


class ModelFileError(CnnvizError):
    """A file could not be read as a Keras model."""


class UnsupportedLayerError(CnnvizError):
    """A Keras model uses layers the builder cannot represent."""


class DatasetError(CnnvizError):
    """A data source could not be found, downloaded or read (bad file, empty folder, offline...)."""


class TrainingError(CnnvizError):
    """Training settings or the model/data pairing cannot work (batch size 0, unknown optimizer, ...)."""


class ExplainError(CnnvizError):
    """An input or a layer cannot be explained (not an image, an empty drawing, no such layer...)."""
