"""The Explain tab's per-layer views: one widget per layer kind, showing its real numbers.

Public modules: `step_views` (the "Step by step" page choosing the view for a layer),
`conv_step_view` and `pool_step_view` (a sliding window, step by step) on `step_view_base`,
`step_view_layout` and `grid_painting`; their 1-D counterparts `conv1d_step_view` and
`pool1d_step_view` on `sequence_step_view` and `series_painting` (signals as line plots or
heat strips), and `global_pool1d_view`; `dense_view`, `softmax_view`, `activation_view`,
`batchnorm_view`, `flatten_view` with `flatten_strip`, `vector_views` (dropout, global
pooling) and `generic_view` (every other layer, and the input); `view_parts` (what they share);
`attribution_view` (the "Where it looks" page: Grad-CAM or saliency over the input).
"""

__all__ = [
    "activation_view", "attribution_view", "batchnorm_view", "conv1d_step_view", "conv_step_view", "dense_view",
    "flatten_strip", "flatten_view", "generic_view", "global_pool1d_view", "grid_painting",
    "pool1d_step_view", "pool_step_view", "sequence_step_view", "series_painting",
    "softmax_view", "step_view_base", "step_view_layout", "step_views", "vector_views",
    "view_parts",
]
