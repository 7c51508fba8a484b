"""Deep lineage: thousands of chained transformations plan, pickle and run, or fail saying how
to cut the lineage (issue 12, finding 6)."""

from __future__ import annotations

import pytest


def test_five_thousand_chained_maps_and_filters_run(sc):
    rdd = sc.parallelize(range(100), 4)
    expected = list(range(100))
    for step in range(5000):
        if step % 10 == 9:
            rdd = rdd.filter(lambda x: x % 97 != 0)
            expected = [x for x in expected if x % 97 != 0]
        else:
            rdd = rdd.map(lambda x: x + 1)
            expected = [x + 1 for x in expected]
    assert rdd.collect() == expected


def test_a_deep_chain_reads_a_persisted_rdd_in_its_middle(sc):
    calls = sc.accumulator(0)

    def counted(x):
        calls.add(1)
        return x

    rdd = sc.parallelize(range(20), 2).map(counted)
    for _ in range(1000):
        rdd = rdd.map(lambda x: x + 1)
    rdd.cache()
    assert rdd.count() == 20
    assert calls.value == 20
    for _ in range(3000):
        rdd = rdd.map(lambda x: x - 1)
    assert rdd.collect() == list(range(-2000, -1980))
    assert calls.value == 20  # the chain after the cache did not recompute what is cached


def test_thousands_of_chained_unions_run(sc):
    rdd = sc.parallelize([0], 1)
    for number in range(1, 1200):  # beyond ~300 nested unions, planning used to recurse too deep
        rdd = rdd.union(sc.parallelize([number], 1))
    assert rdd.getNumPartitions() == 1200
    assert rdd.collect() == list(range(1200))


def test_nested_context_unions_keep_their_order(sc):
    rdd = sc.parallelize([0], 1)
    for number in range(1, 600):
        rdd = sc.union([sc.parallelize([-number], 1), rdd, sc.parallelize([number], 1)])
    assert rdd.collect() == list(range(-599, 600))


def test_partitioner_aware_unions_stay_aware_when_chained(sc):
    pairs = sc.parallelize([(key, 1) for key in range(6)], 2).partitionBy(3)
    rdd = pairs
    for _ in range(1500):
        rdd = rdd.union(pairs)
    assert rdd.getNumPartitions() == 3
    assert rdd.partitioner == pairs.partitioner
    assert sorted(rdd.reduceByKey(lambda a, b: a + b).collect()) == [
        (key, 1501) for key in range(6)
    ]


def test_a_lineage_too_deep_to_plan_says_to_checkpoint(sc):
    rdd = sc.parallelize([0], 1)
    for number in range(1500):  # alternating kinds: nothing to flatten
        rdd = rdd.map(lambda x: x).union(sc.parallelize([number], 1))
    with pytest.raises(RecursionError, match=r"count at .*checkpoint\(\) or localCheckpoint\(\)"):
        rdd.count()


def test_a_task_too_deep_to_run_says_to_checkpoint(sc):
    rdd = sc.parallelize(range(10), 2)
    for _ in range(1500):  # generator steps nest inside the task
        rdd = rdd.mapPartitions(lambda records: (x + 1 for x in records))
    with pytest.raises(RecursionError, match=r"1500 transformations.*localCheckpoint\(\)"):
        rdd.count()
