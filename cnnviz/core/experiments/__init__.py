"""Experiments: the run store (every training run recorded) and its recording hook."""

__all__ = ["run_store", "recording"]
