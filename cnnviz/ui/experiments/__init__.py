"""The Experiments view (tab 5): the recorded runs in a table, their curves compared, any
setting against any metric, notes and tags, delete with undo, train again, open a run's model;
the Sweep dialog (hyperparameter search on Optuna: set up, watched, stopped, continued) and the
one-click study windows, "Dense vs CNN with less data" and "From scratch vs transfer", on one
StudyWindow (study_window.py)."""

__all__ = ["experiments_panel", "run_charts", "run_details", "run_table", "study_window",
           "data_size_dialog", "scratch_transfer_dialog",
           "sweep_charts", "sweep_dialog", "sweep_dimensions", "sweep_worker"]
