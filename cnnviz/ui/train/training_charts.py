"""Live loss and accuracy charts (matplotlib), cheap enough to update during training,
readable from the back of a classroom, with a large readout of the current figures.

A full matplotlib redraw takes tens of milliseconds, which would make the window stutter
and steal time from training. So the axes, grid, labels and legends are drawn once into a
cached background, and each update only redraws the data lines on top of it (blitting,
about a millisecond). A full redraw happens only when the axes' limits must change, the
widget is resized or the zoom changes. Updates come at most ~5 times per second. matplotlib
is imported when the first chart is made, not when the app starts.

Training and validation differ in colour (Okabe–Ito blue and vermillion, safe for colour-blind
eyes), in line style (solid and dashed) and in marker (circle and square); text, lines and
markers follow the window's zoom. An epoch stopped part-way is a hollow marker where it
stopped, named in the legend and the readout, never a full epoch's point.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFontInfo, QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from cnnviz.core.errors import CnnvizError
from cnnviz.core.training.history import TrainingHistory
from cnnviz.ui.common.zoom import line_width, scaled, set_relative_font, watch_zoom

REDRAW_INTERVAL_MS = 200  # at most 5 updates per second: smooth to the eye, cheap for training
TRAIN_COLOUR = "#0072B2"  # Okabe–Ito blue
VAL_COLOUR = "#D55E00"    # Okabe–Ito vermillion
TRAIN_STYLE = "-"         # solid
VAL_STYLE = "--"          # dashed
TRAIN_MARKER = "o"
VAL_MARKER = "s"
FIGURE_DPI = 100
POINTS_PER_PIXEL = 72 / FIGURE_DPI   # matplotlib sizes are points; Qt's are pixels
TICK_SCALE, LABEL_SCALE, TITLE_SCALE, LEGEND_SCALE = 1.1, 1.1, 1.3, 1.0
READOUT_SCALE = 1.9       # the readout's numbers, times the window's font
MAX_LINE_POINTS = 600     # the smoothed per-batch line is thinned to this many points
NO_VALUE = "—"


def _thin(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    step = max(1, math.ceil(len(xs) / MAX_LINE_POINTS))
    if step == 1:
        return xs, ys
    return xs[::step] + xs[-1:], ys[::step] + ys[-1:]


def _whole_and_partial(history: TrainingHistory, key: str) -> tuple[
        tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    """Per-epoch values of `key` split into whole epochs (at their number) and epochs stopped
    part-way (at the fraction of the epoch they reached)."""
    whole: tuple[list[float], list[float]] = ([], [])
    partial: tuple[list[float], list[float]] = ([], [])
    for number, value in zip(*history.series(key)):
        target = partial if number in history.partial else whole
        target[0].append(history.epoch_position(number))
        target[1].append(value)
    return whole, partial


class _Panel:
    """One axes (loss or accuracy) and its data artists."""

    def __init__(self, axes, key: str, title: str) -> None:
        self.axes, self.key = axes, key
        self.title = axes.set_title(title, fontweight="bold")
        self.xlabel = axes.set_xlabel("epoch")
        axes.grid(True, alpha=0.3)
        self.batch_line, = axes.plot([], [], color=TRAIN_COLOUR, linestyle=TRAIN_STYLE,
                                     alpha=0.45, label="training, per batch",
                                     animated=True)
        self.train_points, = axes.plot([], [], color=TRAIN_COLOUR, marker=TRAIN_MARKER,
                                       linestyle="none", label="training, epoch mean",
                                       animated=True)
        self.val_line, = axes.plot([], [], color=VAL_COLOUR, marker=VAL_MARKER,
                                   linestyle=VAL_STYLE, label="validation",
                                   animated=True)
        # Epochs stopped part-way: hollow markers where they stopped.
        self.train_partial, = axes.plot([], [], color=TRAIN_COLOUR, marker=TRAIN_MARKER,
                                        markerfacecolor="white", linestyle="none",
                                        label="_partial", animated=True)
        self.val_partial, = axes.plot([], [], color=VAL_COLOUR, marker=VAL_MARKER,
                                      markerfacecolor="white", linestyle="none",
                                      label="_nolegend_", animated=True)
        self.hint = axes.text(0.5, 0.5, "Press Start to train", transform=axes.transAxes,
                              ha="center", va="center", color="#666666")
        self.artists = (self.batch_line, self.train_points, self.val_line,
                        self.train_partial, self.val_partial)

    def style(self, font_px: float) -> None:
        """Text, lines and markers for a window font of `font_px` pixels (zoom included)."""
        points = font_px * POINTS_PER_PIXEL
        self.title.set_fontsize(points * TITLE_SCALE)
        self.xlabel.set_fontsize(points * LABEL_SCALE)
        self.axes.tick_params(labelsize=points * TICK_SCALE, width=line_width(1.0),
                              length=scaled(5) * POINTS_PER_PIXEL)
        self.hint.set_fontsize(points * LABEL_SCALE)
        for spine in self.axes.spines.values():
            spine.set_linewidth(line_width(1.0) * POINTS_PER_PIXEL)
        pixel = POINTS_PER_PIXEL
        self.batch_line.set_linewidth(line_width(2.0) * pixel)
        self.val_line.set_linewidth(line_width(2.5) * pixel)
        for artist in (self.train_points, self.val_line, self.train_partial, self.val_partial):
            artist.set_markersize(scaled(9) * pixel)
            artist.set_markeredgewidth(line_width(1.5) * pixel)
        for artist in (self.train_partial, self.val_partial):
            artist.set_markeredgewidth(line_width(2.5) * pixel)

    def shown_artists(self) -> list:
        """The data artists with something to draw (most runs have no stopped epoch)."""
        return [artist for artist in self.artists if len(artist.get_xdata())]

    def set_data(self, history: TrainingHistory) -> list[float]:
        """Put the history into the artists; returns every y value shown (for the limits)."""
        xs, ys = _thin(*history.smoothed_batches(self.key))
        self.batch_line.set_data(xs, ys)
        (tx, ty), (px, py) = _whole_and_partial(history, self.key)
        (vx, vy), (qx, qy) = _whole_and_partial(history, f"val_{self.key}")
        self.train_points.set_data(tx, ty)
        self.val_line.set_data(vx, vy)
        self.train_partial.set_data(px, py)
        self.val_partial.set_data(qx, qy)
        self.hint.set_visible(not xs and not tx and not px)
        return [y for y in (*ys, *ty, *vy, *py, *qy) if math.isfinite(y)]


def _percent(value: float | None) -> str:
    return NO_VALUE if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


class TrainingReadout(QWidget):
    """The current figures in large type: epoch, training accuracy, validation accuracy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setHorizontalSpacing(scaled(18))
        grid.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        self.captions: dict[str, QLabel] = {}
        for column, (key, colour) in enumerate((("epoch", None), ("accuracy", TRAIN_COLOUR),
                                                ("val_accuracy", VAL_COLOUR))):
            value, caption = QLabel(NO_VALUE), QLabel()
            set_relative_font(value, READOUT_SCALE, bold=True)
            # One line, never wrapped: a readout that changed height while training would
            # resize the chart canvas below it, and every resize is a full matplotlib redraw.
            caption.setWordWrap(False)
            if colour is not None:
                palette = value.palette()
                palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
                value.setPalette(palette)
            grid.addWidget(value, 0, column)
            grid.addWidget(caption, 1, column)
            grid.setColumnStretch(column, 1)
            self.values[key], self.captions[key] = value, caption
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        grid.addWidget(self.note, 2, 0, 1, 3)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.show_history(TrainingHistory(), 1)

    def text(self) -> str:
        """Everything the readout says, in one line (for tests and the accessible name)."""
        figures = " · ".join(f"{self.values[k].text()} {self.captions[k].text()}"
                             for k in self.values)
        return figures + (f" · {self.note.text()}" if self.note.isVisibleTo(self) else "")

    def show_history(self, history: TrainingHistory, planned_epochs: int) -> None:
        done = history.epochs_done
        last = history.last_batch
        running = last is not None and last[0] >= done     # an epoch has begun, not ended
        epoch = last[0] + 1 if running and last is not None else done
        self.values["epoch"].setText(f"{epoch} / {max(planned_epochs, epoch, 1)}")
        if running and last is not None:
            self.captions["epoch"].setText(f"epoch · batch {last[1] + 1}/{last[2]}")
        else:
            self.captions["epoch"].setText("epochs done" if done else "epoch")

        accuracy: float | None = None
        if running:     # Keras's mean over the epoch's batches so far
            accuracy = history.running_means.get("accuracy")
        elif done:
            accuracy = history.epochs[-1].get("accuracy")
        self.values["accuracy"].setText(_percent(accuracy))
        self.captions["accuracy"].setText("training accuracy")
        self.captions["accuracy"].setToolTip(
            f"Mean over the batches of epoch {epoch} so far" if running else
            f"Mean over the batches of {history.partial_text(done)}" if done else "")

        numbers, values = history.series("val_accuracy")
        self.values["val_accuracy"].setText(_percent(values[-1]) if numbers else NO_VALUE)
        self.captions["val_accuracy"].setText("validation accuracy")
        self.captions["val_accuracy"].setToolTip(
            f"On the validation images after epoch {numbers[-1]}" if numbers else
            "Measured on the validation images after each whole epoch")

        stopped = sorted(history.partial)
        if stopped and not running:
            number = stopped[-1]
            batches, total = history.partial[number]
            self.note.setText(f"Epoch {number} stopped at batch {batches}/{total}: its figures "
                              f"are means over those {batches} batches (hollow markers).")
        self.note.setVisible(bool(stopped) and not running)


class TrainingCharts(QWidget):
    """The readout over two panels, loss and accuracy: the per-batch smoothed line and the
    per-epoch points of training and validation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 2.6), dpi=FIGURE_DPI, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.readout = TrainingReadout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.readout)
        layout.addWidget(self.canvas, 1)
        loss_axes, acc_axes = self.figure.subplots(1, 2)
        self._panels = (_Panel(loss_axes, "loss", "Loss"), _Panel(acc_axes, "accuracy", "Accuracy"))
        acc_axes.set_ylim(-0.02, 1.02)
        self.legend = None
        self._legend_for: tuple = ()   # (partial epochs, columns) the legend was made for
        self._history = TrainingHistory()
        self._planned_epochs = 1
        self._backgrounds: list = []
        self._dirty = False
        self._laid_out_for: tuple[int, int] = (0, 0)
        self._relayout = True       # the next full draw recomputes the layout
        self.redraw_count = 0       # full redraws (axes, labels, everything)
        self.update_count = 0       # cheap data-only updates
        self.canvas.mpl_connect("draw_event", self._capture_backgrounds)
        self.canvas.mpl_connect("resize_event", self._resized)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._update_if_dirty)
        self._timer.start()
        self._style()
        self._set_limits(force=True)
        watch_zoom(self._zoom_changed)

    # ------------------------------------------------------------------ style

    def font_pixels(self) -> float:
        """The window's text size in pixels (it follows the zoom): the charts' text scales it.
        Read from the application's font: the widget's own follows it a moment later."""
        return float(QFontInfo(QApplication.font()).pixelSize())

    def tick_label_size(self) -> float:
        """The tick labels' size in pixels, as drawn."""
        labels = self._panels[0].axes.get_yticklabels()
        points = labels[0].get_fontsize() if labels else self._panels[0].title.get_fontsize()
        return float(points) / POINTS_PER_PIXEL

    def legend_texts(self) -> list[str]:
        return [text.get_text() for text in self.legend.get_texts()] if self.legend else []

    def _style(self) -> None:
        font_px = self.font_pixels()
        for panel in self._panels:
            panel.style(font_px)
        self.canvas.setMinimumHeight(scaled(170))
        self._make_legend(force=True)
        self._relayout = True

    def _zoom_changed(self) -> None:
        self._style()
        self.redraw_now()

    def _legend_entries(self) -> tuple[list, list[str]]:
        panel = self._panels[0]
        handles = [panel.batch_line, panel.train_points, panel.val_line]
        labels = [h.get_label() for h in handles]
        partial = sorted(self._history.partial)
        if partial:
            handles.append(panel.train_partial)
            if len(partial) == 1:
                done, total = self._history.partial[partial[0]]
                labels.append(f"epoch {partial[0]} stopped ({done}/{total} batches)")
            else:
                labels.append("epochs stopped part-way")
        return handles, labels

    def _legend_columns(self, labels: list[str]) -> int:
        """As many columns as fit the canvas's width (the legend is never cut off)."""
        metrics = QFontMetrics(QApplication.font())
        entries = [metrics.horizontalAdvance(label) + 3.6 * self.font_pixels()
                   for label in labels]
        width = self.canvas.width() - 8
        for columns in range(len(entries), 1, -1):
            rows = [entries[i::columns] for i in range(columns)]
            if sum(max(column) for column in rows) <= width:
                return columns
        return 1

    def _make_legend(self, force: bool = False) -> bool:
        """One legend for both panels, above them, naming any epoch stopped part-way;
        True if it was made anew (the background must then be redrawn)."""
        handles, labels = self._legend_entries()
        columns = self._legend_columns(labels)
        if not force and (tuple(labels), columns) == self._legend_for:
            return False
        self._legend_for = (tuple(labels), columns)
        if self.legend is not None:
            self.legend.remove()
        self.legend = self.figure.legend(
            handles, labels, loc="outside upper center", ncols=columns,
            fontsize=self.font_pixels() * POINTS_PER_PIXEL * LEGEND_SCALE, frameon=False,
            handlelength=2.4, handletextpad=0.5, columnspacing=1.2, borderaxespad=0.2)
        self._relayout = True
        return True

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
            self.readout.show_history(self._history, self._planned_epochs)
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
        self._make_legend()
        self.readout.show_history(self._history, self._planned_epochs)
        self._full_draw()

    def _full_draw(self) -> None:
        # Constrained layout doubles the cost of a draw; the layout only changes with the
        # size or the tick labels, so it is worked out again only on those occasions.
        size = (self.canvas.width(), self.canvas.height())
        if size != self._laid_out_for:
            self._make_legend()
        if size != self._laid_out_for or self._relayout:
            self.figure.set_layout_engine("constrained")
            self._laid_out_for, self._relayout = size, False
        self.canvas.draw()  # the draw_event handler captures the backgrounds, unsets the layout
        self.redraw_count += 1

    def _resized(self, _event) -> None:
        # Matplotlib redraws a resized canvas itself (not through _full_draw): lay it out
        # anew for that draw, or titles, legend and axis labels keep the old size's margins
        # and overlap or fall off the edge.
        self.figure.set_layout_engine("constrained")
        self._laid_out_for = (self.canvas.width(), self.canvas.height())

    def _capture_backgrounds(self, _event) -> None:
        # Called inside a full draw (possibly inside a paint): paint the data into the
        # buffer without blitting, the paint that follows the draw shows it.
        self.figure.set_layout_engine("none")   # laid out for this size; data updates blit
        self._backgrounds = [self.canvas.copy_from_bbox(p.axes.bbox) for p in self._panels]
        for panel in self._panels:
            for artist in panel.shown_artists():
                panel.axes.draw_artist(artist)

    def _draw_data(self) -> None:
        """Paint the data artists over the cached backgrounds and show just those areas."""
        if len(self._backgrounds) != len(self._panels):
            return
        for panel, background in zip(self._panels, self._backgrounds):
            self.canvas.restore_region(background)
            for artist in panel.shown_artists():
                panel.axes.draw_artist(artist)
            self.canvas.blit(panel.axes.bbox)

    def _update_if_dirty(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        values = [panel.set_data(self._history) for panel in self._panels]
        self.readout.show_history(self._history, self._planned_epochs)
        if self._set_limits(values[0]) or any(p.hint.get_visible() for p in self._panels) \
                or self._make_legend():
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
