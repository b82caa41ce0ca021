"""`cnnviz dense-vs-cnn`: a line per training, the table, the chart, the recorded runs; bad
input as one plain line before anything trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.core.experiments.run_store import RunStore, default_store_path
from tests.cli.cli_output import one_line


def test_prints_a_line_per_training_a_table_saves_the_chart_and_records_the_runs(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "less data.png"
    assert main(["dense-vs-cnn", "--epochs", "1", "--sizes", "40", "--plot", str(chart)]) == 0
    out, _err = capsys.readouterr()
    lines = out.splitlines()
    trained = [line for line in lines if "test accuracy" in line and " · " in line]
    assert [line.split(" · ")[:2] for line in trained] == [
        ["Dense", "    40 images"], ["CNN  ", "    40 images"]]
    header = lines.index("Test accuracy on 2,000 test images:")
    assert lines[header + 1].split() == ["images", "Dense", "test", "accuracy", "CNN", "test",
                                         "accuracy"]
    assert lines[header + 2].split()[0] == "40" and lines[header + 3] == ""
    assert chart.read_bytes()[:4] == b"\x89PNG"

    with RunStore(default_store_path()) as store:
        runs = [run for run in store.runs() if any(t.startswith("dense-vs-cnn ") for t in run.tags)]
    assert sorted((run.settings["model"], run.train_count) for run in runs) == [
        ("dense_baseline", 40), ("mnist_cnn", 40)]
    tag = runs[0].tags[0]
    assert f"recorded with the tag '{tag}'" in out
    # The run ids printed are the ones recorded, with the test accuracy printed.
    for run in runs:
        line = next(line for line in trained if line.endswith(f"run #{run.id}"))
        assert f"{run.final['test_accuracy']:.1%}" in line


def test_no_record_leaves_the_run_store_alone(home: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dense-vs-cnn", "--epochs", "1", "--sizes", "40", "--no-record"]) == 0
    out, _ = capsys.readouterr()
    assert "run #" not in out and "recorded" not in out
    assert not default_store_path().exists()


@pytest.mark.parametrize("args, words", [
    (["--sizes", "300,lots"], "--sizes 300,lots: write whole numbers"),
    (["--sizes", "300,9000"], "8,000 training images, fewer than the largest size"),
    (["--epochs", "0"], "from 1 to 1000"),
    (["--plot", "chart.jpg"], ".png or .svg"),
    (["--data", "gunpoint-sample", "--sizes", "20"], "does not fit"),
])
def test_bad_input_is_one_plain_line(home: Path, tmp_path: Path, args: list[str], words: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dense-vs-cnn", *args]) == 2
    assert words in one_line(capsys.readouterr().err)
    assert not default_store_path().exists()
