"""Worker-side readers: turn one :class:`~sparkish.io.splits.InputSplit` into records.

Each function opens the split's files itself through the fsspec filesystem carried by the split,
so it can run in any process. Errors name the operation and the file.

Text semantics (Hadoop ``LineRecordReader``, as PySpark's ``textFile``)
------------------------------------------------------------------------
* Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r``; the terminator is not part of the line. A
  last line without terminator is still a line; an empty file has no lines.
* Every line belongs to exactly one segment: the one holding the byte just before the line's
  first byte (the first line of a file belongs to the segment starting at 0). So a segment that
  does not start at 0 skips the partial line it starts in, and a line that crosses a segment's
  end is read completely by that segment.
* A UTF-8 byte order mark at the start of a file is dropped. Invalid UTF-8 becomes U+FFFD.
* ``use_unicode=False`` gives ``bytes`` lines, still valid UTF-8 (invalid sequences replaced by
  the UTF-8 encoding of U+FFFD), exactly what PySpark returns.

The text reader reads big chunks (``chunk_size``, 16 MiB by default) and splits them with
``bytes``/``str`` methods, so the per-line cost in Python is one list element.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

from ..monitoring import task_metrics
from . import _pickle_format
from ._filesystems import fs_errors
from .compression import DecompressingReader, codec_for_name
from .splits import FileSegment, InputSplit

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "open_segment",
    "open_whole_file",
    "read_binary_files",
    "read_binary_records",
    "read_pickle_split",
    "read_text_split",
    "read_text_split_batches",
    "read_whole_text_files",
]

DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024
_FIRST_READ_SIZE = 64 * 1024
_BLOCK_SIZE = 256 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"
_LF = 0x0A
_CR = 0x0D


def read_text_split(
    split: InputSplit, use_unicode: bool = True, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[str] | Iterator[bytes]:
    """Yield the lines of a text split (``str``, or UTF-8 ``bytes`` with ``use_unicode=False``).

    >>> import fsspec
    >>> from sparkish.io.splits import plan_text_splits
    >>> fsspec.filesystem("memory").pipe("/doc/read/a.txt", b"one\\r\\ntwo\\nthree")
    >>> [list(read_text_split(s)) for s in plan_text_splits("memory:///doc/read/a.txt", 2)]
    [['one', 'two'], ['three']]
    """
    for batch in read_text_split_batches(split, use_unicode, chunk_size=chunk_size):
        yield from batch


def read_text_split_batches(
    split: InputSplit, use_unicode: bool = True, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[list[str]] | Iterator[list[bytes]]:
    """Like :func:`read_text_split`, but yield lists of lines (one list per chunk read).

    >>> import fsspec
    >>> from sparkish.io.splits import plan_text_splits
    >>> fsspec.filesystem("memory").pipe("/doc/batches/a.txt", b"x\\ny\\n")
    >>> list(read_text_split_batches(plan_text_splits("memory:///doc/batches")[0]))
    [['x', 'y']]
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    for segment in split.segments:
        with _SegmentStream(segment, "textFile") as stream:
            first = True
            for block in _segment_line_blocks(stream, segment, chunk_size):
                if first:
                    first = False
                    if (segment.start == 0 or segment.compression) and block.startswith(_UTF8_BOM):
                        block = block[len(_UTF8_BOM) :]
                        if not block:
                            continue
                yield _block_to_lines(block, use_unicode)


def read_whole_text_files(
    split: InputSplit, use_unicode: bool = True
) -> Iterator[tuple[str, str]] | Iterator[tuple[str, bytes]]:
    """Yield ``(url, content)`` per file for ``wholeTextFiles``; compressed files are decompressed.

    >>> import fsspec
    >>> from sparkish.io.splits import plan_whole_file_splits
    >>> fsspec.filesystem("memory").pipe("/doc/wt/a.txt", b"hello\\n")
    >>> list(read_whole_text_files(plan_whole_file_splits("memory:///doc/wt")[0]))
    [('memory:///doc/wt/a.txt', 'hello\\n')]
    """
    for segment in split.segments:
        with _SegmentStream(segment, "wholeTextFiles") as stream:
            data = _read_to_end(stream, segment, "wholeTextFiles")
        if use_unicode:
            yield segment.url, data.decode("utf-8", "replace")
        else:
            yield segment.url, _valid_utf8(data)


def read_binary_files(split: InputSplit) -> Iterator[tuple[str, bytes]]:
    """Yield ``(url, raw bytes)`` per file for ``binaryFiles`` (never decompressed).

    >>> import fsspec
    >>> from sparkish.io.splits import plan_whole_file_splits
    >>> fsspec.filesystem("memory").pipe("/doc/bf/a.bin", b"\\x00\\x01")
    >>> split = plan_whole_file_splits("memory:///doc/bf", operation="binaryFiles")[0]
    >>> list(read_binary_files(split))
    [('memory:///doc/bf/a.bin', b'\\x00\\x01')]
    """
    for segment in split.segments:
        with open_whole_file(segment, "binaryFiles") as stream:
            yield segment.url, _read_to_end(stream, segment, "binaryFiles")


def open_segment(segment: FileSegment, operation: str) -> AbstractContextManager[Any]:
    """The segment's file as a binary stream positioned at the segment's start (decompressed
    from its beginning when the segment is a compressed file); filesystem errors name the
    operation and the file."""
    return _SegmentStream(segment, operation)


def open_whole_file(segment: FileSegment, operation: str) -> AbstractContextManager[Any]:
    """The segment's whole file, raw (never decompressed), positioned at byte 0."""
    whole = FileSegment(
        segment.fs, segment.path, segment.url, 0, segment.file_size, segment.file_size
    )
    return _SegmentStream(whole, operation)


def read_binary_records(
    split: InputSplit, record_length: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield the fixed-length records of a split planned by ``plan_binary_record_splits``.

    >>> import fsspec
    >>> from sparkish.io.splits import plan_binary_record_splits
    >>> fsspec.filesystem("memory").pipe("/doc/br/r.bin", b"aabbcc")
    >>> list(read_binary_records(plan_binary_record_splits("memory:///doc/br", 2)[0], 2))
    [b'aa', b'bb', b'cc']
    """
    if record_length < 1:
        raise ValueError(f"binaryRecords: recordLength must be positive, got {record_length}")
    read_size = max(record_length, chunk_size // record_length * record_length)
    for segment in split.segments:
        if segment.start % record_length or segment.length % record_length:
            raise ValueError(
                f"binaryRecords: segment [{segment.start}, {segment.end}) of {segment.url} is not "
                f"aligned to recordLength={record_length}"
            )
        with _SegmentStream(segment, "binaryRecords") as stream:
            remaining, pending = segment.length, b""
            while remaining:
                with fs_errors("binaryRecords", segment.url):
                    data = stream.read(min(read_size, remaining))
                if not data:
                    raise ValueError(
                        f"binaryRecords: {segment.url} ended at byte {segment.end - remaining}, "
                        f"before the planned end {segment.end} (was it truncated while reading?)"
                    )
                remaining -= len(data)
                buffer = pending + data if pending else data
                usable = len(buffer) // record_length * record_length
                yield from [buffer[i : i + record_length] for i in range(0, usable, record_length)]
                pending = buffer[usable:]


def read_pickle_split(split: InputSplit) -> Iterator[Any]:
    """Yield the records of part files written by ``saveAsPickleFile`` (sparkish's own format).

    >>> import fsspec, io
    >>> from sparkish.io.splits import plan_pickle_splits
    >>> from sparkish.io.writers import write_pickle_frames
    >>> sink = io.BytesIO()
    >>> write_pickle_frames(sink, [1, 2, 3], batch_size=2)
    3
    >>> fsspec.filesystem("memory").pipe("/doc/pk/part-00000", sink.getvalue())
    >>> list(read_pickle_split(plan_pickle_splits("memory:///doc/pk")[0]))
    [1, 2, 3]
    """
    for segment in split.segments:
        with _SegmentStream(segment, "pickleFile") as stream:
            reader = _ExactReader(stream, segment.url)
            magic = reader.read_exact(len(_pickle_format.MAGIC))
            if magic != _pickle_format.MAGIC:
                hint = (
                    " (it looks like a Hadoop SequenceFile, e.g. written by PySpark's "
                    "saveAsPickleFile, which sparkish cannot read)"
                    if magic.startswith(_pickle_format.SEQUENCE_FILE_MAGIC)
                    else ""
                )
                raise ValueError(f"pickleFile: {segment.url} is not a sparkish pickle file{hint}")
            while True:
                header = reader.read_exact(_pickle_format.FRAME_HEADER.size)
                if not header:
                    break
                if len(header) < _pickle_format.FRAME_HEADER.size:
                    raise ValueError(
                        f"pickleFile: {segment.url} is truncated (partial frame header)"
                    )
                (length,) = _pickle_format.FRAME_HEADER.unpack(header)
                payload = reader.read_exact(length)
                if len(payload) < length:
                    raise ValueError(f"pickleFile: {segment.url} is truncated (partial frame)")
                yield from _pickle_format.loads_batch(payload, segment.url)


class _ExactReader:
    """Buffered ``read_exact`` over any stream (raw HDFS readers return short reads)."""

    def __init__(self, stream: BinaryIO, url: str, read_size: int = 1024 * 1024) -> None:
        self._stream = stream
        self._url = url
        self._read_size = read_size
        self._buffer = b""
        self._offset = 0

    def read_exact(self, size: int) -> bytes:
        """``size`` bytes, or fewer only at the end of the stream."""
        while len(self._buffer) - self._offset < size:
            with fs_errors("pickleFile", self._url):
                data = self._stream.read(max(self._read_size, size))
            if not data:
                break
            self._buffer = self._buffer[self._offset :] + data
            self._offset = 0
        out = self._buffer[self._offset : self._offset + size]
        self._offset += len(out)
        return out


def _protocols(fs: Any) -> tuple:
    protocol = fs.protocol
    return protocol if isinstance(protocol, tuple) else (protocol,)


class _SegmentStream:
    """Context manager: the segment's file, positioned at its start, decompressed if needed."""

    def __init__(self, segment: FileSegment, operation: str) -> None:
        self._segment = segment
        self._operation = operation
        self._raw: Any = None

    def __enter__(self) -> Any:
        segment = self._segment
        with fs_errors(self._operation, segment.url):
            if "memory" in _protocols(segment.fs):
                # fsspec's memory file system hands the same file object to every open():
                # concurrent readers would move each other's position. Read a private copy.
                self._raw = io.BytesIO(segment.fs.cat_file(segment.path))
            else:
                self._raw = segment.fs.open(segment.path, "rb")
            if segment.compression is None and segment.start:
                try:
                    self._raw.seek(segment.start)
                except BaseException:
                    self._raw.close()
                    raise
        if segment.compression is not None:
            codec = codec_for_name(segment.compression)
            assert codec is not None  # the planner only marks segments with known codecs
            return DecompressingReader(self._raw, codec, segment.url)
        return self._raw

    def __exit__(self, *exc_info: object) -> None:
        self._count_bytes_read()
        try:
            self._raw.close()
        except OSError:
            pass  # a failed close of a read-only stream loses nothing

    def _count_bytes_read(self) -> None:
        """Count how far the reader got in the file (the task's input bytes)."""
        segment = self._segment
        start = segment.start if segment.compression is None else 0
        try:
            position = self._raw.tell()
        except (OSError, ValueError, AttributeError):
            position = start + segment.length
        task_metrics.add_labelled(
            task_metrics.INPUT_BYTES, _protocols(segment.fs)[0], max(0, position - start)
        )


def _read_to_end(stream: Any, segment: FileSegment, operation: str) -> bytes:
    pieces: list[bytes] = []
    while True:
        with fs_errors(operation, segment.url):
            data = stream.read(DEFAULT_CHUNK_SIZE)
        if not data:
            return b"".join(pieces)
        pieces.append(data)


def _first_terminator(data: bytes) -> int:
    newline, carriage_return = data.find(b"\n"), data.find(b"\r")
    if newline < 0:
        return carriage_return
    if carriage_return < 0:
        return newline
    return min(newline, carriage_return)


def _segment_line_blocks(stream: Any, segment: FileSegment, chunk_size: int) -> Iterator[bytes]:
    """Yield byte blocks holding exactly the lines that belong to ``segment``.

    Each block ends just after a line terminator, except a final line without one. A ``\\r\\n``
    pair is never split between blocks. The region scanned for line starts is bytes
    ``[start, end]`` (one past the end: a line starting exactly at ``end`` is ours when the
    byte before it ends a line); the last line is then read to its end, wherever that is.
    Reads are ``chunk_size`` bytes, but blocks are cut at about ``_BLOCK_SIZE`` bytes: scanning,
    decoding and splitting a block that fits in the CPU cache is several times faster.
    """
    return _SegmentLines(stream, segment, chunk_size).blocks()


class _LineAssembler:
    """Cuts a byte stream into blocks of whole lines, keeping the unfinished last line."""

    def __init__(self) -> None:
        self.carry: list[bytes] = []  # a line that is ours and whose end is not read yet
        self.pending_cr = False  # the last block ended with '\r': a leading '\n' belongs to it

    def feed(self, data: bytes) -> bytes | None:
        """The complete lines that ``data`` finishes, or None."""
        if self.pending_cr and data:
            self.pending_cr = False
            if data[0] == _LF:
                data = data[1:]
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if cut < 0:
            if data:
                self.carry.append(data)
            return None
        complete = data[: cut + 1] if cut + 1 < len(data) else data
        if self.carry:
            self.carry.append(complete)
            complete = b"".join(self.carry)
            self.carry.clear()
        if cut + 1 < len(data):
            self.carry.append(data[cut + 1 :])
        else:
            self.pending_cr = data[cut] == _CR
        return complete

    def feed_blocks(self, data: bytes, start: int = 0) -> Iterator[bytes]:
        """Feed ``data[start:]`` in cache-sized blocks; yield the complete lines."""
        for offset in range(start, len(data), _BLOCK_SIZE):
            block = self.feed(data[offset : offset + _BLOCK_SIZE])
            if block:
                yield block

    def rest(self) -> bytes:
        """The unfinished line, as it is."""
        rest = b"".join(self.carry)
        self.carry.clear()
        return rest


class _SegmentLines:
    """The line blocks of one segment (see :func:`_segment_line_blocks`)."""

    def __init__(self, stream: Any, segment: FileSegment, chunk_size: int) -> None:
        self.stream = stream
        self.segment = segment
        self.chunk_size = chunk_size
        whole_stream = segment.compression is not None
        self.position = 0 if whole_stream else segment.start
        self.limit = None if whole_stream else min(segment.end + 1, segment.file_size)
        self.lines = _LineAssembler()

    def read(self, size: int) -> bytes:
        with fs_errors("textFile", self.segment.url):
            return self.stream.read(size)

    def blocks(self) -> Iterator[bytes]:
        if self.position > 0:
            first = self._skip_partial_first_line()
            if first is None:
                return
            yield from first
        if (yield from self._read_to_limit()):
            yield from self._finish_last_line()

    def _skip_partial_first_line(self) -> Iterator[bytes] | None:
        """Skip the line in progress at ``start`` (it belongs to the previous segment): the
        blocks after the first terminator at or after ``start``, or None when that terminator
        is at ``end`` or later (nothing is ours)."""
        assert self.limit is not None
        read_size = _FIRST_READ_SIZE
        while True:
            want = min(read_size, self.limit - self.position)
            data = self.read(want) if want > 0 else b""
            if not data:
                return None
            at = _first_terminator(data)
            if at >= 0:
                break
            self.position += len(data)
            read_size = min(2 * read_size, self.chunk_size)
        if self.position + at >= self.segment.end:
            return None
        self.position += len(data)
        self.lines.pending_cr = data[at] == _CR
        return self.lines.feed_blocks(data, at + 1)

    def _read_to_limit(self) -> Generator[bytes, None, bool]:
        """Read up to ``end`` + 1; returns whether a line started there may still be open."""
        limit = self.limit
        while limit is None or self.position < limit:
            size = self.chunk_size if limit is None else min(self.chunk_size, limit - self.position)
            data = self.read(size)
            if not data:
                if self.lines.carry:
                    yield self.lines.rest()
                return False
            self.position += len(data)
            yield from self.lines.feed_blocks(data)
        return True

    def _finish_last_line(self) -> Iterator[bytes]:
        """Read the line that started at or before ``end`` to its terminator, if one is open."""
        read_size = _FIRST_READ_SIZE
        while self.lines.carry:
            data = self.read(read_size)
            if not data:
                yield self.lines.rest()
                return
            at = _first_terminator(data)
            if at >= 0:
                self.lines.carry.append(data[: at + 1])
                yield self.lines.rest()
                return
            self.lines.carry.append(data)
            read_size = min(2 * read_size, self.chunk_size)


def _block_to_lines(block: bytes, use_unicode: bool) -> list[Any]:
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    ends_with_newline = block.endswith(b"\n")
    if use_unicode:
        lines: list[Any] = block.decode("utf-8", "replace").split("\n")
    else:
        lines = _valid_utf8(block).split(b"\n")
    if ends_with_newline:
        lines.pop()
    return lines


def _valid_utf8(data: bytes) -> bytes:
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace").encode("utf-8")
    return data
