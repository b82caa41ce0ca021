"""Fixtures of the Pre-built tab's tests: the bases tests' Keras cache folder, shared rather
than written twice."""

from tests.core.transfer.test_bases import keras_home  # noqa: F401 (a fixture)
