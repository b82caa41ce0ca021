"""The "From scratch vs transfer" window, opened from the Experiments view and run for real on
the bundled digit model and mnist-sample (100 examples, 1–2 epochs): the offline note, the
chart growing epoch by epoch, both runs in the table under one tag, saving, stopping."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from cnnviz.core.experiments.run_store import RunStore
from cnnviz.core.model.presets import preset_spec
from cnnviz.ui.experiments.experiments_panel import ExperimentsView
from cnnviz.ui.experiments.scratch_transfer_dialog import ScratchTransferDialog
from cnnviz.workspace import Workspace

PAIR_TIMEOUT_MS = 120_000
LABELS = ("From scratch", "Transfer (frozen base)")


def test_the_button_runs_the_pair_drawing_epoch_by_epoch_into_the_runs_table(
        qtbot, tmp_path: Path) -> None:
    store_path = tmp_path / "runs.sqlite"
    ini = tmp_path / "view.ini"
    view = ExperimentsView(Workspace(preset_spec("mnist_cnn")),
                           lambda: QSettings(str(ini), QSettings.Format.IniFormat), store_path)
    qtbot.addWidget(view, before_close_func=lambda v: v.shutdown())
    view.resize(1280, 720)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=10_000)

    qtbot.mouseClick(view.pair_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(ScratchTransferDialog)
    assert dialog is not None and dialog.isVisible() and dialog.store_path == store_path
    # Offline, the window says the digits stand in for the clothes of the real story.
    assert "Offline version" in dialog.note.text() and "600" in dialog.note.text()
    dialog.data_box.setCurrentText("fashion_mnist")
    assert "recognise clothes" in dialog.note.text()
    dialog.data_box.setCurrentText("mnist-sample")
    assert dialog.chart.drawn_lines() == {LABELS[0]: [], LABELS[1]: []}
    dialog.limit_box.setValue(100)
    dialog.epochs_box.setValue(2)

    drawn: list[int] = []
    dialog.chart_grew.connect(lambda: drawn.append(
        sum(len(p) for p in dialog.chart.drawn_lines().values())))
    with qtbot.waitSignal(dialog.ended, timeout=PAIR_TIMEOUT_MS) as ended:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.running and dialog.stop_button.isEnabled()
        assert not dialog.start_button.isEnabled() and not dialog.base_box.isEnabled()
    result = ended.args[0]
    assert not result.stopped
    # The chart grew as epochs ended, not all at once at the end.
    assert drawn == sorted(drawn) and drawn[-1] == 4 and len({1, 2, 3} & set(drawn)) >= 2
    lines = dialog.chart.drawn_lines()
    for kind, label in zip(("scratch", "transfer"), LABELS):
        run = result.runs[kind]
        assert lines[label] == [(float(i + 1), pytest.approx(v))
                                for i, v in enumerate(run.val_accuracy) if not math.isnan(v)]
        assert len(lines[label]) == 2
    assert dialog.chart.written_texts() == [
        f"test\n{result.runs[k].test_accuracy:.1%}" for k in ("scratch", "transfer")]
    assert dialog.progress.format() == "Done"
    assert result.tag in dialog.status.text() and "points ahead" in dialog.status.text() \
        or "Both reach" in dialog.status.text()

    qtbot.waitUntil(lambda: len(view.shown_ids()) == 2, timeout=10_000)
    with RunStore(store_path) as store:
        runs = store.runs(tag=result.tag)
    assert sorted(view.shown_ids()) == sorted(r.id for r in runs)
    assert sorted(r.settings["kind"] for r in runs) == ["scratch", "transfer"]
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.start_button.isEnabled() and dialog.save_button.isEnabled()
    dialog.save_chart(tmp_path / "chart.svg")
    assert "<svg" in (tmp_path / "chart.svg").read_text(encoding="utf-8")[:500]


def test_stop_ends_the_pair_and_keeps_what_is_drawn(qtbot, tmp_path: Path) -> None:
    dialog = ScratchTransferDialog(None, tmp_path / "runs.sqlite", epochs=3, limit=100)
    qtbot.addWidget(dialog, before_close_func=lambda d: d.shutdown())
    dialog.show()
    stopped: list[bool] = []

    def stop_after_an_epoch() -> None:
        if not stopped and any(dialog.chart.drawn_lines().values()):
            stopped.append(True)
            dialog.stop()

    with qtbot.waitSignal(dialog.ended, timeout=PAIR_TIMEOUT_MS) as ended:
        dialog.chart_grew.connect(stop_after_an_epoch)
        dialog.start()
    result = ended.args[0]
    assert result.stopped and "transfer" not in result.runs
    assert dialog.progress.format() == "Stopped after 0 of 2 runs"
    assert 1 <= len(dialog.chart.drawn_lines()[LABELS[0]]) < 3
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.start_button.isEnabled() and not dialog.stop_button.isEnabled()
    assert dialog.status.text().startswith("Stopped in ")


def test_a_missing_base_file_is_said_in_the_window(qtbot, tmp_path: Path) -> None:
    dialog = ScratchTransferDialog(None, tmp_path / "runs.sqlite", epochs=1, limit=100)
    qtbot.addWidget(dialog, before_close_func=lambda d: d.shutdown())
    dialog.set_base(str(tmp_path / "gone.keras"))
    assert dialog.base_box.currentText() == "gone.keras"
    with qtbot.waitSignal(dialog.ended, timeout=PAIR_TIMEOUT_MS) as ended:
        dialog.start()
    assert ended.args[0] is None and dialog.progress.format() == "Failed"
    assert "gone.keras" in dialog.status.text() and "Traceback" not in dialog.status.text()
    assert not (tmp_path / "runs.sqlite").exists()
