"""How records cross process boundaries.

``distributed`` serializes a plain ``list`` or ``dict`` that it ships between processes element
by element, which is orders of magnitude slower than pickling the collection in one call (a
200k-entry dict took over 30 s to reach the driver). Every partition that leaves a task therefore
travels as a :class:`Block`: a thin wrapper around a list of records whose serialized form is a
single pickle (protocol 5) frame.

>>> block = Block([1, "a", (2, 3)])
>>> list(block)
[1, 'a', (2, 3)]
>>> loads(dumps(block)).records
[1, 'a', (2, 3)]
"""

from __future__ import annotations

import io
import itertools
import pickle
from collections.abc import Iterable, Iterator
from typing import Any

import cloudpickle
from dask.sizeof import sizeof
from distributed.protocol import dask_deserialize, dask_serialize

from .errors import SerializationError

PROTOCOL = 5
_MAIN_MARKER = b"__main__"


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` with the standard pickler, falling back to cloudpickle.

    The standard pickler is several times faster on plain data; cloudpickle is needed when the
    records contain lambdas, local classes or objects defined in ``__main__``.

    >>> loads(dumps([1, 2]))
    [1, 2]
    >>> loads(dumps(lambda x: x + 1))(1)
    2
    """
    try:
        payload = _dumps_plain(obj)
    except (pickle.PicklingError, AttributeError, TypeError):
        return cloudpickle.dumps(obj, protocol=PROTOCOL)
    if _MAIN_MARKER in payload:
        # Classes and functions of the driver's script pickle by reference to ``__main__``,
        # which does not exist in worker processes: ship them by value instead.
        return cloudpickle.dumps(obj, protocol=PROTOCOL)
    return payload


loads = pickle.loads

_FAST_MINIMUM = 64


def _dumps_plain(obj: Any) -> bytes:
    """Pickle without the memo for large collections, which is 4-6x faster for records.

    The memo only matters for objects referenced twice (they are copied instead, as they would
    be by pickling records one at a time) and for cycles (detected, then pickled normally).
    """
    if type(obj) in _COLLECTIONS and len(obj) >= _FAST_MINIMUM:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, PROTOCOL)
        pickler.fast = True
        try:
            pickler.dump(obj)
            return buffer.getvalue()
        except ValueError:  # a reference cycle
            pass
    return pickle.dumps(obj, protocol=PROTOCOL)


_COLLECTIONS = (list, tuple, dict)

#: A pickle as bytes, or as a buffer received from another process.
Payload = bytes | bytearray | memoryview


class Block:
    """The records of one partition, serialized as one opaque pickle when shipped.

    A *sealed* block holds only the pickle: results that leave their task (pickled where they
    are made, so a record that cannot be pickled fails in its task, with the task's context) and
    persisted partitions whose records could be changed in place. Reading a sealed block
    unpickles it afresh every time, so every reader gets records of its own, as in PySpark, where
    each read of a cached partition deserializes it: a function that mutates a record (a
    ``reduceByKey`` function that extends its first argument and returns it, which PySpark
    allows) cannot change what another task, another read in the same task or a later job sees.

    An *open* block holds a list whose records nobody can change: immutable values (checked
    when a persisted partition is kept), or no records at all. Its readers share the list, and
    it arrives open in another process.

    >>> sealed = Block.sealed([[1]])
    >>> sealed.records[0].append(2)
    >>> sealed.records
    [[1]]
    >>> Block.shared([(1, "a")]).is_open, Block.shared([[1]]).is_open
    (True, False)
    """

    __slots__ = ("_records", "_payload")

    def __init__(self, records: list | None, payload: Payload | None = None) -> None:
        self._records = records
        self._payload = payload

    @classmethod
    def shared(cls, records: Iterable) -> Block:
        """A partition that several readers will read (a persisted one): open when its records
        are immutable, else sealed so that every read unpickles a copy of its own."""
        items = records if type(records) is list else list(records)
        if _holds_only_immutable(items):
            return cls(items)
        return cls.sealed(items)

    @classmethod
    def sealed(cls, records: Iterable) -> Block:
        items = records if type(records) is list else list(records)
        try:
            payload = dumps(items)
        except Exception as error:
            raise SerializationError(
                f"the records of this partition cannot be pickled (a partition leaves its "
                f"task, or is kept for later reads, as one pickle): "
                f"{type(error).__name__}: {error}"
            ) from error
        return cls(None, payload)

    @property
    def records(self) -> list:
        """The records: an open block's list, or a fresh unpickled copy of a sealed one's."""
        if self._records is None:
            assert self._payload is not None  # a block holds its records or their pickle
            return pickle.loads(self._payload)
        return self._records

    @property
    def is_open(self) -> bool:
        """Whether the block holds its records (shared by its readers) rather than a pickle."""
        return self._records is not None

    def payload(self) -> Payload:
        if self._payload is None:
            return dumps(self._records)
        return self._payload

    def __iter__(self) -> Iterator:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __reduce__(self):
        return (Block, (None, self.payload()))

    def __repr__(self) -> str:
        if self._records is None:
            return f"Block(<sealed, {len(self._payload or b'')} bytes>)"
        return f"Block(<{len(self._records)} records>)"

    def __sizeof__(self) -> int:
        # Dask measures results with sys.getsizeof, which calls this.
        if self._records is None:
            return len(self._payload or b"") + 64
        return sizeof(self._records)


#: Types whose values cannot change in place; a tuple of them cannot either.
_IMMUTABLE_ATOMS = frozenset({int, float, complex, bool, str, bytes, type(None)})
_IMMUTABLE = _IMMUTABLE_ATOMS | {tuple}


def _holds_only_immutable(values: list) -> bool:
    """Whether every value is an int, float, str, bytes, None... or a tuple of such values (at
    any depth); subclasses do not count, as their instances may have attributes to change.

    The values are checked a level of nesting at a time, with C-level passes over each level.

    >>> _holds_only_immutable([1, ("a", (2.5, None))]), _holds_only_immutable([(1, [2])])
    (True, False)
    """
    level = values
    while True:
        kinds = set(map(type, level))
        if not kinds <= _IMMUTABLE:
            return False
        if tuple not in kinds:
            return True
        tuples = level if len(kinds) == 1 else [value for value in level if type(value) is tuple]
        level = list(itertools.chain.from_iterable(tuples))


class PartitionGroup:
    """The results of consecutive partitions ``first, first + 1, ...`` computed by one task.

    A task may compute a group of partitions (see :mod:`sparkish.execution.grouping`); its result
    keeps each partition's result apart, so a later task can read one partition of the group.

    >>> group = PartitionGroup(4, [Block([1]), Block([2, 3])])
    >>> list(group.part(5)), group.splits
    ([2, 3], range(4, 6))
    """

    __slots__ = ("first", "parts")

    def __init__(self, first: int, parts: list) -> None:
        self.first = first
        self.parts = parts

    @property
    def splits(self) -> range:
        return range(self.first, self.first + len(self.parts))

    def part(self, split: int) -> Any:
        """The result of partition ``split``."""
        return self.parts[split - self.first]

    def __reduce__(self):
        return (PartitionGroup, (self.first, self.parts))

    def __repr__(self) -> str:
        return f"PartitionGroup(partitions {self.first}-{self.first + len(self.parts) - 1})"

    def __sizeof__(self) -> int:
        return sum(sizeof(part) for part in self.parts) + 64


@dask_serialize.register(Block)
def _serialize_block(block: Block) -> tuple[dict, list]:
    return {"open": block.is_open}, [block.payload()]


@dask_deserialize.register(Block)
def _deserialize_block(header: dict, frames: list) -> Block:
    if header.get("open"):
        return Block(pickle.loads(frames[0]))
    return Block(None, frames[0])
