"""Does the model fit the data? The Train view's mismatch banner and its one-click fix.

FitCheck compares the builder's model (or a model opened from a file for fine-tuning) with
the loaded data and shows what does not fit, with a fix when one is obvious; the fix is an
ordinary undoable edit of the spec.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from cnnviz.workspace import SpecDocument


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


class FitCheck:
    """Checks a model against the data and keeps the banner saying what does not fit."""

    def __init__(self, document: SpecDocument, banner: MismatchBanner) -> None:
        self.document = document
        self.banner = banner
        self.mismatches: list[Any] = []
        banner.fix_button.clicked.connect(self.apply_fix)

    def blocking(self) -> list[Any]:
        """Mismatches that stop training (warnings are shown but do not block Start)."""
        return [m for m in self.mismatches if getattr(m, "severity", "error") == "error"]

    def check_builder_model(self, dataset: Any) -> None:
        """Compare the builder's spec with `dataset` (None: no data yet)."""
        self.mismatches = []
        report = self.document.report
        if not report.ok:
            self.banner.label.setText("The model in the builder has a problem: "
                                      + (report.error_message() or ""))
            self.banner.fix_button.hide()
            self.banner.show()
            return
        if dataset is not None:
            from cnnviz.core.training.checks import check_model_fits_data

            self.mismatches = check_model_fits_data(self.document.spec, dataset)
        if not self.mismatches:
            self.banner.hide()
            return
        first = self._first()
        more = f" (and {len(self.mismatches) - 1} more)" if len(self.mismatches) > 1 else ""
        lead = "The model does not fit this data" if self.blocking() else "Note"
        self.banner.label.setText(f"{lead}: {first.message}{more}")
        self.banner.fix_button.setVisible(first.fix is not None)
        self.banner.fix_button.setText(first.fix_label or "Fix")
        self.banner.show()

    def check_opened_model(self, model: Any, name: str, dataset: Any) -> None:
        """Compare a model opened from a file with `dataset`; it is not edited here, so no fix."""
        self.mismatches = []
        if dataset is not None:
            from cnnviz.core.training.checks import check_model_fits_data

            self.mismatches = check_model_fits_data(model, dataset)
        if not self.mismatches:
            self.banner.hide()
            return
        first = self._first()
        lead = f"{name} does not fit this data" if self.blocking() else "Note"
        self.banner.label.setText(f"{lead}: {first.message}")
        self.banner.fix_button.hide()
        self.banner.show()

    def hide(self) -> None:
        self.banner.hide()

    def apply_fix(self) -> None:
        if not self.mismatches:
            return
        first = self._first()
        if first.fix is None:
            return
        self.document.apply(first.fix(self.document.spec), first.fix_label or "Fix model")

    def _first(self) -> Any:
        return (self.blocking() or self.mismatches)[0]


def model_input_shape(model: Any) -> tuple[int, ...]:
    """The (height, width, channels) a built Keras model takes."""
    return tuple(int(d) for d in model.inputs[0].shape[1:])
