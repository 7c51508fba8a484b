"""The map-side and reduce-side halves of the key-value operations, as run inside tasks.

Every keyed operation is a narrow map-side step (combining values per key where the operation
allows it), a shuffle, and a narrow reduce-side step; :mod:`sparkish.rdd.pairs` wires these
functions around :meth:`~sparkish.RDD.partitionBy`. Each takes ``(split, iterator)`` last.

>>> from functools import partial
>>> import operator
>>> sorted(reduce_side_reduce(operator.add, "reduceByKey", 0, iter([("a", 1), ("a", 2)])))
[('a', 3)]
"""

from __future__ import annotations

import bisect
import itertools
import operator
import random
from collections.abc import Callable, Iterable
from typing import Any

from ..resultiterable import ResultIterable
from ..serialization import loads
from ..shuffle.hashing import KeyHashing, use_key_hashing
from ..shuffle.int_columns import (
    ColumnIterator,
    IntPairs,
    concatenated,
    gather_int_columns,
    int_columns,
    int_pairs,
    pairs_of,
    sum_by_key,
)

__all__ = [
    "RangePartitionFunction",
    "cogroup_values",
    "combine_values",
    "distinct_locally",
    "distinct_merge",
    "first_of_pair",
    "group_pairs",
    "identity_partition",
    "in_both",
    "join_values",
    "left_only",
    "map_side_reduce",
    "merge_combiners",
    "pair_with_none",
    "pair_with_true",
    "partition_on_worker",
    "reduce_side_reduce",
    "round_robin_keys",
    "seq_from_zero",
    "sort_partition",
    "split_tags",
    "tag_values",
    "unhashable_key_error",
]

#: Records examined before deciding whether a map-side combine pays.
_SAMPLE = 20_000
#: Combining stops when the sample had more than this fraction of distinct keys.
_USEFUL_REDUCTION = 0.9


def unhashable_key_error(operation: str, key: Any) -> TypeError:
    return TypeError(
        f"{operation}: key {key!r} of type '{type(key).__name__}' is unhashable; the keys of "
        "pair-RDD operations must be hashable (use a tuple instead of a list, for example)"
    )


def _fold_pairs(combined: dict, pairs: Iterable, func: Callable) -> None:
    """Merge ``(key, value)`` pairs into ``combined`` with ``func``.

    A key seen before costs two dict operations, not three: its value is read and replaced
    without a membership test, and the ``KeyError`` of a key's first record adds it. A
    ``KeyError`` raised by ``func`` itself (the key is then present) propagates unchanged.

    >>> combined = {}
    >>> _fold_pairs(combined, [("a", 1), ("b", 2), ("a", 3)], operator.add)
    >>> combined
    {'a': 4, 'b': 2}
    """
    if func is operator.add:  # inline the most common function: no call per record
        for key, value in pairs:
            try:
                combined[key] = combined[key] + value
            except KeyError:
                if key in combined:
                    raise
                combined[key] = value
    else:
        for key, value in pairs:
            try:
                combined[key] = func(combined[key], value)
            except KeyError:
                if key in combined:
                    raise
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
            raise unhashable_key_error(operation, key) from error


def map_side_reduce(func, operation, split, iterator, mapper=None):
    """Map-side combine for ``reduceByKey``; stops combining when it does not pay.

    When the first records are almost all distinct keys, combining the rest would cost a dict
    operation per record and shrink nothing, so the remaining records stream straight into the
    shuffle (the reduce side merges everything anyway).

    With ``mapper`` (only with ``func`` being ``operator.add``), the records are
    ``mapper(record)`` of each record: a ``map`` step just before the combine
    (``rdd.map(to_pair).reduceByKey(add)``) runs inside the fold's own loop, one generator step
    less per record. Errors keep their attribution: the mapper's frames name
    the ``map`` step; unpacking and hashing its results happen in the combine, as without it.

    >>> sorted(map_side_reduce(operator.add, "reduceByKey", 0, [("a", 1), ("b", 2), ("a", 3)]))
    [('a', 4), ('b', 2)]
    >>> sorted(map_side_reduce(operator.add, "reduceByKey", 0, "abca", mapper=lambda w: (w, 1)))
    [('a', 2), ('b', 1), ('c', 1)]
    """
    return _combine_by_key(func, operation, iter(iterator), mapper)


def _combine_by_key(func, operation, source, mapper):
    assert mapper is None or func is operator.add
    # ``records`` yields the (key, value) pairs; with a mapper it pulls one source record per
    # pair, so after any prefix of it the rest of ``source`` is exactly the unmapped remainder.
    records = source if mapper is None else (mapper(record) for record in source)
    head = list(itertools.islice(records, _SAMPLE))
    head_columns = int_columns(head) if func is operator.add else None
    if head_columns is not None:
        columns, rest = gather_int_columns(head, records, head_columns=head_columns)
        if columns is not None:
            keys, values = columns
            sample = keys[:_SAMPLE]
            if len(set(sample.tolist())) > _USEFUL_REDUCTION * len(sample):
                return int_pairs(keys, values)  # mostly distinct keys: combining saves nothing
            summed = sum_by_key(keys, values)
            if summed is not None:
                return int_pairs(*summed)
            rest = int_pairs(keys, values)
        assert rest is not None
        records, mapper = rest, None  # the pairs now come from the columns or their fallback
        head = list(itertools.islice(records, _SAMPLE))
    combined: dict = {}
    try:
        _fold_pairs(combined, head, func)
    except TypeError as error:
        _reraise_unhashable(error, operation, head)
        raise
    if len(head) == _SAMPLE and len(combined) > _USEFUL_REDUCTION * _SAMPLE:
        return itertools.chain(combined.items(), records)
    if mapper is None:
        _fold_pairs(combined, records, func)
    else:
        _fold_mapped_adds(combined, source, mapper)
    return combined.items()


def _fold_mapped_adds(combined: dict, records: Iterable, mapper: Callable) -> None:
    """``_fold_pairs(combined, map(mapper, records), operator.add)`` without the generator step
    between them; the loop is :func:`_fold_pairs`'s ``operator.add`` loop on purpose (a shared
    helper would put a call back on every record).

    >>> combined = {}
    >>> _fold_mapped_adds(combined, "abca", lambda w: (w, 1))
    >>> combined
    {'a': 2, 'b': 1, 'c': 1}
    """
    for record in records:
        key, value = mapper(record)
        try:
            combined[key] = combined[key] + value
        except KeyError:
            if key in combined:
                raise
            combined[key] = value


def _fresh_int_columns(iterator: Any):
    """The int64 columns behind an untouched iterator made by the shuffle itself, if any."""
    if type(iterator) is IntPairs:
        return iterator.int_columns
    if type(iterator) is ColumnIterator:
        return concatenated(iterator.columns)
    return None


def reduce_side_reduce(func, operation, split, iterator):
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


def combine_values(create, merge_value, operation, split, iterator):
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


def merge_combiners(merge, operation, split, iterator):
    combined: dict = {}
    _fold_pairs(combined, iterator, merge)
    return combined.items()


def seq_from_zero(seq_func, zero_payload, value):
    return seq_func(loads(zero_payload), value)


def group_pairs(split, iterator):
    groups: dict = {}
    for key, value in iterator:
        group = groups.get(key)
        if group is None:
            groups[key] = [value]
        else:
            group.append(value)
    return ((key, ResultIterable(values)) for key, values in groups.items())


def distinct_locally(split, iterator):
    return ((element, None) for element in dict.fromkeys(iterator))


def distinct_merge(split, iterator):
    return dict.fromkeys(key for key, _ in iterator)


def tag_values(tag, split, iterator):
    return ((key, (tag, value)) for key, value in iterator)


def split_tags(count, values):
    buffers: list[list] = [[] for _ in range(count)]
    for tag, value in values:
        buffers[tag].append(value)
    return buffers


def cogroup_values(count, split, iterator):
    for key, values in iterator:
        yield key, tuple(ResultIterable(buffer) for buffer in split_tags(count, values))


def join_values(how, split, iterator):
    for key, values in iterator:
        left, right = split_tags(2, values)
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


def left_only(split, iterator):
    for key, values in iterator:
        left, right = split_tags(2, values)
        if left and not right:
            for value in left:
                yield key, value


def pair_with_true(split, iterator):
    return ((element, True) for element in iterator)


def pair_with_none(split, iterator):
    return ((element, None) for element in iterator)


def in_both(split, iterator):
    for key, values in iterator:
        left, right = split_tags(2, values)
        if left and right:
            yield key


def sort_partition(keyfunc, ascending, split, iterator):
    return sorted(iterator, key=lambda kv: keyfunc(kv[0]), reverse=not ascending)


class RangePartitionFunction:
    """Range partitioning from sorted sample bounds (used by ``sortByKey``).

    ``bounds`` are sampled keys and ``keyfunc(key)`` is compared with them, exactly as
    PySpark's ``rangePartitioner`` does.

    >>> by_lower = RangePartitionFunction(["b", "d"], str.lower, True, 3)
    >>> [by_lower(key) for key in ("a", "c", "C", "e")]
    [0, 1, 1, 2]
    >>> RangePartitionFunction(["b", "d"], str.lower, False, 3)("a")
    2
    """

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


def first_of_pair(kv):
    return kv[0]


def round_robin_keys(num_partitions, split, iterator):
    position = random.Random(split).randrange(num_partitions)
    for element in iterator:
        position += 1
        yield position, element


def identity_partition(key: int) -> int:
    return key


def partition_on_worker(
    partitioner: Callable[[Any], int], key: Any, key_hashing: KeyHashing
) -> int:
    """Where a worker places ``key`` (for keys whose hash depends on the process's seed)."""
    use_key_hashing(key_hashing)
    return partitioner(key)
