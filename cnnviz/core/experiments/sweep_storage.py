"""Where a sweep's Optuna study lives: a journal file (the default, no server) or a database.

`open_storage(None)` is the journal file `user_data_folder()/sweeps.journal`; a path ending
in `.journal` is a journal file elsewhere (for a shared file system); `postgresql://`,
`mysql://` (through PyMySQL, pure Python) and `sqlite:///` URLs use Optuna's RDB storage. An unreachable server raises
SweepError naming the host, never a driver's traceback.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cnnviz.core.errors import CnnvizError
from cnnviz.core.user_folders import user_data_folder

__all__ = ["SweepError", "DEFAULT_JOURNAL", "open_storage", "storage_label"]

DEFAULT_JOURNAL = "sweeps.journal"
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
            "mysql": "mysql+pymysql"}
# Drivers whose pip package is named otherwise.
_PACKAGES = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "pymysql": "PyMySQL"}


class SweepError(CnnvizError):
    """A sweep that cannot run as asked, explained in a sentence or two."""


def storage_label(url: str | None) -> str:
    """The storage as shown to the user (a database URL without its password)."""
    if url is None:
        return str(user_data_folder() / DEFAULT_JOURNAL)
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


# Tries at opening a database whose tables other workers are creating at the same moment.
_SCHEMA_RACE_TRIES = 8


def _rdb_storage(full_url: str) -> Any:
    """Optuna's RDB storage, which creates its tables on first use. Workers started together
    on a new database race to create them and all but one fail (a duplicate table or type);
    those try again once the winner is done, when the tables are simply there."""
    import sqlalchemy.exc
    from optuna.storages import RDBStorage

    for attempt in range(1, _SCHEMA_RACE_TRIES):
        try:
            return RDBStorage(full_url, engine_kwargs={"pool_pre_ping": True})
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            time.sleep(random.uniform(0.1, 0.5) * attempt)  # at random moments, so one wins
    return RDBStorage(full_url, engine_kwargs={"pool_pre_ping": True})


def _journal(path: Path) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as exc:
        raise SweepError(f"Cannot use the sweep journal {path}: "
                         f"{exc.strerror or exc}.") from None


def open_storage(url: str | None) -> Any:
    """The Optuna storage for `--storage URL` (None: the journal in the user's data folder).

    Raises SweepError for an unknown kind of URL, a missing database driver or a server
    that cannot be reached.
    """
    if url is None:
        return _journal(user_data_folder() / DEFAULT_JOURNAL)
    if url.endswith(".journal") and "://" not in url:
        return _journal(Path(url).expanduser())
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    base = scheme.split("+", 1)[0]
    if base not in ("postgresql", "postgres", "mysql", "sqlite"):
        raise SweepError(f"--storage {storage_label(url)}: use a database URL (postgresql://, "
                         "mysql:// or sqlite:///) or a file name ending in .journal.")
    full = url if "+" in scheme or base == "sqlite" else _DRIVERS[base] + url[len(scheme):]
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    where = f"{host}:{parts.port}" if parts.port else host
    import sqlalchemy.exc

    try:
        return _rdb_storage(full)
    except ImportError as exc:
        # Optuna wraps the driver's ModuleNotFoundError in a plain ImportError.
        missing = exc if isinstance(exc, ModuleNotFoundError) else exc.__cause__
        name = getattr(missing, "name", None) or "for this database"
        package = _PACKAGES.get(name, name)
        raise SweepError(f"--storage {storage_label(url)} needs the database driver "
                         f"'{name}', which is not installed (pip install {package}).") \
            from None
    except sqlalchemy.exc.OperationalError as exc:
        if base == "sqlite":
            raise SweepError(f"Cannot open the SQLite sweep database {url}: "
                             f"{str(exc.orig).strip()}.") from None
        raise SweepError(f"Cannot reach the database server at {where} for --storage "
                         f"{storage_label(url)}. Check that it is running and that the "
                         "address, user and password are right.") from None
    except sqlalchemy.exc.DatabaseError as exc:  # still refused after the tries above
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise SweepError(f"The database at {where} (--storage {storage_label(url)}) refused "
                         f"the sweep's tables: {reason}.") from None
    except sqlalchemy.exc.ArgumentError:
        raise SweepError(f"--storage {storage_label(url)} is not a database URL cnnviz can "
                         "read.") from None
