"""PySide6 user interface: thin widgets over cnnviz.core. Never imports TensorFlow at module top."""
