"""Leaving the RDD world: an RDD as a Dask bag, a Dask DataFrame, a pandas DataFrame or Parquet
files (sparkish extensions; PySpark's ``toDF`` makes a Spark DataFrame instead).

The Dask conversions are lazy and keep the data on the cluster: each Dask partition is the
output of the task that computes the RDD partition, run when the collection is computed with the
context's client. ``toPandas`` is an action that brings the whole RDD to the driver.

Column types come from the schema given (a list of names, a DDL string such as
``"word string, n int"``, a ``pyarrow.Schema`` or a Spark ``StructType``) or are inferred from
the first records, as PySpark's ``toDF`` does: a small job computes the first partition (more if
it is empty) and returns only the schema of its first 100 records.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import dask.bag as db

from ..columnar import SchemaSpec, frame_from_table, merge_schemas, parse_schema
from ..execution.dask_collections import partition_delayed
from ..io.writers import WriteJobSpec
from ..worker.finishers import parquet_finisher
from ..worker.interop import frame_finisher, records_finisher, schema_finisher, table_finisher
from .pairs import KeyValueOperations

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa

__all__ = ["Interop"]

T = TypeVar("T")


def _dask_dataframe() -> Any:
    import dask.dataframe  # noqa: PLC0415 - heavy (pandas, pyarrow), loaded by toDF only

    return dask.dataframe


def _arrow() -> Any:
    import pyarrow  # noqa: PLC0415 - heavy, loaded by the conversions only

    return pyarrow


class Interop(KeyValueOperations[T]):
    """Conversions of an RDD to Dask collections, pandas and Parquet files."""

    def _table_schema(self, schema: SchemaSpec, operation: str) -> pa.Schema:
        """The Arrow schema of this RDD's records as a table: the one given, or inferred on
        the workers from the first records (only the schema reaches the driver)."""
        parsed = parse_schema(schema, operation)
        if parsed is not None and not isinstance(parsed, list):
            return parsed
        finisher = partial(schema_finisher, parsed, operation)
        scale_up = self._runtime.settings.get_int("spark.rdd.limit.scaleUpFactor", 4)
        total, scanned, found = self.getNumPartitions(), 0, []
        while scanned < total:
            batch = range(scanned, min(total, scanned + max(1, scanned * scale_up)))
            found += [s for s in self._run(finisher, batch, operation) if s is not None]
            scanned = batch.stop
            if found and _all_types_known(found):
                break
        return merge_schemas(found, f"RDD.{operation}")

    def toDaskBag(self) -> db.Bag:
        """This RDD as a ``dask.bag.Bag`` with one bag partition per RDD partition.

        Returns
        -------
        dask.bag.Bag
            Lazy: the RDD's partitions are computed on the cluster when the bag is computed
            with the context's client (``scheduler=sc.dask_client``).

        Examples
        --------
        >>> sc.parallelize(range(4), 2).toDaskBag().map(lambda x: x * 10).compute(
        ...     scheduler=sc.dask_client)
        [0, 10, 20, 30]
        """
        finisher = partial(records_finisher, "toDaskBag")
        delayed = partition_delayed(
            self._runtime.jobs,
            self._node(),
            finisher,
            f"toDaskBag-rdd{self.id()}",
            f"toDaskBag of {self!r}",
        )
        return db.from_delayed(delayed)

    def toDaskDataFrame(self, schema: SchemaSpec = None) -> dd.DataFrame:
        """This RDD of Rows, tuples or dicts as a Dask DataFrame, one partition per RDD partition.

        A sparkish extension. Each partition becomes a pandas DataFrame on the worker that
        computes it (through Arrow); nothing passes through the driver. Integer and boolean
        columns use pandas' nullable dtypes (``Int64``, ``boolean``), so a partition with nulls
        has the same dtypes as the others. Each partition has its own ``RangeIndex`` (the
        divisions are unknown).

        Parameters
        ----------
        schema : list of str, str, pyarrow.Schema or StructType, optional
            Column names (types inferred from the first records), or names and types. By
            default the names are a Row's fields, a dict's sorted keys, or ``_1``, ``_2``...

        Returns
        -------
        dask.dataframe.DataFrame
            Lazy: compute it with the context's client, e.g. ``ddf.compute(scheduler=
            sc.dask_client)`` or inside ``with sc.dask_client.as_current():``.

        Examples
        --------
        >>> rdd = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
        >>> ddf = rdd.toDaskDataFrame(["word", "n"])
        >>> ddf.npartitions, list(ddf.columns)
        (2, ['word', 'n'])
        >>> ddf.groupby("word").n.sum().compute(scheduler=sc.dask_client).sort_index().to_dict()
        {'a': 4, 'b': 2}
        """
        arrow_schema = self._table_schema(schema, "toDaskDataFrame")
        meta = frame_from_table(arrow_schema.empty_table())
        dd = _dask_dataframe()
        if self.getNumPartitions() == 0:
            return dd.from_pandas(meta, npartitions=1)
        delayed = partition_delayed(
            self._runtime.jobs,
            self._node(),
            partial(frame_finisher, arrow_schema, "toDaskDataFrame"),
            f"toDaskDataFrame-rdd{self.id()}",
            f"toDaskDataFrame of {self!r}",
        )
        return dd.from_delayed(delayed, meta=meta, verify_meta=False)

    def toDF(self, schema: SchemaSpec = None, sampleRatio: float | None = None) -> dd.DataFrame:
        """This RDD as a **Dask** DataFrame (not a Spark DataFrame): see :meth:`toDaskDataFrame`.

        Parameters
        ----------
        schema : list of str, str, pyarrow.Schema or StructType, optional
            Column names, or names and types (as for :meth:`toDaskDataFrame`).
        sampleRatio : float, optional
            Accepted for compatibility: types are inferred from the first records.

        Returns
        -------
        dask.dataframe.DataFrame

        Examples
        --------
        >>> from sparkish import Row
        >>> ddf = sc.parallelize([Row(name="Alice", age=11), Row(name="Bob", age=7)]).toDF()
        >>> ddf.compute(scheduler=sc.dask_client).to_dict("records")
        [{'name': 'Alice', 'age': 11}, {'name': 'Bob', 'age': 7}]
        """
        return self.toDaskDataFrame(schema)

    def toPandas(self, schema: SchemaSpec = None) -> pd.DataFrame:
        """This RDD of Rows, tuples or dicts as one pandas DataFrame in the driver.

        A sparkish extension for small results: every partition is converted to an Arrow table
        on its worker and the tables are concatenated in the driver. Types as PySpark's
        ``toPandas`` gives them (an integer column with nulls becomes ``float64``).

        Parameters
        ----------
        schema : list of str, str, pyarrow.Schema or StructType, optional
            Column names, or names and types (as for :meth:`toDaskDataFrame`).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> sc.parallelize([{"k": "a", "v": 1.5}, {"k": "b", "v": None}]).toPandas()
           k    v
        0  a  1.5
        1  b  NaN
        """
        arrow_schema = self._table_schema(schema, "toPandas")
        tables = self._run(partial(table_finisher, arrow_schema, "toPandas"), None, "toPandas")
        return _arrow().concat_tables([arrow_schema.empty_table(), *tables]).to_pandas()

    def saveAsParquetFile(self, path: str, schema: SchemaSpec = None) -> None:
        """Write this RDD of Rows, tuples or dicts as Parquet, one ``part-NNNNN.parquet`` file
        per partition (a sparkish extension).

        The commit is atomic as for ``saveAsTextFile``: the parts and ``_SUCCESS`` appear only
        when every task succeeded, and a failed job leaves nothing behind. Every part has the
        same schema, so pandas, pyarrow, Dask and Spark read the directory as one dataset.

        Parameters
        ----------
        path : str
            The output directory (any fsspec URL); it must not exist unless
            ``sparkish.output.overwrite`` is true.
        schema : list of str, str, pyarrow.Schema or StructType, optional
            Column names, or names and types; by default inferred as for :meth:`toDF`.

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "words.parquet")
        >>> sc.parallelize([("a", 1), ("b", 2)], 2).saveAsParquetFile(path, "word string, n int")
        >>> sorted(sc.parquetFile(path).collect())
        [Row(word='a', n=1), Row(word='b', n=2)]
        """
        arrow_schema = self._table_schema(schema, "saveAsParquetFile")

        def finisher_for(spec: WriteJobSpec) -> Any:
            return partial(parquet_finisher, spec, arrow_schema)

        self._write_job(path, "saveAsParquetFile", finisher_for)


def _all_types_known(schemas: list[pa.Schema]) -> bool:
    """Whether the sampled schemas agree and leave no column of unknown (null) type; a
    disagreement ends the sampling too (``merge_schemas`` then reports it)."""
    pa = _arrow()
    try:
        merged = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return True
    return not any(pa.types.is_null(field.type) for field in merged)
