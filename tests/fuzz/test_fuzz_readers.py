"""Fuzz: a few hundred spoiled model files, specs, IDX/npz/CIFAR files and images through the
real readers (open_model, load_spec + analyze, load_dataset, image_file_to_input).

Each must be refused with a CnnvizError that has a message, or load into something consistent
(a Dataset whose images decode to its input shape and whose labels name its classes; a built
Keras model that runs). Never another exception, never a hang, never a crash, and never more
than MEMORY_BOUND_MB of peak resident memory above what the reading process held before the
case (measured per case in the child with the kernel's VmHWM, reset before each case).

Deterministic: case `npz#17` is always built from the same seeded generator. The default run
is DEFAULT_CASES cases (under 30 s on 2 cores); for a longer local run:

    CNNVIZ_FUZZ_CASES=5000 CNNVIZ_FUZZ_SEED=7 pytest tests/fuzz -q
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import fuzz_inputs as inputs
from tests.fuzz.fuzz_runner import Plan, run_plans
from tests.fuzz.fuzz_worker import kind_of

DEFAULT_CASES = 400
CASES = int(os.environ.get("CNNVIZ_FUZZ_CASES", DEFAULT_CASES))
SEED = int(os.environ.get("CNNVIZ_FUZZ_SEED", "13"))
# Every input here is kilobytes; what a reader may hold for one is a few decoded images, a
# tiny model and Keras's own bookkeeping, far below this. A reader that believes a header's
# sizes (2^31 images, a 65,535×65,535 PNG, a 1 GiB config.json) goes far above it.
MEMORY_BOUND_MB = 200
# One case takes milliseconds; a generous bound keeps a slow shared CI machine from failing.
PER_CASE_SECONDS = 20

# Share of the cases per category (the model categories run in a second child, with Keras).
DATA_SHARE = {"spec": 60, "npz": 55, "idx": 45, "cifar": 55, "image-folder": 50,
              "image-file": 35}
MODEL_SHARE = {"keras": 50, "h5": 25, "json": 25}
CATEGORIES = list(DATA_SHARE) + list(MODEL_SHARE)

GOOD_OUTCOMES = ("loaded", "refused")
# A refusal is a sentence or two on one line, not a dump of the file's bytes.
MESSAGE_LIMIT = 400


def _cases(share: dict[str, int]) -> list[tuple[str, int]]:
    total = sum(DATA_SHARE.values()) + sum(MODEL_SHARE.values())
    cases = []
    for category, weight in share.items():
        count = max(len(inputs_kinds(category)), round(CASES * weight / total))
        cases.extend((category, index) for index in range(count))
    return cases


def inputs_kinds(category: str) -> list[str]:
    from tests.fuzz.fuzz_worker import KINDS

    return KINDS[category]


@pytest.fixture(scope="module")
def fuzz_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("fuzz")
    plans = [
        Plan("data", _cases(DATA_SHARE), SEED, per_case_seconds=PER_CASE_SECONDS),
        Plan("models", _cases(MODEL_SHARE), SEED, per_case_seconds=PER_CASE_SECONDS),
        # The harness itself: a hang in C, a segfault, a memory hog must all be caught.
        Plan("selftest", [("selftest", i) for i in range(4)], SEED, per_case_seconds=8,
             hard_memory_mb=400),
    ]
    results = run_plans(plans, folder)
    by_category: dict[str, list[dict[str, Any]]] = {}
    for records in results.values():
        for record in records:
            record["kind"] = kind_of(record["category"], record["index"])
            by_category.setdefault(record["category"], []).append(record)
    return by_category


def _problem(record: dict[str, Any]) -> str | None:
    """Why this case's result is not acceptable, or None."""
    if record["outcome"] not in GOOD_OUTCOMES:
        where = f" at {record['where']}" if record.get("where") else ""
        return (f"{record['outcome']}: {record.get('type', '')} {record['message'][:300]}"
                f"{where}")
    message = record["message"]
    if record["outcome"] == "refused" and (len(message) > MESSAGE_LIMIT
                                           or not message.isprintable()):
        return f"unreadable message ({len(message)} characters): {message[:300]!r}"
    if record.get("rss_growth_mb", 0) > MEMORY_BOUND_MB:
        return (f"peak memory grew by {record['rss_growth_mb']:.0f} MB "
                f"(bound {MEMORY_BOUND_MB} MB); {record['outcome']}: {record['message'][:200]}")
    return None


def _failures(records: list[dict[str, Any]]) -> list[str]:
    """The cases that failed, one line each."""
    found = []
    for r in records:
        problem = _problem(r)
        if problem is not None:
            found.append(f"{r['category']}#{r['index']}:{r['kind']} -> {problem}")
    return found


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_spoiled_input_is_refused_in_words_or_loads_consistently(
        fuzz_results: dict[str, list[dict[str, Any]]], category: str) -> None:
    records = fuzz_results[category]
    failures = _failures(records)
    assert not failures, f"{len(failures)} of {len(records)} {category} cases failed:\n" + \
        "\n".join(failures)
    # The fuzz reaches the readers' inner checks: some spoiled inputs still load (the
    # damage was harmless, or in a skipped file), most are refused.
    outcomes = Counter(r["outcome"] for r in records)
    assert outcomes["refused"] > 0, outcomes


def test_the_harness_catches_hangs_crashes_and_memory_hogs(
        fuzz_results: dict[str, list[dict[str, Any]]]) -> None:
    outcomes = {r["kind"]: r["outcome"] for r in fuzz_results["selftest"]}
    assert outcomes == {"sleeps-in-c": "hang", "segfaults": "crash",
                        "allocates": "memory-killed", "fine": "loaded"}


def test_cases_are_the_same_bytes_every_run() -> None:
    def build(seed: int) -> list[bytes]:
        out = []
        for index, kind in enumerate(inputs.NPZ_KINDS + inputs.SPEC_KINDS):
            rng = random.Random(f"{seed}:x:{index}")
            out.append(inputs.npz_case(rng, kind) if kind in inputs.NPZ_KINDS
                       else inputs.spec_case(rng, kind))
        return out

    assert build(SEED) == build(SEED)
    assert build(SEED) != build(SEED + 1)


def test_every_category_ran_every_kind(fuzz_results: dict[str, list[dict[str, Any]]]) -> None:
    for category in CATEGORIES:
        ran = {r["kind"] for r in fuzz_results[category]}
        assert ran == set(inputs_kinds(category)), category


def test_fuzz_files_are_written_in_the_real_formats(tmp_path: Path) -> None:
    """The unspoiled bases load: the fuzz starts from files the readers accept."""
    from cnnviz.core.data.datasets import load_dataset
    from tests.fuzz.fuzz_inputs import base_npz_members, npy_bytes, rezip

    path = tmp_path / "mnist.npz"
    rng = random.Random(1)
    path.write_bytes(rezip({f"{k}.npy": npy_bytes(v) for k, v in base_npz_members(rng).items()}))
    assert load_dataset(str(path)).train.count >= 1
