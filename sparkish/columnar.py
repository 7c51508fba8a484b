"""Records as Arrow columns and back: the conversions behind ``toDF``, ``toPandas``,
``fromPandas`` and the structured file formats.

An RDD holds Python records; Dask DataFrames, pandas and the Parquet/CSV/JSON readers hold
columns. This module turns a partition's records (``Row``, ``dict``, ``tuple`` or ``list``) into
a ``pyarrow.Table`` with a given schema, infers that schema from sample records the way PySpark
does, and turns tables and pandas frames back into :class:`~sparkish.Row` records.

Schemas are given as PySpark users give them: a list of column names, a DDL string
(``"name STRING, age INT"``), a ``pyarrow.Schema``, or a Spark ``StructType`` (anything with
``fields`` whose items have ``name`` and ``dataType.simpleString()``).

>>> table = table_from_records([("Alice", 11), ("Bob", 7)], parse_schema("name string, age int"))
>>> table.schema.types
[DataType(string), DataType(int32)]
>>> list(rows_from_table(table))
[Row(name='Alice', age=11), Row(name='Bob', age=7)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from .row import Row, rows_with_fields

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "SchemaSpec",
    "arrow_type",
    "frame_from_table",
    "infer_schema",
    "merge_schemas",
    "parse_schema",
    "record_names",
    "rows_from_frame",
    "rows_from_table",
    "table_from_records",
]

#: How many records of a partition schema inference looks at (PySpark looks at 100 rows).
INFERENCE_SAMPLE = 100

#: Rows converted at a time from a table (bounds the Python objects alive at once).
_ROWS_PER_BATCH = 8192

#: What users pass as a schema: names, a DDL string, a ``pyarrow.Schema`` or a StructType.
SchemaSpec = Any

#: Spark SQL type names and the ``pyarrow`` factories of their Arrow types.
_SIMPLE_TYPES: dict[str, str] = {
    "tinyint": "int8",
    "byte": "int8",
    "smallint": "int16",
    "short": "int16",
    "int": "int32",
    "integer": "int32",
    "bigint": "int64",
    "long": "int64",
    "float": "float32",
    "real": "float32",
    "double": "float64",
    "string": "string",
    "varchar": "string",
    "boolean": "bool_",
    "bool": "bool_",
    "binary": "binary",
    "date": "date32",
    "void": "null",
}
_TIMESTAMPS = ("timestamp", "timestamp_ntz")
_DECIMAL = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_ARRAY = re.compile(r"^array\s*<(.*)>$", re.DOTALL)
_STRUCT = re.compile(r"^struct\s*<(.*)>$", re.DOTALL)


def _arrow() -> Any:
    # pyarrow and pandas load on first use: importing them adds 0.3 s to every start-up.
    import pyarrow  # noqa: PLC0415 - heavy, only needed by the conversions

    return pyarrow


def _pandas() -> Any:
    import pandas  # noqa: PLC0415 - heavy, only needed by the conversions

    return pandas


@cache
def _nullable_pandas_types() -> dict:
    """pandas dtypes that hold a null without changing type, so every partition of a Dask
    DataFrame has the dtypes of its meta whether or not that partition has nulls."""
    pa, pd = _arrow(), _pandas()
    return {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }


# ---------------------------------------------------------------------------------- schemas
def arrow_type(name: str) -> pa.DataType:
    """The Arrow type of a Spark SQL type name (``int``, ``decimal(10,2)``, ``array<string>``...).

    >>> arrow_type("bigint"), arrow_type("array<double>")
    (DataType(int64), ListType(list<item: double>))
    """
    pa = _arrow()
    text = name.strip().lower()
    if text in _SIMPLE_TYPES:
        return getattr(pa, _SIMPLE_TYPES[text])()
    if text in _TIMESTAMPS:
        return pa.timestamp("us")
    decimal = _DECIMAL.match(text)
    if decimal:
        return pa.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    array = _ARRAY.match(text)
    if array:
        return pa.list_(arrow_type(array.group(1)))
    struct = _STRUCT.match(name.strip())
    if struct:
        return pa.struct(list(_ddl_fields(struct.group(1), name)))
    raise ValueError(f"unknown column type {name!r} (use a Spark SQL type such as int or string)")


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are not inside ``<...>`` or ``(...)``."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _ddl_fields(text: str, original: str) -> Iterator[pa.Field]:
    pa = _arrow()
    for part in _split_top_level(text):
        match = re.match(r"^`?([^`:\s]+)`?\s*:?\s*(.+)$", part, re.DOTALL)
        if match is None:
            raise ValueError(f"cannot read the column {part!r} of the schema {original!r}")
        yield pa.field(match.group(1), arrow_type(match.group(2)))


def parse_schema(schema: SchemaSpec, operation: str = "toDF") -> pa.Schema | list[str] | None:
    """A full ``pyarrow.Schema``, or only column names (types to be inferred), or ``None``.

    >>> parse_schema(["a", "b"])
    ['a', 'b']
    >>> parse_schema("a: int, b string").names
    ['a', 'b']
    """
    pa = _arrow()
    if schema is None or isinstance(schema, pa.Schema):
        return schema
    if isinstance(schema, str):
        text = schema.strip()
        struct = _STRUCT.match(text)
        try:
            return pa.schema(list(_ddl_fields(struct.group(1) if struct else text, schema)))
        except ValueError as error:
            raise ValueError(f"{operation}: {error}") from None
    fields = getattr(schema, "fields", None)
    if fields is not None:  # a Spark StructType
        return pa.schema(
            [pa.field(field.name, arrow_type(field.dataType.simpleString())) for field in fields]
        )
    if isinstance(schema, (list, tuple)) and all(isinstance(name, str) for name in schema):
        return list(schema)
    raise TypeError(
        f"{operation}: schema must be a list of column names, a DDL string such as "
        f"'name string, age int', a pyarrow.Schema or a StructType, not {type(schema).__name__}"
    )


def merge_schemas(schemas: Iterable[pa.Schema], operation: str) -> pa.Schema:
    """One schema for all partitions: fields in order of appearance, ints widened to floats.

    A column that holds different kinds of values in different partitions, or only nulls, is a
    ``TypeError`` that asks for an explicit schema.

    >>> import pyarrow as pa
    >>> merge_schemas([pa.schema([("a", pa.int64())]), pa.schema([("a", pa.float64())])], "toDF")
    a: double
    """
    pa = _arrow()
    found = [schema for schema in schemas if schema is not None]
    if not found:
        raise ValueError(f"{operation}: cannot infer a schema from an empty dataset")
    try:
        merged = pa.unify_schemas(found, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid) as error:
        raise TypeError(
            f"{operation}: a column holds values of different types in different records "
            f"({error}); pass an explicit schema"
        ) from None
    undetermined = [field.name for field in merged if pa.types.is_null(field.type)]
    if undetermined:
        raise ValueError(
            f"{operation}: cannot determine the type of column(s) {undetermined} from the "
            f"sampled records (they are all None); pass an explicit schema"
        )
    return merged


# ---------------------------------------------------------------------------------- records
def record_names(record: Any, operation: str) -> list[str]:
    """Column names a record implies: a Row's fields, a dict's sorted keys (as PySpark), a
    named tuple's fields, else ``_1``, ``_2``...

    >>> record_names({"b": 1, "a": 2}, "toDF"), record_names((1, 2), "toDF")
    (['a', 'b'], ['_1', '_2'])
    """
    if isinstance(record, Row):
        fields = record.__dict__.get("__fields__")
        if fields is not None:
            return list(fields)
    if isinstance(record, dict):
        return sorted(str(key) for key in record)
    fields = getattr(type(record), "_fields", None)
    if isinstance(record, tuple) and fields is not None:
        return list(fields)
    if isinstance(record, (tuple, list)):
        return [f"_{index + 1}" for index in range(len(record))]
    raise TypeError(_not_a_record(record, operation))


def _not_a_record(record: Any, operation: str) -> str:
    return (
        f"{operation}: every record must be a Row, tuple, list or dict to become a table row, "
        f"got {type(record).__name__} {record!r:.80}"
    )


def _columns(records: Sequence[Any], names: Sequence[str], operation: str) -> list[list]:
    """The records' values column by column: dicts by key, everything else by position."""
    width = len(names)
    values: list[tuple] = []
    for index, record in enumerate(records):
        if isinstance(record, dict):
            values.append(tuple(record.get(name) for name in names))
        elif isinstance(record, (tuple, list)):
            if len(record) != width:
                raise ValueError(
                    f"{operation}: record {index} of this partition has {len(record)} fields, "
                    f"but the schema has {width} columns {list(names)}: {record!r:.80}"
                )
            values.append(tuple(record))
        else:
            raise TypeError(_not_a_record(record, operation))
    if not values:
        return [[] for _ in names]
    return [list(column) for column in zip(*values)]


def _plain(value: Any) -> Any:
    """Nested rows as dicts, which Arrow stores as structs."""
    if isinstance(value, Row) and value.__dict__.get("__fields__") is not None:
        return {name: _plain(item) for name, item in zip(value.__fields__, value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _arrow_values(column: list) -> list:
    if any(isinstance(value, (Row, list)) for value in column):
        return [_plain(value) for value in column]
    return column


def infer_schema(records: Sequence[Any], names: Sequence[str] | None, operation: str) -> pa.Schema:
    """The schema of sample records; columns without a non-null value get Arrow's null type.

    >>> infer_schema([{"n": 1, "s": "x"}, {"n": 2.5, "s": None}], None, "toDF")
    n: double
    s: string
    """
    pa = _arrow()
    if not records:
        return pa.schema([(name, pa.null()) for name in names or ()])
    names = list(names) if names is not None else record_names(records[0], operation)
    fields = []
    for name, column in zip(names, _columns(records, names, operation), strict=True):
        try:
            fields.append(pa.field(name, pa.array(_arrow_values(column)).type))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise TypeError(
                f"{operation}: cannot infer one type for column {name!r} from values such as "
                f"{column[:3]!r:.120}: {error}; pass an explicit schema"
            ) from None
    return pa.schema(fields)


def table_from_records(records: Sequence[Any], schema: pa.Schema, operation: str = "toDF"):
    """A ``pyarrow.Table`` of the records, typed by ``schema``.

    A value that does not fit its column's type is a ``TypeError`` naming the column.
    """
    pa = _arrow()
    arrays = []
    for field, column in zip(schema, _columns(records, schema.names, operation), strict=True):
        try:
            arrays.append(pa.array(_arrow_values(column), type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
            raise TypeError(
                f"{operation}: column {field.name!r} has type {field.type}, but a value does not "
                f"fit: {error}"
            ) from None
    return pa.Table.from_arrays(arrays, schema=schema)


# ---------------------------------------------------------------------------------- to rows
def _struct_to_row(value: Any) -> Any:
    if isinstance(value, dict):
        return Row(**{name: _struct_to_row(item) for name, item in value.items()})
    if isinstance(value, list):
        return [_struct_to_row(item) for item in value]
    return value


def _has_struct(data_type: pa.DataType) -> bool:
    pa = _arrow()
    if pa.types.is_struct(data_type):
        return True
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return _has_struct(data_type.value_type)
    return False


def _python_column(array: pa.Array | pa.ChunkedArray) -> list:
    values = array.to_pylist()
    if _has_struct(array.type):
        return [_struct_to_row(value) for value in values]
    return values


def rows_from_table(table: pa.Table | pa.RecordBatch) -> Iterator[Row]:
    """The rows of a table or record batch, batch by batch; struct values become Rows.

    >>> import pyarrow as pa
    >>> list(rows_from_table(pa.table({"a": [1], "b": [{"c": 2}]})))
    [Row(a=1, b=Row(c=2))]
    """
    if isinstance(table, _arrow().Table):
        batches = table.to_batches(max_chunksize=_ROWS_PER_BATCH)
    else:
        batches = [table]
    for batch in batches:
        columns = [_python_column(column) for column in batch.columns]
        if not columns:
            yield from (Row() for _ in range(batch.num_rows))
            continue
        yield from rows_with_fields(batch.schema.names, zip(*columns))


def _is_missing(value: Any) -> bool:
    return (
        value is None or value is _pandas().NaT or (isinstance(value, float) and math.isnan(value))
    )


def _series_values(series: pd.Series) -> list:
    """A pandas column as Python values, missing values as ``None`` (Arrow where it can)."""
    pa = _arrow()
    try:
        return _python_column(pa.array(series, from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return [None if _is_missing(value) else value for value in series.tolist()]


def rows_from_frame(frame: pd.DataFrame) -> Iterator[Row]:
    """The rows of a pandas DataFrame (its index is left out; NaN and NaT become ``None``).

    >>> import pandas as pd
    >>> list(rows_from_frame(pd.DataFrame({"k": ["a", None], "v": [1.5, float("nan")]})))
    [Row(k='a', v=1.5), Row(k=None, v=None)]
    """
    names = [str(name) for name in frame.columns]
    columns = [_series_values(frame.iloc[:, index]) for index in range(len(names))]
    if not columns:
        return (Row() for _ in range(len(frame)))
    return rows_with_fields(names, zip(*columns))


def frame_from_table(table: pa.Table) -> pd.DataFrame:
    """A pandas DataFrame of the table; integer and boolean columns use pandas' nullable types,
    so a column's dtype never depends on whether this piece of data has nulls.

    >>> import pyarrow as pa
    >>> frame_from_table(pa.table({"n": [1, None]})).dtypes.to_dict()
    {'n': Int64Dtype()}
    """
    return table.to_pandas(types_mapper=_nullable_pandas_types().get)
