"""Live loss and accuracy charts (matplotlib), cheap enough to update during training.

A full matplotlib redraw takes tens of milliseconds, which would make the window stutter
and steal time from training. So the axes, grid, labels and legends are drawn once into a
cached background, and each update only redraws the data lines on top of it (blitting,
about a millisecond). A full redraw happens only when the axes' limits must change or
the widget is resized. Updates come at most ~10 times per second. matplotlib is imported
when the first chart is made, not when the app starts.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.core.training.history import TrainingHistory

REDRAW_INTERVAL_MS = 200  # at most 5 updates per second: smooth to the eye, cheap for training
TRAIN_COLOUR = "#1a73e8"
VAL_COLOUR = "#e8710a"
MAX_LINE_POINTS = 600     # the smoothed per-batch line is thinned to this many points


def _thin(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    step = max(1, math.ceil(len(xs) / MAX_LINE_POINTS))
    if step == 1:
        return xs, ys
    return xs[::step] + xs[-1:], ys[::step] + ys[-1:]


class _Panel:
    """One axes (loss or accuracy) and its four data artists."""

    def __init__(self, axes, key: str, title: str) -> None:
        self.axes, self.key = axes, key
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("epoch", fontsize=9)
        axes.tick_params(labelsize=8)
        axes.grid(True, alpha=0.3)
        self.batch_line, = axes.plot([], [], color=TRAIN_COLOUR, linewidth=1.2, alpha=0.55,
                                     label="training (per batch, smoothed)", animated=True)
        self.train_points, = axes.plot([], [], color=TRAIN_COLOUR, marker="o", markersize=4,
                                       linestyle="none", label="training (epoch mean)", animated=True)
        self.val_line, = axes.plot([], [], color=VAL_COLOUR, marker="o", markersize=4,
                                   linewidth=1.4, label="validation (epoch)", animated=True)
        axes.legend(fontsize=7, loc="lower right" if key == "accuracy" else "upper right")
        self.hint = axes.text(0.5, 0.5, "Press Start to train", transform=axes.transAxes,
                              ha="center", va="center", color="#888888", fontsize=9)
        self.artists = (self.batch_line, self.train_points, self.val_line)

    def set_data(self, history: TrainingHistory) -> list[float]:
        """Put the history into the artists; returns every y value shown (for the limits)."""
        xs, ys = _thin(*history.smoothed_batches(self.key))
        self.batch_line.set_data(xs, ys)
        tx, ty = history.series(self.key)
        vx, vy = history.series(f"val_{self.key}")
        self.train_points.set_data(tx, ty)
        self.val_line.set_data(vx, vy)
        self.hint.set_visible(not xs and not tx)
        return [y for y in (*ys, *ty, *vy) if math.isfinite(y)]


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
        loss_axes, acc_axes = self.figure.subplots(1, 2)
        self._panels = (_Panel(loss_axes, "loss", "Loss"), _Panel(acc_axes, "accuracy", "Accuracy"))
        acc_axes.set_ylim(-0.02, 1.02)
        self._history = TrainingHistory()
        self._planned_epochs = 1
        self._backgrounds: list = []
        self._dirty = False
        self._laid_out_for: tuple[int, int] = (0, 0)
        self._relayout = True       # the next full draw recomputes the layout
        self.redraw_count = 0       # full redraws (axes, labels, everything)
        self.update_count = 0       # cheap data-only updates
        self.canvas.mpl_connect("draw_event", self._capture_backgrounds)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._update_if_dirty)
        self._timer.start()
        self._set_limits(force=True)

    # ------------------------------------------------------------------ data in

    def set_history(self, history: TrainingHistory) -> None:
        """Show this history (kept by reference: call `refresh` after adding to it)."""
        self._history = history
        self._set_limits(force=True)
        self.redraw_now()

    def set_planned_epochs(self, epochs: int) -> None:
        """The x axis runs to this epoch, so it need not move (and redraw) while training."""
        if epochs != self._planned_epochs:
            self._planned_epochs = max(1, epochs)
            self._set_limits(force=True)
            self.redraw_now()

    def refresh(self) -> None:
        """Note that the history grew; the next timer tick shows it."""
        self._dirty = True

    # ------------------------------------------------------------------ drawing

    def redraw_now(self) -> None:
        """A full redraw, at once (after training, before saving an image)."""
        self._dirty = False
        self._set_limits()
        for panel in self._panels:
            panel.set_data(self._history)
        self._full_draw()

    def _full_draw(self) -> None:
        # Constrained layout doubles the cost of a draw; the layout only changes with the
        # size or the tick labels, so it is worked out again only on those occasions.
        size = (self.canvas.width(), self.canvas.height())
        if size != self._laid_out_for or self._relayout:
            self.figure.set_layout_engine("constrained")
            self._laid_out_for, self._relayout = size, False
        self.canvas.draw()  # the draw_event handler captures the new backgrounds
        self.figure.set_layout_engine("none")
        self.redraw_count += 1

    def _capture_backgrounds(self, _event) -> None:
        # Called inside a full draw (possibly inside a paint): paint the data into the
        # buffer without blitting, the paint that follows the draw shows it.
        self._backgrounds = [self.canvas.copy_from_bbox(p.axes.bbox) for p in self._panels]
        for panel in self._panels:
            for artist in panel.artists:
                panel.axes.draw_artist(artist)

    def _draw_data(self) -> None:
        """Paint the data artists over the cached backgrounds and show just those areas."""
        if len(self._backgrounds) != len(self._panels):
            return
        for panel, background in zip(self._panels, self._backgrounds):
            self.canvas.restore_region(background)
            for artist in panel.artists:
                panel.axes.draw_artist(artist)
            self.canvas.blit(panel.axes.bbox)

    def _update_if_dirty(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        values = [panel.set_data(self._history) for panel in self._panels]
        if self._set_limits(values[0]) or any(p.hint.get_visible() for p in self._panels):
            self.redraw_now()
        else:
            self._draw_data()
            self.update_count += 1

    def _set_limits(self, loss_values: list[float] | None = None, force: bool = False) -> bool:
        """Fit the axes to the data; True if they changed (a full redraw is then needed)."""
        last_epoch = max(self._planned_epochs, self._history.epochs_done, 1)
        if self._history.batches:
            last_epoch = max(last_epoch, math.ceil(self._history.batches[-1].position))
        changed = False
        # A small margin on both sides, so the epoch points at the ends are not cut in half.
        x_range = (-0.03 * last_epoch, 1.03 * last_epoch)
        for panel in self._panels:
            if panel.axes.get_xlim() != x_range:
                panel.axes.set_xlim(*x_range)
                changed = True
        if loss_values is None:
            loss_values = self._panels[0].set_data(self._history)
        loss_axes = self._panels[0].axes
        top = loss_axes.get_ylim()[1]
        highest = max(loss_values, default=1.0)
        # Grow at once when a value would fall off the top; shrink only when the data has
        # fallen far below it, so the axis does not redraw at every batch.
        if highest > top or highest < 0.4 * top or force:
            new_top = max(1e-3, highest * 1.15)
            if math.floor(math.log10(new_top)) != math.floor(math.log10(max(top, 1e-9))):
                self._relayout = True  # tick labels such as "0.005" may need more room
            if new_top != top:
                loss_axes.set_ylim(0, new_top)
                changed = True
        return changed

    # ------------------------------------------------------------------ export

    def save_image(self, path: str | Path) -> None:
        """Save the charts as PNG or SVG (by the file's extension)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg"):
            raise CnnvizError("Charts can be saved as .png or .svg files.")
        self.redraw_now()
        artists = [a for p in self._panels for a in p.artists]
        for artist in artists:  # animated artists are left out of a normal draw
            artist.set_animated(False)
        try:
            self.figure.savefig(path, dpi=150)
        except OSError as exc:
            raise CnnvizError(f"Could not write {path}: {exc.strerror or exc}") from exc
        finally:
            for artist in artists:
                artist.set_animated(True)
            self.redraw_now()
