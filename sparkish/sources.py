"""Entering the RDD world: ``SparkContext`` methods that make RDDs from Dask collections, pandas
DataFrames and structured files (Parquet, CSV, JSON lines). All are sparkish extensions.

From Dask, partitions stay partitions: the collection's tasks run inside the RDD's jobs, on the
cluster, and their outputs feed the RDD's tasks directly. Files are split by bytes like
``textFile`` and parsed by pyarrow in the tasks; records are :class:`~sparkish.Row` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from .columnar import SchemaSpec, parse_schema
from .execution.dask_collections import collection_graph
from .io import splits
from .io.parquet import read_parquet_split
from .io.structured_text import (
    CsvOptions,
    JsonOptions,
    csv_schema,
    json_schema,
    merge_csv_schemas,
    merge_json_schemas,
    read_csv_split,
    read_json_split,
)
from .rdd import RDD
from .rdd.kinds import DaskCollection, FileInput, PandasSlices
from .row import Row
from .validation import require_int

if TYPE_CHECKING:
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from dask.delayed import Delayed

    from .context import SparkContext
    from .execution.runtime import Runtime

__all__ = ["InteropSources"]


def _arrow() -> Any:
    import pyarrow  # noqa: PLC0415 - heavy, loaded by the structured readers only

    return pyarrow


class InteropSources:
    """RDDs from Dask collections, pandas and structured files (mixed into ``SparkContext``)."""

    _runtime: Runtime

    def _context(self) -> SparkContext:
        return cast("SparkContext", self)

    def _planned_partitions(self, value: int | None) -> int:
        self._runtime.check_active()
        return self._context().defaultMinPartitions if value is None else max(int(value), 1)

    def _dask_rdd(self, collections: Sequence[Any], operation: str, frames: bool) -> RDD[Any]:
        self._runtime.check_active()
        graph, keys = collection_graph(collections, operation)
        return RDD(self._context(), DaskCollection(graph, keys, operation, frames))

    # ------------------------------------------------------------------ Dask and pandas
    def fromDaskBag(self, bag: db.Bag) -> RDD[Any]:
        """An RDD whose partitions are the partitions of a Dask bag (a sparkish extension).

        The bag's tasks run on the cluster inside each job that reads the RDD; nothing is
        gathered in the driver.

        Parameters
        ----------
        bag : dask.bag.Bag
            The bag; its partitions become the RDD's partitions, in order.

        Returns
        -------
        RDD

        Examples
        --------
        >>> import dask.bag as db
        >>> rdd = sc.fromDaskBag(db.from_sequence(range(6), npartitions=3).map(lambda x: x * x))
        >>> rdd.glom().collect()
        [[0, 1], [4, 9], [16, 25]]
        """
        return self._dask_rdd([bag], "fromDaskBag", frames=False)

    def fromDelayed(self, delayed: Sequence[Delayed]) -> RDD[Any]:
        """An RDD with one partition per ``dask.delayed`` object, each computing an iterable of
        records (a sparkish extension).

        Parameters
        ----------
        delayed : list of dask.delayed.Delayed
            The partitions, in order.

        Returns
        -------
        RDD

        Examples
        --------
        >>> import dask
        >>> parts = [dask.delayed(range)(start, start + 3) for start in (0, 10)]
        >>> sc.fromDelayed(parts).collect()
        [0, 1, 2, 10, 11, 12]
        """
        if not isinstance(delayed, (list, tuple)):
            raise TypeError(
                f"fromDelayed: expected a list of Delayed, got {type(delayed).__name__}"
            )
        return self._dask_rdd(list(delayed), "fromDelayed", frames=False)

    def fromDaskDataFrame(self, ddf: dd.DataFrame) -> RDD[Row]:
        """An RDD of Rows, one RDD partition per partition of a Dask DataFrame (a sparkish
        extension).

        Each partition's rows become :class:`~sparkish.Row` objects on the worker that computes
        it; the index is left out (``reset_index()`` first to keep it), missing values become
        ``None``.

        Parameters
        ----------
        ddf : dask.dataframe.DataFrame
            The DataFrame.

        Returns
        -------
        RDD

        Examples
        --------
        >>> import dask.dataframe as dd, pandas as pd
        >>> ddf = dd.from_pandas(pd.DataFrame({"word": ["a", "b", "c"], "n": [1, 2, 3]}), 2)
        >>> sc.fromDaskDataFrame(ddf).map(lambda row: row.word * row.n).collect()
        ['a', 'bb', 'ccc']
        """
        if not (hasattr(ddf, "npartitions") and hasattr(ddf, "columns")):
            raise TypeError(
                f"fromDaskDataFrame: expected a Dask DataFrame, got {type(ddf).__name__}"
            )
        return self._dask_rdd([ddf], "fromDaskDataFrame", frames=True)

    def fromPandas(self, df: pd.DataFrame, numSlices: int | None = None) -> RDD[Row]:
        """An RDD of Rows from a pandas DataFrame, cut into slices of consecutive rows (a
        sparkish extension, like ``parallelize``).

        Parameters
        ----------
        df : pandas.DataFrame
            The data (pickled now, in slices; its index is left out).
        numSlices : int, optional
            The number of partitions (default: ``defaultParallelism``).

        Returns
        -------
        RDD

        Examples
        --------
        >>> import pandas as pd
        >>> sc.fromPandas(pd.DataFrame({"k": ["a", "b"], "v": [1.5, None]}), 2).collect()
        [Row(k='a', v=1.5), Row(k='b', v=None)]
        """
        self._runtime.check_active()
        if not (hasattr(df, "iloc") and hasattr(df, "columns")):
            raise TypeError(f"fromPandas: expected a pandas DataFrame, got {type(df).__name__}")
        slices = (
            self._context().defaultParallelism
            if numSlices is None
            else require_int(numSlices, "fromPandas", "numSlices")
        )
        return RDD(self._context(), PandasSlices(df, slices))

    # ------------------------------------------------------------------ structured files
    def _file_input(self, planned: list, read: Any, operation: str, path: str) -> RDD[Any]:
        return RDD(self._context(), FileInput(planned, read, operation, path))

    def parquetFile(
        self, path: str, columns: Sequence[str] | None = None, minPartitions: int | None = None
    ) -> RDD[Row]:
        """Read Parquet files as an RDD of Rows (a sparkish extension).

        Files are split by bytes like ``textFile``; each task reads the row groups whose middle
        lies in its byte range, so there can be fewer non-empty partitions than splits.

        Parameters
        ----------
        path : str
            A file, directory, glob or comma-separated list of those, on any fsspec file system.
        columns : list of str, optional
            The columns to read, in this order (default: all).
        minPartitions : int, optional
            The least number of byte splits wanted (default :attr:`defaultMinPartitions`).

        Returns
        -------
        RDD
            Rows with the files' column names.
        """
        operation = "parquetFile"
        planned = splits.plan_text_splits(
            path,
            self._planned_partitions(minPartitions),
            self._runtime.storage_options(path, operation),
            operation=operation,
        )
        chosen = list(columns) if columns is not None else None
        return self._file_input(planned, partial(read_parquet_split, chosen), operation, path)

    def csvFile(
        self,
        path: str,
        header: bool = True,
        sep: str = ",",
        inferSchema: bool = False,
        schema: SchemaSpec = None,
        quote: str = '"',
        escape: str | None = None,
        nullValue: str = "",
        multiLine: bool = False,
        minPartitions: int | None = None,
    ) -> RDD[Row]:
        """Read CSV files as an RDD of Rows (a sparkish extension, Spark's CSV options).

        Parameters
        ----------
        path : str
            A file, directory, glob or comma-separated list of those, on any fsspec file system;
            ``.gz``, ``.bz2``, ``.xz`` and ``.zst`` files are decompressed (and read whole).
        header : bool
            The first line of each file holds the column names (else ``_c0``, ``_c1``...).
        sep : str
            The field separator.
        inferSchema : bool
            Infer column types with a first pass over the data (else every value is a string).
        schema : list of str, str, pyarrow.Schema or StructType, optional
            Column names (all strings) or names and types; overrides ``inferSchema``.
        quote : str
            The quote character.
        escape : str, optional
            The escape character inside quoted values.
        nullValue : str
            The text of a null value.
        multiLine : bool
            Quoted values may contain line breaks (every file is then read whole).
        minPartitions : int, optional
            The least number of byte splits wanted.

        Returns
        -------
        RDD
            Rows; a malformed line is an error naming the file and the line's byte offset.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "people.csv")
        >>> with open(path, "w") as handle:
        ...     _ = handle.write("name,age\\nAlice,11\\nBob,\\n")
        >>> sc.csvFile(path, inferSchema=True).collect()
        [Row(name='Alice', age=11), Row(name='Bob', age=None)]
        """
        operation = "csvFile"
        options = CsvOptions(header, sep, quote, escape, nullValue, multiLine)
        plan = splits.plan_whole_file_splits if multiLine else splits.plan_text_splits
        planned = plan(
            path,
            self._planned_partitions(minPartitions),
            self._runtime.storage_options(path, operation),
            operation=operation,
        )
        parsed = parse_schema(schema, operation)
        if isinstance(parsed, list):
            pa = _arrow()
            parsed = pa.schema([(name, pa.string()) for name in parsed])
        if parsed is not None:
            options = options.with_schema(parsed)
        elif inferSchema:
            pieces = self._file_input(planned, partial(csv_schema, options), operation, path)
            options = options.with_schema(merge_csv_schemas(pieces.collect()))
        return self._file_input(planned, partial(read_csv_split, options), operation, path)

    def jsonFile(
        self, path: str, schema: SchemaSpec = None, minPartitions: int | None = None
    ) -> RDD[Row]:
        """Read JSON-lines files (one object per line) as an RDD of Rows (a sparkish extension).

        Without a schema, a first pass over the data infers one, as Spark's JSON reader does:
        columns are sorted by name, an int column that also holds floats becomes a float
        column, and dates and timestamps stay strings; nested objects become Rows.

        Parameters
        ----------
        path : str
            A file, directory, glob or comma-separated list of those, on any fsspec file system.
        schema : str, pyarrow.Schema or StructType, optional
            Column names and types (skips the inference pass).
        minPartitions : int, optional
            The least number of byte splits wanted.

        Returns
        -------
        RDD
            Rows; a malformed line is an error naming the file and the line's byte offset.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "people.json")
        >>> with open(path, "w") as handle:
        ...     _ = handle.write('{"name": "Alice", "age": 11}\\n{"name": "Bob"}\\n')
        >>> sc.jsonFile(path).collect()
        [Row(age=11, name='Alice'), Row(age=None, name='Bob')]
        """
        operation = "jsonFile"
        planned = splits.plan_text_splits(
            path,
            self._planned_partitions(minPartitions),
            self._runtime.storage_options(path, operation),
            operation=operation,
        )
        parsed = parse_schema(schema, operation)
        if isinstance(parsed, list):
            raise TypeError("jsonFile: a schema needs column types, not only names")
        if parsed is not None:
            options = JsonOptions(parsed)
        else:
            pieces = self._file_input(planned, partial(json_schema, JsonOptions()), operation, path)
            options = JsonOptions(merge_json_schemas(pieces.collect()))
        return self._file_input(planned, partial(read_json_split, options), operation, path)
