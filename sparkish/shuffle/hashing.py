"""Hashing of shuffle keys: PySpark's placement, the same in every process.

The map side of a shuffle sends a record with key ``k`` to reduce partition
``portable_hash(k) % num_partitions``. Every process taking part (the driver and every worker)
must compute the same partition for keys that compare equal, and by default that partition is
the one PySpark gives, so output order (``glom``, ``collect`` after a shuffle) matches PySpark's.

PySpark hashes ``str`` and ``bytes`` keys with the built-in ``hash()``, which depends on
``PYTHONHASHSEED``; its executors run with the driver's ``PYTHONHASHSEED``, else ``0``. The
process's :class:`KeyHashing` names the hash function and that seed (:func:`use_key_hashing`;
every task applies its job's). A process started with that seed hashes strings with the
built-in ``hash`` (fast path); any other process (a driver or an external ``dask worker``
started without it) computes the same value itself: CPython's SipHash over the string's
internal representation, keyed as ``PYTHONHASHSEED`` keys it (:func:`python_hash`).

Rules of the ``"pyspark"`` function:

- ``None`` -> 0, and tuples are combined exactly as PySpark does. ``int``, ``bool``, ``float``
  (except NaN), ``complex``, ``Fraction`` and ``Decimal`` use Python's numeric hash. It does not
  depend on any seed and it keeps ``1 == 1.0 == True == Fraction(1) == Decimal(1)`` together.
- ``str``, ``bytes``: CPython's ``hash()`` under the configured seed, as in PySpark.
- ``frozenset``: CPython's frozenset hash over its elements' CPython hashes (seeded ``str`` and
  ``bytes``, CPython's tuple hash for tuples), as in PySpark.
- ``Enum`` members (not ``IntEnum``/``StrEnum``, which hash as their values): the seeded hash
  of the member's name, which is what ``Enum.__hash__`` returns.
- ``datetime``, ``date``, ``time``, ``timedelta``: CPython's hashes. Naive values hash their
  packed fields as bytes (seeded like ``bytes``); aware ones and timedeltas hash a
  ``(days, seconds, microseconds)`` tuple in UTC, which no seed changes.

The ``"xxh3"`` function (``sparkish.shuffle.hash=xxh3``) needs no seed: ``str`` is xxh3-64 of its
UTF-8 bytes (lone surrogates allowed), ``bytes`` the same with xxh3 seed 7, a ``frozenset`` an
order-independent mix of its elements' hashes, an ``Enum`` member xxh3 of its class's and its
own name, ``datetime``, ``date``, ``time`` and ``timedelta`` xxh3-64 of an integer count of
microseconds (or days), aware values counted from UTC; everything else as above. Placement
then differs from PySpark's.

Both functions:

- Every NaN hashes to 0, the value CPython used before 3.10 (PySpark's hash of NaN depends on
  the object's identity since 3.10, so equal NaN keys would land apart).
- Subclasses of the types above (``IntEnum``, namedtuples, ``numpy.str_``, ``numpy.float64``,
  ``pandas.Timestamp``, ...) use their base type's rule. A subclass that redefines ``__eq__`` in
  Python falls back to ``hash()``: sparkish cannot know its equality.
- Other numbers (numpy scalars, ...): Python's numeric hash, with NaN -> 0.
- Anything else (user classes, dataclasses) falls back to ``hash(key)``. That can depend on
  ``PYTHONHASHSEED`` (a frozen dataclass holding a ``str``) or even on the object's address.
  :func:`is_portable_key_type` tells the shuffle when this happens. sparkish starts its local
  workers with the configured seed so ``hash()`` agrees across them, but a driver or an
  external worker started without it does not.

Caveat shared with PySpark: ``hash(n) == n`` for most ints, so strided int keys (all multiples
of 1000, say) collide when the stride and the partition count share factors. Changing that
would move int keys to partitions other than PySpark's.

Only 64-bit CPython is supported; the values match PySpark's on the same platform.
"""

from __future__ import annotations

import enum
import numbers
import os
import sys
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from types import FunctionType
from typing import Any, NamedTuple

import siphash24
from xxhash import xxh3_64_intdigest

from ..validation import require_int

__all__ = [
    "DEFAULT_KEY_HASHING",
    "HASH_FUNCTIONS",
    "MAX_HASH_SEED",
    "NAN_HASH",
    "KeyHashing",
    "bucket_columns",
    "bucket_pairs",
    "builtin_hash_matches",
    "current_key_hashing",
    "is_portable_key_type",
    "partition_ids",
    "portable_hash",
    "python_hash",
    "seed_from_environment",
    "use_key_hashing",
]

#: The key hash functions: PySpark's placement (seeded like PySpark) and seed-free xxh3.
HASH_FUNCTIONS = ("pyspark", "xxh3")
#: The largest ``PYTHONHASHSEED`` CPython accepts.
MAX_HASH_SEED = 4_294_967_295

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
# CPython's tuple hash (Objects/tupleobject.c, 64-bit): xxHash primes, rotation by 31 bits.
_XXPRIME_1 = 11400714785074694791
_XXPRIME_2 = 14029467366897019727
_XXPRIME_5 = 2870177450012600261
# CPython's frozenset hash (Objects/setobject.c).
_SHUFFLE_XOR = 89869747
_SHUFFLE_MULTIPLIER = 3644798167
_SIZE_MULTIPLIER = 1927868237
# hash(None) is a constant from CPython 3.12 on; before, it was None's address, which differs
# between processes (PySpark's placement of such frozensets is then arbitrary too).
_NONE_HASH = hash(None) if sys.version_info >= (3, 12) else 0
# hash() of a str or bytes that CPython computes by SipHash: by sys.hash_info.algorithm.
_SIPHASH = {"siphash13": siphash24.siphash13, "siphash24": siphash24.siphash24}
# A str of the UCS-2 kind: the fast path's check covers the representation rule too.
_PROBE = "sparkish hash probe \u2713"
# Types resolved at run time (subclasses, numpy scalars, user classes) are cached; this bounds
# the cache when a program creates classes dynamically.
_MAX_CACHED_TYPES = 4096


def _signed64(unsigned: int) -> int:
    """Read a 64-bit unsigned integer as two's complement, the range of ``hash()``."""
    return unsigned - _TWO_POW_64 if unsigned >= _TWO_POW_63 else unsigned


class KeyHashing(NamedTuple):
    """How a process hashes keys: the function (one of :data:`HASH_FUNCTIONS`) and, for
    ``"pyspark"``, the ``PYTHONHASHSEED`` whose ``hash()`` of ``str`` and ``bytes`` it gives.

    >>> KeyHashing()
    KeyHashing(function='pyspark', seed=0)
    """

    function: str = "pyspark"
    seed: int = 0


#: PySpark's placement with ``PYTHONHASHSEED=0``, as PySpark's executors run by default.
DEFAULT_KEY_HASHING = KeyHashing()


def seed_from_environment(value: str | None) -> int:
    """The hash seed of PySpark's executors under a driver whose ``PYTHONHASHSEED`` is ``value``.

    PySpark passes the driver's value on, else ``0``. ``random`` (each executor its own seed,
    so PySpark's placement of strings would change from run to run) also gives ``0``.

    >>> seed_from_environment("42"), seed_from_environment(None), seed_from_environment("random")
    (42, 0, 0)
    """
    if value is None or not value.strip().isdigit():
        return 0
    return int(value)


def _siphash_key(seed: int) -> bytes:
    """The SipHash key CPython derives from ``PYTHONHASHSEED=seed`` (``Python/bootstrap_hash.c``):
    zeros for 0, else the first 16 bytes of its linear congruential generator's output."""
    if seed == 0:
        return bytes(16)
    key = bytearray()
    state = seed
    for _ in range(16):
        state = (state * 214013 + 2531011) & 0xFFFFFFFF
        key.append((state >> 16) & 0xFF)
    return bytes(key)


def _representation(text: str) -> bytes:
    """The bytes CPython hashes for ``text``: its PEP 393 form, with one (Latin-1), two (UCS-2)
    or four (UCS-4) bytes per code point depending on the widest code point."""
    if text.isascii():
        return text.encode("ascii")
    widest = max(text)
    if widest <= "\xff":
        return text.encode("latin-1")
    if widest <= "\uffff":
        return text.encode("utf-16-le", "surrogatepass")
    return text.encode("utf-32-le", "surrogatepass")


def _seeded_bytes_hasher(seed: int) -> Callable[[bytes], int]:
    """CPython's ``hash()`` of bytes in a process started with ``PYTHONHASHSEED=seed``."""
    siphash = _SIPHASH.get(sys.hash_info.algorithm)
    if siphash is None or sys.hash_info.cutoff != 0:
        raise RuntimeError(
            f"sparkish cannot reproduce this Python's str hash ({sys.hash_info.algorithm}, "
            f"cutoff {sys.hash_info.cutoff}) for PYTHONHASHSEED={seed}: start every process "
            f"with PYTHONHASHSEED={seed}, or set sparkish.shuffle.hash=xxh3"
        )
    key = _siphash_key(seed)

    def hash_bytes(data: bytes) -> int:
        if not data:
            return 0  # _Py_HashBytes: the empty string hashes to 0 under every seed
        value: int = siphash(data, key=key).intdigest()  # signed, like hash()
        return -2 if value == -1 else value  # -1 is reserved for errors

    return hash_bytes


def python_hash(key: str | bytes, seed: int) -> int:
    """CPython's ``hash(key)`` in a process started with ``PYTHONHASHSEED=seed``.

    Computed without this process's own ``hash()``, so it is the same in every process.

    >>> python_hash(b"abc", 0), python_hash("abc", 0)
    (-4594863902769663758, -4594863902769663758)
    >>> python_hash("", 12345)
    0
    """
    hash_bytes = _seeded_bytes_hasher(seed)
    return hash_bytes(_representation(key) if isinstance(key, str) else key)


def builtin_hash_matches(seed: int) -> bool:
    """Whether this process's own ``hash()`` of ``str`` and ``bytes`` is CPython's under
    ``PYTHONHASHSEED=seed`` (the process was started with that seed)."""
    return hash(_PROBE) == python_hash(_PROBE, seed)


def _seeded_str_and_bytes_hashers(
    seed: int,
) -> tuple[Callable[[str], int], Callable[[bytes], int]]:
    """``hash()`` of str and bytes under ``seed``: the built-in when this process runs with that
    seed, else CPython's algorithm computed here."""
    if builtin_hash_matches(seed):
        return hash, hash
    hash_bytes = _seeded_bytes_hasher(seed)

    def hash_str(key: str) -> int:
        return hash_bytes(_representation(key))

    return hash_str, hash_bytes


def _xxh3_str(key: str) -> int:
    try:
        encoded = key.encode()
    except UnicodeEncodeError:  # lone surrogates, e.g. from os.fsdecode of undecodable bytes
        encoded = key.encode("utf-8", "surrogatepass")
    unsigned = xxh3_64_intdigest(encoded)
    # _signed64 inlined: this runs once per record.
    return unsigned - _TWO_POW_64 if unsigned >= _TWO_POW_63 else unsigned


def _xxh3_bytes(key: bytes) -> int:
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


def _xxh3_frozenset(key: frozenset) -> int:
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


def _python_element_hash(element: Any) -> int:
    """``hash(element)`` as a PySpark executor computes it inside a frozenset: tuples by
    CPython's own tuple hash (not PySpark's rule), ``str`` and ``bytes`` seeded, and the other
    types by their portable rule, which equals ``hash()`` wherever that is the same in every
    process."""
    if element is None:
        return _NONE_HASH
    element_type = type(element)
    hasher = _get_hasher(element_type) or _resolve_and_cache(element_type)
    if hasher is _hash_tuple:
        return _python_tuple_hash(element)
    return hasher(element)


def _python_tuple_hash(key: tuple) -> int:
    """CPython's ``tuplehash`` (3.8+, 64-bit) over the elements' :func:`_python_element_hash`."""
    accumulator = _XXPRIME_5
    for element in key:
        lane = _python_element_hash(element) & _UINT64_MASK
        accumulator = (accumulator + lane * _XXPRIME_2) & _UINT64_MASK
        accumulator = ((accumulator << 31) | (accumulator >> 33)) & _UINT64_MASK
        accumulator = (accumulator * _XXPRIME_1) & _UINT64_MASK
    accumulator = (accumulator + (len(key) ^ (_XXPRIME_5 ^ 3527539))) & _UINT64_MASK
    return 1546275796 if accumulator == _UINT64_MASK else _signed64(accumulator)


def _pyspark_frozenset(key: frozenset) -> int:
    """CPython's ``frozenset_hash`` (PySpark calls ``hash()``): the elements' hashes, shuffled
    and xor-ed so that iteration order does not matter, then mixed with the size."""
    mixed = 0
    for element in key:
        element_hash = _python_element_hash(element) & _UINT64_MASK
        shuffled = (element_hash ^ _SHUFFLE_XOR) ^ (element_hash << 16)
        mixed ^= (shuffled * _SHUFFLE_MULTIPLIER) & _UINT64_MASK
    mixed ^= ((len(key) + 1) * _SIZE_MULTIPLIER) & _UINT64_MASK
    mixed ^= (mixed >> 11) ^ (mixed >> 25)
    mixed = (mixed * 69069 + 907133923) & _UINT64_MASK
    return 590923713 if mixed == _UINT64_MASK else _signed64(mixed)


def _pyspark_enum_member(key: enum.Enum) -> int:
    # Enum.__hash__ is hash(self._name_).
    return _HASHERS[str](key.name)


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


def _utc_offset(value: datetime | time) -> timedelta | None:
    """The UTC offset CPython's hash uses: ``None`` for naive values, and never fold's."""
    if value.tzinfo is None:
        return None
    if value.fold:
        value = value.replace(fold=0)
    return value.utcoffset()


def _pyspark_time_hashers(
    hash_bytes: Callable[[bytes], int],
) -> dict[type, Callable[[Any], int]]:
    """CPython's hashes of datetime, date, time and timedelta (``Modules/_datetimemodule.c``),
    as PySpark gets them from ``hash()``: naive values hash their packed fields as bytes (so
    with the seed, through ``hash_bytes``); aware values hash as the ``timedelta`` from midnight
    (or day 0) in UTC, and a ``timedelta`` as its (days, seconds, microseconds) tuple, which
    no seed changes."""

    def hash_timedelta(key: timedelta) -> int:
        return hash((key.days, key.seconds, key.microseconds))

    def hash_datetime(key: datetime) -> int:
        offset = _utc_offset(key)
        micro = key.microsecond
        if offset is None:
            year = key.year
            fields = (year >> 8, year & 0xFF, key.month, key.day, key.hour, key.minute)
            return hash_bytes(
                bytes((*fields, key.second, micro >> 16, (micro >> 8) & 0xFF, micro & 0xFF))
            )
        seconds = key.hour * 3600 + key.minute * 60 + key.second
        return hash_timedelta(timedelta(key.toordinal(), seconds, micro) - offset)

    def hash_date(key: date) -> int:
        year = key.year
        return hash_bytes(bytes((year >> 8, year & 0xFF, key.month, key.day)))

    def hash_time(key: time) -> int:
        offset = _utc_offset(key)
        micro = key.microsecond
        if offset is None:
            fields = (key.hour, key.minute, key.second)
            return hash_bytes(bytes((*fields, micro >> 16, (micro >> 8) & 0xFF, micro & 0xFF)))
        seconds = key.hour * 3600 + key.minute * 60 + key.second
        return hash_timedelta(timedelta(0, seconds, micro) - offset)

    return {datetime: hash_datetime, date: hash_date, time: hash_time, timedelta: hash_timedelta}


def _xxh3_enum_member(key: enum.Enum) -> int:
    cls = type(key)
    name = f"{cls.__module__}.{cls.__qualname__}.{key.name}"
    return _signed64(xxh3_64_intdigest(name.encode("utf-8", "surrogatepass"), _SEED_ENUM))


# The rules that do not depend on the hash function. ``int`` and ``bool`` map to the builtin
# ``hash`` itself (no Python frame).
_COMMON_HASHERS: dict[type, Callable[[Any], int]] = {
    int: hash,
    bool: hash,
    type(None): _hash_none,
    float: _hash_float,
    tuple: _hash_tuple,
    complex: _hash_complex,
    Fraction: _hash_number,
    Decimal: _hash_number,
}

_XXH3_TIME_HASHERS: dict[type, Callable[[Any], int]] = {
    datetime: _hash_datetime,
    date: _hash_date,
    time: _hash_time,
    timedelta: _hash_timedelta,
}

# Exact type -> hasher under this process's key hashing: the common rules plus str, bytes,
# frozenset and the datetime types (set by _install). Subclasses and other types are resolved
# once by ``_resolve_hasher`` and cached here.
_HASHERS: dict[type, Callable[[Any], int]] = dict(_COMMON_HASHERS)

# Builtin base types whose rule a subclass inherits, most specific first (datetime before date).
_BASE_TYPES: tuple[type, ...] = (
    int,
    str,
    bytes,
    float,
    tuple,
    frozenset,
    complex,
    datetime,
    date,
    time,
    timedelta,
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
    for base in _BASE_TYPES:
        if issubclass(key_type, base):
            if python_level_eq:
                return hash, False
            return _HASHERS[base], True
    if issubclass(key_type, enum.Enum):
        if key_type.__hash__ is enum.Enum.__hash__ and key_type.__eq__ is object.__eq__:
            return _active.enum_member_hasher, True
        return hash, False
    if issubclass(key_type, numbers.Number):
        return _hash_number, True
    return hash, False


def _resolve_and_cache(key_type: type) -> Callable[[Any], int]:
    hasher, seed_independent = _resolve_hasher(key_type)
    if len(_HASHERS) < _MAX_CACHED_TYPES:
        if not seed_independent:
            _SEED_DEPENDENT_TYPES.add(key_type)
        _HASHERS[key_type] = hasher
    return hasher


def _hash_uncached(key: Any) -> int:
    return _resolve_and_cache(type(key))(key)


class _ActiveKeyHashing:
    """This process's :class:`KeyHashing` and its rule for ``Enum`` members."""

    def __init__(self) -> None:
        self.hashing = DEFAULT_KEY_HASHING
        self.enum_member_hasher: Callable[[Any], int] = _pyspark_enum_member


_active = _ActiveKeyHashing()


def _install(hashing: KeyHashing) -> None:
    """Put ``hashing``'s rules for str, bytes, frozenset and Enum into the hasher table, and
    forget the rules resolved for other types (a subclass inherits its base's new rule)."""
    if hashing.function == "pyspark":
        hash_str, hash_bytes = _seeded_str_and_bytes_hashers(hashing.seed)
        hash_frozenset, hash_enum_member = _pyspark_frozenset, _pyspark_enum_member
        time_hashers = _pyspark_time_hashers(hash_bytes)
    else:
        hash_str, hash_bytes = _xxh3_str, _xxh3_bytes
        hash_frozenset, hash_enum_member = _xxh3_frozenset, _xxh3_enum_member
        time_hashers = _XXH3_TIME_HASHERS
    _SEED_DEPENDENT_TYPES.clear()
    _HASHERS.clear()
    _HASHERS.update(_COMMON_HASHERS)
    _HASHERS.update({str: hash_str, bytes: hash_bytes, frozenset: hash_frozenset})
    _HASHERS.update(time_hashers)
    _active.enum_member_hasher = hash_enum_member
    _active.hashing = hashing


def use_key_hashing(hashing: KeyHashing) -> None:
    """Make this process hash keys with ``hashing``; cheap when it already does.

    The driver calls it when a context starts and every task with its job's key hashing, so
    all processes of a job place keys alike.

    >>> previous = current_key_hashing()
    >>> use_key_hashing(KeyHashing("xxh3"))
    >>> current_key_hashing()
    KeyHashing(function='xxh3', seed=0)
    >>> use_key_hashing(KeyHashing("murmur"))
    Traceback (most recent call last):
      ...
    ValueError: sparkish.shuffle.hash must be one of pyspark, xxh3, got 'murmur'
    >>> use_key_hashing(previous)
    """
    if hashing == _active.hashing:
        return
    function, seed = hashing
    if function not in HASH_FUNCTIONS:
        raise ValueError(
            f"sparkish.shuffle.hash must be one of {', '.join(HASH_FUNCTIONS)}, got {function!r}"
        )
    if type(seed) is not int or not 0 <= seed <= MAX_HASH_SEED:
        raise ValueError(
            f"the hash seed (sparkish.python.hashSeed) must be an integer from 0 to "
            f"{MAX_HASH_SEED}, like PYTHONHASHSEED, got {seed!r}"
        )
    _install(KeyHashing(function, seed))


def current_key_hashing() -> KeyHashing:
    """The key hashing this process uses now (see :func:`use_key_hashing`)."""
    return _active.hashing


def portable_hash(key: Hashable) -> int:
    """Hash a shuffle key identically in every process, whatever its own ``PYTHONHASHSEED`` is.

    Keys that compare equal hash equally (``1``, ``1.0`` and ``True`` included). Under the
    ``"pyspark"`` key hashing (the default) the value is PySpark's ``portable_hash`` in an
    executor started with the configured seed, for ``None``, numbers, ``str``, ``bytes`` and
    tuples and frozensets of them. The result is a Python int that may be negative;
    ``portable_hash(key) % num_partitions`` is the key's partition.

    >>> portable_hash(None)
    0
    >>> portable_hash((None, 1)) & 0xffffffff
    219750521
    >>> portable_hash(1) == portable_hash(1.0) == portable_hash(True) == hash(1)
    True
    >>> portable_hash(float("nan")) == portable_hash(float("-nan")) == NAN_HASH
    True
    >>> function, seed = current_key_hashing()  # by default ("pyspark", PYTHONHASHSEED or 0)
    >>> portable_hash("abc") == python_hash("abc", seed)  # hash() under PYTHONHASHSEED=seed
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
    if hasher is _hash_tuple or hasher is _xxh3_frozenset or hasher is _pyspark_frozenset:
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


_install(KeyHashing("pyspark", seed_from_environment(os.environ.get("PYTHONHASHSEED"))))
