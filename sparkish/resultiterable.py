"""``ResultIterable``: the values of one key produced by grouping operations.

>>> values = ResultIterable([1, 2, 3])
>>> len(values), list(values), sum(values)
(3, [1, 2, 3], 6)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["ResultIterable"]


class ResultIterable(Iterable[T], Generic[T]):
    """A re-iterable, sized view of grouped values (a list underneath)."""

    __slots__ = ("data", "index", "maxindex")

    def __init__(self, data: Collection[T]) -> None:
        self.data = data
        self.index = 0
        self.maxindex = len(data)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"ResultIterable({list(self.data)!r})"

    def __reduce__(self):
        return (ResultIterable, (self.data,))
