"""``SparkContext.textFile`` and friends: file splits planned in the driver, read by tasks.

Each partition of a file RDD is one :class:`~sparkish.io.splits.InputSplit`, embedded in the
graph as a literal; the task opens the files itself through the split's fsspec filesystem.

Storage options for a file system come from ``sparkish.fs.<protocol>.<option>`` settings, e.g.
``SparkConf().set("sparkish.fs.webhdfs.user", "alice")``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import fsspec

from .._execution import LiteralProvider
from .._plan import Node, Source
from ..rdd import RDD
from . import readers, splits

if TYPE_CHECKING:
    from ..context import SparkContext


def storage_options_for(sc: SparkContext, path: str, operation: str = "") -> dict[str, Any]:
    """The ``sparkish.fs.<protocol>.*`` settings that apply to ``path``."""
    first = path.split(",")[0].strip()
    protocol, _ = fsspec.core.split_protocol(first)
    if protocol == "memory":
        _require_in_process_workers(sc, path, operation)
    prefix = f"sparkish.fs.{protocol or 'file'}."
    return {key[len(prefix) :]: value for key, value in sc._conf.getAll() if key.startswith(prefix)}


def _require_in_process_workers(sc: SparkContext, path: str, operation: str) -> None:
    """memory:// exists inside one process: only workers running in the driver can see it."""
    import os

    if any(pid != os.getpid() for pid in sc._client.run(os.getpid).values()):
        raise ValueError(
            f"{operation or 'sparkish'}: {path} is on fsspec's in-memory file system, which "
            "exists only inside the driver process; this context's workers are separate "
            "processes. Use a local or shared file system path instead."
        )


class SplitReader:
    """One input split plus the function that reads its records; iterating reads the files."""

    __slots__ = ("split", "read")

    def __init__(self, split: splits.InputSplit, read: Callable[[splits.InputSplit], Iterator]):
        self.split = split
        self.read = read

    def __iter__(self) -> Iterator:
        return iter(self.read(self.split))


class FileRDD(RDD):
    """An RDD whose partitions are file splits read by the tasks."""

    def __init__(
        self,
        sc: SparkContext,
        input_splits: list[splits.InputSplit],
        read: Callable[[splits.InputSplit], Iterator],
        operation: str,
        path: str,
    ) -> None:
        super().__init__(sc, len(input_splits), operation=operation)
        self._path = path
        self._provider = LiteralProvider([SplitReader(split, read) for split in input_splits])

    def __repr__(self) -> str:
        return f"{self._path} FileRDD[{self._id}] at {self._operation} at {self._callsite}"

    def _build_node(self) -> Node:
        return Source(f"file-{self._id}", self._num_partitions, self._provider)


def _text_lines(use_unicode: bool, split: splits.InputSplit) -> Iterator:
    return itertools.chain.from_iterable(readers.read_text_split_batches(split, use_unicode))


def _min_partitions(sc: SparkContext, value: int | None) -> int:
    return sc.defaultMinPartitions if value is None else max(int(value), 1)


def text_file(sc: SparkContext, name: str, min_partitions: int | None, use_unicode: bool) -> RDD:
    sc._check_active()
    planned = splits.plan_text_splits(
        name, _min_partitions(sc, min_partitions), storage_options_for(sc, name, "textFile")
    )
    return FileRDD(sc, planned, partial(_text_lines, use_unicode), "textFile", name)


def whole_text_files(sc: SparkContext, path: str, min_partitions: int | None, use_unicode: bool):
    sc._check_active()
    planned = splits.plan_whole_file_splits(
        path, _min_partitions(sc, min_partitions), storage_options_for(sc, path, "wholeTextFiles")
    )
    read = partial(_whole_text, use_unicode)
    return FileRDD(sc, planned, read, "wholeTextFiles", path)


def _whole_text(use_unicode: bool, split: splits.InputSplit) -> Iterator:
    return readers.read_whole_text_files(split, use_unicode)


def binary_files(sc: SparkContext, path: str, min_partitions: int | None) -> RDD:
    sc._check_active()
    planned = splits.plan_whole_file_splits(
        path,
        _min_partitions(sc, min_partitions),
        storage_options_for(sc, path, "binaryFiles"),
        decompress=False,
        operation="binaryFiles",
    )
    return FileRDD(sc, planned, readers.read_binary_files, "binaryFiles", path)


def binary_records(sc: SparkContext, path: str, record_length: int) -> RDD:
    sc._check_active()
    if isinstance(record_length, bool) or not isinstance(record_length, int) or record_length < 1:
        raise ValueError(
            f"binaryRecords: recordLength must be a positive int, got {record_length!r}"
        )
    planned = splits.plan_binary_record_splits(
        path, record_length, sc.defaultMinPartitions, storage_options_for(sc, path, "binaryRecords")
    )
    read = partial(_records_of_length, record_length)
    return FileRDD(sc, planned, read, "binaryRecords", path)


def _records_of_length(record_length: int, split: splits.InputSplit) -> Iterator:
    return readers.read_binary_records(split, record_length)


def pickle_file(sc: SparkContext, name: str, min_partitions: int | None) -> RDD:
    sc._check_active()
    planned = splits.plan_pickle_splits(
        name, _min_partitions(sc, min_partitions), storage_options_for(sc, name, "pickleFile")
    )
    return FileRDD(sc, planned, readers.read_pickle_split, "pickleFile", name)
