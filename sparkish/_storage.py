"""Persisted partitions kept on a worker's local disk (``StorageLevel.DISK_ONLY``).

A :class:`DiskBlock` is what the persisting task returns: a handle to a file in the worker's
local directory. Tasks on the same worker read the file; shipping the handle to another process
ships the records themselves. The file is deleted when Dask releases the result.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import uuid
from collections.abc import Iterable, Iterator

from dask.sizeof import sizeof

from ._serialize import Block, dumps


def _directory() -> str:
    try:
        from distributed import get_worker

        base = get_worker().local_directory
    except ValueError:
        base = tempfile.gettempdir()
    path = os.path.join(base, "sparkish-disk-blocks")
    os.makedirs(path, exist_ok=True)
    return path


class DiskBlock:
    """Records pickled to a local file; iterating reads them back."""

    __slots__ = ("path", "count", "nbytes", "__weakref__")

    def __init__(self, path: str, count: int, nbytes: int) -> None:
        self.path = path
        self.count = count
        self.nbytes = nbytes

    @classmethod
    def write(cls, records: Iterable) -> DiskBlock:
        items = list(records)
        payload = dumps(items)
        path = os.path.join(_directory(), f"{uuid.uuid4().hex}.pkl")
        with open(path, "wb") as f:
            f.write(payload)
        return cls(path, len(items), len(payload))

    def records(self) -> list:
        with open(self.path, "rb") as f:
            return pickle.load(f)

    def __iter__(self) -> Iterator:
        return iter(self.records())

    def __len__(self) -> int:
        return self.count

    def __reduce__(self):
        return (Block, (self.records(),))

    def __del__(self) -> None:
        try:
            os.remove(self.path)
        except (OSError, TypeError, AttributeError):
            pass


@sizeof.register(DiskBlock)
def _sizeof_disk_block(block: DiskBlock) -> int:
    return 64
