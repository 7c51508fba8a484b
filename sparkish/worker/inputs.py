"""Partitions that enter a task as literal graph inputs: parallelized slices and file splits.

Both are small picklable objects made in the driver; iterating one in a task produces the
partition's records (unpickling the slice, or opening and reading the split's files).

>>> from sparkish.serialization import dumps
>>> list(PickledSlice(dumps([1, 2])))
[1, 2]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from ..io import readers
from ..io.splits import InputSplit
from ..serialization import loads

__all__ = [
    "PickledSlice",
    "SplitReader",
    "binary_records",
    "text_lines",
    "whole_text",
]


class PickledSlice:
    """A slice of a parallelized collection, pickled once in the driver."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __iter__(self) -> Iterator:
        return iter(self.load())

    @property
    def num_bytes(self) -> int:
        """The pickled size: how much data the slice carries."""
        return len(self.payload)

    def load(self) -> Any:
        """The slice as it was pickled (a list, or a pandas DataFrame for ``fromPandas``)."""
        return loads(self.payload)


class SplitReader:
    """One input split plus the function that reads its records; iterating reads the files."""

    __slots__ = ("split", "read")

    def __init__(self, split: InputSplit, read: Callable[[InputSplit], Iterator]) -> None:
        self.split = split
        self.read = read

    def __iter__(self) -> Iterator:
        return iter(self.read(self.split))

    @property
    def num_bytes(self) -> int:
        """The bytes of input the split covers."""
        return self.split.num_bytes


def text_lines(use_unicode: bool, split: InputSplit) -> Iterator[Any]:
    """The lines of a text split (``textFile``)."""
    return itertools.chain.from_iterable(readers.read_text_split_batches(split, use_unicode))


def whole_text(use_unicode: bool, split: InputSplit) -> Iterator[tuple[str, Any]]:
    """``(path, content)`` of each file of a split (``wholeTextFiles``)."""
    return readers.read_whole_text_files(split, use_unicode)


def binary_records(record_length: int, split: InputSplit) -> Iterator[bytes]:
    """The fixed-length records of a split (``binaryRecords``)."""
    return readers.read_binary_records(split, record_length)
