"""How long a cold `cnnviz` takes to show its main window, and whether TensorFlow was loaded.

Usage:  python benchmarks/startup.py [--runs 5] [--platform offscreen|native]

Each run starts a fresh Python process (sys.executable), so nothing is imported yet, and
that child goes through the same path as the `cnnviz` console script: it imports
`cnnviz.cli` and calls `cnnviz.cli.main([])`, which parses the (empty) command line and
calls `cnnviz.ui.app.run_app()` → `create_app()`, `MainWindow()`, `show()`, event loop.
The only addition is a watcher: before calling `main`, the child creates the application
with `create_app()` (which `run_app` then reuses, as it reuses any existing one) and
installs an event filter. When the main window gets its first paint event, the watcher
waits for that paint pass to finish (a zero-delay timer), then records `time.time()` and
`'tensorflow' in sys.modules`, prints them and quits the event loop.

Timing: the parent records `time.time()` just before `subprocess.Popen`; the child's
"shown" time minus that is the figure reported. So it includes everything a user waits
for: process creation, interpreter start-up, imports, building and painting the window
(the parent and child read the same wall clock). It does not use /proc start times,
which have 10 ms ticks and a boot time rounded to whole seconds, and exist on Linux only.

"Cold" here means a fresh process. The operating system's file cache stays warm between
runs (we cannot drop it without root), so the first run is usually the slowest; every run
is printed, and the median is the figure to quote.

For comparison the same method times a bare `python -c "import tensorflow"` in the same
invocation, which is what every start would cost if the GUI imported TensorFlow eagerly.

The Qt platform is "offscreen" unless a display is available (DISPLAY or WAYLAND_DISPLAY)
or QT_QPA_PLATFORM is already set; `--platform native` forces the real one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 1.5

GUI_CHILD = r"""
import sys, time
import cnnviz.cli  # what the `cnnviz` console script imports first
from cnnviz.ui.app import create_app
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

app = create_app()  # run_app() reuses this instance


class ShownWatcher(QObject):
    "Quit once the main window has been painted for the first time."

    def __init__(self):
        super().__init__()
        self.seen_paint = False

    def eventFilter(self, obj, event):
        if (not self.seen_paint and event.type() == QEvent.Type.Paint
                and isinstance(obj, QWidget)
                and type(obj.window()).__name__ == "MainWindow"):
            self.seen_paint = True
            QTimer.singleShot(0, self.finish)  # after the whole paint pass
        return False

    def finish(self):
        shown = time.time()
        window = next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")
        handle = window.windowHandle()
        exposed = bool(handle is not None and handle.isExposed())
        print(f"SHOWN {shown!r} {'tensorflow' in sys.modules} {exposed} {app.platformName()}",
              flush=True)
        app.quit()


watcher = ShownWatcher()
app.installEventFilter(watcher)
QTimer.singleShot(60_000, lambda: (print("TIMEOUT", flush=True), app.exit(3)))
sys.exit(cnnviz.cli.main([]))
"""

TENSORFLOW_CHILD = "import tensorflow, time; print(f'IMPORTED {time.time()!r}', flush=True)"


def _child_env(platform: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Keep the benchmark off the user's own settings (recent files and the like).
    env.setdefault("CNNVIZ_SETTINGS_SCOPE", "cnnviz-benchmark")
    if platform == "offscreen":
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _run_child(code: str, env: dict[str, str], marker: str) -> tuple[float, list[str]]:
    """Seconds from just before Popen to the time the child prints after `marker`."""
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=180)
    for line in out.splitlines():
        if line.startswith(marker + " "):
            fields = line.split()[1:]
            return float(fields[0]) - started, fields[1:]
    tail = "\n".join((out + err).strip().splitlines()[-15:])
    raise SystemExit(f"startup benchmark: the child process did not report '{marker}' "
                     f"(exit code {proc.returncode}):\n{tail}")


def _choose_platform(requested: str) -> str:
    if requested != "auto":
        return requested
    if os.environ.get("QT_QPA_PLATFORM"):
        return os.environ["QT_QPA_PLATFORM"]
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return "native"
    return "offscreen"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print every run, the medians and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement")
    parser.add_argument("--platform", default="auto",
                        help="Qt platform: auto (default), offscreen, native, or any Qt name")
    args = parser.parse_args(argv)
    platform = _choose_platform(args.platform)
    env = _child_env(platform)
    if platform not in ("native", "offscreen"):
        env["QT_QPA_PLATFORM"] = platform

    where = "the real display" if platform == "native" else f"Qt platform {platform}"
    print(f"cnnviz GUI start-up, {args.runs} fresh processes ({where}, "
          f"Python {sys.version.split()[0]})")
    gui_times: list[float] = []
    tf_loaded_at_show = False
    for run in range(1, args.runs + 1):
        seconds, (tf_loaded, exposed, platform_name) = _run_child(GUI_CHILD, env, "SHOWN")
        gui_times.append(seconds)
        tf_loaded_at_show |= tf_loaded == "True"
        print(f"  run {run}: {seconds:.2f} s to window shown; TensorFlow imported: "
              f"{'yes' if tf_loaded == 'True' else 'no'}; window exposed: "
              f"{'yes' if exposed == 'True' else 'no'} (Qt platform '{platform_name}')")

    print(f'bare `python -c "import tensorflow"`, {args.runs} fresh processes')
    tf_times: list[float] = []
    for run in range(1, args.runs + 1):
        seconds, _ = _run_child(TENSORFLOW_CHILD, env, "IMPORTED")
        tf_times.append(seconds)
        print(f"  run {run}: {seconds:.2f} s")

    gui_median, tf_median = statistics.median(gui_times), statistics.median(tf_times)
    print(f"import tensorflow alone: median {tf_median:.2f} s; the cnnviz window is shown in "
          f"{gui_median / tf_median:.2f}× that time")
    verdict = "" if gui_median < TARGET_SECONDS else " — SLOWER THAN TARGET"
    print(f"startup: median {gui_median:.2f} s to window shown (target < {TARGET_SECONDS} s); "
          f"TensorFlow imported at show: {'yes' if tf_loaded_at_show else 'no'}{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
