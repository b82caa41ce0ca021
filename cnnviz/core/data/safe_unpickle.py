"""Unpickling CIFAR batch files without letting a crafted file run code.

A pickle is a small program: it may name any importable function (os.system, eval) and
call it. The real CIFAR-10 batches only need dicts, lists, bytes, strings, numbers and numpy
arrays; of those, only numpy arrays come from a named global. So `find_class` hands out
exactly numpy's array-rebuilding pieces and refuses every other name.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

from cnnviz.core.errors import DatasetError

# numpy's pickled arrays name `_reconstruct` under numpy<2's module path or numpy>=2's; the
# function itself is taken from a live array so neither path has to be imported here.
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _Refused(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.qualified_name = f"{module}.{name}"


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler whose only importable names are numpy's array and dtype rebuilders."""

    def find_class(self, module: str, name: str) -> object:
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise _Refused(module, name)
        return allowed

    def persistent_load(self, pid: object) -> object:
        raise _Refused("persistent_id", str(pid)[:40])


def load_restricted_pickle(data: bytes, file_label: str) -> object:
    """Unpickle `data` (Python 2 strings kept as bytes, as CIFAR's own loader does).

    file_label names the file in messages. Raises DatasetError when the pickle asks for
    anything but numpy arrays, or is damaged.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except _Refused as refused:
        raise DatasetError(
            f"{file_label} was not read: it asks to run '{refused.qualified_name}', which a real "
            "CIFAR-10 batch never does. The file may have been tampered with; download "
            "CIFAR-10 again from its official site."
        ) from None
    except Exception as exc:  # a damaged pickle can fail in any of numpy's rebuilders
        detail = "".join(ch if ch.isprintable() else "?" for ch in str(exc).split("\n")[0])
        detail = detail if len(detail) <= 80 else detail[:77] + "..."
        raise DatasetError(
            f"{file_label} could not be read as a CIFAR-10 batch: the file is damaged or "
            f"incomplete ({type(exc).__name__}{': ' + detail if detail else ''})."
        ) from None
