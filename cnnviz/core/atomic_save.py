"""Saving files atomically: write a temporary file beside the target, flush it to the disk,
then rename it over the target, so a crash, a kill or a full disk never leaves a half-written
file. `save_text_atomically` is for specs, code and histories; `save_file_atomically` for
files another library writes (Keras models), whose temporaries are named
`.NAME.saving-PID.SUFFIX` so that the next save or open of the same target can remove the ones
a killed process left behind (`remove_stale_temporaries`). `writable_target_problem` says,
before any long work, whether a file could be written at all.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cnnviz.core.errors import SpecError

# A save takes seconds (minutes for a huge model); a temporary this old was abandoned even if
# its PID now belongs to some other live process.
STALE_AFTER_SECONDS = 6 * 3600


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write text to a temporary file beside `path`, then rename it over `path`.

    A crash or a full disk mid-write leaves the previous file intact. Raises SpecError
    with a readable message when the folder is missing or read-only.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    # Renaming over a file ignores its own permissions, so honour a read-only file by hand.
    if path.exists() and not path.stat().st_mode & stat.S_IWUSR:
        raise SpecError(f"Cannot save: {path} is read-only.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:
        raise SpecError(f"Cannot save: the folder {folder} does not exist (any more).") from None
    except PermissionError:
        raise SpecError(f"Cannot save: the folder {folder} is read-only.") from None
    except OSError as exc:
        raise SpecError(f"Cannot save to {folder}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain write would have.
        os.chmod(tmp_name, _mode_for(path))
        os.replace(tmp_name, path)
    except OSError as exc:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(exc, PermissionError):
            raise SpecError(f"Cannot save: {path} is read-only.") from None
        raise SpecError(f"Cannot save {path}: {exc.strerror or exc}.") from None


# ---------------------------------------------------------------- files written by others


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def temporary_name(path: Path, pid: int | None = None) -> Path:
    """The temporary file beside `path` that a save by process `pid` writes first: hidden,
    named after the target, and keeping its suffix (Keras picks the format from it)."""
    return _folder_of(path) / f".{path.stem}.saving-{os.getpid() if pid is None else pid}{path.suffix}"


def _process_alive(pid: int) -> bool:
    """Whether a process with this id runs now (on Windows, where probing a process is not
    harmless, assume it does: age alone decides there)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def remove_stale_temporaries(path: str | os.PathLike[str],
                             older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Remove the temporaries of earlier saves of `path` that can no longer finish: those of a
    process that is gone, or older than `older_than` seconds. Only files named exactly as
    `temporary_name(path, pid)` are touched; a live save of another process is left alone.
    Returns the files removed; never raises."""
    path = Path(path)
    folder = _folder_of(path)
    pattern = re.compile(re.escape(f".{path.stem}.saving-") + r"(\d+)" + re.escape(path.suffix))
    removed: list[Path] = []
    try:
        candidates = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        found = pattern.fullmatch(candidate.name)
        if found is None:
            continue
        pid = int(found.group(1))
        try:
            age = now - candidate.stat().st_mtime
        except OSError:
            continue
        if pid != os.getpid() and (not _process_alive(pid) or age > older_than):
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows cannot open a folder to sync it)."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_file_atomically(path: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """Have `write(temporary)` write the file, then flush it to the disk and rename it over
    `path` (and flush the folder, so the rename survives a power cut too).

    Stale temporaries of earlier, killed saves of `path` are removed first. If `write` or the
    rename fails, the temporary is removed and the exception propagates (the caller words it);
    the previous file at `path` is untouched.
    """
    path = Path(path)
    remove_stale_temporaries(path)
    temporary = temporary_name(path)
    try:
        write(temporary)
        _fsync_file(temporary)
        os.replace(temporary, path)
        _fsync_folder(_folder_of(path))
    finally:
        if temporary.exists():
            temporary.unlink(missing_ok=True)


def writable_target_problem(path: str | os.PathLike[str]) -> str | None:
    """Why a file could not be written at `path`, as a sentence, or None if it can be.

    Checks by doing, not by permission bits (which lie on network drives and under Windows
    ACLs): a file is created in the folder and removed at once. Meant to run before long work
    (training) whose result would otherwise be lost.
    """
    path = Path(path)
    folder = _folder_of(path)
    if path.is_dir():
        return f"{path} is a folder; give a file name."
    if not folder.exists():
        return f"the folder {folder} does not exist."
    if not folder.is_dir():
        return f"{folder} is a file, not a folder."
    if path.exists() and not path.stat().st_mode & stat.S_IWUSR:
        return f"{path} is read-only."
    return _folder_write_problem(folder)


def writable_folder_problem(folder: str | os.PathLike[str]) -> str | None:
    """Why files could not be written into `folder` (which may not exist yet: then its
    nearest existing parent must let it be created), as a sentence, or None if they can."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file, not a folder."
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            return f"the folder {folder} cannot be created."
        existing = existing.parent
    if not existing.is_dir():
        return f"the folder {folder} cannot be created: {existing} is a file."
    return _folder_write_problem(existing)


def _folder_write_problem(folder: Path) -> str | None:
    # A folder nobody may write to is read-only to us too, even when we are the administrator
    # (who could write anyway): the user meant it that way.
    try:
        if not folder.stat().st_mode & 0o222:
            return f"the folder {folder} is read-only (you cannot write there)."
    except OSError as exc:
        return f"cannot write in the folder {folder}: {exc.strerror or exc}."
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".cnnviz-write-check-"):
            pass
    except PermissionError:
        return f"the folder {folder} is read-only (you cannot write there)."
    except OSError as exc:
        return f"cannot write in the folder {folder}: {exc.strerror or exc}."
    return None
