"""The caches' disk: the feature cache's size limit (least recently used first), sizes and
clearing, on real cache files written by extract_features in a CNNVIZ_HOME of the test's own."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from cnnviz.core.transfer.base_blocks import base_blocks_folder
from cnnviz.core.transfer.caches import (
    DEFAULT_FEATURE_CACHE_LIMIT, UnknownCacheError, cache_files, cache_named, clear,
    feature_cache_folder, known_caches, measure, trim_to_limit,
)
from cnnviz.core.transfer.features import FeatureCache, extract_features, model_file_identity
from tests.core.transfer.conftest import MODEL_FILE

IMAGES = 40


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("CNNVIZ_HOME", str(folder))
    return folder


def features_of(model, digits, layer: str, cache: FeatureCache):
    return extract_features(model, layer, digits, "test", limit=IMAGES, cache=cache)[0]


def new_file(before: set[Path]) -> Path:
    """The one cache file written since `before`."""
    added = set(cache_files(cache_named("features"))) - before
    assert len(added) == 1
    return added.pop()


def set_last_use(path: Path, seconds_ago: float) -> None:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))


def test_the_least_recently_used_file_goes_first_and_the_new_one_stays(model, digits, home):
    cache = FeatureCache(model_file_identity(MODEL_FILE), "mnist-sample")
    files: dict[str, Path] = {}
    for layer in ("flatten", "dense", "max_pooling2d_1"):
        before = set(cache_files(cache_named("features")))
        features_of(model, digits, layer, cache)
        files[layer] = new_file(before)
    sizes = {layer: path.stat().st_size for layer, path in files.items()}
    assert all(path.parent == feature_cache_folder() for path in files.values())

    # flatten was written first and dense after it; then flatten is read again, and the
    # third file is computed again under a limit that holds two of the three.
    files["max_pooling2d_1"].unlink()
    set_last_use(files["flatten"], 300)
    set_last_use(files["dense"], 200)
    assert features_of(model, digits, "flatten", cache).from_cache
    limit = sizes["flatten"] + sizes["max_pooling2d_1"]
    small = dataclasses.replace(cache, size_limit=limit)
    assert not features_of(model, digits, "max_pooling2d_1", small).from_cache

    left = set(cache_files(cache_named("features")))
    assert left == {files["flatten"], files["max_pooling2d_1"]}   # dense, used longest ago, went
    assert measure(cache_named("features")).bytes <= limit
    assert features_of(model, digits, "flatten", small).from_cache
    assert not features_of(model, digits, "dense", cache).from_cache


def test_a_tiny_limit_keeps_only_the_file_just_written(model, digits, home):
    cache = FeatureCache(model_file_identity(MODEL_FILE), "mnist-sample", size_limit=1)
    extract_features(model, ["dense", "flatten"], digits, "test", limit=IMAGES, cache=cache)
    assert measure(cache_named("features")).files == 1
    dense, flatten = extract_features(model, ["dense", "flatten"], digits, "test",
                                      limit=IMAGES, cache=cache)
    # flatten was written last and kept; dense was evicted, computed again, and now flatten
    # (written before it in this call) is evicted in its turn.
    assert flatten.from_cache and not dense.from_cache
    assert measure(cache_named("features")).files == 1


def test_the_default_limit_is_two_gibibytes(home):
    assert FeatureCache("base", "source").size_limit == DEFAULT_FEATURE_CACHE_LIMIT == 2 * 1024**3
    assert cache_named("features").limit == DEFAULT_FEATURE_CACHE_LIMIT
    assert cache_named("bases").limit is None


def cache_name(number: int) -> str:
    """A feature cache file's name, as FeatureCache.path_for makes them."""
    return f"features-{number:032x}.npz"


def write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_caches_live_in_the_data_folder_and_say_what_clearing_costs(home):
    caches = {cache.name: cache for cache in known_caches()}
    assert set(caches) == {"features", "bases"}
    assert caches["features"].folder == home / "feature_cache"
    assert caches["bases"].folder == base_blocks_folder() == home / "bases"
    assert "computed again" in caches["features"].cost
    assert "deleted cannot be" in caches["bases"].cost
    with pytest.raises(UnknownCacheError, match="no cache called 'logs'.*features or bases"):
        cache_named("logs")


def test_sizes_count_only_the_caches_own_files(home):
    bases = cache_named("bases")
    assert measure(bases).files == 0 and measure(bases).text() == "empty"  # no folder yet
    write(bases.folder / "mobilenet_v2-imagenet-96x96x1-0123.keras", 3000)
    write(bases.folder / "my_net-file-32x32x3-4567.keras", 1000)
    write(bases.folder / ".my_net.saving-99.keras", 500)     # a save still being written
    write(bases.folder / "notes.txt", 700)
    (bases.folder / "old.keras").mkdir()                     # a folder, not a cache file
    usage = measure(bases)
    assert (usage.files, usage.bytes) == (2, 4000)
    assert usage.text() == "2 files, 3.91 KB"


def test_clear_removes_only_the_caches_own_files(home):
    features = cache_named("features")
    own = [write(features.folder / cache_name(i), 100 * (i + 1)) for i in range(3)]
    others = [write(features.folder / "features.csv", 10),
              write(features.folder / ".features-abc.saving-12.npz", 10),
              write(features.folder / "my-features.npz", 10),
              write(features.folder / "features-dense.npz", 10),     # an export saved here
              write(home / "bases" / "base.keras", 10)]
    link = features.folder / cache_name(99)
    link.symlink_to(others[0])

    result = clear(features)
    assert (result.removed, result.freed, result.failed) == (3, 600, [])
    assert result.text() == "Freed 600.00 B (3 files)."
    assert not any(path.exists() for path in own)
    assert all(path.exists() for path in others)
    assert link.is_symlink()
    assert clear(features).text() == "Nothing to free: the cache was empty."


def test_clear_tolerates_files_vanishing_and_reports_files_it_cannot_delete(home, monkeypatch):
    features = cache_named("features")
    first, second, third = (write(features.folder / cache_name(i), 50) for i in range(3))
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if path == first:
            real_unlink(second)        # another cnnviz cleared it meanwhile
        if path == third:
            raise PermissionError(13, "Permission denied")
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    result = clear(features)
    assert (result.removed, result.freed) == (1, 50)
    assert result.failed == [(third, "Permission denied")]
    assert f"1 file could not be deleted: {third} (Permission denied)." in result.text()
    assert third.exists() and not first.exists()


def test_trim_never_removes_the_kept_file_even_over_the_limit(home):
    folder = feature_cache_folder()
    big = write(folder / cache_name(1), 5000)
    old = write(folder / cache_name(2), 100)
    set_last_use(big, 500)
    set_last_use(old, 100)
    removed = trim_to_limit(folder, 1000, keep=big)
    assert removed.removed == 1 and big.exists() and not old.exists()
    assert trim_to_limit(folder, 10_000).removed == 0 and big.exists()
    assert measure(cache_named("features")).bytes == 5000
