"""``StorageLevel``: where a persisted RDD's partitions are kept.

Persisted partitions live on the workers as Dask results. Memory levels keep them in worker
memory (Dask spills them to the worker's local disk under memory pressure); ``DISK_ONLY`` levels
write them to the worker's local disk straight away; a replication of 2 or 3 copies each
partition to that many workers.

>>> str(StorageLevel.MEMORY_AND_DISK)
'Disk Memory Serialized 1x Replicated'
>>> StorageLevel.MEMORY_ONLY == StorageLevel(False, True, False, False)
True
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["StorageLevel", "as_storage_level"]


class StorageLevel:
    """Flags that say how a persisted RDD is stored, with PySpark's constants.

    Parameters
    ----------
    useDisk : bool
        Write the partitions to the workers' local disks.
    useMemory : bool
        Keep the partitions in worker memory.
    useOffHeap : bool
        Accepted for compatibility (treated as memory).
    deserialized : bool
        Accepted for compatibility: partitions are always kept as pickled blocks.
    replication : int
        How many workers hold a copy.
    """

    NONE: ClassVar[StorageLevel]
    DISK_ONLY: ClassVar[StorageLevel]
    DISK_ONLY_2: ClassVar[StorageLevel]
    DISK_ONLY_3: ClassVar[StorageLevel]
    MEMORY_ONLY: ClassVar[StorageLevel]
    MEMORY_ONLY_2: ClassVar[StorageLevel]
    MEMORY_AND_DISK: ClassVar[StorageLevel]
    MEMORY_AND_DISK_2: ClassVar[StorageLevel]
    OFF_HEAP: ClassVar[StorageLevel]
    MEMORY_AND_DISK_DESER: ClassVar[StorageLevel]

    def __init__(
        self,
        useDisk: bool,
        useMemory: bool,
        useOffHeap: bool,
        deserialized: bool,
        replication: int = 1,
    ) -> None:
        self.useDisk = useDisk
        self.useMemory = useMemory
        self.useOffHeap = useOffHeap
        self.deserialized = deserialized
        self.replication = replication

    def __repr__(self) -> str:
        return (
            f"StorageLevel({self.useDisk}, {self.useMemory}, {self.useOffHeap}, "
            f"{self.deserialized}, {self.replication})"
        )

    def __str__(self) -> str:
        words = [
            word
            for flag, word in (
                (self.useDisk, "Disk"),
                (self.useMemory, "Memory"),
                (self.useOffHeap, "OffHeap"),
            )
            if flag
        ]
        words.append("Deserialized" if self.deserialized else "Serialized")
        words.append(f"{self.replication}x Replicated")
        return " ".join(words)

    def _key(self) -> tuple:
        return (self.useDisk, self.useMemory, self.useOffHeap, self.deserialized, self.replication)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, StorageLevel) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


StorageLevel.NONE = StorageLevel(False, False, False, False)
StorageLevel.DISK_ONLY = StorageLevel(True, False, False, False)
StorageLevel.DISK_ONLY_2 = StorageLevel(True, False, False, False, 2)
StorageLevel.DISK_ONLY_3 = StorageLevel(True, False, False, False, 3)
StorageLevel.MEMORY_ONLY = StorageLevel(False, True, False, False)
StorageLevel.MEMORY_ONLY_2 = StorageLevel(False, True, False, False, 2)
StorageLevel.MEMORY_AND_DISK = StorageLevel(True, True, False, False)
StorageLevel.MEMORY_AND_DISK_2 = StorageLevel(True, True, False, False, 2)
StorageLevel.OFF_HEAP = StorageLevel(True, True, True, False, 1)
StorageLevel.MEMORY_AND_DISK_DESER = StorageLevel(True, True, False, True)


def as_storage_level(level: Any, operation: str) -> StorageLevel:
    """``level`` as a :class:`StorageLevel`; any object with StorageLevel's five attributes
    (e.g. PySpark's) is accepted.

    >>> as_storage_level(StorageLevel.DISK_ONLY, "RDD.persist") is StorageLevel.DISK_ONLY
    True
    >>> as_storage_level("MEMORY_ONLY", "RDD.persist")
    Traceback (most recent call last):
        ...
    TypeError: RDD.persist: expected a StorageLevel, got 'MEMORY_ONLY'
    """
    if isinstance(level, StorageLevel):
        return level
    try:
        return StorageLevel(
            bool(level.useDisk),
            bool(level.useMemory),
            bool(level.useOffHeap),
            bool(level.deserialized),
            int(level.replication),
        )
    except AttributeError:
        raise TypeError(f"{operation}: expected a StorageLevel, got {level!r}") from None
