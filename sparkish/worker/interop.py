"""The worker-side halves of the conversions between RDDs and Dask collections, pandas and Arrow.

Coming in, a :class:`PartitionSource` leaf reads a partition that a Dask task computed (a bag
partition, a delayed value, a DataFrame partition) or that ``fromPandas`` sliced off in the
driver. Going out, the finishers turn a partition's records into what a Dask collection holds
(a list, a pandas DataFrame), into an Arrow table (``toPandas``), or into a schema inferred from
its first records.

>>> from sparkish.worker.inputs import PickledSlice
>>> from sparkish.serialization import dumps
>>> import pandas as pd
>>> source = PartitionSource("frames", 1, frames=True, operation="fromPandas")
>>> frame = pd.DataFrame({"word": ["a", "b"], "n": [1, 2]})
>>> list(source.compute(0, {("frames", 0): PickledSlice(dumps(frame))}))
[Row(word='a', n=1), Row(word='b', n=2)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import distributed

from ..columnar import (
    INFERENCE_SAMPLE,
    frame_from_table,
    infer_schema,
    rows_from_frame,
    table_from_records,
)
from .inputs import PickledSlice
from .plan import Source, partition_input

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "PartitionSource",
    "frame_finisher",
    "records_finisher",
    "schema_finisher",
    "table_finisher",
]


class PartitionSource(Source):
    """A leaf whose partitions are values computed elsewhere: iterables of records, or pandas
    DataFrames (``frames=True``) whose rows become :class:`~sparkish.Row` records.

    Parameters
    ----------
    uid : str
        The source's unique name in the plan.
    num_partitions : int
        How many partitions it has.
    provider : Provider, optional
        Driver side only: how each partition enters the graph.
    frames : bool
        Whether the partitions are pandas DataFrames.
    operation : str
        The method that made the RDD, for errors.
    """

    def __init__(
        self,
        uid: str,
        num_partitions: int,
        provider: Any = None,
        *,
        frames: bool = False,
        operation: str = "fromDaskBag",
    ) -> None:
        super().__init__(uid, num_partitions, provider)
        self.frames = frames
        self.operation = operation

    def __getstate__(self):
        return (self.uid, self.num_partitions, self.frames, self.operation)

    def __setstate__(self, state):
        self.uid, self.num_partitions, self.frames, self.operation = state
        self.provider = None

    def compute(self, split: int, inputs: dict) -> Iterator:
        value = partition_input(inputs, self.uid, split)
        if isinstance(value, PickledSlice):
            value = value.load()
        if self.frames:
            columns = getattr(value, "columns", None)
            if columns is None or not hasattr(value, "iloc"):
                raise TypeError(
                    f"{self.operation}: partition {split} is a {type(value).__name__}, "
                    "not a pandas DataFrame"
                )
            return rows_from_frame(value)
        try:
            return iter(value)
        except TypeError:
            raise TypeError(
                f"{self.operation}: partition {split} is a {type(value).__name__}, not an "
                "iterable of records"
            ) from None


def _require_dask_worker(operation: str) -> None:
    """Refuse to compute an RDD partition outside the cluster's workers.

    A Dask collection made from an RDD computes with whatever scheduler the caller picks; the
    default one would run the RDD's tasks in the driver's threads, where shuffles and persisted
    partitions do not exist.
    """
    try:
        distributed.get_worker()
    except ValueError:
        raise RuntimeError(
            f"RDD.{operation}: this Dask collection computes RDD partitions, which run only on "
            "the sparkish cluster's workers. Compute it with the context's client: "
            "collection.compute(scheduler=sc.dask_client), sc.dask_client.compute(collection), "
            "or inside `with sc.dask_client.as_current():`"
        ) from None


def records_finisher(operation: str, split: int, records: Iterator) -> list:
    """A partition as the list of records a Dask bag partition holds (``toDaskBag``)."""
    _require_dask_worker(operation)
    return list(records)


def frame_finisher(
    schema: pa.Schema, operation: str, split: int, records: Iterator
) -> pd.DataFrame:
    """A partition as a pandas DataFrame with the given schema (``toDF``/``toDaskDataFrame``)."""
    _require_dask_worker(operation)
    return frame_from_table(table_from_records(list(records), schema, operation))


def table_finisher(schema: pa.Schema, operation: str, split: int, records: Iterator) -> pa.Table:
    """A partition as an Arrow table (``toPandas``: tables travel in Arrow's own format)."""
    return table_from_records(list(records), schema, operation)


def schema_finisher(
    names: list[str] | None, operation: str, split: int, records: Iterator
) -> pa.Schema | None:
    """The schema of the partition's first records, or ``None`` for an empty partition; the
    rest of the partition is never computed."""
    sample = list(itertools.islice(records, INFERENCE_SAMPLE))
    if not sample:
        return None
    return infer_schema(sample, names, operation)
