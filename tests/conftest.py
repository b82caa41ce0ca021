"""Test set-up shared by every test: no display, no network, quiet TensorFlow."""

import os

# Before anything imports Qt or TensorFlow.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep tests reproducible and off the user's own settings/recent-files list.
os.environ.setdefault("CNNVIZ_SETTINGS_SCOPE", "cnnviz-tests")
