"""Does the model fit the data? The Train view's mismatch banner and its model choice.

A mixin of TrainingPanel (see training_panel.py): compares the builder's model (or a
model opened from a file for fine-tuning) with the loaded data, shows what does not fit
with a one-click fix when one is obvious, and switches between the two models.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from cnnviz.core.training.history import TrainingHistory


class MismatchBanner(QFrame):
    """Says why the model and the data do not fit, with a one-click fix when one is obvious."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mismatchBanner")
        self.setStyleSheet("#mismatchBanner { background: #fdecea; border: 1px solid #f4c7c3;"
                           " border-radius: 4px; } QLabel { color: #7f1d1d; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.fix_button = QPushButton()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.fix_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()


class TrainingFitMixin:
    """Fit-checking and model-choosing methods of TrainingPanel (a QWidget)."""

    def _can_continue(self) -> bool:
        if self.opened_model is not None:
            return (self.model is self.opened_model and self.data is not None
                    and _input_shape(self.opened_model) == tuple(self.data.dataset.input_shape))
        return (self.model is not None and self.model_spec == self.document.spec
                and self.data is not None
                and tuple(self.data.dataset.input_shape) == tuple(self.model_spec.input_shape))

    def _blocking(self) -> list[Any]:
        """Mismatches that stop training (warnings are shown but do not block Start)."""
        return [m for m in self._mismatches if getattr(m, "severity", "error") == "error"]

    def _check_fit(self) -> None:
        """Compare the builder's model with the data; show what does not fit and the fix."""
        self._mismatches = []
        if self.opened_model is not None:
            self._check_opened_fit()
            return
        if not self.document.report.ok:
            self.banner.label.setText("The model in the builder has a problem: "
                                      + (self.document.report.error_message() or ""))
            self.banner.fix_button.hide()
            self.banner.show()
            return
        if self.data is not None:
            from cnnviz.core.training.checks import check_model_fits_data

            self._mismatches = check_model_fits_data(self.document.spec, self.data.dataset)
        if not self._mismatches:
            self.banner.hide()
            return
        first = (self._blocking() or self._mismatches)[0]
        more = f" (and {len(self._mismatches) - 1} more)" if len(self._mismatches) > 1 else ""
        lead = "The model does not fit this data" if self._blocking() else "Note"
        self.banner.label.setText(f"{lead}: {first.message}{more}")
        self.banner.fix_button.setVisible(first.fix is not None)
        self.banner.fix_button.setText(first.fix_label or "Fix")
        self.banner.show()

    def _check_opened_fit(self) -> None:
        if self.data is not None:
            from cnnviz.core.training.checks import check_model_fits_data

            self._mismatches = check_model_fits_data(self.opened_model, self.data.dataset)
        if not self._mismatches:
            self.banner.hide()
            return
        first = (self._blocking() or self._mismatches)[0]
        lead = f"{self.opened_name} does not fit this data" if self._blocking() else "Note"
        self.banner.label.setText(f"{lead}: {first.message}")
        self.banner.fix_button.hide()   # an opened model is not edited here
        self.banner.show()

    def use_opened_model(self, model: Any, name: str) -> bool:
        """Train (fine-tune) a model opened from a file instead of the builder's model."""
        if self.running:
            return False
        self.opened_model, self.opened_name = model, name
        self.model, self.model_spec, self.last_outcome = model, None, None
        self.history = TrainingHistory()
        if self.charts is not None:
            self.charts.set_history(self.history)
        self.status.setText(f"Start continues training <b>{name}</b> from its saved weights "
                            "(fine-tuning). Editing the model in the builder switches back.")
        self._check_fit()
        self._update_state()
        return True

    def use_builder_model(self) -> None:
        """Back to training the builder's model (from random weights)."""
        if self.opened_model is None or self.running:
            return
        self.opened_model, self.opened_name = None, ""
        self.model, self.model_spec, self.last_outcome = None, None, None
        self._check_fit()
        self._update_state()

    def _apply_fix(self) -> None:
        if not self._mismatches:
            return
        first = (self._blocking() or self._mismatches)[0]
        if first.fix is None:
            return
        self.document.apply(first.fix(self.document.spec), first.fix_label or "Fix model")


def _input_shape(model: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in model.inputs[0].shape[1:])
