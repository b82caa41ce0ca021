"""Keep TensorFlow's start-up chatter out of the terminal, unless `--verbose` asks for it.

TensorFlow 2.21 writes notes such as "oneDNN custom operations are on", "Could not find cuda
drivers", "This TensorFlow binary is optimized to use available CPU instructions" and "failed
call to cuInit" from C++ straight to file descriptor 2, each twice (two of its libraries log on
their own), and it does so before it reads TF_CPP_MIN_LOG_LEVEL, so the variable alone does not
stop them. Keras adds Python warnings and absl log records ("Compiled the loaded model, but
...", "You are saving your model as an HDF5 file ...", "Do not pass an `input_shape`" for a
model saved by Keras 2).

`quiet_tensorflow()` is the one place that silences all of it, for the whole of a command or
of the app's life: the CLI's front door and `ui/app.py` enter it before anything imports
TensorFlow (the app imports it later, in a background thread, and in workers). It

- sets TF_CPP_MIN_LOG_LEVEL=2 (TensorFlow's own logs after start-up: errors only), unless
  the user set it;
- passes file descriptor 2 through a filter that drops TensorFlow's native log lines below
  that level (and its "no GPU" errors, normal on a laptop); every other line (Python
  tracebacks, Qt's messages, cnnviz's own one-line errors) passes unchanged and at once;
- raises the "absl" and "tensorflow" loggers to errors only and ignores Keras's warning about
  `input_shape` arguments of old files.

Everything is put back when the context ends. Nothing here imports TensorFlow, Keras or Qt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import warnings
from typing import Any, Iterator, TextIO

__all__ = ["DEFAULT_TF_LOG_LEVEL", "is_tensorflow_noise", "quiet_tensorflow"]

DEFAULT_TF_LOG_LEVEL = "2"  # TensorFlow's scale: 0 all, 1 no info, 2 no warnings, 3 no errors

# absl's C++ log line: "I0000 00:00:1796515244.653572   12836 port.cc:153] message"
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.\-/]+:\d+\] ")
# A line that may still become an absl line when the rest of it arrives.
_ABSL_START = re.compile(r"^[IWEF]\d{0,4}(?: [\d:.]*(?:\s+\d*(?: .*)?)?)?$")
_ALWAYS_NOISE = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    # the second line of cpu_feature_guard's note
    "To enable the following instructions:",
)
# Errors that only say there is no GPU: the normal case on a teacher's laptop.
_NO_GPU = re.compile(r"cuInit|CUDA|cuda|cuDNN|cuFFT|cuBLAS|TensorRT|TF-TRT|computation placer")
_LEVELS = {"I": 0, "W": 1, "E": 2, "F": 3}


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", DEFAULT_TF_LOG_LEVEL))
    except ValueError:
        return int(DEFAULT_TF_LOG_LEVEL)


def is_tensorflow_noise(line: str, min_level: int | None = None) -> bool:
    """Whether one line written to stderr is TensorFlow's native chatter below `min_level`
    (TF_CPP_MIN_LOG_LEVEL's scale; default: the variable, else 2). Fatal lines never are."""
    level_wanted = _min_log_level() if min_level is None else min_level
    text = line.rstrip("\r\n")
    if any(text.startswith(prefix) for prefix in _ALWAYS_NOISE):
        return level_wanted >= 1
    match = _ABSL_LINE.match(text)
    if match is None:
        return False
    level = _LEVELS[match.group(1)]
    if level >= 3:
        return False
    if level < level_wanted:
        return True
    return level == 2 and level_wanted >= 2 and bool(_NO_GPU.search(text[match.end():]))


def _may_become_noise(fragment: str) -> bool:
    """Whether the start of a line, still without its end, may be a line to drop."""
    return bool(_ABSL_START.match(fragment)) or any(
        prefix.startswith(fragment) or fragment.startswith(prefix) for prefix in _ALWAYS_NOISE)


class _StderrFilter:
    """File descriptor 2 through a pipe: a thread forwards what is not noise to the real
    stderr as soon as it arrives (a partial line too, unless it may be the start of a log
    line), and drops TensorFlow's native log lines."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.saved = os.dup(2)
        read_end, write_end = os.pipe()
        self.read_end = read_end
        os.dup2(write_end, 2)
        os.close(write_end)
        self.thread = threading.Thread(target=self._forward, name="cnnviz-stderr-filter",
                                       daemon=True)
        self.thread.start()

    def _write(self, text: bytes) -> None:
        while text:
            try:
                written = os.write(self.saved, text)
            except OSError:
                return
            text = text[written:]

    def _forward(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_end, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = [line + b"\n" for line in lines
                    if not is_tensorflow_noise(line.decode("utf-8", "replace"))]
            if pending and not _may_become_noise(pending.decode("utf-8", "replace")):
                kept.append(pending)  # a live progress line: show it now
                pending = b""
            self._write(b"".join(kept))
        if pending and not is_tensorflow_noise(pending.decode("utf-8", "replace")):
            self._write(pending)
        os.close(self.read_end)

    def close(self) -> None:
        """Put the real stderr back and wait until everything written so far is out."""
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        os.dup2(self.saved, 2)  # the pipe's last writer is gone: the thread reads to its end
        self.thread.join(timeout=5)
        os.close(self.saved)


class _TerminalStderr:
    """sys.stderr as it was, still answering isatty() for the terminal behind the filter (so
    `cnnviz train` keeps its live progress line). Everything else goes to the stream."""

    def __init__(self, stream: TextIO, tty: bool) -> None:
        self.stream = stream
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _writes_to_fd_2(stream: object) -> bool:
    try:
        return stream is not None and stream.fileno() == 2  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # pytest's capture, pythonw's None
        return False


@contextlib.contextmanager
def quiet_tensorflow(verbose: bool = False) -> Iterator[None]:
    """While inside, TensorFlow's start-up notes and Keras's warnings stay out of stderr;
    with `verbose` nothing is hidden. Enter it before TensorFlow is imported."""
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_TF_LOG_LEVEL)
    loggers = [logging.getLogger(name) for name in ("absl", "tensorflow")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    original_stderr = sys.stderr
    try:
        tty = _writes_to_fd_2(original_stderr) and os.isatty(2)
        stderr_filter: _StderrFilter | None = _StderrFilter()
    except (AttributeError, OSError, ValueError):  # no stderr at all (pythonw, a closed fd)
        stderr_filter = None
    else:
        if tty:
            sys.stderr = _TerminalStderr(original_stderr, tty=True)
    try:
        with warnings.catch_warnings():
            # Keras 3 reading a Keras 2 file: a hint for whoever wrote the layer, not the reader.
            warnings.filterwarnings("ignore", message=r"Do not pass an `input_shape`",
                                    category=UserWarning)
            yield
    finally:
        if stderr_filter is not None:
            if isinstance(sys.stderr, _TerminalStderr):
                sys.stderr = original_stderr
            stderr_filter.close()
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
