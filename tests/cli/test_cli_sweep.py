"""`cnnviz sweep`: a line per trial, a table, the best trial last; continuing a stopped sweep;
bad input as one plain line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.cli import main
from tests.cli.cli_output import one_line
from tests.core.experiments.sweep_fixtures import LIMIT, dense_spec, tiny_spec


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    tiny, dense = tmp_path / "tiny.json", tmp_path / "dense.json"
    tiny.write_text(tiny_spec().to_json(), encoding="utf-8")
    dense.write_text(dense_spec().to_json(), encoding="utf-8")
    return tiny, dense


def _sweep(*args: str) -> list[str]:
    return ["sweep", *args, "--data", "mnist-sample", "--epochs", "1", "--limit", str(LIMIT),
            "--batch-size", "32"]


def test_grid_prints_a_line_per_trial_a_table_and_the_best_last(specs, capsys,
                                                                  tmp_path: Path) -> None:
    tiny, dense = specs
    assert main(_sweep(str(tiny), str(dense), "--param", "learning_rate=0.01,0.003",
                       "--train-sizes", "100,200", "--grid")) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    trial_lines = [line for line in lines if line.startswith("trial ") and " · " in line]
    assert len(trial_lines) == 8
    assert all("val_accuracy" in line and "model=" in line for line in trial_lines)
    header = next(line for line in lines if line.startswith("trial ") and " · " not in line)
    assert header.split() == ["trial", "state", "val_accuracy", "learning_rate", "model",
                              "train_size", "seconds"]
    assert lines[-1].startswith("best: trial ")
    best_score = float(lines[-1].split("val_accuracy ")[1].split()[0])
    scores = [float(line.split("val_accuracy ")[1].split()[0]) for line in trial_lines]
    assert best_score == pytest.approx(max(scores), abs=1e-4)
    assert any(line.startswith("parameter importances: ") for line in lines)
    # Accuracy against each dimension: per value, the mean and best of its trials.
    by_rate = next(line for line in lines if line.startswith("val_accuracy by learning_rate: "))
    for rate in ("0.01", "0.003"):
        mine = [float(line.split("val_accuracy ")[1].split()[0]) for line in trial_lines
                if f"learning_rate={rate} " in line + " " or f"learning_rate={rate}," in line]
        assert len(mine) == 4
        part = next(p for p in by_rate.split(": ", 1)[1].split(" · ") if p.startswith(rate + " "))
        numbers = part.split()
        assert float(numbers[2]) == pytest.approx(sum(mine) / 4, abs=1e-4)
        assert float(numbers[4]) == pytest.approx(max(mine), abs=1e-4)
        assert numbers[5] == "(4)"
    assert any(line.startswith("val_accuracy by train_size: ") for line in lines)
    # The study lives in the default journal, in the user's data folder.
    assert (tmp_path / "home" / "sweeps.journal").is_file()
    assert "tiny+dense@mnist-sample" in err


def test_each_trial_is_recorded_as_a_run_tagged_with_its_sweep(specs, capsys,
                                                                 tmp_path: Path) -> None:
    from cnnviz.core.experiments.run_store import RunStore

    tiny, _ = specs
    assert main(_sweep(str(tiny), "--param", "learning_rate=0.01,0.003", "--grid",
                       "--study", "rates")) == 0
    capsys.readouterr()
    store = RunStore(tmp_path / "home" / "runs.sqlite")
    runs = store.runs(sweep="rates")
    assert len(runs) == 2 and {r.status for r in runs} == {"finished"}
    assert sorted(r.settings["learning_rate"] for r in runs) == [0.003, 0.01]
    assert all("rates" in r.tags for r in runs)
    history = store.get(runs[0].id).history
    assert len(history) == 1 and "val_accuracy" in history[0]
    # --no-record leaves the store as it was.
    assert main(_sweep(str(tiny), "--param", "learning_rate=0.03", "--grid", "--study",
                       "quiet", "--no-record")) == 0
    assert store.runs(sweep="quiet") == []


def test_the_same_command_again_continues_and_adds_nothing_when_done(specs, capsys) -> None:
    tiny, _ = specs
    command = _sweep(str(tiny), "--param", "batch_size=16,32", "--random", "2", "--study", "s")
    assert main(command) == 0
    first = capsys.readouterr().out
    assert main(command) == 0
    again = capsys.readouterr().out
    assert sum(line.startswith("trial ") and " · " in line for line in first.splitlines()) == 2
    assert not any(line.startswith("trial ") and " · " in line for line in again.splitlines())
    # The table still lists both trials and names the best.
    assert again.strip().splitlines()[-1].startswith("best: trial ")
    assert sum(line.split()[:1] in (["0"], ["1"]) for line in again.splitlines()) == 2


@pytest.mark.parametrize("args, message", [
    (("--param", "lr=0.1", "--grid"), "--param lr: no training setting is called that"),
    (("--param", "conv2d.filters=two", "--grid"), "'two' is not a whole number"),
    (("--param", "nolayer.units=3", "--grid"), "no layer is called 'nolayer'"),
    (("--param", "batch_size=", "--grid"), "--param batch_size has no values"),
    (("--grid",), "nothing to vary"),
    (("--param", "batch_size=8", "--random", "0"), "at least 1"),
    (("--param", "batch_size=8", "--grid", "--train-sizes", "many"), "--train-sizes many"),
    (("--param", "batch_size=8", "--grid", "--storage", "postgresql://me:secret@127.0.0.1:9/x"),
     "Cannot reach the database server at 127.0.0.1:9"),
    (("--param", "batch_size=8", "--grid", "--storage", "mysql://me:secret@127.0.0.1:9/x"),
     "Cannot reach the database server at 127.0.0.1:9"),
    (("--param", "batch_size=8", "--grid", "--storage", "ftp://x"), "use a database URL"),
    (("--param", "batch_size=8", "--grid", "--workers", "0"), "--workers must be from 1"),
    (("--param", "batch_size=8", "--grid", "--grace", "0.5"), "--grace must be at least 2 seconds"),
])
def test_bad_input_is_one_plain_line(specs, capsys, args, message) -> None:
    tiny, _ = specs
    assert main(_sweep(str(tiny), *args)) == 2
    out, err = capsys.readouterr()
    line = one_line(err)
    assert message in line
    assert "secret" not in line  # a password never reaches the terminal
