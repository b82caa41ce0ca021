"""The workspace model without Qt: undo history, saved state, data, run and opened model."""

from __future__ import annotations

import sys

from cnnviz.core.model.presets import preset_spec
from cnnviz.core.model.spec_edits import set_param
from cnnviz.workspace import ExampleRef, Workspace


def _edited(spec, layer: int, name: str, value):
    return set_param(spec, layer, name, value)


def test_edits_undo_redo_and_the_saved_state(tmp_path):
    workspace = Workspace(preset_spec("mnist_cnn"))
    document = workspace.document
    seen: list[str] = []
    document.changed.connect(lambda: seen.append("changed"))
    document.selection_hint.connect(lambda row: seen.append(f"select {row}"))
    original = document.spec.copy()

    document.apply(_edited(document.spec, 0, "filters", 8), "Set filters", select=1, current=0)
    assert document.spec.layers[0].params["filters"] == 8
    assert document.modified and document.can_undo and not document.can_redo
    assert document.undo_text == "Set filters"
    assert document.report.layers[0].params == 8 * 9 + 8     # the analysis follows the spec

    document.undo()
    assert document.spec == original and not document.modified and document.can_redo
    document.redo()
    assert document.spec.layers[0].params["filters"] == 8
    document.mark_saved(tmp_path / "m.json")
    assert not document.modified and document.path == tmp_path / "m.json"
    document.undo()
    assert document.modified                      # back before the save
    assert seen.count("changed") == 4 and "select 1" in seen


def test_typing_in_one_field_undoes_as_one_step_until_focus_leaves():
    document = Workspace(preset_spec("mnist_cnn")).document
    original = document.spec.copy()
    for value in (1, 16):
        document.apply(_edited(document.spec, 0, "filters", value), "Set filters", merge_key="f")
    document.break_merge()
    document.apply(_edited(document.spec, 0, "filters", 20), "Set filters", merge_key="f")
    document.undo()
    assert document.spec.layers[0].params["filters"] == 16
    document.undo()
    assert document.spec == original and not document.can_undo


def test_an_edit_after_undoing_past_the_save_leaves_no_clean_state(tmp_path):
    document = Workspace(preset_spec("mnist_cnn")).document
    document.apply(_edited(document.spec, 0, "filters", 8), "a")
    document.mark_saved(tmp_path / "m.json")
    document.undo()
    document.apply(_edited(document.spec, 0, "filters", 9), "b")
    assert document.modified and not document.can_redo
    document.undo()
    assert document.modified      # the saved spec (8 filters) is gone from the history


def test_reset_starts_a_fresh_history_and_announces_the_path(tmp_path):
    document = Workspace(preset_spec("mnist_cnn")).document
    document.apply(_edited(document.spec, 0, "filters", 8), "a")
    paths: list[object] = []
    document.path_changed.connect(lambda: paths.append(document.path))
    document.reset(preset_spec("lenet5"), tmp_path / "l.json")
    assert not document.can_undo and not document.modified
    assert document.spec.name == preset_spec("lenet5").name
    assert paths == [tmp_path / "l.json"]


def test_run_data_and_opened_model_signal_their_changes():
    workspace = Workspace(preset_spec("mnist_cnn"))
    events: list[object] = []
    workspace.run.started.connect(lambda m: events.append(("started", m)))
    workspace.run.finished.connect(lambda m: events.append(("finished", m)))
    workspace.data.source_requested.connect(lambda s: events.append(("source", s)))
    workspace.opened.explain_requested.connect(lambda layer, ex: events.append(("explain", layer, ex)))

    workspace.run.begin()
    assert workspace.run.running and workspace.run.live_model is None
    workspace.run.model_ready("model")
    assert workspace.run.live_model == "model"
    workspace.run.observer = lambda model, epoch, logs: (model, epoch)
    assert workspace.run.call_observer("model", 2, {}) == ("model", 2)
    workspace.run.end("model")
    assert not workspace.run.running and workspace.run.model == "model"
    assert workspace.run.live_model is None

    workspace.data.request_source("mnist-sample")
    workspace.opened.request_explain("conv2d")          # nothing opened: no request
    workspace.opened.set_opened("opened", "info")
    workspace.opened.request_explain("conv2d", ExampleRef(None, "test", 3))
    assert events == [("started", "model"), ("finished", "model"), ("source", "mnist-sample"),
                      ("explain", "conv2d", ExampleRef(None, "test", 3))]


def test_the_workspace_needs_neither_qt_nor_tensorflow():
    import subprocess

    code = ("import sys; import cnnviz.workspace; "
            "bad = [m for m in ('PySide6', 'tensorflow', 'keras') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
