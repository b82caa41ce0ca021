"""Saving a text file atomically: write a temporary file beside it, then rename it over it,
so a crash or a full disk never leaves a half-written file. Used for specs, code and histories.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from cnnviz.core.errors import SpecError


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
