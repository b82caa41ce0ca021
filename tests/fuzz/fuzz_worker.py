"""The child process of the fuzz test: builds each case and feeds it to the real reader.

    python -m tests.fuzz.fuzz_worker PLAN.json RESULTS.jsonl WORKDIR FIRST_POSITION

PLAN.json is {"seed": int, "cases": [[category, index], ...]}. For every case from
FIRST_POSITION on, one JSON line {"position", "event": "start"} is written (and flushed)
before the case runs and one {"event": "end", "outcome", ...} after, so the parent can tell
which case was running when it had to kill this process (a hang, even inside C code) or
when the process died (a crash). Peak memory is measured per case: writing "5" to
/proc/self/clear_refs resets the kernel's high-water mark (VmHWM), read back afterwards.
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.fuzz import fuzz_inputs as inputs

# What a reader may do with a hostile input: refuse it in words, or load something consistent.
REFUSED, LOADED = "refused", "loaded"


class Inconsistent(Exception):
    """A reader returned something that does not hang together."""


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise Inconsistent(what)

# --------------------------------------------------------------------------- checks


def check_dataset(dataset: Any) -> str:
    """Every split's images decode to the dataset's input shape; labels name known classes."""
    from cnnviz.core.data.dataset_types import Dataset

    _check(isinstance(dataset, Dataset), f"load_dataset returned {type(dataset).__name__}")
    shape = tuple(dataset.input_shape)
    _check(len(shape) == 3 and shape[2] in (1, 3) and min(shape) >= 1, f"input shape {shape}")
    _check(dataset.num_classes >= 1, "no classes")
    _check(isinstance(dataset.description, str) and bool(dataset.description), "no description")
    total = 0
    for name in ("train", "validation", "test"):
        split = dataset.split(name)
        if split is None:
            continue
        labels = split.labels()
        _check(labels.shape == (split.count,), f"{name}: {split.count} examples, "
                                                f"labels {labels.shape}")
        if split.count:
            _check(0 <= int(labels.min()) and int(labels.max()) < dataset.num_classes,
                   f"{name}: labels {labels.min()}..{labels.max()} for "
                   f"{dataset.num_classes} classes")
        images = split.images(np.arange(min(split.count, 16)))
        _check(images.dtype == np.uint8 and images.shape == (min(split.count, 16),) + shape,
               f"{name}: images {images.dtype} {images.shape}, input shape {shape}")
        total += split.count
    _check(dataset.train.count >= 1, "no training examples")
    return f"{total} examples, {shape}, {dataset.num_classes} classes"


def check_model(opened: Any) -> str:
    """A built Keras model that takes its declared input and gives finite-shaped output."""
    import keras

    model = opened.model
    _check(isinstance(model, keras.Model), f"open_model returned {type(model).__name__}")
    _check(bool(model.inputs), "no inputs")
    params = model.count_params()
    _check(params >= 0, f"{params} parameters")
    input_shape = tuple(model.inputs[0].shape)[1:]
    if all(isinstance(d, int) and d > 0 for d in input_shape) and \
            int(np.prod(input_shape)) <= 1_000_000 and params <= 10_000_000:
        output = model(np.zeros((1,) + input_shape, dtype="float32"), training=False)
        outputs = output if isinstance(output, (list, tuple)) else [output]
        _check(all(np.asarray(o).shape[0] == 1 for o in outputs), "output batch size")
    return f"{len(model.layers)} layers, {params} parameters"

# --------------------------------------------------------------------------- model bases


class ModelBases:
    """The valid files every model case starts from: one tiny model as .keras, .h5, JSON."""

    def __init__(self, folder: Path) -> None:
        from cnnviz.core.model.builder import build_model
        from cnnviz.core.model.spec import LayerSpec, ModelSpec

        folder.mkdir(parents=True, exist_ok=True)
        spec = ModelSpec((8, 8, 1), [
            LayerSpec.make("Conv2D", filters=2, kernel_size=[3, 3], activation="relu"),
            LayerSpec.make("MaxPooling2D"),
            LayerSpec.make("Flatten"),
            LayerSpec.make("Dense", units=3, activation="softmax"),
        ], name="tiny")
        model = build_model(spec)
        model.save(folder / "base.keras")
        model.save(folder / "base.h5")
        model.save_weights(folder / "base.weights.h5")
        self.keras = (folder / "base.keras").read_bytes()
        self.h5 = (folder / "base.h5").read_bytes()
        self.weights = (folder / "base.weights.h5").read_bytes()
        self.architecture = json.loads(model.to_json())
        self.h5_config = self.architecture


_BASES: dict[str, ModelBases] = {}


def model_bases(workdir: Path) -> ModelBases:
    if "models" not in _BASES:
        _BASES["models"] = ModelBases(workdir / "bases")
    return _BASES["models"]

# --------------------------------------------------------------------------- cases


KINDS: dict[str, list[str]] = {
    "spec": inputs.SPEC_KINDS,
    "npz": inputs.NPZ_KINDS,
    "idx": inputs.IDX_KINDS,
    "cifar": inputs.CIFAR_KINDS,
    "image-folder": inputs.IMAGE_KINDS,
    "image-file": inputs.IMAGE_KINDS,
    "keras": inputs.MODEL_KINDS["keras"],
    "h5": inputs.MODEL_KINDS["h5"],
    "json": inputs.MODEL_KINDS["json"],
    # The harness's own test: a reader that hangs in C, one that crashes, one that hogs memory.
    "selftest": ["sleeps-in-c", "segfaults", "allocates", "fine"],
}


def kind_of(category: str, index: int) -> str:
    kinds = KINDS[category]
    return kinds[index % len(kinds)]


def _read_dataset(path: Path, rng: random.Random) -> Callable[[], str]:
    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    options = LoadOptions(target_size=rng.choice([(8, 8), (5, 7), None]),
                          color_mode=rng.choice(["rgb", "grayscale"]),
                          validation_split=rng.choice([0.0, 0.1, 0.5]))
    return lambda: check_dataset(load_dataset(str(path), options))


def _selftest(kind: str) -> str:
    import ctypes

    if kind == "sleeps-in-c":
        libc = ctypes.CDLL(None)
        while True:  # a C call that no Python signal handler interrupts for long
            libc.usleep(1_000_000)
    if kind == "segfaults":
        ctypes.string_at(0)
    if kind == "allocates":
        block = np.ones(900 * 2**20, dtype=np.uint8)  # touched, so resident
        time.sleep(60)  # held until the parent notices, however busy the machine is
        return str(block.sum())
    return "fine"


def _model_case(category: str, kind: str, folder: Path, rng: random.Random,
                workdir: Path) -> Callable[[], str]:
    import h5py

    from cnnviz.core.inspect.model_files import open_model

    bases = model_bases(workdir)
    weights: Path | None = None
    if category == "keras":
        path = folder / "model.keras"
        path.write_bytes(inputs.keras_case(bases.keras, rng, kind))
    elif category == "h5":
        path = folder / rng.choice(["model.h5", "model.hdf5"])
        if kind in inputs.BYTE_KINDS:
            path.write_bytes(inputs.byte_mutation(bases.h5, rng, kind, prefix_len=8))
        elif kind == "config-attr":
            path.write_bytes(bases.h5)
            with h5py.File(path, "r+") as handle:
                handle.attrs["model_config"] = inputs.json_mutation(
                    bases.h5_config, rng, rng.choice(["wrong-types", "wrong-types",
                                                      "truncated-json", "wrong-top-type"]))
        else:  # weights-flipped-h5: damage past the superblock, in the data
            data = bytearray(bases.h5)
            for _ in range(rng.randint(1, 16)):
                position = rng.randrange(2048, len(data))
                data[position] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(data))
    else:
        path = folder / "model.json"
        if kind == "absurd-layer-sizes":
            path.write_text(json.dumps(inputs.absurd_layer_config(bases.architecture, rng)))
        else:
            path.write_bytes(inputs.json_mutation(bases.architecture, rng, kind))
        if rng.random() < 0.5:
            weights = folder / "model.weights.h5"
            weights.write_bytes(bases.weights if rng.random() < 0.5 else
                                inputs.flip_bits(bases.weights, rng))
    return lambda: check_model(open_model(path, weights_path=weights, trust=False))


def _read_spec(path: Path) -> str:
    from cnnviz.core.model.shapes import analyze
    from cnnviz.core.model.spec import ModelSpec, load_spec

    spec = load_spec(path)
    _check(isinstance(spec, ModelSpec), f"load_spec returned {type(spec).__name__}")
    report = analyze(spec)
    _check(len(report.layers) == len(spec.layers), "a report row per layer")
    return f"{len(spec.layers)} layers"


def _read_image_file(path: Path, shape: tuple[int, int, int]) -> str:
    from cnnviz.core.data.input_images import image_file_to_input

    pixels = image_file_to_input(path, shape)
    _check(pixels.shape == shape and pixels.dtype == np.float32
           and float(pixels.min()) >= 0.0 and float(pixels.max()) <= 1.0,
           f"input {pixels.dtype} {pixels.shape}")
    return f"{pixels.shape}"


def prepare_case(category: str, index: int, seed: int, workdir: Path) -> Callable[[], str]:
    """Write case (category, index) to disk; returns the call that reads it with the real
    reader and checks what loaded (or raises)."""
    kind = kind_of(category, index)
    rng = random.Random(f"{seed}:{category}:{index}")
    folder = workdir / f"{category}-{index}"
    folder.mkdir(parents=True, exist_ok=True)
    if category == "selftest":
        return lambda: _selftest(kind)
    if category == "spec":
        path = folder / "spec.json"
        path.write_bytes(inputs.spec_case(rng, kind))
        return lambda: _read_spec(path)
    if category == "npz":
        path = folder / rng.choice(["mnist.npz", "data.npz"])
        path.write_bytes(inputs.npz_case(rng, kind))
        return _read_dataset(path, rng)
    if category == "idx":
        inputs.idx_folder_case(folder / "idx", rng, kind)
        return _read_dataset(folder / "idx", rng)
    if category == "cifar":
        return _read_dataset(inputs.cifar_case(folder, rng, kind), rng)
    if category == "image-folder":
        return _read_dataset(inputs.image_folder_case(folder / "photos", rng, kind), rng)
    if category == "image-file":
        fmt, data = inputs.image_case(rng, kind)
        path = folder / f"input.{fmt}"
        path.write_bytes(data)
        shape = rng.choice([(28, 28, 1), (32, 32, 3)])
        return lambda: _read_image_file(path, shape)
    return _model_case(category, kind, folder, rng, workdir)


def outcome_of(call: Callable[[], str]) -> dict[str, Any]:
    from cnnviz.core.errors import CnnvizError

    try:
        detail = call()
    except CnnvizError as exc:
        message = str(exc).strip()
        return {"outcome": REFUSED if message else "empty-message", "type": type(exc).__name__,
                "message": message}
    except Inconsistent as exc:
        return {"outcome": "inconsistent", "message": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - anything else is what the fuzz looks for
        frames = traceback.extract_tb(exc.__traceback__)[-4:]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                            for f in reversed(frames))
        return {"outcome": "unexpected", "type": type(exc).__name__,
                "message": str(exc)[:400], "where": where}
    return {"outcome": LOADED, "message": detail}


def _warm_folder_decoding(workdir: Path) -> None:
    """Read one clean folder first: folder images are decoded by TensorFlow, whose import
    and first pipeline are not the reader's memory."""
    from PIL import Image

    from cnnviz.core.data.dataset_types import LoadOptions
    from cnnviz.core.data.datasets import load_dataset

    root = workdir / "warm-folder"
    for label in ("a", "b"):
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (6, 5), (40, 90, 200)).save(root / label / "one.png")
    data = load_dataset(str(root), LoadOptions(target_size=(5, 7), validation_split=0.0))
    data.train.images([0, 1])
    for _ in data.train.tf_dataset(2):
        pass


def main(argv: list[str]) -> None:
    plan_path, results_path, workdir_text, first_text = argv
    plan = json.loads(Path(plan_path).read_text())
    workdir = Path(workdir_text)
    seed = int(plan["seed"])
    import warnings

    warnings.simplefilter("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    categories = {c for c, _ in plan["cases"]}
    # Imports and base files before the first case, so no case pays for them.
    from cnnviz.core.data import datasets  # noqa: F401
    from cnnviz.core.errors import CnnvizError  # noqa: F401
    if categories & {"keras", "h5", "json"}:
        from cnnviz.core.inspect import model_files
        model_bases(workdir)
        # One good model opened first: Keras's first load warms caches that are not the
        # reader's memory.
        outcome_of(lambda: check_model(model_files.open_model(workdir / "bases" / "base.keras")))
    if "image-folder" in categories:
        _warm_folder_decoding(workdir)
    with open(results_path, "a", encoding="utf-8") as results:
        def record(entry: dict[str, Any]) -> None:
            results.write(json.dumps(entry) + "\n")
            results.flush()

        record({"event": "ready", "pid": os.getpid()})
        for position in range(int(first_text), len(plan["cases"])):
            category, index = plan["cases"][position]
            record({"event": "start", "position": position})
            try:
                read = prepare_case(category, index, seed, workdir)
            except Exception as exc:  # noqa: BLE001 - a bug in the fuzz itself: say so
                record({"event": "end", "position": position, "outcome": "generator-error",
                        "message": f"{type(exc).__name__}: {exc}"})
                continue
            # Only the reading is measured: building a case (a 1 GiB gzip bomb) costs too.
            measured = _reset_peak()
            before_kb = _status_kb("VmRSS")
            started = time.monotonic()
            entry = outcome_of(read)
            seconds = time.monotonic() - started
            # Without clear_refs the process-wide peak stands in: never lower than the case's.
            peak_kb = _status_kb("VmHWM") if measured else \
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            entry.update(event="end", position=position, seconds=round(seconds, 3),
                         rss_growth_mb=round(max(0, peak_kb - before_kb) / 1024, 1),
                         peak_measured=measured)
            record(entry)


if __name__ == "__main__":
    main(sys.argv[1:])
