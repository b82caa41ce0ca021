"""cnnviz: see inside convolutional neural networks.

This module holds the version only; it imports neither TensorFlow nor Qt so that
`import cnnviz` stays instant everywhere.
"""

__version__ = "0.1.0"
