"""The live charts as a class at the back of the room sees them: sizes that follow the zoom,
training and validation told apart without colour vision, a stopped epoch drawn as partial,
and the large readout of the current figures."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_rgb

from cnnviz.core.training.history import TrainingHistory
from cnnviz.ui.common.zoom import zoom_of_app
from cnnviz.ui.train.training_charts import TrainingCharts


@pytest.fixture
def charts(qtbot):
    widget = TrainingCharts()
    qtbot.addWidget(widget)
    widget.resize(900, 520)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    zoom_of_app().set_factor(1.0)


def history_stopped_in_epoch_3() -> TrainingHistory:
    """Two whole epochs of 113 batches with validation, then epoch 3 stopped after batch 40."""
    history = TrainingHistory()
    for epoch, batches in ((0, 113), (1, 113), (2, 40)):
        for batch in range(0, batches, 10):
            history.add_batch(epoch, batch, 113, {"loss": 1.0 - 0.2 * epoch,
                                                  "accuracy": 0.5 + 0.1 * epoch})
        history.add_batch(epoch, batches - 1, 113, {"loss": 0.9 - 0.2 * epoch,
                                                    "accuracy": 0.55 + 0.1 * epoch})
        logs = {"loss": 0.9 - 0.2 * epoch, "accuracy": 0.55 + 0.1 * epoch}
        if batches == 113:
            logs.update(val_loss=1.0 - 0.2 * epoch, val_accuracy=0.5 + 0.1 * epoch)
        history.add_epoch(logs)
    return history


def test_tick_labels_titles_legend_and_lines_follow_the_zoom(charts):
    window_text = charts.font_pixels()
    assert charts.tick_label_size() >= window_text      # not ~9 px under 12 px window text
    loss = charts._panels[0]
    before = (charts.tick_label_size(), loss.title.get_fontsize(),
              charts.legend.get_texts()[0].get_fontsize(), loss.val_line.get_linewidth(),
              loss.val_line.get_markersize())
    zoom_of_app().set_factor(1.5)
    after = (charts.tick_label_size(), loss.title.get_fontsize(),
             charts.legend.get_texts()[0].get_fontsize(), loss.val_line.get_linewidth(),
             loss.val_line.get_markersize())
    for small, large in zip(before, after):
        assert large == pytest.approx(1.5 * small, rel=0.15)
    assert charts.readout.values["epoch"].font().pointSizeF() >= 1.5 * charts.font().pointSizeF()


def test_training_and_validation_differ_in_colour_line_style_and_marker(charts):
    loss = charts._panels[0]
    train, validation = loss.train_points, loss.val_line
    distance = sum((a - b) ** 2 for a, b in zip(to_rgb(train.get_color()),
                                                to_rgb(validation.get_color()))) ** 0.5
    assert distance > 0.5                      # not two near-identical blues
    assert loss.batch_line.get_linestyle() != validation.get_linestyle()
    assert train.get_marker() != validation.get_marker()


def test_a_stopped_epoch_is_drawn_hollow_where_it_stopped_and_named(charts):
    history = history_stopped_in_epoch_3()
    charts.set_planned_epochs(5)
    charts.set_history(history)
    for panel in charts._panels:
        assert list(panel.train_points.get_xdata()) == [1.0, 2.0]   # whole epochs only
        assert list(panel.train_partial.get_xdata()) == [pytest.approx(2 + 40 / 113)]
        assert panel.train_partial.get_markerfacecolor() in ("white", "w", (1, 1, 1, 1))
    assert any("epoch 3 stopped (40/113 batches)" in text for text in charts.legend_texts())
    assert "Epoch 3 stopped at batch 40/113" in charts.readout.text()


def test_the_readout_shows_epoch_accuracy_and_validation_live(charts, qtbot):
    history = TrainingHistory()
    charts.set_planned_epochs(5)
    charts.set_history(history)
    assert charts.readout.values["epoch"].text() == "0 / 5"
    history.add_batch(0, 9, 20, {"loss": 1.0, "accuracy": 0.25})
    charts.refresh()
    qtbot.waitUntil(lambda: charts.readout.values["epoch"].text() == "1 / 5")
    assert charts.readout.values["accuracy"].text() == "25.0%"
    assert "batch 10/20" in charts.readout.text()
    history.add_batch(0, 19, 20, {"loss": 0.8, "accuracy": 0.5})
    history.add_epoch({"loss": 0.8, "accuracy": 0.5, "val_loss": 0.9, "val_accuracy": 0.4})
    charts.refresh()
    qtbot.waitUntil(lambda: charts.readout.values["val_accuracy"].text() == "40.0%")
    assert charts.readout.values["accuracy"].text() == "50.0%"
    assert "stopped" not in charts.readout.text()
