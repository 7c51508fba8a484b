"""The transport of sparkish's hash shuffle: hashing keys, framing buckets, columnar ints.

- :mod:`.hashing`: ``portable_hash``, the same in every process whatever ``PYTHONHASHSEED`` is.
- :mod:`.buckets`: how buckets are framed, stored in shuffle files and read back.
- :mod:`.int_columns`: the vectorised path for ``(int, int)`` records.

The bytes move through Dask's P2P shuffle extension (:mod:`sparkish._dask_compat`); the map and
reduce tasks are in :mod:`sparkish.worker.shuffle`, the graph in
:mod:`sparkish.execution.shuffle`, and the keyed operations in :mod:`sparkish.rdd.pairs`.
"""

from .hashing import portable_hash

__all__ = ["portable_hash"]
