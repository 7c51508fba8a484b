"""``RDD``: a lazy, partitioned collection with PySpark's API, lowered onto Dask.

Transformations build a lineage of RDD objects and run nothing. Narrow transformations
(``map``, ``filter``, ``mapPartitions``...) chain into one per-partition pipeline, so an action
over a chain of them runs one task per partition. Operations that regroup data by key go through
the hash shuffle.

The class is assembled from one module per kind of method:

- :mod:`.core`: identity, lineage, persistence, running a job;
- :mod:`.narrow`: narrow transformations;
- :mod:`.actions`: actions;
- :mod:`.pairs`: transformations that shuffle (key-value operations, ``distinct``, sorting...);
- :mod:`.interop`: conversions to Dask collections, pandas and Parquet files;
- :mod:`.kinds`: how each kind of RDD computes its partitions (parallelized data, files, a
  narrow step, a union, a shuffle...).

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> rdd = sc.parallelize(range(10), 3).map(lambda x: x * x).filter(lambda x: x % 2)
>>> rdd.collect()
[1, 9, 25, 49, 81]
>>> rdd.glom().collect()
[[1], [9, 25], [49, 81]]
"""

from __future__ import annotations

from typing import TypeVar

from ..partitioner import Partitioner
from ..shuffle.hashing import portable_hash
from .actions import BoundedFloat
from .barrier import RDDBarrier
from .interop import Interop

__all__ = ["RDD", "BoundedFloat", "Partitioner", "RDDBarrier", "portable_hash"]

T = TypeVar("T")


class RDD(Interop[T]):
    """A Resilient Distributed Dataset: an immutable, partitioned, lazily computed collection.

    RDDs are made by a :class:`~sparkish.SparkContext` (``parallelize``, ``textFile``...) or by
    transforming other RDDs; actions (``collect``, ``count``, ``reduce``...) run jobs.

    Parameters
    ----------
    ctx : SparkContext
        The context the RDD belongs to.
    kind : RDDKind
        How its partitions are computed (see :mod:`sparkish.rdd.kinds`).
    """
