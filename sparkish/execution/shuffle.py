"""A shuffle in a job's graph: its map tasks, its barrier, and how reduce tasks read it.

The graph of one shuffle is M map tasks, one barrier task and, downstream, one task per reduce
partition: O(M + R) tasks, fewer when partitions are grouped (:mod:`.grouping`): a map task then
hands a group of map partitions to the shuffle as one input, and a reduce task reads a group of
reduce partitions, which the shuffle places on one worker.

The first job that needs a shuffle adds the map tasks and the barrier and keeps a future on the
barrier: while the shuffle's RDD lives, its output stays on the workers and later jobs read it
again without re-running the map side. If a worker holding shuffle data
dies, Dask's P2P extension restarts the whole shuffle (recomputing lost inputs from lineage).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dask.task_spec import Task, TaskRef

from .._dask_compat import barrier_key_of, barrier_task
from ..serialization import Block
from ..worker.plan import Node
from ..worker.shuffle import MapOutputWriter, read_blocks
from .graph import GraphBuilder, HeldFutures, Provider, group_key
from .grouping import estimated_sizes

if TYPE_CHECKING:
    from distributed import Future

__all__ = ["ShuffleProvider"]


class ShuffleProvider(Provider):
    """Adds a shuffle's map side and barrier to a job graph, or reuses the held barrier.

    Parameters
    ----------
    name : str
        Unique prefix of the shuffle's ids (one per shuffled RDD).
    map_node_factory : callable
        Builds the plan of the map side (the parent RDD's partitions).
    num_map_partitions : int
        How many map tasks there are.
    partition_func : callable
        ``partition_func(key) % num_partitions`` is a record's reduce partition.
    num_partitions : int
        How many reduce partitions there are.
    description : str
        The RDD operation that shuffles and its call site, for task descriptions.
    spill_to_disk : bool
        Whether received buckets may be buffered on the workers' disks.
    operation : str
        The RDD operation that shuffles: the prefix of the map and read task keys
        (``reduceByKey-map``), which the dashboard and the metrics show.
    """

    is_shuffle = True

    def __init__(
        self,
        name: str,
        map_node_factory: Callable[[], Node],
        num_map_partitions: int,
        partition_func: Callable[[Any], int],
        num_partitions: int,
        description: str,
        spill_to_disk: bool = True,
        operation: str = "shuffle",
    ) -> None:
        self.name = name
        self.operation = operation
        self.map_node_factory = map_node_factory
        self.num_map_partitions = num_map_partitions
        self.partition_func = partition_func
        self.num_partitions = num_partitions
        self.description = description
        self.spill_to_disk = spill_to_disk
        self.barrier = HeldFutures()
        self._shuffle_id = ""
        # The reduce groups of a shuffle id: fixed once its map side is planned, since the
        # output is laid out on the workers by group.
        self._groups: list[range] = []
        self._group_starts: list[int] = []
        self._groups_of = ""
        # Reader task key -> output partition, for the barrier this job adds (shipped with it).
        self._readers: dict = {}

    def prepare(self) -> str:
        """The shuffle id the next job uses: the held shuffle's if its data is alive, else a
        new one (called when the job's plan is built, before its graph)."""
        self.barrier.live(0)
        self._shuffle_id = f"{self.name}-{self.barrier.generation(0)}"
        return self._shuffle_id

    def graph_input(
        self,
        split: int,
        builder: GraphBuilder,
        exclusive: bool = True,
        within: range | None = None,
    ) -> Any:
        if self.num_map_partitions == 0:
            return Block([])  # nothing to shuffle: every reduce partition is empty
        shuffle_id = self._shuffle_id
        barrier = barrier_key_of(shuffle_id)
        future = self.barrier.live(0)
        if future is not None and future.key == barrier:
            builder.external_futures.append(future)
        elif barrier not in builder.graph:
            self._add_map_side(builder, shuffle_id)
        if exclusive:
            return TaskRef(barrier)
        group = self._reduce_groups(builder)[self.group_index(split, builder)]
        read_key = group_key(f"{self.operation}-read-{shuffle_id}", group)
        if read_key not in builder.graph:
            builder.graph[read_key] = Task(
                read_key, read_blocks, shuffle_id, group.start, group.stop - 1, TaskRef(barrier)
            )
            builder.key_descriptions[read_key] = (
                f"{self.description} (shuffle read)",
                group.start,
            )
            self.note_reader(read_key, group.start, builder)
        return TaskRef(read_key)

    def note_reader(self, key: Any, partition: int, builder: GraphBuilder) -> None:
        """Record that task ``key`` reads output partition ``partition`` (the first of its
        group), so the scheduler can send it to that partition's worker at once; only for a
        barrier this job adds (a held one was shipped with an earlier job)."""
        if barrier_key_of(self._shuffle_id) in builder.graph:
            self._readers.setdefault(key, partition)

    def partition_sizes(self, builder: GraphBuilder) -> list[int] | None:
        """The map side's estimated input, spread evenly over the reduce partitions."""
        if self.num_partitions == 0:
            return []
        map_sizes = estimated_sizes(builder.node_of(self, self.map_node_factory), builder)
        if map_sizes is None:
            return None
        return [sum(map_sizes) // self.num_partitions] * self.num_partitions

    def fixed_groups(self, builder: GraphBuilder) -> list[range] | None:
        return self._reduce_groups(builder) if builder.grouping.enabled else None

    def group_index(self, split: int, builder: GraphBuilder) -> int:
        """The reduce group holding partition ``split``."""
        self._reduce_groups(builder)
        if not self._group_starts:
            return split
        return bisect.bisect_right(self._group_starts, split) - 1

    def _reduce_groups(self, builder: GraphBuilder) -> list[range]:
        if self._groups_of != self._shuffle_id:
            sizes = self.partition_sizes(builder) if builder.grouping.enabled else None
            self._groups = builder.grouping.plan(sizes, self.num_partitions)
            self._group_starts = [group.start for group in self._groups]
            self._groups_of = self._shuffle_id
        return self._groups

    def _add_map_side(self, builder: GraphBuilder, shuffle_id: str) -> None:
        node = builder.node_of(self, self.map_node_factory)
        writer = MapOutputWriter(
            shuffle_id, self.num_partitions, self.partition_func, builder.grouping.batch_bytes
        )
        description = f"{self.description} (map side)"
        name = f"{self.operation}-map-{shuffle_id}"
        transfers = [
            builder.add_task(group_key(name, group), node, writer, group, description)
            for group in builder.group_splits(node, range(node.num_partitions))
        ]
        groups = self._reduce_groups(builder)
        starts = tuple(group.start for group in groups) if len(groups) < self.num_partitions else ()
        self._readers = {}
        barrier = barrier_task(
            shuffle_id, transfers, self.num_partitions, self.spill_to_disk, starts, self._readers
        )
        builder.graph[barrier.key] = barrier
        builder.key_descriptions[barrier.key] = (f"{self.description} (shuffle barrier)", 0)
        builder.hold(self, 0, barrier.key)

    def attach(self, split: int, future: Future) -> None:
        self.barrier.hold(0, future)

    def release(self) -> None:
        """Free the shuffle's output on the workers (a later job shuffles again)."""
        self.barrier.release()
