"""Saving what the Explain view shows: the current page as PNG, the step animation as GIF."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs

PNG_FILTER = "PNG image (*.png)"
GIF_FILTER = "Animated GIF (*.gif)"


class ViewExporter:
    """Saves the Explain view's page on show as PNG and its step animation as GIF.

    views: the StepViews of the "Step by step" page; pages: the tabs whose current page a PNG
    shows; say: shows a short status line (the file saved).
    """

    def __init__(self, parent: QWidget, views: Any, pages: QTabWidget,
                 say: Callable[[str], None]) -> None:
        self._parent = parent
        self._views = views
        self._pages = pages
        self._say = say

    def save_png_dialog(self) -> None:
        """Ask where, then save the page on show (step view, feature maps or filters) as PNG."""
        steps = self._views.steps
        if steps is None:
            return
        name = f"{steps.name}_{self._pages.tabText(self._pages.currentIndex())}"
        path = dialogs.get_save_path(self._parent, "Save the view as PNG",
                                     name.replace(" ", "_").lower() + ".png", PNG_FILTER)
        if path:
            self.save_png(path)

    def save_png(self, path: str) -> bool:
        """Save the page on show; a failure is a dialog. Returns whether the file was written."""
        from cnnviz.ui.explain.animation_export import save_view_png

        try:
            save_view_png(self._pages.currentWidget(), path)
        except CnnvizError as exc:
            dialogs.show_error(self._parent, "Cannot save the image", str(exc))
            return False
        self._say(f"Saved {Path(path).name}.")
        return True

    def save_gif_dialog(self) -> None:
        """Ask where, then save the convolution or pooling animation as GIF."""
        if not self._views.animated:
            return
        path = dialogs.get_save_path(self._parent, "Save the animation as GIF",
                                     f"{self._views.steps.name}_animation.gif", GIF_FILTER)
        if path:
            self.save_gif(path)

    def save_gif(self, path: str) -> bool:
        """Draw every step (at most 400, evenly chosen) into a GIF with a cancellable progress
        dialog, then put the playback back where it was. Returns whether the file was written."""
        from PySide6.QtWidgets import QApplication, QProgressDialog

        from cnnviz.ui.explain.animation_export import save_animation_gif

        progress = QProgressDialog("Drawing the animation…", "Cancel", 0, 100, self._parent)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(400)

        def report(done: int, total: int) -> None:
            progress.setMaximum(max(1, total))
            progress.setValue(done)
            QApplication.processEvents()
            if progress.wasCanceled():
                raise CnnvizError("Saving the animation was cancelled.")

        playback = self._views.playback
        view = self._views.current_view()
        position = playback.position()
        playback.pause()
        try:
            save_animation_gif(view, path, steps_per_second=playback.speed(), progress=report)
        except CnnvizError as exc:
            dialogs.show_error(self._parent, "Cannot save the animation", str(exc))
            return False
        finally:
            progress.close()
            playback.set_position(position, force=True)
        self._say(f"Saved {Path(path).name}.")
        return True
