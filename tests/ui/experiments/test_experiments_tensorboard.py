"""The Experiments view's "Export to TensorBoard…": the runs shown (or selected) written to
the chosen folder, read back with TensorBoard's EventAccumulator."""

from __future__ import annotations

import pytest

from cnnviz.ui.common import dialogs
from tests.core.experiments.test_tensorboard_export import _accumulator, _scalars
from tests.ui.experiments.run_fixtures import write_runs
from tests.ui.experiments.test_experiments_view import open_view


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "runs.sqlite"
    write_runs(path, 5, epochs=3)
    return path


def test_export_to_tensorboard_writes_the_runs_shown(qtbot, tmp_path, store_path,
                                                     monkeypatch) -> None:
    view = open_view(qtbot, store_path, tmp_path)
    assert view.tensorboard_action.isEnabled()
    view.filter_edit.setText("adam")            # the runs shown: the adam ones
    qtbot.waitUntil(lambda: view.proxy.rowCount() < 5, timeout=5_000)
    shown = view.shown_ids()
    folder = tmp_path / "tb"
    monkeypatch.setattr(dialogs, "get_folder_path", lambda *_args: str(folder))
    view.tensorboard_action.trigger()
    assert sorted(p.name for p in folder.glob("run-*")) == sorted(f"run-{i}" for i in shown)
    assert view.count_label.text() == f"{len(shown)} exported"
    assert f"tensorboard --logdir {folder}" in view.count_label.toolTip()
    record = view.store.get(shown[0])
    assert [value for _, value in _scalars(_accumulator(folder / f"run-{shown[0]}"),
                                           "epoch/val_accuracy")] == \
        pytest.approx([row["val_accuracy"] for row in record.history], abs=1e-6)
