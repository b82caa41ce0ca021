"""The Data box with time series: the GunPoint sample, series options (z-normalisation, a
CSV's label column) and previews drawn as small line plots."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from cnnviz.ui.train.dataset_chooser import DatasetChooser
from cnnviz.ui.train.dataset_preview import LINE_COLORS, DatasetPreview
from tests.core.data.series_fixtures import series_values, write_ts


@pytest.fixture
def chooser(qtbot):
    widget = DatasetChooser()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def load(chooser, qtbot, source):
    with qtbot.waitSignal(chooser.loaded, timeout=60_000) as blocker:
        chooser.select_source(source)
    return blocker.args[0]


def visible_rows(chooser):
    form = chooser._form  # noqa: SLF001 - the test reads its own widget's layout
    return {name: form.isRowVisible(widget) for name, widget in (
        ("size", chooser._size_host), ("labels", chooser.label_column_edit),
        ("z", chooser.z_normalize_box))}


def test_gunpoint_sample_loads_with_series_options_and_line_previews(chooser, qtbot):
    result = load(chooser, qtbot, "gunpoint-sample")
    assert chooser.source_combo.currentText() == "GunPoint time series (bundled, offline)"
    assert result.dataset.input_shape == (150, 1)
    assert result.preview_images.shape[1:] == (150, 1)
    assert result.preview_images.dtype == np.float32
    assert visible_rows(chooser) == {"size": False, "labels": False, "z": True}
    assert "Series: train 45 · validation 5 · test 150" in chooser.info.text()
    # Ticking z-normalisation loads again, and the description names it.
    with qtbot.waitSignal(chooser.loaded, timeout=60_000) as blocker:
        chooser.z_normalize_box.setChecked(True)
    assert "z-normalised per series" in blocker.args[0].dataset.description
    assert "z-normalised per series" in chooser.info.text()


def test_csv_shows_the_label_column_field_and_uses_it(chooser, qtbot, tmp_path):
    path = tmp_path / "mid.csv"
    path.write_text("a,kind,b,c\n1,x,2,3\n4,y,5,6\n7,x,8,9\n")
    chooser.label_column_edit.setText("kind")
    result = load(chooser, qtbot, str(path))
    assert visible_rows(chooser) == {"size": False, "labels": True, "z": True}
    assert result.dataset.class_names == ["x", "y"]
    assert "the column you named" in chooser.info.text()


def test_ucr_folder_is_a_series_choice(chooser, qtbot, tmp_path):
    folder = tmp_path / "Tiny"
    folder.mkdir()
    for part in ("TRAIN", "TEST"):
        write_ts(folder / f"Tiny_{part}.ts", series_values(6, 30, channels=2), ["a", "b"] * 3)
    result = load(chooser, qtbot, str(folder))
    assert chooser.is_series_choice()
    assert visible_rows(chooser) == {"size": False, "labels": False, "z": True}
    assert result.dataset.test.count == 6


def test_images_keep_their_rows_and_no_series_options(chooser, qtbot):
    chooser.select_source("folder-sample", load=False)
    assert visible_rows(chooser) == {"size": True, "labels": False, "z": False}


def _has_colour(image, colour: QColor) -> bool:
    pixels = [image.pixelColor(x, y) for x in range(0, image.width(), 2)
              for y in range(0, image.height(), 2)]
    return any(abs(p.red() - colour.red()) + abs(p.green() - colour.green())
               + abs(p.blue() - colour.blue()) < 30 for p in pixels)


def test_preview_draws_signals_as_lines_one_colour_per_channel(qtbot):
    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.resize(600, 200)
    t = np.linspace(0, 6, 80, dtype=np.float32)
    one = np.stack([np.sin(t)] * 4)[:, :, None]
    preview.set_samples(one, ["a", "b", "a", "b"])
    assert preview.shows_series and preview.sample_count == 4
    assert preview.tile_width(40) == 80   # signals are drawn wider than high
    shot = preview.grab().toImage()
    assert _has_colour(shot, LINE_COLORS[0]) and not _has_colour(shot, LINE_COLORS[1])
    two = np.stack([np.stack([np.sin(t), np.cos(t)], axis=1)] * 2)
    preview.set_samples(two, ["a", "b"])
    shot = preview.grab().toImage()
    assert _has_colour(shot, LINE_COLORS[0]) and _has_colour(shot, LINE_COLORS[1])
    # Images still show as pictures.
    preview.set_samples(np.zeros((3, 8, 8, 1), np.uint8), ["x", "y", "z"])
    assert not preview.shows_series and preview.sample_count == 3
