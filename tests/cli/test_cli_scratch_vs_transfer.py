"""`cnnviz scratch-vs-transfer`: a line per run, the verdict, the chart, both runs recorded
under one tag; bad input as one plain line before anything trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.core.experiments.run_store import RunStore, default_store_path
from tests.cli.cli_output import one_line


def test_prints_both_runs_and_the_verdict_saves_the_chart_and_records_one_tag(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "pair chart.png"
    assert main(["scratch-vs-transfer", "--epochs", "1", "--limit", "200",
                 "--plot", str(chart)]) == 0
    out, err = capsys.readouterr()
    assert "Offline version" in err and "fashion_mnist" in err
    assert "scratch epoch 1/1" in err and "transfer epoch 1/1" in err
    lines = out.splitlines()
    assert lines[0].startswith("From scratch ") and lines[1].startswith("Transfer (frozen base)")
    assert "cut at 'flatten'; measured on 2,000 test images." in out
    assert chart.read_bytes()[:4] == b"\x89PNG"

    with RunStore(default_store_path()) as store:
        runs = [run for run in store.runs()
                if any(t.startswith("scratch-vs-transfer ") for t in run.tags)]
    assert sorted(run.settings["kind"] for run in runs) == ["scratch", "transfer"]
    assert len({tuple(run.tags) for run in runs}) == 1
    assert f"recorded with the tag '{runs[0].tags[0]}'" in out
    for run in runs:
        line = next(line for line in lines if line.endswith(f"run #{run.id}"))
        assert f"test accuracy {run.final['test_accuracy']:.1%}" in line
        assert run.train_count == 180 and run.validation_count == 20


def test_no_record_leaves_the_run_store_alone(home: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scratch-vs-transfer", "--epochs", "1", "--limit", "100", "--no-record"]) == 0
    out, _ = capsys.readouterr()
    assert "run #" not in out and "recorded" not in out
    assert not default_store_path().exists()


@pytest.mark.parametrize("arguments, words", [
    (["--epochs", "0"], "from 1 to 1000"),
    (["--limit", "5"], "at least 10"),
    (["--plot", "chart.jpg"], ".png or .svg"),
    (["no-such-model.keras"], "No such file"),
])
def test_bad_input_is_one_plain_line(home: Path, tmp_path: Path, arguments: list[str],
                                     words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scratch-vs-transfer", *arguments]) != 0
    assert words in one_line(capsys.readouterr().err)
    assert not default_store_path().exists()
