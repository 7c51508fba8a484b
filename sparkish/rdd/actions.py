"""Actions: run a job and bring a result to the driver (or write it out).

Most actions compute a small partial result in every partition (:mod:`sparkish.worker.partials`)
and merge the partials here, in the driver. ``take`` and ``first`` compute as few partitions as
they need; ``toLocalIterator`` one partition at a time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import operator
import random
import sys
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial, reduce
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import EmptyRDDError
from ..io.writers import OutputCommitter, WriteJobSpec
from ..shuffle.hashing import is_portable_key_type, portable_hash, use_key_hashing
from ..statcounter import StatCounter
from ..validation import require_callable, require_int
from ..worker import partials
from ..worker.finishers import collect_finisher, count_finisher, take_finisher, write_finisher
from ..worker.hyperloglog import Sketch, sketch_partition
from ..worker.keyed import partition_on_worker, unhashable_key_error
from ..worker.sampling import fraction_for_sample_size
from ..worker.steps import key_equals
from ..worker.task import gc_paused
from .narrow import NarrowTransformations

if TYPE_CHECKING:
    pass

__all__ = ["Actions", "BoundedFloat"]

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")


class BoundedFloat(float):
    """A float with the confidence bounds of an approximate result.

    >>> value = BoundedFloat(2.5, 0.95, 2.0, 3.0)
    >>> value, value.low, value.high
    (2.5, 2.0, 3.0)
    """

    confidence: float
    low: float
    high: float

    def __new__(cls, mean: float, confidence: float, low: float, high: float) -> BoundedFloat:
        value = float.__new__(cls, mean)
        value.confidence = confidence
        value.low = low
        value.high = high
        return value


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


class Actions(NarrowTransformations[T]):
    """The actions of :class:`~sparkish.RDD`."""

    def _partials(
        self, function: Callable, operation: str, user_function: Callable | None = None
    ) -> list:
        """Run a per-partition function that returns a small list; concatenate the lists."""
        rdd = self._pipe(function, operation, user_function)
        blocks = rdd._run(collect_finisher, None, operation)
        return [item for block in blocks for item in block.records]

    # ------------------------------------------------------------------ collecting
    def collect(self) -> list[T]:
        """All elements, in partition order, as a list in the driver.

        Returns
        -------
        list

        Examples
        --------
        >>> sc.parallelize([1, 2, 3], 2).collect()
        [1, 2, 3]
        """
        blocks = self._run(collect_finisher, None, "collect")
        with gc_paused():
            return list(itertools.chain.from_iterable(block.records for block in blocks))

    def collectWithJobGroup(
        self, groupId: str, description: str, interruptOnCancel: bool = False
    ) -> list[T]:
        """Deprecated: ``collect`` inside a job group.

        Parameters
        ----------
        groupId : str
            The job group (see ``SparkContext.setJobGroup``).
        description : str
            The job's description.
        interruptOnCancel : bool
            Accepted for compatibility.

        Returns
        -------
        list
        """
        warnings.warn("Deprecated in 3.1, use setJobGroup", FutureWarning, stacklevel=2)
        previous = self._runtime.local_properties().copy()
        self.ctx.setJobGroup(groupId, description, interruptOnCancel)
        try:
            return self.collect()
        finally:
            self._runtime.replace_local_properties(previous)

    def collectAsMap(self) -> dict:
        """The key/value pairs as a dict in the driver.

        Returns
        -------
        dict
            For a key that occurs more than once, the last value wins.

        Examples
        --------
        >>> m = sc.parallelize([(1, 2), (3, 4)]).collectAsMap()
        >>> m[1], m[3]
        (2, 4)
        """
        return dict(self.collect())  # type: ignore[arg-type]

    def toLocalIterator(self, prefetchPartitions: bool = False) -> Iterator[T]:
        """Iterate over the elements, computing one partition at a time.

        Parameters
        ----------
        prefetchPartitions : bool
            Compute the next partition while the current one is consumed.

        Returns
        -------
        Iterator

        Examples
        --------
        >>> rdd = sc.parallelize(range(10))
        >>> [x for x in rdd.toLocalIterator()]
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        if prefetchPartitions:
            return self._prefetching_iterator()
        return self._partition_iterator()

    def _partition_records(self, split: int) -> list:
        return self._run(collect_finisher, [split], "toLocalIterator")[0].records

    def _partition_iterator(self) -> Iterator[T]:
        for split in range(self.getNumPartitions()):
            yield from self._partition_records(split)

    def _prefetching_iterator(self) -> Iterator[T]:
        total = self.getNumPartitions()
        if not total:
            return
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self._partition_records, 0)
            for split in range(1, total + 1):
                records = pending.result()
                if split < total:
                    pending = pool.submit(self._partition_records, split)
                yield from records

    # ------------------------------------------------------------------ counting
    def count(self) -> int:
        """The number of elements.

        Returns
        -------
        int

        Examples
        --------
        >>> sc.parallelize([2, 3, 4]).count()
        3
        """
        return sum(self._run(count_finisher, None, "count"))

    def countApprox(self, timeout: int, confidence: float = 0.95) -> int:
        """The number of elements (sparkish always computes it exactly).

        Parameters
        ----------
        timeout : int
            Accepted for compatibility (milliseconds in PySpark).
        confidence : float
            Accepted for compatibility.

        Returns
        -------
        int

        Examples
        --------
        >>> sc.parallelize(range(1000), 10).countApprox(1000, 1.0)
        1000
        """
        return self.count()

    def countByValue(self) -> dict[T, int]:
        """How many times each distinct element occurs, as a dict in the driver.

        Returns
        -------
        dict

        Examples
        --------
        >>> sorted(sc.parallelize([1, 2, 1, 2, 2], 2).countByValue().items())
        [(1, 2), (2, 3)]
        """
        totals: defaultdict = defaultdict(int)
        for counts in self._partials(partials.count_by_value_partition, "countByValue"):
            for value, count in counts.items():
                totals[value] += count
        return totals

    def countByKey(self) -> dict[Any, int]:
        """How many elements each key has, as a dict in the driver.

        Returns
        -------
        dict

        Examples
        --------
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.countByKey().items())
        [('a', 2), ('b', 1)]
        """
        totals: defaultdict = defaultdict(int)
        for counts in self._partials(partials.count_by_key_partition, "countByKey"):
            for key, count in counts.items():
                totals[key] += count
        return totals

    def countApproxDistinct(self, relativeSD: float = 0.05) -> int:
        """An approximate number of distinct elements (HyperLogLog).

        Parameters
        ----------
        relativeSD : float
            The relative accuracy wanted; smaller needs more memory. At least 0.000017.

        Returns
        -------
        int

        Examples
        --------
        >>> n = sc.parallelize(range(1000)).map(str).countApproxDistinct()
        >>> 900 < n < 1100
        True
        """
        total = Sketch.for_relative_sd(relativeSD)
        sketches = self._partials(partial(sketch_partition, total.precision), "countApproxDistinct")
        for sketch in sketches:
            total.merge(sketch)
        return total.estimate()

    def isEmpty(self) -> bool:
        """Whether the RDD has no elements (computes at most what ``take(1)`` needs).

        Returns
        -------
        bool

        Examples
        --------
        >>> sc.parallelize([]).isEmpty()
        True
        >>> sc.parallelize([1]).isEmpty()
        False
        """
        return self.getNumPartitions() == 0 or len(self.take(1)) == 0

    # ------------------------------------------------------------------ side effects
    def foreach(self, f: Callable[[T], None]) -> None:
        """Apply ``f`` to every element, in the tasks.

        Parameters
        ----------
        f : callable
            Called with each element; its result is ignored.

        Examples
        --------
        >>> def f(x): print(x)
        >>> sc.parallelize([1, 2, 3, 4, 5]).foreach(f)
        """
        require_callable(f, "RDD.foreach")
        rdd = self._pipe(partial(partials.foreach_partition, f), "foreach", f)
        rdd._run(count_finisher, None, "foreach")

    def foreachPartition(self, f: Callable[[Iterator[T]], None]) -> None:
        """Apply ``f`` to the iterator of every partition, in the tasks.

        Parameters
        ----------
        f : callable
            Called once per partition with an iterator of its elements.

        Examples
        --------
        >>> def f(iterator):
        ...     for x in iterator:
        ...         print(x)
        >>> sc.parallelize([1, 2, 3, 4, 5]).foreachPartition(f)
        """
        require_callable(f, "RDD.foreachPartition")
        rdd = self._pipe(partial(partials.foreach_partition_function, f), "foreachPartition", f)
        rdd._run(count_finisher, None, "foreachPartition")

    # ------------------------------------------------------------------ reducing
    def reduce(self, f: Callable[[T, T], T]) -> T:
        """Combine the elements with the associative, commutative binary ``f``.

        Parameters
        ----------
        f : callable
            Combines two elements into one.

        Returns
        -------
        object

        Raises
        ------
        EmptyRDDError
            The RDD has no elements (a ``ValueError``, as in PySpark).

        Examples
        --------
        >>> from operator import add
        >>> sc.parallelize([1, 2, 3, 4, 5]).reduce(add)
        15
        >>> sc.parallelize([]).reduce(add)
        Traceback (most recent call last):
            ...
        sparkish.errors.EmptyRDDError: Can not reduce() empty RDD
        """
        require_callable(f, "RDD.reduce")
        return self._reduce_with(f, "reduce", f)

    def _reduce_with(self, f: Callable, operation: str, user_function: Callable) -> Any:
        values = self._partials(partial(partials.reduce_partition, f), operation, user_function)
        if not values:
            raise EmptyRDDError()
        return _in_driver(reduce, operation, f, values)

    def treeReduce(self, f: Callable[[T, T], T], depth: int = 2) -> T:
        """``reduce`` in a multi-level tree (same result; ``depth`` is accepted for API parity).

        Parameters
        ----------
        f : callable
            Combines two elements into one.
        depth : int
            The tree's depth in PySpark (at least 1).

        Returns
        -------
        object

        Examples
        --------
        >>> add = lambda x, y: x + y
        >>> sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10).treeReduce(add, 2)
        -5
        """
        require_callable(f, "RDD.treeReduce")
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        try:
            return self._reduce_with(f, "treeReduce", f)
        except EmptyRDDError:
            raise EmptyRDDError("Cannot reduce empty RDD.") from None

    def fold(self, zeroValue: T, op: Callable[[T, T], T]) -> T:
        """Fold each partition, then the partial results, starting from ``zeroValue``.

        Parameters
        ----------
        zeroValue : object
            The neutral element of ``op``; each partition folds into its own copy.
        op : callable
            Combines two values into one.

        Returns
        -------
        object

        Examples
        --------
        >>> from operator import add
        >>> sc.parallelize([1, 2, 3, 4, 5]).fold(0, add)
        15
        """
        require_callable(op, "RDD.fold", "op")
        values = self._partials(partial(partials.fold_partition, zeroValue, op), "fold", op)
        return _in_driver(reduce, "fold", op, values, partials.copy_zero(zeroValue))

    def aggregate(self, zeroValue: U, seqOp: Callable[[U, T], U], combOp: Callable[[U, U], U]) -> U:
        """Aggregate each partition with ``seqOp`` and combine the results with ``combOp``.

        Parameters
        ----------
        zeroValue : object
            The starting value of each partition's aggregate (each gets its own copy).
        seqOp : callable
            Adds an element to a partition's aggregate.
        combOp : callable
            Combines two aggregates.

        Returns
        -------
        object

        Examples
        --------
        >>> seqOp = (lambda x, y: (x[0] + y, x[1] + 1))
        >>> combOp = (lambda x, y: (x[0] + y[0], x[1] + y[1]))
        >>> sc.parallelize([1, 2, 3, 4]).aggregate((0, 0), seqOp, combOp)
        (10, 4)
        >>> sc.parallelize([]).aggregate((0, 0), seqOp, combOp)
        (0, 0)
        """
        require_callable(seqOp, "RDD.aggregate", "seqOp")
        require_callable(combOp, "RDD.aggregate", "combOp")
        values = self._partials(
            partial(partials.fold_partition, zeroValue, seqOp), "aggregate", seqOp
        )
        return _in_driver(reduce, "aggregate", combOp, values, partials.copy_zero(zeroValue))

    def treeAggregate(
        self,
        zeroValue: U,
        seqOp: Callable[[U, T], U],
        combOp: Callable[[U, U], U],
        depth: int = 2,
    ) -> U:
        """``aggregate`` in a multi-level tree (partials are combined in the driver).

        Parameters
        ----------
        zeroValue : object
            The starting value of each partition's aggregate.
        seqOp : callable
            Adds an element to a partition's aggregate.
        combOp : callable
            Combines two aggregates.
        depth : int
            The tree's depth in PySpark (at least 1).

        Returns
        -------
        object

        Examples
        --------
        >>> add = lambda x, y: x + y
        >>> sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10).treeAggregate(0, add, add, 2)
        -5
        """
        require_callable(seqOp, "RDD.treeAggregate", "seqOp")
        require_callable(combOp, "RDD.treeAggregate", "combOp")
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        if self.getNumPartitions() == 0:
            return zeroValue
        values = self._partials(
            partial(partials.fold_partition, zeroValue, seqOp), "treeAggregate", seqOp
        )
        return _in_driver(reduce, "treeAggregate", combOp, values)

    def reduceByKeyLocally(self, func: Callable[[V, V], V]) -> dict:
        """Merge the values of each key with ``func`` and return a dict to the driver.

        Parameters
        ----------
        func : callable
            Combines two values of the same key.

        Returns
        -------
        dict

        Examples
        --------
        >>> from operator import add
        >>> rdd = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(rdd.reduceByKeyLocally(add).items())
        [('a', 2), ('b', 1)]
        """
        require_callable(func, "RDD.reduceByKeyLocally", "func")
        merged: dict = {}
        partial_maps = self._partials(
            partial(partials.reduce_by_key_locally_partition, func), "reduceByKeyLocally", func
        )
        for partial_map in partial_maps:
            for k, v in partial_map.items():
                merged[k] = func(merged[k], v) if k in merged else v
        return merged

    # ------------------------------------------------------------------ statistics
    def max(self, key: Callable[[T], Any] | None = None) -> T:
        """The largest element (by ``key`` if given).

        Parameters
        ----------
        key : callable, optional
            Computes the value elements are compared by.

        Returns
        -------
        object

        Examples
        --------
        >>> rdd = sc.parallelize([1.0, 5.0, 43.0, 10.0])
        >>> rdd.max()
        43.0
        >>> rdd.max(key=str)
        5.0
        """
        if key is None:
            return self._reduce_with(max, "max", max)
        require_callable(key, "RDD.max", "key")
        return self._reduce_with(partial(partials.max_by, key), "max", key)

    def min(self, key: Callable[[T], Any] | None = None) -> T:
        """The smallest element (by ``key`` if given).

        Parameters
        ----------
        key : callable, optional
            Computes the value elements are compared by.

        Returns
        -------
        object

        Examples
        --------
        >>> rdd = sc.parallelize([2.0, 5.0, 43.0, 10.0])
        >>> rdd.min()
        2.0
        >>> rdd.min(key=str)
        10.0
        """
        if key is None:
            return self._reduce_with(min, "min", min)
        require_callable(key, "RDD.min", "key")
        return self._reduce_with(partial(partials.min_by, key), "min", key)

    def sum(self) -> Any:
        """The sum of the elements (0 for an empty RDD).

        Returns
        -------
        number

        Examples
        --------
        >>> sc.parallelize([1.0, 2.0, 3.0]).sum()
        6.0
        """
        return reduce(operator.add, self._partials(partials.sum_partition, "sum"), 0)

    def sumApprox(self, timeout: int, confidence: float = 0.95) -> BoundedFloat:
        """The sum as a :class:`BoundedFloat` (computed exactly).

        Parameters
        ----------
        timeout : int
            Accepted for compatibility (milliseconds in PySpark).
        confidence : float
            The confidence recorded in the result.

        Returns
        -------
        BoundedFloat

        Examples
        --------
        >>> abs(sc.parallelize(range(1000), 10).sumApprox(1000) - 499500) < 1e-9
        True
        """
        total = float(self.sum())
        return BoundedFloat(total, confidence, total, total)

    def meanApprox(self, timeout: int, confidence: float = 0.95) -> BoundedFloat:
        """The mean as a :class:`BoundedFloat` (computed exactly).

        Parameters
        ----------
        timeout : int
            Accepted for compatibility (milliseconds in PySpark).
        confidence : float
            The confidence recorded in the result.

        Returns
        -------
        BoundedFloat

        Examples
        --------
        >>> abs(sc.parallelize(range(1000), 10).meanApprox(1000) - 499.5) < 1e-9
        True
        """
        mean = float(self.map(partials.as_float).mean())
        return BoundedFloat(mean, confidence, mean, mean)

    def stats(self) -> StatCounter:
        """A :class:`~sparkish.StatCounter` of the elements, computed in one pass.

        Returns
        -------
        StatCounter

        Examples
        --------
        >>> sc.parallelize([1, 2, 3]).stats()
        (count: 3, mean: 2.0, stdev: 0.816496580927726, max: 3.0, min: 1.0)
        """
        counters = self._partials(partials.stats_partition, "stats")
        if not counters:
            raise EmptyRDDError()
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

        Parameters
        ----------
        buckets : int or sequence
            The number of evenly spaced buckets between the minimum and the maximum, or the
            sorted bucket boundaries (each bucket includes its lower boundary; the last one
            also its upper boundary).

        Returns
        -------
        tuple
            The bucket boundaries and the count of each bucket. ``None`` and NaN elements, and
            elements outside the boundaries, are not counted.

        Examples
        --------
        >>> rdd = sc.parallelize(range(51))
        >>> rdd.histogram(2)
        ([0, 25, 50], [25, 26])
        >>> rdd.histogram([0, 5, 25, 50])
        ([0, 5, 25, 50], [5, 20, 26])
        """
        if isinstance(buckets, int) and not isinstance(buckets, bool):
            if buckets < 1:
                raise ValueError("number of buckets must be >= 1")
            comparable = self.filter(partials.is_comparable)
            minimum, maximum = _value_range(comparable)
            if minimum == maximum or buckets == 1:
                return [minimum, maximum], [comparable.count()]
            boundaries: Sequence = []
            boundaries, increment = _even_boundaries(minimum, maximum, buckets)
            even = True
        elif isinstance(buckets, (list, tuple)):
            boundaries, even, increment = _given_buckets(buckets)
        else:
            raise TypeError("buckets should be a list or tuple or number(int or long)")
        counts = self._partials(
            partial(
                partials.histogram_partition,
                boundaries,
                boundaries[0],
                boundaries[-1],
                even,
                increment,
            ),
            "histogram",
        )
        if not counts:
            raise EmptyRDDError()
        return boundaries, [sum(column) for column in zip(*counts)]

    # ------------------------------------------------------------------ picking elements
    def top(self, num: int, key: Callable[[T], Any] | None = None) -> list[T]:
        """The ``num`` largest elements, in descending order.

        Parameters
        ----------
        num : int
            How many elements to return.
        key : callable, optional
            Computes the value elements are compared by.

        Returns
        -------
        list

        Examples
        --------
        >>> sc.parallelize([10, 4, 2, 12, 3]).top(1)
        [12]
        >>> sc.parallelize([2, 3, 4, 5, 6], 2).top(2)
        [6, 5]
        >>> sc.parallelize([10, 4, 2, 12, 3]).top(3, key=str)
        [4, 3, 2]
        """
        tops = self._partials(partial(partials.top_partition, num, key), "top", key)
        if not tops:
            raise EmptyRDDError()
        return heapq.nlargest(num, itertools.chain.from_iterable(tops), key=key)

    def takeOrdered(self, num: int, key: Callable[[T], Any] | None = None) -> list[T]:
        """The ``num`` smallest elements (by ``key``), in ascending order.

        Parameters
        ----------
        num : int
            How many elements to return.
        key : callable, optional
            Computes the value elements are compared by.

        Returns
        -------
        list

        Examples
        --------
        >>> sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6)
        [1, 2, 3, 4, 5, 6]
        >>> sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7], 2).takeOrdered(6, key=lambda x: -x)
        [10, 9, 7, 6, 5, 4]
        """
        if num < 0:
            raise ValueError("top N cannot be negative.")
        if num == 0 or self.getNumPartitions() == 0:
            return []
        smallest = self._partials(
            partial(partials.smallest_partition, num, key), "takeOrdered", key
        )
        return heapq.nsmallest(num, itertools.chain.from_iterable(smallest), key=key)

    def take(self, num: int) -> list[T]:
        """The first ``num`` elements, scanning as few partitions as possible.

        One partition is computed first, then more (up to ``spark.rdd.limit.scaleUpFactor``,
        4, times as many each round) until enough elements are found, like PySpark.

        Parameters
        ----------
        num : int
            How many elements to return.

        Returns
        -------
        list
            Fewer than ``num`` elements if the RDD has fewer.

        Examples
        --------
        >>> sc.parallelize([2, 3, 4, 5, 6]).cache().take(2)
        [2, 3]
        >>> sc.parallelize([2, 3, 4, 5, 6]).take(10)
        [2, 3, 4, 5, 6]
        >>> sc.parallelize(range(100), 100).filter(lambda x: x > 90).take(3)
        [91, 92, 93]
        """
        scale_up = self._runtime.settings.get_int("spark.rdd.limit.scaleUpFactor", 4)
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
            splits = range(scanned, min(scanned + to_try, total))
            blocks = self._run(partial(take_finisher, num - len(items)), splits, "take")
            for block in blocks:
                items.extend(block.records)
            scanned += to_try
        return items[:num]

    def first(self) -> T:
        """The first element.

        Returns
        -------
        object

        Raises
        ------
        ValueError
            The RDD is empty.

        Examples
        --------
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

    def takeSample(self, withReplacement: bool, num: int, seed: int | None = None) -> list[T]:
        """A random sample of exactly ``num`` elements (fewer if the RDD is smaller).

        Parameters
        ----------
        withReplacement : bool
            Whether an element can be drawn more than once.
        num : int
            The sample's size.
        seed : int, optional
            Makes the sample reproducible.

        Returns
        -------
        list

        Examples
        --------
        >>> rdd = sc.parallelize(range(0, 10))
        >>> len(rdd.takeSample(True, 20, 1))
        20
        >>> len(rdd.takeSample(False, 5, 2))
        5
        >>> len(rdd.takeSample(False, 15, 3))
        10
        """
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

    def lookup(self, key: Any) -> list:
        """The values of ``key``; only the partition holding it is computed when the RDD has a
        partitioner.

        Parameters
        ----------
        key : object
            The key looked for.

        Returns
        -------
        list
            Its values, in partition order.

        Examples
        --------
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
        values = self.filter(partial(key_equals, key)).values()
        if self.partitioner is None:
            return values.collect()
        split = self._partition_of(key)
        return values._run(collect_finisher, [split], "lookup")[0].records

    def _partition_of(self, key: Any) -> int:
        """The partition holding ``key`` under this RDD's partitioner.

        Keys whose hash may depend on ``PYTHONHASHSEED`` are placed by a worker, where the
        shuffle placed them, not by the driver.
        """
        partitioner = self.partitioner
        assert partitioner is not None
        try:
            hash(key)
        except TypeError as error:
            raise unhashable_key_error("lookup", key) from error
        use_key_hashing(self._runtime.key_hashing)  # the shuffle's, whatever ran here since
        if partitioner.partitionFunc is not portable_hash or is_portable_key_type(key):
            return partitioner(key)
        future = self._runtime.client.submit(
            partition_on_worker, partitioner, key, self._runtime.key_hashing, pure=False
        )
        return future.result()

    # ------------------------------------------------------------------ output
    def saveAsTextFile(self, path: str, compressionCodecClass: str | None = None) -> None:
        """Write the elements as text lines, one ``part-NNNNN`` file per partition.

        The parts appear only if every task succeeds, with a ``_SUCCESS`` marker; a failed job
        leaves nothing behind.

        Parameters
        ----------
        path : str
            The output directory (any fsspec URL); it must not exist unless
            ``sparkish.output.overwrite`` is true.
        compressionCodecClass : str, optional
            A codec name (``gzip``, ``bzip2``, ``xz``, ``zstd``) or Hadoop codec class name.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "out")
        >>> sc.parallelize(range(3), 2).saveAsTextFile(path)
        >>> sorted(sc.textFile(path).collect())
        ['0', '1', '2']
        """
        self._save(path, "text", compressionCodecClass, 10, "saveAsTextFile")

    def saveAsPickleFile(self, path: str, batchSize: int = 10) -> None:
        """Write the elements as pickled batches, readable with ``SparkContext.pickleFile``.

        Parameters
        ----------
        path : str
            The output directory (any fsspec URL).
        batchSize : int
            Elements per pickled batch; 0 chooses batches of about 64 KiB.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "pickled")
        >>> sc.parallelize([1, 2, "spark", "rdd"]).saveAsPickleFile(path, 3)
        >>> sorted(sc.pickleFile(path, 3).collect(), key=str)
        [1, 2, 'rdd', 'spark']
        """
        batch_size = require_int(batchSize, "saveAsPickleFile", "batchSize", minimum=0)
        self._save(path, "pickle", None, batch_size or 1024, "saveAsPickleFile")

    def _save(
        self, path: str, kind: str, compression: str | None, batch_size: int, operation: str
    ) -> None:
        def finisher_for(spec: WriteJobSpec) -> Callable:
            return partial(write_finisher, spec, kind, compression, batch_size)

        self._write_job(path, operation, finisher_for)

    def _write_job(
        self, path: str, operation: str, finisher_for: Callable[[WriteJobSpec], Callable]
    ) -> None:
        """Run a job whose tasks write attempt files (``finisher_for(spec)``), then commit them
        atomically, or remove everything when the job fails."""
        runtime = self._runtime
        runtime.check_active()
        settings = runtime.settings
        overwrite = settings.get_bool("sparkish.output.overwrite", False) or not (
            settings.get_bool("spark.hadoop.validateOutputSpecs", True)
        )
        committer = OutputCommitter(
            path, runtime.storage_options(path, operation), overwrite=overwrite, operation=operation
        )
        spec = committer.setup_job()
        try:
            # On failure, wait until no task of the job still writes before removing its files.
            messages = self._run(finisher_for(spec), None, operation, drain_on_failure=True)
        except BaseException:
            committer.abort_job()
            raise
        committer.commit_job(messages, self.getNumPartitions())


def _value_range(rdd: Actions) -> tuple[Any, Any]:
    """The smallest and largest element of ``rdd``."""
    try:
        return rdd.map(partials.pair_with_itself).reduce(partials.min_max)
    except EmptyRDDError:
        raise EmptyRDDError("can not generate buckets from empty RDD") from None


def _even_boundaries(minimum: Any, maximum: Any, count: int) -> tuple[list, Any]:
    """Boundaries of ``count`` equal buckets from ``minimum`` to ``maximum`` and their width
    (an int when the range divides evenly, as in PySpark).

    >>> _even_boundaries(0, 50, 2)
    ([0, 25, 50], 25)
    """
    try:
        increment: Any = (maximum - minimum) / count
    except TypeError:
        raise TypeError("Can not generate buckets with non-number in RDD") from None
    if math.isinf(increment):
        raise ValueError("Can not generate buckets with infinite value")
    increment = int(increment)
    if increment * count != maximum - minimum:
        increment = (maximum - minimum) * 1.0 / count
    boundaries: list = [i * increment + minimum for i in range(count)]
    boundaries.append(maximum)
    return boundaries, increment


def _given_buckets(buckets: Sequence) -> tuple[Sequence, bool, Any]:
    """``(boundaries, evenly spaced, width)`` of user-given histogram boundaries.

    >>> _given_buckets([0, 5, 25, 50])
    ([0, 5, 25, 50], False, None)
    """
    if len(buckets) < 2:
        raise ValueError("buckets should have more than one value")
    if any(b is None or (isinstance(b, float) and math.isnan(b)) for b in buckets):
        raise ValueError("can not have None or NaN in buckets")
    if sorted(buckets) != list(buckets):
        raise ValueError("buckets should be sorted")
    if len(set(buckets)) != len(buckets):
        raise ValueError("buckets should not contain duplicated values")
    try:
        widths = [buckets[i + 1] - buckets[i] for i in range(len(buckets) - 1)]
    except TypeError:
        return buckets, False, None
    if max(widths) - min(widths) < 1e-10:
        return buckets, True, (buckets[-1] - buckets[0]) / (len(buckets) - 1)
    return buckets, False, None
