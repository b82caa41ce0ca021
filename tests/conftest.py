"""Test set-up shared by every test: no display, no network, quiet TensorFlow."""

import os

# Before anything imports Qt or TensorFlow.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep tests reproducible and off the user's own settings/recent-files list.
os.environ.setdefault("CNNVIZ_SETTINGS_SCOPE", "cnnviz-tests")
# Runs trained by the tests are recorded in a store of their own, never in the developer's.
if "CNNVIZ_HOME" not in os.environ or not os.environ.get("CNNVIZ_TEST_KEEP_HOME"):
    import tempfile

    os.environ["CNNVIZ_HOME"] = tempfile.mkdtemp(prefix="cnnviz-test-home-")
