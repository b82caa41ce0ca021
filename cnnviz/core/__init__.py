"""Qt-free core of cnnviz. TensorFlow is imported inside functions, never at module top."""
