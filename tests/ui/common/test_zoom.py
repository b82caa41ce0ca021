"""The zoom factor reaches fonts: the application's, and the relative ones of titles."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel

from cnnviz.ui.common.zoom import line_width, set_relative_font, zoom_factor, zoom_of_app


@pytest.fixture
def zoom(qapp):
    zoom = zoom_of_app()
    yield zoom
    zoom.set_factor(1.0)
    zoom.set_presenting(False)


def test_zoom_scales_the_application_font_and_relative_fonts(qtbot, zoom):
    base = QApplication.font().pointSizeF()
    plain, title = QLabel("plain"), QLabel("title")
    qtbot.addWidget(plain)
    qtbot.addWidget(title)
    set_relative_font(title, 1.5, bold=True)
    assert title.font().pointSizeF() == pytest.approx(base * 1.5)
    zoom.set_factor(2.0)
    assert zoom_factor() == 2.0
    assert QApplication.font().pointSizeF() == pytest.approx(base * 2)
    qtbot.waitUntil(lambda: plain.font().pointSizeF() == pytest.approx(base * 2), timeout=1000)
    assert title.font().pointSizeF() == pytest.approx(base * 3) and title.font().bold()
    zoom.set_factor(1.0)
    assert title.font().pointSizeF() == pytest.approx(base * 1.5)


def test_zoom_stays_between_100_and_250_percent_and_steps_by_25(zoom):
    seen = []
    zoom.changed.connect(lambda: seen.append(zoom.factor))
    zoom.step(+1)
    zoom.set_factor(9)
    zoom.step(+1)             # already at the top: nothing changes, nothing emitted
    zoom.set_factor(0.2)
    assert seen == [1.25, 2.5, 1.0]


def test_presenting_doubles_line_widths(zoom):
    zoom.set_factor(1.5)
    assert line_width(2) == pytest.approx(3)
    zoom.set_presenting(True)
    assert line_width(2) == pytest.approx(6)
