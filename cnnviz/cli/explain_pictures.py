"""`cnnviz explain ... --out DIR`: the explainer's pictures, drawn by the app's own widgets on
Qt's offscreen platform so they look exactly like the Explain view. The only CLI module that
needs Qt; explain.py imports it for --out only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

PICTURE_SIZE = (1100, 640)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def write_pictures(probe: Any, forward: Any, positions: list[int], out: Path,
                   class_names: list[str] | None, label: int | None, max_frames: int,
                   report: Callable[[str], None]) -> list[Path]:
    """Draw each layer's views with the app's widgets and save them in `out`.

    A 1-D layer's outputs are drawn as line plots or heat strips and Conv1D filters as stem
    plots when the app's grids draw sequences; its steps picture and animation are written
    when the Explain view has a 1-D step view (report() says what was left out).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from cnnviz.core.explain.forward_pass import answer_of, layer_steps
    from cnnviz.ui.common.feature_map_grid import FeatureMapGrid
    from cnnviz.ui.common.filter_grid import FilterGrid
    from cnnviz.ui.explain.animation_export import save_animation_gif, save_view_png
    from cnnviz.ui.explain.probability_chart import ProbabilityChart
    from cnnviz.ui.explain.views.step_views import StepViews

    app = QApplication.instance() or QApplication(["cnnviz"])
    written: list[Path] = []

    def png(widget: Any, path: Path) -> Path:
        app.processEvents()
        save_view_png(widget, path)
        return path

    views, maps, filters = StepViews(), FeatureMapGrid(), FilterGrid()
    views.set_class_names(class_names or [])
    for widget in (views, maps, filters):
        widget.resize(*PICTURE_SIZE)
    for number, position in enumerate(positions, start=1):
        steps = layer_steps(probe, forward, position)
        stem = f"{number:02d}_{_safe(steps.name)}"
        report(f"Drawing {steps.name} ({steps.layer_type})")
        views.set_steps(steps)
        if views.animated:  # show the last step: the whole output computed
            views.playback.to_end()
        written.append(png(views.current_view(), out / f"{stem}_steps.png"))
        if np.ndim(steps.output) in (1, 2, 3):  # a vector, a sequence, or maps
            maps.set_maps(steps.output, f"{steps.name}: every channel of its output")
            written.append(png(maps, out / f"{stem}_feature_maps.png"))
        if steps.kind in ("conv", "conv1d"):
            filters.set_kernel(steps.kernel, f"{steps.name}: its {steps.kernel.shape[-1]} "
                                             "filters")
            written.append(png(filters, out / f"{stem}_filters.png"))
        if views.animated:
            report(f"Drawing the animation of {steps.name}")
            gif = out / f"{stem}_animation.gif"
            save_animation_gif(views.current_view(), gif, max_frames=max_frames)
            written.append(gif)
    probabilities = answer_of(forward)
    if probabilities is not None:
        chart = ProbabilityChart()
        chart.resize(420, max(260, 26 * len(probabilities) + 60))
        names = class_names if class_names and len(class_names) == len(probabilities) else \
            [str(i) for i in range(len(probabilities))]
        chart.set_probabilities(probabilities, names, label)
        written.append(png(chart, out / "probabilities.png"))
    return written
