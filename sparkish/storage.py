"""Partitions kept in files: persisted on a worker's disk, or checkpointed on any file system.

A :class:`DiskBlock` is what a task persisting at ``StorageLevel.DISK_ONLY`` returns: a handle to
a file in the worker's local directory. Tasks on the same worker read the file; shipping the
handle to another process ships the records themselves. The file is deleted when Dask releases
the result.

A reliable checkpoint writes each partition to ``<checkpoint dir>/rdd-<id>/part-NNNNN`` through
fsspec (:func:`write_checkpoint_part`); a :class:`CheckpointPart` reads one back.
"""

from __future__ import annotations

import itertools
import os
import pickle
import tempfile
import uuid
from collections.abc import Iterable, Iterator

import fsspec
from dask.sizeof import sizeof
from distributed import get_worker

from .serialization import Block, dumps

__all__ = ["CheckpointPart", "DiskBlock", "make_checkpoint_directory", "write_checkpoint_part"]

#: Records per pickled chunk of a :class:`DiskBlock`: what is in memory at once while one is
#: written or read.
DISK_CHUNK_RECORDS = 4096


def _directory() -> str:
    try:
        base = get_worker().local_directory
    except ValueError:
        base = tempfile.gettempdir()
    path = os.path.join(base, "sparkish-disk-blocks")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


class DiskBlock:
    """Records pickled to a local file in chunks; iterating reads them back a chunk at a time.

    Writing consumes the records as they come and reading yields them as they are read, so a
    partition far larger than the worker's memory passes through it.
    """

    __slots__ = ("path", "count", "nbytes", "__weakref__")

    def __init__(self, path: str, count: int, nbytes: int) -> None:
        self.path = path
        self.count = count
        self.nbytes = nbytes

    @classmethod
    def write(cls, records: Iterable) -> DiskBlock:
        path = os.path.join(_directory(), f"{uuid.uuid4().hex}.pkl")
        count = 0
        iterator = iter(records)
        with open(path, "wb") as f:
            while chunk := list(itertools.islice(iterator, DISK_CHUNK_RECORDS)):
                f.write(dumps(chunk))
                count += len(chunk)
            nbytes = f.tell()
        return cls(path, count, nbytes)

    def records(self) -> list:
        return list(self)

    def __iter__(self) -> Iterator:
        with open(self.path, "rb") as f:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk

    def __len__(self) -> int:
        return self.count

    def __reduce__(self):
        # Shipped to another process as a sealed block: its readers there unpickle their own
        # copies too.
        return (Block, (None, dumps(self.records())))

    def __del__(self) -> None:
        try:
            os.remove(self.path)
        except (OSError, TypeError, AttributeError):
            pass


@sizeof.register(DiskBlock)
def _sizeof_disk_block(block: DiskBlock) -> int:
    return 64


class CheckpointPart:
    """One partition file of a checkpoint; iterating reads its records."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url

    def __iter__(self) -> Iterator:
        try:
            with fsspec.open(self.url, "rb") as f:
                return iter(pickle.load(f))
        except FileNotFoundError:
            raise FileNotFoundError(f"checkpoint file {self.url} is missing") from None


def make_checkpoint_directory(directory: str) -> None:
    """Create the directory of an RDD's checkpoint files (any fsspec URL)."""
    fs, path = fsspec.core.url_to_fs(directory)
    fs.makedirs(path, exist_ok=True)


def write_checkpoint_part(directory: str, split: int, records: Iterator) -> str:
    """Finisher of a checkpoint job: write the partition's file (atomically) and return its URL."""
    url = f"{directory}/part-{split:05d}"
    fs, path = fsspec.core.url_to_fs(url)
    temporary = f"{path}.tmp"
    with fs.open(temporary, "wb") as f:
        f.write(dumps(list(records)))
    fs.mv(temporary, path)
    return url
