"""Partition grouping: which consecutive partitions one task computes.

A partition is the unit of the RDD API (``getNumPartitions``, ``glom``, partitioners all see
it); a task does not have to be. Each Dask task costs a few milliseconds of scheduling whatever it
carries, so 1,000 partitions of 2,000 records spend most of their time being scheduled. A task
may therefore compute a *group* of consecutive partitions: each partition is still computed on
its own (its own ``TaskContext``, its own result inside the group's
:class:`~sparkish.serialization.PartitionGroup`), but the group is scheduled, shipped and, if
lost, recomputed as one task.

How groups are chosen (:func:`plan_groups`): from the estimated bytes of each partition's input
(pickled slices, file splits, a shuffle's estimated output), packed in order so that a task
carries about ``sparkish.task.targetBytes``; but never fewer groups than
``sparkish.task.tasksPerSlot`` per worker thread, so every thread has work and a slow group is
not the whole stage. Partitions of unknown size, barrier stages and cartesian products are not
grouped. Leaves whose partitions were computed in groups dictate the grouping of their readers
(:func:`aligned_groups`): a task reading a group of shuffle partitions must find all of them on
one worker.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import TYPE_CHECKING

from ..settings import Settings
from ..worker.plan import Cartesian, Coalesce, Node, Pipe, RangeSource, Source, Union, ZipPartitions

if TYPE_CHECKING:
    from .graph import GraphBuilder

__all__ = [
    "DEFAULT_TARGET_BYTES",
    "DEFAULT_TASKS_PER_SLOT",
    "GroupingPolicy",
    "aligned_groups",
    "consecutive_runs",
    "estimated_sizes",
    "plan_groups",
]

#: Bytes of input one task aims to carry (``sparkish.task.targetBytes``).
DEFAULT_TARGET_BYTES = 32 * 2**20
#: Groups per worker thread a stage is cut into at least (``sparkish.task.tasksPerSlot``).
DEFAULT_TASKS_PER_SLOT = 2
#: Bytes of records a shuffle map task hands over at once (``sparkish.task.batchBytes``): small
#: enough that a task over many partitions never holds much more than one partition does.
DEFAULT_BATCH_BYTES = 8 * 2**20
#: Estimated bytes of one record of ``sc.range``.
RANGE_RECORD_BYTES = 8


def plan_groups(
    sizes: Sequence[int], target_bytes: int, min_groups: int, threads: int = 1
) -> list[range]:
    """Cut partitions of the given sizes into consecutive groups.

    There are enough groups for each to carry about ``target_bytes``, at least ``min_groups``,
    and a multiple of ``threads`` so that every worker thread gets as many (but never more
    groups than partitions). Each boundary falls where the cumulative size comes nearest to
    its share of the total, so groups carry similar amounts of data.

    >>> plan_groups([10] * 8, target_bytes=1000, min_groups=4)
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8)]
    >>> plan_groups([10] * 8, target_bytes=20, min_groups=1)
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8)]
    >>> plan_groups([70, 10, 10, 10], target_bytes=1000, min_groups=2)
    [range(0, 1), range(1, 4)]
    >>> plan_groups([0, 0, 0], target_bytes=10, min_groups=5)
    [range(0, 1), range(1, 2), range(2, 3)]
    >>> plan_groups([], target_bytes=10, min_groups=2)
    []

    Sizes a few bytes apart still give equal groups, and five groups' worth of data on two
    threads gives six groups:

    >>> plan_groups([99, 100, 100, 100, 100, 100, 100, 100], target_bytes=1000, min_groups=4)
    [range(0, 2), range(2, 4), range(4, 6), range(6, 8)]
    >>> [len(group) for group in plan_groups([10] * 12, 25, min_groups=2, threads=2)]
    [2, 2, 2, 2, 2, 2]
    """
    count = len(sizes)
    if count == 0:
        return []
    total = sum(sizes)
    wanted = max(min_groups, math.ceil(total / max(target_bytes, 1)), 1)
    threads = max(threads, 1)
    groups = min(math.ceil(wanted / threads) * threads, count)
    if groups == count:
        return singletons(count)
    if total == 0:
        bounds = [index * count // groups for index in range(groups + 1)]
        return [range(start, end) for start, end in zip(bounds, bounds[1:])]
    # prefix[end] is the size of partitions 0 .. end - 1; boundaries compare prefix * groups
    # with k * total, in integers.
    prefix = [0, *itertools.accumulate(sizes)]
    bounds = [0]
    for k in range(1, groups):
        goal = k * total
        end = bisect.bisect_left(prefix, goal, key=lambda size: size * groups)
        if end > bounds[-1] + 1 and goal - prefix[end - 1] * groups <= prefix[end] * groups - goal:
            end -= 1  # the boundary before this partition is at least as near
        end = min(max(end, bounds[-1] + 1), count - (groups - k))
        bounds.append(end)
    bounds.append(count)
    return [range(start, end) for start, end in zip(bounds, bounds[1:])]


def consecutive_runs(splits: Sequence[int]) -> list[range]:
    """Sorted ``splits`` as runs of consecutive numbers.

    >>> consecutive_runs([0, 1, 2, 5, 7, 8])
    [range(0, 3), range(5, 6), range(7, 9)]
    """
    runs: list[range] = []
    for split in splits:
        if runs and runs[-1].stop == split:
            runs[-1] = range(runs[-1].start, split + 1)
        else:
            runs.append(range(split, split + 1))
    return runs


def singletons(count: int) -> list[range]:
    """One group per partition.

    >>> singletons(2)
    [range(0, 1), range(1, 2)]
    """
    return [range(split, split + 1) for split in range(count)]


@dataclass(frozen=True)
class GroupingPolicy:
    """How the partitions of a job's stages are grouped into tasks.

    ``min_groups`` is the number of worker threads times ``sparkish.task.tasksPerSlot``; the
    number of groups is a multiple of ``threads``.

    >>> GroupingPolicy(target_bytes=100, min_groups=2).plan([10] * 4)
    [range(0, 2), range(2, 4)]
    >>> GroupingPolicy(enabled=False).plan([10] * 2)
    [range(0, 1), range(1, 2)]
    """

    enabled: bool = True
    target_bytes: int = DEFAULT_TARGET_BYTES
    min_groups: int = 1
    batch_bytes: int = DEFAULT_BATCH_BYTES
    threads: int = 1

    def plan(self, sizes: Sequence[int] | None, count: int | None = None) -> list[range]:
        """Groups of partitions of the given sizes (one per partition when ``sizes`` is None
        and ``count`` says how many)."""
        if sizes is None or not self.enabled:
            return singletons(len(sizes) if sizes is not None else count or 0)
        return plan_groups(sizes, self.target_bytes, self.min_groups, self.threads)

    @classmethod
    def from_settings(cls, settings: Settings, worker_threads: int) -> GroupingPolicy:
        """The policy the settings ask for, for a cluster with ``worker_threads`` threads.

        >>> policy = GroupingPolicy.from_settings(Settings({"sparkish.task.targetBytes": "1m"}), 2)
        >>> policy.enabled, policy.target_bytes, policy.min_groups, policy.threads
        (True, 1048576, 4, 2)
        >>> GroupingPolicy.from_settings(Settings({"sparkish.task.tasksPerSlot": "0"}), 2)
        Traceback (most recent call last):
            ...
        ValueError: Configuration sparkish.task.tasksPerSlot=0 must be at least 1
        """
        enabled = settings.get_bool("sparkish.task.grouping", True)
        target = settings.get_bytes("sparkish.task.targetBytes")
        if target is None:
            target = DEFAULT_TARGET_BYTES
        elif target <= 0:
            raise ValueError(
                f"Configuration sparkish.task.targetBytes={settings['sparkish.task.targetBytes']!r}"
                " must be positive"
            )
        per_slot = settings.get_int("sparkish.task.tasksPerSlot", DEFAULT_TASKS_PER_SLOT)
        if per_slot < 1:
            raise ValueError(
                f"Configuration sparkish.task.tasksPerSlot={per_slot} must be at least 1"
            )
        batch = settings.get_bytes("sparkish.task.batchBytes") or DEFAULT_BATCH_BYTES
        # Without any worker thread known, keep one task per partition.
        threads = max(worker_threads, 1)
        return cls(enabled and worker_threads > 0, target, threads * per_slot, batch, threads)


# ----------------------------------------------------------------------- plans -> sizes, groups


@singledispatch
def estimated_sizes(node: Node, builder: GraphBuilder) -> list[int] | None:
    """Estimated bytes of input of each partition of ``node``, or None when unknown."""
    return None


@estimated_sizes.register(Source)
def _(node: Source, builder: GraphBuilder) -> list[int] | None:
    if node.provider is None:
        return None
    return node.provider.partition_sizes(builder)


@estimated_sizes.register(RangeSource)
def _(node: RangeSource, builder: GraphBuilder) -> list[int] | None:
    return [
        RANGE_RECORD_BYTES * len(node.partition_range(split))
        for split in range(node.num_partitions)
    ]


@estimated_sizes.register(Pipe)
def _(node: Pipe, builder: GraphBuilder) -> list[int] | None:
    return estimated_sizes(node.parent, builder)


@estimated_sizes.register(Union)
def _(node: Union, builder: GraphBuilder) -> list[int] | None:
    sizes: list[int] = []
    for parent in node.parents:
        parent_sizes = estimated_sizes(parent, builder)
        if parent_sizes is None:
            return None
        sizes.extend(parent_sizes)
    return sizes


@estimated_sizes.register(Coalesce)
def _(node: Coalesce, builder: GraphBuilder) -> list[int] | None:
    parent_sizes = estimated_sizes(node.parent, builder)
    if parent_sizes is None:
        return None
    return [sum(parent_sizes[member] for member in group) for group in node.groups]


@estimated_sizes.register(ZipPartitions)
def _(node: ZipPartitions, builder: GraphBuilder) -> list[int] | None:
    left = estimated_sizes(node.left, builder)
    right = estimated_sizes(node.right, builder)
    if left is None or right is None:
        return None
    return [a + b for a, b in zip(left, right)]


@singledispatch
def aligned_groups(node: Node, builder: GraphBuilder) -> list[range]:
    """The groups the tasks computing ``node``'s partitions use.

    Leaves whose partitions come in fixed groups (a shuffle's reduce groups) impose them;
    otherwise the groups follow the estimated sizes.
    """
    return builder.grouping.plan(estimated_sizes(node, builder), node.num_partitions)


@aligned_groups.register(Source)
def _(node: Source, builder: GraphBuilder) -> list[range]:
    provider = node.provider
    fixed = provider.fixed_groups(builder) if provider is not None else None
    if fixed is not None:
        return fixed
    return builder.grouping.plan(estimated_sizes(node, builder), node.num_partitions)


@aligned_groups.register(Pipe)
def _(node: Pipe, builder: GraphBuilder) -> list[range]:
    return aligned_groups(node.parent, builder)


@aligned_groups.register(Union)
def _(node: Union, builder: GraphBuilder) -> list[range]:
    groups: list[range] = []
    offset = 0
    for parent in node.parents:
        groups.extend(
            range(group.start + offset, group.stop + offset)
            for group in aligned_groups(parent, builder)
        )
        offset += parent.num_partitions
    return groups


@aligned_groups.register(Cartesian)
def _(node: Cartesian, builder: GraphBuilder) -> list[range]:
    # Each partition already reads a pair of partitions; its inputs can be large.
    return singletons(node.num_partitions)
