"""``RDD``: a lazy, partitioned collection with PySpark's API, lowered onto Dask.

Transformations build a lineage of RDD objects and run nothing. Narrow transformations
(``map``, ``filter``, ``mapPartitions``...) chain into one per-partition pipeline, so an action
over a chain of them runs one task per partition. Operations that regroup data by key go through
the hash shuffle in :mod:`sparkish.shuffle`.

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> rdd = sc.parallelize(range(10), 3).map(lambda x: x * x).filter(lambda x: x % 2)
>>> rdd.collect()
[1, 9, 25, 49, 81]
>>> rdd.glom().collect()
[[1], [9, 25], [49, 81]]
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import operator
import os
import random
import shlex
import subprocess
import sys
import threading
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial, reduce
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._plan import (
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
from ._serialize import Block, dumps, loads
from .storagelevel import StorageLevel

if TYPE_CHECKING:
    from .context import SparkContext
    from .statcounter import StatCounter

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")
V = TypeVar("V")

__all__ = ["RDD", "Partitioner", "BoundedFloat"]

_PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__))


def _callsite() -> str:
    """``file:line`` of the first caller outside the sparkish package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIRECTORY):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


def _require_callable(function: Any, operation: str, name: str = "f") -> None:
    if not callable(function):
        raise TypeError(
            f"RDD.{operation}: {name} must be callable, got {type(function).__name__} {function!r}"
        )


def _require_rdd(other: Any, operation: str) -> None:
    if not isinstance(other, RDD):
        raise TypeError(f"RDD.{operation}: expected an RDD, got {type(other).__name__}")


def _partition_count(value: Any, operation: str, name: str = "numPartitions") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"RDD.{operation}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"RDD.{operation}: {name} must be positive, got {value}")
    return value


class BoundedFloat(float):
    """A float with the confidence bounds of an approximate result."""

    confidence: float
    low: float
    high: float

    def __new__(cls, mean: float, confidence: float, low: float, high: float) -> BoundedFloat:
        value = float.__new__(cls, mean)
        value.confidence = confidence
        value.low = low
        value.high = high
        return value


class Partitioner:
    """Assigns keys to ``numPartitions`` partitions with ``partitionFunc(key) % numPartitions``.

    >>> from sparkish.shuffle.hashing import portable_hash
    >>> p = Partitioner(4, portable_hash)
    >>> p(5)
    1
    >>> p == Partitioner(4, portable_hash)
    True
    """

    def __init__(self, numPartitions: int, partitionFunc: Callable[[Any], int]) -> None:
        self.numPartitions = numPartitions
        self.partitionFunc = partitionFunc

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, Partitioner)
            and self.numPartitions == other.numPartitions
            and self.partitionFunc == other.partitionFunc
        )

    def __hash__(self) -> int:
        return hash((self.numPartitions, id(self.partitionFunc)))

    def __call__(self, k: Any) -> int:
        return self.partitionFunc(k) % self.numPartitions

    def __repr__(self) -> str:
        name = getattr(self.partitionFunc, "__name__", repr(self.partitionFunc))
        return f"Partitioner({self.numPartitions}, {name})"


# --------------------------------------------------------------------------- step functions
# Small module-level functions bound with functools.partial: they pickle by reference, so only
# the user's own function travels with each stage. Generator expressions (rather than map) turn
# a StopIteration escaping user code into a RuntimeError (PEP 479) instead of silently ending the
# partition.


def _map_partition(f, split, iterator):
    return (f(x) for x in iterator)


def _flat_map_partition(f, split, iterator):
    return (y for x in iterator for y in f(x))


def _filter_partition(f, split, iterator):
    return (x for x in iterator if f(x))


def _map_partitions(f, split, iterator):
    return _iterable_result(f(iterator), "mapPartitions")


def _map_partitions_with_index(f, split, iterator):
    return _iterable_result(f(split, iterator), "mapPartitionsWithIndex")


def _iterable_result(result, operation: str):
    if result is None:
        return ()
    try:
        return iter(result)
    except TypeError:
        raise TypeError(
            f"RDD.{operation}: the function must return an iterable of records, "
            f"got {type(result).__name__}"
        ) from None


def _map_values_partition(f, split, iterator):
    return ((kv[0], f(kv[1])) for kv in iterator)


def _flat_map_values_partition(f, split, iterator):
    return ((kv[0], x) for kv in iterator for x in f(kv[1]))


def _key_by_partition(f, split, iterator):
    return ((f(x), x) for x in iterator)


def _keys_partition(split, iterator):
    return (kv[0] for kv in iterator)


def _values_partition(split, iterator):
    return (kv[1] for kv in iterator)


def _glom_partition(split, iterator):
    return [list(iterator)]


def _foreach_partition(f, split, iterator):
    for x in iterator:
        f(x)
    return ()


def _foreach_partition_function(f, split, iterator):
    f(iterator)
    return ()


def _reduce_partition(f, split, iterator):
    iterator = iter(iterator)
    try:
        initial = next(iterator)
    except StopIteration:
        return []
    return [reduce(f, iterator, initial)]


def _fold_partition(zero, op, split, iterator):
    accumulator = _copy_zero(zero)
    for x in iterator:
        accumulator = op(accumulator, x)
    return [accumulator]


def _copy_zero(zero):
    # Each partition folds into its own copy, as PySpark does by unpickling the zero per task.
    return loads(dumps(zero))


def _take_partition(limit, split, iterator):
    return list(itertools.islice(iterator, limit))


def _top_partition(num, key, split, iterator):
    return [heapq.nlargest(num, iterator, key=key)]


def _smallest_partition(num, key, split, iterator):
    return [heapq.nsmallest(num, iterator, key=key)]


def _count_by_value_partition(split, iterator):
    return [dict(Counter(iterator))]


def _count_by_key_partition(split, iterator):
    return [dict(Counter(kv[0] for kv in iterator))]


def _reduce_by_key_locally_partition(f, split, iterator):
    merged: dict = {}
    for k, v in iterator:
        merged[k] = f(merged[k], v) if k in merged else v
    return [merged]


def _stats_partition(split, iterator):
    from .statcounter import StatCounter

    return [StatCounter(iterator)]


def _sum_partition(split, iterator):
    return [sum(iterator)]


def _histogram_partition(buckets, minimum, maximum, even, increment, split, iterator):
    counters = [0] * len(buckets)
    for x in iterator:
        if x is None or (isinstance(x, float) and math.isnan(x)) or x > maximum or x < minimum:
            continue
        index = int((x - minimum) / increment) if even else bisect.bisect_right(buckets, x) - 1
        counters[index] += 1
    last = counters.pop()
    counters[-1] += last
    return [counters]


def _zip_with_index_partition(starts, split, iterator):
    return zip(iterator, itertools.count(starts[split]))


def _zip_with_unique_id_partition(n, split, iterator):
    return ((x, i * n + split) for i, x in enumerate(iterator))


def _zip_iterators(left: Iterator, right: Iterator) -> Iterator:
    sentinel = object()
    for a, b in itertools.zip_longest(left, right, fillvalue=sentinel):
        if a is sentinel or b is sentinel:
            raise ValueError("Can only zip RDDs with same number of elements in each partition")
        yield (a, b)


def _pipe_partition(command, env, check_code, split, iterator):
    process = subprocess.Popen(
        shlex.split(command), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )

    def feed() -> None:
        try:
            for obj in iterator:
                process.stdin.write((str(obj).rstrip("\n") + "\n").encode("utf-8"))
        except BrokenPipeError:
            pass
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    for line in iter(process.stdout.readline, b""):
        yield line.rstrip(b"\n").decode("utf-8")
    process.wait()
    feeder.join()
    if check_code and process.returncode:
        raise RuntimeError(
            f"Pipe function `{command}` exited with error code {process.returncode}."
        )


def _run_partition_function(function):
    """Finisher for ``SparkContext.runJob``: the function's results for one partition."""
    return partial(_apply_partition_function, function)


def _apply_partition_function(function, split, iterator):
    result = function(iterator)
    return Block.sealed(() if result is None else result)


# --------------------------------------------------------------------------- finishers


def _collect_finisher(split, iterator):
    return Block.sealed(iterator)


def _count_finisher(split, iterator):
    from ._task import drain

    return drain(iterator)


def _opaque_list_finisher(split, iterator):
    return Block.sealed(iterator)


def _unwrap(results: list) -> list:
    """Concatenate the per-partition lists returned by ``_opaque_list_finisher``."""
    return [item for result in results for item in result.records]


class _PickledSlice:
    """A slice of a parallelized collection, pickled once in the driver."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __iter__(self) -> Iterator:
        return iter(loads(self.payload))


class RDD(Generic[T]):
    """A Resilient Distributed Dataset: an immutable, partitioned, lazily computed collection.

    RDDs are made by a :class:`~sparkish.SparkContext` (``parallelize``, ``textFile``...) or by
    transforming other RDDs; actions (``collect``, ``count``, ``reduce``...) run jobs.
    """

    _operation = "RDD"

    def __init__(
        self,
        ctx: SparkContext,
        num_partitions: int,
        parents: Sequence[RDD] = (),
        operation: str | None = None,
        partitioner: Partitioner | None = None,
    ) -> None:
        self.ctx = ctx
        self._id = ctx._new_rdd_id()
        self._num_partitions = num_partitions
        self._parents = tuple(parents)
        self._operation = operation or self._operation
        self._callsite = _callsite()
        self.partitioner = partitioner
        self.is_cached = False
        self.is_checkpointed = False
        self._name: str | None = None
        self._storage_level = StorageLevel.NONE
        self._materialized: Any = None  # MaterializedProvider once persisted
        self._checkpoint_requested: str | None = None  # "reliable" | "local"
        self._checkpoint_source: Any = None  # LiteralProvider over checkpoint files
        self._checkpoint_file: str | None = None

    # ------------------------------------------------------------------ lowering
    def _build_node(self) -> Node:
        """The plan computing this RDD from its parents (ignoring persistence)."""
        raise NotImplementedError

    def _node(self) -> Node:
        """The plan of this RDD, reading persisted or checkpointed partitions when available."""
        if self._checkpoint_source is not None:
            return Source(f"checkpoint-{self._id}", self._num_partitions, self._checkpoint_source)
        if self._materialized is not None:
            return Source(f"persist-{self._id}", self._num_partitions, self._materialized)
        return self._build_node()

    def _run(
        self, finisher, splits: Iterable[int] | None, action: str, drain_on_failure: bool = False
    ) -> list:
        """Run ``finisher`` over the given partitions of this RDD and return its results."""
        self.ctx._check_active()
        description = f"{action} at {_callsite()}"
        results = self.ctx._job_runner.run(
            self._node(), finisher, splits, description, drain_on_failure
        )
        self._after_job()
        return results

    def _after_job(self) -> None:
        """Write the checkpoints that the finished job made due, like Spark does."""
        pending = [
            rdd
            for rdd in self._lineage()
            if rdd._checkpoint_requested == "reliable" and rdd._checkpoint_source is None
        ]
        for rdd in pending:
            from ._checkpoint import write_checkpoint

            write_checkpoint(rdd)

    def _lineage(self) -> Iterator[RDD]:
        seen: set[int] = set()
        stack: list[RDD] = [self]
        while stack:
            rdd = stack.pop()
            if rdd._id in seen:
                continue
            seen.add(rdd._id)
            yield rdd
            if rdd._checkpoint_source is None:
                stack.extend(rdd._parents)

    def _pipe(
        self,
        function: Callable[[int, Iterator], Iterable],
        operation: str,
        user_function: Callable | None = None,
        preserves_partitioning: bool = False,
    ) -> RDD:
        return PipelinedRDD(self, function, operation, user_function, preserves_partitioning)

    # ------------------------------------------------------------------ identity
    def id(self) -> int:
        """A unique id for this RDD within its SparkContext."""
        return self._id

    @property
    def context(self) -> SparkContext:
        """The :class:`SparkContext` this RDD was created on."""
        return self.ctx

    def name(self) -> str | None:
        """The name set with :meth:`setName`, or ``None``.

        >>> rdd = sc.parallelize([1, 2])
        >>> rdd.setName("RDD1").name()
        'RDD1'
        """
        return self._name

    def setName(self, name: str) -> RDD[T]:
        """Name this RDD (shown in ``toDebugString`` and on the dashboard)."""
        self._name = name
        return self

    def getNumPartitions(self) -> int:
        """The number of partitions.

        >>> sc.parallelize([1, 2, 3, 4], 2).getNumPartitions()
        2
        """
        return self._num_partitions

    _label: str | None = None

    def __repr__(self) -> str:
        label = self._label or type(self).__name__
        return f"{label}[{self._id}] at {self._operation} at {self._callsite}"

    def __getnewargs__(self) -> Any:
        raise RuntimeError(
            "It appears that you are attempting to broadcast an RDD or reference an RDD from an "
            "action or transformation. RDD transformations and actions can only be invoked by the "
            "driver, not inside of other transformations; for example, "
            "rdd1.map(lambda x: rdd2.values.count() * x) is invalid because the values "
            "transformation and count action cannot be performed inside of the rdd1.map "
            "transformation. For more information, see SPARK-5063."
        )

    def __reduce__(self) -> Any:
        return self.__getnewargs__()

    def toDebugString(self) -> bytes:
        """A description of this RDD and its lineage, as UTF-8 bytes like PySpark.

        >>> rdd = sc.parallelize(range(4), 2).map(str)
        >>> print(rdd.toDebugString().decode())  # doctest: +ELLIPSIS
        (2) PythonRDD[...] at map at ... []
         |  PythonRDD[...] at parallelize at ... []
         |  ParallelCollectionRDD[...] at parallelize at ... []
        """
        lines = [f"({self._num_partitions}) {self._describe()}"]
        self._debug_children(lines, "")
        return "\n".join(lines).encode("utf-8")

    def _describe(self) -> str:
        storage = "" if self._storage_level == StorageLevel.NONE else str(self._storage_level)
        label = f"{self._name} " if self._name else ""
        return f"{label}{self!r} [{storage}]"

    def _debug_children(self, lines: list[str], prefix: str) -> None:
        if self._checkpoint_source is not None:
            lines.append(f"{prefix} |  ReliableCheckpointRDD at {self._checkpoint_file} []")
            return
        for parent in self._parents:
            if isinstance(self, _ShuffleBoundary):
                lines.append(f"{prefix} +-({parent._num_partitions}) {parent._describe()}")
                parent._debug_children(lines, prefix + "   ")
            else:
                lines.append(f"{prefix} |  {parent._describe()}")
                parent._debug_children(lines, prefix)

    # ------------------------------------------------------------------ persistence
    def cache(self) -> RDD[T]:
        """Keep this RDD's partitions in worker memory once computed (``MEMORY_ONLY``).

        >>> rdd = sc.parallelize(["b", "a", "c"])
        >>> rdd.cache().is_cached
        True
        """
        return self.persist(StorageLevel.MEMORY_ONLY)

    def persist(self, storageLevel: StorageLevel = StorageLevel.MEMORY_ONLY) -> RDD[T]:
        """Keep this RDD's partitions on the workers once computed, reused by later jobs.

        >>> rdd = sc.parallelize(["b", "a", "c"])
        >>> rdd.persist().is_cached
        True
        >>> str(rdd.getStorageLevel())
        'Memory Serialized 1x Replicated'
        """
        from ._execution import MaterializedProvider
        from ._plan import materialize

        storageLevel = StorageLevel._coerce(storageLevel, "RDD.persist")
        if self._storage_level not in (StorageLevel.NONE, storageLevel):
            raise ValueError(
                "Cannot change storage level of an RDD after it was already assigned a level "
                f"({self._storage_level} to {storageLevel})"
            )
        if storageLevel == StorageLevel.NONE:
            return self.unpersist()
        self.is_cached = True
        self._storage_level = storageLevel
        if self._materialized is None:
            finisher = _disk_materialize if not storageLevel.useMemory else materialize
            self._materialized = MaterializedProvider(
                f"persist-{self.ctx.applicationId}-{self._id}",
                self._build_node,
                f"persist of {self!r}",
                finisher=finisher,
            )
            self.ctx._materialized_providers.append(self._materialized)
        return self

    def unpersist(self, blocking: bool = False) -> RDD[T]:
        """Drop the persisted partitions from the workers.

        >>> rdd = sc.parallelize(["b", "a", "c"]).cache()
        >>> rdd.unpersist().is_cached
        False
        """
        self.is_cached = False
        self._storage_level = StorageLevel.NONE
        provider, self._materialized = self._materialized, None
        if provider is not None:
            provider.release()
            try:
                self.ctx._materialized_providers.remove(provider)
            except ValueError:
                pass
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
        if self._checkpoint_source is None:
            self._checkpoint_requested = "reliable"

    def isCheckpointed(self) -> bool:
        """Whether this RDD has been checkpointed and materialized (reliably or locally)."""
        if self._checkpoint_source is not None:
            return True
        return (
            self._checkpoint_requested == "local"
            and self._materialized is not None
            and self._materialized.is_complete(self._num_partitions)
        )

    def localCheckpoint(self) -> None:
        """Persist this RDD on the workers and treat it as a lineage cut, skipping reliable storage.

        >>> rdd = sc.parallelize(range(3))
        >>> rdd.localCheckpoint()
        >>> rdd.isLocallyCheckpointed(), rdd.count(), rdd.isCheckpointed()
        (True, 3, True)
        """
        level = self._storage_level
        if level == StorageLevel.NONE:
            self.persist(StorageLevel.MEMORY_AND_DISK)
        elif not level.useDisk:
            # Like Spark: a local checkpoint must survive memory pressure, so add disk.
            self._storage_level = StorageLevel(
                True, level.useMemory, level.useOffHeap, level.deserialized, level.replication
            )
        self._checkpoint_requested = "local"

    def isLocallyCheckpointed(self) -> bool:
        """Whether :meth:`localCheckpoint` was called on this RDD."""
        return self._checkpoint_requested == "local"

    def getCheckpointFile(self) -> str | None:
        """Where this RDD was checkpointed, or ``None``."""
        return self._checkpoint_file

    def cleanShuffleDependencies(self, blocking: bool = False) -> None:
        """Release the shuffle outputs that this RDD's lineage still holds on the workers."""
        for rdd in self._lineage():
            if isinstance(rdd, _ShuffleBoundary):
                rdd._release_shuffle_output()

    # ------------------------------------------------------------------ narrow transformations
    def map(self, f: Callable[[T], U], preservesPartitioning: bool = False) -> RDD[U]:
        """Apply ``f`` to every element.

        >>> sorted(sc.parallelize(["b", "a", "c"]).map(lambda x: (x, 1)).collect())
        [('a', 1), ('b', 1), ('c', 1)]
        """
        _require_callable(f, "map")
        return self._pipe(partial(_map_partition, f), "map", f, preservesPartitioning)

    def flatMap(self, f: Callable[[T], Iterable[U]], preservesPartitioning: bool = False) -> RDD[U]:
        """Apply ``f`` to every element and flatten the results.

        >>> sorted(sc.parallelize([2, 3, 4]).flatMap(lambda x: range(1, x)).collect())
        [1, 1, 1, 2, 2, 3]
        """
        _require_callable(f, "flatMap")
        return self._pipe(partial(_flat_map_partition, f), "flatMap", f, preservesPartitioning)

    def mapPartitions(
        self, f: Callable[[Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Apply ``f`` to the iterator of each partition.

        >>> def f(iterator): yield sum(iterator)
        >>> sc.parallelize([1, 2, 3, 4], 2).mapPartitions(f).collect()
        [3, 7]
        """
        _require_callable(f, "mapPartitions")
        return self._pipe(partial(_map_partitions, f), "mapPartitions", f, preservesPartitioning)

    def mapPartitionsWithIndex(
        self, f: Callable[[int, Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Apply ``f(partition index, iterator)`` to each partition.

        >>> def f(splitIndex, iterator): yield splitIndex
        >>> sc.parallelize([1, 2, 3, 4], 4).mapPartitionsWithIndex(f).sum()
        6
        """
        _require_callable(f, "mapPartitionsWithIndex")
        return self._pipe(
            partial(_map_partitions_with_index, f),
            "mapPartitionsWithIndex",
            f,
            preservesPartitioning,
        )

    def mapPartitionsWithSplit(
        self, f: Callable[[int, Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Deprecated alias of :meth:`mapPartitionsWithIndex`."""
        warnings.warn(
            "mapPartitionsWithSplit is deprecated; use mapPartitionsWithIndex instead",
            FutureWarning,
            stacklevel=2,
        )
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

    def filter(self, f: Callable[[T], bool]) -> RDD[T]:
        """Keep the elements for which ``f`` is true.

        >>> sc.parallelize([1, 2, 3, 4, 5]).filter(lambda x: x % 2 == 0).collect()
        [2, 4]
        """
        _require_callable(f, "filter")
        return self._pipe(partial(_filter_partition, f), "filter", f, True)

    def glom(self) -> RDD[list[T]]:
        """Turn each partition into a list.

        >>> sorted(sc.parallelize([1, 2, 3, 4], 2).glom().collect())
        [[1, 2], [3, 4]]
        """
        return self._pipe(_glom_partition, "glom")

    def keyBy(self, f: Callable[[T], K]) -> RDD[tuple[K, T]]:
        """Pair every element with the key ``f(element)``.

        >>> sc.parallelize(range(3)).keyBy(lambda x: x * x).collect()
        [(0, 0), (1, 1), (4, 2)]
        """
        _require_callable(f, "keyBy")
        return self._pipe(partial(_key_by_partition, f), "keyBy", f)

    def keys(self) -> RDD[Any]:
        """The keys of a pair RDD.

        >>> sc.parallelize([(1, 2), (3, 4)]).keys().collect()
        [1, 3]
        """
        return self._pipe(_keys_partition, "keys")

    def values(self) -> RDD[Any]:
        """The values of a pair RDD.

        >>> sc.parallelize([(1, 2), (3, 4)]).values().collect()
        [2, 4]
        """
        return self._pipe(_values_partition, "values")

    def mapValues(self, f: Callable[[Any], U]) -> RDD[tuple[Any, U]]:
        """Apply ``f`` to each value of a pair RDD, keeping keys and partitioning.

        >>> rdd = sc.parallelize([("a", ["apple", "banana", "lemon"]), ("b", ["grapes"])])
        >>> sorted(rdd.mapValues(len).collect())
        [('a', 3), ('b', 1)]
        """
        _require_callable(f, "mapValues")
        return self._pipe(partial(_map_values_partition, f), "mapValues", f, True)

    def flatMapValues(self, f: Callable[[Any], Iterable[U]]) -> RDD[tuple[Any, U]]:
        """Apply ``f`` to each value and pair every result with the key, keeping partitioning.

        >>> rdd = sc.parallelize([("a", ["x", "y", "z"]), ("b", ["p", "r"])])
        >>> rdd.flatMapValues(lambda x: x).collect()
        [('a', 'x'), ('a', 'y'), ('a', 'z'), ('b', 'p'), ('b', 'r')]
        """
        _require_callable(f, "flatMapValues")
        return self._pipe(partial(_flat_map_values_partition, f), "flatMapValues", f, True)

    def union(self, other: RDD[U]) -> RDD[T | U]:
        """All elements of this RDD followed by those of ``other``.

        >>> rdd = sc.parallelize([1, 1, 2, 3])
        >>> rdd.union(rdd).collect()
        [1, 1, 2, 3, 1, 1, 2, 3]
        """
        _require_rdd(other, "union")
        return UnionRDD(self.ctx, [self, other])

    def __add__(self, other: RDD[U]) -> RDD[T | U]:
        if not isinstance(other, RDD):
            raise TypeError(
                f"unsupported operand type(s) for +: 'RDD' and '{type(other).__name__}'"
            )
        return self.union(other)

    def cartesian(self, other: RDD[U]) -> RDD[tuple[T, U]]:
        """All pairs ``(a, b)`` with ``a`` in this RDD and ``b`` in ``other``.

        >>> rdd = sc.parallelize([1, 2])
        >>> sorted(rdd.cartesian(rdd).collect())
        [(1, 1), (1, 2), (2, 1), (2, 2)]
        """
        _require_rdd(other, "cartesian")
        return CartesianRDD(self, other)

    def zip(self, other: RDD[U]) -> RDD[tuple[T, U]]:
        """Pair the i-th element of this RDD with the i-th of ``other``.

        Both RDDs need the same number of partitions and of elements in each partition.

        >>> x = sc.parallelize(range(0, 5))
        >>> y = sc.parallelize(range(1000, 1005))
        >>> x.zip(y).collect()
        [(0, 1000), (1, 1001), (2, 1002), (3, 1003), (4, 1004)]
        """
        _require_rdd(other, "zip")
        if self.getNumPartitions() != other.getNumPartitions():
            raise ValueError("Can only zip with RDD which has the same number of partitions")
        return ZippedRDD(self, other)

    def zipWithIndex(self) -> RDD[tuple[T, int]]:
        """Pair each element with its index (runs a job to count partitions first).

        >>> sc.parallelize(["a", "b", "c", "d"], 3).zipWithIndex().collect()
        [('a', 0), ('b', 1), ('c', 2), ('d', 3)]
        """
        starts = [0]
        if self.getNumPartitions() > 1:
            counts = self._run(_count_finisher, None, "zipWithIndex")
            for count in counts[:-1]:
                starts.append(starts[-1] + count)
        return self._pipe(partial(_zip_with_index_partition, starts), "zipWithIndex")

    def zipWithUniqueId(self) -> RDD[tuple[T, int]]:
        """Pair each element with a unique id: ``k, n+k, 2n+k...`` in partition ``k`` of ``n``.

        >>> sc.parallelize(["a", "b", "c", "d", "e"], 3).zipWithUniqueId().collect()
        [('a', 0), ('b', 1), ('c', 4), ('d', 2), ('e', 5)]
        """
        return self._pipe(
            partial(_zip_with_unique_id_partition, self.getNumPartitions()), "zipWithUniqueId"
        )

    def coalesce(self, numPartitions: int, shuffle: bool = False) -> RDD[T]:
        """Reduce the number of partitions; without ``shuffle``, by merging neighbours.

        >>> sc.parallelize([1, 2, 3, 4, 5], 3).glom().collect()
        [[1], [2, 3], [4, 5]]
        >>> sc.parallelize([1, 2, 3, 4, 5], 3).coalesce(1).glom().collect()
        [[1, 2, 3, 4, 5]]
        """
        if not isinstance(numPartitions, int) or isinstance(numPartitions, bool):
            raise TypeError(f"RDD.coalesce: numPartitions must be an int, got {numPartitions!r}")
        if not numPartitions > 0:
            raise ValueError("Number of partitions must be positive.")
        if shuffle:
            from .shuffle import repartition_round_robin

            return repartition_round_robin(self, numPartitions)
        return CoalescedRDD(self, numPartitions)

    def sample(self, withReplacement: bool, fraction: float, seed: int | None = None) -> RDD[T]:
        """A random sample: each element kept with probability ``fraction`` (or Poisson counts).

        >>> rdd = sc.parallelize(range(100), 4)
        >>> 6 <= rdd.sample(False, 0.1, 81).count() <= 14
        True
        """
        if not fraction >= 0:
            raise ValueError("Fraction must be nonnegative.")
        from ._sampling import BernoulliOrPoissonSampler

        sampler = BernoulliOrPoissonSampler(withReplacement, fraction, seed)
        return self._pipe(sampler.sample_partition, "sample", preserves_partitioning=True)

    def randomSplit(self, weights: Sequence[float], seed: int | None = None) -> list[RDD[T]]:
        """Split randomly into RDDs whose sizes follow ``weights``.

        >>> rdd = sc.parallelize(range(500), 1)
        >>> rdd1, rdd2 = rdd.randomSplit([2, 3], 17)
        >>> len(rdd1.collect() + rdd2.collect())
        500
        """
        from ._sampling import RangeSampler

        if not all(w >= 0 for w in weights):
            raise ValueError("Weights must be nonnegative")
        total = float(sum(weights))
        if not total > 0:
            raise ValueError("Sum of weights must be positive")
        bounds = [0.0]
        for weight in weights:
            bounds.append(bounds[-1] + weight / total)
        if seed is None:
            seed = random.randint(0, 2**32 - 1)
        return [
            self._pipe(
                RangeSampler(low, high, seed).sample_partition,
                "randomSplit",
                preserves_partitioning=True,
            )
            for low, high in zip(bounds, bounds[1:])
        ]

    def pipe(
        self, command: str, env: dict[str, str] | None = None, checkCode: bool = False
    ) -> RDD[str]:
        """Pipe each partition's elements (one per line) through an external command.

        >>> sc.parallelize(["1", "2", "", "3"]).pipe("cat").collect()
        ['1', '2', '', '3']
        """
        if not isinstance(command, str) or not command.strip():
            raise ValueError(f"RDD.pipe: command must be a non-empty string, got {command!r}")
        return self._pipe(
            partial(_pipe_partition, command, dict(env or {}), checkCode), f"pipe({command})"
        )

    # ------------------------------------------------------------------ actions
    def collect(self) -> list[T]:
        """All elements, in partition order, as a list in the driver.

        >>> sc.parallelize([1, 2, 3], 2).collect()
        [1, 2, 3]
        """
        from ._task import gc_paused

        blocks = self._run(_collect_finisher, None, "collect")
        with gc_paused():
            return list(itertools.chain.from_iterable(block.records for block in blocks))

    def collectWithJobGroup(
        self, groupId: str, description: str, interruptOnCancel: bool = False
    ) -> list[T]:
        """Deprecated: ``collect`` inside a job group."""
        warnings.warn("Deprecated in 3.1, use setJobGroup", FutureWarning, stacklevel=2)
        previous = self.ctx._thread_properties().copy()
        self.ctx.setJobGroup(groupId, description, interruptOnCancel)
        try:
            return self.collect()
        finally:
            self.ctx._thread_local.properties = previous

    def count(self) -> int:
        """The number of elements.

        >>> sc.parallelize([2, 3, 4]).count()
        3
        """
        return sum(self._run(_count_finisher, None, "count"))

    def countApprox(self, timeout: int, confidence: float = 0.95) -> int:
        """The number of elements (sparkish always computes it exactly).

        >>> sc.parallelize(range(1000), 10).countApprox(1000, 1.0)
        1000
        """
        return self.count()

    def sumApprox(self, timeout: int, confidence: float = 0.95) -> BoundedFloat:
        """The sum as a :class:`BoundedFloat` (computed exactly).

        >>> abs(sc.parallelize(range(1000), 10).sumApprox(1000) - 499500) < 1e-9
        True
        """
        total = float(self.sum())
        return BoundedFloat(total, confidence, total, total)

    def meanApprox(self, timeout: int, confidence: float = 0.95) -> BoundedFloat:
        """The mean as a :class:`BoundedFloat` (computed exactly).

        >>> abs(sc.parallelize(range(1000), 10).meanApprox(1000) - 499.5) < 1e-9
        True
        """
        mean = float(self.map(float).mean())
        return BoundedFloat(mean, confidence, mean, mean)

    def foreach(self, f: Callable[[T], None]) -> None:
        """Apply ``f`` to every element, in the tasks.

        >>> def f(x): print(x)
        >>> sc.parallelize([1, 2, 3, 4, 5]).foreach(f)
        """
        _require_callable(f, "foreach")
        self._pipe(partial(_foreach_partition, f), "foreach", f)._run(
            _count_finisher, None, "foreach"
        )

    def foreachPartition(self, f: Callable[[Iterable[T]], None]) -> None:
        """Apply ``f`` to the iterator of every partition, in the tasks.

        >>> def f(iterator):
        ...     for x in iterator:
        ...         print(x)
        >>> sc.parallelize([1, 2, 3, 4, 5]).foreachPartition(f)
        """
        _require_callable(f, "foreachPartition")
        self._pipe(partial(_foreach_partition_function, f), "foreachPartition", f)._run(
            _count_finisher, None, "foreachPartition"
        )

    def _partials(self, function, operation: str, user_function=None) -> list:
        """Run a per-partition function that returns a small list; concatenate the lists."""
        rdd = self._pipe(function, operation, user_function)
        return _unwrap(rdd._run(_opaque_list_finisher, None, operation))

    def reduce(self, f: Callable[[T, T], T]) -> T:
        """Combine the elements with the associative, commutative binary ``f``.

        >>> from operator import add
        >>> sc.parallelize([1, 2, 3, 4, 5]).reduce(add)
        15
        >>> sc.parallelize([]).reduce(add)
        Traceback (most recent call last):
            ...
        ValueError: Can not reduce() empty RDD
        """
        _require_callable(f, "reduce")
        return self._reduce_with(f, "reduce", f)

    def _reduce_with(self, f: Callable, operation: str, user_function: Callable) -> Any:
        values = self._partials(partial(_reduce_partition, f), operation, user_function)
        if values:
            return _in_driver(reduce, operation, f, values)
        raise ValueError("Can not reduce() empty RDD")

    def treeReduce(self, f: Callable[[T, T], T], depth: int = 2) -> T:
        """``reduce`` in a multi-level tree (same result; ``depth`` is accepted for API parity).

        >>> add = lambda x, y: x + y
        >>> sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10).treeReduce(add, 2)
        -5
        """
        _require_callable(f, "treeReduce")
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        try:
            return self._reduce_with(f, "treeReduce", f)
        except ValueError as error:
            if "empty" in str(error):
                raise ValueError("Cannot reduce empty RDD.") from None
            raise

    def fold(self, zeroValue: T, op: Callable[[T, T], T]) -> T:
        """Fold each partition, then the partial results, starting from ``zeroValue``.

        >>> from operator import add
        >>> sc.parallelize([1, 2, 3, 4, 5]).fold(0, add)
        15
        """
        _require_callable(op, "fold", "op")
        values = self._partials(partial(_fold_partition, zeroValue, op), "fold", op)
        return _in_driver(reduce, "fold", op, values, _copy_zero(zeroValue))

    def aggregate(self, zeroValue: U, seqOp: Callable[[U, T], U], combOp: Callable[[U, U], U]) -> U:
        """Aggregate each partition with ``seqOp`` and combine the results with ``combOp``.

        >>> seqOp = (lambda x, y: (x[0] + y, x[1] + 1))
        >>> combOp = (lambda x, y: (x[0] + y[0], x[1] + y[1]))
        >>> sc.parallelize([1, 2, 3, 4]).aggregate((0, 0), seqOp, combOp)
        (10, 4)
        >>> sc.parallelize([]).aggregate((0, 0), seqOp, combOp)
        (0, 0)
        """
        _require_callable(seqOp, "aggregate", "seqOp")
        _require_callable(combOp, "aggregate", "combOp")
        values = self._partials(partial(_fold_partition, zeroValue, seqOp), "aggregate", seqOp)
        return _in_driver(reduce, "aggregate", combOp, values, _copy_zero(zeroValue))

    def treeAggregate(
        self,
        zeroValue: U,
        seqOp: Callable[[U, T], U],
        combOp: Callable[[U, U], U],
        depth: int = 2,
    ) -> U:
        """``aggregate`` in a multi-level tree (partials are combined in the driver).

        >>> add = lambda x, y: x + y
        >>> sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10).treeAggregate(0, add, add, 2)
        -5
        """
        _require_callable(seqOp, "treeAggregate", "seqOp")
        _require_callable(combOp, "treeAggregate", "combOp")
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        if self.getNumPartitions() == 0:
            return zeroValue
        values = self._partials(partial(_fold_partition, zeroValue, seqOp), "treeAggregate", seqOp)
        return _in_driver(reduce, "treeAggregate", combOp, values)

    def max(self, key: Callable[[T], Any] | None = None) -> T:
        """The largest element (by ``key`` if given).

        >>> rdd = sc.parallelize([1.0, 5.0, 43.0, 10.0])
        >>> rdd.max()
        43.0
        >>> rdd.max(key=str)
        5.0
        """
        if key is None:
            return self._reduce_with(max, "max", max)
        _require_callable(key, "max", "key")
        return self._reduce_with(partial(_max_by, key), "max", key)

    def min(self, key: Callable[[T], Any] | None = None) -> T:
        """The smallest element (by ``key`` if given).

        >>> rdd = sc.parallelize([2.0, 5.0, 43.0, 10.0])
        >>> rdd.min()
        2.0
        >>> rdd.min(key=str)
        10.0
        """
        if key is None:
            return self._reduce_with(min, "min", min)
        _require_callable(key, "min", "key")
        return self._reduce_with(partial(_min_by, key), "min", key)

    def sum(self) -> Any:
        """The sum of the elements.

        >>> sc.parallelize([1.0, 2.0, 3.0]).sum()
        6.0
        """
        return reduce(operator.add, self._partials(_sum_partition, "sum"), 0)

    def stats(self) -> StatCounter:
        """A :class:`~sparkish.StatCounter` of the elements, computed in one pass.

        >>> sc.parallelize([1, 2, 3]).stats()
        (count: 3, mean: 2.0, stdev: 0.816496580927726, max: 3.0, min: 1.0)
        """
        from .statcounter import StatCounter

        counters = self._partials(_stats_partition, "stats")
        if not counters:
            raise ValueError("Can not reduce() empty RDD")
        result = StatCounter()
        for counter in counters:
            result.mergeStats(counter)
        return result

    def mean(self) -> float:
        """The mean of the elements.

        >>> sc.parallelize([1, 2, 3]).mean()
        2.0
        """
        return self.stats().mean()

    def variance(self) -> float:
        """The population variance of the elements.

        >>> sc.parallelize([1, 2, 3]).variance()
        0.6666666666666666
        """
        return self.stats().variance()

    def stdev(self) -> float:
        """The population standard deviation of the elements.

        >>> sc.parallelize([1, 2, 3]).stdev()
        0.816496580927726
        """
        return self.stats().stdev()

    def sampleVariance(self) -> float:
        """The sample variance (divides by n - 1).

        >>> sc.parallelize([1, 2, 3]).sampleVariance()
        1.0
        """
        return self.stats().sampleVariance()

    def sampleStdev(self) -> float:
        """The sample standard deviation (divides by n - 1).

        >>> sc.parallelize([1, 2, 3]).sampleStdev()
        1.0
        """
        return self.stats().sampleStdev()

    def histogram(self, buckets: int | list | tuple) -> tuple[Sequence, list[int]]:
        """Counts of the elements in buckets (evenly spaced when ``buckets`` is an int).

        >>> rdd = sc.parallelize(range(51))
        >>> rdd.histogram(2)
        ([0, 25, 50], [25, 26])
        >>> rdd.histogram([0, 5, 25, 50])
        ([0, 5, 25, 50], [5, 20, 26])
        """
        increment: Any = None
        if isinstance(buckets, int) and not isinstance(buckets, bool):
            if buckets < 1:
                raise ValueError("number of buckets must be >= 1")
            comparable = self.filter(_is_comparable)
            try:
                minimum, maximum = comparable.map(_pair_with_itself).reduce(_min_max)
            except ValueError as error:
                if "empty" in str(error):
                    raise ValueError("can not generate buckets from empty RDD") from None
                raise
            if minimum == maximum or buckets == 1:
                return [minimum, maximum], [comparable.count()]
            try:
                increment = (maximum - minimum) / buckets
            except TypeError:
                raise TypeError("Can not generate buckets with non-number in RDD") from None
            if math.isinf(increment):
                raise ValueError("Can not generate buckets with infinite value")
            increment = int(increment)
            if increment * buckets != maximum - minimum:
                increment = (maximum - minimum) * 1.0 / buckets
            bucket_list: list = [i * increment + minimum for i in range(buckets)]
            bucket_list.append(maximum)
            even = True
        elif isinstance(buckets, (list, tuple)):
            if len(buckets) < 2:
                raise ValueError("buckets should have more than one value")
            if any(b is None or (isinstance(b, float) and math.isnan(b)) for b in buckets):
                raise ValueError("can not have None or NaN in buckets")
            if sorted(buckets) != list(buckets):
                raise ValueError("buckets should be sorted")
            if len(set(buckets)) != len(buckets):
                raise ValueError("buckets should not contain duplicated values")
            bucket_list = buckets  # type: ignore[assignment]
            minimum, maximum = buckets[0], buckets[-1]
            even = False
            try:
                steps = [buckets[i + 1] - buckets[i] for i in range(len(buckets) - 1)]
            except TypeError:
                pass
            else:
                if max(steps) - min(steps) < 1e-10:
                    even = True
                    increment = (maximum - minimum) / (len(buckets) - 1)
        else:
            raise TypeError("buckets should be a list or tuple or number(int or long)")
        counts = self._partials(
            partial(_histogram_partition, bucket_list, minimum, maximum, even, increment),
            "histogram",
        )
        if not counts:
            raise ValueError("Can not reduce() empty RDD")
        return bucket_list, reduce(lambda a, b: [i + j for i, j in zip(a, b)], counts)

    def countByValue(self) -> dict[T, int]:
        """How many times each distinct element occurs, as a dict in the driver.

        >>> sorted(sc.parallelize([1, 2, 1, 2, 2], 2).countByValue().items())
        [(1, 2), (2, 3)]
        """
        totals: defaultdict = defaultdict(int)
        for counts in self._partials(_count_by_value_partition, "countByValue"):
            for value, count in counts.items():
                totals[value] += count
        return totals

    def countByKey(self) -> dict[Any, int]:
        """How many elements each key has, as a dict in the driver.

        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.countByKey().items())
        [('a', 2), ('b', 1)]
        """
        totals: defaultdict = defaultdict(int)
        for counts in self._partials(_count_by_key_partition, "countByKey"):
            for key, count in counts.items():
                totals[key] += count
        return totals

    def collectAsMap(self) -> dict:
        """The key/value pairs as a dict in the driver.

        >>> m = sc.parallelize([(1, 2), (3, 4)]).collectAsMap()
        >>> m[1], m[3]
        (2, 4)
        """
        return dict(self.collect())

    def reduceByKeyLocally(self, func: Callable[[V, V], V]) -> dict:
        """Merge the values of each key with ``func`` and return a dict to the driver.

        >>> from operator import add
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.reduceByKeyLocally(add).items())
        [('a', 2), ('b', 1)]
        """
        _require_callable(func, "reduceByKeyLocally", "func")
        merged: dict = {}
        partials = self._partials(
            partial(_reduce_by_key_locally_partition, func), "reduceByKeyLocally", func
        )
        for partial_map in partials:
            for k, v in partial_map.items():
                merged[k] = func(merged[k], v) if k in merged else v
        return merged

    def top(self, num: int, key: Callable[[T], Any] | None = None) -> list[T]:
        """The ``num`` largest elements, in descending order.

        >>> sc.parallelize([10, 4, 2, 12, 3]).top(1)
        [12]
        >>> sc.parallelize([2, 3, 4, 5, 6], 2).top(2)
        [6, 5]
        >>> sc.parallelize([10, 4, 2, 12, 3]).top(3, key=str)
        [4, 3, 2]
        """
        partials = self._partials(partial(_top_partition, num, key), "top", key)
        if not partials:
            raise ValueError("Can not reduce() empty RDD")
        return heapq.nlargest(num, itertools.chain.from_iterable(partials), key=key)

    def takeOrdered(self, num: int, key: Callable[[T], Any] | None = None) -> list[T]:
        """The ``num`` smallest elements (by ``key``), in ascending order.

        >>> sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6)
        [1, 2, 3, 4, 5, 6]
        >>> sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7], 2).takeOrdered(6, key=lambda x: -x)
        [10, 9, 7, 6, 5, 4]
        """
        if num < 0:
            raise ValueError("top N cannot be negative.")
        if num == 0 or self.getNumPartitions() == 0:
            return []
        partials = self._partials(partial(_smallest_partition, num, key), "takeOrdered", key)
        return heapq.nsmallest(num, itertools.chain.from_iterable(partials), key=key)

    def take(self, num: int) -> list[T]:
        """The first ``num`` elements, scanning as few partitions as possible.

        One partition is computed first, then more (up to 4 times as many each round) until
        enough elements are found, like PySpark.

        >>> sc.parallelize([2, 3, 4, 5, 6]).cache().take(2)
        [2, 3]
        >>> sc.parallelize([2, 3, 4, 5, 6]).take(10)
        [2, 3, 4, 5, 6]
        >>> sc.parallelize(range(100), 100).filter(lambda x: x > 90).take(3)
        [91, 92, 93]
        """
        scale_up = self.ctx._conf._get_int("spark.rdd.limit.scaleUpFactor", 4)
        items: list[T] = []
        total = self.getNumPartitions()
        scanned = 0
        while len(items) < num and scanned < total:
            to_try = 1
            if scanned > 0:
                if not items:
                    to_try = scanned * scale_up
                else:
                    to_try = int(1.5 * num * scanned / len(items)) - scanned
                    to_try = min(max(to_try, 1), scanned * scale_up)
            left = num - len(items)
            splits = range(scanned, min(scanned + to_try, total))
            blocks = self._run(partial(_take_finisher, left), splits, "take")
            for block in blocks:
                items.extend(block.records)
            scanned += to_try
        return items[:num]

    def first(self) -> T:
        """The first element.

        >>> sc.parallelize([2, 3, 4]).first()
        2
        >>> sc.parallelize([]).first()
        Traceback (most recent call last):
            ...
        ValueError: RDD is empty
        """
        items = self.take(1)
        if items:
            return items[0]
        raise ValueError("RDD is empty")

    def isEmpty(self) -> bool:
        """Whether the RDD has no elements (computes at most what ``take(1)`` needs).

        >>> sc.parallelize([]).isEmpty()
        True
        >>> sc.parallelize([1]).isEmpty()
        False
        """
        return self.getNumPartitions() == 0 or len(self.take(1)) == 0

    def takeSample(self, withReplacement: bool, num: int, seed: int | None = None) -> list[T]:
        """A random sample of exactly ``num`` elements (fewer if the RDD is smaller).

        >>> rdd = sc.parallelize(range(0, 10))
        >>> len(rdd.takeSample(True, 20, 1))
        20
        >>> len(rdd.takeSample(False, 5, 2))
        5
        >>> len(rdd.takeSample(False, 15, 3))
        10
        """
        from ._sampling import fraction_for_sample_size

        standard_deviations = 10.0
        max_sample_size = sys.maxsize - int(standard_deviations * math.sqrt(sys.maxsize))
        if num < 0:
            raise ValueError("Sample size cannot be negative.")
        if num > max_sample_size:
            raise ValueError(f"Sample size cannot be greater than {max_sample_size}.")
        if num == 0 or self.getNumPartitions() == 0:
            return []
        initial_count = self.count()
        if initial_count == 0:
            return []
        rand = random.Random(seed)
        if not withReplacement and num >= initial_count:
            samples = self.collect()
            rand.shuffle(samples)
            return samples
        fraction = fraction_for_sample_size(num, initial_count, withReplacement)
        samples = self.sample(withReplacement, fraction, seed).collect()
        while len(samples) < num:
            seed = rand.randint(0, sys.maxsize)
            samples = self.sample(withReplacement, fraction, seed).collect()
        rand.shuffle(samples)
        return samples[0:num]

    def toLocalIterator(self, prefetchPartitions: bool = False) -> Iterator[T]:
        """Iterate over the elements, computing one partition at a time.

        With ``prefetchPartitions`` the next partition is computed while the current one is
        consumed.

        >>> rdd = sc.parallelize(range(10))
        >>> [x for x in rdd.toLocalIterator()]
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        return iter(_LocalIterator(self, prefetchPartitions))

    def lookup(self, key: Any) -> list:
        """The values of ``key``; only the partition holding it is computed when the RDD has a
        partitioner.

        >>> l = range(1000)
        >>> rdd = sc.parallelize(zip(l, l), 10)
        >>> rdd.lookup(42)
        [42]
        >>> sorted = rdd.sortByKey()
        >>> sorted.lookup(1024)
        []
        >>> rdd2 = sc.parallelize([(('a', 'b'), 'c')]).groupByKey()
        >>> list(rdd2.lookup(('a', 'b'))[0])
        ['c']
        """
        values = self.filter(partial(_key_equals, key)).values()
        if self.partitioner is not None:
            from .shuffle import partition_of

            split = partition_of(self, key)
            return values._run(_collect_finisher, [split], "lookup")[0].records
        return values.collect()

    # ------------------------------------------------------------------ shuffles
    def _default_reduce_partitions(self) -> int:
        if self.ctx._conf.contains("spark.default.parallelism"):
            return self.ctx.defaultParallelism
        return self.getNumPartitions()

    def partitionBy(
        self, numPartitions: int | None, partitionFunc: Callable[[Any], int] | None = None
    ):
        """Hash-partition a pair RDD into ``numPartitions`` partitions.

        >>> pairs = sc.parallelize([1, 2, 3, 4, 2, 4, 1]).map(lambda x: (x, x))
        >>> sets = pairs.partitionBy(2).glom().collect()
        >>> len(set(sets[0]).intersection(set(sets[1])))
        0
        """
        from . import shuffle

        return shuffle.partition_by(self, numPartitions, partitionFunc)

    def combineByKey(
        self,
        createCombiner: Callable[[V], U],
        mergeValue: Callable[[U, V], U],
        mergeCombiners: Callable[[U, U], U],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, U]]:
        """Combine the values of each key with a combiner, merged map-side before the shuffle.

        >>> x = sc.parallelize([("a", 1), ("b", 1), ("a", 2)])
        >>> def to_list(a): return [a]
        >>> def append(a, b):
        ...     a.append(b)
        ...     return a
        >>> def extend(a, b):
        ...     a.extend(b)
        ...     return a
        >>> sorted(x.combineByKey(to_list, append, extend).collect())
        [('a', [1, 2]), ('b', [1])]
        """
        from . import shuffle

        return shuffle.combine_by_key(
            self,
            createCombiner,
            mergeValue,
            mergeCombiners,
            numPartitions,
            partitionFunc,
            "combineByKey",
        )

    def reduceByKey(
        self,
        func: Callable[[V, V], V],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, V]]:
        """Merge the values of each key with ``func`` (map-side combined, hash shuffled).

        >>> from operator import add
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.reduceByKey(add).collect())
        [('a', 2), ('b', 1)]
        """
        from . import shuffle

        return shuffle.reduce_by_key(self, func, numPartitions, partitionFunc)

    def aggregateByKey(
        self,
        zeroValue: U,
        seqFunc: Callable[[U, V], U],
        combFunc: Callable[[U, U], U],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, U]]:
        """Aggregate the values of each key from a zero value with ``seqFunc`` and ``combFunc``.

        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 2)])
        >>> seqFunc = (lambda x, y: (x[0] + y, x[1] + 1))
        >>> combFunc = (lambda x, y: (x[0] + y[0], x[1] + y[1]))
        >>> sorted(rdd.aggregateByKey((0, 0), seqFunc, combFunc).collect())
        [('a', (3, 2)), ('b', (1, 1))]
        """
        from . import shuffle

        return shuffle.aggregate_by_key(
            self, zeroValue, seqFunc, combFunc, numPartitions, partitionFunc
        )

    def foldByKey(
        self,
        zeroValue: V,
        func: Callable[[V, V], V],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, V]]:
        """Fold the values of each key from a zero value with ``func``.

        >>> from operator import add
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.foldByKey(0, add).collect())
        [('a', 2), ('b', 1)]
        """
        from . import shuffle

        return shuffle.fold_by_key(self, zeroValue, func, numPartitions, partitionFunc)

    def groupByKey(
        self, numPartitions: int | None = None, partitionFunc: Callable[[Any], int] | None = None
    ):
        """Group the values of each key into a :class:`~sparkish.ResultIterable`.

        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.groupByKey().mapValues(len).collect())
        [('a', 2), ('b', 1)]
        >>> sorted(rdd.groupByKey().mapValues(list).collect())
        [('a', [1, 1]), ('b', [1])]
        """
        from . import shuffle

        return shuffle.group_by_key(self, numPartitions, partitionFunc)

    def groupBy(
        self,
        f: Callable[[T], K],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ):
        """Group the elements by ``f(element)``.

        >>> rdd = sc.parallelize([1, 1, 2, 3, 5, 8])
        >>> result = rdd.groupBy(lambda x: x % 2).collect()
        >>> sorted([(x, sorted(y)) for (x, y) in result])
        [(0, [2, 8]), (1, [1, 1, 3, 5])]
        """
        from . import shuffle

        _require_callable(f, "groupBy")
        keyed = self._pipe(partial(_key_by_partition, f), "groupBy", f)
        return shuffle.group_by_key(keyed, numPartitions, partitionFunc, "groupBy")

    def distinct(self, numPartitions: int | None = None) -> RDD[T]:
        """The distinct elements.

        >>> sorted(sc.parallelize([1, 1, 2, 3]).distinct().collect())
        [1, 2, 3]
        """
        from . import shuffle

        return shuffle.distinct(self, numPartitions)

    def join(self, other: RDD, numPartitions: int | None = None):
        """Inner join of two pair RDDs on the key.

        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2), ("a", 3)])
        >>> sorted(x.join(y).collect())
        [('a', (1, 2)), ('a', (1, 3))]
        """
        from . import shuffle

        return shuffle.join(self, other, numPartitions, "inner")

    def leftOuterJoin(self, other: RDD, numPartitions: int | None = None):
        """Left outer join: every pair of this RDD, with ``None`` when ``other`` lacks the key.

        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> sorted(x.leftOuterJoin(y).collect())
        [('a', (1, 2)), ('b', (4, None))]
        """
        from . import shuffle

        return shuffle.join(self, other, numPartitions, "left")

    def rightOuterJoin(self, other: RDD, numPartitions: int | None = None):
        """Right outer join: every pair of ``other``, with ``None`` when this RDD lacks the key.

        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> sorted(y.rightOuterJoin(x).collect())
        [('a', (2, 1)), ('b', (None, 4))]
        """
        from . import shuffle

        return shuffle.join(self, other, numPartitions, "right")

    def fullOuterJoin(self, other: RDD, numPartitions: int | None = None):
        """Full outer join of two pair RDDs.

        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2), ("c", 8)])
        >>> sorted(x.fullOuterJoin(y).collect())
        [('a', (1, 2)), ('b', (4, None)), ('c', (None, 8))]
        """
        from . import shuffle

        return shuffle.join(self, other, numPartitions, "full")

    def cogroup(self, other: RDD, numPartitions: int | None = None):
        """For each key, the values in this RDD and in ``other``.

        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> [(x, tuple(map(list, y))) for x, y in sorted(list(x.cogroup(y).collect()))]
        [('a', ([1], [2])), ('b', ([4], []))]
        """
        from . import shuffle

        return shuffle.cogroup((self, other), numPartitions)

    def groupWith(self, other: RDD, *others: RDD):
        """``cogroup`` with any number of RDDs.

        >>> w = sc.parallelize([("a", 5), ("b", 6)])
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> z = sc.parallelize([("b", 42)])
        >>> [(x, tuple(map(list, y))) for x, y in sorted(list(w.groupWith(x, y, z).collect()))]
        [('a', ([5], [1], [2], [])), ('b', ([6], [4], [], [42]))]
        """
        from . import shuffle

        return shuffle.cogroup((self, other, *others), None)

    def sampleByKey(self, withReplacement: bool, fractions: dict, seed: int | None = None) -> RDD:
        """A sample with a different fraction for each key.

        >>> fractions = {"a": 0.2, "b": 0.1}
        >>> rdd = sc.parallelize(fractions.keys()).cartesian(sc.parallelize(range(0, 1000)))
        >>> sample = dict(rdd.sampleByKey(False, fractions, 2).groupByKey().collect())
        >>> 100 < len(sample["a"]) < 300 and 50 < len(sample["b"]) < 150
        True
        """
        from ._sampling import StratifiedSampler

        for fraction in fractions.values():
            if not fraction >= 0.0:
                raise ValueError(f"Negative fraction value: {fraction}")
        sampler = StratifiedSampler(withReplacement, fractions, seed)
        return self._pipe(sampler.sample_partition, "sampleByKey", preserves_partitioning=True)

    def subtractByKey(self, other: RDD, numPartitions: int | None = None):
        """The pairs of this RDD whose key is not in ``other``.

        >>> x = sc.parallelize([("a", 1), ("b", 4), ("b", 5), ("a", 2)])
        >>> y = sc.parallelize([("a", 3), ("c", None)])
        >>> sorted(x.subtractByKey(y).collect())
        [('b', 4), ('b', 5)]
        """
        from . import shuffle

        return shuffle.subtract_by_key(self, other, numPartitions)

    def subtract(self, other: RDD, numPartitions: int | None = None):
        """The elements of this RDD that are not in ``other``.

        >>> x = sc.parallelize([("a", 1), ("b", 4), ("b", 5), ("a", 3)])
        >>> y = sc.parallelize([("a", 3), ("c", None)])
        >>> sorted(x.subtract(y).collect())
        [('a', 1), ('b', 4), ('b', 5)]
        """
        from . import shuffle

        return shuffle.subtract(self, other, numPartitions)

    def intersection(self, other: RDD) -> RDD:
        """The distinct elements present in both RDDs.

        >>> rdd1 = sc.parallelize([1, 10, 2, 3, 4, 5])
        >>> rdd2 = sc.parallelize([1, 6, 2, 3, 7, 8])
        >>> sorted(rdd1.intersection(rdd2).collect())
        [1, 2, 3]
        """
        from . import shuffle

        return shuffle.intersection(self, other)

    def sortByKey(
        self,
        ascending: bool | None = True,
        numPartitions: int | None = None,
        keyfunc: Callable[[Any], Any] = lambda x: x,
    ) -> RDD:
        """Sort a pair RDD by key: range-partitioned from a sample, then sorted per partition.

        >>> tmp = [("a", 1), ("b", 2), ("1", 3), ("d", 4), ("2", 5)]
        >>> sc.parallelize(tmp).sortByKey().first()
        ('1', 3)
        >>> sc.parallelize(tmp).sortByKey(True, 2).collect()
        [('1', 3), ('2', 5), ('a', 1), ('b', 2), ('d', 4)]
        """
        from . import shuffle

        return shuffle.sort_by_key(self, ascending, numPartitions, keyfunc)

    def sortBy(
        self,
        keyfunc: Callable[[T], Any],
        ascending: bool = True,
        numPartitions: int | None = None,
    ) -> RDD[T]:
        """Sort the elements by ``keyfunc``.

        >>> tmp = [("a", 1), ("b", 2), ("1", 3), ("d", 4), ("2", 5)]
        >>> sc.parallelize(tmp).sortBy(lambda x: x[0]).collect()
        [('1', 3), ('2', 5), ('a', 1), ('b', 2), ('d', 4)]
        """
        _require_callable(keyfunc, "sortBy", "keyfunc")
        keyed = self._pipe(partial(_key_by_partition, keyfunc), "sortBy", keyfunc)
        return keyed.sortByKey(ascending, numPartitions).values()

    def repartitionAndSortWithinPartitions(
        self,
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
        ascending: bool = True,
        keyfunc: Callable[[Any], Any] = lambda x: x,
    ) -> RDD:
        """Hash-partition by key, then sort each partition by key.

        >>> rdd = sc.parallelize([(0, 5), (3, 8), (2, 6), (0, 8), (3, 8), (1, 3)])
        >>> rdd.repartitionAndSortWithinPartitions(2, lambda x: x % 2, True).glom().collect()
        [[(0, 5), (0, 8), (2, 6)], [(1, 3), (3, 8), (3, 8)]]
        """
        from . import shuffle

        return shuffle.repartition_and_sort(self, numPartitions, partitionFunc, ascending, keyfunc)

    def repartition(self, numPartitions: int) -> RDD[T]:
        """Redistribute the elements evenly over ``numPartitions`` partitions (a shuffle).

        >>> rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7], 4)
        >>> len(rdd.repartition(2).glom().collect())
        2
        """
        return self.coalesce(numPartitions, shuffle=True)

    def countApproxDistinct(self, relativeSD: float = 0.05) -> int:
        """An approximate number of distinct elements (HyperLogLog).

        >>> n = sc.parallelize(range(1000)).map(str).countApproxDistinct()
        >>> 900 < n < 1100
        True
        """
        from .shuffle.hyperloglog import count_approx_distinct

        return count_approx_distinct(self, relativeSD)

    # ------------------------------------------------------------------ output
    def saveAsTextFile(self, path: str, compressionCodecClass: str | None = None) -> None:
        """Write the elements as text lines, one ``part-NNNNN`` file per partition.

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "out")
        >>> sc.parallelize(range(3), 2).saveAsTextFile(path)
        >>> sorted(sc.textFile(path).collect())
        ['0', '1', '2']
        """
        from .io import _rdd_writers

        _rdd_writers.save_as_text_file(self, path, compressionCodecClass)

    def saveAsPickleFile(self, path: str, batchSize: int = 10) -> None:
        """Write the elements as pickled batches, readable with ``SparkContext.pickleFile``.

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "pickled")
        >>> sc.parallelize([1, 2, "spark", "rdd"]).saveAsPickleFile(path, 3)
        >>> sorted(sc.pickleFile(path, 3).collect(), key=str)
        [1, 2, 'rdd', 'spark']
        """
        from .io import _rdd_writers

        _rdd_writers.save_as_pickle_file(self, path, batchSize)

    def toDF(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("sparkish implements the RDD API only; it has no DataFrames")

    def toDaskBag(self):
        """This RDD as a ``dask.bag.Bag`` with one bag partition per RDD partition.

        >>> sc.parallelize(range(4), 2).toDaskBag().map(lambda x: x * 10).compute(
        ...     scheduler=sc.dask_client.get)
        [0, 10, 20, 30]
        """
        import dask.bag as db

        from ._dask_interop import rdd_partition_delayed

        return db.from_delayed(rdd_partition_delayed(self))


def _in_driver(function: Callable, operation: str, user_function: Callable, *args: Any) -> Any:
    """Run a merge of partial results in the driver; a StopIteration escaping user code there
    becomes an error instead of ending whatever iteration the caller is in."""
    try:
        return function(user_function, *args)
    except StopIteration as error:
        raise RuntimeError(
            f"Caught StopIteration thrown from user's code in RDD.{operation} (merging partial "
            f"results in the driver): {error!r}"
        ) from error


def _max_by(key, a, b):
    return max(a, b, key=key)


def _min_by(key, a, b):
    return min(a, b, key=key)


def _key_equals(key, kv):
    return kv[0] == key


def _is_comparable(x) -> bool:
    if x is None:
        return False
    if type(x) is float and math.isnan(x):
        return False
    return True


def _pair_with_itself(x):
    return (x, x)


def _min_max(a, b):
    return (min(a[0], b[0]), max(a[1], b[1]))


def _take_finisher(limit, split, iterator):
    return Block.sealed(itertools.islice(iterator, limit))


def _disk_materialize(split, iterator):
    from ._storage import DiskBlock

    return DiskBlock.write(iterator)


class _LocalIterator:
    """Iterates over an RDD's elements, one partition job at a time."""

    def __init__(self, rdd: RDD, prefetch: bool) -> None:
        self._rdd = rdd
        self._prefetch = prefetch

    def __iter__(self) -> Iterator:
        rdd = self._rdd
        total = rdd.getNumPartitions()
        if not self._prefetch:
            for split in range(total):
                yield from rdd._run(_collect_finisher, [split], "toLocalIterator")[0].records
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            pending = (
                pool.submit(rdd._run, _collect_finisher, [0], "toLocalIterator") if total else None
            )
            for split in range(total):
                block = pending.result()[0]
                pending = (
                    pool.submit(rdd._run, _collect_finisher, [split + 1], "toLocalIterator")
                    if split + 1 < total
                    else None
                )
                yield from block.records


# --------------------------------------------------------------------------- RDD kinds


class ParallelCollectionRDD(RDD[T]):
    """An RDD over a local list, sliced into partitions like PySpark slices it."""

    _operation = "parallelize"

    def __init__(self, ctx: SparkContext, data: list, num_slices: int, batch_size: int = 1) -> None:
        super().__init__(ctx, num_slices)
        from ._execution import LiteralProvider

        slices = _slice_like_pyspark(data, num_slices, batch_size)
        self._provider = LiteralProvider([_PickledSlice(dumps(part)) for part in slices])

    def _build_node(self) -> Node:
        return Source(f"parallelize-{self._id}", self._num_partitions, self._provider)


class RangeRDD(RDD[int]):
    """``parallelize(range(...))``: each task generates its own slice of the range.

    Shown as PySpark shows it, a ``PythonRDD`` over an empty ``ParallelCollectionRDD``.
    """

    _operation = "parallelize"
    _label = "PythonRDD"

    def __init__(self, ctx: SparkContext, data: range, num_slices: int) -> None:
        super().__init__(ctx, num_slices, (_EmptySlicesRDD(ctx, num_slices),))
        self._range = data

    def _build_node(self) -> Node:
        r = self._range
        return RangeSource(r.start, r.stop, r.step, self._num_partitions)


class _EmptySlicesRDD(RDD[Any]):
    _label = "ParallelCollectionRDD"
    _operation = "parallelize"

    def _build_node(self) -> Node:
        return RangeSource(0, 0, 1, self._num_partitions)


class EmptyRDD(RDD[Any]):
    """An RDD with no partitions (``SparkContext.emptyRDD``)."""

    _operation = "emptyRDD"

    def __init__(self, ctx: SparkContext) -> None:
        super().__init__(ctx, 0)

    def _build_node(self) -> Node:
        return RangeSource(0, 0, 1, 0)


def _slice_like_pyspark(data: list, num_slices: int, batch_size: int) -> list[list]:
    """Slice ``data`` as PySpark does: into batches first, then the batches into slices."""
    batches = [data[i : i + batch_size] for i in range(0, len(data), batch_size)]
    count = len(batches)
    slices = []
    for index in range(num_slices):
        start = index * count // num_slices
        end = (index + 1) * count // num_slices
        slices.append([item for batch in batches[start:end] for item in batch])
    return slices


class PipelinedRDD(RDD[U], Generic[T, U]):
    """A narrow transformation of its parent; chains of them run as one task per partition."""

    _label = "PythonRDD"  # what PySpark's lineage strings call these

    def __init__(
        self,
        prev: RDD[T],
        function: Callable[[int, Iterator], Iterable],
        operation: str,
        user_function: Callable | None,
        preserves_partitioning: bool,
    ) -> None:
        super().__init__(
            prev.ctx,
            prev.getNumPartitions(),
            (prev,),
            operation,
            prev.partitioner if preserves_partitioning else None,
        )
        self.prev = prev
        self.preservesPartitioning = preserves_partitioning
        self._step = Step(function, operation, self._callsite, self._id, user_function)

    def _build_node(self) -> Node:
        parent = self.prev._node()
        if isinstance(parent, Pipe):
            return parent.then(self._step)
        return Pipe(parent, (self._step,))


class UnionRDD(RDD[T]):
    """The partitions of several RDDs, one after the other.

    When all of them share one partitioner, partition ``i`` of the union instead chains
    partition ``i`` of each, keeping the partitioner (like Spark's partitioner-aware union).
    """

    _operation = "union"

    def __init__(self, ctx: SparkContext, rdds: list[RDD]) -> None:
        partitioner = rdds[0].partitioner
        aware = partitioner is not None and all(rdd.partitioner == partitioner for rdd in rdds)
        count = rdds[0].getNumPartitions() if aware else sum(r.getNumPartitions() for r in rdds)
        super().__init__(ctx, count, rdds, partitioner=partitioner if aware else None)
        self._aware = aware

    def _build_node(self) -> Node:
        nodes = [parent._node() for parent in self._parents]
        if self._aware:
            union = Union(nodes)
            groups = [
                [offset + split for offset in _offsets(nodes)]
                for split in range(self._num_partitions)
            ]
            return Coalesce(union, groups)
        return Union(nodes)


def _offsets(nodes: list[Node]) -> list[int]:
    offsets, total = [], 0
    for node in nodes:
        offsets.append(total)
        total += node.num_partitions
    return offsets


class CoalescedRDD(RDD[T]):
    """Fewer partitions by merging ranges of neighbouring parent partitions (no shuffle)."""

    _operation = "coalesce"

    def __init__(self, prev: RDD[T], num_partitions: int) -> None:
        parent_count = prev.getNumPartitions()
        count = min(num_partitions, parent_count)
        super().__init__(prev.ctx, count, (prev,))
        self._groups = [
            list(range(index * parent_count // count, (index + 1) * parent_count // count))
            for index in range(count)
        ]

    def _build_node(self) -> Node:
        return Coalesce(self._parents[0]._node(), self._groups)


class ZippedRDD(RDD[tuple]):
    """Element-wise pairs of two RDDs with identical partitioning."""

    _operation = "zip"

    def __init__(self, left: RDD, right: RDD) -> None:
        super().__init__(left.ctx, left.getNumPartitions(), (left, right))

    def _build_node(self) -> Node:
        left, right = self._parents
        return ZipPartitions(left._node(), right._node(), _zip_iterators)


class CartesianRDD(RDD[tuple]):
    """All pairs of elements of two RDDs."""

    _operation = "cartesian"

    def __init__(self, left: RDD, right: RDD) -> None:
        super().__init__(
            left.ctx, left.getNumPartitions() * right.getNumPartitions(), (left, right)
        )

    def _build_node(self) -> Node:
        left, right = self._parents
        return Cartesian(left._node(), right._node())


class _ShuffleBoundary:
    """Marker mix-in for RDDs whose partitions come out of a shuffle."""

    def _release_shuffle_output(self) -> None:
        raise NotImplementedError


class RDDBarrier(Generic[T]):
    """Accepted for API parity: sparkish runs barrier stages as ordinary stages."""

    def __init__(self, rdd: RDD[T]) -> None:
        self.rdd = rdd

    def mapPartitions(self, f, preservesPartitioning: bool = False) -> RDD:
        return self.rdd.mapPartitions(f, preservesPartitioning)

    def mapPartitionsWithIndex(self, f, preservesPartitioning: bool = False) -> RDD:
        return self.rdd.mapPartitionsWithIndex(f, preservesPartitioning)
