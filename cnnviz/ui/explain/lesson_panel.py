"""Words for learners beside the explain view: the lesson for the layer on show, and a banner
when the model's weights are still random. The owner shows or hides the whole panel."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from cnnviz.core.explain.lessons import RANDOM_WEIGHTS_NOTE, Lesson, lesson_for, plain_text
from cnnviz.ui.common.zoom import set_relative_font


class LessonPanel(QWidget):
    """The title and paragraphs of `lesson_for(kind, function)`, wrapped, scrolling if long."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lesson: Lesson | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.banner = QLabel(RANDOM_WEIGHTS_NOTE)
        self.banner.setWordWrap(True)
        self.banner.setObjectName("randomWeightsBanner")
        self.banner.setStyleSheet(
            "QLabel#randomWeightsBanner { background: #fff4ce; color: #4a3b00; "
            "border: 1px solid #e0c060; border-radius: 6px; padding: 6px; }")
        set_relative_font(self.banner)   # under a style sheet: follows the zoom only this way
        self.banner.hide()
        layout.addWidget(self.banner)
        content = QWidget()
        self._content_layout = QVBoxLayout(content)
        self._content_layout.setContentsMargins(2, 2, 8, 2)
        self._content_layout.setSpacing(8)
        self.title = QLabel()
        set_relative_font(self.title, 1.3, bold=True)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self._content_layout.addWidget(self.title)
        self.paragraphs: list[QLabel] = []
        self._content_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(scroll, 1)
        self.setMinimumWidth(200)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(280, 400)

    def set_lesson(self, kind: str, function: str | None = None) -> None:
        """Show the lesson for a layer kind ("conv", "dense", ...) and, for activations and
        pooling, its function ("relu", "max", ...)."""
        self.show_lesson(lesson_for(kind, function))

    def show_lesson(self, lesson: Lesson) -> None:
        self._lesson = lesson
        self.title.setText(lesson.title)
        for label in self.paragraphs:
            self._content_layout.removeWidget(label)
            label.deleteLater()
        self.paragraphs = []
        for number, paragraph in enumerate(lesson.paragraphs):
            label = QLabel(paragraph)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            set_relative_font(label, 1.1)
            self._content_layout.insertWidget(1 + number, label)
            self.paragraphs.append(label)

    def set_random_weights(self, random: bool) -> None:
        """Show (True) or hide the note that the model is untrained and its weights random."""
        self.banner.setVisible(bool(random))

    def lesson(self) -> Lesson | None:
        return self._lesson

    def text(self) -> str:
        """What the panel says, as plain text (banner first when shown)."""
        parts = [RANDOM_WEIGHTS_NOTE] if not self.banner.isHidden() else []
        if self._lesson is not None:
            parts += [self._lesson.title, *(plain_text(p) for p in self._lesson.paragraphs)]
        return "\n\n".join(parts)
