"""The benchmark jobs, written once per programming model.

* ``RDD_JOBS``: PySpark's RDD API. The same functions run on PySpark, sparkish and pysparkling;
  only the context handed in differs (``pyspark.SparkContext``, ``sparkish.SparkContext``,
  ``pysparkling.Context``).
* ``DASK_JOBS``: the natural Dask bag equivalents; they build a lazy collection that the runner
  computes on whichever Dask scheduler it set up (distributed LocalCluster or process pool).
* ``PYTHON_JOBS``: the single-process plain-Python reference, the tightest straightforward loop.

Every job returns the result as plain Python: a list of ``(key, value)`` pairs, or the number of
hits for pi. The per-record functions are module-level so that every system ships the same code.

>>> PYTHON_JOBS["reduce"](WorkloadParams("reduce", n=3))
[(0, 0), (435761, 1), (871522, 2)]
"""

from __future__ import annotations

import operator
import os
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from benchmarks.workloads import KEY_MULTIPLIER, KEY_SPACE, VALUE_MODULUS, WorkloadParams

# --- per-record functions shared by every framework -------------------------------------------

# The module attribute lookup is deliberate: WORKLOADS.md requires random.random() to be called
# through the module so that no generator state is pickled into the closure.
pi_sample = lambda _: 1 if random.random() ** 2 + random.random() ** 2 <= 1 else 0  # noqa: E731


def make_pair(i: int) -> tuple[int, int]:
    """The shuffle workloads' record for index ``i`` (WORKLOADS.md section 3).

    >>> make_pair(1)
    (435761, 1)
    """
    return ((i * 2654435761) % 1000000, i % 1000)


def split_line(line: str) -> list[str]:
    """Words of one text line.

    >>> split_line("a bb  c\\n")
    ['a', 'bb', 'c']
    """
    return line.split()


def with_one(word: str) -> tuple[str, int]:
    """The ``(word, 1)`` pair of wordcount.

    >>> with_one("x")
    ('x', 1)
    """
    return (word, 1)


def _pair_key(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _add_pair_value(total: int, pair: tuple[Any, int]) -> int:
    return total + pair[1]


def _key_and_group_size(group: tuple[Any, list[Any]]) -> tuple[Any, int]:
    return (group[0], len(group[1]))


def corpus_glob(params: WorkloadParams) -> str:
    """The input path pattern of the wordcount workload.

    >>> corpus_glob(WorkloadParams("wordcount", corpus_dir="/data"))
    '/data/*.txt'
    """
    if not params.corpus_dir:
        raise ValueError("wordcount parameters carry no corpus directory")
    return os.path.join(params.corpus_dir, "*.txt")


# --- RDD API (PySpark and sparkish) ----------------------------------------------------------


def rdd_wordcount(sc: Any, params: WorkloadParams) -> list[tuple[str, int]]:
    """wordcount on a PySpark-compatible ``SparkContext``: one input partition per file."""
    lines = sc.textFile(corpus_glob(params), params.map_partitions)
    pairs = lines.flatMap(split_line).map(with_one)
    return pairs.reduceByKey(operator.add, params.reduce_partitions).collect()


def rdd_pi(sc: Any, params: WorkloadParams) -> int:
    """pi: the number of random points inside the quarter circle."""
    return (
        sc.parallelize(range(params.n), params.map_partitions).map(pi_sample).reduce(operator.add)
    )


def rdd_reduce(sc: Any, params: WorkloadParams) -> list[tuple[int, int]]:
    """reduce, bucket and bucket-xl: sum of values per key."""
    pairs = sc.parallelize(range(params.n), params.map_partitions).map(make_pair)
    return pairs.reduceByKey(operator.add, params.reduce_partitions).collect()


def rdd_group(sc: Any, params: WorkloadParams) -> list[tuple[int, int]]:
    """group: number of values per key, through groupByKey."""
    pairs = sc.parallelize(range(params.n), params.map_partitions).map(make_pair)
    return pairs.groupByKey(params.reduce_partitions).mapValues(len).collect()


RDD_JOBS: dict[str, Callable[[Any, WorkloadParams], Any]] = {
    "wordcount": rdd_wordcount,
    "pi": rdd_pi,
    "pi_large": rdd_pi,
    "reduce": rdd_reduce,
    "group": rdd_group,
    "bucket": rdd_reduce,
    "bucket-xl": rdd_reduce,
}


# --- Dask bag ---------------------------------------------------------------------------------


def dask_wordcount(params: WorkloadParams) -> Any:
    """wordcount as a Dask bag: ``read_text`` gives one partition per file, ``foldby`` sums.

    ``foldby`` is Dask bag's reduce-by-key (a per-partition fold and a tree combine); it has no
    parameter for the number of output partitions, so ``reduce_partitions`` cannot be honoured.
    """
    import dask.bag as db

    words = db.read_text(corpus_glob(params)).map(split_line).flatten()
    return words.map(with_one).foldby(_pair_key, _add_pair_value, 0, operator.add, 0)


def dask_pi(params: WorkloadParams) -> Any:
    """pi as a Dask bag: ``db.range`` is the lazy counterpart of ``parallelize(range(n), M)``."""
    import dask.bag as db

    return db.range(params.n, npartitions=params.map_partitions).map(pi_sample).fold(operator.add)


def dask_reduce(params: WorkloadParams) -> Any:
    """reduce, bucket and bucket-xl as a Dask bag ``foldby`` (see :func:`dask_wordcount`)."""
    import dask.bag as db

    pairs = db.range(params.n, npartitions=params.map_partitions).map(make_pair)
    return pairs.foldby(_pair_key, _add_pair_value, 0, operator.add, 0)


def dask_group(params: WorkloadParams) -> Any:
    """group as a Dask bag ``groupby`` with Dask's default shuffle for the active scheduler.

    That default is the on-disk (partd) shuffle into ``reduce_partitions`` partitions on the
    local schedulers and the task-based shuffle on distributed, which keeps the input
    partition count (``npartitions`` is ignored by the task shuffle).
    """
    import dask.bag as db

    pairs = db.range(params.n, npartitions=params.map_partitions).map(make_pair)
    groups = pairs.groupby(_pair_key, npartitions=params.reduce_partitions)
    return groups.map(_key_and_group_size)


DASK_JOBS: dict[str, Callable[[WorkloadParams], Any]] = {
    "wordcount": dask_wordcount,
    "pi": dask_pi,
    "pi_large": dask_pi,
    "reduce": dask_reduce,
    "group": dask_group,
    "bucket": dask_reduce,
    "bucket-xl": dask_reduce,
}


# --- plain Python reference -------------------------------------------------------------------


def python_wordcount(params: WorkloadParams) -> list[tuple[str, int]]:
    """wordcount in one process: a dict updated word by word, files read in name order."""
    import glob

    counts: dict[str, int] = {}
    for path in sorted(glob.glob(corpus_glob(params))):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                for word in line.split():
                    counts[word] = counts.get(word, 0) + 1
    return list(counts.items())


def python_pi(params: WorkloadParams) -> int:
    """pi in one process, calling ``random.random()`` through the module like the jobs do."""
    hits = 0
    for _ in range(params.n):
        if random.random() ** 2 + random.random() ** 2 <= 1:
            hits += 1
    return hits


def python_reduce(params: WorkloadParams) -> list[tuple[int, int]]:
    """reduce, bucket and bucket-xl in one process; ``make_pair`` is inlined (the tightest loop).

    This loop also computed bucket-xl's published checksum (n = 20,000,000); the closed form
    :func:`benchmarks.workloads.shuffle_expected_items` gives the same one without a loop.
    """
    totals: dict[int, int] = {}
    for i in range(params.n):
        key = (i * KEY_MULTIPLIER) % KEY_SPACE
        totals[key] = totals.get(key, 0) + i % VALUE_MODULUS
    return list(totals.items())


def python_group(params: WorkloadParams) -> list[tuple[int, int]]:
    """group in one process: values gathered in lists per key, then counted."""
    groups: defaultdict[int, list[int]] = defaultdict(list)
    for i in range(params.n):
        groups[(i * KEY_MULTIPLIER) % KEY_SPACE].append(i % VALUE_MODULUS)
    return [(key, len(values)) for key, values in groups.items()]


PYTHON_JOBS: dict[str, Callable[[WorkloadParams], Any]] = {
    "wordcount": python_wordcount,
    "pi": python_pi,
    "pi_large": python_pi,
    "reduce": python_reduce,
    "group": python_group,
    "bucket": python_reduce,
    "bucket-xl": python_reduce,
}
