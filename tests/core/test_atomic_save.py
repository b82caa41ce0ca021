"""Model saves through a temporary file: a save killed half-way leaves its temporary behind,
and the next save or open of that target removes it; the file and its folder are flushed to
the disk before and after the rename (issue 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnviz.core import atomic_save
from cnnviz.core.atomic_save import (
    remove_stale_temporaries, save_file_atomically, temporary_name, writable_folder_problem,
    writable_target_problem,
)

ROOT = Path(__file__).resolve().parents[2]

KILLED_SAVE = """
import sys, time
from pathlib import Path
from cnnviz.core.atomic_save import save_file_atomically

target, ready = Path(sys.argv[1]), Path(sys.argv[2])

def write(temporary):
    temporary.write_bytes(b"the first half of a model")
    ready.write_text("writing")
    time.sleep(600)  # killed here

save_file_atomically(target, write)
"""


def dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True, timeout=60)
    return int(done.stdout)


def tiny_model():
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_save_killed_with_sigkill_is_cleaned_up_by_the_next_save_and_open(tmp_path):
    from cnnviz.core.model.builder import load_model_file, save_model_file

    target, ready = tmp_path / "model.keras", tmp_path / "ready"
    save_model_file(tiny_model(), target)
    before = target.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target), str(ready)],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child never saved"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    leftover = temporary_name(target, child.pid)
    assert leftover.exists() and target.read_bytes() == before  # the old model is intact

    load_model_file(target)  # opening the target removes what the killed save left
    assert not leftover.exists()

    leftover.write_bytes(b"left again")
    save_model_file(tiny_model(), target)  # and so does the next save
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras", "ready"]
    assert load_model_file(target).count_params() == 8


def test_only_stale_temporaries_of_the_same_target_are_removed(tmp_path):
    target = tmp_path / "model.keras"
    gone = temporary_name(target, dead_pid())
    live = temporary_name(target, os.getppid())  # a live process, saving now
    other_target = tmp_path / f".other.saving-{dead_pid()}.keras"
    other_format = temporary_name(tmp_path / "model.h5", dead_pid())
    for path in (gone, live, other_target, other_format):
        path.write_bytes(b"partial")
    assert remove_stale_temporaries(target) == [gone]
    assert live.exists() and other_target.exists() and other_format.exists()

    # A temporary older than the threshold was abandoned, whoever has its PID now.
    old = time.time() - atomic_save.STALE_AFTER_SECONDS - 60
    os.utime(live, (old, old))
    assert remove_stale_temporaries(target) == [live]
    assert other_target.exists() and other_format.exists()


def test_the_file_and_its_folder_are_flushed_around_the_rename(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        is_folder = Path(os.readlink(f"/proc/self/fd/{fd}")).is_dir()
        events.append("fsync folder" if is_folder else "fsync file")
        real_fsync(fd)

    def replace(source, target) -> None:
        events.append("rename")
        real_replace(source, target)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell files from folders")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "model.keras"
    save_file_atomically(target, lambda temporary: temporary.write_bytes(b"a whole model"))
    assert events == ["fsync file", "rename", "fsync folder"]
    assert target.read_bytes() == b"a whole model"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")

    def failing(temporary: Path) -> None:
        temporary.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        save_file_atomically(target, failing)
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    assert target.read_bytes() == b"old"


def test_the_keep_best_checkpoint_removes_stale_temporaries_too(tmp_path):
    from cnnviz.core.training.callbacks import keep_best_class

    target = tmp_path / "best.keras"
    stale = temporary_name(target, dead_pid())
    stale.write_bytes(b"partial")
    checkpoint = keep_best_class()(target, "val_loss")
    checkpoint.set_model(tiny_model())
    checkpoint.on_epoch_end(0, {"val_loss": 0.5})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]


def test_writable_checks_name_the_problem(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert "read-only" in writable_target_problem(locked / "m.keras")
        assert "read-only" in writable_folder_problem(locked / "new" / "deeper")
    finally:
        locked.chmod(0o755)
    assert "does not exist" in writable_target_problem(tmp_path / "missing" / "m.keras")
    assert writable_target_problem(tmp_path / "m.keras") is None
    assert writable_folder_problem(tmp_path / "new" / "deeper") is None
    assert list(tmp_path.iterdir()) == [locked]  # checking wrote nothing that stays
