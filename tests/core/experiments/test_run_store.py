"""The run store on real SQLite files: runs, epochs, tags, notes, delete/undo, CSV, several
processes at once, a killed run, migration from version 1, damaged and newer files."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cnnviz.core.experiments.recording import open_recorder
from cnnviz.core.experiments.run_store import (
    SCHEMA_VERSION, RunStart, RunStore, RunStoreError, default_store_path,
)

ROOT = Path(__file__).resolve().parents[3]


def start(name: str = "run", **changes) -> RunStart:
    values = dict(name=name, spec_json=json.dumps({"name": "tutorial_cnn", "layers": []}),
                  param_count=34_826, data_source="mnist-sample", train_count=5_900,
                  validation_count=100, test_count=1_000,
                  settings={"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64,
                            "epochs": 2, "early_stopping": False, "seed": 1337},
                  tags=["baseline"])
    values.update(changes)
    return RunStart(**values)


def test_a_run_is_recorded_with_its_history_and_read_back(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(start("first"))
    assert store.get(run_id).status == "running"
    store.add_epoch(run_id, 0, {"loss": 0.9, "accuracy": 0.7, "val_loss": 1.0, "val_accuracy": 0.65})
    store.add_epoch(run_id, 1, {"loss": 0.4, "accuracy": 0.9, "val_loss": 0.5, "val_accuracy": 0.85})
    store.finish_run(run_id, "finished", {"loss": 0.4, "accuracy": 0.9}, "/models/a.keras")
    store.update_final(run_id, {"test_accuracy": 0.88, "test_loss": 0.45})
    store.close()

    again = RunStore(tmp_path / "runs.sqlite")   # a new connection sees all of it
    record = again.get(run_id)
    assert record.status == "finished" and record.epochs_done == 2
    assert [row["val_accuracy"] for row in record.history] == [0.65, 0.85]
    assert record.final == {"loss": 0.4, "accuracy": 0.9, "test_accuracy": 0.88, "test_loss": 0.45}
    assert record.model_path == "/models/a.keras" and record.duration is not None
    assert record.settings["learning_rate"] == 0.001 and record.model_name == "tutorial_cnn"
    assert (record.train_count, record.validation_count, record.test_count) == (5_900, 100, 1_000)
    assert record.tags == ["baseline"] and record.param_count == 34_826


def test_runs_are_newest_first_and_filter_by_status_sweep_tag_and_text(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    a = store.start_run(start("dense baseline", tags=["dense"]))
    b = store.start_run(start("cnn 300", sweep="less-data", tags=[]))
    c = store.start_run(start("cnn 600", sweep="less-data", data_source="fashion-mnist"))
    store.finish_run(a, "stopped", {})
    assert [r.id for r in store.runs()] == [c, b, a]
    assert [r.id for r in store.runs(sweep="less-data")] == [c, b]
    assert [r.id for r in store.runs(tag="dense")] == [a]
    assert [r.id for r in store.runs(status="stopped")] == [a]
    assert [r.id for r in store.runs(text="FASHION")] == [c]
    assert [r.id for r in store.runs(text="100%")] == []      # LIKE wildcards are literal
    assert [r.id for r in store.runs(limit=1)] == [c]


def test_notes_tags_and_delete_with_undo(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    a, b = store.start_run(start("a")), store.start_run(start("b"))
    store.set_notes(a, "dropout helped")
    store.add_tag(a, "keep")
    store.add_tag(a, "keep")
    store.remove_tag(a, "baseline")
    assert store.get(a).notes == "dropout helped" and store.get(a).tags == ["keep"]
    token = store.delete([a, b])
    assert store.runs() == []
    with pytest.raises(RunStoreError, match=f"no run {a}"):
        store.get(a)
    assert sorted(store.restore(token)) == [a, b]
    assert [r.id for r in store.runs()] == [b, a] and store.get(a).notes == "dropout helped"
    with pytest.raises(RunStoreError, match="no run 999"):
        store.delete([999])
    with pytest.raises(RunStoreError, match="no run 999"):
        store.set_notes(999, "x")


def test_csv_has_one_row_per_run_with_every_setting_and_final_metric(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    a = store.start_run(start("adam"))
    b = store.start_run(start("sgd", sweep="s1",
                              settings={"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.9}))
    store.finish_run(a, "finished", {"accuracy": 0.91, "loss": 0.3, "val_accuracy": 0.9,
                                     "val_loss": 0.32})
    store.update_final(a, {"test_accuracy": 0.89, "test_loss": 0.35})
    out = tmp_path / "runs.csv"
    assert store.export_csv(out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["id"] for row in rows] == [str(b), str(a)]
    first = rows[1]
    assert first["name"] == "adam" and first["model"] == "tutorial_cnn"
    assert first["parameters"] == "34826" and first["data"] == "mnist-sample"
    assert first["train_count"] == "5900" and first["optimizer"] == "adam"
    assert first["learning_rate"] == "0.001" and first["batch_size"] == "64"
    assert (first["final_accuracy"], first["final_val_loss"], first["final_test_accuracy"]) == \
        ("0.91", "0.32", "0.89")
    assert float(first["duration_seconds"]) >= 0 and first["sweep"] == ""
    assert rows[0]["momentum"] == "0.9" and rows[0]["sweep"] == "s1"
    assert rows[0]["final_accuracy"] == "" and rows[0]["duration_seconds"] == ""
    store.export_csv(out, ids=[a])
    assert [row["id"] for row in csv.DictReader(out.open(encoding="utf-8"))] == [str(a)]


WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from cnnviz.core.experiments.run_store import RunStart, RunStore
    store = RunStore(Path(sys.argv[1]))
    for n in range(int(sys.argv[3])):
        run_id = store.start_run(RunStart(f"{sys.argv[2]}-{n}", "{}", 10, "x", 1, 0, 0))
        for epoch in range(5):
            store.add_epoch(run_id, epoch, {"loss": 1.0 / (epoch + 1)})
        store.finish_run(run_id, "finished", {"loss": 0.2}, None)
""")


def test_two_processes_write_at_once(tmp_path):
    path = tmp_path / "runs.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), who, "25"], env=env,
                                stderr=subprocess.PIPE, text=True) for who in ("left", "right")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    store = RunStore(path)
    records = store.runs()
    assert len(records) == 50
    assert {r.name.split("-")[0] for r in records} == {"left", "right"}
    assert all(r.status == "finished" and r.epochs_done == 5 for r in records)
    assert store._connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


KILLED = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cnnviz.core.experiments.run_store import RunStart, RunStore
    store = RunStore(Path(sys.argv[1]))
    run_id = store.start_run(RunStart("killed", "{}", 10, "x", 1, 0, 0))
    store.add_epoch(run_id, 0, {"loss": 0.5})
    store.add_epoch(run_id, 1, {"loss": 0.4})
    print(run_id, flush=True)
    time.sleep(600)
""")


def test_a_killed_run_is_marked_unfinished_and_keeps_its_epochs(tmp_path):
    path = tmp_path / "runs.sqlite"
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE,
                             text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    run_id = int(child.stdout.readline())
    assert RunStore(path).get(run_id).status == "running"   # its process is alive
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    store = RunStore(path)
    record = store.get(run_id)
    assert record.status == "unfinished" and record.epochs_done == 2 and record.ended_at is None
    # Marked in the file at open, not only in what this store shows.
    assert store._connection.execute("SELECT status FROM runs WHERE id = ?",
                                     (run_id,)).fetchone()[0] == "unfinished"


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL,
    started_at REAL NOT NULL, ended_at REAL, spec_json TEXT NOT NULL, param_count INTEGER NOT NULL,
    data_source TEXT NOT NULL, train_count INTEGER NOT NULL, validation_count INTEGER NOT NULL,
    test_count INTEGER NOT NULL, settings_json TEXT NOT NULL, sweep TEXT,
    final_json TEXT NOT NULL DEFAULT '{}', model_path TEXT, notes TEXT NOT NULL DEFAULT '');
CREATE TABLE epochs (run_id INTEGER NOT NULL, epoch INTEGER NOT NULL, logs_json TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch));
CREATE TABLE tags (run_id INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (run_id, tag));
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO runs (name, status, started_at, ended_at, spec_json, param_count, data_source,
    train_count, validation_count, test_count, settings_json, final_json, notes)
    VALUES ('old finished', 'finished', 1000, 1060, '{"name": "m"}', 5, 'mnist-sample', 100, 10,
            50, '{"optimizer": "sgd"}', '{"accuracy": 0.5}', 'from v1');
INSERT INTO runs (name, status, started_at, spec_json, param_count, data_source, train_count,
    validation_count, test_count, settings_json)
    VALUES ('old running', 'running', 2000, '{}', 5, 'mnist-sample', 100, 10, 50, '{}');
INSERT INTO epochs VALUES (1, 0, '{"loss": 0.7}');
INSERT INTO tags VALUES (1, 'v1');
"""


def test_a_version_1_file_is_migrated_forward(tmp_path):
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as connection:
        connection.executescript(V1_SCHEMA)
    store = RunStore(path)
    old, running = store.get(1), store.get(2)
    assert (old.name, old.status, old.notes, old.tags) == ("old finished", "finished", "from v1", ["v1"])
    assert old.history == [{"loss": 0.7}] and old.duration == 60
    assert running.status == "unfinished"   # v1 could not tell a dead run from a live one
    new = store.start_run(start("after"))
    token = store.delete([new])
    assert store.restore(token) == [new]
    store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)


def test_a_damaged_file_is_a_clear_error_and_is_never_overwritten(tmp_path):
    path = tmp_path / "runs.sqlite"
    damaged = b"SQLite format 3\x00" + bytes(range(256)) * 20
    path.write_bytes(damaged)
    with pytest.raises(RunStoreError, match="is damaged .* left it untouched"):
        RunStore(path)
    assert path.read_bytes() == damaged
    other = tmp_path / "other.sqlite"   # a real SQLite file, but not ours
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE photos (x)")
    before = other.read_bytes()
    with pytest.raises(RunStoreError, match="not a cnnviz database"):
        RunStore(other)
    assert other.read_bytes() == before


def test_a_newer_file_is_a_clear_error_and_is_never_overwritten(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = path.read_bytes()
    with pytest.raises(RunStoreError, match="newer cnnviz .*version 99"):
        RunStore(path)
    assert path.read_bytes() == before


def test_the_default_store_is_in_cnnviz_home_and_a_bad_store_only_skips_recording(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / "runs.sqlite"
    recorder, problem = open_recorder("run", "mnist-sample")
    assert recorder is not None and problem is None
    assert recorder.store.path == tmp_path / "home" / "runs.sqlite"
    recorder.store.close()
    (tmp_path / "home" / "runs.sqlite").write_bytes(b"not a database at all" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / "home" / f"runs.sqlite{suffix}").unlink(missing_ok=True)
    recorder, problem = open_recorder("run", "mnist-sample")
    assert recorder is None and "damaged" in problem and "not recorded" in problem
    monkeypatch.setenv("CNNVIZ_RECORD_RUNS", "0")
    assert open_recorder("run", "mnist-sample") == (None, None)


OPENER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cnnviz.core.experiments.run_store import RunStart, RunStore
    start = float(sys.argv[3])
    while time.time() < start:  # every process opens the new file at the same moment
        pass
    store = RunStore(Path(sys.argv[1]))
    store.finish_run(store.start_run(RunStart(sys.argv[2], "{}", 1, "x", 1, 0, 0)),
                     "finished", {})
""")


def test_many_processes_creating_the_store_at_once_all_get_it(tmp_path):
    """Switching a new file to WAL needs it alone for a moment: a process told "locked"
    then waits, instead of calling the file damaged (without the wait, about one round in
    three failed here)."""
    import time

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for round_number in range(6):
        path = tmp_path / f"runs{round_number}.sqlite"
        start = str(time.time() + 0.6)
        openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(path), f"p{n}", start],
                                    env=env, stderr=subprocess.PIPE, text=True)
                   for n in range(8)]
        for opener in openers:
            _, err = opener.communicate(timeout=120)
            assert opener.returncode == 0, err
        assert len(RunStore(path).runs()) == 8
