"""Which model the Explain view explains, and the status line that says so.

A mixin of ExplainPanel (see explain_panel.py): a model opened from a file, the builder's
model (also when the builder's spec changes), an input or layer picked elsewhere, and the
banner above the layer strip (untrained, training, opened file, errors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ExplainModelChoiceMixin:
    """Model-choosing and banner methods of ExplainPanel (a QWidget); they use its session."""

    def _model_input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.session.input_shape() or self.document.spec.input_shape)

    def _spec_changed(self) -> None:
        if self.session.origin == "builder" or self.session.model is None:
            self.session.use_spec(self.document.spec.copy())
            self.picker.set_input_shape(self._model_input_shape())
            if self.isVisible() and self.session.image is not None:
                self.session.compute()
            self._show_banner()

    def use_opened_model(self, opened: Any, info: Any) -> None:
        """Explain a model opened from a file (its real, trained weights)."""
        self._opened_problem = info.explain_problem
        if info.explain_problem:
            self._show_banner()
            return
        self.session.use_model(opened.model, trained=True, origin=str(opened.path))
        # Start at the first real layer (a functional model lists its InputLayer first).
        types = [type(layer).__name__ for layer in opened.model.layers]
        self.session.layer_index = next(
            (i for i, kind in enumerate(types) if kind != "InputLayer"), 0)
        self.history.clear()
        self.replay.history_updated()
        self.picker.set_input_shape(self._model_input_shape())
        self._show_banner()
        if self.session.image is not None and self.isVisible():
            self.session.compute()

    def offer_opened_model(self, opened: Any, info: Any) -> None:
        """A model was opened while this view shows another one: explain the new one."""
        if self.session.origin not in ("", "builder", "training") or self.session.model is None:
            self.use_opened_model(opened, info)

    def show_input(self, image: Any, description: str, label: Any) -> None:
        """Explain this input (an image picked elsewhere, e.g. a mistake in the evaluation)."""
        self._input_chosen(image, description, label)

    def select_layer_named(self, name: str) -> None:
        """Explain the layer called `name` (now, or once the forward pass arrives)."""
        names = [layer.name for layer in getattr(self.session.model, "layers", [])]
        if name in names:
            self.session.select_layer(names.index(name))
            self.strip.select(names.index(name), emit=False)

    def explain_builder_model(self) -> None:
        self._opened_problem = None
        self.session.use_spec(self.document.spec.copy())
        self.picker.set_input_shape(self._model_input_shape())
        self._show_banner()
        if self.session.image is not None:
            self.session.compute()

    # ------------------------------------------------------------------ banner

    def _show_banner(self, error: str = "", busy: str = "") -> None:
        builder_link = " <a href='builder'>Explain the builder's model instead</a>."
        if self._opened_problem:
            text = (f"<span style='color:#b3261e'>⚠ This model cannot be explained: "
                    f"{self._opened_problem}</span>{builder_link}")
        elif error:
            text = f"<span style='color:#b3261e'>⚠ {error}</span>"
        elif busy:
            text = busy
        elif self.session.image is None:
            text = "Choose an input on the left to see what each layer does with it."
        elif not self.session.trained:
            text = ("<b>Untrained:</b> the weights are random. <a href='train'>Train it</a>, "
                    "or watch it learn here while it trains.")
        elif self.training.running:
            text = "Training: this view refreshes after every epoch."
        elif self.session.origin not in ("", "builder", "training"):
            text = (f"Explaining {self.session.description} with "
                    f"<b>{Path(self.session.origin).name}</b>.{builder_link}")
        else:
            text = f"Explaining {self.session.description}."
        self.banner.setText(text)
        self.lesson.set_random_weights(not self.session.trained)

    def _banner_link(self, link: str) -> None:
        if link == "builder":
            self.explain_builder_model()
        elif link == "train":
            window = self.window()
            if hasattr(window, "actions") and "view_train" in window.actions:
                window.actions["view_train"].trigger()
