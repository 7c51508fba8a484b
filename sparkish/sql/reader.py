"""``spark.read``: files as DataFrames of rows, read by the same code as ``sc.textFile``.

Examples
--------
>>> import os, tempfile
>>> from sparkish.sql import SparkSession
>>> spark = SparkSession.builder.getOrCreate()
>>> path = os.path.join(tempfile.mkdtemp(), "lines.txt")
>>> with open(path, "w") as f:
...     _ = f.write("first\\nsecond\\n")
>>> spark.read.text(path).rdd.map(lambda row: row[0]).collect()
['first', 'second']
>>> spark.read.format("text").load(path).first().value
'first'

``csv``, ``json`` and ``parquet`` read through ``SparkContext.csvFile``, ``jsonFile`` and
``parquetFile`` (split by bytes like ``textFile``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..row import Row
from .dataframe import DataFrame

if TYPE_CHECKING:
    from .session import SparkSession

__all__ = ["DataFrameReader"]


def _value_row(value: Any) -> Row:
    return Row(value=value)


def _content_row(path_and_content: tuple[str, str]) -> Row:
    return Row(value=path_and_content[1])


class DataFrameReader:
    """Reads files into DataFrames (``spark.read``).

    Parameters
    ----------
    session : SparkSession
        The session whose context reads the files.
    """

    def __init__(self, session: SparkSession) -> None:
        self._session = session
        self._format = "text"
        self._options: dict[str, str] = {}

    def format(self, source: str) -> DataFrameReader:
        """Choose the input format used by :meth:`load`.

        Parameters
        ----------
        source : str
            ``text``, ``csv``, ``json`` or ``parquet``.

        Returns
        -------
        DataFrameReader
            This reader.
        """
        self._format = source.lower()
        return self

    def option(self, key: str, value: Any) -> DataFrameReader:
        """Set an option of the format.

        Parameters
        ----------
        key : str
            The option (text: ``wholetext``; csv: ``header``, ``sep``, ``inferSchema``,
            ``quote``, ``escape``, ``nullValue``, ``multiLine``).
        value : object
            Its value.

        Returns
        -------
        DataFrameReader
            This reader.
        """
        self._options[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return self

    def options(self, **options: Any) -> DataFrameReader:
        """Set several options of the format.

        Parameters
        ----------
        **options : object
            Options and their values.

        Returns
        -------
        DataFrameReader
            This reader.
        """
        for key, value in options.items():
            self.option(key, value)
        return self

    def load(
        self, path: str | list[str] | None = None, format: str | None = None, **options: Any
    ) -> DataFrame:
        """Read ``path`` in the chosen format.

        Parameters
        ----------
        path : str or list of str
            Files, directories or globs (any fsspec URL).
        format : str, optional
            Overrides :meth:`format`.
        **options : object
            More options of the format.

        Returns
        -------
        DataFrame
        """
        if format is not None:
            self.format(format)
        self.options(**options)
        if path is None:
            raise ValueError("DataFrameReader.load: a path is required")
        options = dict(self._options)
        if self._format == "text":
            wholetext = options.pop("wholetext", "false") == "true"
            return self.text(path, wholetext=wholetext, **options)
        if self._format == "csv":
            return self.csv(path)
        if self._format == "json":
            return self.json(path)
        if self._format == "parquet":
            return self.parquet(_joined(path))
        raise NotImplementedError(
            f"spark.read.format({self._format!r}) is not available in sparkish; text, csv, json "
            "and parquet are"
        )

    def text(
        self,
        paths: str | list[str],
        wholetext: bool = False,
        lineSep: str | None = None,
        **options: Any,
    ) -> DataFrame:
        """Read text files: one row per line (or per file), with the column ``value``.

        ``spark.read.text(path).rdd.map(lambda r: r[0])`` equals ``sc.textFile(path)``.

        Parameters
        ----------
        paths : str or list of str
            Files, directories or globs (any fsspec URL).
        wholetext : bool
            One row per file, holding the whole file.
        lineSep : str, optional
            Only the default (``\\n``, ``\\r\\n`` or ``\\r``) is supported.
        **options : object
            Other options of PySpark's text source are not supported.

        Returns
        -------
        DataFrame
        """
        if lineSep is not None:
            raise NotImplementedError(
                "spark.read.text(lineSep=...) is not supported: lines end at \\n, \\r\\n or \\r"
            )
        if options:
            raise NotImplementedError(f"spark.read.text: unsupported options {sorted(options)}")
        path = paths if isinstance(paths, str) else ",".join(paths)
        context = self._session.sparkContext
        if wholetext:
            rows = context.wholeTextFiles(path).map(_content_row)
        else:
            rows = context.textFile(path).map(_value_row)
        return DataFrame(rows, ["value"])

    def csv(self, path: str | list[str], schema: Any = None, **options: Any) -> DataFrame:
        """Read CSV files: one row per record.

        Parameters
        ----------
        path : str or list of str
            Files, directories or globs (any fsspec URL).
        schema : optional
            Column names and types (names, a DDL string or a pyarrow schema).
        **options : object
            ``sep``, ``header``, ``inferSchema``, ``quote``, ``escape``, ``nullValue``,
            ``multiLine`` (as in PySpark; ``header`` defaults to false as in Spark).

        Returns
        -------
        DataFrame
        """
        settings = {**self._options, **{k: v for k, v in options.items() if v is not None}}
        flags = {"header": False, "inferSchema": False, "multiLine": False}
        keywords: dict[str, Any] = {}
        for key, value in settings.items():
            if key in flags:
                keywords[key] = str(value).lower() == "true"
            elif key in ("sep", "quote", "escape", "nullValue"):
                keywords[key] = str(value)
            elif key == "delimiter":
                keywords["sep"] = str(value)
            else:
                raise NotImplementedError(f"spark.read.csv: unsupported option {key!r}")
        keywords.setdefault("header", False)
        rows = self._session.sparkContext.csvFile(_joined(path), schema=schema, **keywords)
        return DataFrame(rows)

    def json(self, path: str | list[str], schema: Any = None) -> DataFrame:
        """Read JSON-lines files: one row per line.

        Parameters
        ----------
        path : str or list of str
            Files, directories or globs (any fsspec URL).
        schema : optional
            Column names and types (default: inferred from the data).

        Returns
        -------
        DataFrame
        """
        return DataFrame(self._session.sparkContext.jsonFile(_joined(path), schema=schema))

    def parquet(self, *paths: str) -> DataFrame:
        """Read Parquet files: one row per record.

        Parameters
        ----------
        *paths : str
            Files, directories or globs (any fsspec URL).

        Returns
        -------
        DataFrame
        """
        return DataFrame(self._session.sparkContext.parquetFile(",".join(paths)))


def _joined(path: str | list[str]) -> str:
    return path if isinstance(path, str) else ",".join(path)
