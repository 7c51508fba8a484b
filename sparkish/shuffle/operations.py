"""Pair-RDD operations built on the one shuffle primitive, :func:`partition_by`.

Every keyed operation is: a narrow map-side step (combining values per key where the operation
allows it), :func:`partition_by`, and a narrow reduce-side step. The steps fuse into the map
tasks and into the tasks that read the shuffle, so a ``reduceByKey`` followed by ``collect`` is
M map tasks, one barrier and R reduce tasks. Only the sorting operations sort.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import random
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from .._serialize import dumps, loads
from ..rdd import Partitioner, _partition_count
from ..resultiterable import ResultIterable

# Never import ._p2p here: the package __init__ imports this module, and a worker's event loop
# imports ._p2p (unpickling a shuffle spec) while its task thread may import the package; an
# import cycle between the two deadlocks Python's per-module import locks.
from ._int_columns import (
    ColumnIterator,
    IntPairs,
    concatenated,
    gather_int_columns,
    int_pairs,
    pairs_of,
    sum_by_key,
)
from .hashing import is_portable_key_type, portable_hash

if TYPE_CHECKING:
    from ..rdd import RDD

__all__ = [
    "aggregate_by_key",
    "cogroup",
    "combine_by_key",
    "distinct",
    "fold_by_key",
    "group_by_key",
    "intersection",
    "join",
    "partition_by",
    "partition_of",
    "reduce_by_key",
    "repartition_and_sort",
    "repartition_round_robin",
    "sort_by_key",
    "subtract",
    "subtract_by_key",
]


def _unhashable_key_error(operation: str, key: Any) -> TypeError:
    return TypeError(
        f"{operation}: key {key!r} of type '{type(key).__name__}' is unhashable; the keys of "
        "pair-RDD operations must be hashable (use a tuple instead of a list, for example)"
    )


def _num_partitions(rdd: RDD, num_partitions: int | None, operation: str) -> int:
    if num_partitions is None:
        return rdd._default_reduce_partitions() or 1
    return _partition_count(num_partitions, operation)


def partition_by(
    rdd: RDD,
    num_partitions: int | None,
    partition_func: Callable[[Any], int] | None = None,
    operation: str = "partitionBy",
) -> RDD:
    """Hash-partition the pairs of ``rdd``: the shuffle primitive of every keyed operation.

    Returns ``rdd`` itself when it is already partitioned the same way.
    """
    from ._shuffled_rdd import ShuffledRDD

    count = _num_partitions(rdd, num_partitions, operation)
    function = partition_func if partition_func is not None else portable_hash
    if not callable(function):
        raise TypeError(f"RDD.{operation}: partitionFunc must be callable, got {function!r}")
    partitioner = Partitioner(count, function)
    if rdd.partitioner == partitioner:
        return rdd
    return ShuffledRDD(rdd, partitioner, operation)


# --------------------------------------------------------------------------- combining


_SAMPLE = 20_000
_USEFUL_REDUCTION = 0.9


def _fold_pairs(combined: dict, pairs: Iterable, func: Callable) -> None:
    """Merge ``(key, value)`` pairs into ``combined`` with ``func``."""
    if func is operator.add:  # inline the most common function: no call per record
        for key, value in pairs:
            if key in combined:
                combined[key] = combined[key] + value
            else:
                combined[key] = value
    else:
        for key, value in pairs:
            if key in combined:
                combined[key] = func(combined[key], value)
            else:
                combined[key] = value


def _combine_pairs(
    combined: dict, pairs: Iterable, create: Callable, merge_value: Callable
) -> None:
    for key, value in pairs:
        if key in combined:
            combined[key] = merge_value(combined[key], value)
        else:
            combined[key] = create(value)


def _reraise_unhashable(error: TypeError, operation: str, pairs: list) -> None:
    for key, _ in pairs:
        try:
            hash(key)
        except TypeError:
            raise _unhashable_key_error(operation, key) from error


def _map_side_reduce(func, operation, split, iterator):
    """Map-side combine for ``reduceByKey``; stops combining when it does not pay.

    When the first records are almost all distinct keys, combining the rest would cost a dict
    operation per record and shrink nothing, so the remaining records stream straight into the
    shuffle (the reduce side merges everything anyway).
    """
    iterator = iter(iterator)
    head = list(itertools.islice(iterator, _SAMPLE))
    if func is operator.add:
        columns, iterator = gather_int_columns(head, iterator)
        if columns is not None:
            keys, values = columns
            sample = keys[:_SAMPLE]
            if len(set(sample.tolist())) > _USEFUL_REDUCTION * len(sample):
                return int_pairs(keys, values)  # mostly distinct keys: combining saves nothing
            summed = sum_by_key(keys, values)
            if summed is not None:
                return int_pairs(*summed)
            iterator = int_pairs(keys, values)
        head = list(itertools.islice(iterator, _SAMPLE))
    combined: dict = {}
    try:
        _fold_pairs(combined, head, func)
    except TypeError as error:
        _reraise_unhashable(error, operation, head)
        raise
    if len(head) == _SAMPLE and len(combined) > _USEFUL_REDUCTION * _SAMPLE:
        return itertools.chain(combined.items(), iterator)
    _fold_pairs(combined, iterator, func)
    return combined.items()


def _fresh_int_columns(iterator: Any):
    """The int64 columns behind an untouched iterator made by the shuffle itself, if any."""
    if type(iterator) is IntPairs:
        return iterator.int_columns
    if type(iterator) is ColumnIterator:
        return concatenated(iterator.columns)
    return None


def _reduce_side_reduce(func, operation, split, iterator):
    if func is operator.add:
        columns = _fresh_int_columns(iterator)
        if columns is not None:
            summed = sum_by_key(*columns)
            if summed is not None:
                # Plain pairs, not IntPairs: this output reaches user code, which may advance it
                # before a later shuffle's writer would read IntPairs' columns.
                return pairs_of(*summed)
    combined: dict = {}
    _fold_pairs(combined, iterator, func)
    return combined.items()


def _combine_values(create, merge_value, operation, split, iterator):
    iterator = iter(iterator)
    head = list(itertools.islice(iterator, _SAMPLE))
    combined: dict = {}
    try:
        _combine_pairs(combined, head, create, merge_value)
    except TypeError as error:
        _reraise_unhashable(error, operation, head)
        raise
    _combine_pairs(combined, iterator, create, merge_value)
    return combined.items()


def _merge_combiners(merge_combiners, operation, split, iterator):
    combined: dict = {}
    _fold_pairs(combined, iterator, merge_combiners)
    return combined.items()


def _combined_rdd(
    rdd: RDD,
    map_side: Callable,
    reduce_side: Callable,
    num_partitions: int | None,
    partition_func: Callable | None,
    operation: str,
    user_function: Callable | None,
) -> RDD:
    local = rdd._pipe(map_side, operation, user_function, preserves_partitioning=True)
    shuffled = partition_by(local, num_partitions, partition_func, operation)
    return shuffled._pipe(reduce_side, operation, user_function, preserves_partitioning=True)


def combine_by_key(
    rdd: RDD,
    create_combiner: Callable,
    merge_value: Callable,
    merge_combiners: Callable,
    num_partitions: int | None,
    partition_func: Callable | None,
    operation: str = "combineByKey",
) -> RDD:
    """Combine each key's values: ``create_combiner``/``merge_value`` map-side, then
    ``merge_combiners`` after the shuffle."""
    for function, name in (
        (create_combiner, "createCombiner"),
        (merge_value, "mergeValue"),
        (merge_combiners, "mergeCombiners"),
    ):
        if not callable(function):
            raise TypeError(f"RDD.{operation}: {name} must be callable, got {function!r}")
    return _combined_rdd(
        rdd,
        partial(_combine_values, create_combiner, merge_value, operation),
        partial(_merge_combiners, merge_combiners, operation),
        num_partitions,
        partition_func,
        operation,
        merge_value,
    )


def reduce_by_key(rdd: RDD, func: Callable, num_partitions, partition_func) -> RDD:
    """``reduceByKey``: merge values with ``func`` on both sides of the shuffle."""
    if not callable(func):
        raise TypeError(f"RDD.reduceByKey: func must be callable, got {func!r}")
    return _combined_rdd(
        rdd,
        partial(_map_side_reduce, func, "reduceByKey"),
        partial(_reduce_side_reduce, func, "reduceByKey"),
        num_partitions,
        partition_func,
        "reduceByKey",
        func,
    )


def _seq_from_zero(seq_func, zero_payload, value):
    return seq_func(loads(zero_payload), value)


def aggregate_by_key(rdd: RDD, zero_value, seq_func, comb_func, num_partitions, partition_func):
    """``aggregateByKey``: each key starts from its own copy of ``zero_value``."""
    zero_payload = dumps(zero_value)
    return combine_by_key(
        rdd,
        partial(_seq_from_zero, seq_func, zero_payload),
        seq_func,
        comb_func,
        num_partitions,
        partition_func,
        "aggregateByKey",
    )


def fold_by_key(rdd: RDD, zero_value, func, num_partitions, partition_func) -> RDD:
    """``foldByKey``: ``aggregateByKey`` with the same function on both sides."""
    zero_payload = dumps(zero_value)
    return combine_by_key(
        rdd,
        partial(_seq_from_zero, func, zero_payload),
        func,
        func,
        num_partitions,
        partition_func,
        "foldByKey",
    )


# --------------------------------------------------------------------------- grouping


def _group_pairs(split, iterator):
    groups: dict = {}
    for key, value in iterator:
        group = groups.get(key)
        if group is None:
            groups[key] = [value]
        else:
            group.append(value)
    return ((key, ResultIterable(values)) for key, values in groups.items())


def group_by_key(rdd: RDD, num_partitions, partition_func, operation: str = "groupByKey") -> RDD:
    """``groupByKey``: values are grouped after the shuffle, in map-partition order."""
    shuffled = partition_by(rdd, num_partitions, partition_func, operation)
    return shuffled._pipe(_group_pairs, operation, preserves_partitioning=True)


def _distinct_locally(split, iterator):
    return ((element, None) for element in dict.fromkeys(iterator))


def _distinct_merge(split, iterator):
    return dict.fromkeys(key for key, _ in iterator)


def distinct(rdd: RDD, num_partitions: int | None) -> RDD:
    """``distinct``: deduplicated map-side, again after the shuffle."""
    local = rdd._pipe(_distinct_locally, "distinct")
    shuffled = partition_by(local, num_partitions, None, "distinct")
    return shuffled._pipe(_distinct_merge, "distinct")


# --------------------------------------------------------------------------- cogroup and joins


def _tag_values(tag, split, iterator):
    return ((key, (tag, value)) for key, value in iterator)


def _shared_partitioner(rdds: Iterable[RDD]) -> Partitioner | None:
    rdds = list(rdds)
    first = rdds[0].partitioner
    if first is not None and all(rdd.partitioner == first for rdd in rdds):
        return first
    return None


def _tagged_groups(rdds: tuple[RDD, ...], num_partitions: int | None, operation: str) -> RDD:
    """A grouped RDD of ``(key, [(tag, value), ...])`` over several pair RDDs.

    Inputs that already share a partitioner (and ``num_partitions`` unset or equal) are grouped
    without a shuffle.
    """
    from ..rdd import UnionRDD

    context = rdds[0].ctx
    tagged = [
        rdd._pipe(partial(_tag_values, tag), operation, preserves_partitioning=True)
        for tag, rdd in enumerate(rdds)
    ]
    union = UnionRDD(context, tagged)
    shared = _shared_partitioner(rdds)
    partition_func = None
    if shared is not None and num_partitions in (None, shared.numPartitions):
        num_partitions, partition_func = shared.numPartitions, shared.partitionFunc
    return group_by_key(union, num_partitions, partition_func, operation)


def _split_tags(count, values):
    buffers: list[list] = [[] for _ in range(count)]
    for tag, value in values:
        buffers[tag].append(value)
    return buffers


def _cogroup_values(count, split, iterator):
    for key, values in iterator:
        yield key, tuple(ResultIterable(buffer) for buffer in _split_tags(count, values))


def cogroup(rdds: tuple[RDD, ...], num_partitions: int | None) -> RDD:
    """``cogroup``/``groupWith``: for each key, one ``ResultIterable`` of values per RDD."""
    from ..rdd import _require_rdd

    for other in rdds[1:]:
        _require_rdd(other, "cogroup")
    grouped = _tagged_groups(rdds, num_partitions, "cogroup")
    return grouped._pipe(
        partial(_cogroup_values, len(rdds)), "cogroup", preserves_partitioning=True
    )


def _join_values(how, split, iterator):
    for key, values in iterator:
        left, right = _split_tags(2, values)
        if not left:
            if how in ("inner", "left"):
                continue
            left = [None]
        if not right:
            if how in ("inner", "right"):
                continue
            right = [None]
        for v in left:
            for w in right:
                yield key, (v, w)


def join(rdd: RDD, other: RDD, num_partitions: int | None, how: str) -> RDD:
    """Inner and outer joins, through one shuffle of both sides together."""
    from ..rdd import _require_rdd

    operation = {
        "inner": "join",
        "left": "leftOuterJoin",
        "right": "rightOuterJoin",
        "full": "fullOuterJoin",
    }[how]
    _require_rdd(other, operation)
    grouped = _tagged_groups((rdd, other), num_partitions, operation)
    return grouped._pipe(partial(_join_values, how), operation, preserves_partitioning=True)


def _left_only(split, iterator):
    for key, values in iterator:
        left, right = _split_tags(2, values)
        if left and not right:
            for value in left:
                yield key, value


def subtract_by_key(
    rdd: RDD, other: RDD, num_partitions: int | None, operation: str = "subtractByKey"
) -> RDD:
    """The pairs of ``rdd`` whose key does not occur in ``other``."""
    from ..rdd import _require_rdd

    _require_rdd(other, operation)
    grouped = _tagged_groups((rdd, other), num_partitions, operation)
    return grouped._pipe(_left_only, operation, preserves_partitioning=True)


def _pair_with_true(split, iterator):
    return ((element, True) for element in iterator)


def subtract(rdd: RDD, other: RDD, num_partitions: int | None) -> RDD:
    """The elements of ``rdd`` that do not occur in ``other``."""
    from ..rdd import _require_rdd

    _require_rdd(other, "subtract")
    left = rdd._pipe(_pair_with_true, "subtract")
    right = other._pipe(_pair_with_true, "subtract")
    return subtract_by_key(left, right, num_partitions, "subtract").keys()


def _pair_with_none(split, iterator):
    return ((element, None) for element in iterator)


def _in_both(split, iterator):
    for key, values in iterator:
        left, right = _split_tags(2, values)
        if left and right:
            yield key


def intersection(rdd: RDD, other: RDD) -> RDD:
    """The distinct elements present in both RDDs."""
    from ..rdd import _require_rdd

    _require_rdd(other, "intersection")
    left = rdd._pipe(_pair_with_none, "intersection")
    right = other._pipe(_pair_with_none, "intersection")
    grouped = _tagged_groups((left, right), None, "intersection")
    return grouped._pipe(_in_both, "intersection")


# --------------------------------------------------------------------------- sorting


def _sort_partition(keyfunc, ascending, split, iterator):
    return sorted(iterator, key=lambda kv: keyfunc(kv[0]), reverse=not ascending)


class RangePartitionFunction:
    """Range partitioning from sorted sample bounds (used by ``sortByKey``)."""

    def __init__(self, bounds: list, keyfunc: Callable, ascending: bool, num_partitions: int):
        self.bounds = bounds
        self.keyfunc = keyfunc
        self.ascending = ascending
        self.num_partitions = num_partitions

    def __call__(self, key: Any) -> int:
        position = bisect.bisect_left(self.bounds, self.keyfunc(key))
        return position if self.ascending else self.num_partitions - 1 - position

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, RangePartitionFunction)
            and self.bounds == other.bounds
            and self.keyfunc == other.keyfunc
            and self.ascending == other.ascending
            and self.num_partitions == other.num_partitions
        )

    def __hash__(self) -> int:
        return hash((len(self.bounds), self.ascending, self.num_partitions))


def _sample_key(kv):
    return kv[0]


def sort_by_key(rdd: RDD, ascending: bool | None, num_partitions: int | None, keyfunc) -> RDD:
    """``sortByKey``: range partitions from a sample of the keys, then a sort per partition."""
    count = _num_partitions(rdd, num_partitions, "sortByKey")
    ascending = bool(ascending) if ascending is not None else True
    sort_step = partial(_sort_partition, keyfunc, ascending)
    if count == 1:
        single = rdd.coalesce(1) if rdd.getNumPartitions() > 1 else rdd
        return single._pipe(sort_step, "sortByKey", keyfunc, preserves_partitioning=True)
    size = rdd.count()
    if not size:
        return rdd
    max_sample = count * 20.0
    fraction = min(max_sample / max(size, 1), 1.0)
    samples = sorted(rdd.sample(False, fraction, 1).map(_sample_key).collect(), key=keyfunc)
    bounds = [samples[int(len(samples) * (i + 1) / count)] for i in range(count - 1)]
    bounds = [keyfunc(bound) for bound in bounds]
    function = RangePartitionFunction(bounds, keyfunc, ascending, count)
    shuffled = partition_by(rdd, count, function, "sortByKey")
    return shuffled._pipe(sort_step, "sortByKey", keyfunc, preserves_partitioning=True)


def repartition_and_sort(rdd: RDD, num_partitions, partition_func, ascending, keyfunc) -> RDD:
    """Hash-partition by key, then sort each partition by key."""
    shuffled = partition_by(
        rdd, num_partitions, partition_func, "repartitionAndSortWithinPartitions"
    )
    return shuffled._pipe(
        partial(_sort_partition, keyfunc, ascending),
        "repartitionAndSortWithinPartitions",
        keyfunc,
        preserves_partitioning=True,
    )


def _round_robin_keys(num_partitions, split, iterator):
    position = random.Random(split).randrange(num_partitions)
    for element in iterator:
        position += 1
        yield position, element


def _identity_partition(key: int) -> int:
    return key


def repartition_round_robin(rdd: RDD, num_partitions: int) -> RDD:
    """``repartition``/``coalesce(shuffle=True)``: spread elements evenly, round robin."""
    keyed = rdd._pipe(partial(_round_robin_keys, num_partitions), "repartition")
    shuffled = partition_by(keyed, num_partitions, _identity_partition, "repartition")
    return shuffled.values()


# --------------------------------------------------------------------------- lookup


def _partition_on_worker(partitioner: Partitioner, key: Any) -> int:
    return partitioner(key)


def partition_of(rdd: RDD, key: Any) -> int:
    """The partition of ``rdd`` that holds ``key`` under its partitioner.

    Keys whose hash may depend on ``PYTHONHASHSEED`` are placed by a worker, where the shuffle
    placed them, not by the driver.
    """
    partitioner = rdd.partitioner
    assert partitioner is not None
    try:
        hash(key)
    except TypeError as error:
        raise _unhashable_key_error("lookup", key) from error
    if partitioner.partitionFunc is not portable_hash or is_portable_key_type(key):
        return partitioner(key)
    return rdd.ctx._client.submit(_partition_on_worker, partitioner, key, pure=False).result()
