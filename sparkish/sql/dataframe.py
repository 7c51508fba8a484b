"""A minimal DataFrame: what ``SparkSession.read`` and ``createDataFrame`` return.

sparkish implements PySpark's RDD API, not Spark SQL. RDD programs that open with a
``SparkSession`` use a DataFrame only to get at its rows (``spark.read.text(path).rdd``), so
this class offers exactly that: ``rdd``, ``collect``, ``count``, ``first``, ``head``, ``take``,
``show``, ``toPandas`` and ``columns``. Any other DataFrame method raises
``NotImplementedError`` naming the method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..row import Row

if TYPE_CHECKING:
    import pandas

    from ..rdd import RDD

__all__ = ["DataFrame"]


class DataFrame:
    """Rows with named columns, backed by an RDD of :class:`~sparkish.Row`.

    Parameters
    ----------
    rdd : RDD
        The rows.
    columns : sequence of str, optional
        The column names, in order (default: the fields of the first row, found when asked).

    Examples
    --------
    >>> from sparkish.sql import SparkSession
    >>> spark = SparkSession.builder.getOrCreate()
    >>> df = spark.createDataFrame([("a", 1), ("b", 2)], ["key", "value"])
    >>> df.columns, df.count(), df.first().value
    (['key', 'value'], 2, 1)
    >>> df.select("key")
    Traceback (most recent call last):
        ...
    NotImplementedError: DataFrame.select is not available: sparkish implements PySpark's RDD API...
    """

    def __init__(self, rdd: RDD[Row], columns: Sequence[str] | None = None) -> None:
        self._rdd = rdd
        self._known_columns = list(columns) if columns is not None else None

    @property
    def rdd(self) -> RDD[Row]:
        """The rows, as an RDD of :class:`~sparkish.Row`."""
        return self._rdd

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._columns)

    @property
    def _columns(self) -> list[str]:
        if self._known_columns is None:
            first = self.first()
            self._known_columns = list(first.asDict()) if first is not None else []
        return self._known_columns

    def collect(self) -> list[Row]:
        """All rows, in the driver.

        Returns
        -------
        list of Row
        """
        return self._rdd.collect()

    def count(self) -> int:
        """The number of rows.

        Returns
        -------
        int
        """
        return self._rdd.count()

    def first(self) -> Row | None:
        """The first row, or ``None`` when there is none.

        Returns
        -------
        Row or None
        """
        rows = self._rdd.take(1)
        return rows[0] if rows else None

    def head(self, n: int | None = None) -> Row | None | list[Row]:
        """The first row (``n`` omitted) or the first ``n`` rows.

        Parameters
        ----------
        n : int, optional
            How many rows.

        Returns
        -------
        Row, None or list of Row
        """
        if n is None:
            return self.first()
        return self._rdd.take(n)

    def take(self, num: int) -> list[Row]:
        """The first ``num`` rows.

        Parameters
        ----------
        num : int
            How many rows.

        Returns
        -------
        list of Row
        """
        return self._rdd.take(num)

    def show(self, n: int = 20, truncate: bool | int = True, vertical: bool = False) -> None:
        """Print the first ``n`` rows as a table, like PySpark.

        Parameters
        ----------
        n : int
            How many rows.
        truncate : bool or int
            Cut values longer than 20 characters (or than the given number).
        vertical : bool
            Print one ``column | value`` line per field instead.
        """
        width = 20 if truncate is True else int(truncate)
        rows = [[_cell(value, width) for value in row] for row in self.take(n)]
        if vertical:
            for index, row in enumerate(rows):
                print(f"-RECORD {index}" + "-" * 10)
                for name, value in zip(self._columns, row):
                    print(f" {name} | {value}")
            return
        widths = [
            max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(self._columns)
        ]
        border = "+" + "+".join("-" * w for w in widths) + "+"
        print(border)
        print("|" + "|".join(name.rjust(w) for name, w in zip(self._columns, widths)) + "|")
        print(border)
        for row in rows:
            print("|" + "|".join(cell.rjust(w) for cell, w in zip(row, widths)) + "|")
        print(border)

    def toPandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame in the driver (needs pandas).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas  # noqa: PLC0415 - an optional dependency

        return pandas.DataFrame.from_records(self.collect(), columns=self._columns)

    def __repr__(self) -> str:
        return f"DataFrame[{', '.join(self._columns)}]"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotImplementedError(
            f"DataFrame.{name} is not available: sparkish implements PySpark's RDD API, not "
            "Spark SQL; use df.rdd (an RDD of Row) instead"
        )


def _cell(value: Any, width: int) -> str:
    text = "NULL" if value is None else str(value)
    if width and len(text) > width:
        return text[: max(width - 3, 0)] + "..."
    return text
