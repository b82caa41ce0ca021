"""The views share the workspace and never hold each other."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from tests.ui.app_window import shown_main_window

TRAIN_LIMIT = 256


def _panels(window) -> dict[str, QWidget]:
    window.ensure_explain()
    return {"builder": window.builder, "training": window.training,
            "explain": window.explain, "models": window.models}


def test_no_panel_holds_another_panel(qtbot, tmp_path, monkeypatch):
    window = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)
    panels = _panels(window)
    for name, panel in panels.items():
        others = [other for other_name, other in panels.items() if other_name != name]
        held = [key for key, value in vars(panel).items()
                if any(value is other for other in others)]
        assert held == [], f"{name} holds another panel in {held}"


def test_data_loaded_in_the_train_view_reaches_the_explain_view_through_the_workspace(
        qtbot, tmp_path, monkeypatch):
    window = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)
    explain = window.ensure_explain()
    with qtbot.waitSignal(window.workspace.data.changed, timeout=60_000,
                          check_params_cb=lambda loaded: loaded is not None):
        window.workspace.data.request_source("mnist-sample")
    assert window.training.data is window.workspace.data.loaded
    dataset = window.workspace.data.dataset
    assert explain.picker.count_label.text() == f"of {dataset.test.count:,}"
    assert explain.views.class_names == list(dataset.class_names)


def test_the_explain_views_train_it_link_shows_the_train_view(qtbot, tmp_path, monkeypatch):
    window = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)
    window.show_view("explain")
    assert window.tabs.currentIndex() == 2
    window.explain.banner.linkActivated.emit("train")
    assert window.current_view() is window.training


def test_the_input_being_explained_is_in_the_workspace(qtbot, tmp_path, monkeypatch):
    window = shown_main_window(qtbot, tmp_path, monkeypatch, TRAIN_LIMIT)
    explained = window.workspace.explained
    window.show_view("explain")
    qtbot.waitUntil(lambda: explained.image is not None, timeout=60_000)
    dataset = window.workspace.data.dataset
    image, label = dataset.test.images([0])[0], int(dataset.test.labels()[0])
    assert explained.image.shape == image.shape and explained.label == label
    assert explained.caption.startswith("Test image #0 of")
