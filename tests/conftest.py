"""Test set-up shared by every test: no display, no network, quiet TensorFlow."""

import os

# Before anything imports Qt or TensorFlow.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep tests reproducible and off the user's own settings/recent-files list.
os.environ.setdefault("CNNVIZ_SETTINGS_SCOPE", "cnnviz-tests")
# Runs trained by the tests (and crash logs) go to a data folder of their own, removed at the
# end, never to the developer's (subprocesses inherit it).
import atexit
import shutil
import tempfile

os.environ["CNNVIZ_HOME"] = tempfile.mkdtemp(prefix="cnnviz-test-home-")
atexit.register(shutil.rmtree, os.environ["CNNVIZ_HOME"], ignore_errors=True)
