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


class Block:
    """The records of one partition, serialized as one opaque pickle when shipped.

    Inside a process a block is just a list; only its serialized form differs from a list's. A
    *sealed* block is pickled when it is made (in the task that computes it), so a result that
    cannot be pickled fails in its task, with the task's context.
    """

    __slots__ = ("_records", "_payload")

    def __init__(self, records: list | None, payload: bytes | None = None) -> None:
        self._records = records
        self._payload = payload

    @classmethod
    def from_iterable(cls, records: Iterable) -> Block:
        return cls(records if type(records) is list else list(records))

    @classmethod
    def sealed(cls, records: Iterable) -> Block:
        items = records if type(records) is list else list(records)
        try:
            payload = dumps(items)
        except Exception as error:
            raise SerializationError(
                f"the records of this partition cannot be pickled to leave the task: "
                f"{type(error).__name__}: {error}"
            ) from error
        return cls(None, payload)

    @property
    def records(self) -> list:
        if self._records is None:
            assert self._payload is not None  # a block holds its records or their pickle
            self._records = pickle.loads(self._payload)
        return self._records

    def payload(self) -> bytes:
        if self._payload is None:
            return dumps(self._records)
        return self._payload

    def __iter__(self) -> Iterator:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __reduce__(self):
        return (_block_from_bytes, (self.payload(),))

    def __repr__(self) -> str:
        return f"Block(<{len(self.records)} records>)"

    def __sizeof__(self) -> int:
        # Dask measures results with sys.getsizeof, which calls this.
        if self._records is None:
            return len(self._payload or b"") + 64
        return sizeof(self._records)


def _block_from_bytes(payload: bytes) -> Block:
    return Block(pickle.loads(payload))


@dask_serialize.register(Block)
def _serialize_block(block: Block) -> tuple[dict, list]:
    return {}, [block.payload()]


@dask_deserialize.register(Block)
def _deserialize_block(header: dict, frames: list) -> Block:
    return Block(pickle.loads(frames[0]))
