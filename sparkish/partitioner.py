"""``Partitioner``: which partition a key belongs to, like ``pyspark.rdd.Partitioner``.

>>> from sparkish.shuffle.hashing import portable_hash
>>> p = Partitioner(4, portable_hash)
>>> p(5)
1
>>> p == Partitioner(4, portable_hash)
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Partitioner"]


class Partitioner:
    """Assigns keys to ``numPartitions`` partitions with ``partitionFunc(key) % numPartitions``.

    Parameters
    ----------
    numPartitions : int
        How many partitions there are.
    partitionFunc : callable
        Maps a key to an int (``portable_hash`` by default in the keyed operations).
    """

    def __init__(self, numPartitions: int, partitionFunc: Callable[[Any], int]) -> None:
        self.numPartitions = numPartitions
        self.partitionFunc = partitionFunc

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Partitioner)
            and self.numPartitions == other.numPartitions
            and self.partitionFunc == other.partitionFunc
        )

    def __hash__(self) -> int:
        return hash((self.numPartitions, id(self.partitionFunc)))

    def __call__(self, k: Any) -> int:
        return self.partitionFunc(k) % self.numPartitions

    def __repr__(self) -> str:
        name = getattr(self.partitionFunc, "__name__", repr(self.partitionFunc))
        return f"Partitioner({self.numPartitions}, {name})"
