"""Where a sweep's study lives: `mysql://` goes through PyMySQL (pure Python), and a server
that cannot be reached, or a driver that is missing, is one plain sentence."""

from __future__ import annotations

import socket

import pytest

from cnnviz.core.experiments.sweep_storage import SweepError, open_storage


def _closed_port() -> int:
    """A local port nothing listens on (bound, read and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_mysql_server_is_one_line_naming_its_host() -> None:
    port = _closed_port()
    with pytest.raises(SweepError) as caught:
        open_storage(f"mysql://sweeper:secret@127.0.0.1:{port}/sweeps")
    message = str(caught.value)
    # PyMySQL was used and reached for the server (no "driver not installed"), and the user
    # reads where it looked, without the password.
    assert f"Cannot reach the database server at 127.0.0.1:{port}" in message
    assert "secret" not in message and "\n" not in message


def test_a_missing_database_driver_names_the_package_to_install() -> None:
    with pytest.raises(SweepError) as caught:
        open_storage(f"mysql+mysqldb://sweeper:secret@127.0.0.1:{_closed_port()}/sweeps")
    message = str(caught.value)
    assert "needs the database driver 'MySQLdb'" in message
    assert "pip install mysqlclient" in message and "secret" not in message
