"""sparkish's reduce-partitioned hash shuffle and the keyed operations built on it.

- :mod:`.hashing`: ``portable_hash``, the same in every process whatever ``PYTHONHASHSEED`` is.
- :mod:`._p2p`: moving buckets between workers on Dask's peer-to-peer shuffle extension.
- :mod:`._shuffled_rdd`: the RDD a shuffle produces and how it enters a job's graph.
- :mod:`.operations`: ``reduceByKey``, ``groupByKey``, joins, ``sortByKey``... on
  :func:`partition_by`.
"""

from .hashing import portable_hash
from .operations import (
    aggregate_by_key,
    cogroup,
    combine_by_key,
    distinct,
    fold_by_key,
    group_by_key,
    intersection,
    join,
    partition_by,
    partition_of,
    reduce_by_key,
    repartition_and_sort,
    repartition_round_robin,
    sort_by_key,
    subtract,
    subtract_by_key,
)

__all__ = [
    "aggregate_by_key",
    "cogroup",
    "combine_by_key",
    "distinct",
    "fold_by_key",
    "group_by_key",
    "intersection",
    "join",
    "partition_by",
    "partition_of",
    "portable_hash",
    "reduce_by_key",
    "repartition_and_sort",
    "repartition_round_robin",
    "sort_by_key",
    "subtract",
    "subtract_by_key",
]
