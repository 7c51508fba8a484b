"""Narrow transformations: each output partition depends on one partition of each parent.

They build lineage and run nothing. A chain of them fuses into one per-partition pipeline, so
an action over ten chained ``map``/``filter`` steps still runs one task per partition; what each
step does to a partition is in :mod:`sparkish.worker.steps`.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from ..validation import require_callable
from ..worker import steps
from ..worker.finishers import count_finisher
from ..worker.sampling import BernoulliOrPoissonSampler, RangeSampler, StratifiedSampler
from .barrier import RDDBarrier
from .core import RDDCore, require_rdd
from .kinds import CartesianProduct, UnionOf, Zipped

if TYPE_CHECKING:
    from . import RDD

__all__ = ["NarrowTransformations"]

T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K")


class NarrowTransformations(RDDCore[T]):
    """The narrow transformations of :class:`~sparkish.RDD`."""

    def map(self, f: Callable[[T], U], preservesPartitioning: bool = False) -> RDD[U]:
        """Apply ``f`` to every element.

        Parameters
        ----------
        f : callable
            Called with each element; its result is the new element.
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD, so its partitioner still holds.

        Returns
        -------
        RDD
            The transformed elements.

        Examples
        --------
        >>> sorted(sc.parallelize(["b", "a", "c"]).map(lambda x: (x, 1)).collect())
        [('a', 1), ('b', 1), ('c', 1)]
        """
        require_callable(f, "RDD.map")
        return self._pipe(partial(steps.map_partition, f), "map", f, preservesPartitioning)

    def flatMap(self, f: Callable[[T], Iterable[U]], preservesPartitioning: bool = False) -> RDD[U]:
        """Apply ``f`` to every element and flatten the results.

        Parameters
        ----------
        f : callable
            Called with each element; returns an iterable of new elements.
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD, so its partitioner still holds.

        Returns
        -------
        RDD
            The concatenated results.

        Examples
        --------
        >>> sorted(sc.parallelize([2, 3, 4]).flatMap(lambda x: range(1, x)).collect())
        [1, 1, 1, 2, 2, 3]
        """
        require_callable(f, "RDD.flatMap")
        return self._pipe(partial(steps.flat_map_partition, f), "flatMap", f, preservesPartitioning)

    def mapPartitions(
        self, f: Callable[[Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Apply ``f`` to the iterator of each partition.

        Parameters
        ----------
        f : callable
            Called once per partition with an iterator of its elements; returns an iterable
            of new elements (``None`` counts as none).
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD, so its partitioner still holds.

        Returns
        -------
        RDD
            The elements ``f`` returned for every partition.

        Examples
        --------
        >>> def f(iterator): yield sum(iterator)
        >>> sc.parallelize([1, 2, 3, 4], 2).mapPartitions(f).collect()
        [3, 7]
        """
        require_callable(f, "RDD.mapPartitions")
        return self._pipe(
            partial(steps.map_partitions, f), "mapPartitions", f, preservesPartitioning
        )

    def mapPartitionsWithIndex(
        self, f: Callable[[int, Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Apply ``f(partition index, iterator)`` to each partition.

        Parameters
        ----------
        f : callable
            Called once per partition with its index and an iterator of its elements.
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD, so its partitioner still holds.

        Returns
        -------
        RDD
            The elements ``f`` returned for every partition.

        Examples
        --------
        >>> def f(splitIndex, iterator): yield splitIndex
        >>> sc.parallelize([1, 2, 3, 4], 4).mapPartitionsWithIndex(f).sum()
        6
        """
        require_callable(f, "RDD.mapPartitionsWithIndex")
        return self._pipe(
            partial(steps.map_partitions_with_index, f),
            "mapPartitionsWithIndex",
            f,
            preservesPartitioning,
        )

    def mapPartitionsWithSplit(
        self, f: Callable[[int, Iterable[T]], Iterable[U]], preservesPartitioning: bool = False
    ) -> RDD[U]:
        """Deprecated alias of :meth:`mapPartitionsWithIndex`.

        Parameters
        ----------
        f : callable
            Called once per partition with its index and an iterator of its elements.
        preservesPartitioning : bool
            Whether ``f`` keeps the keys of a pair RDD, so its partitioner still holds.

        Returns
        -------
        RDD
            The elements ``f`` returned for every partition.
        """
        warnings.warn(
            "mapPartitionsWithSplit is deprecated; use mapPartitionsWithIndex instead",
            FutureWarning,
            stacklevel=2,
        )
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

    def barrier(self) -> RDDBarrier[T]:
        """Run the next transformation in a barrier stage, where all tasks run together.

        Returns
        -------
        RDDBarrier
            Offers ``mapPartitions`` and ``mapPartitionsWithIndex``.
        """
        return RDDBarrier(self, partial(self._pipe, barrier=True))  # type: ignore[arg-type]

    def filter(self, f: Callable[[T], bool]) -> RDD[T]:
        """Keep the elements for which ``f`` is true.

        Parameters
        ----------
        f : callable
            Called with each element; a true result keeps it.

        Returns
        -------
        RDD
            The elements kept, in their order.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4, 5]).filter(lambda x: x % 2 == 0).collect()
        [2, 4]
        """
        require_callable(f, "RDD.filter")
        return self._pipe(partial(steps.filter_partition, f), "filter", f, True)

    def glom(self) -> RDD[list[T]]:
        """Turn each partition into a list.

        Returns
        -------
        RDD
            One list per partition.

        Examples
        --------
        >>> sorted(sc.parallelize([1, 2, 3, 4], 2).glom().collect())
        [[1, 2], [3, 4]]
        """
        return self._pipe(steps.glom_partition, "glom")

    def keyBy(self, f: Callable[[T], K]) -> RDD[tuple[K, T]]:
        """Pair every element with the key ``f(element)``.

        Parameters
        ----------
        f : callable
            Computes the key of an element.

        Returns
        -------
        RDD
            ``(key, element)`` pairs.

        Examples
        --------
        >>> sc.parallelize(range(3)).keyBy(lambda x: x * x).collect()
        [(0, 0), (1, 1), (4, 2)]
        """
        require_callable(f, "RDD.keyBy")
        return self._pipe(partial(steps.key_by_partition, f), "keyBy", f)

    def keys(self) -> RDD[Any]:
        """The keys of a pair RDD.

        Returns
        -------
        RDD
            The first item of every pair.

        Examples
        --------
        >>> sc.parallelize([(1, 2), (3, 4)]).keys().collect()
        [1, 3]
        """
        return self._pipe(steps.keys_partition, "keys")

    def values(self) -> RDD[Any]:
        """The values of a pair RDD.

        Returns
        -------
        RDD
            The second item of every pair.

        Examples
        --------
        >>> sc.parallelize([(1, 2), (3, 4)]).values().collect()
        [2, 4]
        """
        return self._pipe(steps.values_partition, "values")

    def mapValues(self, f: Callable[[Any], U]) -> RDD[tuple[Any, U]]:
        """Apply ``f`` to each value of a pair RDD, keeping keys and partitioning.

        Parameters
        ----------
        f : callable
            Called with each value; its result is the new value.

        Returns
        -------
        RDD
            ``(key, f(value))`` pairs, partitioned like this RDD.

        Examples
        --------
        >>> rdd = sc.parallelize([("a", ["apple", "banana", "lemon"]), ("b", ["grapes"])])
        >>> sorted(rdd.mapValues(len).collect())
        [('a', 3), ('b', 1)]
        """
        require_callable(f, "RDD.mapValues")
        return self._pipe(partial(steps.map_values_partition, f), "mapValues", f, True)

    def flatMapValues(self, f: Callable[[Any], Iterable[U]]) -> RDD[tuple[Any, U]]:
        """Apply ``f`` to each value and pair every result with the key, keeping partitioning.

        Parameters
        ----------
        f : callable
            Called with each value; returns an iterable of new values.

        Returns
        -------
        RDD
            One ``(key, new value)`` pair per result, partitioned like this RDD.

        Examples
        --------
        >>> rdd = sc.parallelize([("a", ["x", "y", "z"]), ("b", ["p", "r"])])
        >>> rdd.flatMapValues(lambda x: x).collect()
        [('a', 'x'), ('a', 'y'), ('a', 'z'), ('b', 'p'), ('b', 'r')]
        """
        require_callable(f, "RDD.flatMapValues")
        return self._pipe(partial(steps.flat_map_values_partition, f), "flatMapValues", f, True)

    def union(self, other: RDDCore[U]) -> RDD[T | U]:
        """All elements of this RDD followed by those of ``other``.

        Parameters
        ----------
        other : RDD
            The RDD whose partitions follow this one's.

        Returns
        -------
        RDD
            Duplicates are kept. When both RDDs have the same partitioner, partition ``i``
            of the result holds partition ``i`` of each and the partitioner is kept.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 1, 2, 3])
        >>> rdd.union(rdd).collect()
        [1, 1, 2, 3, 1, 1, 2, 3]
        """
        require_rdd(other, "union")
        return self._derive(UnionOf([self, other]))

    def __add__(self, other: RDDCore[U]) -> RDD[T | U]:
        if not isinstance(other, RDDCore):
            raise TypeError(
                f"unsupported operand type(s) for +: 'RDD' and '{type(other).__name__}'"
            )
        return self.union(other)

    def cartesian(self, other: RDDCore[U]) -> RDD[tuple[T, U]]:
        """All pairs ``(a, b)`` with ``a`` in this RDD and ``b`` in ``other``.

        Parameters
        ----------
        other : RDD
            The second factor.

        Returns
        -------
        RDD
            One partition per pair of partitions of the two RDDs.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2])
        >>> sorted(rdd.cartesian(rdd).collect())
        [(1, 1), (1, 2), (2, 1), (2, 2)]
        """
        require_rdd(other, "cartesian")
        return self._derive(CartesianProduct(self, other))

    def zip(self, other: RDDCore[U]) -> RDD[tuple[T, U]]:
        """Pair the i-th element of this RDD with the i-th of ``other``.

        Parameters
        ----------
        other : RDD
            An RDD with the same number of partitions and of elements in each partition.

        Returns
        -------
        RDD
            ``(element of this RDD, element of other)`` pairs.

        Examples
        --------
        >>> x = sc.parallelize(range(0, 5))
        >>> y = sc.parallelize(range(1000, 1005))
        >>> x.zip(y).collect()
        [(0, 1000), (1, 1001), (2, 1002), (3, 1003), (4, 1004)]
        """
        require_rdd(other, "zip")
        if self.getNumPartitions() != other.getNumPartitions():
            raise ValueError("Can only zip with RDD which has the same number of partitions")
        return self._derive(Zipped(self, other))

    def zipWithIndex(self) -> RDD[tuple[T, int]]:
        """Pair each element with its index (runs a job to count partitions first).

        Returns
        -------
        RDD
            ``(element, index)`` pairs, indexes counting from 0 in partition order.

        Examples
        --------
        >>> sc.parallelize(["a", "b", "c", "d"], 3).zipWithIndex().collect()
        [('a', 0), ('b', 1), ('c', 2), ('d', 3)]
        """
        starts = [0]
        if self.getNumPartitions() > 1:
            counts = self._run(count_finisher, None, "zipWithIndex")
            for count in counts[:-1]:
                starts.append(starts[-1] + count)
        return self._pipe(partial(steps.zip_with_index_partition, starts), "zipWithIndex")

    def zipWithUniqueId(self) -> RDD[tuple[T, int]]:
        """Pair each element with a unique id: ``k, n+k, 2n+k...`` in partition ``k`` of ``n``.

        Returns
        -------
        RDD
            ``(element, id)`` pairs; unlike :meth:`zipWithIndex`, no job runs.

        Examples
        --------
        >>> sc.parallelize(["a", "b", "c", "d", "e"], 3).zipWithUniqueId().collect()
        [('a', 0), ('b', 1), ('c', 4), ('d', 2), ('e', 5)]
        """
        return self._pipe(
            partial(steps.zip_with_unique_id_partition, self.getNumPartitions()),
            "zipWithUniqueId",
        )

    def sample(self, withReplacement: bool, fraction: float, seed: int | None = None) -> RDD[T]:
        """A random sample: each element kept with probability ``fraction`` (or Poisson counts).

        Parameters
        ----------
        withReplacement : bool
            Whether an element can be drawn more than once.
        fraction : float
            Without replacement, the probability of keeping each element; with replacement,
            the expected number of times each element is drawn.
        seed : int, optional
            Makes the sample reproducible (the same as PySpark's for the same seed).

        Returns
        -------
        RDD
            The sampled elements.

        Examples
        --------
        >>> rdd = sc.parallelize(range(100), 4)
        >>> 6 <= rdd.sample(False, 0.1, 81).count() <= 14
        True
        """
        if not fraction >= 0:
            raise ValueError("Fraction must be nonnegative.")
        sampler = BernoulliOrPoissonSampler(withReplacement, fraction, seed)
        return self._pipe(sampler.sample_partition, "sample", preserves_partitioning=True)

    def randomSplit(self, weights: Sequence[float], seed: int | None = None) -> list[RDD[T]]:
        """Split randomly into RDDs whose sizes follow ``weights``.

        Parameters
        ----------
        weights : sequence of float
            Relative sizes of the parts (normalized to sum to 1).
        seed : int, optional
            Makes the split reproducible.

        Returns
        -------
        list of RDD
            Disjoint parts that together hold every element.

        Examples
        --------
        >>> rdd = sc.parallelize(range(500), 1)
        >>> rdd1, rdd2 = rdd.randomSplit([2, 3], 17)
        >>> len(rdd1.collect() + rdd2.collect())
        500
        """
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

    def sampleByKey(
        self, withReplacement: bool, fractions: dict, seed: int | None = None
    ) -> RDD[T]:
        """A sample of a pair RDD with a different fraction for each key.

        Parameters
        ----------
        withReplacement : bool
            Whether a pair can be drawn more than once.
        fractions : dict
            The sampling fraction of each key (every key must be present).
        seed : int, optional
            Makes the sample reproducible.

        Returns
        -------
        RDD
            The sampled pairs.

        Examples
        --------
        >>> fractions = {"a": 0.2, "b": 0.1}
        >>> rdd = sc.parallelize(fractions.keys()).cartesian(sc.parallelize(range(0, 1000)))
        >>> sample = dict(rdd.sampleByKey(False, fractions, 2).groupByKey().collect())
        >>> 100 < len(sample["a"]) < 300 and 50 < len(sample["b"]) < 150
        True
        """
        for fraction in fractions.values():
            if not fraction >= 0.0:
                raise ValueError(f"Negative fraction value: {fraction}")
        sampler = StratifiedSampler(withReplacement, fractions, seed)
        return self._pipe(sampler.sample_partition, "sampleByKey", preserves_partitioning=True)

    def pipe(
        self, command: str, env: dict[str, str] | None = None, checkCode: bool = False
    ) -> RDD[str]:
        """Pipe each partition's elements (one per line) through an external command.

        Parameters
        ----------
        command : str
            The command line, split like a shell would (no shell runs it).
        env : dict, optional
            The command's environment variables (none by default, as in PySpark).
        checkCode : bool
            Whether a non-zero exit status fails the task.

        Returns
        -------
        RDD
            The command's output lines, without their line ends.

        Examples
        --------
        >>> sc.parallelize(["1", "2", "", "3"]).pipe("cat").collect()
        ['1', '2', '', '3']
        """
        if not isinstance(command, str) or not command.strip():
            raise ValueError(f"RDD.pipe: command must be a non-empty string, got {command!r}")
        return self._pipe(
            partial(steps.pipe_partition, command, dict(env or {}), checkCode),
            f"pipe({command})",
        )
