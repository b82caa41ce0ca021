"""The main window as the Train and Explain tests use it: real widgets, dialogs answered."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSettings

from cnnviz.core.model.spec import LayerSpec, ModelSpec
from cnnviz.ui.common import dialogs
from cnnviz.ui import main_window
from cnnviz.ui.main_window import MainWindow


def tiny_spec() -> ModelSpec:
    """A small CNN for 28×28×1 digits (a few thousand parameters, trains in a second)."""
    return ModelSpec(name="tiny", input_shape=[28, 28, 1], layers=[
        LayerSpec("Conv2D", params={"filters": 4, "kernel_size": [3, 3], "activation": "relu"}),
        LayerSpec("MaxPooling2D", params={"pool_size": [4, 4]}),
        LayerSpec("Flatten"),
        LayerSpec("Dense", params={"units": 10, "activation": "softmax"}),
    ])


def open_main_window(qtbot, tmp_path, monkeypatch, train_limit: int) -> MainWindow:
    """A shown MainWindow with its own settings file, dialogs answered (failures collected in
    `win.failures`), and at most `train_limit` training images so runs take a second or two."""
    ini = tmp_path / "settings.ini"
    monkeypatch.setattr(main_window, "settings",
                        lambda: QSettings(str(ini), QSettings.Format.IniFormat))
    failures: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda _p, _t, text: failures.append(text))
    monkeypatch.setattr(dialogs, "show_failure",
                        lambda _p, _t, text, details="": failures.append(text))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda _p, _name: "discard")
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *_a: True)
    monkeypatch.setattr(dialogs, "ask_to_confirm", lambda *_a: True)
    win = MainWindow()
    win.failures = failures
    chooser = win.training.chooser
    original_options = chooser.options
    monkeypatch.setattr(chooser, "options",
                        lambda: dataclasses.replace(original_options(), limit=train_limit))

    def before_close(w):
        if w.explain is not None:
            w.explain.shutdown()
        w.training.shutdown()
        w.document.mark_saved(w.document.path)

    qtbot.addWidget(win, before_close_func=before_close)
    return win


def shown_main_window(qtbot, tmp_path, monkeypatch, train_limit: int,
                      size: tuple[int, int] | None = None) -> MainWindow:
    """open_main_window, resized (if asked) and shown on screen."""
    win = open_main_window(qtbot, tmp_path, monkeypatch, train_limit)
    if size is not None:
        win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    return win


def show_step_view(qtbot, view, steps, size: tuple[int, int] = (1000, 600)):
    """A ConvStepView / PoolStepView showing `steps`, sized and on screen."""
    qtbot.addWidget(view)
    view.resize(*size)
    view.set_steps(steps)
    view.show()
    qtbot.waitExposed(view)
    return view
