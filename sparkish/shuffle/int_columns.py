"""A vectorised path through the shuffle for records whose keys and values are all ``int``.

``(int, int)`` pairs are the commonest shuffle records after ``(str, int)`` (ids and counts,
the ``reduce`` and ``bucket`` benchmark workloads). Held as two ``int64`` numpy arrays instead of
Python tuples they are bucketed, framed and, for ``reduceByKey(operator.add)``, summed per key
without a Python-level step per record; a bucket then travels as raw array bytes rather than a
pickle.

Nothing here changes a result. Every entry point checks its preconditions (exact ``int`` keys
and values, keys small enough to hash to themselves, sums that cannot overflow 64 bits, keys
dense enough for a lookup table) and returns ``None`` when one fails, so that the caller keeps
the general Python path. Record order is the general path's order too: buckets keep map order
and per-key sums come out in order of each key's first appearance, as a ``dict`` would give.
No step sorts keys: bucketing is a stable counting sort of the reduce-partition ids.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import numpy as np

_native_int_pair_columns: Callable[[list], tuple[bytearray, bytearray] | None] | None
try:
    from ._int_pairs import int_pair_columns as _native_int_pair_columns
except ImportError:  # installed without a C compiler: the pure-Python loop gives the same results
    _native_int_pair_columns = None

#: Whether :func:`int_columns` runs the C loop (the extension was compiled at install).
NATIVE_CONVERSION = _native_int_pair_columns is not None

__all__ = [
    "ENCODED_TAG",
    "NATIVE_CONVERSION",
    "ColumnIterator",
    "IntPairs",
    "bucket_int_columns",
    "decode_int_columns",
    "concatenated",
    "encode_int_columns",
    "gather_int_columns",
    "int_columns",
    "int_pairs",
    "is_int_payload",
    "native_int_columns",
    "pairs_of",
    "python_int_columns",
    "sum_by_key",
]

_PAIR_TYPES = frozenset({tuple, list})
_first = operator.itemgetter(0)
_second = operator.itemgetter(1)
#: Every int with an absolute value below this hashes to itself under ``hash()`` (but -1).
_HASH_IDENTITY_LIMIT = (1 << 61) - 1
#: Marks a bucket framed as raw ``int64`` columns (a pickle starts with ``b"\x80"``).
ENCODED_TAG = b"SPKI64\x00\x00"
_TAG_SIZE = len(ENCODED_TAG)
#: Sums whose every partial sum stays below this are exact in float64 (``np.bincount``).
_EXACT_FLOAT_LIMIT = 1 << 53
_INT64_LIMIT = 1 << 63
#: A per-key table is used when it has at most this many slots per record (plus a constant).
_TABLE_SLOTS_PER_RECORD = 4
_TABLE_SLACK = 1 << 12
#: Bucketing runs a stable radix sort on uint16 partition ids; more partitions take the Python path.
_MAX_VECTOR_PARTITIONS = 1 << 16


class IntPairs(itertools.chain):
    """An iterator of ``(key, value)`` int pairs that also exposes them as two arrays.

    Iterating yields Python ints (never numpy scalars). ``int_columns`` is only meaningful while
    the iterator has not been advanced: only the map side of ``reduceByKey`` makes these, and
    its output goes straight to the shuffle writer or the reduce side, never to user code.
    """

    int_columns: tuple[np.ndarray, np.ndarray]


class ColumnIterator(itertools.chain):
    """Iterator over a reduce partition's pairs that keeps a reference to the received columns,
    so the first consumer (the reduce side of ``reduceByKey``) can work on whole arrays."""

    columns: list[tuple[Any, Any]]


def pairs_of(keys: Any, values: Any) -> Iterator[tuple]:
    """``(key, value)`` pairs of a key column and a value column, lists or int64 arrays; arrays
    yield Python ints, never numpy scalars.

    >>> list(pairs_of(np.array([1, 2]), np.array([3, 4]))), list(pairs_of(["a"], [5]))
    ([(1, 3), (2, 4)], [('a', 5)])
    """
    if isinstance(keys, np.ndarray):
        return zip(keys.tolist(), values.tolist())
    return zip(keys, values)


def int_pairs(keys: np.ndarray, values: np.ndarray) -> IntPairs:
    """Wrap two equal-length int64 arrays as an :class:`IntPairs` iterator.

    >>> pairs = int_pairs(np.array([3, 1]), np.array([30, 10]))
    >>> pairs.int_columns[0].tolist()
    [3, 1]
    >>> list(pairs)
    [(3, 30), (1, 10)]
    """
    iterator = cast(IntPairs, IntPairs.from_iterable(_lazy_pairs(keys, values)))
    iterator.int_columns = (keys, values)
    return iterator


def _lazy_pairs(keys: np.ndarray, values: np.ndarray) -> Iterator[Iterator[tuple[int, int]]]:
    yield pairs_of(keys, values)


def int_columns(records: list) -> tuple[np.ndarray, np.ndarray] | None:
    """The keys and values of ``records`` as int64 arrays, or None unless every record is a
    pair of exact ``int`` (not ``bool``) whose key hashes to itself and whose value fits in
    64 bits.

    One C loop (:func:`native_int_columns`) when the extension was built, else
    :func:`python_int_columns`; both give the same answer.

    >>> keys, values = int_columns([(5, 1), [-3, 2]])
    >>> keys.tolist(), values.tolist()
    ([5, -3], [1, 2])
    >>> int_columns([(5, 1), (True, 2)]) is None, int_columns([(2**61, 1)]) is None
    (True, True)
    """
    if _native_int_pair_columns is not None and type(records) is list:
        return native_int_columns(records)
    return python_int_columns(records)


def native_int_columns(records: list) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`python_int_columns` in one pass of C (about 27 ns per record instead of 180-195);
    raises ImportError when sparkish was installed without its C extension.

    >>> native_int_columns([(1, 2), (3, 2**63)]) is None  # the value needs 65 bits
    True
    """
    if _native_int_pair_columns is None:
        raise ImportError("sparkish.shuffle._int_pairs was not built (no C compiler at install)")
    columns = _native_int_pair_columns(records)
    if columns is None:
        return None
    keys, values = columns
    return np.frombuffer(keys, dtype=np.int64), np.frombuffer(values, dtype=np.int64)


def python_int_columns(records: list) -> tuple[np.ndarray, np.ndarray] | None:
    """The keys and values of ``records`` as int64 arrays, or None unless every record is a
    pair of exact ``int`` (not ``bool``) whose key hashes to itself and whose value fits in
    64 bits. The reference implementation of :func:`int_columns`.

    >>> keys, values = python_int_columns([(5, 1), (-3, 2)])
    >>> keys.tolist(), values.tolist()
    ([5, -3], [1, 2])
    >>> python_int_columns([(5, 1), (True, 2)]) is None  # a bool key stays a Python object
    True
    >>> python_int_columns([(5, 1), (6, 2.0)]) is None
    True
    >>> python_int_columns([(5, 1, 0)]) is None
    True
    >>> python_int_columns([{0: 7, 1: 8}]) is None  # unpacks as (0, 1), not (7, 8)
    True
    """
    if not records:
        return None
    if not set(map(type, records)) <= _PAIR_TYPES:  # a dict or str "pair" unpacks otherwise
        return None
    try:
        if set(map(len, records)) != {2}:
            return None
        keys = list(map(_first, records))  # 3x faster than zip(*records)
        values = list(map(_second, records))
    except (TypeError, KeyError, IndexError):  # records without len() or indexing
        return None
    if set(map(type, keys)) != {int} or set(map(type, values)) != {int}:
        return None
    try:
        key_array = np.array(keys, dtype=np.int64)
        value_array = np.array(values, dtype=np.int64)
    except OverflowError:
        return None
    limit = _HASH_IDENTITY_LIMIT
    if int(key_array.min()) <= -limit or int(key_array.max()) >= limit:
        return None
    return key_array, value_array


def gather_int_columns(
    head: list,
    rest: Iterator,
    chunk_size: int = 1 << 16,
    head_columns: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], None] | tuple[None, Iterator]:
    """Convert ``head`` and then ``rest``, chunk by chunk, to int64 columns.

    Returns ``(columns, None)`` when every record qualified, otherwise ``(None, records)`` where
    ``records`` yields every record of ``head`` and ``rest`` in their original order (already
    converted chunks come back as Python pairs). ``head_columns``: ``int_columns(head)``, when
    the caller already has it.
    """
    first = head_columns if head_columns is not None else int_columns(head)
    if first is None:
        return None, itertools.chain(head, rest)
    key_chunks, value_chunks = [first[0]], [first[1]]
    while True:
        chunk = list(itertools.islice(rest, chunk_size))
        if not chunk:
            break
        columns = int_columns(chunk)
        if columns is None:
            converted = map(pairs_of, key_chunks, value_chunks)
            return None, itertools.chain(itertools.chain.from_iterable(converted), chunk, rest)
        key_chunks.append(columns[0])
        value_chunks.append(columns[1])
    if len(key_chunks) == 1:
        return first, None
    return (np.concatenate(key_chunks), np.concatenate(value_chunks)), None


def bucket_int_columns(
    keys: np.ndarray, values: np.ndarray, num_partitions: int
) -> list[tuple[int, np.ndarray, np.ndarray]] | None:
    """Split int64 columns by ``portable_hash(key) % num_partitions``, keeping record order in
    each bucket: ``[(reduce id, keys, values), ...]`` for the non-empty buckets, or None when
    there are too many partitions for the vectorised path.

    >>> [(r, k.tolist(), v.tolist()) for r, k, v in bucket_int_columns(
    ...     np.array([1, 2, 3, 5, -1]), np.array([10, 20, 30, 50, 99]), 2)]
    [(0, [2, -1], [20, 99]), (1, [1, 3, 5], [10, 30, 50])]
    """
    if num_partitions > _MAX_VECTOR_PARTITIONS:
        return None
    hashes = np.where(keys == -1, -2, keys)  # hash(-1) == -2 in CPython
    partition_ids = np.remainder(hashes, num_partitions)  # Python's sign convention
    order = np.argsort(partition_ids.astype(np.uint16), kind="stable")  # radix: O(n)
    ends = np.cumsum(np.bincount(partition_ids, minlength=num_partitions)).tolist()
    sorted_keys = keys[order]
    sorted_values = values[order]
    buckets = []
    start = 0
    for reduce_id, end in enumerate(ends):
        if end > start:
            buckets.append((reduce_id, sorted_keys[start:end], sorted_values[start:end]))
        start = end
    return buckets


def encode_int_columns(keys: np.ndarray, values: np.ndarray) -> bytes:
    """Frame a bucket of int64 columns as bytes: a tag, then the keys, then the values.

    >>> keys, values = decode_int_columns(encode_int_columns(np.array([1, 2]), np.array([3, 4])))
    >>> keys.tolist(), values.tolist()
    ([1, 2], [3, 4])
    """
    key_bytes = keys.astype("<i8", copy=False).tobytes()
    return b"".join((ENCODED_TAG, key_bytes, values.astype("<i8", copy=False).tobytes()))


def is_int_payload(payload: bytes | memoryview) -> bool:
    """Whether a shuffle bucket was framed by :func:`encode_int_columns` (else it is a pickle)."""
    return payload[:_TAG_SIZE] == ENCODED_TAG


def decode_int_columns(
    payloads: bytes | memoryview | list[bytes | memoryview],
) -> tuple[np.ndarray, np.ndarray]:
    """The keys and values of one or several buckets framed by :func:`encode_int_columns`,
    concatenated in order.

    >>> keys, values = decode_int_columns([
    ...     encode_int_columns(np.array([1]), np.array([2])),
    ...     encode_int_columns(np.array([3, 4]), np.array([5, 6]))])
    >>> keys.tolist(), values.tolist()
    ([1, 3, 4], [2, 5, 6])
    """
    if not isinstance(payloads, list):
        payloads = [payloads]
    key_parts = []
    value_parts = []
    for payload in payloads:
        middle = _TAG_SIZE + (len(payload) - _TAG_SIZE) // 2
        key_parts.append(payload[_TAG_SIZE:middle])
        value_parts.append(payload[middle:])
    keys = np.frombuffer(b"".join(key_parts), dtype="<i8")
    values = np.frombuffer(b"".join(value_parts), dtype="<i8")
    return keys, values


def concatenated(columns: Iterable[tuple[Any, Any]]) -> tuple[np.ndarray, np.ndarray] | None:
    """Concatenate the columns of several buckets if they are all int64 arrays, else None."""
    columns = list(columns)
    if not columns or not all(isinstance(keys, np.ndarray) for keys, _ in columns):
        return None
    if len(columns) == 1:
        return columns[0]
    return (
        np.concatenate([keys for keys, _ in columns]),
        np.concatenate([values for _, values in columns]),
    )


def sum_by_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Sum ``values`` per key; keys in order of first appearance, as folding into a dict gives.

    Returns None (use the dict) when a sum could leave 64 bits or the keys are too sparse for a
    lookup table. Keys of one reduce partition are usually congruent modulo the partition count,
    so the table is indexed by ``(key - min) // stride`` with the keys' common stride.

    >>> unique, sums = sum_by_key(np.array([7, 3, 7, 11, 3]), np.array([1, 2, 3, 4, 5]))
    >>> unique.tolist(), sums.tolist()
    ([7, 3, 11], [4, 7, 4])
    >>> sum_by_key(np.array([1, 2]), np.array([2**62, 2**62])) is None
    True
    """
    count = len(keys)
    if count == 0:
        return keys, values
    value_bound = max(int(values.max()), -int(values.min())) * count
    if value_bound >= _INT64_LIMIT:
        return None
    low = int(keys.min())
    offsets = keys - low
    stride = int(np.gcd.reduce(offsets)) or 1
    size = int(offsets.max()) // stride + 1
    if size > _TABLE_SLOTS_PER_RECORD * count + _TABLE_SLACK:
        return None
    slots = offsets // stride if stride > 1 else offsets
    if value_bound < _EXACT_FLOAT_LIMIT:
        table = np.bincount(slots, weights=values, minlength=size).astype(np.int64)
    else:
        table = np.zeros(size, dtype=np.int64)
        np.add.at(table, slots, values)
    first_seen = np.full(size, count, dtype=np.int64)
    np.minimum.at(first_seen, slots, np.arange(count, dtype=np.int64))
    is_first = np.zeros(count, dtype=bool)
    is_first[first_seen[first_seen < count]] = True
    positions = np.flatnonzero(is_first)
    return keys[positions], table[slots[positions]]
