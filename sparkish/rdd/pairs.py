"""Transformations that shuffle: the key-value operations, and the others that regroup data.

Every keyed operation is one shuffle primitive, :meth:`~KeyValueOperations.partitionBy`, between
a narrow map-side step (combining values per key where the operation allows it) and a narrow
reduce-side step; those steps are in :mod:`sparkish.worker.keyed`. They fuse into the map tasks
and into the tasks that read the shuffle, so ``reduceByKey`` followed by ``collect`` is M map
tasks, one barrier and R reduce tasks. Only the sorting operations sort.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from ..partitioner import Partitioner
from ..serialization import dumps
from ..shuffle.hashing import portable_hash
from ..validation import require_callable, require_int
from ..worker import keyed, steps
from .actions import Actions
from .core import RDDCore, require_rdd
from .kinds import Coalesced, Shuffled, UnionOf

if TYPE_CHECKING:
    from ..resultiterable import ResultIterable
    from . import RDD

__all__ = ["KeyValueOperations"]

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")
V = TypeVar("V")

_JOIN_OPERATIONS = {
    "inner": "join",
    "left": "leftOuterJoin",
    "right": "rightOuterJoin",
    "full": "fullOuterJoin",
}


def _identity(x: Any) -> Any:
    return x


class KeyValueOperations(Actions[T]):
    """The transformations of :class:`~sparkish.RDD` that shuffle."""

    # ------------------------------------------------------------------ the shuffle primitive
    def _reduce_partitions(self, parent: RDDCore, numPartitions: int | None, operation: str) -> int:
        """The number of reduce partitions, as PySpark's ``_defaultReducePartitions``: the one
        given, else the default parallelism if it is configured, else the parent's number of
        partitions (0 for an RDD without partitions, such as ``sc.emptyRDD()``).

        An explicit 0 is accepted only for a parent without partitions: PySpark would silently
        drop every record of a parent that has some.
        """
        parent_count = parent.getNumPartitions()
        if numPartitions is not None:
            count = require_int(numPartitions, f"RDD.{operation}", "numPartitions", minimum=0)
            if count == 0 and parent_count > 0:
                raise ValueError(
                    f"RDD.{operation}: numPartitions must be positive for an RDD with "
                    f"partitions, got 0 (PySpark would silently drop every record)"
                )
            return count
        if self._runtime.settings.get("spark.default.parallelism") is not None:
            return self.ctx.defaultParallelism
        return parent_count

    def _shuffle(
        self,
        parent: RDDCore,
        numPartitions: int | None,
        partitionFunc: Callable[[Any], int] | None,
        operation: str,
    ) -> RDD[Any]:
        """``parent`` hash-partitioned: the shuffle primitive of every keyed operation."""
        count = self._reduce_partitions(parent, numPartitions, operation)
        function = partitionFunc if partitionFunc is not None else portable_hash
        require_callable(function, f"RDD.{operation}", "partitionFunc")
        partitioner = Partitioner(count, function)
        if parent.partitioner == partitioner:
            return parent  # type: ignore[return-value]
        spill = self._runtime.settings.get_bool("sparkish.shuffle.spillToDisk", True)
        return self._derive(Shuffled(parent, partitioner, operation, spill))

    def partitionBy(
        self, numPartitions: int | None, partitionFunc: Callable[[Any], int] | None = None
    ) -> RDD[T]:
        """Hash-partition a pair RDD into ``numPartitions`` partitions.

        Parameters
        ----------
        numPartitions : int or None
            How many partitions (``None``: the default, see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            Maps a key to an int; ``partitionFunc(key) % numPartitions`` is the key's partition
            (default: ``portable_hash``, the same in every process).

        Returns
        -------
        RDD
            The same pairs, each in its key's partition; this RDD itself if it is already
            partitioned that way.

        Examples
        --------
        >>> pairs = sc.parallelize([1, 2, 3, 4, 2, 4, 1]).map(lambda x: (x, x))
        >>> sets = pairs.partitionBy(2).glom().collect()
        >>> len(set(sets[0]).intersection(set(sets[1])))
        0
        """
        return self._shuffle(self, numPartitions, partitionFunc, "partitionBy")

    def _combined(
        self,
        map_side: Callable,
        reduce_side: Callable,
        numPartitions: int | None,
        partitionFunc: Callable | None,
        operation: str,
        user_function: Callable | None,
    ) -> RDD[Any]:
        local = self._pipe(map_side, operation, user_function, preserves_partitioning=True)
        shuffled = self._shuffle(local, numPartitions, partitionFunc, operation)
        return self._narrow(
            shuffled, reduce_side, operation, user_function, preserves_partitioning=True
        )

    # ------------------------------------------------------------------ combining by key
    def combineByKey(
        self,
        createCombiner: Callable[[V], U],
        mergeValue: Callable[[U, V], U],
        mergeCombiners: Callable[[U, U], U],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, U]]:
        """Combine the values of each key with a combiner, merged map-side before the shuffle.

        Parameters
        ----------
        createCombiner : callable
            Turns a key's first value in a partition into a combiner.
        mergeValue : callable
            Adds a value to a combiner.
        mergeCombiners : callable
            Merges two combiners of the same key (after the shuffle).
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).

        Returns
        -------
        RDD
            One ``(key, combiner)`` pair per key.

        Examples
        --------
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
        return self._combine_by_key(
            createCombiner, mergeValue, mergeCombiners, numPartitions, partitionFunc
        )

    def _combine_by_key(
        self,
        create: Callable,
        merge_value: Callable,
        merge_combiners: Callable,
        numPartitions: int | None,
        partitionFunc: Callable | None,
        operation: str = "combineByKey",
    ) -> RDD[Any]:
        require_callable(create, f"RDD.{operation}", "createCombiner")
        require_callable(merge_value, f"RDD.{operation}", "mergeValue")
        require_callable(merge_combiners, f"RDD.{operation}", "mergeCombiners")
        return self._combined(
            partial(keyed.combine_values, create, merge_value, operation),
            partial(keyed.merge_combiners, merge_combiners, operation),
            numPartitions,
            partitionFunc,
            operation,
            merge_value,
        )

    def reduceByKey(
        self,
        func: Callable[[V, V], V],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, V]]:
        """Merge the values of each key with ``func`` (map-side combined, hash shuffled).

        Parameters
        ----------
        func : callable
            Combines two values of the same key (associative and commutative).
        numPartitions : int, optional
            Partitions of the result; default ``spark.default.parallelism`` if set, else this
            RDD's number of partitions.
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).

        Returns
        -------
        RDD
            One ``(key, merged value)`` pair per key.

        Examples
        --------
        >>> from operator import add
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.reduceByKey(add).collect())
        [('a', 2), ('b', 1)]
        """
        require_callable(func, "RDD.reduceByKey", "func")
        return self._combined(
            partial(keyed.map_side_reduce, func, "reduceByKey"),
            partial(keyed.reduce_side_reduce, func, "reduceByKey"),
            numPartitions,
            partitionFunc,
            "reduceByKey",
            func,
        )

    def aggregateByKey(
        self,
        zeroValue: U,
        seqFunc: Callable[[U, V], U],
        combFunc: Callable[[U, U], U],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, U]]:
        """Aggregate the values of each key from a zero value with ``seqFunc`` and ``combFunc``.

        Parameters
        ----------
        zeroValue : object
            Each key's starting aggregate (every key gets its own copy).
        seqFunc : callable
            Adds a value to an aggregate.
        combFunc : callable
            Merges two aggregates of the same key.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).

        Returns
        -------
        RDD
            One ``(key, aggregate)`` pair per key.

        Examples
        --------
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 2)])
        >>> seqFunc = (lambda x, y: (x[0] + y, x[1] + 1))
        >>> combFunc = (lambda x, y: (x[0] + y[0], x[1] + y[1]))
        >>> sorted(rdd.aggregateByKey((0, 0), seqFunc, combFunc).collect())
        [('a', (3, 2)), ('b', (1, 1))]
        """
        create = partial(keyed.seq_from_zero, seqFunc, dumps(zeroValue))
        return self._combine_by_key(
            create, seqFunc, combFunc, numPartitions, partitionFunc, "aggregateByKey"
        )

    def foldByKey(
        self,
        zeroValue: V,
        func: Callable[[V, V], V],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[Any, V]]:
        """Fold the values of each key from a zero value with ``func``.

        Parameters
        ----------
        zeroValue : object
            The neutral element of ``func`` (every key gets its own copy).
        func : callable
            Combines two values of the same key.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).

        Returns
        -------
        RDD
            One ``(key, folded value)`` pair per key.

        Examples
        --------
        >>> from operator import add
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.foldByKey(0, add).collect())
        [('a', 2), ('b', 1)]
        """
        create = partial(keyed.seq_from_zero, func, dumps(zeroValue))
        return self._combine_by_key(create, func, func, numPartitions, partitionFunc, "foldByKey")

    # ------------------------------------------------------------------ grouping
    def groupByKey(
        self, numPartitions: int | None = None, partitionFunc: Callable[[Any], int] | None = None
    ) -> RDD[tuple[Any, ResultIterable]]:
        """Group the values of each key into a :class:`~sparkish.ResultIterable`.

        Parameters
        ----------
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).

        Returns
        -------
        RDD
            One ``(key, values)`` pair per key, values in the order of the map partitions.

        Examples
        --------
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.groupByKey().mapValues(len).collect())
        [('a', 2), ('b', 1)]
        >>> sorted(rdd.groupByKey().mapValues(list).collect())
        [('a', [1, 1]), ('b', [1])]
        """
        return self._grouped(self, numPartitions, partitionFunc, "groupByKey")

    def _grouped(
        self,
        parent: RDDCore,
        numPartitions: int | None,
        partitionFunc: Callable | None,
        operation: str,
    ) -> RDD[Any]:
        """``parent``'s pairs grouped by key after a shuffle."""
        shuffled = self._shuffle(parent, numPartitions, partitionFunc, operation)
        return self._narrow(shuffled, keyed.group_pairs, operation, preserves_partitioning=True)

    def groupBy(
        self,
        f: Callable[[T], K],
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
    ) -> RDD[tuple[K, ResultIterable]]:
        """Group the elements by ``f(element)``.

        Parameters
        ----------
        f : callable
            Computes the key an element is grouped by.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).

        Returns
        -------
        RDD
            One ``(key, elements)`` pair per key.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 1, 2, 3, 5, 8])
        >>> result = rdd.groupBy(lambda x: x % 2).collect()
        >>> sorted([(x, sorted(y)) for (x, y) in result])
        [(0, [2, 8]), (1, [1, 1, 3, 5])]
        """
        require_callable(f, "RDD.groupBy")
        keyed_rdd = self._pipe(partial(steps.key_by_partition, f), "groupBy", f)
        return self._grouped(keyed_rdd, numPartitions, partitionFunc, "groupBy")

    def distinct(self, numPartitions: int | None = None) -> RDD[T]:
        """The distinct elements.

        Parameters
        ----------
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD

        Examples
        --------
        >>> sorted(sc.parallelize([1, 1, 2, 3]).distinct().collect())
        [1, 2, 3]
        """
        local = self._pipe(keyed.distinct_locally, "distinct")
        shuffled = self._shuffle(local, numPartitions, None, "distinct")
        return self._narrow(shuffled, keyed.distinct_merge, "distinct")

    # ------------------------------------------------------------------ cogroup and joins
    def _tagged_groups(
        self, rdds: Sequence[RDDCore], numPartitions: int | None, operation: str
    ) -> RDD[Any]:
        """``(key, [(tag, value), ...])`` groups over several pair RDDs (tag = position).

        As in PySpark, the groups are always hash-partitioned with ``portable_hash``: inputs
        that share that partitioner (with ``numPartitions`` unset or equal) are grouped without
        a shuffle, inputs sharing any other partitioner are shuffled.
        """
        for rdd in rdds:
            require_rdd(rdd, operation)
        tagged = [
            self._narrow(
                rdd, partial(keyed.tag_values, tag), operation, preserves_partitioning=True
            )
            for tag, rdd in enumerate(rdds)
        ]
        union = self._derive(UnionOf(tagged))
        return self._grouped(union, numPartitions, None, operation)

    def cogroup(
        self, other: RDDCore, numPartitions: int | None = None
    ) -> RDD[tuple[Any, tuple[ResultIterable, ResultIterable]]]:
        """For each key, the values in this RDD and in ``other``.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD
            ``(key, (values here, values in other))`` for every key of either.

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> [(x, tuple(map(list, y))) for x, y in sorted(list(x.cogroup(y).collect()))]
        [('a', ([1], [2])), ('b', ([4], []))]
        """
        return self._cogroup([other], numPartitions)

    def groupWith(self, other: RDDCore, *others: RDDCore) -> RDD[tuple[Any, tuple]]:
        """``cogroup`` with any number of RDDs.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        *others : RDD
            More pair RDDs.

        Returns
        -------
        RDD
            ``(key, (values here, values in other, ...))`` for every key of any of them.

        Examples
        --------
        >>> w = sc.parallelize([("a", 5), ("b", 6)])
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> z = sc.parallelize([("b", 42)])
        >>> [(x, tuple(map(list, y))) for x, y in sorted(list(w.groupWith(x, y, z).collect()))]
        [('a', ([5], [1], [2], [])), ('b', ([6], [4], [], [42]))]
        """
        return self._cogroup([other, *others], None)

    def _cogroup(self, others: Sequence[RDDCore], numPartitions: int | None) -> RDD[Any]:
        grouped = self._tagged_groups([self, *others], numPartitions, "cogroup")
        values = partial(keyed.cogroup_values, len(others) + 1)
        return self._narrow(grouped, values, "cogroup", preserves_partitioning=True)

    def _join(self, other: RDDCore, numPartitions: int | None, how: str) -> RDD[Any]:
        operation = _JOIN_OPERATIONS[how]
        grouped = self._tagged_groups([self, other], numPartitions, operation)
        values = partial(keyed.join_values, how)
        return self._narrow(grouped, values, operation, preserves_partitioning=True)

    def join(self, other: RDDCore, numPartitions: int | None = None) -> RDD[tuple[Any, tuple]]:
        """Inner join of two pair RDDs on the key.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD
            ``(key, (v, w))`` for every pair of values of a key present in both.

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2), ("a", 3)])
        >>> sorted(x.join(y).collect())
        [('a', (1, 2)), ('a', (1, 3))]
        """
        return self._join(other, numPartitions, "inner")

    def leftOuterJoin(
        self, other: RDDCore, numPartitions: int | None = None
    ) -> RDD[tuple[Any, tuple]]:
        """Left outer join: every pair of this RDD, with ``None`` when ``other`` lacks the key.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD
            ``(key, (v, w or None))`` pairs.

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> sorted(x.leftOuterJoin(y).collect())
        [('a', (1, 2)), ('b', (4, None))]
        """
        return self._join(other, numPartitions, "left")

    def rightOuterJoin(
        self, other: RDDCore, numPartitions: int | None = None
    ) -> RDD[tuple[Any, tuple]]:
        """Right outer join: every pair of ``other``, with ``None`` when this RDD lacks the key.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD
            ``(key, (v or None, w))`` pairs.

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2)])
        >>> sorted(y.rightOuterJoin(x).collect())
        [('a', (2, 1)), ('b', (None, 4))]
        """
        return self._join(other, numPartitions, "right")

    def fullOuterJoin(
        self, other: RDDCore, numPartitions: int | None = None
    ) -> RDD[tuple[Any, tuple]]:
        """Full outer join of two pair RDDs.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD
            ``(key, (v or None, w or None))`` for every key of either.

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4)])
        >>> y = sc.parallelize([("a", 2), ("c", 8)])
        >>> sorted(x.fullOuterJoin(y).collect())
        [('a', (1, 2)), ('b', (4, None)), ('c', (None, 8))]
        """
        return self._join(other, numPartitions, "full")

    def subtractByKey(self, other: RDDCore, numPartitions: int | None = None) -> RDD[T]:
        """The pairs of this RDD whose key is not in ``other``.

        Parameters
        ----------
        other : RDD
            A pair RDD.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4), ("b", 5), ("a", 2)])
        >>> y = sc.parallelize([("a", 3), ("c", None)])
        >>> sorted(x.subtractByKey(y).collect())
        [('b', 4), ('b', 5)]
        """
        return self._left_only(self, other, numPartitions, "subtractByKey")

    def _left_only(
        self, left: RDDCore, right: RDDCore, numPartitions: int | None, operation: str
    ) -> RDD[Any]:
        """The pairs of ``left`` whose key is not in ``right``."""
        grouped = self._tagged_groups([left, right], numPartitions, operation)
        return self._narrow(grouped, keyed.left_only, operation, preserves_partitioning=True)

    def subtract(self, other: RDDCore, numPartitions: int | None = None) -> RDD[T]:
        """The elements of this RDD that are not in ``other``.

        Parameters
        ----------
        other : RDD
            The elements to remove.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD
            Duplicates of a kept element are all kept.

        Examples
        --------
        >>> x = sc.parallelize([("a", 1), ("b", 4), ("b", 5), ("a", 3)])
        >>> y = sc.parallelize([("a", 3), ("c", None)])
        >>> sorted(x.subtract(y).collect())
        [('a', 1), ('b', 4), ('b', 5)]
        """
        require_rdd(other, "subtract")
        left = self._pipe(keyed.pair_with_true, "subtract")
        right = self._narrow(other, keyed.pair_with_true, "subtract")
        return self._left_only(left, right, numPartitions, "subtract").keys()

    def intersection(self, other: RDDCore) -> RDD[T]:
        """The distinct elements present in both RDDs.

        Parameters
        ----------
        other : RDD
            The other RDD.

        Returns
        -------
        RDD

        Examples
        --------
        >>> rdd1 = sc.parallelize([1, 10, 2, 3, 4, 5])
        >>> rdd2 = sc.parallelize([1, 6, 2, 3, 7, 8])
        >>> sorted(rdd1.intersection(rdd2).collect())
        [1, 2, 3]
        """
        require_rdd(other, "intersection")
        left = self._pipe(keyed.pair_with_none, "intersection")
        right = self._narrow(other, keyed.pair_with_none, "intersection")
        grouped = self._tagged_groups([left, right], None, "intersection")
        return self._narrow(grouped, keyed.in_both, "intersection")

    # ------------------------------------------------------------------ sorting
    def sortByKey(
        self,
        ascending: bool | None = True,
        numPartitions: int | None = None,
        keyfunc: Callable[[Any], Any] = _identity,
    ) -> RDD[T]:
        """Sort a pair RDD by key: range-partitioned from a sample, then sorted per partition.

        The ranges are PySpark's, so every record lands in the same partition: a sample of
        about 20 keys per partition (``sample(False, fraction, 1)``), sorted by ``keyfunc``;
        the bounds are the sampled keys at evenly spaced positions, and a key goes to the
        range where ``bisect_left(bounds, keyfunc(key))`` puts it. As in PySpark the bounds
        are keys, not ``keyfunc`` of keys, so a ``keyfunc`` whose values do not compare with
        the keys fails with a ``TypeError``.

        Parameters
        ----------
        ascending : bool
            Sort order (any false value, ``None`` included, sorts in descending order, as in
            PySpark).
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        keyfunc : callable
            Maps a key to the value it is sorted by.

        Returns
        -------
        RDD
            Partition ``i`` holds keys no greater than those of partition ``i + 1``
            (no smaller, in descending order).

        Examples
        --------
        >>> tmp = [("a", 1), ("b", 2), ("1", 3), ("d", 4), ("2", 5)]
        >>> sc.parallelize(tmp).sortByKey().first()
        ('1', 3)
        >>> sc.parallelize(tmp).sortByKey(True, 2).collect()
        [('1', 3), ('2', 5), ('a', 1), ('b', 2), ('d', 4)]
        """
        count = self._reduce_partitions(self, numPartitions, "sortByKey")
        ascending = bool(ascending)
        sort_step = partial(keyed.sort_partition, keyfunc, ascending)
        if count == 1:
            single = self.coalesce(1) if self.getNumPartitions() > 1 else self
            return self._narrow(
                single, sort_step, "sortByKey", keyfunc, preserves_partitioning=True
            )
        size = self.count()
        if not size:
            return self  # type: ignore[return-value]
        fraction = min(count * 20.0 / max(size, 1), 1.0)
        samples = sorted(
            self.sample(False, fraction, 1).map(keyed.first_of_pair).collect(), key=keyfunc
        )
        bounds = [samples[int(len(samples) * (i + 1) / count)] for i in range(count - 1)]
        function = keyed.RangePartitionFunction(bounds, keyfunc, ascending, count)
        shuffled = self._shuffle(self, count, function, "sortByKey")
        return self._narrow(shuffled, sort_step, "sortByKey", keyfunc, preserves_partitioning=True)

    def sortBy(
        self,
        keyfunc: Callable[[T], Any],
        ascending: bool = True,
        numPartitions: int | None = None,
    ) -> RDD[T]:
        """Sort the elements by ``keyfunc``.

        Parameters
        ----------
        keyfunc : callable
            Computes the value an element is sorted by.
        ascending : bool
            Sort order.
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).

        Returns
        -------
        RDD

        Examples
        --------
        >>> tmp = [("a", 1), ("b", 2), ("1", 3), ("d", 4), ("2", 5)]
        >>> sc.parallelize(tmp).sortBy(lambda x: x[0]).collect()
        [('1', 3), ('2', 5), ('a', 1), ('b', 2), ('d', 4)]
        """
        require_callable(keyfunc, "RDD.sortBy", "keyfunc")
        keyed_rdd = self._pipe(partial(steps.key_by_partition, keyfunc), "sortBy", keyfunc)
        return keyed_rdd.sortByKey(ascending, numPartitions).values()

    def repartitionAndSortWithinPartitions(
        self,
        numPartitions: int | None = None,
        partitionFunc: Callable[[Any], int] | None = None,
        ascending: bool = True,
        keyfunc: Callable[[Any], Any] = _identity,
    ) -> RDD[T]:
        """Hash-partition by key, then sort each partition by key.

        Parameters
        ----------
        numPartitions : int, optional
            Partitions of the result (default: see :meth:`reduceByKey`).
        partitionFunc : callable, optional
            How keys are assigned to partitions (default ``portable_hash``).
        ascending : bool
            Sort order within each partition.
        keyfunc : callable
            Maps a key to the value it is sorted by.

        Returns
        -------
        RDD

        Examples
        --------
        >>> rdd = sc.parallelize([(0, 5), (3, 8), (2, 6), (0, 8), (3, 8), (1, 3)])
        >>> rdd.repartitionAndSortWithinPartitions(2, lambda x: x % 2, True).glom().collect()
        [[(0, 5), (0, 8), (2, 6)], [(1, 3), (3, 8), (3, 8)]]
        """
        operation = "repartitionAndSortWithinPartitions"
        shuffled = self._shuffle(self, numPartitions, partitionFunc, operation)
        sort_step = partial(keyed.sort_partition, keyfunc, ascending)
        return self._narrow(shuffled, sort_step, operation, keyfunc, preserves_partitioning=True)

    # ------------------------------------------------------------------ repartitioning
    def repartition(self, numPartitions: int) -> RDD[T]:
        """Redistribute the elements evenly over ``numPartitions`` partitions (a shuffle).

        Parameters
        ----------
        numPartitions : int
            Partitions of the result.

        Returns
        -------
        RDD

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2, 3, 4, 5, 6, 7], 4)
        >>> len(rdd.repartition(2).glom().collect())
        2
        """
        return self.coalesce(numPartitions, shuffle=True)

    def coalesce(self, numPartitions: int, shuffle: bool = False) -> RDD[T]:
        """Reduce the number of partitions; without ``shuffle``, by merging neighbours.

        Parameters
        ----------
        numPartitions : int
            Partitions of the result (without ``shuffle``, at most the current number).
        shuffle : bool
            Spread the elements evenly over the new partitions through a shuffle.

        Returns
        -------
        RDD

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4, 5], 3).glom().collect()
        [[1], [2, 3], [4, 5]]
        >>> sc.parallelize([1, 2, 3, 4, 5], 3).coalesce(1).glom().collect()
        [[1, 2, 3, 4, 5]]
        """
        if isinstance(numPartitions, bool) or not isinstance(numPartitions, int):
            raise TypeError(f"RDD.coalesce: numPartitions must be an int, got {numPartitions!r}")
        if numPartitions < 1:
            raise ValueError("Number of partitions must be positive.")
        if not shuffle:
            return self._derive(Coalesced(self, numPartitions))
        spread = self._pipe(partial(keyed.round_robin_keys, numPartitions), "repartition")
        shuffled = self._shuffle(spread, numPartitions, keyed.identity_partition, "repartition")
        return shuffled.values()
