"""CSV and JSON-lines files as RDDs of Rows, parsed by pyarrow.

Files are split by bytes exactly like ``textFile`` (:func:`~sparkish.io.splits.plan_text_splits`)
and a split owns the same lines as it would for ``textFile``: the lines whose first byte follows
a ``\\n`` inside the split (plus the file's first line for the split starting at byte 0). Lines
end with ``\\n`` or ``\\r\\n``. Compressed files are read whole, as one split each. CSV values
that contain line breaks need ``multiLine=True``, which reads every file whole.

A task parses its lines with ``pyarrow.csv`` / ``pyarrow.json`` under one schema for the whole
dataset: given by the caller, or inferred by a first pass over the data (:func:`csv_schema`,
:func:`json_schema`, one schema per split, merged in the driver) as Spark's ``inferSchema`` and
JSON reader do. A malformed line is an error naming the file and the line's byte offset.

>>> import fsspec
>>> from sparkish.io.splits import plan_text_splits
>>> fsspec.filesystem("memory").pipe("/doc/csv/a.csv", b"word,n\\na,1\\nb,2\\n")
>>> split = plan_text_splits("memory:///doc/csv", operation="csvFile")[0]
>>> options = CsvOptions(header=True)
>>> list(read_csv_split(options, split))
[Row(word='a', n='1'), Row(word='b', n='2')]
>>> schema = merge_csv_schemas(csv_schema(options, split))
>>> list(read_csv_split(options.with_schema(schema), split))
[Row(word='a', n=1), Row(word='b', n=2)]
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..columnar import merge_schemas, rows_from_table
from ..row import Row
from ._filesystems import fs_errors
from .readers import open_segment, open_whole_file
from .splits import FileSegment, InputSplit

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "CsvOptions",
    "JsonOptions",
    "csv_schema",
    "json_schema",
    "merge_csv_schemas",
    "merge_json_schemas",
    "read_csv_split",
    "read_json_split",
]

_READ_SIZE = 64 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"


def _arrow() -> Any:
    import pyarrow  # noqa: PLC0415 - heavy, loaded by the tasks that parse files

    return pyarrow


def _arrow_csv() -> Any:
    import pyarrow.csv  # noqa: PLC0415 - heavy, loaded by the tasks that parse files

    return pyarrow.csv


def _arrow_json() -> Any:
    import pyarrow.json  # noqa: PLC0415 - heavy, loaded by the tasks that parse files

    return pyarrow.json


@dataclass(frozen=True)
class _Lines:
    """The lines a segment owns: their bytes and where they start in the (decompressed) file."""

    segment: FileSegment
    offset: int
    data: bytes

    def line_offset(self, line_index: int) -> int:
        """The file offset of the ``line_index``-th line (0-based) of ``data``."""
        position = 0
        for _ in range(line_index):
            position = self.data.index(b"\n", position) + 1
        return self.offset + position

    def without_first_line(self) -> _Lines:
        cut = self.data.find(b"\n")
        if cut < 0:
            return _Lines(self.segment, self.offset + len(self.data), b"")
        return _Lines(self.segment, self.offset + cut + 1, self.data[cut + 1 :])

    def describe(self) -> str:
        return f"{self.segment.url} (bytes {self.offset}-{self.offset + len(self.data)})"


def _read_until_newline(stream: Any, data: bytearray, search_from: int, url: str, op: str) -> int:
    """Read on until ``data`` holds a ``\\n`` at or after ``search_from``; the index just past
    it, or ``len(data)`` at the end of the file."""
    while True:
        found = data.find(b"\n", search_from)
        if found >= 0:
            return found + 1
        search_from = len(data)
        with fs_errors(op, url):
            more = stream.read(_READ_SIZE)
        if not more:
            return len(data)
        data += more


def _owned_lines(segment: FileSegment, operation: str) -> _Lines:
    """Read the lines that belong to ``segment`` (see the module docstring)."""
    with open_segment(segment, operation) as stream:
        whole = segment.compression is not None
        data = bytearray()
        while whole or len(data) < segment.length:
            size = _READ_SIZE if whole else min(_READ_SIZE, segment.length - len(data))
            with fs_errors(operation, segment.url):
                chunk = stream.read(size)
            if not chunk:
                break
            data += chunk
        if whole:
            return _Lines(segment, 0, _without_bom(bytes(data)))
        begin = 0
        if segment.start > 0:
            newline = data.find(b"\n")
            if newline < 0:
                return _Lines(segment, segment.end, b"")
            begin = newline + 1
        stop = _read_until_newline(stream, data, len(data), segment.url, operation)
    lines = bytes(data[begin:stop])
    if segment.start == 0:
        return _Lines(segment, len(lines) - len(_without_bom(lines)), _without_bom(lines))
    return _Lines(segment, segment.start + begin, lines)


def _without_bom(data: bytes) -> bytes:
    return data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data


def _header_line(segment: FileSegment, operation: str) -> bytes:
    """The first line of the segment's (uncompressed) file, without the line end."""
    with open_whole_file(segment, operation) as stream:
        data = bytearray()
        stop = _read_until_newline(stream, data, 0, segment.url, operation)
    return _without_bom(bytes(data[:stop])).rstrip(b"\r\n")


# ------------------------------------------------------------------------------------- CSV
@dataclass(frozen=True)
class CsvOptions:
    """How to read CSV files (Spark's option names in brackets).

    Parameters
    ----------
    header : bool
        The first line of every file names the columns [header].
    sep : str
        The field separator [sep].
    quote : str
        The quote character [quote].
    escape : str or None
        The escape character inside quoted values, if any [escape].
    null_value : str
        The text of a null value [nullValue].
    multi_line : bool
        Values may contain line breaks; every file is read whole [multiLine].
    schema : pyarrow.Schema or None
        Column names and types; ``None`` reads every column as strings.
    """

    header: bool = True
    sep: str = ","
    quote: str = '"'
    escape: str | None = None
    null_value: str = ""
    multi_line: bool = False
    schema: Any = None

    def with_schema(self, schema: pa.Schema) -> CsvOptions:
        """The same options with column names and types."""
        return dataclasses.replace(self, schema=schema)

    def split_line(self, line: bytes) -> list[str]:
        """The fields of one line (the header)."""
        text = line.decode("utf-8", "replace")
        reader = csv.reader(
            [text], delimiter=self.sep, quotechar=self.quote, escapechar=self.escape
        )
        return next(reader, [])


def _csv_piece(options: CsvOptions, segment: FileSegment) -> tuple[list[str], _Lines]:
    """The column names and the data lines (header left out) of one file segment."""
    lines = _owned_lines(segment, "csvFile")
    starts_file = segment.start == 0 or segment.compression is not None
    if options.schema is not None:
        names = list(options.schema.names)
    elif not lines.data.strip():
        names = []
    else:
        first = lines.data.split(b"\n", 1)[0].rstrip(b"\r") if starts_file else None
        fields = options.split_line(
            first if first is not None else _header_line(segment, "csvFile")
        )
        if options.header:
            names = [name or f"_c{index}" for index, name in enumerate(fields)]
        else:
            names = [f"_c{index}" for index in range(len(fields))]
    if options.header and starts_file:
        lines = lines.without_first_line()
    return names, lines


def _parse_csv(options: CsvOptions, lines: _Lines, names: list[str], infer: bool) -> Any:
    pa, pcsv = _arrow(), _arrow_csv()
    bad_rows: list[Any] = []

    def invalid_row(row: Any) -> str:
        bad_rows.append(row)
        return "error"

    if options.schema is not None:
        types = dict(zip(options.schema.names, options.schema.types))
    else:
        types = {} if infer else {name: pa.string() for name in names}
    try:
        return pcsv.read_csv(
            io.BytesIO(lines.data),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pcsv.ParseOptions(
                delimiter=options.sep,
                quote_char=options.quote,
                escape_char=options.escape or False,
                newlines_in_values=options.multi_line,
                invalid_row_handler=invalid_row,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=types,
                null_values=[options.null_value],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException as error:
        raise ValueError(_csv_error(lines, bad_rows, error)) from None


def _csv_error(lines: _Lines, bad_rows: list[Any], error: Exception) -> str:
    if bad_rows and bad_rows[0].number is not None:
        row = bad_rows[0]
        offset = lines.line_offset(row.number - 1)
        return (
            f"csvFile: malformed line at byte offset {offset} of {lines.segment.url}: expected "
            f"{row.expected_columns} fields, got {row.actual_columns}: {row.text[:200]!r}"
        )
    return f"csvFile: cannot parse {lines.describe()}: {error}"


def read_csv_split(options: CsvOptions, split: InputSplit) -> Iterator[Row]:
    """The rows of the lines a split owns (``csvFile``)."""
    for segment in split.segments:
        names, lines = _csv_piece(options, segment)
        if lines.data.strip():
            yield from rows_from_table(_parse_csv(options, lines, names, infer=False))


def csv_schema(options: CsvOptions, split: InputSplit) -> Iterator[pa.Schema]:
    """The types pyarrow infers for each file segment of a split (``inferSchema``)."""
    for segment in split.segments:
        names, lines = _csv_piece(options, segment)
        if lines.data.strip():
            yield _parse_csv(options, lines, names, infer=True).schema


def merge_csv_schemas(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """One schema for the whole dataset: a column whose pieces disagree (or hold only nulls)
    becomes a string column, as with Spark's ``inferSchema``."""
    pa = _arrow()
    found = list(schemas)
    if not found:
        return pa.schema([])
    fields = []
    for index, field in enumerate(found[0]):
        types = {schema.field(index).type for schema in found if index < len(schema)}
        types.discard(pa.null())
        fields.append(pa.field(field.name, _common_type(types)))
    return pa.schema(fields)


def _common_type(types: set) -> Any:
    pa = _arrow()
    if len(types) == 1:
        return next(iter(types))
    if types and all(pa.types.is_integer(t) for t in types):
        return pa.int64()
    if types and all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        return pa.float64()
    return pa.string()


# ------------------------------------------------------------------------------------- JSON
@dataclass(frozen=True)
class JsonOptions:
    """How to read JSON-lines files: one JSON object per line.

    Parameters
    ----------
    schema : pyarrow.Schema or None
        Column names and types (``None`` until inferred).
    """

    schema: Any = None

    def with_schema(self, schema: pa.Schema) -> JsonOptions:
        """The same options with column names and types."""
        return dataclasses.replace(self, schema=schema)


def _parse_json(options: JsonOptions, lines: _Lines) -> Any:
    pa, pjson = _arrow(), _arrow_json()
    parse_options = pjson.ParseOptions(
        explicit_schema=options.schema,
        unexpected_field_behavior="ignore" if options.schema is not None else "infer",
    )
    try:
        return pjson.read_json(
            io.BytesIO(lines.data),
            read_options=pjson.ReadOptions(use_threads=False),
            parse_options=parse_options,
        )
    except pa.ArrowException as error:
        raise ValueError(_json_error(lines, error)) from None


def _json_error(lines: _Lines, error: Exception) -> str:
    """Name the first line Python's json module cannot read as an object, else the range."""
    position = 0
    for line in lines.data.split(b"\n"):
        if line.strip():
            try:
                parsed = json.loads(line)
            except ValueError as problem:
                return (
                    f"jsonFile: malformed JSON at byte offset {lines.offset + position} of "
                    f"{lines.segment.url}: {problem}: {line[:200]!r}"
                )
            if not isinstance(parsed, dict):
                return (
                    f"jsonFile: the line at byte offset {lines.offset + position} of "
                    f"{lines.segment.url} is a JSON {type(parsed).__name__}, not an object"
                )
        position += len(line) + 1
    return f"jsonFile: cannot read {lines.describe()}: {error}"


def read_json_split(options: JsonOptions, split: InputSplit) -> Iterator[Row]:
    """The rows of the JSON lines a split owns (``jsonFile``)."""
    for segment in split.segments:
        lines = _owned_lines(segment, "jsonFile")
        if lines.data.strip():
            yield from rows_from_table(_parse_json(options, lines))


def json_schema(options: JsonOptions, split: InputSplit) -> Iterator[pa.Schema]:
    """The schema pyarrow infers for each file segment of a split."""
    for segment in split.segments:
        lines = _owned_lines(segment, "jsonFile")
        if lines.data.strip():
            yield _parse_json(options, lines).schema


def _spark_json_type(data_type: Any) -> Any:
    """Spark's JSON inference: struct fields sorted by name, timestamps left as strings."""
    pa = _arrow()
    if pa.types.is_struct(data_type):
        fields = sorted(data_type, key=lambda field: field.name)
        return pa.struct([pa.field(f.name, _spark_json_type(f.type)) for f in fields])
    if pa.types.is_list(data_type):
        return pa.list_(_spark_json_type(data_type.value_type))
    if pa.types.is_timestamp(data_type) or pa.types.is_date(data_type):
        return pa.string()
    return data_type


def merge_json_schemas(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """One schema for the whole dataset, with Spark's field order (sorted by name)."""
    pa = _arrow()
    found = list(schemas)
    if not found:
        return pa.schema([])
    merged = merge_schemas(found, "jsonFile")
    return pa.schema(
        [
            pa.field(field.name, _spark_json_type(field.type))
            for field in sorted(merged, key=lambda field: field.name)
        ]
    )
