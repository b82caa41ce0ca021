"""Live loss and accuracy charts (matplotlib), redrawn at most ~10 times per second.

matplotlib is imported when the first chart is made, not when the app starts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.core.training_history import TrainingHistory

REDRAW_INTERVAL_MS = 100  # at most ~10 redraws per second, whatever the batch rate
TRAIN_COLOUR = "#1a73e8"
VAL_COLOUR = "#e8710a"


class TrainingCharts(QWidget):
    """Two panels, loss and accuracy: the per-batch smoothed line and per-epoch points."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 2.6), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(160)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._loss_axes, self._acc_axes = self.figure.subplots(1, 2)
        self._history = TrainingHistory()
        self._dirty = False
        self.redraw_count = 0  # for the benchmark and tests: how often we really drew
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._redraw_if_dirty)
        self._timer.start()
        self._draw()

    def set_history(self, history: TrainingHistory) -> None:
        """Show this history (kept by reference: call `refresh` after adding to it)."""
        self._history = history
        self.refresh()

    def refresh(self) -> None:
        """Note that the history grew; the next timer tick redraws."""
        self._dirty = True

    def redraw_now(self) -> None:
        self._dirty = False
        self._draw()

    def _redraw_if_dirty(self) -> None:
        if self._dirty and self.isVisible():
            self.redraw_now()

    def _draw(self) -> None:
        history = self._history
        for axes, key, title in ((self._loss_axes, "loss", "Loss"),
                                 (self._acc_axes, "accuracy", "Accuracy")):
            axes.clear()
            axes.set_title(title, fontsize=10)
            axes.set_xlabel("epoch", fontsize=9)
            axes.tick_params(labelsize=8)
            axes.grid(True, alpha=0.3)
            xs, ys = history.smoothed_batches(key)
            if xs:
                axes.plot(xs, ys, color=TRAIN_COLOUR, linewidth=1.2, alpha=0.55,
                          label="training (per batch, smoothed)")
            for series, colour, label in ((key, TRAIN_COLOUR, "training (epoch)"),
                                          (f"val_{key}", VAL_COLOUR, "validation (epoch)")):
                ex, ey = history.series(series)
                if ex:
                    axes.plot(ex, ey, color=colour, marker="o", markersize=4, linewidth=1.4,
                              linestyle="-" if series.startswith("val_") else "none", label=label)
            if key == "accuracy":
                axes.set_ylim(-0.02, 1.02)
            if xs or history.epochs:
                axes.set_xlim(left=0)
                axes.legend(fontsize=7, loc="lower right" if key == "accuracy" else "upper right")
            else:
                axes.text(0.5, 0.5, "Press Start to train", transform=axes.transAxes,
                          ha="center", va="center", color="#888888", fontsize=9)
        self.canvas.draw_idle()
        self.redraw_count += 1

    def save_image(self, path: str | Path) -> None:
        """Save the charts as PNG or SVG (by the file's extension)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            raise CnnvizError("Charts can be saved as .png or .svg files.")
        self.redraw_now()
        try:
            self.figure.savefig(path, dpi=150)
        except OSError as exc:
            raise CnnvizError(f"Could not write {path}: {exc.strerror or exc}") from exc
