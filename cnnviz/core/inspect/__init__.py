"""Inspecting saved models: opening them safely, what they are made of, how well they do.

    model_files         open_model(): .keras, .h5 (Keras 3 or 2), architecture JSON + weights
    model_file_reading  reading a saved model's architecture cheaply, before Keras loads it
    model_file_errors   the errors open_model raises, each one readable sentence
    inspection          layers in graph order, sizes, connections, weight statistics
    evaluation          loss, accuracy, confusion matrix and mistakes on one split
"""

__all__ = ["model_files", "model_file_reading", "model_file_errors", "inspection", "evaluation"]
