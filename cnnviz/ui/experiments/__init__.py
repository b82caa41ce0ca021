"""The Experiments view (tab 5): the recorded runs in a table, their curves compared, any
setting against any metric, notes and tags, delete with undo, train again, open a run's model,
and the "Dense vs CNN with less data" window."""

__all__ = ["experiments_panel", "run_charts", "run_details", "run_table", "data_size_dialog"]
