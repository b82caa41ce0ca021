"""The run store: every training run in one embedded SQLite database, `runs.sqlite` in the
user's data folder (CNNVIZ_HOME when set).

One table per concern: `runs` (what was trained, on what, with which settings, and how it
ended), `epochs` (the per-epoch history), `tags`, and `meta` (the `schema_version`). The file
is in WAL mode with a busy timeout, so several processes (the app, `cnnviz train`, sweep
workers) write at once; every write is one transaction, so a run is never half-written.

A run whose process died (killed, crashed, power cut) keeps status "running" in the file;
the store reports it as "unfinished" when its process is gone: each run records the PID and
host that write it, and a run of this host whose PID is no longer alive is marked
"unfinished" when the store is opened. Runs written by another host stay "running" until
their own host opens the store (their process may well be alive).

A damaged file, or one written by a newer cnnviz, raises RunStoreError (a CnnvizError) and
is never written to; older files are migrated forward when opened.
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

from cnnviz.core.errors import CnnvizError
from cnnviz.core.user_folders import user_data_folder

__all__ = [
    "RunStore", "RunStart", "RunRecord", "RunStoreError", "SCHEMA_VERSION", "STORE_FILE_NAME",
    "default_store_path", "FinalStatus", "STATUSES", "process_is_alive",
]

SCHEMA_VERSION = 2
STORE_FILE_NAME = "runs.sqlite"
BUSY_TIMEOUT_MS = 15_000
FinalStatus = Literal["finished", "stopped", "failed"]
# "running": its process is writing it; "unfinished": its process died before the end.
STATUSES: tuple[str, ...] = ("running", "finished", "stopped", "failed", "unfinished")
# Deleted runs are kept this long for undo, then removed when a store is opened.
UNDO_KEEP_SECONDS = 7 * 24 * 3600


class RunStoreError(CnnvizError):
    """The run store cannot be opened or used (damaged, newer, unwritable), or a run id is
    unknown."""


def default_store_path() -> Path:
    """runs.sqlite in the user's data folder (CNNVIZ_HOME when set)."""
    return user_data_folder() / STORE_FILE_NAME


@dataclass
class RunStart:
    """What is known when a run starts."""

    name: str
    spec_json: str
    param_count: int
    data_source: str
    train_count: int
    validation_count: int
    test_count: int
    settings: dict[str, Any] = field(default_factory=dict)  # optimizer, learning_rate, ...
    tags: list[str] = field(default_factory=list)
    sweep: str | None = None


@dataclass
class RunRecord:
    """One run as stored. `history` (one dict of logs per epoch) is filled by `get` only."""

    id: int
    name: str
    status: str
    started_at: float                 # seconds since the epoch (time.time())
    ended_at: float | None
    spec_json: str
    param_count: int
    data_source: str
    train_count: int
    validation_count: int
    test_count: int
    settings: dict[str, Any]
    tags: list[str]
    sweep: str | None
    final: dict[str, float]           # loss, accuracy, val_loss, val_accuracy, test_loss, ...
    model_path: str | None
    notes: str
    epochs_done: int
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; None while running or when it never ended."""
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)

    @property
    def model_name(self) -> str:
        """The spec's own name ("model" when it has none or cannot be read)."""
        try:
            name = json.loads(self.spec_json).get("name")
        except (ValueError, AttributeError):
            return "model"
        return str(name) if name else "model"


# The current schema. Older versions are migrated by _MIGRATIONS, in order.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    spec_json TEXT NOT NULL,
    param_count INTEGER NOT NULL,
    data_source TEXT NOT NULL,
    train_count INTEGER NOT NULL,
    validation_count INTEGER NOT NULL,
    test_count INTEGER NOT NULL,
    settings_json TEXT NOT NULL,
    sweep TEXT,
    final_json TEXT NOT NULL DEFAULT '{}',
    model_path TEXT,
    notes TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    host TEXT,
    deleted_token TEXT,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs (sweep);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    logs_json TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS tags (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
);
"""


def _migrate_1_to_2(connection: sqlite3.Connection) -> None:
    """Version 1 had no process columns (so no way to tell a dead run from a live one) and
    no undo of deletes. Its runs still "running" can only be unfinished now."""
    for column in ("pid INTEGER", "host TEXT", "deleted_token TEXT", "deleted_at REAL"):
        connection.execute(f"ALTER TABLE runs ADD COLUMN {column}")
    connection.execute("CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs (sweep)")
    connection.execute("UPDATE runs SET status = 'unfinished' WHERE status = 'running'")


_MIGRATIONS = {1: _migrate_1_to_2}


def process_is_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))  # type: ignore[attr-defined]
        ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return False
    # A killed child not yet reaped by its parent is a zombie: dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _finite(logs: dict[str, Any]) -> dict[str, float]:
    """Numbers only, NaN and infinities as None-free floats JSON can carry (as strings)."""
    clean: dict[str, float] = {}
    for key, value in logs.items():
        try:
            clean[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return clean


def _dumps(value: Any) -> str:
    # NaN/inf are valid Python JSON (json.loads reads them back); a diverged run has them.
    return json.dumps(value, ensure_ascii=False, default=str)


class RunStore:
    """The runs database. Thread-safe (one connection, one lock); several processes may open
    the same file at once.

    Raises RunStoreError when the file is damaged, was written by a newer cnnviz, or cannot
    be created; the file is then left exactly as it was.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self._lock = threading.Lock()
        self._host = socket.gethostname()
        self._connection = self._open()

    # ------------------------------------------------------------------ opening

    def _problem(self, what: str) -> RunStoreError:
        return RunStoreError(f"The experiments database {self.path} {what}")

    def _open(self) -> sqlite3.Connection:
        new = not self.path.exists()
        if new:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._problem(f"cannot be created: {exc.strerror or exc}.") from None
        elif self.path.is_dir():
            raise self._problem("is a folder, not a file. Move it away so cnnviz can "
                                "record runs.")
        try:
            connection = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000,
                                         isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._problem(f"cannot be opened ({exc}).") from None
        try:
            self._prepare(connection, new)
        except BaseException:
            connection.close()
            raise
        return connection

    def _prepare(self, connection: sqlite3.Connection, new: bool) -> None:
        damaged = ("is damaged or is not a cnnviz database, so runs cannot be recorded. "
                   "cnnviz left it untouched; move it away (or delete it) to start a new one.")
        # Switching a file to WAL needs it alone for a moment, and SQLite does not wait for
        # that: a process opening the store while another sets it up is told "locked",
        # which is waited out here, never taken for damage.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._check_and_set_up(connection, new, damaged)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                    self._refuse(exc, damaged)
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                self._refuse(exc, damaged)

    def _check_and_set_up(self, connection: sqlite3.Connection, new: bool,
                          damaged: str) -> None:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # One read transaction: another process creating the store may commit between two
        # separate reads, and "tables but no version" would then look like a foreign file.
        connection.execute("BEGIN")
        try:
            version = self._version(connection)
            foreign = version is None and not new and self._has_tables(connection)
        finally:
            connection.execute("COMMIT")
        if foreign:
            raise self._problem(damaged)
        if version is not None and version > SCHEMA_VERSION:
            raise self._problem(f"was written by a newer cnnviz (its format is version "
                                f"{version}; this cnnviz knows up to {SCHEMA_VERSION}). It "
                                f"was left untouched; update cnnviz to use it.")
        self._set_up(connection)

    def _refuse(self, exc: sqlite3.DatabaseError, damaged: str) -> NoReturn:
        if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
            raise self._problem("is read-only, so runs cannot be recorded.") from None
        raise self._problem(damaged) from None

    def _set_up(self, connection: sqlite3.Connection) -> None:
        """WAL, then the schema created or migrated, in one transaction."""
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, fewer fsyncs
        connection.execute("PRAGMA foreign_keys = ON")
        with self._transaction(connection):
            # Read again inside the write lock: another process may have created it.
            version = self._version(connection)
            if version is None:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute("INSERT OR REPLACE INTO meta VALUES "
                                   "('schema_version', ?)", (str(SCHEMA_VERSION),))
            else:
                while version < SCHEMA_VERSION:
                    _MIGRATIONS[version](connection)
                    version += 1
                connection.execute("UPDATE meta SET value = ? WHERE key = "
                                   "'schema_version'", (str(SCHEMA_VERSION),))
            self._mark_dead_runs(connection)
            connection.execute("DELETE FROM runs WHERE deleted_at IS NOT NULL AND "
                               "deleted_at < ?", (time.time() - UNDO_KEEP_SECONDS,))

    @staticmethod
    def _has_tables(connection: sqlite3.Connection) -> bool:
        return int(connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]) > 0

    @staticmethod
    def _version(connection: sqlite3.Connection) -> int | None:
        """The file's schema version; None for an empty file. Raises DatabaseError for a
        file that is not a cnnviz database."""
        has_meta = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = "
                                      "'table' AND name = 'meta'").fetchone()[0]
        if not has_meta:
            return None
        row = connection.execute("SELECT value FROM meta WHERE key = "
                                 "'schema_version'").fetchone()
        try:
            return int(row[0]) if row is not None else None
        except (TypeError, ValueError):
            raise sqlite3.DatabaseError("schema_version is not a number") from None

    @staticmethod
    @contextmanager
    def _transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock at once: two writers never deadlock upgrading a read.
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                with self._transaction(self._connection) as connection:
                    yield connection
            except sqlite3.DatabaseError as exc:
                raise self._problem(f"could not be written ({exc}).") from None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection
            except sqlite3.DatabaseError as exc:
                raise self._problem(f"could not be read ({exc}).") from None

    def _mark_dead_runs(self, connection: sqlite3.Connection) -> None:
        rows = connection.execute("SELECT id, pid FROM runs WHERE status = 'running' AND "
                                  "host = ?", (self._host,)).fetchall()
        dead = [run_id for run_id, pid in rows if pid is None or not process_is_alive(pid)]
        connection.executemany("UPDATE runs SET status = 'unfinished' WHERE id = ?",
                               [(run_id,) for run_id in dead])

    def close(self) -> None:
        """Close the connection (the store cannot be used afterwards)."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing a run

    def start_run(self, start: RunStart) -> int:
        """Record a run that starts now; returns its id."""
        with self._write() as connection:
            cursor = connection.execute(
                "INSERT INTO runs (name, status, started_at, spec_json, param_count, "
                "data_source, train_count, validation_count, test_count, settings_json, sweep, "
                "pid, host) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (start.name, time.time(), start.spec_json, int(start.param_count),
                 start.data_source, int(start.train_count), int(start.validation_count),
                 int(start.test_count), _dumps(start.settings), start.sweep, os.getpid(),
                 self._host))
            run_id = int(cursor.lastrowid or 0)
            connection.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)",
                                   [(run_id, tag) for tag in dict.fromkeys(start.tags) if tag])
        return run_id

    def add_epoch(self, run_id: int, epoch: int, logs: dict[str, float]) -> None:
        """Record one epoch's logs (loss, accuracy, val_loss, ...); a repeated epoch replaces
        the earlier one."""
        with self._write() as connection:
            connection.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?, ?)",
                               (run_id, int(epoch), _dumps(_finite(logs))))

    def finish_run(self, run_id: int, status: FinalStatus, final: dict[str, float],
                   model_path: str | None = None) -> None:
        """Record how a run ended: its status, final metrics and (if saved) the model's path."""
        if status not in ("finished", "stopped", "failed"):
            raise RunStoreError(f"A run ends finished, stopped or failed, not '{status}'.")
        with self._write() as connection:
            self._require(connection, run_id)
            connection.execute("UPDATE runs SET status = ?, ended_at = ?, final_json = ?, "
                               "model_path = COALESCE(?, model_path) WHERE id = ?",
                               (status, time.time(), _dumps(_finite(final)), model_path, run_id))

    def update_final(self, run_id: int, final: dict[str, float] | None = None,
                     model_path: str | None = None) -> None:
        """Add metrics measured after the run ended (the test accuracy) and/or the path the
        model was saved to later."""
        with self._write() as connection:
            row = self._require(connection, run_id)
            merged = json.loads(row[0]) | _finite(final or {})
            connection.execute("UPDATE runs SET final_json = ?, model_path = COALESCE(?, "
                               "model_path) WHERE id = ?", (_dumps(merged), model_path, run_id))

    def _require(self, connection: sqlite3.Connection, run_id: int) -> Any:
        row = connection.execute("SELECT final_json FROM runs WHERE id = ? AND deleted_at "
                                 "IS NULL", (run_id,)).fetchone()
        if row is None:
            raise RunStoreError(f"There is no run {run_id} in {self.path}.")
        return row

    # ------------------------------------------------------------------ notes, tags, delete

    def set_notes(self, run_id: int, notes: str) -> None:
        """Replace a run's notes."""
        with self._write() as connection:
            self._require(connection, run_id)
            connection.execute("UPDATE runs SET notes = ? WHERE id = ?", (notes, run_id))

    def add_tag(self, run_id: int, tag: str) -> None:
        """Tag a run (a tag it has already is kept once)."""
        tag = tag.strip()
        if not tag:
            raise RunStoreError("A tag needs at least one letter or digit.")
        with self._write() as connection:
            self._require(connection, run_id)
            connection.execute("INSERT OR IGNORE INTO tags VALUES (?, ?)", (run_id, tag))

    def remove_tag(self, run_id: int, tag: str) -> None:
        """Remove a tag from a run (nothing happens if it does not have it)."""
        with self._write() as connection:
            connection.execute("DELETE FROM tags WHERE run_id = ? AND tag = ?", (run_id, tag))

    def delete(self, ids: Iterable[int]) -> str:
        """Delete runs; returns a token that `restore` takes to bring them back (kept for a
        week). Raises RunStoreError naming an id that is not in the store."""
        wanted = list(dict.fromkeys(int(i) for i in ids))
        token = uuid.uuid4().hex
        with self._write() as connection:
            for run_id in wanted:
                self._require(connection, run_id)
            connection.executemany("UPDATE runs SET deleted_token = ?, deleted_at = ? WHERE "
                                   "id = ?", [(token, time.time(), i) for i in wanted])
        return token

    def restore(self, token: str) -> list[int]:
        """Undo a `delete`; returns the ids brought back (none if the token is unknown)."""
        with self._write() as connection:
            ids = [row[0] for row in connection.execute(
                "SELECT id FROM runs WHERE deleted_token = ?", (token,))]
            connection.execute("UPDATE runs SET deleted_token = NULL, deleted_at = NULL WHERE "
                               "deleted_token = ?", (token,))
        return ids

    # ------------------------------------------------------------------ reading

    _COLUMNS = ("id, name, status, started_at, ended_at, spec_json, param_count, data_source, "
                "train_count, validation_count, test_count, settings_json, sweep, final_json, "
                "model_path, notes, pid, host, "
                "(SELECT count(*) FROM epochs WHERE epochs.run_id = runs.id)")

    def runs(self, *, status: str | None = None, sweep: str | None = None,
             tag: str | None = None, text: str | None = None,
             limit: int | None = None) -> list[RunRecord]:
        """The runs, newest first, without their per-epoch history.

        status, sweep and tag keep runs that match exactly; text keeps runs whose name, data
        source, notes or sweep contain it (any case).
        """
        where, values = ["deleted_at IS NULL"], []
        if status is not None:
            where.append("status = ?")
            values.append(status)
        if sweep is not None:
            where.append("sweep = ?")
            values.append(sweep)
        if tag is not None:
            where.append("id IN (SELECT run_id FROM tags WHERE tag = ?)")
            values.append(tag)
        if text:
            where.append("(name LIKE ? ESCAPE '\\' OR data_source LIKE ? ESCAPE '\\' OR notes "
                         "LIKE ? ESCAPE '\\' OR IFNULL(sweep, '') LIKE ? ESCAPE '\\')")
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            values += [pattern] * 4
        sql = (f"SELECT {self._COLUMNS} FROM runs WHERE {' AND '.join(where)} "
               f"ORDER BY started_at DESC, id DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._read() as connection:
            rows = connection.execute(sql, values).fetchall()
            tags: dict[int, list[str]] = {}
            for run_id, tag_text in connection.execute("SELECT run_id, tag FROM tags "
                                                       "ORDER BY tag"):
                tags.setdefault(run_id, []).append(tag_text)
        return [self._record(row, tags.get(row[0], [])) for row in rows]

    def get(self, run_id: int) -> RunRecord:
        """One run with its per-epoch history. Raises RunStoreError for an unknown id."""
        with self._read() as connection:
            row = connection.execute(f"SELECT {self._COLUMNS} FROM runs WHERE id = ? AND "
                                     f"deleted_at IS NULL", (run_id,)).fetchone()
            if row is None:
                raise RunStoreError(f"There is no run {run_id} in {self.path}.")
            tags = [t for (t,) in connection.execute("SELECT tag FROM tags WHERE run_id = ? "
                                                     "ORDER BY tag", (run_id,))]
            history = [json.loads(logs) for (logs,) in connection.execute(
                "SELECT logs_json FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))]
        record = self._record(row, tags)
        record.history = history
        return record

    def _record(self, row: Any, tags: list[str]) -> RunRecord:
        (run_id, name, status, started, ended, spec_json, params, source, train, validation,
         test, settings, sweep, final, model_path, notes, pid, host, epochs) = row
        if status == "running" and host == self._host and (pid is None
                                                            or not process_is_alive(pid)):
            status = "unfinished"  # died since this store was opened
        return RunRecord(run_id, name, status, started, ended, spec_json, params, source, train,
                         validation, test, json.loads(settings), tags, sweep, json.loads(final),
                         model_path, notes, epochs)

    # ------------------------------------------------------------------ export

    def export_csv(self, path: Path | str, ids: Iterable[int] | None = None) -> int:
        """Write one row per run (newest first; only `ids` when given); returns the row count.

        Columns: id, name, status, sweep, model, parameters, data, training-set size,
        validation and test counts, every setting (one column each), the final train,
        validation and test accuracy and loss, duration in seconds, started (UTC), tags,
        notes, model path.
        """
        records = self.runs()
        if ids is not None:
            wanted = set(int(i) for i in ids)
            missing = sorted(wanted - {r.id for r in records})
            if missing:
                raise RunStoreError(f"There is no run {missing[0]} in {self.path}.")
            records = [r for r in records if r.id in wanted]
        setting_names: list[str] = []
        for record in records:
            setting_names += [k for k in record.settings if k not in setting_names]
        metrics = ("accuracy", "loss", "val_accuracy", "val_loss", "test_accuracy", "test_loss")
        header = (["id", "name", "status", "sweep", "model", "parameters", "data",
                   "train_count", "validation_count", "test_count"] + setting_names
                  + [f"final_{m}" for m in metrics]
                  + ["duration_seconds", "started_utc", "tags", "notes", "model_path"])
        from cnnviz.core.atomic_save import save_text_atomically

        lines: list[list[Any]] = [header]
        for r in records:
            lines.append([r.id, r.name, r.status, r.sweep or "", r.model_name, r.param_count,
                          r.data_source, r.train_count, r.validation_count, r.test_count]
                         + [_cell(r.settings.get(k)) for k in setting_names]
                         + [_cell(r.final.get(m)) for m in metrics]
                         + [_cell(r.duration),
                            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.started_at)),
                            " ".join(r.tags), r.notes, r.model_path or ""])
        import io

        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(lines)
        save_text_atomically(Path(path), buffer.getvalue())
        return len(records)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
