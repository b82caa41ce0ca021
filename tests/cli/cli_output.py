"""Checking what the CLI prints."""

from __future__ import annotations


def one_line(err: str) -> str:
    """The one stderr line of a refused command ("cnnviz: ..."), never a traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got: {err!r}"
    assert lines[0].startswith("cnnviz: ") and "Traceback" not in err
    return lines[0]
