"""Sweeps beyond one process: a worker killed mid-trial (its trial is marked failed and tried
again, not lost) and two worker processes sharing a real PostgreSQL server started by the
test (the trials split between them, none twice)."""

from __future__ import annotations

import collections
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.experiments.sweep import open_study, plan_sweep, results, run_worker
from tests.core.experiments.sweep_fixtures import LIMIT, config, options, tiny_spec

ROOT = Path(__file__).resolve().parents[3]


# Epochs per trial for a worker that the test kills mid-trial: the most the CLI takes, about a
# minute a trial here, so the test surely sees a trial running, however busy the machine (40
# epochs once ended before a busy CI machine's test process could look). The sweep the test
# runs afterwards uses the plan's own few epochs.
ENDLESS = "1000"


def _spec_file(folder: Path) -> Path:
    path = folder / "tiny.json"
    path.write_text(tiny_spec().to_json(), encoding="utf-8")
    return path


def _sweep_command(spec: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cnnviz", "sweep", str(spec), "--data", "mnist-sample",
            "--limit", str(LIMIT), "--batch-size", "32", *extra]


def _environment(home: Path) -> dict[str, str]:
    return {**os.environ, "CNNVIZ_HOME": str(home), "PYTHONPATH": str(ROOT)}


def _wait_for(condition: Any, what: str, limit: float = 180,
              worker: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
    """Poll until condition() (a wait, not a timing assertion: the limit only ends a hang).
    A `worker` process that ends first fails the wait at once; the end of its `log` says why."""
    end = time.monotonic() + limit
    while not condition():
        ended = worker is not None and worker.poll() is not None
        if ended or time.monotonic() > end:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            why = f"the worker ended (exit code {worker.returncode})" if ended and worker \
                else f"gave up waiting for {what}"
            pytest.fail(why + (f"; it printed:\n{tail}" if tail else ""))
        time.sleep(0.2)


def test_a_killed_worker_leaves_its_trial_failed_and_the_sweep_redoes_it(tmp_path: Path) -> None:
    journal = str(tmp_path / "killed.journal")
    spec = _spec_file(tmp_path)
    # Endless trials, so the test surely sees one running and kills the worker in it.
    worker = subprocess.Popen(
        _sweep_command(spec, "--epochs", ENDLESS, "--param", "batch_size=16,32", "--grid",
                       "--storage", journal, "--study", "killed"),
        cwd=ROOT, env=_environment(tmp_path), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    plan = plan_sweep("killed", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["batch_size=16,32"], [], "grid")
    try:
        _wait_for(lambda: Path(journal).exists() and any(
            r.state == "running" for r in results(open_study(plan, journal))),
            "the worker to start a trial", worker=worker)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed = next(r for r in results(open_study(plan, journal)) if r.state == "running")

    finished: list[Any] = []
    run_worker(plan, journal, on_trial=finished.append,
               dataset=load_dataset("mnist-sample", options()))
    trials = results(open_study(plan, journal))
    states = {r.number: r.state for r in trials}
    assert states[killed.number] == "failed"          # marked failed, not lost ...
    complete = sorted(r.params["batch_size"] for r in trials if r.state == "complete")
    assert complete == [16, 32]                        # ... and done again
    assert collections.Counter(r.state for r in trials) == {"complete": 2, "failed": 1}


def _open_at_once(journal: str, start: Any) -> None:
    """A worker on another machine: open (and so plan) the study when all are ready."""
    import optuna  # noqa: F401  (imported before the barrier, so all open the study at once)

    plan = plan_sweep("at-once", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["batch_size=16,32,64"], [], "grid")
    start.wait()
    open_study(plan, journal)


def _grid_of(journal: str) -> list[int]:
    plan = plan_sweep("at-once", {"tiny": tiny_spec()}, "mnist-sample", options(), config(),
                      ["batch_size=16,32,64"], [], "grid")
    study = open_study(plan, journal)
    return sorted(t.system_attrs["fixed_params"]["batch_size"] for t in study.get_trials())


def test_workers_starting_at_the_same_moment_plan_the_grid_once(tmp_path: Path) -> None:
    import multiprocessing

    journal = str(tmp_path / "at-once.journal")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    workers = [context.Process(target=_open_at_once, args=(journal, start)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(180)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert _grid_of(journal) == [16, 32, 64]


def test_a_study_whose_planner_died_midway_is_planned_by_the_next_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import optuna

    from cnnviz.core.experiments import sweep

    journal = str(tmp_path / "at-once.journal")
    # The first worker created the study and queued one grid point, then died.
    half = optuna.create_study(storage=sweep.open_storage(journal), study_name="at-once",
                               direction="maximize")
    half.enqueue_trial({"batch_size": 32})
    monkeypatch.setattr(sweep, "PLAN_WAIT_SECONDS", 0.5)
    assert _grid_of(journal) == [16, 32, 64]


# ---------------------------------------------------------------- a real PostgreSQL server


def _pg_ctl() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1]
    on_path = shutil.which("pg_ctl")
    return Path(on_path) if on_path else None


PG_CTL = _pg_ctl()
# PostgreSQL refuses to run as root (a CI container often is root): then pg_ctl runs as the
# 'postgres' user that Debian's package creates, through this small wrapper.
PG_CTL_AS_POSTGRES = Path("/tmp") / f"cnnviz-test-pg_ctl-{os.getuid()}"
WRAPPER = """#!{python}
import os, pwd, re, sys
PG_CTL = {pg_ctl!r}
user = pwd.getpwnam("postgres")
args = sys.argv[1:]
folders = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-D", "--pgdata")]
folders += [os.path.dirname(args[i + 1]) for i, a in enumerate(args[:-1]) if a == "-l"]
files = [f for a in args for f in re.findall(r"--pwfile=(\\S+)", a)]
for folder in folders:
    os.makedirs(folder, exist_ok=True)
    for top, dirs, names in os.walk(folder):
        for name in [top] + [os.path.join(top, n) for n in dirs + names]:
            os.chown(name, user.pw_uid, user.pw_gid)
for path in folders + files:
    parent = os.path.dirname(os.path.abspath(path))
    while parent != "/":  # let the postgres user reach the test's temporary folder
        os.chmod(parent, os.stat(parent).st_mode | 0o011)
        parent = os.path.dirname(parent)
for path in files:
    os.chown(path, user.pw_uid, user.pw_gid)
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
os.execv(PG_CTL, [PG_CTL] + args)
"""


def _executable() -> str:
    if PG_CTL is None:
        return "pg_ctl"
    if os.getuid() != 0:
        return str(PG_CTL)
    return str(PG_CTL_AS_POSTGRES)


def _server_problem() -> str | None:
    if PG_CTL is None:
        return ("no PostgreSQL server binary (pg_ctl) is installed; install Debian's "
                "'postgresql' package to run this test")
    if os.getuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the server as"
    return None


@pytest.fixture
def postgresql_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server of its own for this test (pytest-postgresql's executor, started
    and stopped here, so nothing else in the session shares its lifetime)."""
    problem = _server_problem()
    if problem is not None:
        pytest.skip(problem)
    if os.getuid() == 0:
        PG_CTL_AS_POSTGRES.write_text(WRAPPER.format(python=sys.executable,
                                                     pg_ctl=str(PG_CTL)), encoding="utf-8")
        PG_CTL_AS_POSTGRES.chmod(0o755)
    import port_for
    import psycopg
    from pytest_postgresql.executors import PostgreSQLExecutor

    folder = tmp_path_factory.mktemp("postgresql")
    port = port_for.select_random()
    server = PostgreSQLExecutor(
        executable=_executable(), host="127.0.0.1", port=port, datadir=str(folder / "data"),
        unixsocketdir=str(folder), logfile=str(folder / "server.log"), startparams="-w",
        dbname="postgres", user="postgres", password="sweep")
    server.start()
    try:
        server.wait_for_postgres()
        with psycopg.connect(host=server.host, port=server.port, user=server.user,
                             password=server.password, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE cnnviz_sweeps")
        yield f"postgresql://postgres:sweep@127.0.0.1:{port}/cnnviz_sweeps"
    finally:
        server.stop()


def test_two_workers_split_the_trials_on_a_real_postgresql_server(
        tmp_path: Path, postgresql_url: str) -> None:
    spec = _spec_file(tmp_path)
    grid = ["batch_size=16,32", "learning_rate=0.01,0.003", "conv2d.filters=2,4"]
    command = _sweep_command(spec, "--epochs", "2", *[f"--param={p}" for p in grid],
                             "--grid", "--workers", "2", "--storage", postgresql_url,
                             "--study", "shared")
    done = subprocess.run(command, cwd=ROOT, env=_environment(tmp_path), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("best: trial ")

    plan = plan_sweep("shared", {"tiny": tiny_spec()}, "mnist-sample", options(), config(2),
                      grid, [], "grid")
    trials = results(open_study(plan, postgresql_url))
    combos = [tuple(sorted(r.params.items())) for r in trials]
    assert len(trials) == 8 and len(set(combos)) == 8          # every point, none twice
    assert all(r.state == "complete" for r in trials)
    by_worker = collections.Counter(r.worker for r in trials)
    assert len(by_worker) == 2, by_worker                       # both workers took trials
    assert sum(by_worker.values()) == 8
    # The per-trial lines of both processes reached stdout: one line per trial.
    assert sum(line.startswith("trial ") and " · " in line
               for line in done.stdout.splitlines()) == 8


def _open_database_at_once(url: str, start: Any) -> None:
    """A worker on another machine opening a database no sweep has used yet."""
    from cnnviz.core.experiments.sweep_storage import open_storage

    start.wait()
    open_storage(url)


def test_workers_opening_a_new_database_at_the_same_moment_all_get_it(
        postgresql_url: str) -> None:
    """Optuna creates its tables on first use; machines starting together race to do it."""
    import multiprocessing

    import sqlalchemy  # noqa: F401  (imported before the barrier, so all open at once)

    context = multiprocessing.get_context("spawn")
    start = context.Barrier(6)
    workers = [context.Process(target=_open_database_at_once, args=(postgresql_url, start))
               for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(180)
    assert [worker.exitcode for worker in workers] == [0] * 6
