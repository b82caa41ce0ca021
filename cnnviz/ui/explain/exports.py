"""Saving what the Explain view shows: the current page as PNG, the step animation as GIF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from cnnviz.core.errors import CnnvizError
from cnnviz.ui.common import dialogs

PNG_FILTER = "PNG image (*.png)"
GIF_FILTER = "Animated GIF (*.gif)"


def save_png_dialog(panel: Any) -> None:
    """Ask where, then save the page on show (step view, feature maps or filters) as PNG."""
    if panel.views.steps is None:
        return
    name = f"{panel.views.steps.name}_{panel.pages.tabText(panel.pages.currentIndex())}"
    path = dialogs.get_save_path(panel, "Save the view as PNG",
                                 name.replace(" ", "_").lower() + ".png", PNG_FILTER)
    if path:
        save_png(panel, path)


def save_png(panel: Any, path: str) -> bool:
    """Save the page on show; a failure is a dialog. Returns whether the file was written."""
    from cnnviz.ui.explain.animation_export import save_view_png

    try:
        save_view_png(panel.pages.currentWidget(), path)
    except CnnvizError as exc:
        dialogs.show_error(panel, "Cannot save the image", str(exc))
        return False
    panel._show_banner(busy=f"Saved {Path(path).name}.")
    return True


def save_gif_dialog(panel: Any) -> None:
    """Ask where, then save the convolution or pooling animation as GIF."""
    if not panel.views.animated:
        return
    path = dialogs.get_save_path(panel, "Save the animation as GIF",
                                 f"{panel.views.steps.name}_animation.gif", GIF_FILTER)
    if path:
        save_gif(panel, path)


def save_gif(panel: Any, path: str) -> bool:
    """Draw every step (at most 400, evenly chosen) into a GIF with a cancellable progress
    dialog, then put the playback back where it was. Returns whether the file was written."""
    from PySide6.QtWidgets import QApplication, QProgressDialog

    from cnnviz.ui.explain.animation_export import save_animation_gif

    progress = QProgressDialog("Drawing the animation…", "Cancel", 0, 100, panel)
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(400)

    def report(done: int, total: int) -> None:
        progress.setMaximum(max(1, total))
        progress.setValue(done)
        QApplication.processEvents()
        if progress.wasCanceled():
            raise CnnvizError("Saving the animation was cancelled.")

    view = panel.views.current_view()
    position = panel.views.playback.position()
    panel.views.playback.pause()
    try:
        save_animation_gif(view, path, steps_per_second=panel.views.playback.speed(),
                           progress=report)
    except CnnvizError as exc:
        dialogs.show_error(panel, "Cannot save the animation", str(exc))
        return False
    finally:
        progress.close()
        panel.views.playback.set_position(position, force=True)
    panel._show_banner(busy=f"Saved {Path(path).name}.")
    return True
