"""How shuffle buckets are framed, stored in a worker's shuffle files and read back.

A map task cuts its records into one *bucket* per reduce partition. Each bucket travels as a
*frame*: a header with the map partition, the reduce partition and the payload's length, then the
payload (a pickled pair of key and value lists, or raw int64 columns, see :mod:`.int_columns`).
The receiving worker appends frames to one file per group of consecutive reduce partitions (at
most :data:`MAX_FILES` files per shuffle and worker); a reduce task indexes its file's headers
once and reads only its own frames, in map order.

Nothing here depends on ``distributed``: :mod:`sparkish._dask_compat` moves the bytes.

>>> data = frame(3, 1, b"abc") + frame(2, 0, b"de")
>>> [(m, r, bytes(p)) for m, r, p in unframe(data)]
[(3, 1, b'abc'), (2, 0, b'de')]
"""

from __future__ import annotations

import itertools
import os
import pickle
import struct
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, cast

from .int_columns import ColumnIterator, decode_int_columns, is_int_payload, pairs_of

__all__ = [
    "FRAME_HEADER_BYTES",
    "MAX_FILES",
    "BucketIndex",
    "ColumnarRecords",
    "ReceivedPartition",
    "chunk_buckets",
    "decode_buckets",
    "frame",
    "frame_offsets",
    "group_size",
    "index_chunks",
    "index_file",
    "read_file_buckets",
    "unframe",
]

_HEADER = struct.Struct("<QQQ")
#: Bytes a frame adds in front of its payload.
FRAME_HEADER_BYTES = _HEADER.size

#: At most this many files per shuffle on each worker: reduce partitions share files in
#: contiguous groups, so a 1000 x 1000 shuffle does not append to 1000 files per batch.
MAX_FILES = 64
#: Shuffle file headers are parsed out of reads of this size.
_INDEX_READ_BYTES = 4 << 20
#: A reducer with more than _MANY_BUCKETS buckets in a shuffle file up to this size (or up to
#: 4 times what it needs) reads the file whole.
_WHOLE_FILE_READ_BYTES = 16 << 20
_MANY_BUCKETS = 64

#: reduce partition -> [(map partition, where, offset, length)], ``where`` naming the chunk
#: (in memory) or 0 (a file).
BucketIndex = dict[int, list[tuple[int, int, int, int]]]


def frame(input_partition: int, output_partition: int, payload: bytes) -> bytes:
    """Prefix a bucket's payload with its map partition, reduce partition and length.

    Frames can then be concatenated in one file and read back per reduce partition in map order.

    >>> len(frame(0, 0, b"x"))
    25
    """
    return _HEADER.pack(input_partition, output_partition, len(payload)) + payload


def frame_offsets(view: memoryview | bytes) -> Iterator[tuple[int, int, int, int]]:
    """``(map partition, reduce partition, payload offset, payload length)`` of each frame.

    >>> list(frame_offsets(frame(5, 7, b"xy")))
    [(5, 7, 24, 2)]
    """
    offset = 0
    size = len(view)
    while offset < size:
        input_partition, output_partition, length = _HEADER.unpack_from(view, offset)
        offset += _HEADER.size
        yield input_partition, output_partition, offset, length
        offset += length


def unframe(data: bytes | bytearray | memoryview) -> Iterator[tuple[int, int, memoryview]]:
    """The ``(map partition, reduce partition, payload)`` of concatenated frames."""
    view = memoryview(data)
    for input_partition, output_partition, offset, length in frame_offsets(view):
        yield input_partition, output_partition, view[offset : offset + length]


def group_size(npartitions_out: int) -> int:
    """How many consecutive reduce partitions share one shuffle file.

    >>> group_size(64), group_size(1000)
    (1, 16)
    """
    return -(-npartitions_out // MAX_FILES)


def index_file(path: str | os.PathLike) -> BucketIndex:
    """Where each reduce partition's frames are in one shuffle file (headers only are read).

    A reducer then reads just its own bytes, so a worker holds one reduce partition at a time
    however large the shuffle. A missing file (nothing was sent to it) has no frames.
    """
    index: BucketIndex = defaultdict(list)
    try:
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            offset = chunk_start = 0
            chunk = b""
            # Headers come out of large reads, not one read and seek per frame: a 1000 x 1000
            # shuffle has 16,000 small frames per file.
            while offset + _HEADER.size <= size:
                if offset + _HEADER.size > chunk_start + len(chunk):
                    f.seek(offset)
                    chunk, chunk_start = f.read(_INDEX_READ_BYTES), offset
                input_id, output_id, length = _HEADER.unpack_from(chunk, offset - chunk_start)
                offset += _HEADER.size
                index[output_id].append((input_id, 0, offset, length))
                offset += length
    except FileNotFoundError:
        pass
    return index


def read_file_buckets(path: str | os.PathLike, index: BucketIndex, partition: int) -> list:
    """The payloads of one reduce partition's frames in a shuffle file, in map order."""
    entries = sorted(index.get(partition, ()))
    if not entries:
        return []
    descriptor = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(descriptor).st_size
        wanted = sum(entry[3] for entry in entries)
        if len(entries) > _MANY_BUCKETS and size <= max(_WHOLE_FILE_READ_BYTES, 4 * wanted):
            # Many small frames: one read of the whole file beats a pread per frame.
            view = memoryview(os.pread(descriptor, size, 0))
            return [view[offset : offset + length] for _, _, offset, length in entries]
        return [os.pread(descriptor, length, offset) for _, _, offset, length in entries]
    finally:
        os.close(descriptor)


def index_chunks(chunks: list) -> tuple[list[memoryview], BucketIndex]:
    """Index frames held in memory (one or more byte chunks, each a run of whole frames).

    >>> buffers, index = index_chunks([frame(1, 0, b"a") + frame(0, 0, b"b")])
    >>> [bytes(p) for p in chunk_buckets(buffers, index, 0)]
    [b'b', b'a']
    """
    buffers = [memoryview(chunk) for chunk in chunks]
    index: BucketIndex = defaultdict(list)
    for position, view in enumerate(buffers):
        for input_id, output_id, offset, length in frame_offsets(view):
            index[output_id].append((input_id, position, offset, length))
    return buffers, index


def chunk_buckets(buffers: list[memoryview], index: BucketIndex, partition: int) -> list:
    """The payloads of one reduce partition's frames held in memory, in map order."""
    entries = sorted(index.get(partition, ()))
    return [buffers[chunk][start : start + length] for _, chunk, start, length in entries]


def decode_buckets(payloads: list) -> list[tuple[Any, Any]]:
    """Key and value columns of a reduce partition's payloads, in map order.

    Consecutive int64 payloads are decoded together into one pair of arrays (no numpy call per
    bucket); pickled ones are unpickled.

    >>> decode_buckets([pickle.dumps((["a"], [1]))])
    [(['a'], [1])]
    """
    columns: list[tuple[Any, Any]] = []
    int_payloads: list = []
    for payload in payloads:
        if is_int_payload(payload):
            int_payloads.append(payload)
            continue
        if int_payloads:
            columns.append(decode_int_columns(int_payloads))
            int_payloads = []
        columns.append(pickle.loads(payload))
    if int_payloads:
        columns.append(decode_int_columns(int_payloads))
    return columns


class ColumnarRecords:
    """The ``(key, value)`` records of a reduce partition, kept as received columns.

    Each map output's key and value columns (lists, or int64 arrays from the vectorised int
    path) are kept as they arrived; iterating pairs them up without building a list of tuples.

    >>> list(ColumnarRecords([(["a", "b"], [1, 2])]))
    [('a', 1), ('b', 2)]
    """

    __slots__ = ("columns",)

    def __init__(self, columns: list[tuple[Any, Any]]) -> None:
        self.columns = columns

    def __iter__(self) -> ColumnIterator:
        pairs = itertools.starmap(pairs_of, self.columns)
        iterator = cast(ColumnIterator, ColumnIterator.from_iterable(pairs))
        iterator.columns = self.columns
        return iterator

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self.columns)


class ReceivedPartition:
    """One reduce partition's payloads as received, in map order; each read decodes them afresh.

    A shuffle's output may be read more than once (by several tasks of one job, such as the two
    sides of a ``cartesian``, or twice in one task): every reader gets records of its own, as in
    PySpark, so a function that mutates a record it was given (a ``reduceByKey`` function that
    extends its first argument and returns it) cannot change what another reader sees.

    >>> received = ReceivedPartition([pickle.dumps((["a"], [[1]]))])
    >>> first = list(received.records())
    >>> first[0][1].append(2)
    >>> list(received.records())
    [('a', [1])]
    """

    __slots__ = ("payloads",)

    def __init__(self, payloads: list) -> None:
        self.payloads = payloads

    def records(self) -> ColumnarRecords:
        """The partition's records, decoded from the payloads (new objects on every call)."""
        return ColumnarRecords(decode_buckets(self.payloads))

    @property
    def nbytes(self) -> int:
        return sum(map(len, self.payloads))

    def detached(self) -> ReceivedPartition:
        """The same payloads as ``bytes`` of their own, not views pinning a whole file read or
        the shuffle's in-memory buffers (for a result kept after its task)."""
        return ReceivedPartition([bytes(payload) for payload in self.payloads])

    def __reduce__(self):
        return (ReceivedPartition, ([bytes(payload) for payload in self.payloads],))

    def __sizeof__(self) -> int:
        # Dask measures results with sys.getsizeof, which calls this.
        return self.nbytes + 64 + 40 * len(self.payloads)
