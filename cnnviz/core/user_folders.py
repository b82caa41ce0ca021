"""Where cnnviz keeps its own files on the user's machine (crash logs now, later the
experiments database): the folder named by the CNNVIZ_HOME environment variable when it is
set, else the platform's usual place for an application's data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HOME_VARIABLE = "CNNVIZ_HOME"


def user_data_folder() -> Path:
    """The folder for cnnviz's own data (not created here).

    CNNVIZ_HOME when set; otherwise %LOCALAPPDATA%\\cnnviz on Windows,
    ~/Library/Application Support/cnnviz on macOS, and $XDG_DATA_HOME/cnnviz
    (~/.local/share/cnnviz by default) elsewhere.
    """
    chosen = os.environ.get(HOME_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA")
        return Path(base) / "cnnviz" if base else Path.home() / "AppData" / "Local" / "cnnviz"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "cnnviz"
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "cnnviz"


def logs_folder() -> Path:
    """The folder for crash logs, created if needed. Raises OSError if it cannot be made."""
    folder = user_data_folder() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
