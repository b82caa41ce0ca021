"""mnist / fashion_mnist / cifar10 through Keras's download cache, without the network.

KERAS_HOME points at tmp_path; urllib.request.urlopen is replaced in every test (by a fake
server, or by one that fails), so nothing here can reach the internet.
"""

from __future__ import annotations

import gzip
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest

from cnnviz.core.data import keras_downloads
from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.errors import DatasetError
from tests.core.data.dataset_fixtures import (
    cifar_members, digits, idx_bytes, write_cifar_folder, write_idx_folder, write_tar_gz)

NO_VALIDATION = LoadOptions(validation_split=0)


class FakeResponse:
    """What urlopen returns: read(n) in chunks, headers with Content-Length."""

    def __init__(self, body: bytes, length: int | None = None) -> None:
        self._body = body
        self._pos = 0
        self.headers = {"Content-Length": str(len(body) if length is None else length)}

    def read(self, size: int = -1) -> bytes:
        end = len(self._body) if size < 0 else self._pos + size
        chunk = self._body[self._pos:end]
        self._pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras home, and a network that fails the test if anything calls it."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))

    def no_network(url, *args, **kwargs):
        raise AssertionError(f"the test tried to reach {url}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return home


def serve(monkeypatch, files: dict[str, bytes], calls: list[str] | None = None, **response_kw):
    """Make urlopen answer from `files` (by the URL's last path part)."""
    def fake_urlopen(url, timeout=None):
        assert timeout is not None, "downloads need a timeout, or offline hangs forever"
        if calls is not None:
            calls.append(url)
        return FakeResponse(files[url.rsplit("/", 1)[-1]], **response_kw)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)


def go_offline(monkeypatch, error: Exception):
    def offline(url, timeout=None):
        raise error

    monkeypatch.setattr(urllib.request, "urlopen", offline)


def cache_files(home):
    datasets = home / "datasets"
    return sorted(p.relative_to(datasets).as_posix() for p in datasets.rglob("*") if p.is_file())


def tiny_mnist_npz(path):
    x_train, y_train = digits(20, 1)
    x_test, y_test = digits(10, 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def fashion_gz_files():
    files = {}
    for prefix, count, seed in (("train", 20, 1), ("t10k", 10, 2)):
        images, labels = digits(count, seed)
        files[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images))
        files[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels))
    return files


# ------------------------------------------------------------------ where the cache is


def test_keras_home_environment_variable_is_honoured(keras_home):
    assert keras_downloads.keras_datasets_dir() == keras_home / "datasets"


def test_default_cache_is_dot_keras_in_home(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_downloads.keras_datasets_dir() == tmp_path / ".keras" / "datasets"


# ------------------------------------------------------------------ offline


@pytest.mark.parametrize("error", [
    urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")),
    socket.timeout("timed out"),
    ConnectionResetError(104, "Connection reset by peer"),
])
def test_offline_mnist_names_the_local_file_option_and_the_sample(keras_home, monkeypatch, error):
    go_offline(monkeypatch, error)
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnist")
    message = str(caught.value)
    assert message.startswith("Could not download mnist.npz from storage.googleapis.com")
    assert "download mnist.npz" in message and "pass its path" in message
    assert "'mnist-sample'" in message
    assert not any(f.endswith((".npz", ".part")) for f in cache_files(keras_home))


def test_offline_fashion_mnist_asks_for_the_four_files_in_a_folder(keras_home, monkeypatch):
    go_offline(monkeypatch, urllib.error.URLError("no route to host"))
    with pytest.raises(DatasetError, match="four Fashion-MNIST files.*pass that folder's path"):
        load_dataset("fashion_mnist")


def test_offline_cifar10_names_the_archive_and_the_sample(keras_home, monkeypatch):
    go_offline(monkeypatch, urllib.error.URLError("no route to host"))
    with pytest.raises(DatasetError, match=r"Could not download cifar-10-python.tar.gz from "
                                           r"www.cs.toronto.edu.*'cifar10-sample'"):
        load_dataset("cifar10")


def test_server_error_is_reported_with_its_code(keras_home, monkeypatch):
    not_found = urllib.error.HTTPError("https://x/mnist.npz", 404, "Not Found", {}, None)
    go_offline(monkeypatch, not_found)
    with pytest.raises(DatasetError, match="server answered 404 Not Found.*mnist-sample"):
        load_dataset("mnist")


# ------------------------------------------------------------------ already cached: no network


def test_cached_mnist_npz_loads_without_network(keras_home):
    tiny_mnist_npz(keras_home / "datasets" / "mnist.npz")
    data = load_dataset("mnist", NO_VALIDATION)  # the fixture's urlopen fails if called
    assert (data.name, data.train.count, data.test.count) == ("MNIST", 20, 10)
    assert data.description == "MNIST: 20 train / 10 test digits, 28×28 grayscale, 10 classes"


def test_cached_fashion_mnist_loads_without_network(keras_home):
    write_idx_folder(keras_home / "datasets" / "fashion-mnist", train=20, test=10)
    data = load_dataset("fashion_mnist", NO_VALIDATION)
    assert (data.name, data.class_names[9], data.train.count) == ("Fashion-MNIST", "Ankle boot", 20)


@pytest.mark.parametrize("layout", ["keras3 archive", "keras3 extracted", "tf.keras extracted",
                                    "tf.keras archive"])
def test_cached_cifar10_in_every_keras_layout_loads_without_network(keras_home, layout):
    datasets = keras_home / "datasets"
    datasets.mkdir(parents=True)
    members = cifar_members(per_batch=2)
    if layout == "keras3 archive":
        write_tar_gz(datasets / "cifar-10-batches-py-target_archive", members)
    elif layout == "keras3 extracted":
        write_cifar_folder(datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py", members)
    elif layout == "tf.keras extracted":
        write_cifar_folder(datasets / "cifar-10-batches-py", members)
    else:
        write_tar_gz(datasets / "cifar-10-batches-py.tar.gz", members)
    data = load_dataset("cifar10", NO_VALIDATION)
    assert (data.name, data.train.count, data.test.count) == ("CIFAR-10", 10, 2)


def test_damaged_cached_file_says_where_it_is_and_how_to_refresh(keras_home):
    path = tiny_mnist_npz(keras_home / "datasets" / "mnist.npz")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetError, match=r"damaged.*Cached copy: .*mnist.npz. Delete it"):
        load_dataset("mnist")


# ------------------------------------------------------------------ downloading (fake server)


def test_download_reports_bytes_and_fills_keras_cache(keras_home, monkeypatch):
    files = fashion_gz_files()
    calls: list[str] = []
    serve(monkeypatch, files, calls)
    progress: list[tuple[str, int, int]] = []
    data = load_dataset("fashion_mnist", NO_VALIDATION, on_progress=lambda *p: progress.append(p))
    assert (data.train.count, data.test.count) == (20, 10)
    assert sorted(calls) == sorted(keras_downloads.KERAS_DATASETS_URL + n for n in files)
    assert cache_files(keras_home) == sorted(f"fashion-mnist/{n}" for n in files)
    for name, body in files.items():
        reports = [(done, total) for stage, done, total in progress
                   if stage == f"Downloading {name}"]
        assert reports[0] == (0, len(body)) and reports[-1] == (len(body), len(body))
        assert [d for d, _ in reports] == sorted(d for d, _ in reports)
    # Second time: all cached, no network.
    calls.clear()
    load_dataset("fashion_mnist")
    assert calls == []


def test_keras_itself_finds_what_cnnviz_downloaded(keras_home, monkeypatch):
    """Same file names and folders as keras.datasets: Keras loads our download without fetching."""
    import keras
    from keras.src.backend import config as keras_config
    from keras.src.utils import file_utils

    serve(monkeypatch, fashion_gz_files())
    ours = load_dataset("fashion_mnist", NO_VALIDATION)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(keras_home))

    def no_download(*args, **kwargs):
        raise AssertionError("Keras tried to download: the cache layout differs")

    monkeypatch.setattr(file_utils, "urlretrieve", no_download)
    (x_train, y_train), (x_test, _) = keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, ours.train.images(range(20))[..., 0])
    np.testing.assert_array_equal(y_train, ours.train.labels())
    # CIFAR-10: our cached archive is where Keras's get_file looks for it.
    write_tar_gz(keras_home / "datasets" / keras_downloads.CIFAR10_FILE.cache_path,
                 cifar_members(2))
    extracted = keras.utils.get_file(fname="cifar-10-batches-py-target",
                                     origin=keras_downloads.CIFAR10_FILE.url, extract=True)
    assert (keras_home / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
            / "data_batch_1").is_file()
    assert extracted.endswith("cifar-10-batches-py-target")


def test_download_with_wrong_checksum_is_refused_and_not_cached(keras_home, monkeypatch):
    body = tiny_mnist_npz(keras_home.parent / "elsewhere" / "mnist.npz").read_bytes()
    serve(monkeypatch, {"mnist.npz": body})
    with pytest.raises(DatasetError, match="downloaded mnist.npz is damaged.*mnist-sample"):
        load_dataset("mnist")
    assert cache_files(keras_home) == []


def test_download_cut_short_is_not_cached(keras_home, monkeypatch):
    files = fashion_gz_files()
    serve(monkeypatch, files, length=10**6)  # the server promised more than it sent
    with pytest.raises(DatasetError, match="stopped early"):
        load_dataset("fashion_mnist")
    assert cache_files(keras_home) == []
