"""Parquet files as RDDs of Rows, and RDD partitions as Parquet part files, through pyarrow.

Reading is split by bytes exactly like ``textFile`` (:func:`~sparkish.io.splits.plan_text_splits`),
so the driver only lists files. Each task reads the footer of its files and takes the row groups
whose middle byte lies inside its byte range (Spark's rule), so every row group is read by
exactly one task, and a split that holds no row group's middle is an empty partition.

Writing goes through the same commit protocol as ``saveAsTextFile``
(:mod:`sparkish.io.writers`): a part file ``part-NNNNN.parquet`` per partition, written by
``pyarrow.parquet.ParquetWriter`` in row groups of at most :data:`ROWS_PER_WRITE` records.

>>> import fsspec, io, pyarrow as pa, pyarrow.parquet as pq
>>> from sparkish.io.splits import plan_text_splits
>>> sink = io.BytesIO()
>>> pq.write_table(pa.table({"word": ["a", "b", "c"], "n": [1, 2, 3]}), sink, row_group_size=2)
>>> fsspec.filesystem("memory").pipe("/doc/pq/a.parquet", sink.getvalue())
>>> split = plan_text_splits("memory:///doc/pq", operation="parquetFile")[0]
>>> list(read_parquet_split(None, split))
[Row(word='a', n=1), Row(word='b', n=2), Row(word='c', n=3)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..columnar import rows_from_table, table_from_records
from ..row import Row
from ._filesystems import fs_errors
from .readers import open_whole_file
from .splits import FileSegment, InputSplit
from .writers import TaskCommitMessage, WriteJobSpec, write_attempt

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ROWS_PER_WRITE", "read_parquet_split", "write_parquet_task"]

OPERATION = "parquetFile"
#: Records converted and written at a time (each write is one row group).
ROWS_PER_WRITE = 65536
_FOOTER_BYTES = 8  # a 4-byte footer length and the magic "PAR1"


def _parquet() -> Any:
    import pyarrow.parquet  # noqa: PLC0415 - heavy, loaded by the tasks that read or write

    return pyarrow.parquet


def _arrow_errors() -> tuple[type[BaseException], ...]:
    import pyarrow  # noqa: PLC0415 - heavy, loaded by the tasks that read or write

    return (pyarrow.ArrowException, OSError, ValueError)


def _row_group_range(metadata: Any, index: int) -> tuple[int, int]:
    """The first byte and the end of a row group's column chunks in the file."""
    group = metadata.row_group(index)
    starts, size = [], 0
    for column_index in range(group.num_columns):
        column = group.column(column_index)
        offset = column.data_page_offset
        if column.has_dictionary_page and column.dictionary_page_offset:
            offset = min(offset, column.dictionary_page_offset)
        starts.append(offset)
        size += column.total_compressed_size
    first = min(starts) if starts else 0
    return first, first + size


def _row_groups_in(metadata: Any, start: int, end: int) -> list[tuple[int, int, int]]:
    """``(index, first byte, end)`` of the row groups whose middle byte is in ``[start, end)``."""
    chosen = []
    for index in range(metadata.num_row_groups):
        first, last = _row_group_range(metadata, index)
        if start <= first + (last - first) // 2 < end:
            chosen.append((index, first, last))
    return chosen


def _read_segment(segment: FileSegment, columns: Sequence[str] | None) -> Iterator[Row]:
    errors = _arrow_errors()
    with open_whole_file(segment, OPERATION) as stream:
        try:
            with fs_errors(OPERATION, segment.url):
                parquet_file = _parquet().ParquetFile(stream)
        except errors as error:
            raise ValueError(
                f"{OPERATION}: {segment.url} is not a readable Parquet file (its footer ends at "
                f"byte offset {segment.file_size - _FOOTER_BYTES}): {error}"
            ) from None
        for index, first, last in _row_groups_in(parquet_file.metadata, segment.start, segment.end):
            try:
                with fs_errors(OPERATION, segment.url):
                    table = parquet_file.read_row_group(
                        index, columns=list(columns) if columns is not None else None
                    )
            except errors as error:
                raise ValueError(
                    f"{OPERATION}: cannot read row group {index} (bytes {first}-{last}) of "
                    f"{segment.url}: {error}"
                ) from None
            yield from rows_from_table(table)


def read_parquet_split(columns: Sequence[str] | None, split: InputSplit) -> Iterator[Row]:
    """The rows of the row groups a byte-range split owns (``parquetFile``).

    ``columns`` selects and orders columns (``None``: all). A file that is not Parquet is a
    ``ValueError`` naming the file and the byte offset of its footer; a row group that cannot
    be read, one naming the file, the row group and its bytes.
    """
    for segment in split.segments:
        yield from _read_segment(segment, columns)


def write_parquet_task(
    spec: WriteJobSpec,
    partition_index: int,
    attempt_id: str | None,
    records: Iterable[Any],
    schema: pa.Schema,
) -> TaskCommitMessage:
    """Write one partition as a Parquet attempt file with ``schema``; runs on a worker.

    >>> import pyarrow as pa
    >>> from sparkish.io.writers import OutputCommitter
    >>> spec = OutputCommitter("memory:///doc/pq-out", operation="saveAsParquetFile").setup_job()
    >>> message = write_parquet_task(spec, 0, "a1", [("x", 1)], pa.schema([("s", pa.string()),
    ...                                                                     ("n", pa.int64())]))
    >>> message.part_name, message.num_records
    ('part-00000.parquet', 1)
    """

    def write_body(sink: Any) -> int:
        writer = _parquet().ParquetWriter(sink, schema)
        count = 0
        iterator = iter(records)
        try:
            while True:
                chunk = list(itertools.islice(iterator, ROWS_PER_WRITE))
                if not chunk and count:
                    break
                writer.write_table(table_from_records(chunk, schema, spec.operation))
                count += len(chunk)
                if not chunk:
                    break
        finally:
            writer.close()
        return count

    return write_attempt(spec, partition_index, attempt_id, ".parquet", write_body)
