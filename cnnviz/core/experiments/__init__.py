"""Experiments: sweeps (hyperparameter search on Optuna) and, beside them, the run store.

    sweep          a sweep = an Optuna study: dimensions, samplers, workers, results
    sweep_storage  where a study lives: a journal file (default) or a database URL
"""

__all__ = ["sweep", "sweep_storage"]
