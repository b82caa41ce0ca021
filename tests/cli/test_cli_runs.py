"""`cnnviz train` records its runs; `cnnviz runs` lists, shows, compares (with a plot),
exports and deletes them; a damaged or newer store is one line, exit 2, file untouched."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from cnnviz.cli import main
from cnnviz.core.experiments.run_store import RunStore
from tests.cli.test_cli_train import TINY_SPEC, three_pattern_npz, write_json


@pytest.fixture
def two_runs(tmp_path, home, capsys):
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    data = three_pattern_npz(tmp_path / "patterns.npz", count=120)
    for name, lr in (("first", "0.01"), ("second", "0.05")):
        code = main(["train", str(spec), "--data", str(data), "--epochs", "2", "--batch-size",
                     "16", "--lr", lr, "--name", name, "--out", str(tmp_path / f"{name}.keras")])
        assert code == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "recorded as run 2" in err
    return tmp_path


def test_train_records_and_runs_lists_shows_compares_and_exports(two_runs, home, capsys):
    store = RunStore(home / "runs.sqlite")
    first = store.get(1)
    assert (first.name, first.status, first.epochs_done) == ("first", "finished", 2)
    assert first.settings["learning_rate"] == 0.01 and first.settings["batch_size"] == 16
    assert first.model_path == str((two_runs / "first.keras").resolve())
    assert 0 <= first.final["test_accuracy"] <= 1 and "val_loss" in first.final
    assert first.model_name == "tiny" and first.param_count > 0

    assert main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ID", "NAME", "STATUS"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]   # newest first

    assert main(["runs", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "Run 1: first" in shown and "learning_rate 0.01" in shown and "first.keras" in shown
    assert len([line for line in shown.splitlines() if line.strip().startswith(("1 ", "2 "))]) == 2

    plot = two_runs / "curves.svg"
    assert main(["runs", "compare", "1", "2", "--plot", str(plot)]) == 0
    compared = capsys.readouterr().out
    row = next(line for line in compared.splitlines() if line.startswith("learning_rate"))
    assert row.split()[1:] == ["0.01", "0.05"]
    assert "run 1 first (validation)" in plot.read_text(encoding="utf-8")
    png = two_runs / "curves.png"
    assert main(["runs", "compare", "1", "2", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = two_runs / "runs.csv"
    assert main(["runs", "export", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["name"] for row in rows] == ["second", "first"]
    assert rows[1]["learning_rate"] == "0.01" and rows[1]["train_count"] == str(first.train_count)
    assert float(rows[1]["final_test_accuracy"]) == pytest.approx(first.final["test_accuracy"], abs=1e-6)

    assert main(["runs", "delete", "1"]) == 0
    assert "Deleted run 1" in capsys.readouterr().out
    assert [r.id for r in RunStore(home / "runs.sqlite").runs()] == [2]


def test_no_record_and_the_environment_switch_keep_runs_out(tmp_path, home, capsys, monkeypatch):
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    data = three_pattern_npz(tmp_path / "patterns.npz", count=60)
    base = ["train", str(spec), "--data", str(data), "--epochs", "1", "--out", str(tmp_path / "m.keras")]
    assert main(base + ["--no-record"]) == 0
    monkeypatch.setenv("CNNVIZ_RECORD_RUNS", "0")
    assert main(base) == 0
    assert not (home / "runs.sqlite").exists()
    capsys.readouterr()
    assert main(["runs"]) == 0
    assert "No runs recorded yet" in capsys.readouterr().out


def test_bad_input_is_one_line_and_a_bad_store_is_never_overwritten(tmp_path, home, capsys):
    RunStore(home / "runs.sqlite").close()
    assert main(["runs", "show", "7"]) == 2
    assert capsys.readouterr().err.strip() == \
        f"cnnviz: There is no run 7 in {home / 'runs.sqlite'}."
    assert main(["runs", "compare", "1", "--plot", str(tmp_path / "x.jpg")]) == 2
    assert ".png or .svg" in capsys.readouterr().err
    assert main(["runs", "export", str(tmp_path / "x.txt")]) == 2
    assert ".csv" in capsys.readouterr().err

    with sqlite3.connect(home / "runs.sqlite") as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    before = (home / "runs.sqlite").read_bytes()
    assert main(["runs"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "newer cnnviz" in err
    # `cnnviz train` still trains, with a note that the run is not recorded.
    spec = write_json(tmp_path / "tiny.json", TINY_SPEC)
    data = three_pattern_npz(tmp_path / "patterns.npz", count=60)
    assert main(["train", str(spec), "--data", str(data), "--epochs", "1",
                 "--out", str(tmp_path / "m.keras")]) == 0
    assert "not recorded" in capsys.readouterr().err
    assert (home / "runs.sqlite").read_bytes() == before
