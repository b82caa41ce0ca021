"""The Explain tab: pick an input, then step through the real forward pass layer by layer.

Public modules: `explain_panel` (the tab), `session` (what is explained, computed in the
background), `input_picker` with `input_file_mode`, `input_picker_common`, `drawing_canvas`
and `pixel_view` (choosing the input), `layer_strip` (the layers to pick), `probability_chart`
(the model's answer), `playback` (stepping through an animation), `lesson_panel` (the words
for learners), `learning` and `learning_replay` (following the training run, replaying
epochs), `exports` and `animation_export` (PNG and GIF), `icons` (drawn Play/Pause icons).
The per-layer views are in the `views` package.
"""

__all__ = [
    "animation_export", "drawing_canvas", "explain_panel", "exports", "icons", "input_file_mode",
    "input_picker", "input_picker_common", "layer_strip", "learning", "learning_replay",
    "lesson_panel", "pixel_view", "playback", "probability_chart", "session",
    "views",
]
