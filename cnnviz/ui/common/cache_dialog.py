"""The "Disk space used by cnnviz" dialog (File → Disk Space…): each cache in the data folder
(core.transfer.caches) with its size, file count, what clearing it costs and its folder
(selectable), and a Clear button that asks first.

Sizes are measured, and caches cleared, in the background (a NewestRequest each): a folder of
many thousands of files on a slow or network disk takes a while to list, and the dialog stays
responsive meanwhile. After a clear the sizes are measured again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QVBoxLayout, QWidget,
)

from cnnviz.core.formatting import readable_size
from cnnviz.core.transfer.caches import (
    Cache, CacheUsage, ClearResult, clear, known_caches, measure,
)
from cnnviz.core.user_folders import user_data_folder
from cnnviz.ui.common import dialogs
from cnnviz.ui.common.workers import NewestRequest, Report
from cnnviz.ui.common.zoom import scaled, set_relative_font, watch_zoom

TITLE = "Disk space used by cnnviz"
MEASURING = "Measuring…"


class CacheRow(QFrame):
    """One cache: its label and size on top, what clearing costs, its folder, Clear."""

    clear_asked = Signal(str)  # the cache's name

    def __init__(self, cache: Cache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName(f"cache-{cache.name}")
        self.title = QLabel(cache.label)
        set_relative_font(self.title, 1.15, bold=True)
        self.size = QLabel(MEASURING)
        self.size.setAccessibleName(f"{cache.label} size")
        self.size.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        set_relative_font(self.size, 1.15, bold=True)
        cost = cache.cost
        if cache.limit is not None:
            cost = (f"Kept under {readable_size(cache.limit)}: the files used longest ago are "
                    f"removed first. Clearing it: {cost[0].lower()}{cost[1:]}")
        self.cost = QLabel(cost)
        self.cost.setWordWrap(True)
        self.folder = QLineEdit(str(cache.folder))
        self.folder.setReadOnly(True)
        self.folder.setAccessibleName(f"{cache.label} folder")
        self.folder.setCursorPosition(0)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        self.clear_button = QPushButton("Clear…")
        self.clear_button.setAccessibleName(f"Clear {cache.label.lower()}")
        self.clear_button.setEnabled(False)
        self.clear_button.clicked.connect(lambda: self.clear_asked.emit(cache.name))

        self._fit_folder()

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.size)
        where = QHBoxLayout()
        where.addWidget(QLabel("Folder:"))
        where.addWidget(self.folder, 1)
        where.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(scaled(10), scaled(8), scaled(10), scaled(8))
        layout.addLayout(top)
        layout.addWidget(self.cost)
        layout.addLayout(where)
        layout.addWidget(self.outcome)
        watch_zoom(self._fit_folder)

    def _fit_folder(self) -> None:
        """The folder box is wide enough for the whole path, up to a limit (it scrolls)."""
        wanted = self.folder.fontMetrics().horizontalAdvance(self.folder.text()) + scaled(16)
        # Up to half the window the dialog opens over (the screen when there is none).
        owner = self.window().parentWidget()
        screen = self.screen() or QGuiApplication.primaryScreen()
        room = (owner.window().width() if owner is not None
                else screen.availableGeometry().width() if screen is not None else 1200) // 2
        self.folder.setMinimumWidth(max(scaled(240), min(wanted, scaled(520), room)))

    def show_usage(self, usage: CacheUsage | None) -> None:
        """Its size (None: being measured); Clear is offered only when there is something."""
        self.size.setText(MEASURING if usage is None else usage.text())
        self.clear_button.setEnabled(usage is not None and usage.files > 0)

    def show_outcome(self, result: ClearResult) -> None:
        self.outcome.setText(result.text())
        self.outcome.show()


class CacheDialog(QDialog):
    """Disk space used by cnnviz: every cache's size, and clearing it. `measured` is emitted
    after each measurement reaches the rows (tests wait for it)."""

    measured = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self._measure = NewestRequest(self)
        self._clear = NewestRequest(self)
        caches = known_caches()
        self.rows: dict[str, CacheRow] = {}

        intro = QLabel(f"cnnviz keeps these caches in its data folder, {user_data_folder()}. "
                       f"Clearing one only costs time later; your models, specs, runs and "
                       f"exports are never in them.")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setSpacing(scaled(10))
        layout.addWidget(intro)
        for cache in caches:
            row = CacheRow(cache, self)
            row.clear_asked.connect(self.ask_to_clear)
            self.rows[cache.name] = row
            layout.addWidget(row)
        self.total = QLabel("")
        self.total.setAccessibleName("Total")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.refresh_button = buttons.addButton("Measure again",
                                                QDialogButtonBox.ButtonRole.ActionRole)
        self.refresh_button.clicked.connect(self.refresh)
        layout.addWidget(self.total)
        layout.addStretch(1)
        layout.addWidget(buttons)
        # The dialog is never narrower than its rows need (a folder box fits its path).
        layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetMinimumSize)
        self.refresh()

    # ------------------------------------------------------------------ measuring

    def refresh(self) -> None:
        """Measure every cache again in the background."""
        for row in self.rows.values():
            row.show_usage(None)
        self.total.setText("")
        caches = [row.cache for row in self.rows.values()]

        def work(report: Report) -> dict[str, CacheUsage]:
            return {cache.name: measure(cache) for cache in caches}

        self._measure.submit(work, self._show_usage, self._failed)

    def _show_usage(self, usages: dict[str, CacheUsage]) -> None:
        for name, usage in usages.items():
            self.rows[name].show_usage(usage)
        self.total.setText(f"Total: {readable_size(sum(u.bytes for u in usages.values()))}")
        self.measured.emit()

    def _failed(self, message: str, details: str) -> None:
        dialogs.show_failure(self, TITLE, message, details)

    # ------------------------------------------------------------------ clearing

    def ask_to_clear(self, name: str) -> None:
        """Ask, then clear the cache called `name` in the background and measure again."""
        row = self.rows[name]
        question = (f"Delete the {row.size.text()} of {row.cache.label.lower()} in "
                    f"{row.cache.folder}?\n\n{row.cache.cost}")
        if not dialogs.ask_to_confirm(self, "Clear a cache", question, "Clear"):
            return
        for each in self.rows.values():
            each.clear_button.setEnabled(False)
        row.size.setText("Clearing…")
        cache = row.cache

        def work(report: Report) -> ClearResult:
            return clear(cache)

        self._clear.submit(work, lambda result: self._cleared(name, result), self._failed)

    def _cleared(self, name: str, result: Any) -> None:
        self.rows[name].show_outcome(result)
        self.refresh()

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        """Closing waits for a measurement or a clear still running (both end quickly)."""
        self._measure.shutdown()
        self._clear.shutdown()
        super().done(result)


def show_cache_dialog(parent: QWidget | None) -> None:
    """Open the dialog (modal); it is deleted when closed."""
    dialog = CacheDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.exec()
