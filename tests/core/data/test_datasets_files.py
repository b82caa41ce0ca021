"""Local dataset files through the real loaders: Keras npz, IDX folders, CIFAR-10 batches.

Every file is written in tmp_path in its real format; every bad-input case must end in a
DatasetError whose message tells the user what is wrong.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from cnnviz.core.data.data_splits import ArraySplit
from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.datasets import load_dataset
from cnnviz.core.errors import CnnvizError, DatasetError
from tests.core.data.dataset_fixtures import (
    cifar_members, digits, idx_bytes, python2_pickle, write_cifar_folder,
    write_idx_folder, write_tar_gz)

NO_VALIDATION = LoadOptions(validation_split=0)


def test_dataset_error_is_a_cnnviz_error():
    assert issubclass(DatasetError, CnnvizError)


# --------------------------------------------------------------------------- npz


def write_npz(path, train=30, test=10, **overrides):
    x_train, y_train = digits(train, 1)
    x_test, y_test = digits(test, 2)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


def test_keras_npz_loads_with_channel_axis_and_digit_classes(tmp_path):
    arrays = write_npz(tmp_path / "mnist.npz")
    data = load_dataset(str(tmp_path / "mnist.npz"), NO_VALIDATION)
    assert data.input_shape == (28, 28, 1)
    assert data.class_names == [str(d) for d in range(10)]
    assert (data.train.count, data.test.count, data.validation) == (30, 10, None)
    np.testing.assert_array_equal(data.train.images(range(30))[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(data.test.labels(), arrays["y_test"])
    assert data.train.labels().dtype == np.int64


def test_npz_with_its_own_validation_arrays_keeps_them(tmp_path):
    x_val, y_val = digits(7, 5)
    write_npz(tmp_path / "d.npz", x_val=x_val, y_val=y_val)
    data = load_dataset(str(tmp_path / "d.npz"))  # default validation_split 0.1 must not carve
    assert (data.train.count, data.validation.count) == (30, 7)


def test_truncated_npz_is_reported_as_damaged(tmp_path):
    write_npz(tmp_path / "mnist.npz", train=200)
    whole = (tmp_path / "mnist.npz").read_bytes()
    (tmp_path / "mnist.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetError, match="damaged or incomplete"):
        load_dataset(str(tmp_path / "mnist.npz"))


def test_npz_member_with_flipped_bytes_is_reported_as_damaged(tmp_path):
    write_npz(tmp_path / "mnist.npz", train=200)
    raw = bytearray((tmp_path / "mnist.npz").read_bytes())
    raw[200:260] = bytes(60)  # inside x_test's array data: the zip's CRC check fails
    (tmp_path / "mnist.npz").write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="damaged"):
        load_dataset(str(tmp_path / "mnist.npz"))


def test_npz_without_labels_names_the_missing_array(tmp_path):
    write_npz(tmp_path / "d.npz", y_train=None)
    with pytest.raises(DatasetError, match="no y_train array"):
        load_dataset(str(tmp_path / "d.npz"))


def test_npz_image_and_label_counts_must_match(tmp_path):
    write_npz(tmp_path / "d.npz", y_train=np.zeros(29, np.uint8))
    with pytest.raises(DatasetError, match="30 images but y_train has 29 labels"):
        load_dataset(str(tmp_path / "d.npz"))


def test_npz_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "ran"

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    x_train, y_train = digits(4)
    evil = np.empty(1, dtype=object)
    evil[0] = RunsCode()
    np.savez(tmp_path / "evil.npz", x_train=x_train, y_train=y_train, x_test=evil, y_test=y_train)
    with pytest.raises(DatasetError, match="Python objects"):
        load_dataset(str(tmp_path / "evil.npz"))
    assert not marker.exists()


def test_a_file_that_is_not_a_zip_is_not_an_npz(tmp_path):
    (tmp_path / "fake.npz").write_bytes(b"hello, I am text")
    with pytest.raises(DatasetError, match="not a .npz file"):
        load_dataset(str(tmp_path / "fake.npz"))


# --------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_loads_train_and_test(tmp_path, gz):
    arrays = write_idx_folder(tmp_path / "mnist", train=30, test=10, gz=gz)
    data = load_dataset(str(tmp_path / "mnist"), NO_VALIDATION)
    assert (data.train.count, data.test.count) == (30, 10)
    assert data.input_shape == (28, 28, 1)
    np.testing.assert_array_equal(data.train.images([0, 29])[..., 0], arrays["train"][0][[0, 29]])
    np.testing.assert_array_equal(data.test.labels(), arrays["t10k"][1])
    assert "digits" in data.description


def test_idx_folder_with_only_test_files_splits_them_80_20(tmp_path):
    arrays = write_idx_folder(tmp_path / "t10k_only", train=None, test=50)
    data = load_dataset(str(tmp_path / "t10k_only"), NO_VALIDATION)
    assert (data.train.count, data.test.count) == (40, 10)
    np.testing.assert_array_equal(data.train.labels(), arrays["t10k"][1][:40])
    np.testing.assert_array_equal(data.test.labels(), arrays["t10k"][1][40:])
    assert any("only the test files" in note for note in data.report.notes)


def test_idx_folder_named_fashion_gets_fashion_class_names(tmp_path):
    write_idx_folder(tmp_path / "fashion-mnist")
    data = load_dataset(str(tmp_path / "fashion-mnist"))
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"


def test_swapped_idx_files_fail_on_the_magic_number(tmp_path):
    folder = tmp_path / "swapped"
    write_idx_folder(folder, test=None, gz=False)
    images = (folder / "train-images-idx3-ubyte").read_bytes()
    labels = (folder / "train-labels-idx1-ubyte").read_bytes()
    (folder / "train-images-idx3-ubyte").write_bytes(labels)
    (folder / "train-labels-idx1-ubyte").write_bytes(images)
    with pytest.raises(DatasetError, match=r"magic number 0x00000801 \(that is a label file\)"):
        load_dataset(str(folder))


def test_idx_file_with_garbage_magic_number(tmp_path):
    folder = tmp_path / "garbage"
    write_idx_folder(folder, test=None, gz=False)
    (folder / "train-images-idx3-ubyte").write_bytes(b"GIF89a" + bytes(100))
    with pytest.raises(DatasetError, match="not an IDX image file.*0x47494638"):
        load_dataset(str(folder))


def test_truncated_idx_file_is_reported(tmp_path):
    folder = tmp_path / "cut"
    write_idx_folder(folder, test=None, gz=False)
    whole = (folder / "train-images-idx3-ubyte").read_bytes()
    (folder / "train-images-idx3-ubyte").write_bytes(whole[:-100])
    with pytest.raises(DatasetError, match="is truncated"):
        load_dataset(str(folder))


def test_truncated_gzip_is_reported(tmp_path):
    folder = tmp_path / "cutgz"
    write_idx_folder(folder, test=None, gz=True)
    whole = (folder / "train-images-idx3-ubyte.gz").read_bytes()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetError, match="could not be unzipped.*damaged or incomplete"):
        load_dataset(str(folder))


def test_idx_label_count_must_match_image_count(tmp_path):
    folder = tmp_path / "counts"
    write_idx_folder(folder, train=30, test=None, gz=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(29, np.uint8)))
    with pytest.raises(DatasetError, match="30 images but .* 29 labels"):
        load_dataset(str(folder))


def test_idx_images_without_labels_file(tmp_path):
    folder = tmp_path / "half"
    write_idx_folder(folder, test=None)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="no matching train-labels"):
        load_dataset(str(folder))


def test_a_single_idx_file_asks_for_its_folder(tmp_path):
    write_idx_folder(tmp_path / "m")
    with pytest.raises(DatasetError, match="pass the folder"):
        load_dataset(str(tmp_path / "m" / "train-images-idx3-ubyte.gz"))


# --------------------------------------------------------------------------- CIFAR-10


def expected_cifar(members, name):
    batch = pickle.loads(members[name], encoding="bytes")
    return batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(batch[b"labels"])


def test_cifar_folder_loads_all_batches_channels_last(tmp_path):
    members = cifar_members(per_batch=4)
    write_cifar_folder(tmp_path / "cifar-10-batches-py", members)
    data = load_dataset(str(tmp_path / "cifar-10-batches-py"), NO_VALIDATION)
    assert (data.train.count, data.test.count, data.input_shape) == (20, 4, (32, 32, 3))
    assert data.class_names[:3] == ["airplane", "automobile", "bird"]
    x3, y3 = expected_cifar(members, "data_batch_3")
    np.testing.assert_array_equal(data.train.images(range(8, 12)), x3)
    np.testing.assert_array_equal(data.train.labels()[8:12], y3)
    np.testing.assert_array_equal(data.test.images(range(4)),
                                  expected_cifar(members, "test_batch")[0])


def test_cifar_parent_folder_is_found_too(tmp_path):
    write_cifar_folder(tmp_path / "download" / "cifar-10-batches-py")
    assert load_dataset(str(tmp_path / "download")).name == "CIFAR-10"


def test_cifar_tar_gz_is_read_without_extracting(tmp_path):
    members = cifar_members(per_batch=3)
    archive = write_tar_gz(tmp_path / "cifar-10-python.tar.gz", members)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    data = load_dataset(str(archive), NO_VALIDATION)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert (data.train.count, data.test.count) == (15, 3)
    np.testing.assert_array_equal(data.train.images(range(3)),
                                  expected_cifar(members, "data_batch_1")[0])


@pytest.mark.parametrize("module", ["numpy.core.multiarray", "numpy._core.multiarray"])
def test_cifar_batches_from_either_numpy_major_version_load(tmp_path, module):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    members = {"data_batch_1": python2_pickle({b"data": data, b"labels": [3, 7]}, module)}
    write_cifar_folder(tmp_path / "c", members)
    loaded = load_dataset(str(tmp_path / "c"), NO_VALIDATION)
    np.testing.assert_array_equal(loaded.train.labels(), [3, 7])
    assert loaded.test is None and any("test_batch is missing" in n for n in loaded.report.notes)


class RunsShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class CallsEval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.mark.parametrize("attack", [RunsShellCommand, CallsEval])
def test_crafted_cifar_pickle_cannot_run_code(tmp_path, attack):
    marker = tmp_path / "pwned"
    members = cifar_members(per_batch=2)
    members["data_batch_2"] = python2_pickle({b"data": attack(marker), b"labels": [0]})
    write_cifar_folder(tmp_path / "evil", members)
    with pytest.raises(DatasetError, match="was not read: it asks to run .*(system|eval)"):
        load_dataset(str(tmp_path / "evil"))
    assert not marker.exists()
    # The same file inside an archive is refused the same way.
    write_tar_gz(tmp_path / "evil.tar.gz", members)
    with pytest.raises(DatasetError, match="tampered"):
        load_dataset(str(tmp_path / "evil.tar.gz"))
    assert not marker.exists()
    # Control: an ordinary unpickler does run it, so the file really is an attack.
    pickle.loads(members["data_batch_2"], encoding="bytes")
    assert marker.exists()


def test_cifar_archive_with_path_outside_is_refused(tmp_path):
    members = cifar_members(per_batch=2)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            folder = "../../" if name == "batches.meta" else "cifar-10-batches-py/"
            info = tarfile.TarInfo(folder + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(DatasetError, match="path outside the archive"):
        load_dataset(str(archive))


def test_cifar_archive_with_link_in_place_of_a_batch_is_refused(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(DatasetError, match="link or special file"):
        load_dataset(str(archive))


def test_truncated_cifar_archive_is_reported(tmp_path):
    archive = write_tar_gz(tmp_path / "cifar-10-python.tar.gz", cifar_members(per_batch=50))
    whole = archive.read_bytes()
    archive.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(DatasetError, match="damaged or incomplete"):
        load_dataset(str(archive))


def test_archive_without_cifar10_batches_says_so(tmp_path):
    archive = write_tar_gz(tmp_path / "cifar-100-python.tar.gz",
                           {"train": b"x", "test": b"y", "meta": b"z"}, prefix="cifar-100-python/")
    with pytest.raises(DatasetError, match="no CIFAR-10 training batches"):
        load_dataset(str(archive))


def test_cifar_batch_with_fewer_labels_than_images(tmp_path):
    data = np.zeros((3, 3072), np.uint8)
    batch = python2_pickle({b"data": data, b"labels": [1, 2]})
    write_cifar_folder(tmp_path / "c", {"data_batch_1": batch})
    with pytest.raises(DatasetError, match="3 images but its label list has 2 labels"):
        load_dataset(str(tmp_path / "c"))


def test_damaged_cifar_pickle_is_reported(tmp_path):
    members = cifar_members(per_batch=2)
    members["test_batch"] = members["test_batch"][:300]
    write_cifar_folder(tmp_path / "c", members)
    with pytest.raises(DatasetError, match="test_batch could not be read as a CIFAR-10 batch"):
        load_dataset(str(tmp_path / "c"))


def test_cifar_loads_into_memory_arrays(tmp_path):
    write_cifar_folder(tmp_path / "c")
    assert isinstance(load_dataset(str(tmp_path / "c")).train, ArraySplit)


def test_gzip_that_is_not_a_tar(tmp_path):
    (tmp_path / "cifar.tar.gz").write_bytes(gzip.compress(b"not a tar at all" * 100))
    with pytest.raises(DatasetError, match="damaged or incomplete"):
        load_dataset(str(tmp_path / "cifar.tar.gz"))
