"""The Help menu's dialogs: keyboard shortcuts and About."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from cnnviz import __version__


def show_shortcuts(parent: QWidget) -> None:
    """A table of the keyboard shortcuts, in a message box over `parent`."""
    QMessageBox.information(parent, "Keyboard shortcuts", (
        "<table cellpadding=3>"
        "<tr><td><b>Ctrl+Z</b> / <b>Ctrl+Shift+Z</b></td><td>Undo / redo</td></tr>"
        "<tr><td><b>Enter</b> in the palette</td><td>Add that layer below the selected one</td></tr>"
        "<tr><td><b>Delete</b></td><td>Delete the selected layer</td></tr>"
        "<tr><td><b>Ctrl+D</b></td><td>Duplicate the selected layer</td></tr>"
        "<tr><td><b>Ctrl+F</b></td><td>Freeze / unfreeze the selected layers (their weights are "
        "not trained)</td></tr>"
        "<tr><td><b>Alt+Up</b> / <b>Alt+Down</b></td><td>Move the selected layer</td></tr>"
        "<tr><td><b>Ctrl+N / O / S</b></td><td>New spec / open a spec or a saved model / save spec</td></tr>"
        "<tr><td><b>Ctrl+Shift+S</b></td><td>Save as</td></tr>"
        "<tr><td><b>Ctrl+E</b></td><td>Export Python code</td></tr>"
        "<tr><td><b>Ctrl+1</b> / <b>Ctrl+2</b> / <b>Ctrl+3</b> / <b>Ctrl+4</b> / <b>Ctrl+5</b></td>"
        "<td>Build / Train / Explain / Inspect / Experiments view</td></tr>"
        "<tr><td><b>Space</b>, <b>Left</b> / <b>Right</b>, <b>Home</b> / <b>End</b></td>"
        "<td>Explain: play or pause, step back / forward, first / last step</td></tr>"
        "<tr><td><b>F5</b> / <b>Del</b> / <b>Ctrl+Z</b></td><td>Experiments: refresh / delete the selected runs / undo the delete</td></tr>"
        "<tr><td><b>Ctrl+Left</b> / <b>Ctrl+Right</b></td><td>Explain: previous / next layer</td></tr>"
        "<tr><td><b>PageUp</b> / <b>PageDown</b></td><td>Explain: previous / next image</td></tr>"
        "<tr><td><b>F2</b></td><td>Explain: show or hide the words about the layer</td></tr>"
        "<tr><td><b>F5</b></td><td>Start training (or train more); on the Explain view, "
        "stay and watch it learn</td></tr>"
        "<tr><td><b>F6</b></td><td>Pause / resume training</td></tr>"
        "<tr><td><b>Shift+F5</b></td><td>Stop training (weights kept)</td></tr>"
        "<tr><td><b>F11</b> (<b>Esc</b> to leave)</td><td>Presentation mode: full screen, "
        "larger, thicker, stronger colours</td></tr>"
        "<tr><td><b>Ctrl+plus</b> / <b>Ctrl+minus</b> / <b>Ctrl+0</b></td>"
        "<td>Zoom in / out / back to the usual size (remembered)</td></tr>"
        "<tr><td><b>F9</b></td><td>Fold the side panels away, or bring them back</td></tr>"
        "</table>"))


def show_about(parent: QWidget) -> None:
    """The About box: version and what cnnviz is for."""
    QMessageBox.about(parent, "About cnnviz", (
        f"<b>cnnviz {__version__}</b><br>Build, train, explain and inspect convolutional "
        "neural networks on your own data."))
