"""The disk cnnviz's caches use: what they are, how big, clearing them, and the feature
cache's size limit.

    for cache in known_caches():
        usage = measure(cache)          → CacheUsage(files=3, bytes=153_600_000)
    clear(cache_named("features"))      → ClearResult(removed=3, freed=..., failed=[])

A cache is a folder in the user data folder and a file-name pattern: its own files are the
regular files in that folder whose names match the pattern and do not start with a dot (a
dot-file is a save still being written, see core.atomic_save). Nothing else in the folder is
counted or touched.

The feature cache is kept under a size limit (DEFAULT_FEATURE_CACHE_LIMIT) with
least-recently-used eviction: features.py calls `mark_used` on a cache hit (the file's
modification time becomes now) and `trim_to_limit` after writing a file, which removes the
files used longest ago until the cache fits, never the file just written. Every function
here tolerates files vanishing meanwhile (another cnnviz clearing or trimming the same
folder); a file that cannot be deleted is reported, never raised.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cnnviz.core.errors import CnnvizError
from cnnviz.core.formatting import readable_size
from cnnviz.core.transfer.base_blocks import base_blocks_folder
from cnnviz.core.user_folders import user_data_folder

__all__ = [
    "DEFAULT_FEATURE_CACHE_LIMIT", "FEATURE_FILE_PATTERN", "BASE_FILE_PATTERN", "CACHE_NAMES",
    "Cache", "CacheUsage", "ClearResult", "UnknownCacheError", "feature_cache_folder",
    "known_caches", "cache_named", "cache_files", "measure", "clear", "mark_used",
    "trim_to_limit",
]

# 2 GiB: some forty 10,000-image feature files of 1,280 numbers, on any laptop's disk.
DEFAULT_FEATURE_CACHE_LIMIT = 2 * 1024 ** 3
# Exactly FeatureCache.path_for's names: an export the user named features-dense.npz is no
# cache file, even in the cache's folder.
FEATURE_FILE_PATTERN = "features-" + "[0-9a-f]" * 32 + ".npz"
BASE_FILE_PATTERN = "*.keras"
CACHE_NAMES = ("features", "bases")


class UnknownCacheError(CnnvizError):
    """A cache name that is not one of CACHE_NAMES."""


@dataclass(frozen=True)
class Cache:
    """One of cnnviz's caches. name: "features" or "bases" (the command line's word);
    label: what a student reads; cost: what clearing it costs, in one sentence;
    limit: its size limit in bytes, or None when it has none."""

    name: str
    label: str
    folder: Path
    pattern: str
    cost: str
    limit: int | None = None


@dataclass(frozen=True)
class CacheUsage:
    """How much a cache holds: its files and their bytes."""

    files: int
    bytes: int

    def text(self) -> str:
        """"3 files, 146.48 MB"; "empty"."""
        if self.files == 0:
            return "empty"
        return f"{self.files:,} file{'s' if self.files != 1 else ''}, " \
               f"{readable_size(self.bytes)}"


@dataclass
class ClearResult:
    """What clearing removed, and the files it could not delete with the reason."""

    removed: int = 0
    freed: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def text(self) -> str:
        """"Freed 146.48 MB (3 files)." plus a sentence on files that could not be deleted."""
        if self.removed:
            said = f"Freed {readable_size(self.freed)} ({self.removed:,} " \
                   f"file{'s' if self.removed != 1 else ''})."
        else:
            said = "Nothing to free: the cache was empty."
        if self.failed:
            path, reason = self.failed[0]
            more = f" and {len(self.failed) - 1:,} more" if len(self.failed) > 1 else ""
            said += f" {len(self.failed):,} file{'s' if len(self.failed) != 1 else ''} " \
                    f"could not be deleted: {path} ({reason}){more}."
        return said


def feature_cache_folder() -> Path:
    """The folder of cached features in the user data folder (not created here)."""
    return user_data_folder() / "feature_cache"


def known_caches() -> list[Cache]:
    """cnnviz's caches, with today's folders (CNNVIZ_HOME is read now)."""
    return [
        Cache(name="features", label="Computed features", folder=feature_cache_folder(),
              pattern=FEATURE_FILE_PATTERN,
              cost="Features are computed again the next time they are asked for.",
              limit=DEFAULT_FEATURE_CACHE_LIMIT),
        Cache(name="bases", label="Prepared pre-built bases", folder=base_blocks_folder(),
              pattern=BASE_FILE_PATTERN,
              cost="Each base is prepared again when a model needs it, from Keras's weights "
                   "cache or its model file; a base whose model file has since been deleted "
                   "cannot be."),
    ]


def cache_named(name: str) -> Cache:
    """The cache called `name` ("features", "bases"). Raises UnknownCacheError."""
    for cache in known_caches():
        if cache.name == name:
            return cache
    raise UnknownCacheError(f"There is no cache called '{name}': use "
                            f"{' or '.join(CACHE_NAMES)}.")


def _own_files(folder: Path, pattern: str) -> list[tuple[Path, os.stat_result]]:
    """The cache's own files in `folder` with their stat: regular files (not links, not
    folders) matching `pattern`, not dot-files. A missing folder has none."""
    found: list[tuple[Path, os.stat_result]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith(".") or not fnmatch.fnmatchcase(entry.name, pattern):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:  # vanished meanwhile
            continue
        if stat.S_ISREG(info.st_mode):
            found.append((Path(entry.path), info))
    return found


def cache_files(cache: Cache) -> list[Path]:
    """The cache's own files, by name."""
    return sorted(path for path, _ in _own_files(cache.folder, cache.pattern))


def measure(cache: Cache) -> CacheUsage:
    """How many of its own files the cache holds and their total size."""
    files = _own_files(cache.folder, cache.pattern)
    return CacheUsage(files=len(files), bytes=sum(info.st_size for _, info in files))


def _remove(path: Path, size: int, result: ClearResult) -> bool:
    """Delete one file, counting it in `result`; True when it is gone (also when someone
    else removed it first, which is nothing to report)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return True
    except OSError as exc:
        result.failed.append((path, exc.strerror or str(exc)))
        return False
    result.removed += 1
    result.freed += size
    return True


def clear(cache: Cache) -> ClearResult:
    """Delete the cache's own files (see the module's docstring); never anything else."""
    result = ClearResult()
    for path, info in sorted(_own_files(cache.folder, cache.pattern)):
        _remove(path, info.st_size, result)
    return result


def mark_used(path: Path) -> None:
    """Record that a cache file was just used (its modification time becomes now), so
    eviction goes by last use. A file that cannot be touched is left as it is."""
    try:
        os.utime(path)
    except OSError:
        pass


def trim_to_limit(folder: Path, limit: int, keep: Path | None = None,
                  pattern: str = FEATURE_FILE_PATTERN) -> ClearResult:
    """Remove the cache files in `folder` used longest ago (oldest modification time first)
    until their total is at most `limit` bytes. `keep` (the file just written) is never
    removed, even when it alone is over the limit. Returns what was removed."""
    result = ClearResult()
    files = _own_files(folder, pattern)
    total = sum(info.st_size for _, info in files)
    kept = keep.resolve() if keep is not None else None
    for path, info in sorted(files, key=lambda item: (item[1].st_mtime_ns, item[0].name)):
        if total <= limit:
            break
        if kept is not None and path.resolve() == kept:
            continue
        if _remove(path, info.st_size, result):
            total -= info.st_size
    return result
