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
            ``text``.

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
            The option (for text: ``wholetext``, ``lineSep``).
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
        if self._format != "text":
            raise NotImplementedError(
                f"spark.read.format({self._format!r}) is not available in sparkish; "
                "spark.read.text is"
            )
        wholetext = self._options.get("wholetext", "false") == "true"
        return self.text(path, wholetext=wholetext, lineSep=self._options.get("lineSep"))

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
