"""Finishers: what a task returns after computing its partition.

A stage's last step is a finisher ``(split, records) -> result``: the result is what the task
hands back to Dask, so it decides what crosses to the driver or stays on the worker.

>>> collect_finisher(0, iter([1, 2])).records
[1, 2]
>>> count_finisher(0, iter("abc"))
3
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from dask.sizeof import sizeof

from .._dask_compat import worker_memory_limit
from ..io.parquet import write_parquet_task
from ..io.writers import TaskCommitMessage, WriteJobSpec, write_task
from ..serialization import Block
from ..storage import DiskBlock

if TYPE_CHECKING:
    import pyarrow as pa

#: A partition persisted at a level with memory and disk goes to disk once its records take
#: more than this share of the worker's memory limit.
MEMORY_SHARE_PER_PARTITION = 0.25
_SIZE_CHECK_RECORDS = 1024

__all__ = [
    "collect_finisher",
    "count_finisher",
    "memory_and_disk_materialize",
    "disk_materialize",
    "drain",
    "materialize",
    "parquet_finisher",
    "partition_function_finisher",
    "take_finisher",
    "write_finisher",
]


def drain(iterator: Iterable) -> int:
    """Consume ``iterator`` at C speed and return how many records it produced.

    >>> drain(x for x in range(5))
    5
    """
    counter = itertools.count()
    deque(zip(iterator, counter), maxlen=0)
    return next(counter)


def collect_finisher(split: int, iterator: Iterator) -> Block:
    """The partition's records, pickled in the task (so a failure to pickle names the task)."""
    return Block.sealed(iterator)


def count_finisher(split: int, iterator: Iterator) -> int:
    return drain(iterator)


def take_finisher(limit: int, split: int, iterator: Iterator) -> Block:
    """At most ``limit`` records of the partition; the rest is never computed."""
    return Block.sealed(itertools.islice(iterator, limit))


def materialize(split: int, records: Iterator) -> Block:
    """Keep a partition's records as a :class:`Block` (persisted in memory) that every later
    read sees unchanged: see :meth:`Block.shared`."""
    return Block.shared(records)


def disk_materialize(split: int, iterator: Iterator) -> DiskBlock:
    """Keep a partition's records in a file on the worker (persisted on disk)."""
    return DiskBlock.write(iterator)


def memory_and_disk_materialize(split: int, records: Iterator) -> Block | DiskBlock:
    """Keep a partition in memory like :func:`materialize`, unless its records pass
    :data:`MEMORY_SHARE_PER_PARTITION` of the worker's memory limit: then it streams to a file
    on the worker, as Spark's ``MEMORY_AND_DISK`` stores what does not fit in memory."""
    limit = worker_memory_limit()
    iterator = iter(records)
    if not limit:
        return materialize(split, iterator)
    budget = limit * MEMORY_SHARE_PER_PARTITION
    buffer: list = []
    for record in iterator:
        buffer.append(record)
        # dask's sizeof samples a list's items: a cheap estimate of the records' size.
        if len(buffer) % _SIZE_CHECK_RECORDS == 0 and sizeof(buffer) > budget:
            return DiskBlock.write(itertools.chain(buffer, iterator))
    return Block.shared(buffer)


def partition_function_finisher(function: Callable[[Iterator], Any]) -> Callable:
    """Finisher for ``SparkContext.runJob``: the function's results for one partition."""
    return partial(_apply_partition_function, function)


def _apply_partition_function(function: Callable, split: int, iterator: Iterator) -> Block:
    result = function(iterator)
    return Block.sealed(() if result is None else result)


def write_finisher(
    spec: WriteJobSpec,
    kind: str,
    compression: str | None,
    batch_size: int,
    split: int,
    records: Iterator,
) -> TaskCommitMessage:
    """Write the partition to an attempt file of an output job (``saveAsTextFile`` & co.)."""
    return write_task(spec, split, None, records, kind, compression, batch_size)


def parquet_finisher(
    spec: WriteJobSpec, schema: pa.Schema, split: int, records: Iterator
) -> TaskCommitMessage:
    """Write the partition to a Parquet attempt file of an output job (``saveAsParquetFile``)."""
    return write_parquet_task(spec, split, None, records, schema)
