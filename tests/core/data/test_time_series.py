"""Time-series sources through load_dataset: UCR/UEA folders and files (.ts, .tsv, .arff),
series CSV and .npz, the bundled GunPoint sample, z-normalisation, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.data.dataset_types import LoadOptions
from cnnviz.core.data.datasets import SOURCE_NAMES, load_dataset
from cnnviz.core.data.series_split import SeriesSplit
from cnnviz.core.data.split_choice import measured_split, split_phrase
from cnnviz.core.data.time_series import sorted_class_labels
from cnnviz.core.errors import DatasetError
from tests.core.data.series_fixtures import series_values, write_arff, write_ts, write_tsv

NO_VAL = LoadOptions(validation_split=0)


def _assert_values(split, x, labels_as_indices):
    np.testing.assert_allclose(split.examples(range(split.count)), x.astype(np.float32))
    np.testing.assert_array_equal(split.labels(), labels_as_indices)


# --------------------------------------------------------------------------- formats


def test_ts_univariate_file_is_whole_with_sorted_numeric_classes(tmp_path):
    x = series_values(6, 20)
    labels = ["10", "2", "2", "10", "1", "2"]
    path = write_ts(tmp_path / "Tiny.ts", x, labels)
    data = load_dataset(str(path), NO_VAL)
    assert data.is_series and data.input_shape == (20, 1)
    # Numerically sorted: 1 < 2 < 10 (as text "10" would come before "2").
    assert data.class_names == ["1", "2", "10"]
    _assert_values(data.whole, x, [2, 1, 1, 2, 0, 1])
    assert isinstance(data.train, SeriesSplit) and data.train.count == 6 and data.test is None
    assert measured_split(data) == "all"
    assert split_phrase(data, "all") == "all 6 series of Tiny.ts"
    assert data.description == "Tiny: 6 train series, 20 steps × 1 channel, 3 classes"


def test_ts_multivariate_dimensions_become_channels(tmp_path):
    x = series_values(4, 9, channels=3, seed=1)
    path = write_ts(tmp_path / "Multi.ts", x, ["walk", "run", "run", "sit"])
    data = load_dataset(str(path), NO_VAL)
    assert data.input_shape == (9, 3)
    assert data.class_names == ["run", "sit", "walk"]  # text labels: sorted as text
    _assert_values(data.whole, x, [2, 0, 0, 1])
    assert "3 channels" in data.description


def test_ts_declared_class_without_series_still_counts(tmp_path):
    path = write_ts(tmp_path / "d.ts", series_values(2, 5), ["1", "1"], declared=["1", "2"])
    data = load_dataset(str(path), NO_VAL)
    assert data.class_names == ["1", "2"] and data.num_classes == 2


def test_ts_unequal_lengths_are_padded_with_zeros_and_reported(tmp_path):
    x = series_values(3, 8)
    path = write_ts(tmp_path / "u.ts", x, ["a", "b", "a"], equal_length=False,
                    lengths=[8, 5, 3])
    data = load_dataset(str(path), NO_VAL)
    values = data.whole.examples([0, 1, 2])[..., 0]
    np.testing.assert_allclose(values[1, :5], x[1, :5, 0].astype(np.float32))
    assert np.all(values[1, 5:] == 0) and np.all(values[2, 3:] == 0)
    assert any("2 series were shorter than 8 steps and were padded with zeros" in note
               for note in data.report.notes)


def test_ucr_folder_train_is_train_and_test_is_what_evaluate_measures(tmp_path):
    folder = tmp_path / "Tiny"
    folder.mkdir()
    x_train, x_test = series_values(8, 12, seed=2), series_values(5, 12, seed=3)
    write_ts(folder / "Tiny_TRAIN.ts", x_train, ["1", "2"] * 4)
    write_ts(folder / "Tiny_TEST.ts", x_test, ["2", "1", "1", "2", "2"])
    data = load_dataset(str(folder), NO_VAL)
    assert data.whole is None and data.train.count == 8
    _assert_values(data.test, x_test, [1, 0, 0, 1, 1])
    assert measured_split(data) == "test"  # cnnviz evaluate / explain measure the TEST file
    assert split_phrase(data, "test") == "the 5 test series of Tiny"
    assert data.description == "Tiny: 8 train / 5 test series, 12 steps × 1 channel, 2 classes"


def test_ucr_tsv_folder_with_nan_padded_variable_lengths(tmp_path):
    folder = tmp_path / "Var"
    folder.mkdir()
    x = series_values(4, 10, seed=4)
    write_tsv(folder / "Var_TRAIN.tsv", x, ["-1", "1", "1", "-1"], lengths=[10, 7, 10, 4])
    write_tsv(folder / "Var_TEST.tsv", x[:2], ["1", "-1"])
    data = load_dataset(str(folder), NO_VAL)
    assert data.class_names == ["-1", "1"] and data.input_shape == (10, 1)
    train = data.train.examples(range(4))[..., 0]
    np.testing.assert_allclose(train[1, :7], x[1, :7, 0].astype(np.float32))
    assert np.all(train[1, 7:] == 0) and np.all(train[3, 4:] == 0)
    np.testing.assert_array_equal(data.test.labels(), [1, 0])


def test_folder_with_ts_and_arff_copies_reads_the_ts(tmp_path):
    folder = tmp_path / "Both"
    folder.mkdir()
    x = series_values(4, 6)
    for part in ("TRAIN", "TEST"):
        write_ts(folder / f"Both_{part}.ts", x, ["a", "b", "a", "b"])
        write_arff(folder / f"Both_{part}.arff", x + 100, ["a", "b", "a", "b"])
    data = load_dataset(str(folder), NO_VAL)
    _assert_values(data.test, x, [0, 1, 0, 1])
    assert any(".arff copies" in note for note in data.report.notes)


def test_arff_univariate_and_multivariate(tmp_path):
    x1 = series_values(5, 7, seed=5)
    uni = load_dataset(str(write_arff(tmp_path / "U.arff", x1, ["1", "2", "1", "1", "2"])),
                       NO_VAL)
    assert uni.input_shape == (7, 1) and uni.class_names == ["1", "2"]
    _assert_values(uni.whole, x1, [0, 1, 0, 0, 1])
    x3 = series_values(3, 6, channels=2, seed=6)
    multi = load_dataset(str(write_arff(tmp_path / "M.arff", x3, ["up", "down", "up"])),
                         NO_VAL)
    assert multi.input_shape == (6, 2) and multi.class_names == ["down", "up"]
    _assert_values(multi.whole, x3, [1, 0, 1])


def test_csv_text_label_in_first_column_with_header(tmp_path):
    path = tmp_path / "ecg.csv"
    path.write_text("label,t1,t2,t3\nnormal,0.5,1.5,2\nabnormal,1,2,3\nnormal,-1,0,1e-3\n")
    data = load_dataset(str(path), NO_VAL)
    assert data.class_names == ["abnormal", "normal"] and data.input_shape == (3, 1)
    np.testing.assert_allclose(data.whole.examples([2])[0, :, 0], [-1, 0, 1e-3])
    np.testing.assert_array_equal(data.whole.labels(), [1, 0, 1])
    assert any("the first column" in note and "'label'" in note for note in data.report.notes)


def test_csv_numeric_label_last_chosen_by_fewer_distinct_values(tmp_path):
    rows = [f"{a},{b},{c},{label}" for a, b, c, label in
            ((0.1, 0.2, 0.3, 1), (0.4, 0.5, 0.6, 0), (0.7, 0.8, 0.9, 1), (1.1, 1.2, 1.3, 0))]
    path = tmp_path / "last.csv"
    path.write_text("\n".join(rows) + "\n")
    data = load_dataset(str(path), NO_VAL)
    assert data.input_shape == (3, 1) and data.class_names == ["0", "1"]
    np.testing.assert_array_equal(data.whole.labels(), [1, 0, 1, 0])
    np.testing.assert_allclose(data.whole.examples([1])[0, :, 0], [0.4, 0.5, 0.6])
    assert any("the last column" in note for note in data.report.notes)


def test_csv_label_column_named_by_the_user(tmp_path):
    path = tmp_path / "mid.csv"
    path.write_text("a,kind,b,c\n1,x,2,3\n4,y,5,6\n")
    data = load_dataset(str(path), LoadOptions(validation_split=0, label_column="kind"))
    assert data.class_names == ["x", "y"]
    np.testing.assert_allclose(data.whole.examples([1])[0, :, 0], [4, 5, 6])
    by_number = load_dataset(str(path), LoadOptions(validation_split=0, label_column="2"))
    np.testing.assert_array_equal(by_number.whole.examples(range(2)),
                                  data.whole.examples(range(2)))


def test_npz_series_two_and_three_dimensional(tmp_path):
    x2 = np.random.default_rng(0).normal(size=(6, 30)).astype(np.float64)
    np.savez(tmp_path / "flat.npz", x=x2, y=np.array(["b", "a", "b", "a", "a", "b"]))
    flat = load_dataset(str(tmp_path / "flat.npz"), NO_VAL)
    assert flat.input_shape == (30, 1) and flat.class_names == ["a", "b"]
    np.testing.assert_allclose(flat.whole.examples(range(6))[..., 0], x2.astype(np.float32))
    assert measured_split(flat) == "all"
    x3 = np.random.default_rng(1).normal(size=(4, 50, 6)).astype(np.float32)
    np.savez(tmp_path / "multi.npz", x=x3, y=np.array([3, 1, 3, 1]))
    multi = load_dataset(str(tmp_path / "multi.npz"), NO_VAL)
    assert multi.input_shape == (50, 6) and multi.class_names == ["1", "3"]
    np.testing.assert_array_equal(multi.whole.labels(), [1, 0, 1, 0])
    np.testing.assert_array_equal(multi.whole.examples(range(4)), x3)


def test_npz_uint8_square_arrays_stay_images(tmp_path):
    x = np.zeros((4, 8, 8), np.uint8)
    np.savez(tmp_path / "pics.npz", x=x, y=np.array([0, 1, 0, 1]))
    data = load_dataset(str(tmp_path / "pics.npz"), NO_VAL)
    assert not data.is_series and data.input_shape == (8, 8, 1)


def test_sorted_class_labels():
    assert sorted_class_labels(["10", "9", "-1", "9"]) == ["-1", "9", "10"]
    assert sorted_class_labels(["b", "10", "a"]) == ["10", "a", "b"]
    assert sorted_class_labels(["1", "1.0", "2"]) == ["1", "2"]


# --------------------------------------------------------------------------- options


def test_z_normalisation_per_series_and_channel(tmp_path):
    x = series_values(3, 16, channels=2, seed=7) * 5 + 3
    x[2, :, 1] = 4.0  # a flat channel becomes zeros, not NaN
    path = write_ts(tmp_path / "Z.ts", x, ["a", "b", "a"])
    data = load_dataset(str(path), LoadOptions(validation_split=0, z_normalize=True))
    got = data.whole.examples(range(3)).astype(np.float64)
    std = x.std(axis=1, keepdims=True)
    expected = (x - x.mean(axis=1, keepdims=True)) / np.where(std > 0, std, 1.0)
    assert np.all(expected[2, :, 1] == 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert "z-normalised per series" in data.description
    plain = load_dataset(str(path), NO_VAL)
    assert "z-normalised" not in plain.description


def test_tf_dataset_yields_float32_values_unscaled_and_int32_labels(tmp_path):
    x = series_values(5, 11, channels=2, seed=8) * 300  # far outside [0, 1]: no /255
    path = write_ts(tmp_path / "B.ts", x, ["1", "2", "1", "2", "2"])
    split = load_dataset(str(path), NO_VAL).whole
    batches = list(split.tf_dataset(batch_size=2))
    assert [tuple(b[0].shape) for b in batches] == [(2, 11, 2), (2, 11, 2), (1, 11, 2)]
    assert batches[0][0].dtype.name == "float32" and batches[0][1].dtype.name == "int32"
    values = np.concatenate([b[0].numpy() for b in batches])
    np.testing.assert_allclose(values, x.astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]),
                                  [0, 1, 0, 1, 1])


def test_subset_keeps_values_and_labels(tmp_path):
    x = series_values(4, 5)
    split = load_dataset(str(write_ts(tmp_path / "S.ts", x, ["a", "b", "c", "d"])),
                         NO_VAL).whole
    part = split.subset([3, 1])
    assert part.count == 2 and part.image_shape == (5, 1)
    np.testing.assert_allclose(part.examples([0, 1]), x[[3, 1]].astype(np.float32))
    np.testing.assert_array_equal(part.labels(), [3, 1])


# --------------------------------------------------------------------------- GunPoint


def test_bundled_gunpoint_sample():
    assert "gunpoint-sample" in SOURCE_NAMES
    data = load_dataset("gunpoint-sample", NO_VAL)
    assert data.train.count == 50 and data.test.count == 150 and data.validation is None
    assert data.input_shape == (150, 1) and data.class_names == ["1", "2"]
    assert data.class_counts("train") == {"1": 24, "2": 26}
    assert measured_split(data) == "test"
    # The first training series of the UCR file, as printed there.
    first = data.train.examples([0])[0, :3, 0]
    np.testing.assert_allclose(first, [-0.6478854, -0.64199155, -0.63818632], rtol=1e-6)
    assert data.train.labels()[0] == 1  # its label is "2"


@pytest.mark.parametrize("seed", range(12))
def test_validation_carve_of_gunpoint_keeps_both_classes(seed):
    data = load_dataset("gunpoint-sample", LoadOptions(validation_split=0.1, seed=seed))
    assert data.validation.count == 5 and data.train.count == 45
    assert set(data.validation.labels()) == {0, 1}
    assert set(data.train.labels()) == {0, 1}


def test_validation_carve_is_seeded():
    first = load_dataset("gunpoint-sample", LoadOptions(seed=3)).validation.examples(range(5))
    again = load_dataset("gunpoint-sample", LoadOptions(seed=3)).validation.examples(range(5))
    np.testing.assert_array_equal(first, again)


# --------------------------------------------------------------------------- bad input


def _ts(tmp_path, body: str, name: str = "Bad.ts"):
    path = tmp_path / name
    path.write_text(body)
    return str(path)


HEADER = "@problemName Bad\n@univariate true\n@equalLength true\n@classLabel true 1 2\n"


@pytest.mark.parametrize("body, pattern", [
    ("@problemName Bad\n@univariate perhaps\n@classLabel true 1 2\n@data\n1,2:1\n",
     r"Bad\.ts, line 2: @univariate should be true or false.*header is broken"),
    ("@problemName Bad\n@classLabel true\n@data\n1,2:1\n",
     r"Bad\.ts, line 2: @classLabel true lists no class labels"),
    ("@problemName Bad\n@seriesLength ten\n@classLabel true 1\n@data\n1,2:1\n",
     r"Bad\.ts, line 2: @seriesLength should be a whole number"),
    (HEADER, r"Bad\.ts has no @data line"),
    (HEADER + "1,2,3:1\n", r"Bad\.ts, line 5: series data before any @data line \(is @data "
     r"missing\?\)"),
    (HEADER + "@data\n1,2,3:1\n4,5:2\n", r"Bad\.ts, line 7: this series has 2 values where "
     r"the first has 3: a ragged row"),
    (HEADER + "@data\n1,2,3:1\n4,x5,6:2\n", r"Bad\.ts, line 7: step 2 is 'x5', which is not "
     r"a number"),
    (HEADER + "@data\n1,2,3:1\n4,?,6:2\n", r"Bad\.ts, line 7: step 2 is a missing value "
     r"\('\?'\).*fill them"),
    (HEADER + "@data\n1,2,NaN:1\n", r"Bad\.ts, line 6: step 3 is a missing value"),
    (HEADER + "@data\n1,2,3:7\n", r"Bad\.ts, line 6: the class label '7' is not one of the "
     r"labels its header declares \(1, 2\)"),
    (HEADER + "@data\n1,2,3\n", r"Bad\.ts, line 6: the series has no class label"),
    ("@problemName Bad\n@classLabel false\n@data\n1,2,3\n", r"has no class labels"),
    ("@problemName Bad\n@dimensions 2\n@classLabel true 1\n@data\n1,2:3,4:5,6:1\n",
     r"line 5: the header says @dimensions 2 but this series has 3"),
    (HEADER + "@data\n", r"Bad\.ts holds no series after @data"),
])
def test_bad_ts_files_name_file_and_line(tmp_path, body, pattern):
    with pytest.raises(DatasetError, match=pattern):
        load_dataset(_ts(tmp_path, body), NO_VAL)


def test_broken_test_file_loads_nothing(tmp_path):
    folder = tmp_path / "Half"
    folder.mkdir()
    write_ts(folder / "Half_TRAIN.ts", series_values(4, 5), ["1", "2", "1", "2"])
    (folder / "Half_TEST.ts").write_text(HEADER + "@data\n1,2,3,4,5:1\n1,2,?,4,5:2\n")
    with pytest.raises(DatasetError, match=r"Half_TEST\.ts, line 7: step 3 is a missing"):
        load_dataset(str(folder), NO_VAL)


@pytest.mark.parametrize("text, options, pattern", [
    ("name,kind\nx,a\ny,b\n", NO_VAL, r"no numeric columns"),
    ("label,t1,t2\na,1,2\nb,3,4\n", LoadOptions(validation_split=0, label_column="target"),
     r"no label column 'target': its columns are 'label', 't1', 't2'"),
    ("a,1,2\nb,3,4\n", LoadOptions(validation_split=0, label_column="class"),
     r"no label column 'class': it has no header row"),
    ("label,t1,t2\na,1,2\nb,3\n", NO_VAL, r"r\.csv, line 3: 2 fields where line 2 has 3: a "
     r"ragged row"),
    ("label,t1,t2\na,1,2\nb,3,oops\n", NO_VAL, r"r\.csv, line 3: step 2 is 'oops'"),
    ("label,t1,t2\na,1,2\nb,3,\n", NO_VAL, r"r\.csv, line 3: step 2 is a missing value"),
])
def test_bad_csv(tmp_path, text, options, pattern):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(DatasetError, match=pattern):
        load_dataset(str(path), options)


def test_bad_tsv_and_arff(tmp_path):
    (tmp_path / "a.tsv").write_text("1\t0.5\t0.25\n2\t0.5\tNaN\t\n")
    with pytest.raises(DatasetError, match=r"a\.tsv, line 2: 3 values where the first row has "
                                           r"2: a ragged row"):
        load_dataset(str(tmp_path / "a.tsv"), NO_VAL)
    (tmp_path / "b.tsv").write_text("1\t0.5\tNaN\t0.25\n")
    with pytest.raises(DatasetError, match=r"b\.tsv, line 1: step 2 is a missing value"):
        load_dataset(str(tmp_path / "b.tsv"), NO_VAL)
    (tmp_path / "c.arff").write_text("@relation c\n@attribute a numeric\n@attribute b numeric\n"
                                     "@attribute target {1,2}\n@data\n1,2,1\n3,2\n")
    with pytest.raises(DatasetError, match=r"c\.arff, line 7: 2 fields where the header "
                                           r"declares 3 attributes"):
        load_dataset(str(tmp_path / "c.arff"), NO_VAL)
    (tmp_path / "d.arff").write_text("@relation d\n@attribute a numeric\n@attribute b numeric\n"
                                     "@attribute target {1,2}\n1,2,1\n")
    with pytest.raises(DatasetError, match=r"d\.arff, line 5: '1,2,1' is not an ARFF header"):
        load_dataset(str(tmp_path / "d.arff"), NO_VAL)


def test_npz_series_with_nan_is_refused(tmp_path):
    x = np.zeros((3, 10))
    x[1, 4] = np.nan
    np.savez(tmp_path / "n.npz", x=x, y=np.array([0, 1, 0]))
    with pytest.raises(DatasetError, match=r"n\.npz: x\[1\] has a missing or infinite value at "
                                           r"step 5"):
        load_dataset(str(tmp_path / "n.npz"), NO_VAL)


def test_folder_with_several_problems_is_refused(tmp_path):
    for name in ("A", "B"):
        write_ts(tmp_path / f"{name}_TRAIN.ts", series_values(2, 3), ["1", "2"])
    with pytest.raises(DatasetError, match=r"several problems \(A, B\)"):
        load_dataset(str(tmp_path), NO_VAL)
