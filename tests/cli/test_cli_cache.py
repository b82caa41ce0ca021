"""`cnnviz cache`: what `cnnviz features` left in the data folder, shown and cleared; other
files in the cache folders are never touched; a file that cannot be deleted is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.cli import main
from cnnviz.core.formatting import readable_size
from tests.cli.cli_output import one_line

MODEL_FILE = Path(__file__).parents[2] / "sample_models" / "mnist_cnn_small.keras"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["cache", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_shows_and_clears_what_features_cached(capsys, tmp_path, home):
    code, out, err = run(capsys)
    assert code == 0, err
    assert "Computed features: empty (limit 2.00 GB)" in out
    assert f"folder: {home / 'feature_cache'}" in out
    assert "Prepared pre-built bases: empty" in out and f"folder: {home / 'bases'}" in out
    assert "computed again" in out and "Total: 0.00 B" in out

    assert main(["features", str(MODEL_FILE), "--data", "mnist-sample", "--layer", "dense",
                 "--layer", "flatten", "--limit", "50", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    cached = sorted((home / "feature_cache").glob("features-*.npz"))
    size = sum(path.stat().st_size for path in cached)
    assert len(cached) == 2
    (home / "bases").mkdir()
    (home / "bases" / "mobilenet_v2-imagenet-96x96x1-00.keras").write_bytes(b"k" * 2048)
    (home / "bases" / "readme.txt").write_text("mine")

    code, out, err = run(capsys)
    assert code == 0, err
    assert f"Computed features: 2 files, {readable_size(size)} (limit 2.00 GB)" in out
    assert "Prepared pre-built bases: 1 file, 2.00 KB" in out

    code, out, err = run(capsys, "clear", "features")
    assert code == 0, err
    assert out.strip() == f"Computed features: Freed {readable_size(size)} (2 files)."
    assert not any(path.exists() for path in cached)
    assert (home / "bases" / "mobilenet_v2-imagenet-96x96x1-00.keras").exists()

    code, out, err = run(capsys, "clear")
    assert code == 0, err
    assert "Computed features: Nothing to free" in out
    assert "Prepared pre-built bases: Freed 2.00 KB (1 file)." in out
    assert (home / "bases" / "readme.txt").read_text() == "mine"
    assert (tmp_path / "out" / "features-dense.npz").exists()   # the user's export


def test_a_file_that_cannot_be_deleted_is_reported(capsys, home, monkeypatch):
    folder = home / "bases"
    folder.mkdir(parents=True)
    stuck = folder / "stuck.keras"
    stuck.write_bytes(b"k" * 10)
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if path == stuck:
            raise PermissionError(13, "Permission denied")
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    code, out, err = run(capsys, "clear", "bases")
    assert code == 2 and stuck.exists()
    assert f"could not be deleted: {stuck} (Permission denied)" in out
    assert "1 file could not be deleted" in one_line(err)


@pytest.mark.parametrize("word", ["logs", "everything"])
def test_an_unknown_cache_is_refused(capsys, home, word):
    with pytest.raises(SystemExit) as stopped:
        main(["cache", "clear", word])
    assert stopped.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
