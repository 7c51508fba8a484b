"""The per-partition half of the actions, as run inside a task.

An action such as ``reduce`` or ``stats`` computes a small partial result in each partition
(these functions, each returning a one-element list) and merges the partials in the driver
(:mod:`sparkish.rdd.actions`).

>>> reduce_partition(max, 0, iter([3, 9, 4]))
[9]
>>> reduce_partition(max, 0, iter([]))
[]
"""

from __future__ import annotations

import bisect
import heapq
import math
import operator
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import reduce
from typing import Any

from ..serialization import dumps, loads
from ..statcounter import StatCounter

__all__ = [
    "as_float",
    "copy_zero",
    "count_by_key_partition",
    "count_by_value_partition",
    "fold_partition",
    "foreach_partition",
    "foreach_partition_function",
    "histogram_partition",
    "is_comparable",
    "max_by",
    "min_by",
    "min_max",
    "pair_with_itself",
    "reduce_by_key_locally_partition",
    "reduce_partition",
    "smallest_partition",
    "stats_partition",
    "sum_partition",
    "top_partition",
]


def foreach_partition(f: Callable, split: int, iterator: Iterator) -> tuple:
    for x in iterator:
        f(x)
    return ()


def foreach_partition_function(f: Callable, split: int, iterator: Iterator) -> tuple:
    f(iterator)
    return ()


#: ``sum()`` is a left fold of ``+`` with C loops for ints and floats, about 7 ns a record
#: against 30 ns for ``reduce(operator.add, ...)``. From Python 3.12 on it compensates float
#: rounding, which a fold (and PySpark's ``reduce``) does not, so there the fold stays.
_SUM_IS_A_FOLD = sys.version_info < (3, 12)
#: Start values ``sum()`` takes (it refuses ``str`` and ``bytes``) and adds at C speed.
_SUM_STARTS = frozenset({int, float})


def reduce_partition(f: Callable, split: int, iterator: Iterator) -> list:
    """A partition folded from the left with ``f``; empty partitions give no partial.

    >>> reduce_partition(operator.add, 0, iter([1, 2.5, True])), reduce_partition(
    ...     operator.add, 0, iter(["a", "b"]))
    ([4.5], ['ab'])
    """
    iterator = iter(iterator)
    try:
        initial = next(iterator)
    except StopIteration:
        return []
    if f is operator.add and _SUM_IS_A_FOLD and type(initial) in _SUM_STARTS:
        return [sum(iterator, initial)]
    return [reduce(f, iterator, initial)]


def fold_partition(zero: Any, op: Callable, split: int, iterator: Iterator) -> list:
    """Fold a partition into its own copy of ``zero``.

    >>> zero = []
    >>> fold_partition(zero, lambda acc, x: acc + [x], 0, iter([1, 2])), zero
    ([[1, 2]], [])
    """
    accumulator = copy_zero(zero)
    for x in iterator:
        accumulator = op(accumulator, x)
    return [accumulator]


def copy_zero(zero: Any) -> Any:
    """A deep copy of a zero value, as PySpark gets by unpickling the zero in every task."""
    return loads(dumps(zero))


def top_partition(num: int, key: Callable | None, split: int, iterator: Iterator) -> list:
    return [heapq.nlargest(num, iterator, key=key)]


def smallest_partition(num: int, key: Callable | None, split: int, iterator: Iterator) -> list:
    return [heapq.nsmallest(num, iterator, key=key)]


def count_by_value_partition(split: int, iterator: Iterator) -> list[dict]:
    return [dict(Counter(iterator))]


def count_by_key_partition(split: int, iterator: Iterator) -> list[dict]:
    return [dict(Counter(kv[0] for kv in iterator))]


def reduce_by_key_locally_partition(f: Callable, split: int, iterator: Iterator) -> list[dict]:
    merged: dict = {}
    for k, v in iterator:
        merged[k] = f(merged[k], v) if k in merged else v
    return [merged]


def stats_partition(split: int, iterator: Iterator) -> list[StatCounter]:
    return [StatCounter(iterator)]


def sum_partition(split: int, iterator: Iterator) -> list:
    return [sum(iterator)]


def histogram_partition(
    buckets: Sequence,
    minimum: Any,
    maximum: Any,
    even: bool,
    increment: Any,
    split: int,
    iterator: Iterator,
) -> list[list[int]]:
    """Count a partition's numbers per bucket (the last bucket includes its upper bound).

    >>> histogram_partition([0, 5, 10], 0, 10, True, 5, 0, iter([1, 5, 10, 11, None]))
    [[1, 2]]
    """
    counters = [0] * len(buckets)
    for x in iterator:
        if x is None or (isinstance(x, float) and math.isnan(x)) or x > maximum or x < minimum:
            continue
        index = int((x - minimum) / increment) if even else bisect.bisect_right(buckets, x) - 1
        counters[index] += 1
    last = counters.pop()
    counters[-1] += last
    return [counters]


def as_float(x: Any) -> float:
    return float(x)


def max_by(key: Callable, a: Any, b: Any) -> Any:
    return max(a, b, key=key)


def min_by(key: Callable, a: Any, b: Any) -> Any:
    return min(a, b, key=key)


def is_comparable(x: Any) -> bool:
    """Whether ``x`` takes part in a histogram's range (``None`` and NaN do not)."""
    if x is None:
        return False
    return not (type(x) is float and math.isnan(x))


def pair_with_itself(x: Any) -> tuple[Any, Any]:
    return (x, x)


def min_max(a: tuple, b: tuple) -> tuple:
    """Merge two ``(minimum, maximum)`` pairs.

    >>> min_max((1, 5), (0, 3))
    (0, 5)
    """
    return (min(a[0], b[0]), max(a[1], b[1]))
