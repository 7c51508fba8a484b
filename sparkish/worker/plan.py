"""Plan nodes: how one task computes the records of a partition.

An RDD's narrow lineage (everything back to the nearest shuffle, persisted RDD or data source)
compiles to a small tree of picklable nodes. A job ships the tree once per stage and each task
calls ``node.compute(split, inputs)``, which returns a lazy iterator: a chain of ``map``,
``filter`` and friends over the source records, so a 10-step chain of narrow transformations runs
as one task per partition without materializing anything in between (PySpark's pipelining).

Leaves are :class:`Source` nodes whose partitions arrive as task inputs (a literal slice of a
``parallelize``, a file split, a :class:`~sparkish.serialization.Block` computed by an upstream
task) and :class:`RangeSource` nodes that generate their records. The driver builds the tree
(:mod:`sparkish.rdd.kinds`) and connects each source to the graph (:mod:`sparkish.execution`).

>>> source = RangeSource(0, 10, 1, 2)
>>> square = Pipe(source, (Step(lambda split, it: (x * x for x in it), "map"),))
>>> list(square.compute(1, {}))
[25, 36, 49, 64, 81]
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..serialization import PartitionGroup
from .keyed import map_side_reduce
from .steps import filter_partition, map_filter_partition, map_partition

PartitionFunction = Callable[[int, Iterator], Iterable]


class Step:
    """One narrow transformation inside a :class:`Pipe`.

    ``function(split, iterator)`` returns the transformed records. ``operation`` (``"map"``,
    ``"filter"``, ...), ``callsite`` and ``rdd_id`` only serve error messages; ``user_function`` is
    the function the user passed, used to tell which step raised an exception. A ``barrier``
    step makes its stage a barrier stage (all tasks run together, see ``RDD.barrier``).
    """

    __slots__ = ("function", "operation", "callsite", "rdd_id", "user_function", "barrier")

    def __init__(
        self,
        function: PartitionFunction,
        operation: str,
        callsite: str = "",
        rdd_id: int | None = None,
        user_function: Callable | None = None,
        barrier: bool = False,
    ) -> None:
        self.function = function
        self.operation = operation
        self.callsite = callsite
        self.rdd_id = rdd_id
        self.user_function = user_function
        self.barrier = barrier

    def __getstate__(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state):
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)

    def describe(self) -> str:
        where = f" at {self.callsite}" if self.callsite else ""
        return f"RDD.{self.operation}{where}"


class Node:
    """How to compute each of ``num_partitions`` partitions inside a task."""

    num_partitions: int

    def compute(self, split: int, inputs: dict) -> Iterator:
        raise NotImplementedError

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        """The (source leaf, leaf partition) pairs that partition ``split`` reads (driver side)."""
        raise NotImplementedError

    def steps(self) -> Iterator[Step]:
        """Every step in this tree, for error messages and serialization diagnostics."""
        return iter(())

    def children(self) -> tuple[Node, ...]:
        return ()


def partition_input(inputs: dict, uid: str, split: int) -> Any:
    """Partition ``split`` of leaf ``uid`` among a task's inputs, taken out of its group when an
    upstream task computed it together with its neighbours.

    >>> partition_input({("a", 3): PartitionGroup(2, [[0], [1]])}, "a", 3)
    [1]
    """
    value = inputs[(uid, split)]
    if type(value) is PartitionGroup:
        return value.part(split)
    return value


class Source(Node):
    """A leaf whose partitions are task inputs, each an iterable of records.

    ``provider`` is a driver-side object that turns a partition number into a graph input (a
    literal or a reference to an upstream task); it is not shipped to workers.
    """

    def __init__(self, uid: str, num_partitions: int, provider: Any = None) -> None:
        self.uid = uid
        self.num_partitions = num_partitions
        self.provider = provider

    def __getstate__(self):
        return (self.uid, self.num_partitions)

    def __setstate__(self, state):
        self.uid, self.num_partitions = state
        self.provider = None

    def compute(self, split: int, inputs: dict) -> Iterator:
        return iter(partition_input(inputs, self.uid, split))

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        yield self, split


class RangeSource(Node):
    """``range(start, stop, step)`` sliced into partitions exactly as PySpark slices it."""

    def __init__(self, start: int, stop: int, step: int, num_partitions: int) -> None:
        self.range = range(start, stop, step)
        self.num_partitions = num_partitions

    def partition_range(self, split: int) -> range:
        size = len(self.range)
        if size == 0:
            return range(0)
        step = self.range.step
        first = self.range.start

        def start_of(index: int) -> int:
            return first + int(index * size / self.num_partitions) * step

        return range(start_of(split), start_of(split + 1), step)

    def compute(self, split: int, inputs: dict) -> Iterator:
        return iter(self.partition_range(split))

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        return iter(())


class Pipe(Node):
    """Narrow transformations applied in sequence to the parent's partition iterator."""

    def __init__(self, parent: Node, steps: tuple[Step, ...]) -> None:
        self.parent = parent
        self.pipeline = steps
        self.num_partitions = parent.num_partitions

    def compute(self, split: int, inputs: dict) -> Iterator:
        records: Iterable = self.parent.compute(split, inputs)
        functions = [step.function for step in self.pipeline]
        if len(functions) > MAX_NESTED_STEPS:
            functions = fuse_record_steps(functions)
        functions = fuse_map_into_combine(functions)
        for function in functions:
            # Every step, user functions included, gets an iterator (as in PySpark), even where
            # the step before returned an iterable such as ``dict.items()``.
            records = function(split, iter(records))
        return iter(records)

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        return self.parent.sources(split)

    def steps(self) -> Iterator[Step]:
        yield from self.parent.steps()
        yield from self.pipeline

    def children(self) -> tuple[Node, ...]:
        return (self.parent,)


#: Longer pipelines run their consecutive ``map`` and ``filter`` steps as one loop. Each step
#: is a generator pulling from the one before, and Python counts every level of that nesting
#: against its recursion limit (1,000 by default), so a deep chain would otherwise fail.
MAX_NESTED_STEPS = 200


def fuse_record_steps(functions: list[PartitionFunction]) -> list[PartitionFunction]:
    """Replace each run of consecutive ``map``/``filter`` steps by one step doing all of them.

    >>> from functools import partial
    >>> steps = [partial(map_partition, lambda x: x + 1)] * 3 + [partial(filter_partition, bool)]
    >>> fused = fuse_record_steps(steps)
    >>> len(fused), list(fused[0](0, iter([-3, 0, 1])))
    (1, [3, 4])
    """
    fused: list[PartitionFunction] = []
    run: list[tuple[bool, Callable]] = []
    for function in functions:
        if isinstance(function, functools.partial) and function.func in (
            map_partition,
            filter_partition,
        ):
            run.append((function.func is filter_partition, function.args[0]))
            continue
        if run:
            fused.append(functools.partial(map_filter_partition, tuple(run)))
            run = []
        fused.append(function)
    if run:
        fused.append(functools.partial(map_filter_partition, tuple(run)))
    return fused


def fuse_map_into_combine(functions: list[PartitionFunction]) -> list[PartitionFunction]:
    """Hand a ``map`` step straight before ``reduceByKey(operator.add)``'s map-side combine to
    the combine, which calls it in its own loop (see
    :func:`~sparkish.worker.keyed.map_side_reduce`).

    >>> from functools import partial
    >>> steps = [partial(map_partition, lambda w: (w, 1)),
    ...          partial(map_side_reduce, operator.add, "reduceByKey")]
    >>> fused = fuse_map_into_combine(steps)
    >>> len(fused), sorted(fused[0](0, iter("abca")))
    (1, [('a', 2), ('b', 1), ('c', 1)])
    """
    fused: list[PartitionFunction] = []
    for function in functions:
        previous = fused[-1] if fused else None
        if (
            isinstance(function, functools.partial)
            and function.func is map_side_reduce
            and len(function.args) == 2
            and function.args[0] is operator.add  # a function call per record would dominate
            and not function.keywords
            and isinstance(previous, functools.partial)
            and previous.func is map_partition
        ):
            fused.pop()
            func, operation = function.args
            function = functools.partial(map_side_reduce, func, operation, mapper=previous.args[0])
        fused.append(function)
    return fused


class Union(Node):
    """The partitions of several parents, one after the other."""

    def __init__(self, parents: list[Node]) -> None:
        self.parents = parents
        self.num_partitions = sum(parent.num_partitions for parent in parents)

    def locate(self, split: int) -> tuple[Node, int]:
        for parent in self.parents:
            if split < parent.num_partitions:
                return parent, split
            split -= parent.num_partitions
        raise IndexError(split)

    def compute(self, split: int, inputs: dict) -> Iterator:
        parent, local = self.locate(split)
        return parent.compute(local, inputs)

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        parent, local = self.locate(split)
        return parent.sources(local)

    def steps(self) -> Iterator[Step]:
        for parent in self.parents:
            yield from parent.steps()

    def children(self) -> tuple[Node, ...]:
        return tuple(self.parents)


class Coalesce(Node):
    """Each output partition chains a group of parent partitions (no shuffle)."""

    def __init__(self, parent: Node, groups: list[list[int]]) -> None:
        self.parent = parent
        self.groups = groups
        self.num_partitions = len(groups)

    def compute(self, split: int, inputs: dict) -> Iterator:
        return itertools.chain.from_iterable(
            self.parent.compute(member, inputs) for member in self.groups[split]
        )

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        for member in self.groups[split]:
            yield from self.parent.sources(member)

    def steps(self) -> Iterator[Step]:
        return self.parent.steps()

    def children(self) -> tuple[Node, ...]:
        return (self.parent,)


class ZipPartitions(Node):
    """Partition ``i`` pairs up partition ``i`` of each parent: ``function(iter_a, iter_b)``."""

    def __init__(self, left: Node, right: Node, function: Callable[[Iterator, Iterator], Iterable]):
        self.left = left
        self.right = right
        self.function = function
        self.num_partitions = left.num_partitions

    def compute(self, split: int, inputs: dict) -> Iterator:
        return iter(
            self.function(self.left.compute(split, inputs), self.right.compute(split, inputs))
        )

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        yield from self.left.sources(split)
        yield from self.right.sources(split)

    def steps(self) -> Iterator[Step]:
        yield from self.left.steps()
        yield from self.right.steps()

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


class Cartesian(Node):
    """Partition ``i * n_right + j`` is the product of left partition ``i`` and right ``j``."""

    def __init__(self, left: Node, right: Node) -> None:
        self.left = left
        self.right = right
        self.num_partitions = left.num_partitions * right.num_partitions

    def compute(self, split: int, inputs: dict) -> Iterator:
        left_split, right_split = divmod(split, self.right.num_partitions)
        right_records = list(self.right.compute(right_split, inputs))
        return (
            (left, right)
            for left in self.left.compute(left_split, inputs)
            for right in right_records
        )

    def sources(self, split: int) -> Iterator[tuple[Source, int]]:
        left_split, right_split = divmod(split, self.right.num_partitions)
        yield from self.left.sources(left_split)
        yield from self.right.sources(right_split)

    def steps(self) -> Iterator[Step]:
        yield from self.left.steps()
        yield from self.right.steps()

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)
