"""Seed-free hashing of shuffle keys.

The map side of a shuffle sends a record with key ``k`` to reduce partition
``portable_hash(k) % num_partitions``. Every process taking part (the driver and every worker)
must compute the same partition for keys that compare equal, so the hash may not depend on
``PYTHONHASHSEED`` (which changes ``hash(str)``, ``hash(bytes)`` and ``hash(datetime)`` between
processes) or on object identity (Python 3.10+ hashes NaN by identity).

Rules, chosen to agree with PySpark's ``portable_hash`` where PySpark is itself seed-free:

- ``None`` -> 0, and tuples are combined exactly as PySpark does. ``int``, ``bool``, ``float``
  (except NaN), ``complex``, ``Fraction`` and ``Decimal`` use Python's numeric hash. It does not
  depend on any seed and it keeps ``1 == 1.0 == True == Fraction(1) == Decimal(1)`` together.
  Keys made of these types land in the same partition as in PySpark.
- Every NaN hashes to 0, the value CPython used before 3.10.
- ``str``: xxh3-64 of its UTF-8 bytes (lone surrogates allowed), read as a signed 64-bit
  integer. ``bytes``: the same with xxh3 seed 7, so ``"a"`` and ``b"a"`` do not collide.
- ``frozenset``: an order-independent combination of the elements' hashes.
- ``datetime``, ``date``, ``time`` and ``timedelta``: xxh3-64 of an integer count of
  microseconds (or days). Aware datetimes and times are counted from UTC, so values that are
  equal at the same instant hash equally.
- ``Enum`` members (not ``IntEnum``/``StrEnum``, which hash as their values): the class's and
  the member's names.
- Subclasses of the types above (``IntEnum``, namedtuples, ``numpy.str_``, ``numpy.float64``,
  ``pandas.Timestamp``, ...) use their base type's rule. A subclass that redefines ``__eq__`` in
  Python falls back to ``hash()``: sparkish cannot know its equality.
- Other numbers (numpy scalars, ...): Python's numeric hash, with NaN -> 0.
- Anything else (user classes, dataclasses) falls back to ``hash(key)``. That can depend on
  ``PYTHONHASHSEED`` (a frozen dataclass holding a ``str``) or even on the object's address.
  :func:`is_portable_key_type` tells the shuffle when this happens. sparkish starts its local
  workers with a fixed ``PYTHONHASHSEED`` so ``hash()`` agrees across them, but a driver or an
  external worker started without that variable does not.

Caveat shared with PySpark: ``hash(n) == n`` for most ints, so strided int keys (all multiples
of 1000, say) collide when the stride and the partition count share factors. Changing that
would move int keys to partitions other than PySpark's.

Only 64-bit CPython is supported; the values match PySpark's on the same platform.
"""

from __future__ import annotations

import enum
import numbers
import sys
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from types import FunctionType
from typing import Any

from xxhash import xxh3_64_intdigest

from ..validation import require_int

__all__ = [
    "NAN_HASH",
    "bucket_columns",
    "bucket_pairs",
    "is_portable_key_type",
    "partition_ids",
    "portable_hash",
]

#: The hash of every NaN (float, complex, Decimal, numpy). CPython used 0 before 3.10.
NAN_HASH = sys.hash_info.nan

_UINT64_MASK = (1 << 64) - 1
_TWO_POW_63 = 1 << 63
_TWO_POW_64 = 1 << 64
# PySpark's tuple rule: the CPython 2.7 tuple hash, kept inside sys.maxsize.
_TUPLE_SEED = 0x345678
_TUPLE_MULTIPLIER = 1000003
_TUPLE_MASK = sys.maxsize
_MICROSECONDS_PER_DAY = 86_400_000_000
_EMPTY_FROZENSET_HASH = 0x2545F4914F6CDD1D
# Different xxh3 seeds keep e.g. a date and a timedelta with the same count apart.
_SEED_DATE = 1
_SEED_DATETIME = 2
_SEED_TIME = 3
_SEED_TIMEDELTA = 4
_SEED_FROZENSET = 5
_SEED_ENUM = 6
_SEED_BYTES = 7
# Types resolved at run time (subclasses, numpy scalars, user classes) are cached; this bounds
# the cache when a program creates classes dynamically.
_MAX_CACHED_TYPES = 4096


def _signed64(unsigned: int) -> int:
    """Read a 64-bit unsigned integer as two's complement, the range of ``hash()``."""
    return unsigned - _TWO_POW_64 if unsigned >= _TWO_POW_63 else unsigned


def _hash_str(key: str) -> int:
    try:
        encoded = key.encode()
    except UnicodeEncodeError:  # lone surrogates, e.g. from os.fsdecode of undecodable bytes
        encoded = key.encode("utf-8", "surrogatepass")
    unsigned = xxh3_64_intdigest(encoded)
    # _signed64 inlined: this runs once per record.
    return unsigned - _TWO_POW_64 if unsigned >= _TWO_POW_63 else unsigned


def _hash_bytes(key: bytes) -> int:
    unsigned = xxh3_64_intdigest(key, _SEED_BYTES)
    return unsigned - _TWO_POW_64 if unsigned >= _TWO_POW_63 else unsigned


def _hash_none(key: None) -> int:
    return 0


def _hash_float(key: float) -> int:
    return hash(key) if key == key else NAN_HASH


def _hash_complex(key: complex) -> int:
    if key == key:
        return hash(key)
    real, imag = key.real, key.imag
    return hash(complex(real if real == real else 0.0, imag if imag == imag else 0.0))


def _hash_number(key: Any) -> int:
    # hash() first: it raises TypeError for a signalling Decimal NaN, which would otherwise
    # raise InvalidOperation in the comparison.
    numeric_hash = hash(key)
    return numeric_hash if key == key else NAN_HASH


def _hash_tuple(key: tuple) -> int:
    # PySpark's rule, with pairs (the common key shape) unrolled. The hasher table is looked up
    # directly rather than through portable_hash to save a call per element.
    get_hasher = _get_hasher
    if len(key) == 2:
        first, second = key
        first_hash = get_hasher(type(first), portable_hash)(first)
        second_hash = get_hasher(type(second), portable_hash)(second)
        combined = ((_TUPLE_SEED ^ first_hash) * _TUPLE_MULTIPLIER) & _TUPLE_MASK
        return (((combined ^ second_hash) * _TUPLE_MULTIPLIER) & _TUPLE_MASK) ^ 2
    combined = _TUPLE_SEED
    for element in key:
        combined ^= get_hasher(type(element), portable_hash)(element)
        combined *= _TUPLE_MULTIPLIER
        combined &= _TUPLE_MASK
    # PySpark maps -1 to -2 here like CPython's hash(); the mask keeps the value non-negative
    # so that cannot happen.
    return combined ^ len(key)


def _hash_frozenset(key: frozenset) -> int:
    # Elements are mixed one by one and then added, so iteration order (which depends on the
    # elements' seeded hash() for str) does not matter and e.g. {1, 2} and {3} stay apart.
    total = 0
    for element in key:
        element_hash = portable_hash(element) & _UINT64_MASK
        total += xxh3_64_intdigest(element_hash.to_bytes(8, "little"), _SEED_FROZENSET)
    if not key:
        return _EMPTY_FROZENSET_HASH
    total = (total + len(key)) & _UINT64_MASK
    return _signed64(xxh3_64_intdigest(total.to_bytes(8, "little"), _SEED_FROZENSET))


def _hash_count(count: int, seed: int) -> int:
    return _signed64(xxh3_64_intdigest(count.to_bytes(16, "little", signed=True), seed))


def _utc_offset_microseconds(value: datetime | time) -> int:
    if value.tzinfo is None:
        return 0
    if value.fold:
        # Aware values that share a tzinfo compare by their wall-clock fields, ignoring fold,
        # so the offset must not depend on fold either (CPython's datetime hash does the same).
        value = value.replace(fold=0)
    offset = value.utcoffset()
    return 0 if offset is None else offset // timedelta(microseconds=1)


def _hash_datetime(key: datetime) -> int:
    seconds = key.toordinal() * 86_400 + key.hour * 3600 + key.minute * 60 + key.second
    microseconds = seconds * 1_000_000 + key.microsecond - _utc_offset_microseconds(key)
    return _hash_count(microseconds, _SEED_DATETIME)


def _hash_date(key: date) -> int:
    return _hash_count(key.toordinal(), _SEED_DATE)


def _hash_time(key: time) -> int:
    seconds = key.hour * 3600 + key.minute * 60 + key.second
    microseconds = seconds * 1_000_000 + key.microsecond - _utc_offset_microseconds(key)
    return _hash_count(microseconds, _SEED_TIME)


def _hash_timedelta(key: timedelta) -> int:
    microseconds = key.days * _MICROSECONDS_PER_DAY + key.seconds * 1_000_000 + key.microseconds
    return _hash_count(microseconds, _SEED_TIMEDELTA)


def _hash_enum_member(key: enum.Enum) -> int:
    cls = type(key)
    name = f"{cls.__module__}.{cls.__qualname__}.{key.name}"
    return _signed64(xxh3_64_intdigest(name.encode("utf-8", "surrogatepass"), _SEED_ENUM))


# Exact type -> hasher. ``int`` and ``bool`` map to the builtin ``hash`` itself (no Python
# frame). Subclasses and other types are resolved once by ``_resolve_hasher`` and cached here.
_HASHERS: dict[type, Callable[[Any], int]] = {
    int: hash,
    bool: hash,
    str: _hash_str,
    bytes: _hash_bytes,
    type(None): _hash_none,
    float: _hash_float,
    tuple: _hash_tuple,
    frozenset: _hash_frozenset,
    complex: _hash_complex,
    Fraction: _hash_number,
    Decimal: _hash_number,
    datetime: _hash_datetime,
    date: _hash_date,
    time: _hash_time,
    timedelta: _hash_timedelta,
}

# Builtin base types whose rule a subclass inherits, most specific first (datetime before date).
_BASE_RULES: tuple[tuple[type, Callable[[Any], int]], ...] = (
    (int, hash),
    (str, _hash_str),
    (bytes, _hash_bytes),
    (float, _hash_float),
    (tuple, _hash_tuple),
    (frozenset, _hash_frozenset),
    (complex, _hash_complex),
    (datetime, _hash_datetime),
    (date, _hash_date),
    (time, _hash_time),
    (timedelta, _hash_timedelta),
)

_get_hasher = _HASHERS.get

# Types whose keys fall back to hash(): their hash may depend on PYTHONHASHSEED.
_SEED_DEPENDENT_TYPES: set[type] = set()

_UNHASHABLE_HINTS: dict[type, str] = {
    list: "use a tuple instead",
    set: "use a frozenset instead",
    dict: "use e.g. a tuple of its items instead",
    bytearray: "use bytes instead",
}


def _raise_unhashable(key_type: type) -> None:
    hint = _UNHASHABLE_HINTS.get(key_type)
    if hint is None:
        for base, base_hint in _UNHASHABLE_HINTS.items():
            if issubclass(key_type, base):
                hint = base_hint
                break
        else:
            hint = "keys must be hashable and compare by value"
    raise TypeError(f"unhashable key type {key_type.__name__!r}: {hint}")


def _resolve_hasher(key_type: type) -> tuple[Callable[[Any], int], bool]:
    """Find the rule for a type missing from ``_HASHERS``: (hasher, is seed-independent)."""
    if key_type.__hash__ is None:
        _raise_unhashable(key_type)
    # An __eq__ written in Python redefines equality; C-level overrides (numpy.str_,
    # pandas.Timestamp) keep the base type's equality and so can keep its rule.
    python_level_eq = isinstance(key_type.__eq__, FunctionType)
    for base, hasher in _BASE_RULES:
        if issubclass(key_type, base):
            if python_level_eq:
                return hash, False
            return hasher, True
    if issubclass(key_type, enum.Enum):
        if key_type.__hash__ is enum.Enum.__hash__ and key_type.__eq__ is object.__eq__:
            return _hash_enum_member, True
        return hash, False
    if issubclass(key_type, numbers.Number):
        return _hash_number, True
    return hash, False


def _hash_uncached(key: Any) -> int:
    key_type = type(key)
    hasher, seed_independent = _resolve_hasher(key_type)
    if len(_HASHERS) < _MAX_CACHED_TYPES:
        if not seed_independent:
            _SEED_DEPENDENT_TYPES.add(key_type)
        _HASHERS[key_type] = hasher
    return hasher(key)


def portable_hash(key: Hashable) -> int:
    """Hash a shuffle key identically in every process, whatever ``PYTHONHASHSEED`` is.

    Keys that compare equal hash equally (``1``, ``1.0`` and ``True`` included). ``None``,
    ints, floats and tuples of them hash exactly as in PySpark. The result is a Python int
    that may be negative; ``portable_hash(key) % num_partitions`` is the key's partition.

    >>> portable_hash(None)
    0
    >>> portable_hash((None, 1)) & 0xffffffff
    219750521
    >>> portable_hash(1) == portable_hash(1.0) == portable_hash(True) == hash(1)
    True
    >>> portable_hash(float("nan")) == portable_hash(float("-nan")) == NAN_HASH
    True
    >>> import xxhash  # str: xxh3-64 of the UTF-8 bytes, as a signed 64-bit int
    >>> digest = xxhash.xxh3_64_digest("héllo".encode())
    >>> portable_hash("héllo") == int.from_bytes(digest, "big", signed=True)
    True
    >>> portable_hash(frozenset({"a", "b"})) == portable_hash(frozenset({"b", "a"}))
    True
    >>> portable_hash([1, 2])
    Traceback (most recent call last):
      ...
    TypeError: unhashable key type 'list': use a tuple instead
    """
    hasher = _get_hasher(type(key))
    if hasher is None:
        return _hash_uncached(key)
    return hasher(key)


def is_portable_key_type(key: Any) -> bool:
    """Return whether ``portable_hash(key)`` is the same in every process, whatever the seed.

    False means the key (or an element of a tuple or frozenset key) falls back to ``hash()``,
    which may depend on ``PYTHONHASHSEED`` or on object identity; the shuffle can then warn or
    require a fixed seed on all processes. Unhashable keys also give False.

    >>> is_portable_key_type(("user", 1, None, 2.5))
    True
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Point:
    ...     x: int
    >>> is_portable_key_type(Point(1))
    False
    >>> is_portable_key_type([1])
    False
    """
    key_type = type(key)
    hasher = _HASHERS.get(key_type)
    if hasher is None:
        try:
            hasher, seed_independent = _resolve_hasher(key_type)
        except TypeError:
            return False
    else:
        seed_independent = key_type not in _SEED_DEPENDENT_TYPES
    if not seed_independent:
        return False
    if hasher is _hash_tuple or hasher is _hash_frozenset:
        return all(is_portable_key_type(element) for element in key)
    return True


def partition_ids(
    keys: Iterable[Hashable],
    num_partitions: int,
    hash_func: Callable[[Any], int] = portable_hash,
) -> list[int]:
    """Return ``hash_func(key) % num_partitions`` for every key, as a list.

    >>> partition_ids([0, 1, 2, 7, -1, None], 4)
    [0, 1, 2, 3, 2, 0]
    """
    require_int(num_partitions, "partition_ids", "num_partitions")
    if hash_func is portable_hash:
        get_hasher = _get_hasher  # skip portable_hash's own call and lookup per key
        return [get_hasher(type(key), portable_hash)(key) % num_partitions for key in keys]
    return [hash_func(key) % num_partitions for key in keys]


def bucket_pairs(
    pairs: Iterable[tuple[Any, Any]],
    num_partitions: int,
    partition_func: Callable[[Any], int] = portable_hash,
) -> list[list[tuple[Any, Any]]]:
    """Split ``(key, value)`` records into ``num_partitions`` lists by ``partition_func(key)``.

    Record order is kept inside each bucket. This is the map side of the hash shuffle.

    >>> bucket_pairs([(1, "a"), (2, "b"), (3, "c"), (5, "d")], 2)
    [[(2, 'b')], [(1, 'a'), (3, 'c'), (5, 'd')]]
    """
    require_int(num_partitions, "bucket_pairs", "num_partitions")
    buckets: list[list[tuple[Any, Any]]] = [[] for _ in range(num_partitions)]
    appenders = [bucket.append for bucket in buckets]
    if partition_func is portable_hash:
        # Keys of one shuffle usually share a type: look the hasher up again only when the type
        # changes. Measured 1.3x faster than a lookup per record for int keys.
        last_type: type = int
        hasher: Callable[[Any], int] = hash
        for pair in pairs:
            key = pair[0]
            if type(key) is not last_type:
                last_type = type(key)
                hasher = _get_hasher(last_type, portable_hash)
            appenders[hasher(key) % num_partitions](pair)
    else:
        for pair in pairs:
            appenders[partition_func(pair[0]) % num_partitions](pair)
    return buckets


def bucket_columns(
    pairs: Iterable[tuple[Any, Any]],
    num_partitions: int,
    partition_func: Callable[[Any], int] = portable_hash,
) -> tuple[list[list], list[list]]:
    """Like :func:`bucket_pairs`, but each bucket as a list of keys and a list of values.

    Two flat lists pickle and unpickle 2-3x faster than a list of pairs.

    >>> keys, values = bucket_columns([(1, "a"), (2, "b"), (3, "c")], 2)
    >>> keys, values
    ([[2], [1, 3]], [['b'], ['a', 'c']])
    """
    require_int(num_partitions, "bucket_columns", "num_partitions")
    key_buckets: list[list] = [[] for _ in range(num_partitions)]
    value_buckets: list[list] = [[] for _ in range(num_partitions)]
    key_appenders = [bucket.append for bucket in key_buckets]
    value_appenders = [bucket.append for bucket in value_buckets]
    if partition_func is portable_hash:
        last_type: type = int
        hasher: Callable[[Any], int] = hash
        for key, value in pairs:
            if type(key) is not last_type:
                last_type = type(key)
                hasher = _get_hasher(last_type, portable_hash)
            index = hasher(key) % num_partitions
            key_appenders[index](key)
            value_appenders[index](value)
    else:
        for key, value in pairs:
            index = partition_func(key) % num_partitions
            key_appenders[index](key)
            value_appenders[index](value)
    return key_buckets, value_buckets
