"""What every RDD is and has: identity, lineage, persistence, and running a job.

The user-facing :class:`~sparkish.RDD` is this core plus three groups of methods, each in a
module of its own: narrow transformations (:mod:`.narrow`), actions (:mod:`.actions`) and the
transformations that shuffle (:mod:`.pairs`). How an RDD's partitions are computed is its kind
(:mod:`.kinds`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..callsite import user_frame
from ..execution.providers import LiteralProvider, MaterializedProvider
from ..storage import CheckpointPart, make_checkpoint_directory, write_checkpoint_part
from ..storagelevel import StorageLevel, as_storage_level
from ..worker.finishers import (
    count_finisher,
    disk_materialize,
    materialize,
    memory_and_disk_materialize,
)
from ..worker.plan import Node, Source
from .checkpoints import (
    CheckpointState,
    final_rdds_of_job,
    spark_dependencies,
    walk_after_job,
)
from .kinds import CheckpointFiles, Pipelined, RDDKind

if TYPE_CHECKING:
    from ..context import SparkContext
    from . import RDD

__all__ = ["RDDCore", "require_rdd"]

T = TypeVar("T")

_SPARK_5063 = (
    "It appears that you are attempting to broadcast an RDD or reference an RDD from an "
    "action or transformation. RDD transformations and actions can only be invoked by the "
    "driver, not inside of other transformations; for example, "
    "rdd1.map(lambda x: rdd2.values.count() * x) is invalid because the values "
    "transformation and count action cannot be performed inside of the rdd1.map "
    "transformation. For more information, see SPARK-5063."
)


def require_rdd(other: Any, operation: str) -> None:
    """Raise ``TypeError`` naming ``operation`` unless ``other`` is an RDD."""
    if not isinstance(other, RDDCore):
        raise TypeError(f"RDD.{operation}: expected an RDD, got {type(other).__name__}")


class RDDCore(Generic[T]):
    """Identity, lineage, persistence and job running, shared by every RDD.

    Parameters
    ----------
    ctx : SparkContext
        The context the RDD belongs to.
    kind : RDDKind
        How its partitions are computed.
    """

    def __init__(self, ctx: SparkContext, kind: RDDKind) -> None:
        self.ctx = ctx
        self._runtime = ctx._runtime
        self._kind = kind
        self._id = self._runtime.new_rdd_id()
        self._callsite = user_frame().short
        self.partitioner = kind.partitioner
        self.is_cached = False
        self.is_checkpointed = False
        self._name: str | None = None
        self._storage_level = StorageLevel.NONE
        self._materialized: MaterializedProvider | None = None
        self._checkpoint = CheckpointState()
        #: The RDDs this one's Spark RDD depends on in PySpark (see .checkpoints).
        self._spark_dependencies = spark_dependencies(kind)

    # ------------------------------------------------------------------ lineage and planning
    def _derive(self, kind: RDDKind) -> RDD[Any]:
        """A new RDD of the same class, computed as ``kind`` says."""
        return type(self)(self.ctx, kind)  # type: ignore[return-value]

    def _pipe(
        self,
        function: Callable[[int, Iterator], Iterable],
        operation: str,
        user_function: Callable | None = None,
        preserves_partitioning: bool = False,
        barrier: bool = False,
    ) -> RDD[Any]:
        """A narrow transformation of this RDD: ``function(split, iterator)`` of every
        partition (in a barrier stage with ``barrier``)."""
        kind = Pipelined(self, function, operation, user_function, preserves_partitioning, barrier)
        return self._derive(kind)

    def _narrow(
        self,
        parent: RDDCore,
        function: Callable[[int, Iterator], Iterable],
        operation: str,
        user_function: Callable | None = None,
        preserves_partitioning: bool = False,
    ) -> RDD[Any]:
        """A narrow transformation of ``parent`` (an RDD derived from this one)."""
        kind = Pipelined(parent, function, operation, user_function, preserves_partitioning)
        return self._derive(kind)

    def _node(self) -> Node:
        """The plan of this RDD, reading persisted or checkpointed partitions when available."""
        if self._materialized is not None:
            return Source(f"persist-{self._id}", self.getNumPartitions(), self._materialized)
        return self._kind.build_node(self)

    def _reads_persisted(self) -> bool:
        """Whether jobs read this RDD's persisted partitions instead of computing them."""
        return self._materialized is not None

    def _lineage(self) -> Iterator[RDDCore]:
        """This RDD and its ancestors back to the data sources or checkpoints, each once."""
        seen: set[int] = set()
        stack: list[RDDCore] = [self]
        while stack:
            rdd = stack.pop()
            if rdd.id() in seen:
                continue
            seen.add(rdd.id())
            yield rdd
            if rdd.getCheckpointFile() is None:
                stack.extend(rdd._kind.parents)

    def _run(
        self,
        finisher: Callable[[int, Any], Any],
        splits: Iterable[int] | None,
        action: str,
        drain_on_failure: bool = False,
    ) -> list:
        """Run ``finisher`` over the given partitions of this RDD and return its results."""
        description = f"{action} at {user_frame().short}"
        try:
            node = self._node()
        except RecursionError:
            depth = sum(1 for _ in self._lineage())
            raise RecursionError(
                f"{description}: the lineage of {self!r} ({depth} RDDs) is too deep to plan; "
                "cut it with checkpoint() or localCheckpoint() on an intermediate RDD "
                "(followed by an action on that RDD)"
            ) from None
        results = self._runtime.run_job(node, finisher, splits, description, drain_on_failure)
        walk_after_job(final_rdds_of_job(self, action), RDDCore._carry_out_checkpoint)
        return results

    def _carry_out_checkpoint(self) -> None:
        """Carry out this RDD's marked checkpoint after a job: write its files (reliable) or
        make sure every partition is kept (local), as Spark does."""
        if self._checkpoint.mark == "reliable":
            self._kind = CheckpointFiles(self._kind, *_write_checkpoint(self))
        elif self._materialized is not None and not self._materialized.is_complete(
            self.getNumPartitions()
        ):
            description = f"local checkpoint of {self!r}"
            self._runtime.run_job(self._node(), count_finisher, None, description)
        self._checkpoint.done = True

    # ------------------------------------------------------------------ identity
    def id(self) -> int:
        """A unique id for this RDD within its SparkContext.

        Returns
        -------
        int
        """
        return self._id

    @property
    def context(self) -> SparkContext:
        """The :class:`~sparkish.SparkContext` this RDD was created on."""
        return self.ctx

    def name(self) -> str | None:
        """The name set with :meth:`setName`, or ``None``.

        >>> rdd = sc.parallelize([1, 2])
        >>> rdd.setName("RDD1").name()
        'RDD1'
        """
        return self._name

    def setName(self, name: str) -> RDDCore[T]:
        """Name this RDD (shown in ``toDebugString``).

        Parameters
        ----------
        name : str
            The new name.

        Returns
        -------
        RDD
            This RDD.
        """
        self._name = name
        return self

    def getNumPartitions(self) -> int:
        """The number of partitions.

        >>> sc.parallelize([1, 2, 3, 4], 2).getNumPartitions()
        2
        """
        return self._kind.num_partitions

    def __repr__(self) -> str:
        kind = self._kind
        return f"{kind.label}[{self._id}] at {kind.operation} at {self._callsite}"

    def __getnewargs__(self) -> Any:
        raise RuntimeError(_SPARK_5063)

    def __reduce__(self) -> Any:
        raise RuntimeError(_SPARK_5063)

    def toDebugString(self) -> bytes:
        """A description of this RDD and its lineage, as UTF-8 bytes like PySpark.

        Returns
        -------
        bytes
            One line per RDD; lines of RDDs across a shuffle are indented.

        Examples
        --------
        >>> rdd = sc.parallelize(range(4), 2).map(str)
        >>> print(rdd.toDebugString().decode())  # doctest: +ELLIPSIS
        (2) PythonRDD[...] at map at ... []
         |  PythonRDD[...] at parallelize at ... []
         |  ParallelCollectionRDD[...] at parallelize at ... []
        """
        lines = [f"({self.getNumPartitions()}) {_describe(self)}"]
        _describe_parents(self, lines, "")
        return "\n".join(lines).encode("utf-8")

    # ------------------------------------------------------------------ persistence
    def cache(self) -> RDDCore[T]:
        """Keep this RDD's partitions in worker memory once computed (``MEMORY_ONLY``).

        Returns
        -------
        RDD
            This RDD.

        Examples
        --------
        >>> rdd = sc.parallelize(["b", "a", "c"])
        >>> rdd.cache().is_cached
        True
        """
        return self.persist(StorageLevel.MEMORY_ONLY)

    def persist(self, storageLevel: StorageLevel = StorageLevel.MEMORY_ONLY) -> RDDCore[T]:
        """Keep this RDD's partitions on the workers once computed, reused by later jobs.

        Parameters
        ----------
        storageLevel : StorageLevel
            Where to keep them: in memory (spilled to the worker's disk under pressure) or on
            the worker's disk.

        Returns
        -------
        RDD
            This RDD.

        Examples
        --------
        >>> rdd = sc.parallelize(["b", "a", "c"])
        >>> rdd.persist().is_cached
        True
        >>> str(rdd.getStorageLevel())
        'Memory Serialized 1x Replicated'
        """
        storageLevel = as_storage_level(storageLevel, "RDD.persist")
        if storageLevel == StorageLevel.NONE:
            return self.unpersist()
        self.is_cached = True
        if self.isLocallyCheckpointed():
            # Spark keeps a locally checkpointed RDD on disk whatever level is asked for.
            return self._persist(_with_disk(storageLevel), True)
        return self._persist(storageLevel, False)

    def _persist(self, storageLevel: StorageLevel, override: bool) -> RDDCore[T]:
        """Set the storage level (a change only with ``override``) and keep the partitions."""
        if not override and self._storage_level not in (StorageLevel.NONE, storageLevel):
            raise ValueError(
                "Cannot change storage level of an RDD after it was already assigned a level "
                f"({self._storage_level} to {storageLevel})"
            )
        self._storage_level = storageLevel
        if self._materialized is None:
            self._materialized = MaterializedProvider(
                f"{self._kind.operation}-persist-rdd{self._id}-{self.ctx.applicationId}",
                lambda: self._kind.build_node(self),
                f"persist of {self!r}",
                finisher=_persisting_finisher(storageLevel),
            )
            self._runtime.materialized.append(self._materialized)
        return self

    def unpersist(self, blocking: bool = False) -> RDDCore[T]:
        """Drop the persisted partitions from the workers.

        Parameters
        ----------
        blocking : bool
            Accepted for compatibility; the partitions are released at once either way.

        Returns
        -------
        RDD
            This RDD.

        Examples
        --------
        >>> rdd = sc.parallelize(["b", "a", "c"]).cache()
        >>> rdd.unpersist().is_cached
        False
        """
        self.is_cached = False
        self._storage_level = StorageLevel.NONE
        provider, self._materialized = self._materialized, None
        if provider is not None:
            provider.release()
            if provider in self._runtime.materialized:
                self._runtime.materialized.remove(provider)
        return self

    def getStorageLevel(self) -> StorageLevel:
        """The storage level set by :meth:`persist` (``StorageLevel.NONE`` if none).

        >>> rdd = sc.parallelize([1, 2])
        >>> rdd.getStorageLevel()
        StorageLevel(False, False, False, False, 1)
        """
        return self._storage_level

    def checkpoint(self) -> None:
        """Save this RDD to the checkpoint directory after the next job and cut its lineage.

        >>> import tempfile
        >>> sc.setCheckpointDir(tempfile.mkdtemp())
        >>> rdd = sc.parallelize(range(5)).map(lambda x: x + 1)
        >>> rdd.checkpoint()
        >>> rdd.isCheckpointed()
        False
        >>> rdd.count()
        5
        >>> rdd.isCheckpointed()
        True
        """
        if self.ctx.getCheckpointDir() is None:
            raise RuntimeError(
                "Checkpoint directory has not been set in the SparkContext "
                "(call SparkContext.setCheckpointDir first)"
            )
        self.is_checkpointed = True
        self._checkpoint.mark_reliable()

    def isCheckpointed(self) -> bool:
        """Whether this RDD has been checkpointed, reliably or locally, by a job that ran
        after it was marked (see :mod:`sparkish.rdd.checkpoints` for Spark's rules)."""
        return self._checkpoint.done

    def localCheckpoint(self) -> None:
        """Persist this RDD on the workers and treat it as a lineage cut, skipping reliable storage.

        Like Spark, the storage level gets disk added, and a pending :meth:`checkpoint` is
        replaced; :attr:`is_cached` is left as it was.

        >>> rdd = sc.parallelize(range(3))
        >>> rdd.localCheckpoint()
        >>> rdd.isLocallyCheckpointed(), rdd.collect(), rdd.isCheckpointed()
        (True, [0, 1, 2], True)
        """
        level = self._storage_level
        self._persist(
            _with_disk(level) if level != StorageLevel.NONE else StorageLevel.MEMORY_AND_DISK, True
        )
        self._checkpoint.mark_local()

    def isLocallyCheckpointed(self) -> bool:
        """Whether this RDD is marked for a local checkpoint (by :meth:`localCheckpoint`)."""
        return self._checkpoint.mark == "local"

    def getCheckpointFile(self) -> str | None:
        """Where this RDD was checkpointed, or ``None``."""
        return self._kind.checkpoint_file

    def cleanShuffleDependencies(self, blocking: bool = False) -> None:
        """Release the shuffle outputs that this RDD's lineage still holds on the workers.

        Parameters
        ----------
        blocking : bool
            Accepted for compatibility; the outputs are released at once either way.
        """
        for rdd in self._lineage():
            rdd._kind.release()


def _describe(rdd: RDDCore) -> str:
    level = rdd.getStorageLevel()
    storage = "" if level == StorageLevel.NONE else str(level)
    name = rdd.name()
    return f"{name + ' ' if name else ''}{rdd!r} [{storage}]"


def _describe_parents(rdd: RDDCore, lines: list[str], prefix: str) -> None:
    """Append the lineage below ``rdd``, PySpark's way: ``|`` for narrow dependencies, an
    indented ``+-`` block for each parent across a shuffle."""
    kind = rdd._kind
    if kind.checkpoint_file is not None:
        lines.append(f"{prefix} |  ReliableCheckpointRDD at {kind.checkpoint_file} []")
        return
    for parent in kind.parents:
        if kind.shuffle_boundary:
            lines.append(f"{prefix} +-({parent.getNumPartitions()}) {_describe(parent)}")
            _describe_parents(parent, lines, prefix + "   ")
        else:
            lines.append(f"{prefix} |  {_describe(parent)}")
            _describe_parents(parent, lines, prefix)


def _write_checkpoint(rdd: RDDCore) -> tuple[LiteralProvider, str]:
    """Write ``rdd``'s partitions to the checkpoint directory: the provider reading them back,
    and the directory."""
    root = rdd.context.getCheckpointDir()
    if root is None:
        raise RuntimeError("Checkpoint directory has not been set in the SparkContext")
    directory = f"{root}/rdd-{rdd.id()}"
    make_checkpoint_directory(directory)
    finisher = partial(write_checkpoint_part, directory)
    urls = rdd._runtime.run_job(rdd._node(), finisher, None, f"checkpoint of {rdd!r}")
    return LiteralProvider([CheckpointPart(url) for url in urls]), directory


def _with_disk(level: StorageLevel) -> StorageLevel:
    """``level`` with disk added (Spark's storage level for a local checkpoint)."""
    return StorageLevel(
        True, level.useMemory, level.useOffHeap, level.deserialized, level.replication
    )


def _persisting_finisher(level: StorageLevel) -> Callable:
    """What a task persisting at ``level`` keeps: memory only, disk only, or memory until the
    partition is large, then disk."""
    if level.useMemory and level.useDisk:
        return memory_and_disk_materialize
    return materialize if level.useMemory else disk_materialize
