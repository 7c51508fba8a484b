"""Driver-side planning of input splits: which byte ranges of which files each task reads.

The driver only lists files (one listing per path entry); workers open and read the files
themselves. A split is a tuple of :class:`FileSegment` objects, picklable and small: the fsspec
filesystem inside travels by its constructor arguments.

How splits are balanced
-----------------------
All input files are laid end to end as one weighted stream: a file weighs its size in bytes plus
``open_cost_bytes`` (spread over its bytes), so thousands of tiny files are not free. The stream
is cut into ``max(min_partitions, ceil(total / max_split_bytes))`` pieces of (nearly) equal
weight. Consequences:

* a large file is cut at byte offsets into several splits (for text, lines are then assigned to
  exactly one split by the reader, Hadoop-style); a cut that would leave less than a tenth of a
  split's size on one side of a file boundary moves to that boundary (Hadoop's "split slop"),
  so equal-sized files are not sliced into slivers;
* many small files are packed together into one split, in listing order;
* a split can hold the tail of one file and the head of the next;
* files that cannot be cut (compressed text, every file for whole-file reads, pickle files) are
  kept whole; a cut that would fall inside one moves to the nearer end of that file, so with such
  files there can be fewer splits than ``min_partitions`` (one ``.gz`` file is one split, as in
  Spark). They are packed with other files like any other file;
* ``binaryRecords`` cuts only at multiples of the record length.

Spark compatibility notes
-------------------------
* Empty files yield no text lines and are left out of text splits; an empty directory (or one
  holding only empty files) gives zero splits, like ``sc.textFile(empty_dir).getNumPartitions()
  == 0`` in PySpark (``spark.hadoopRDD.ignoreEmptySplits``). Whole-file reads keep empty files:
  each still gives one record.
* Spark never packs files, so its partition count is at least the number of files; sparkish's
  is driven by bytes: eight 12.5 MB files with ``min_partitions=2`` become two splits of four
  files each.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from fsspec.spec import AbstractFileSystem

from ..validation import require_int
from ._filesystems import InputFile, list_input_files
from .compression import codec_for_path

__all__ = [
    "DEFAULT_MAX_SPLIT_BYTES",
    "DEFAULT_OPEN_COST_BYTES",
    "FileSegment",
    "InputSplit",
    "plan_binary_record_splits",
    "plan_pickle_splits",
    "plan_text_splits",
    "plan_whole_file_splits",
]

DEFAULT_MAX_SPLIT_BYTES = 128 * 1024 * 1024
DEFAULT_OPEN_COST_BYTES = 4 * 1024


@dataclass(frozen=True)
class FileSegment:
    """Bytes ``[start, end)`` of one file. ``compression`` names the codec of a whole-file
    segment of a compressed file (then ``start == 0`` and ``end == file_size``)."""

    fs: AbstractFileSystem = field(repr=False, compare=False)
    path: str
    url: str
    start: int
    end: int
    file_size: int
    compression: str | None = None

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class InputSplit:
    """The unit of work of one read task: segments read one after another, in order."""

    index: int
    segments: tuple[FileSegment, ...]

    @property
    def num_bytes(self) -> int:
        """Bytes of input (compressed bytes for compressed files) this split covers."""
        return sum(segment.length for segment in self.segments)

    @property
    def urls(self) -> tuple[str, ...]:
        """The distinct files this split touches, in reading order."""
        return tuple(dict.fromkeys(segment.url for segment in self.segments))


@dataclass(frozen=True)
class _Unit:
    file: InputFile
    granularity: int | None  # None: the file cannot be cut
    compression: str | None = None


def plan_text_splits(
    path: str,
    min_partitions: int = 1,
    storage_options: dict[str, Any] | None = None,
    *,
    max_split_bytes: int = DEFAULT_MAX_SPLIT_BYTES,
    open_cost_bytes: int = DEFAULT_OPEN_COST_BYTES,
    recursive: bool = False,
    operation: str = "textFile",
) -> list[InputSplit]:
    """Plan the splits for ``sc.textFile(path, min_partitions)``; read them with
    :func:`sparkish.io.readers.read_text_split`.

    ``path`` is a file, directory, glob (``*``, ``?``, ``[...]``, ``{a,b}``) or a comma-separated
    list of those, on any fsspec filesystem. Raises ``FileNotFoundError``, ``PermissionError``,
    ``IsADirectoryError`` (a subdirectory without ``recursive=True``), ``ValueError`` (unknown
    protocol, unsupported compression) or ``ConnectionError``, each naming the path.

    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/doc/text/a.txt", b"one\\ntwo\\nthree\\nfour\\n")
    >>> splits = plan_text_splits("memory:///doc/text", 2)
    >>> [(s.segments[0].start, s.segments[0].end) for s in splits]
    [(0, 9), (9, 19)]
    """
    _check_planning_arguments(min_partitions, max_split_bytes, open_cost_bytes, operation)
    units = []
    for file in list_input_files(path, storage_options, operation, recursive=recursive):
        if file.size == 0:
            continue
        codec = codec_for_path(file.path)
        if codec is None:
            units.append(_Unit(file, 1))
        else:
            units.append(_Unit(file, None, codec.name))
    return _plan(units, min_partitions, max_split_bytes, open_cost_bytes)


def plan_whole_file_splits(
    path: str,
    min_partitions: int = 1,
    storage_options: dict[str, Any] | None = None,
    *,
    max_split_bytes: int = DEFAULT_MAX_SPLIT_BYTES,
    open_cost_bytes: int = DEFAULT_OPEN_COST_BYTES,
    recursive: bool = False,
    decompress: bool = True,
    operation: str = "wholeTextFiles",
) -> list[InputSplit]:
    """Plan splits of whole files, packed by size, for ``wholeTextFiles`` / ``binaryFiles``.

    Every file (including empty ones) is in exactly one split. With ``decompress=True``
    (``wholeTextFiles``) compressed files are marked with their codec, which
    :func:`~sparkish.io.readers.read_whole_text_files` undoes; use ``decompress=False,
    operation="binaryFiles"`` for ``binaryFiles``, which returns raw bytes of any file.

    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe({"/doc/whole/a": b"aaaa", "/doc/whole/b": b"bb"})
    >>> [s.urls for s in plan_whole_file_splits("memory:///doc/whole", 2)]
    [('memory:///doc/whole/a',), ('memory:///doc/whole/b',)]
    """
    _check_planning_arguments(min_partitions, max_split_bytes, open_cost_bytes, operation)
    files = list_input_files(path, storage_options, operation, recursive=recursive)
    units = []
    for file in files:
        codec = codec_for_path(file.path) if decompress else None
        units.append(_Unit(file, None, codec.name if codec else None))
    return _plan(units, min_partitions, max_split_bytes, open_cost_bytes)


def plan_pickle_splits(
    path: str,
    min_partitions: int = 1,
    storage_options: dict[str, Any] | None = None,
    *,
    max_split_bytes: int = DEFAULT_MAX_SPLIT_BYTES,
    open_cost_bytes: int = DEFAULT_OPEN_COST_BYTES,
) -> list[InputSplit]:
    """Plan splits for ``sc.pickleFile(path)``: whole part files written by ``saveAsPickleFile``.

    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/doc/pickled/part-00000", b"")
    >>> len(plan_pickle_splits("memory:///doc/pickled"))
    1
    """
    _check_planning_arguments(min_partitions, max_split_bytes, open_cost_bytes, "pickleFile")
    files = list_input_files(path, storage_options, "pickleFile")
    units = [_Unit(file, None) for file in files]
    return _plan(units, min_partitions, max_split_bytes, open_cost_bytes)


def plan_binary_record_splits(
    path: str,
    record_length: int,
    min_partitions: int = 1,
    storage_options: dict[str, Any] | None = None,
    *,
    max_split_bytes: int = DEFAULT_MAX_SPLIT_BYTES,
    open_cost_bytes: int = DEFAULT_OPEN_COST_BYTES,
) -> list[InputSplit]:
    """Plan splits for ``sc.binaryRecords(path, record_length)``, cut at record boundaries.

    Files are read raw (no decompression). A file whose size is not a multiple of
    ``record_length`` is a ``ValueError`` naming the file (Spark fails later with an
    ``EOFException``).

    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe("/doc/records/r.bin", bytes(range(12)))
    >>> [(s.segments[0].start, s.segments[0].end)
    ...  for s in plan_binary_record_splits("memory:///doc/records", 4, 2)]
    [(0, 8), (8, 12)]
    """
    operation = "binaryRecords"
    _check_planning_arguments(min_partitions, max_split_bytes, open_cost_bytes, operation)
    require_int(record_length, operation, "recordLength")
    units = []
    for file in list_input_files(path, storage_options, operation):
        if file.size % record_length:
            raise ValueError(
                f"{operation}: {file.url} is {file.size} bytes, which is not a multiple of "
                f"recordLength={record_length}"
            )
        if file.size:
            units.append(_Unit(file, record_length))
    return _plan(units, min_partitions, max_split_bytes, open_cost_bytes)


def _check_planning_arguments(
    min_partitions: int, max_split_bytes: int, open_cost_bytes: int, operation: str
) -> None:
    require_int(min_partitions, operation, "minPartitions", minimum=0)
    require_int(max_split_bytes, operation, "max_split_bytes")
    require_int(open_cost_bytes, operation, "open_cost_bytes", minimum=0)


def _plan(
    units: list[_Unit], min_partitions: int, max_split_bytes: int, open_cost: int
) -> list[InputSplit]:
    if not units:
        return []
    stream = _WeightedStream(units, open_cost)
    return stream.splits(stream.cuts(min_partitions, max_split_bytes))


#: A position in the weighted stream: (index of the unit, byte offset inside it).
_Position = tuple[int, int]


class _WeightedStream:
    """The input files laid end to end, each weighing its size plus the open cost."""

    def __init__(self, units: list[_Unit], open_cost: int) -> None:
        self.units = units
        self.sizes = [unit.file.size for unit in units]
        self.weights = [size + open_cost for size in self.sizes]
        self.prefix = [0]
        for weight in self.weights:
            self.prefix.append(self.prefix[-1] + weight)
        self.total = self.prefix[-1]
        self.end: _Position = (len(units), 0)

    def weight_at(self, position: _Position) -> int:
        index, offset = position
        if index == len(self.units):
            return self.total
        if offset == 0:
            return self.prefix[index]
        return self.prefix[index] + offset * self.weights[index] // self.sizes[index]

    def nearest_cut(self, goal: int, current: _Position, split_weight: int) -> _Position:
        """The allowed cut nearest to the weight ``goal``."""
        index = bisect_right(self.prefix, goal) - 1
        if index >= len(self.units):
            return self.end
        local, unit, size = goal - self.prefix[index], self.units[index], self.sizes[index]
        if unit.granularity is None or size == 0:
            return (index, 0) if 2 * local < self.weights[index] else (index + 1, 0)
        # Like Hadoop's split slop: rather than cut a sliver off a file, move the cut to the
        # file boundary when that changes this split's size by at most 10%.
        slack = split_weight // 10
        if local <= slack and (index, 0) > current:
            return (index, 0)
        if self.weights[index] - local <= slack and index + 1 < len(self.units):
            return (index + 1, 0)
        step = unit.granularity
        offset = (local * size // self.weights[index] + step // 2) // step * step
        if offset <= 0:
            return (index, 0)
        if offset >= size:
            return (index + 1, 0)
        return (index, offset)

    def next_cut_after(self, position: _Position) -> _Position:
        index, offset = position
        granularity = self.units[index].granularity
        if granularity is not None and offset + granularity < self.sizes[index]:
            return (index, offset + granularity)
        return (index + 1, 0)

    def cuts(self, min_partitions: int, max_split_bytes: int) -> list[_Position]:
        """Where splits start, plus the end: ``wanted`` pieces of (nearly) equal weight."""
        if self.total == 0:
            return [(0, 0), self.end]
        pieces = sum(
            1 if unit.granularity is None else max(1, size // unit.granularity)
            for unit, size in zip(self.units, self.sizes, strict=True)
        )
        wanted = min(max(1, min_partitions, -(-self.total // max_split_bytes)), pieces)
        cuts: list[_Position] = [(0, 0)]
        while len(cuts) < wanted:
            current = cuts[-1]
            done = self.weight_at(current)
            split_weight = -(-(self.total - done) // (wanted - (len(cuts) - 1)))
            candidate = self.nearest_cut(done + split_weight, current, split_weight)
            if candidate <= current:
                candidate = self.next_cut_after(current)
            if candidate >= self.end:
                break
            cuts.append(candidate)
        cuts.append(self.end)
        return cuts

    def splits(self, cuts: list[_Position]) -> list[InputSplit]:
        splits: list[InputSplit] = []
        for first, last in pairwise(cuts):
            segments = self.segments(first, last)
            if segments:
                splits.append(InputSplit(len(splits), tuple(segments)))
        return splits

    def segments(self, first: _Position, last: _Position) -> list[FileSegment]:
        """The file segments between two cuts."""
        segments = []
        (index, start), (last_index, last_offset) = first, last
        while index < last_index or (index == last_index and start < last_offset):
            end = last_offset if index == last_index else self.sizes[index]
            unit = self.units[index]
            segments.append(
                FileSegment(
                    unit.file.fs,
                    unit.file.path,
                    unit.file.url,
                    start,
                    end,
                    self.sizes[index],
                    unit.compression,
                )
            )
            index, start = index + 1, 0
        return segments
