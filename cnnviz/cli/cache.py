"""`cnnviz cache`: the disk cnnviz's caches use, and freeing it.

    cnnviz cache                              each cache: folder, files, size (and limit)
    cnnviz cache clear [features|bases|all]   delete a cache's files (all of them by default)

Only the caches' own files are counted and deleted (core.transfer.caches). Imports neither
TensorFlow nor Qt.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cnnviz.cli.common import EXIT_OK, EXIT_USER_ERROR
from cnnviz.core.formatting import readable_size
from cnnviz.core.transfer.caches import CACHE_NAMES, clear, known_caches, measure

CLEAR_CHOICES = (*CACHE_NAMES, "all")


def add_cache_parser(commands: Any) -> None:
    """Register the `cache` sub-command (and its `clear` action) on argparse sub-parsers."""
    cache = commands.add_parser(
        "cache", prog="cnnviz cache", usage="cnnviz cache [clear [features|bases|all]]",
        help="show the disk cnnviz's caches use, or clear them",
        description="cnnviz keeps computed features and prepared pre-built bases in its data "
                    "folder (CNNVIZ_HOME when set). Without an action, shows each cache's "
                    "folder, file count and size.")
    actions = cache.add_subparsers(dest="action", metavar="ACTION", title="actions")
    clearing = actions.add_parser(
        "clear", prog="cnnviz cache clear", help="delete a cache's files",
        description="Delete the files of one cache, or of all of them (the default). Nothing "
                    "else in their folders is touched.")
    clearing.add_argument("which", nargs="?", default="all", choices=CLEAR_CHOICES,
                          metavar="|".join(CLEAR_CHOICES),
                          help="which cache to clear (default: all)")


def cmd_cache(args: argparse.Namespace) -> int:
    """Run `cnnviz cache [clear ...]`; returns the exit code."""
    if getattr(args, "action", None) == "clear":
        return _clear(args.which)
    total = 0
    for cache in known_caches():
        usage = measure(cache)
        total += usage.bytes
        limit = f" (limit {readable_size(cache.limit)})" if cache.limit is not None else ""
        print(f"{cache.label}: {usage.text()}{limit}")
        print(f"  folder: {cache.folder}")
        print(f"  clearing: {cache.cost}")
    print(f"Total: {readable_size(total)}. Free it with: cnnviz cache clear "
          f"[{'|'.join(CLEAR_CHOICES)}]")
    return EXIT_OK


def _clear(which: str) -> int:
    failed = 0
    for cache in known_caches():
        if which in (cache.name, "all"):
            result = clear(cache)
            failed += len(result.failed)
            print(f"{cache.label}: {result.text()}")
    if failed:
        print(f"cnnviz: {failed:,} file{'s' if failed != 1 else ''} could not be deleted "
              f"(listed above); check the folder's permissions and try again.",
              file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK
