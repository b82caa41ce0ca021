"""Errors a user can cause. Their messages are written for a student to read."""


class CnnvizError(Exception):
    """Base class for every error cnnviz shows to the user instead of a traceback."""


class SpecError(CnnvizError):
    """A model spec (JSON or in memory) is malformed or has values out of range."""


class ModelFileError(CnnvizError):
    """A file could not be read as a Keras model."""


class UnsupportedLayerError(CnnvizError):
    """A Keras model uses layers the builder cannot represent."""
