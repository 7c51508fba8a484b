"""``Row``: a tuple whose fields have names, like ``pyspark.sql.Row``.

Rows are what structured input (``spark.read.text``, Parquet, CSV, JSON) yields and what
``toDF`` takes; they are plain tuples underneath, so they compare, hash and sort as tuples.

Examples
--------
>>> row = Row(name="Alice", age=11)
>>> row
Row(name='Alice', age=11)
>>> row.name, row["age"], row[0]
('Alice', 11, 'Alice')
>>> Person = Row("name", "age")
>>> Person("Bob", 7)
Row(name='Bob', age=7)
>>> Person("Bob", 7) == ("Bob", 7)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["Row", "rows_with_fields"]


class Row(tuple):
    """A row: positional values and, when made from keywords, field names.

    ``Row(name=..., age=...)`` makes a row with fields in the order given. ``Row("name", "age")``
    makes a tuple of names that, called with values, makes rows with those fields.

    Parameters
    ----------
    *args : object
        Values of a row without field names (or the field names of a row factory).
    **kwargs : object
        Field names and values, in order.
    """

    __fields__: list[str]

    def __new__(cls, *args: Any, **kwargs: Any) -> Row:
        if args and kwargs:
            raise ValueError("Row: pass either positional values or keyword fields, not both")
        if kwargs:
            return _with_fields(cls, list(kwargs), tuple(kwargs.values()))
        return tuple.__new__(cls, args)

    def _fields_or_none(self) -> list[str] | None:
        return self.__dict__.get("__fields__")

    def asDict(self, recursive: bool = False) -> dict[str, Any]:
        """The row as a dict from field name to value.

        Parameters
        ----------
        recursive : bool
            Also turn nested rows (in values, lists and dicts) into dicts.

        Returns
        -------
        dict

        Examples
        --------
        >>> Row(key=1, value=Row(a=2)).asDict(recursive=True)
        {'key': 1, 'value': {'a': 2}}
        """
        fields = self._fields_or_none()
        if fields is None:
            raise TypeError("Row.asDict: this row has no field names")
        values = (_as_plain(value) for value in self) if recursive else iter(self)
        return dict(zip(fields, values))

    def __call__(self, *values: Any) -> Row:
        """A row whose field names are this row's values."""
        if len(values) > len(self):
            raise ValueError(f"Row: {len(values)} values for {len(self)} fields {tuple(self)}")
        return _with_fields(Row, list(self[: len(values)]), values)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, slice)):
            return super().__getitem__(item)
        fields = self._fields_or_none() or []
        try:
            return super().__getitem__(fields.index(item))
        except ValueError:
            raise ValueError(f"Row has no field {item!r} (fields: {fields})") from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        fields = self._fields_or_none() or []
        if name not in fields:
            raise AttributeError(f"Row has no field {name!r} (fields: {fields})")
        return super().__getitem__(fields.index(name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Row is read-only")

    def __contains__(self, item: object) -> bool:
        fields = self._fields_or_none()
        return item in fields if fields is not None else super().__contains__(item)

    def __reduce__(self) -> tuple:
        fields = self._fields_or_none()
        if fields is None:
            return (Row, tuple(self))
        return (_named_row, (tuple(fields), tuple(self)))

    def __repr__(self) -> str:
        fields = self._fields_or_none()
        if fields is None:
            return f"<Row({', '.join(repr(value) for value in self)})>"
        pairs = ", ".join(f"{name}={value!r}" for name, value in zip(fields, self))
        return f"Row({pairs})"


def rows_with_fields(fields: Sequence[str], values: Iterable[tuple]) -> Iterator[Row]:
    """Rows with the given field names, one per tuple of values, sharing one list of names.

    Structured input makes millions of rows with the same fields; sharing the names costs one
    attribute per row instead of a list per row.

    >>> list(rows_with_fields(["name", "age"], [("Alice", 11), ("Bob", 7)]))
    [Row(name='Alice', age=11), Row(name='Bob', age=7)]
    """
    shared = list(fields)
    new_tuple, set_attribute = tuple.__new__, object.__setattr__
    for row_values in values:
        row = new_tuple(Row, row_values)
        set_attribute(row, "__fields__", shared)
        yield row


def _with_fields(cls: type[Row], fields: list[str], values: tuple) -> Row:
    row = tuple.__new__(cls, values)
    object.__setattr__(row, "__fields__", fields)
    return row


def _named_row(fields: tuple[str, ...], values: tuple) -> Row:
    return _with_fields(Row, list(fields), values)


def _as_plain(value: Any) -> Any:
    """``value`` with rows turned into dicts, looking into lists and dicts."""
    if isinstance(value, Row):
        return value.asDict(recursive=True)
    if isinstance(value, list):
        return [_as_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_plain(item) for key, item in value.items()}
    return value
