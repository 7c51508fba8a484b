"""The two ends of a shuffle inside tasks: map tasks write buckets, reduce tasks read them.

The driver side (:mod:`sparkish.execution.shuffle`) puts the map tasks, the barrier and the
readers into a job's graph; the bytes move through :mod:`sparkish._dask_compat`.

Records that are all ``(int, int)`` pairs are bucketed as int64 arrays and framed as raw bytes
(see :mod:`sparkish.shuffle.int_columns`); anything else as pickled key and value lists.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from dask.sizeof import sizeof

from .._dask_compat import read_output_partition, write_input_partition
from ..monitoring import task_metrics
from ..serialization import PartitionGroup, dumps
from ..shuffle.buckets import FRAME_HEADER_BYTES, ColumnarRecords, ReceivedPartition, frame
from ..shuffle.hashing import bucket_columns, portable_hash
from ..shuffle.int_columns import (
    IntPairs,
    bucket_int_columns,
    encode_int_columns,
    gather_int_columns,
    int_pairs,
)
from .plan import Source, partition_input

__all__ = ["MapOutputWriter", "ShuffleSource", "read_blocks", "write_map_output"]

#: Records examined at a time when trying the vectorised int path.
_CHUNK = 1 << 16


class ShuffleSource(Source):
    """A leaf reading one reduce partition of a shuffle.

    Its task input is the barrier's run id (the task then reads the partition from the shuffle
    itself), the :class:`ReceivedPartition` of a separate read task, or an empty
    :class:`~sparkish.serialization.Block` (nothing was shuffled). Every compute decodes the
    records afresh: see :class:`ReceivedPartition`.
    """

    def __init__(self, uid: str, num_partitions: int, provider: Any, shuffle_id: str) -> None:
        super().__init__(uid, num_partitions, provider)
        self.shuffle_id = shuffle_id

    def __getstate__(self) -> tuple:
        return (self.uid, self.num_partitions, self.shuffle_id)

    def __setstate__(self, state: tuple) -> None:
        self.uid, self.num_partitions, self.shuffle_id = state
        self.provider = None

    def compute(self, split: int, inputs: dict) -> Iterator:
        value = partition_input(inputs, self.uid, split)
        if type(value) is int:
            value = read_output_partition(self.shuffle_id, split, value)
        if type(value) is ReceivedPartition:
            return iter(_decode(value))
        return iter(value)


def _decode(received: ReceivedPartition) -> ColumnarRecords:
    """Decode a reduce partition for this read alone, counting it in the reading task."""
    records = received.records()
    task_metrics.add(task_metrics.SHUFFLE_RECORDS_READ, len(records))
    task_metrics.add(task_metrics.SHUFFLE_BYTES_READ, received.nbytes)
    return records


class MapOutputWriter:
    """Finisher of a shuffle's map tasks (see :func:`write_map_output`).

    A task computing a group of map partitions hands consecutive partitions to the shuffle as
    one input (:meth:`write_group`): one bucketing pass and one transfer for many small
    partitions, which is what makes them cheap. An input is handed over once it holds about
    ``batch_bytes`` (measured on the records, since a plan's input size says little about what a
    ``map`` makes of it), so a group never holds more than that plus one partition. An input is
    numbered by its first partition, so reduce partitions still read map outputs in order.
    """

    __slots__ = ("shuffle_id", "num_partitions", "partition_func", "batch_bytes")

    def __init__(
        self,
        shuffle_id: str,
        num_partitions: int,
        partition_func: Callable[[Any], int],
        batch_bytes: int = 32 * 2**20,
    ) -> None:
        self.shuffle_id = shuffle_id
        self.num_partitions = num_partitions
        self.partition_func = partition_func
        self.batch_bytes = batch_bytes

    def __reduce__(self) -> tuple:
        return (
            MapOutputWriter,
            (self.shuffle_id, self.num_partitions, self.partition_func, self.batch_bytes),
        )

    def __call__(self, split: int, records: Iterator) -> int:
        return write_map_output(
            self.shuffle_id, self.num_partitions, self.partition_func, split, records
        )

    def write_group(self, partitions: Iterable[tuple[int, Iterator]]) -> int:
        """Hand the records of consecutive ``(split, records)`` to the shuffle in batches of
        about ``batch_bytes``; returns the shuffle's run id."""
        run_id: int | None = None
        batch: list[list | IntPairs] = []
        batch_first = 0
        batch_bytes = 0
        for split, records in partitions:
            # Int pairs from a vectorised map-side combine stay columns.
            part = records if type(records) is IntPairs else list(records)
            if not batch:
                batch_first = split
            batch.append(part)
            batch_bytes += estimated_bytes(part)
            if batch_bytes >= self.batch_bytes:
                run_id = self(batch_first, _joined(batch))
                batch, batch_bytes = [], 0
        if batch or run_id is None:  # the barrier needs a run id even from empty partitions
            run_id = self(batch_first, _joined(batch))
        return run_id


def _joined(parts: list) -> Iterator:
    """The records of consecutive partitions as one input: int64 columns when every part is
    :class:`IntPairs`, else one chain."""
    if parts and all(type(part) is IntPairs for part in parts):
        if len(parts) == 1:
            return parts[0]
        keys, values = zip(*(part.int_columns for part in parts))
        return int_pairs(np.concatenate(keys), np.concatenate(values))
    return itertools.chain.from_iterable(parts)


def estimated_bytes(records: list | IntPairs) -> int:
    """Deterministic estimate of the memory ``records`` take, from up to 8 evenly spaced ones.

    >>> estimated_bytes([]), estimated_bytes([b"x" * 1000] * 100) > 100_000
    (0, True)
    """
    if type(records) is IntPairs:
        return sum(column.nbytes for column in records.int_columns)
    assert isinstance(records, list)
    if not records:
        return 0
    step = max(1, len(records) // 8)
    sample = records[::step][:8]
    return sys.getsizeof(records) + len(records) * sum(map(sizeof, sample)) // len(sample)


def write_map_output(
    shuffle_id: str,
    num_partitions: int,
    partition_func: Callable[[Any], int],
    split: int,
    records: Iterator,
) -> int:
    """Finisher of a map task: bucket records by reduce partition and hand them to the shuffle.

    Returns the shuffle's run id, which the barrier task collects.
    """
    if partition_func is portable_hash:
        framed = _framed_int_buckets(split, records, num_partitions)
        if isinstance(framed, tuple):
            buckets, count = framed
            _count_written(buckets, count)
            return write_input_partition(shuffle_id, split, buckets)
        records = framed
    key_buckets, value_buckets = bucket_columns(records, num_partitions, partition_func)
    framed_buckets = [
        (reduce_id, frame(split, reduce_id, dumps((keys, value_buckets[reduce_id]))))
        for reduce_id, keys in enumerate(key_buckets)
        if keys
    ]
    _count_written(framed_buckets, sum(map(len, key_buckets)))
    return write_input_partition(shuffle_id, split, framed_buckets)


def _count_written(framed_buckets: list, records: int) -> None:
    payload_bytes = sum(len(data) for _, data in framed_buckets)
    payload_bytes -= FRAME_HEADER_BYTES * len(framed_buckets)
    task_metrics.add(task_metrics.SHUFFLE_RECORDS_WRITTEN, records)
    task_metrics.add(task_metrics.SHUFFLE_BYTES_WRITTEN, payload_bytes)


def _framed_int_buckets(
    split: int, records: Any, num_partitions: int
) -> tuple[list, int] | Iterator:
    """Framed int64 buckets and the number of records when every record is an ``(int, int)``
    pair that the vectorised path can take, else an iterator over all the records (none
    consumed)."""
    if type(records) is IntPairs:
        columns = records.int_columns
    else:
        records = iter(records)
        gathered, rest = gather_int_columns(list(itertools.islice(records, _CHUNK)), records)
        if gathered is None:
            assert rest is not None
            return rest
        columns = gathered
    buckets = bucket_int_columns(*columns, num_partitions)
    if buckets is None:
        return int_pairs(*columns)
    framed = [
        (reduce_id, frame(split, reduce_id, encode_int_columns(keys, values)))
        for reduce_id, keys, values in buckets
    ]
    return framed, len(columns[0])


def read_blocks(shuffle_id: str, first: int, last: int, run_id: int) -> PartitionGroup:
    """A separate read task, for consumers that read several partitions of a shuffle: the
    reduce partitions ``first`` to ``last`` (one group, held by one worker), as payloads that
    each consumer decodes for itself (and counts as read)."""
    return PartitionGroup(
        first,
        [
            read_output_partition(shuffle_id, split, run_id).detached()
            for split in range(first, last + 1)
        ],
    )
