"""The kinds of RDD: how each one's partitions are computed from its parents.

Every :class:`~sparkish.RDD` holds one *kind*. The RDD object carries what all RDDs share (id,
name, persistence, the user-facing methods); the kind says where the partitions come from: a
parallelized collection, files, a narrow transformation of a parent, a union, a shuffle...
:meth:`RDDKind.build_node` turns that into the plan a task computes
(:mod:`sparkish.worker.plan`), recursing into the parents until it reaches a data source, a
shuffle or a persisted RDD. That is all the planning there is: narrow steps fuse into one plan,
and each shuffle or persisted RDD becomes a separate stage through its provider.

``label`` is the class name PySpark shows for such an RDD in ``toDebugString``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..execution.dask_collections import DaskGraphProvider
from ..execution.graph import Provider
from ..execution.providers import LiteralProvider
from ..execution.shuffle import ShuffleProvider
from ..io.splits import InputSplit
from ..partitioner import Partitioner
from ..serialization import dumps
from ..worker.inputs import PickledSlice, SplitReader
from ..worker.interop import PartitionSource
from ..worker.plan import (
    Cartesian,
    Coalesce,
    Node,
    Pipe,
    RangeSource,
    Source,
    Step,
    Union,
    ZipPartitions,
)
from ..worker.shuffle import ShuffleSource
from ..worker.steps import zip_iterators

if TYPE_CHECKING:
    from .core import RDDCore

__all__ = [
    "CartesianProduct",
    "CheckpointFiles",
    "Coalesced",
    "DaskCollection",
    "EmptySlices",
    "FileInput",
    "NoPartitions",
    "PandasSlices",
    "ParallelCollection",
    "Pipelined",
    "RDDKind",
    "RangeCollection",
    "Shuffled",
    "UnionOf",
    "Zipped",
    "slice_like_pyspark",
]


class RDDKind:
    """How an RDD's partitions are computed.

    Parameters
    ----------
    num_partitions : int
        How many partitions the RDD has.
    parents : sequence of RDD
        The RDDs it is computed from (its lineage).
    partitioner : Partitioner or None
        How its pairs are partitioned by key, if known (``RDD.partitioner``).
    layout_partitioner : Partitioner or None
        The partitioner Spark itself knows the partitions by (the JVM side of PySpark), which
        decides whether a union lines its members' partitions up. It is ``partitioner`` unless
        given: they differ only after a union, where PySpark's Python side drops the partitioner
        that Spark keeps (a member without partitions, ``SparkContext.union``).
    """

    label = "RDD"
    operation = "RDD"
    #: Whether the parents are on the other side of a shuffle (``toDebugString`` indents them).
    shuffle_boundary = False
    #: Where the partitions were checkpointed (set by :class:`CheckpointFiles` only).
    checkpoint_file: str | None = None
    #: Whether PySpark makes such an RDD a PipelinedRDD, which a narrow transformation fuses
    #: with (see :mod:`sparkish.rdd.checkpoints`).
    fusable = False

    def __init__(
        self,
        num_partitions: int,
        parents: Sequence[RDDCore] = (),
        partitioner: Partitioner | None = None,
        layout_partitioner: Partitioner | None = None,
    ) -> None:
        self.num_partitions = num_partitions
        self.parents = tuple(parents)
        self.partitioner = partitioner
        self.layout_partitioner = partitioner if layout_partitioner is None else layout_partitioner

    def build_node(self, owner: RDDCore) -> Node:
        """The plan computing ``owner``'s partitions from its parents' plans."""
        raise NotImplementedError

    def release(self) -> None:
        """Free what the kind holds on the cluster (a shuffle's output)."""


class ParallelCollection(RDDKind):
    """A local list sliced into partitions, each slice pickled once and embedded in the graph."""

    label = "ParallelCollectionRDD"
    operation = "parallelize"

    def __init__(self, data: list, num_slices: int, batch_size: int = 1) -> None:
        super().__init__(num_slices)
        slices = slice_like_pyspark(data, num_slices, batch_size)
        self.provider = LiteralProvider([PickledSlice(dumps(part)) for part in slices])

    def build_node(self, owner: RDDCore) -> Node:
        return Source(f"parallelize-{owner.id()}", self.num_partitions, self.provider)


def slice_like_pyspark(data: list, num_slices: int, batch_size: int) -> list[list]:
    """Slice ``data`` as PySpark does: into batches first, then the batches into slices.

    >>> slice_like_pyspark([1, 2, 3, 4, 5], 2, 1)
    [[1, 2], [3, 4, 5]]
    >>> slice_like_pyspark([1, 2, 3, 4, 5], 2, 2)
    [[1, 2], [3, 4, 5]]
    """
    batches = [data[i : i + batch_size] for i in range(0, len(data), batch_size)]
    count = len(batches)
    slices = []
    for index in range(num_slices):
        start = index * count // num_slices
        end = (index + 1) * count // num_slices
        slices.append([item for batch in batches[start:end] for item in batch])
    return slices


class RangeCollection(RDDKind):
    """``parallelize(range(...))``: each task generates its own slice of the range.

    Its parent is an :class:`EmptySlices` RDD, so the lineage reads as PySpark's (a
    ``PythonRDD`` over an empty ``ParallelCollectionRDD``).
    """

    label = "PythonRDD"
    operation = "parallelize"
    fusable = True

    def __init__(self, data: range, num_slices: int, empty_parent: RDDCore) -> None:
        super().__init__(num_slices, (empty_parent,))
        self.range = data

    def build_node(self, owner: RDDCore) -> Node:
        r = self.range
        return RangeSource(r.start, r.stop, r.step, self.num_partitions)


class EmptySlices(RDDKind):
    """Partitions without records (the parent PySpark shows under a parallelized range)."""

    label = "ParallelCollectionRDD"
    operation = "parallelize"

    def build_node(self, owner: RDDCore) -> Node:
        return RangeSource(0, 0, 1, self.num_partitions)


class NoPartitions(RDDKind):
    """An RDD with no partitions (``SparkContext.emptyRDD``)."""

    label = "EmptyRDD"
    operation = "emptyRDD"

    def __init__(self) -> None:
        super().__init__(0)

    def build_node(self, owner: RDDCore) -> Node:
        return RangeSource(0, 0, 1, 0)


class FileInput(RDDKind):
    """Partitions that are file splits, each read by its task."""

    operation = "textFile"

    def __init__(
        self,
        input_splits: list[InputSplit],
        read: Callable[[InputSplit], Iterator],
        operation: str,
        path: str,
    ) -> None:
        super().__init__(len(input_splits))
        self.operation = operation
        self.label = f"{path} FileRDD"
        self.provider = LiteralProvider([SplitReader(split, read) for split in input_splits])

    def build_node(self, owner: RDDCore) -> Node:
        return Source(f"file-{owner.id()}", self.num_partitions, self.provider)


class DaskCollection(RDDKind):
    """Partitions computed by the tasks of Dask collections (``fromDaskBag``, ``fromDelayed``,
    ``fromDaskDataFrame``); every job that reads them runs those tasks in its own graph.

    Parameters
    ----------
    graph : dict
        The collections' optimized tasks.
    keys : list
        The key of the task computing each partition.
    operation : str
        The method that made the RDD.
    frames : bool
        Whether the partitions are pandas DataFrames, whose rows become Rows.
    """

    label = "DaskCollectionRDD"

    def __init__(self, graph: dict, keys: list, operation: str, frames: bool) -> None:
        super().__init__(len(keys))
        self.operation = operation
        self.frames = frames
        self.provider = DaskGraphProvider(graph, keys)

    def build_node(self, owner: RDDCore) -> Node:
        return PartitionSource(
            f"dask-{owner.id()}",
            self.num_partitions,
            self.provider,
            frames=self.frames,
            operation=self.operation,
        )


class PandasSlices(RDDKind):
    """A pandas DataFrame cut into consecutive slices of rows, each pickled once in the driver;
    the tasks turn the rows of their slice into Rows."""

    label = "ParallelCollectionRDD"
    operation = "fromPandas"

    def __init__(self, frame: Any, num_slices: int) -> None:
        super().__init__(num_slices)
        size = len(frame)
        bounds = [index * size // num_slices for index in range(num_slices + 1)]
        self.provider = LiteralProvider(
            [PickledSlice(dumps(frame.iloc[start:end])) for start, end in zip(bounds, bounds[1:])]
        )

    def build_node(self, owner: RDDCore) -> Node:
        return PartitionSource(
            f"pandas-{owner.id()}",
            self.num_partitions,
            self.provider,
            frames=True,
            operation=self.operation,
        )


class Pipelined(RDDKind):
    """A narrow transformation of one parent; chains of them run as one task per partition.

    Parameters
    ----------
    parent : RDD
        The RDD transformed.
    function : callable
        ``function(split, iterator)`` returns the transformed records of a partition.
    operation : str
        The RDD method, for lineage strings and errors.
    user_function : callable or None
        The function the user passed, used to tell which step raised an exception.
    preserves_partitioning : bool
        Whether keys stay where they are (the parent's partitioner is kept).
    barrier : bool
        Whether the step runs in a barrier stage (all its tasks together).
    """

    label = "PythonRDD"
    fusable = True

    def __init__(
        self,
        parent: RDDCore,
        function: Callable[[int, Iterator], Any],
        operation: str,
        user_function: Callable | None = None,
        preserves_partitioning: bool = False,
        barrier: bool = False,
    ) -> None:
        partitioner = parent.partitioner if preserves_partitioning else None
        layout = parent._kind.layout_partitioner if preserves_partitioning else None
        super().__init__(parent.getNumPartitions(), (parent,), partitioner, layout)
        self.operation = operation
        self.function = function
        self.user_function = user_function
        self.barrier = barrier

    def build_node(self, owner: RDDCore) -> Node:
        # A chain of narrow transformations is walked in a loop, not by recursing through each
        # parent's plan, so thousands of chained maps plan without a RecursionError.
        steps = [self.step(owner)]
        parent = self.parents[0]
        while isinstance(parent._kind, Pipelined) and not parent._reads_persisted():
            steps.append(parent._kind.step(parent))
            parent = parent._kind.parents[0]
        steps.reverse()
        base = parent._node()
        if isinstance(base, Pipe):
            return Pipe(base.parent, base.pipeline + tuple(steps))
        return Pipe(base, tuple(steps))

    def step(self, owner: RDDCore) -> Step:
        """This transformation as a step of a task's pipeline."""
        return Step(
            self.function,
            self.operation,
            owner._callsite,
            owner.id(),
            self.user_function,
            self.barrier,
        )


class UnionOf(RDDKind):
    """The partitions of several RDDs, one after the other.

    As in Spark, when every member with partitions has the same (layout) partitioner, partition
    ``i`` of the union instead chains partition ``i`` of each (a partitioner-aware union);
    members without partitions are left out of that decision.

    Parameters
    ----------
    rdds : sequence of RDD
        The members, in order.
    keeps_partitioner : bool
        Whether the union takes its members' partitioner when they all have the same one and it
        lines their partitions up, as PySpark's ``RDD.union`` does (``SparkContext.union`` never
        sets one).
    """

    label = "UnionRDD"
    operation = "union"

    def __init__(self, rdds: Sequence[RDDCore], keeps_partitioner: bool = True) -> None:
        with_partitions = [rdd for rdd in rdds if rdd.getNumPartitions() > 0]
        layouts = [rdd._kind.layout_partitioner for rdd in with_partitions]
        aware = bool(layouts) and layouts[0] is not None and all(p == layouts[0] for p in layouts)
        if aware:
            count = with_partitions[0].getNumPartitions()
        else:
            count = sum(rdd.getNumPartitions() for rdd in rdds)
        first = rdds[0]
        shared = first.partitioner
        keeps = (
            keeps_partitioner
            and all(rdd.partitioner == shared for rdd in rdds)
            and first.getNumPartitions() == count
        )
        super().__init__(count, rdds, shared if keeps else None, layouts[0] if aware else None)
        self.aware = aware

    def build_node(self, owner: RDDCore) -> Node:
        nodes = [member._node() for member in self.members()]
        if self.aware:  # members without partitions have nothing to line up
            nodes = [node for node in nodes if node.num_partitions > 0]
        union = Union(nodes)
        if not self.aware:
            return union
        offsets = [0]
        for node in nodes[:-1]:
            offsets.append(offsets[-1] + node.num_partitions)
        groups = [[offset + split for offset in offsets] for split in range(self.num_partitions)]
        return Coalesce(union, groups)

    def members(self) -> list[RDDCore]:
        """The RDDs whose partitions this union lists, nested unions of the same sort
        flattened (in a loop: ``rdd.union(x)`` thousands of times must not recurse)."""
        members: list[RDDCore] = []
        pending = list(reversed(self.parents))
        while pending:
            rdd = pending.pop()
            kind = rdd._kind
            if (
                isinstance(kind, UnionOf)
                and kind.aware == self.aware
                and not rdd._reads_persisted()
            ):
                pending.extend(reversed(kind.parents))
            else:
                members.append(rdd)
        return members


class Coalesced(RDDKind):
    """Fewer partitions by merging ranges of neighbouring parent partitions (no shuffle)."""

    label = "CoalescedRDD"
    operation = "coalesce"

    def __init__(self, parent: RDDCore, num_partitions: int) -> None:
        parent_count = parent.getNumPartitions()
        count = min(num_partitions, parent_count)
        super().__init__(count, (parent,))
        self.groups = [
            list(range(index * parent_count // count, (index + 1) * parent_count // count))
            for index in range(count)
        ]

    def build_node(self, owner: RDDCore) -> Node:
        return Coalesce(self.parents[0]._node(), self.groups)


class Zipped(RDDKind):
    """Element-wise pairs of two RDDs with identical partitioning."""

    label = "ZippedRDD"
    operation = "zip"

    def __init__(self, left: RDDCore, right: RDDCore) -> None:
        super().__init__(left.getNumPartitions(), (left, right))

    def build_node(self, owner: RDDCore) -> Node:
        left, right = self.parents
        return ZipPartitions(left._node(), right._node(), zip_iterators)


class CartesianProduct(RDDKind):
    """All pairs of elements of two RDDs."""

    label = "CartesianRDD"
    operation = "cartesian"

    def __init__(self, left: RDDCore, right: RDDCore) -> None:
        super().__init__(left.getNumPartitions() * right.getNumPartitions(), (left, right))

    def build_node(self, owner: RDDCore) -> Node:
        left, right = self.parents
        return Cartesian(left._node(), right._node())


class Shuffled(RDDKind):
    """The pairs of the parent repartitioned by ``partitioner`` (hash shuffle, no sorting).

    The shuffle's map side is the parent's plan followed by bucketing; the output partitions
    are unordered. The shuffle's output stays on the workers while this RDD lives.
    """

    label = "ShuffledRDD"
    shuffle_boundary = True

    def __init__(
        self, parent: RDDCore, partitioner: Partitioner, operation: str, spill_to_disk: bool
    ) -> None:
        super().__init__(partitioner.numPartitions, (parent,), partitioner)
        self.operation = operation
        self.spill_to_disk = spill_to_disk
        self.provider: ShuffleProvider | None = None

    def build_node(self, owner: RDDCore) -> Node:
        if self.provider is None:
            parent = self.parents[0]
            assert self.partitioner is not None
            # Task keys are "<operation>-map-rdd<id>-...": Dask's key prefix stops at "rdd<id>".
            self.provider = ShuffleProvider(
                f"rdd{owner.id()}-{owner.context.applicationId}",
                parent._node,
                parent.getNumPartitions(),
                self.partitioner.partitionFunc,
                self.partitioner.numPartitions,
                f"{self.operation} at {owner._callsite}",
                self.spill_to_disk,
                operation=self.operation,
            )
        shuffle_id = self.provider.prepare()
        return ShuffleSource(
            f"shuffle-{owner.id()}", self.num_partitions, self.provider, shuffle_id
        )

    def release(self) -> None:
        if self.provider is not None:
            self.provider.release()


class CheckpointFiles(RDDKind):
    """The partitions of a reliably checkpointed RDD, read back from its checkpoint files.

    Checkpointing replaces an RDD's kind by this one, which cuts its lineage as in Spark; the
    RDD keeps the label and operation it had.
    """

    def __init__(self, original: RDDKind, provider: Provider, directory: str) -> None:
        super().__init__(
            original.num_partitions, (), original.partitioner, original.layout_partitioner
        )
        self.label = original.label
        self.operation = original.operation
        self.provider = provider
        self.checkpoint_file = directory

    def build_node(self, owner: RDDCore) -> Node:
        return Source(f"checkpoint-{owner.id()}", self.num_partitions, self.provider)
