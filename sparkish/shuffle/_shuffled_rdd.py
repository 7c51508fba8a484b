"""The RDD produced by a hash shuffle, and how its partitions enter a job's graph.

A :class:`ShuffledRDD` repartitions ``(key, value)`` pairs by ``partitioner(key)``. Its map side is
the parent's plan followed by bucketing (no sorting); its output partitions are unordered.

The first job that needs the shuffle adds the map tasks and the barrier to its graph and keeps a
future on the barrier: while the RDD object lives, the shuffled data stays on the workers and
later jobs read it again without re-running the map side. If a worker holding shuffle data dies,
Dask's P2P extension restarts the whole shuffle (recomputing lost inputs from lineage).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from dask._task_spec import Task, TaskRef

from .._execution import GraphBuilder, Provider
from .._plan import Node, Source
from .._serialize import Block, dumps
from ..rdd import RDD, Partitioner, _ShuffleBoundary
from . import _p2p
from ._int_columns import (
    IntPairs,
    bucket_int_columns,
    encode_int_columns,
    gather_int_columns,
    int_pairs,
)
from .hashing import bucket_columns, portable_hash

#: Records examined at a time when trying the vectorised int path.
_CHUNK = 1 << 16

if TYPE_CHECKING:
    from distributed import Future

_DEAD_STATES = frozenset({"error", "cancelled", "lost"})


class ShuffleSource(Source):
    """A leaf reading one reduce partition of a shuffle.

    Its task input is either the barrier's run id (the task then reads the partition from the
    shuffle itself) or a :class:`Block` produced by a separate read task.
    """

    def __init__(self, uid: str, num_partitions: int, provider: Any, shuffle_id: str) -> None:
        super().__init__(uid, num_partitions, provider)
        self.shuffle_id = shuffle_id

    def __getstate__(self):
        return (self.uid, self.num_partitions, self.shuffle_id)

    def __setstate__(self, state):
        self.uid, self.num_partitions, self.shuffle_id = state
        self.provider = None

    def compute(self, split: int, inputs: dict) -> Iterator:
        value = inputs[(self.uid, split)]
        if type(value) is int:
            return iter(_p2p.read_output_partition(self.shuffle_id, split, value))
        return iter(value)


def write_map_output(
    shuffle_id: str,
    num_partitions: int,
    partition_func: Callable[[Any], int],
    split: int,
    records: Iterator,
) -> int:
    """Finisher of a map task: bucket records by reduce partition and hand them to the shuffle.

    Records that are all ``(int, int)`` pairs are bucketed as int64 arrays and framed as raw
    bytes (see :mod:`._int_columns`); anything else as pickled key and value lists.
    """
    if partition_func is portable_hash:
        if type(records) is IntPairs:
            columns, rest = records.int_columns, None
        else:
            records = iter(records)
            columns, rest = gather_int_columns(list(itertools.islice(records, _CHUNK)), records)
        if columns is not None:
            buckets = bucket_int_columns(*columns, num_partitions)
            if buckets is not None:
                framed = [
                    (reduce_id, _p2p.frame(split, reduce_id, encode_int_columns(keys, values)))
                    for reduce_id, keys, values in buckets
                ]
                return _p2p.write_input_partition(shuffle_id, split, framed)
            rest = int_pairs(*columns)
        records = rest
    key_buckets, value_buckets = bucket_columns(records, num_partitions, partition_func)
    framed = [
        (reduce_id, _p2p.frame(split, reduce_id, dumps((keys, value_buckets[reduce_id]))))
        for reduce_id, keys in enumerate(key_buckets)
        if keys
    ]
    return _p2p.write_input_partition(shuffle_id, split, framed)


def read_block(shuffle_id: str, split: int, run_id: int) -> Block:
    """A separate read task, for consumers that read several partitions of a shuffle."""
    return Block(list(_p2p.read_output_partition(shuffle_id, split, run_id)))


class ShuffleProvider(Provider):
    """Adds a shuffle's map side and barrier to a job graph, or reuses the held barrier."""

    is_shuffle = True

    def __init__(self, rdd: ShuffledRDD) -> None:
        self.rdd = rdd
        self.shuffle_id: str = ""
        self.barrier_future: Future | None = None
        self._generations = itertools.count()
        self._lock = threading.Lock()

    def node_factory(self) -> Node:
        return self.rdd.prev._node()

    def prepare(self) -> str:
        """The shuffle id the next job uses: the held one if its data is alive, else a new one."""
        with self._lock:
            future = self.barrier_future
            if future is not None and future.status in _DEAD_STATES:
                future.release()
                self.barrier_future = None
                self.shuffle_id = ""
            if not self.shuffle_id:
                rdd = self.rdd
                self.shuffle_id = f"{rdd.ctx.applicationId}-rdd{rdd.id()}-{next(self._generations)}"
            return self.shuffle_id

    def graph_input(self, split: int, builder: GraphBuilder, exclusive: bool = True) -> Any:
        if self.rdd.prev.getNumPartitions() == 0:
            return Block([])  # nothing to shuffle: every reduce partition is empty
        shuffle_id = self.shuffle_id
        barrier = _p2p.barrier_key_of(shuffle_id)
        future = self.barrier_future
        if future is not None and future.key == barrier:
            builder.external_futures.append(future)
        elif barrier not in builder.graph:
            self._add_shuffle(builder, shuffle_id)
        if exclusive:
            return TaskRef(barrier)
        read_key = (f"shuffle-read-{shuffle_id}", split)
        if read_key not in builder.graph:
            builder.graph[read_key] = Task(
                read_key, read_block, shuffle_id, split, TaskRef(barrier)
            )
            builder.key_descriptions[read_key] = (f"read of {self.rdd!r}", split)
        return TaskRef(read_key)

    def _add_shuffle(self, builder: GraphBuilder, shuffle_id: str) -> None:
        rdd = self.rdd
        partitioner = rdd.partitioner
        assert partitioner is not None
        node = builder.node_of(self)
        finisher = partial(
            write_map_output, shuffle_id, partitioner.numPartitions, partitioner.partitionFunc
        )
        description = f"{rdd._operation} (map side) at {rdd._callsite}"
        transfers = [
            builder.add_task(
                (f"shuffle-map-{shuffle_id}", split), node, finisher, split, description
            )
            for split in range(node.num_partitions)
        ]
        disk = rdd.ctx._conf._get_bool("sparkish.shuffle.spillToDisk", True)
        barrier = _p2p.barrier_task(shuffle_id, transfers, partitioner.numPartitions, disk)
        builder.graph[barrier.key] = barrier
        builder.key_descriptions[barrier.key] = (f"{rdd._operation} (shuffle barrier)", 0)
        builder.hold(self, 0, barrier.key)

    def attach(self, split: int, future: Future) -> None:
        with self._lock:
            self.barrier_future = future

    def release(self) -> None:
        with self._lock:
            future, self.barrier_future = self.barrier_future, None
            self.shuffle_id = ""
        if future is not None:
            future.release()


class ShuffledRDD(RDD, _ShuffleBoundary):
    """Pairs of the parent repartitioned by ``partitioner`` (hash shuffle, no sorting)."""

    def __init__(self, prev: RDD, partitioner: Partitioner, operation: str) -> None:
        super().__init__(prev.ctx, partitioner.numPartitions, (prev,), operation, partitioner)
        self.prev = prev
        self._shuffle = ShuffleProvider(self)

    def _build_node(self) -> Node:
        shuffle_id = self._shuffle.prepare()
        return ShuffleSource(f"shuffle-{self._id}", self._num_partitions, self._shuffle, shuffle_id)

    def _release_shuffle_output(self) -> None:
        self._shuffle.release()
