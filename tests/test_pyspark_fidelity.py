"""Results, placement and flags that must come out exactly as in PySpark 4.3.

Every test runs the same program on sparkish and on a real PySpark context (one JVM for the
module, see :mod:`tests.pyspark_oracle`) and compares what a user can see: records, the
partition each record lands in (``glom``) and the RDD's flags.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from tests.pyspark_oracle import PySparkOracle

# Emitted when the PySpark context starts; irrelevant to the RDD API.
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

#: How many times the stress test repeats each program (a shared-object bug shows up in some
#: runs only, depending on which worker each task lands on).
STRESS_ROUNDS = int(os.environ.get("SPARKISH_STRESS_ROUNDS", "8"))


@pytest.fixture(scope="module")
def pyspark_sc():
    """A real PySpark ``local[2]`` context (in a child process): the same default
    parallelism as the ``sc`` fixture."""
    oracle = PySparkOracle("local[2]")
    yield oracle
    oracle.close()


def both(sc, pyspark_sc, program):
    """``program(context)`` on sparkish and on PySpark."""
    return program(sc), pyspark_sc.run(program)


def in_any_order(records) -> Counter:
    """Records as a multiset (their ``repr``: lists and dicts are unhashable)."""
    return Counter(map(repr, records))


# --------------------------------------------------------------------------- mutating functions


def extend(a, b):
    """A reduce function that mutates and returns its first argument (PySpark allows it)."""
    a.extend(b)
    return a


def add_to_dict(d, kv):
    d[kv] = d.get(kv, 0) + 1
    return d


def merge_dicts(a, b):
    for key, count in b.items():
        a[key] = a.get(key, 0) + count
    return a


def _listed(sc, data, slices):
    return sc.parallelize(data, slices).mapValues(lambda v: [v])


def cartesian_of_reduced(sc):
    reduced = _listed(sc, [(1, 1), (1, 1), (2, 2)], 2).reduceByKey(extend)
    return in_any_order(reduced.cartesian(reduced).keys().collect())


def cartesian_after_repartition(sc):
    data = [(1, 1), (1, 1), (2, 2), (1, 1), (3, 3), (3, 3), (2, 2)]
    spread = sc.parallelize(data, 2).coalesce(5, shuffle=True)
    reduced = spread.mapValues(lambda v: [v]).reduceByKey(extend)
    return in_any_order(reduced.cartesian(reduced).collect())


def zip_of_aggregated(sc):
    data = [(i % 3, i) for i in range(12)]
    aggregated = sc.parallelize(data, 3).aggregateByKey({}, add_to_dict, merge_dicts)
    return in_any_order(aggregated.zip(aggregated).collect())


def union_of_cached_then_reduced(sc):
    cached = _listed(sc, [(1, 1), (1, 1), (2, 2), (1, 1)], 2).cache()
    cached.count()
    reduced = cached.union(cached).reduceByKey(extend)
    return in_any_order(reduced.collect()), in_any_order(cached.collect())


def cached_shuffle_read_by_many_tasks(sc):
    reduced = _listed(sc, [(i % 4, i) for i in range(16)], 4).reduceByKey(extend).cache()
    again = reduced.cartesian(reduced).map(lambda ab: (ab[0][0], extend(ab[0][1], ab[1][1])))
    return in_any_order(again.collect()), in_any_order(reduced.collect())


def coalesced_combined(sc):
    combined = _listed(sc, [(i % 3, i) for i in range(9)], 3).combineByKey(list, extend, extend, 3)
    return in_any_order(combined.union(combined).coalesce(1).reduceByKey(extend).collect())


MUTATING_PROGRAMS = [
    cartesian_of_reduced,
    cartesian_after_repartition,
    zip_of_aggregated,
    union_of_cached_then_reduced,
    cached_shuffle_read_by_many_tasks,
    coalesced_combined,
]


@pytest.mark.slow
@pytest.mark.parametrize("program", MUTATING_PROGRAMS, ids=lambda p: p.__name__)
def test_functions_mutating_their_arguments_never_change_what_another_read_sees(
    sc, pyspark_sc, program
):
    """A partition read several times in one job (a shuffle's output, a cached partition) gives
    every read its own records, whatever the functions do to them: the result is PySpark's in
    every one of many runs."""
    expected = pyspark_sc.run(program)
    for round_number in range(STRESS_ROUNDS):
        assert program(sc) == expected, f"round {round_number}"


def test_self_join_of_a_custom_partitioned_rdd_is_hash_partitioned(sc, pyspark_sc):
    def program(context):
        data = [(i % 11, i) for i in range(40)]
        by_half = context.parallelize(data, 3).partitionBy(3, lambda key: key // 2)
        joined = by_half.join(by_half)
        grouped = by_half.cogroup(by_half).mapValues(lambda groups: [sorted(g) for g in groups])
        return [
            [sorted(part) for part in rdd.glom().collect()]
            for rdd in (joined, grouped, by_half.leftOuterJoin(by_half, 4))
        ]

    ours, theirs = both(sc, pyspark_sc, program)
    assert ours == theirs
