"""Starting the GUI: the QApplication, the main window, and the event loop.

TensorFlow is not imported before the window appears: it loads in a background thread
just after the first paint, so the window shows at once and the first model opened,
trained or explained does not wait for the import.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from cnnviz import __version__
from cnnviz.quiet import quiet_tensorflow


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (an existing one is reused, as in tests)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("cnnviz")
    app.setOrganizationName("cnnviz")
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")  # the same look on every platform, and in screenshots
    return app  # type: ignore[return-value]


def run_app(path: str | None = None, presentation: bool = False) -> int:
    """Show the main window (opening `path` if given; in presentation mode if asked) and run
    until it closes. Callers enter cnnviz.quiet.quiet_tensorflow first (the CLI does)."""
    app = create_app()
    from cnnviz.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if presentation:
        window.set_presentation(True)
    if path:
        window.open_path(path, confirmed=True)
    # After the first paint: TensorFlow loads while the user looks at the window.
    QTimer.singleShot(200, window.preload_tensorflow)
    return app.exec()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cnnviz-gui` launcher: `cnnviz-gui [--verbose] [--presentation]
    [FILE]` (no console window, so no argparse messages: unknown options are ignored)."""
    words = sys.argv[1:] if argv is None else argv
    files = [word for word in words if not word.startswith("-")]
    with quiet_tensorflow(verbose="--verbose" in words):
        return run_app(files[0] if files else None, presentation="--presentation" in words)
