"""The "Dense vs CNN with less data" window, opened from the Experiments view and run for real
on the bundled MNIST sample with tiny sizes and one epoch: progress, the chart growing point
by point, the runs in the table, saving the chart, and stopping."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from cnnviz.core.experiments.run_store import RunStore
from cnnviz.core.model.presets import preset_spec
from cnnviz.ui.experiments.data_size_dialog import DataSizeDialog
from cnnviz.ui.experiments.experiments_panel import ExperimentsView
from cnnviz.workspace import Workspace

STUDY_TIMEOUT_MS = 120_000


def _chart_points(dialog: DataSizeDialog) -> dict[str, list[tuple[float, float]]]:
    return {label: points for label, points in dialog.chart.drawn_lines().items()}


def test_the_button_runs_the_study_drawing_point_by_point_into_the_runs_table(
        qtbot, tmp_path: Path) -> None:
    store_path = tmp_path / "runs.sqlite"
    ini = tmp_path / "view.ini"
    view = ExperimentsView(Workspace(preset_spec("mnist_cnn")),
                           lambda: QSettings(str(ini), QSettings.Format.IniFormat), store_path)
    qtbot.addWidget(view, before_close_func=lambda v: v.shutdown())
    view.resize(1280, 720)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=10_000)
    assert view.shown_ids() == []

    qtbot.mouseClick(view.less_data_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(DataSizeDialog)
    assert dialog is not None and dialog.isVisible() and dialog.store_path == store_path
    assert "300, 600, 1,800, 3,000 and 5,900" in dialog.about.text()
    assert _chart_points(dialog) == {"Dense": [], "CNN": []}   # the empty chart, both named
    dialog.sizes = [40, 80]
    dialog.epochs_box.setValue(1)

    texts: list[str] = []
    drawn: list[int] = []
    dialog.runs_recorded.connect(
        lambda: drawn.append(sum(len(p) for p in _chart_points(dialog).values())))
    with qtbot.waitSignal(dialog.ended, timeout=STUDY_TIMEOUT_MS) as ended:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.running and dialog.stop_button.isEnabled()
        assert not dialog.start_button.isEnabled()
        dialog.task.progress.connect(lambda text, _d, _t: texts.append(text))
    result = ended.args[0]
    assert not result.stopped and len(result.points) == 4
    assert "CNN, 80 images, epoch 1 of 1" in texts
    # Each point appeared as its training ended, not all at the end.
    assert drawn[:4] == [1, 2, 3, 4]
    assert _chart_points(dialog) == {
        label: [(float(p.size), pytest.approx(p.test_accuracy)) for p in result.points
                if p.label == label] for label in ("Dense", "CNN")}
    assert dialog.progress.format() == "Done"
    assert "The CNN was ahead at" in dialog.status.text() and result.tag in dialog.status.text()

    qtbot.waitUntil(lambda: len(view.shown_ids()) == 4, timeout=10_000)
    with RunStore(store_path) as store:
        runs = store.runs(tag=result.tag)
    assert sorted(view.shown_ids()) == sorted(r.id for r in runs)
    assert sorted(r.train_count for r in runs) == [40, 40, 80, 80]
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.start_button.isEnabled() and dialog.save_button.isEnabled()

    dialog.save_chart(tmp_path / "chart.svg")
    assert "<svg" in (tmp_path / "chart.svg").read_text(encoding="utf-8")[:500]


def test_stop_ends_the_study_and_keeps_the_points_so_far(qtbot, tmp_path: Path) -> None:
    dialog = DataSizeDialog(None, tmp_path / "runs.sqlite", sizes=[40, 80, 120], epochs=3)
    qtbot.addWidget(dialog, before_close_func=lambda d: d.shutdown())
    dialog.show()
    dialog.runs_recorded.connect(dialog.stop)          # stop once the first point is in
    with qtbot.waitSignal(dialog.ended, timeout=STUDY_TIMEOUT_MS) as ended:
        dialog.start()
    result = ended.args[0]
    assert result.stopped and 1 <= len(result.points) < 6
    assert dialog.progress.format().startswith("Stopped after ")
    assert sum(len(p) for p in _chart_points(dialog).values()) == len(result.points)
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()
    assert dialog.status.text().startswith("Stopped in ")
