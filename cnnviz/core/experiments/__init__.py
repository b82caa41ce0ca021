"""Experiments: every training run recorded, and sweeps (hyperparameter search on Optuna).

    run_store           the SQLite store of runs: settings, history, results, notes, tags
    recording           the recorder the training engine calls while a run goes on
    sweep               a sweep = an Optuna study: dimensions, samplers, workers, results
    sweep_storage       where a study lives: a journal file (default) or a database URL
    sweep_heartbeat     running trials' heartbeats: a worker lost on any machine is noticed
    tensorboard_export  the runs written for TensorBoard's HParams dashboard
    data_size_study     the tutorial's "Dense vs CNN with less data": trainings, results, chart
    scratch_vs_transfer the run pair "from scratch vs transfer": one network, two trainings, chart
"""

__all__ = ["run_store", "recording", "sweep", "sweep_storage", "sweep_heartbeat",
           "tensorboard_export", "data_size_study",
           "scratch_vs_transfer"]
