"""`cnnviz runs export-tensorboard DIR [ID ...]`: the recorded runs written for TensorBoard's
HParams dashboard (read back with TensorBoard's EventAccumulator); no run is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.cli import main
from tests.core.experiments.test_tensorboard_export import _accumulator, _hparams_data, _store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("CNNVIZ_HOME", str(folder))
    return folder


def test_export_tensorboard_writes_every_run_or_those_asked(tmp_path, home, capsys) -> None:
    adam_id, sgd_id = _store(home / "runs.sqlite")
    out = tmp_path / "tb"
    assert main(["runs", "export-tensorboard", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"Wrote 2 runs to {out}" in said and f"tensorboard --logdir {out}" in said
    assert sorted(p.name for p in out.glob("run-*")) == sorted([f"run-{adam_id}",
                                                                f"run-{sgd_id}"])
    optimizer = _hparams_data(_accumulator(out / f"run-{sgd_id}")).session_start_info \
        .hparams["optimizer"].string_value
    assert optimizer == "sgd"

    only = tmp_path / "only"
    assert main(["runs", "--sweep", "lr-sweep", "export-tensorboard", str(only)]) == 0
    assert [p.name for p in only.glob("run-*")] == [f"run-{adam_id}"]
    picked = tmp_path / "picked"
    assert main(["runs", "export-tensorboard", str(picked), str(sgd_id)]) == 0
    assert [p.name for p in picked.glob("run-*")] == [f"run-{sgd_id}"]


def test_nothing_to_export_or_an_unknown_run_is_one_line(tmp_path, home, capsys) -> None:
    from cnnviz.core.experiments.run_store import RunStore

    RunStore(home / "runs.sqlite").close()
    assert main(["runs", "export-tensorboard", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no runs to export" in err
    assert main(["runs", "export-tensorboard", str(tmp_path / "tb"), "9"]) == 2
    assert capsys.readouterr().err.strip().endswith("There is no run 9 in "
                                                    f"{home / 'runs.sqlite'}.")
    assert not (tmp_path / "tb").exists()
