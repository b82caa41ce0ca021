"""Widgets and helpers every tab shares.

Public modules: `workers` (background tasks and "newest request wins"), `dialogs` (every modal
question), `cache_dialog` (the disk cnnviz's caches use, File → Disk Space…), `value_colors` (the zero-centred colour scale, its legend, right/wrong colours),
`feature_map_grid` and `filter_grid` (a layer's maps and filters as grids), `series_plots`
(1-D signals as lines, weights as stems, many channels as heat strips), `layer_style`
(colours of layer types), `pretrained_bases` (what the builder and the Transfer page share
about pre-built bases: weights status, labels, the head, preparing one), `undo_actions` (Undo and Redo bound to the workspace), `zoom` (one
zoom factor for fonts, lines and charts; presentation mode).
"""

__all__ = [
    "cache_dialog", "dialogs", "feature_map_grid", "filter_grid", "layer_style", "pretrained_bases",
    "series_plots", "undo_actions",
    "value_colors", "workers", "zoom",
]
