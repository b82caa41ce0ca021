"""The Experiments view on a real run store (a SQLite file in tmp_path written through the
real RunStore): the table, sorting and filtering, curves, notes and tags, delete and undo,
exports, a damaged or newer store, remembered columns, refresh after a run."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings, Qt

from cnnviz.core.experiments.run_store import RunStart, RunStore
from cnnviz.core.model.presets import preset_spec
from cnnviz.ui.common import dialogs
from cnnviz.ui.experiments.experiments_panel import ExperimentsView
from cnnviz.ui.experiments.run_table import RUN_ID_ROLE
from cnnviz.workspace import Workspace
from tests.ui.experiments.run_fixtures import write_runs


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "runs.sqlite"
    write_runs(path, 12, epochs=6)
    return path


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, _t, text: shown.append(text))
    return shown


def open_view(qtbot, path, tmp_path, workspace=None):
    ini = tmp_path / "view.ini"
    view = ExperimentsView(workspace or Workspace(preset_spec("mnist_cnn")),
                           lambda: QSettings(str(ini), QSettings.Format.IniFormat), path)
    qtbot.addWidget(view, before_close_func=lambda v: v.shutdown())
    view.resize(1280, 720)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=10_000)
    return view


def column_texts(view, key):
    column = view.model.column_of(key)
    return [view.proxy.index(row, column).data() for row in range(view.proxy.rowCount())]


def test_the_table_shows_every_run_newest_first_and_marks_an_unfinished_one(qtbot, tmp_path,
                                                                             store_path):
    # A process that starts a run and dies without ending it: its run is "unfinished".
    script = ("import sys; from cnnviz.core.experiments.run_store import RunStore, RunStart;"
              "RunStore(sys.argv[1]).start_run(RunStart('killed', '{}', 10, 'mnist-sample', "
              "100, 10, 10))")
    subprocess.run([sys.executable, "-c", script, str(store_path)], check=True)
    view = open_view(qtbot, store_path, tmp_path)
    with RunStore(store_path) as store:
        expected = [r.id for r in store.runs()]
    assert view.shown_ids() == expected == sorted(expected, reverse=True)
    assert view.count_label.text() == "13 runs"
    names = column_texts(view, "name")
    statuses = column_texts(view, "status")
    assert names[0] == "killed" and statuses[0] == "⚠ unfinished"
    assert set(statuses[1:]) == {"finished"}
    assert view.problem is None and not view.message.isVisible()


def test_sorting_by_a_setting_and_filtering_as_you_type(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    rate = view.model.column_of("setting:learning_rate")
    view.table.sortByColumn(rate, Qt.SortOrder.AscendingOrder)
    rates = [view.model.records[view.proxy.mapToSource(view.proxy.index(r, 0)).row()]
             .settings["learning_rate"] for r in range(view.proxy.rowCount())]
    assert rates == sorted(rates) and rates[0] < rates[-1]
    # Numbers sort as numbers, not as text ("0.0003" < "0.001" < "0.003" < "0.01").
    assert column_texts(view, "setting:learning_rate")[0] == "0.0003"

    qtbot.keyClicks(view.filter_edit, "adam")
    names = column_texts(view, "name")
    assert names and all("adam" in n for n in names)
    assert len(names) == 4 and view.count_label.text() == "4 of 12 runs"
    qtbot.keyClicks(view.filter_edit, " n300")      # every word must match
    assert all("adam" in n and "n300" in n for n in column_texts(view, "name"))
    view.filter_edit.clear()
    qtbot.keyClicks(view.filter_edit, "BASELINE")   # tags, any case
    assert view.proxy.rowCount() == 3
    assert all("baseline" in t for t in column_texts(view, "tags"))


def test_the_curves_of_two_selected_runs_equal_their_histories(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    first, second = view.shown_ids()[3], view.shown_ids()[7]
    view.select_ids([first, second])
    assert view.selected_ids() == [first, second]
    with RunStore(store_path) as store:
        histories = {i: store.get(i).history for i in (first, second)}
    colours = set()
    for run_id, history in histories.items():
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            line = view.curves.lines[(run_id, key)]
            assert list(line.get_xdata()) == list(range(1, len(history) + 1))
            assert list(line.get_ydata()) == pytest.approx([row[key] for row in history])
            assert line.get_linestyle() == ("--" if key.startswith("val_") else "-")
        colours.add(view.curves.lines[(run_id, "loss")].get_color())
        assert view.curves.lines[(run_id, "val_loss")].get_color() == \
            view.curves.lines[(run_id, "loss")].get_color()
    assert len(colours) == 2          # one colour per run
    legend = view.curves.legend_texts()
    assert any(text.startswith(f"#{first} ") for text in legend)
    assert any(text.startswith(f"#{second} ") for text in legend)
    assert "training" in legend and "validation" in legend


def test_the_setting_chart_puts_each_run_at_its_setting_and_metric(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    view.charts.setCurrentWidget(view.setting_chart)
    chart = view.setting_chart
    chart.setting_combo.setCurrentIndex(chart.setting_combo.findData("setting:learning_rate"))
    chart.metric_combo.setCurrentIndex(chart.metric_combo.findData("test_accuracy"))
    with RunStore(store_path) as store:
        expected = sorted((r.settings["learning_rate"], r.final["test_accuracy"])
                          for r in store.runs())
    points = sorted(chart.points)
    assert [x for x, _ in points] == [x for x, _ in expected]
    assert [y for _, y in points] == pytest.approx([y for _, y in expected])
    assert chart.log_x                  # the learning rate on a log axis
    chart.setting_combo.setCurrentIndex(chart.setting_combo.findData("fact:train_count"))
    assert not chart.log_x and len(chart.points) == 12


def test_delete_then_undo_with_the_bar_and_with_ctrl_z(qtbot, tmp_path, store_path, errors):
    view = open_view(qtbot, store_path, tmp_path)
    doomed = view.shown_ids()[:2]
    view.select_ids(doomed)
    view.delete_button.click()
    assert not set(doomed) & set(view.shown_ids()) and view.proxy.rowCount() == 10
    with RunStore(store_path) as store:
        assert len(store.runs()) == 10
    assert view.undo_bar.isVisible() and "2 runs" in view.undo_label.text()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.undo_button.click()
    assert view.proxy.rowCount() == 12 and view.selected_ids() == doomed
    assert not view.undo_bar.isVisible()

    # Del on the table, Ctrl+Z brings it back (the window's Ctrl+Z is the builder's undo).
    view.select_ids([doomed[0]])
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert doomed[0] not in view.shown_ids()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doomed[0] in view.shown_ids()
    with RunStore(store_path) as store:
        assert len(store.runs()) == 12
    assert errors == []


def test_notes_and_tags_are_saved_to_the_store(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    run_id = view.shown_ids()[2]
    view.select_ids([run_id])
    qtbot.keyClicks(view.details.notes, "dropout helped")
    view.details.tags.clear()
    qtbot.keyClicks(view.details.tags, "dropout, best")
    qtbot.keyClick(view.details.tags, Qt.Key.Key_Return)
    view.select_ids([view.shown_ids()[0]])   # moving on saves the typed notes at once
    with RunStore(store_path) as store:
        record = store.get(run_id)
    assert record.notes == "dropout helped"
    assert record.tags == ["best", "dropout"]
    assert column_texts(view, "tags")[2] == "best dropout"


def test_export_writes_the_shown_or_selected_runs_as_csv(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    qtbot.keyClicks(view.filter_edit, "sgd")
    target = tmp_path / "out.csv"
    assert view.export_csv(target) == 4
    with open(target, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["id"]) for r in rows] == view.shown_ids()
    assert all(r["optimizer"] == "sgd" for r in rows)
    assert "final_test_accuracy" in rows[0] and rows[0]["learning_rate"]
    view.select_ids(view.shown_ids()[:2])
    assert view.export_csv(target) == 2


def test_the_chart_is_saved_as_png_and_svg(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    view.select_ids(view.shown_ids()[:2])
    view.curves.save_image(tmp_path / "curves.png")
    view.setting_chart.save_image(tmp_path / "setting.svg")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "setting.svg").read_text()


@pytest.mark.parametrize("kind", ["damaged", "newer"])
def test_a_damaged_or_newer_store_shows_its_message_and_is_left_alone(qtbot, tmp_path, kind):
    path = tmp_path / "runs.sqlite"
    if kind == "damaged":
        path.write_bytes(b"this is not a database" * 100)
    else:
        write_runs(path, 2, epochs=2)
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = path.read_bytes()
    view = open_view(qtbot, path, tmp_path)
    assert view.message.isVisible() and view.proxy.rowCount() == 0
    expected = "damaged" if kind == "damaged" else "newer cnnviz"
    assert expected in view.message.text() and "Traceback" not in view.message.text()
    assert not view.delete_button.isEnabled() and not view.export_button.isEnabled()
    assert path.read_bytes() == before


def test_column_choices_are_remembered(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    menu = view.columns_menu()
    started = next(a for a in menu.actions() if a.text() == "Started")
    started.setChecked(False)                       # as a click in the menu does
    assert view.table.isColumnHidden(view.model.column_of("started"))
    view.set_column_shown("sweep", True)
    again = open_view(qtbot, store_path, tmp_path)
    assert again.table.isColumnHidden(again.model.column_of("started"))
    assert not again.table.isColumnHidden(again.model.column_of("sweep"))
    assert not again.table.isColumnHidden(again.model.column_of("name"))


def test_the_table_reloads_when_a_run_ends_and_on_f5(qtbot, tmp_path, store_path):
    workspace = Workspace(preset_spec("mnist_cnn"))
    view = open_view(qtbot, store_path, tmp_path, workspace)
    with RunStore(store_path) as store:
        new = store.start_run(RunStart("fresh run", "{}", 10, "mnist-sample", 100, 10, 10))
        store.finish_run(new, "finished", {"accuracy": 0.5})
    workspace.run.begin()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        workspace.run.end(None)          # a failed run is recorded too
    assert view.shown_ids()[0] == new
    with RunStore(store_path) as store:
        store.delete([new])
    view.table.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.table, Qt.Key.Key_F5)
    assert new not in view.shown_ids()


def test_run_ids_in_the_table_follow_sorting(qtbot, tmp_path, store_path):
    view = open_view(qtbot, store_path, tmp_path)
    view.table.sortByColumn(view.model.column_of("id"), Qt.SortOrder.AscendingOrder)
    ids = [view.proxy.index(r, 0).data(RUN_ID_ROLE) for r in range(view.proxy.rowCount())]
    assert ids == sorted(ids) and len(ids) == 12
