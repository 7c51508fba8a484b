"""Keyed operations and the hash shuffle, checked against plain-Python models.

Every pair-RDD operation is compared with a small model written directly from PySpark's
documented semantics (``pyspark/core/rdd.py``) on random data, including empty RDDs, empty
partitions, skewed keys and keys of mixed types. The second half checks how the shuffle is
planned: which RDDs keep a partitioner, when no second shuffle is needed, and how many tasks a
job's graph has.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import add

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkish import ResultIterable, SparkConf, SparkContext
from sparkish.shuffle import portable_hash
from tests.helpers import ungrouped


@pytest.fixture
def sc(sc_in_both_grouping_modes):
    """This suite runs with partitions grouped into tasks and with one task per partition."""
    return sc_in_both_grouping_modes


# The `sc` fixture is function scoped but shared (one context for every example); keep each
# property to a few dozen examples so the file stays within a few minutes on two cores.
shuffle_settings = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Keys that PySpark groups with dict semantics: 1 == 1.0 == True (and 0 == 0.0 == -0.0 == False)
# must land in one group, None and tuples are ordinary keys.
KEYS = st.one_of(
    st.integers(-3, 12),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, True, False]),
    st.text(alphabet="abé", max_size=3),
    st.none(),
    st.tuples(st.integers(0, 2), st.sampled_from(["x", "y"])),
)
VALUES = st.integers(-50, 50)
PAIRS = st.lists(st.tuples(KEYS, VALUES), max_size=40)
SLICES = st.integers(1, 6)
NUM_PARTITIONS = st.one_of(st.none(), st.integers(1, 6))
INT_PAIRS = st.lists(st.tuples(st.integers(-20, 20), VALUES), max_size=40)


# --------------------------------------------------------------------------- plain-Python models


def groups_of(pairs: Iterable[tuple]) -> dict:
    """``{key: [values in input order]}`` with dict key equality (1, 1.0 and True are one key)."""
    groups: dict = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


def sorted_groups(pairs: Iterable[tuple]) -> dict:
    return {key: sorted(values) for key, values in groups_of(pairs).items()}


def unique_keys(pairs: list[tuple]) -> dict:
    """The pairs as a dict, failing if two output records carry equal keys."""
    result = dict(pairs)
    assert len(result) == len(pairs), f"a key appears in more than one output record: {pairs}"
    return result


def model_join(left: list, right: list, how: str) -> Counter:
    """Joins by their definition: matching pairs, plus unmatched sides padded with None."""
    left_keys = {key for key, _ in left}
    right_keys = {key for key, _ in right}
    joined = [(k, (v, w)) for k, v in left for k2, w in right if k == k2]
    if how in ("left", "full"):
        joined += [(k, (v, None)) for k, v in left if k not in right_keys]
    if how in ("right", "full"):
        joined += [(k, (None, w)) for k, w in right if k not in left_keys]
    return Counter(joined)


def model_cogroup(*datasets: list) -> dict:
    keys = dict.fromkeys(key for data in datasets for key, _ in data)
    return {key: tuple(sorted(v for k, v in data if k == key) for data in datasets) for key in keys}


def placement(partitions: list[list]) -> list[tuple[int, object]]:
    """``(partition index, key)`` of every record of a glom()."""
    return [(index, record[0]) for index, part in enumerate(partitions) for record in part]


def flatten(partitions: list[list]) -> list:
    return [record for part in partitions for record in part]


def records_in_their_partition(partitions: list[list], partition_func: Callable) -> bool:
    count = len(partitions)
    return all(index == partition_func(key) % count for index, key in placement(partitions))


# module-level so that they pickle by reference
def to_list(value):
    return [value]


def append_value(combined, value):
    combined.append(value)
    return combined


def extend_list(left, right):
    left.extend(right)
    return left


def identity(x):
    return x


def negate(x):
    return -x


def modulo_seven(x):
    return x % 7


def key_length(key) -> int:
    return len(repr(key))


def negative_bucket(key) -> int:
    return -portable_hash(key) - 1


@dataclass(frozen=True)
class UserKey:
    """A key whose hash() depends on PYTHONHASHSEED (it holds a str)."""

    name: str


# --------------------------------------------------------------------------- partitionBy


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=st.integers(1, 6))
def test_partition_by_places_every_record_by_its_key_hash(sc, pairs, slices, num_partitions):
    partitioned = sc.parallelize(pairs, slices).partitionBy(num_partitions)
    partitions = partitioned.glom().collect()

    assert len(partitions) == num_partitions == partitioned.getNumPartitions()
    assert Counter(flatten(partitions)) == Counter(pairs)
    assert records_in_their_partition(partitions, portable_hash)
    assert partitioned.partitioner.numPartitions == num_partitions


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=st.integers(1, 6))
def test_partition_by_custom_function_decides_the_partition(sc, pairs, slices, num_partitions):
    for function in (key_length, negative_bucket):
        partitions = sc.parallelize(pairs, slices).partitionBy(num_partitions, function)
        glommed = partitions.glom().collect()
        assert Counter(flatten(glommed)) == Counter(pairs)
        assert records_in_their_partition(glommed, function), function.__name__


def test_keyed_operations_honour_a_custom_partition_func(sc):
    pairs = [(key, value) for value in range(6) for key in range(-15, 25)]
    rdd = sc.parallelize(pairs, 4)

    def bucket(key):
        return key // 4

    results = {
        "reduceByKey": rdd.reduceByKey(add, 5, bucket),
        "groupByKey": rdd.groupByKey(5, bucket),
        "combineByKey": rdd.combineByKey(to_list, append_value, extend_list, 5, bucket),
        "aggregateByKey": rdd.aggregateByKey(0, add, add, 5, bucket),
        "foldByKey": rdd.foldByKey(0, add, 5, bucket),
        "groupBy": rdd.groupBy(lambda kv: kv[0], 5, bucket),
        "repartitionAndSortWithinPartitions": rdd.repartitionAndSortWithinPartitions(5, bucket),
        "partitionBy": rdd.partitionBy(5, bucket),
    }
    for name, result in results.items():
        partitions = result.glom().collect()
        assert len(partitions) == 5, name
        assert records_in_their_partition(partitions, bucket), name
        assert {key for _, key in placement(partitions)} == set(range(-15, 25)), name


# --------------------------------------------------------------------------- combining


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_combine_by_key_matches_model(sc, pairs, slices, num_partitions):
    rdd = sc.parallelize(pairs, slices)
    combined = rdd.combineByKey(to_list, append_value, extend_list, num_partitions)

    result = unique_keys(combined.collect())
    assert {key: sorted(values) for key, values in result.items()} == sorted_groups(pairs)
    assert combined.getNumPartitions() == (num_partitions or slices)


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_aggregate_by_key_gives_every_key_its_own_mutable_zero(sc, pairs, slices, num_partitions):
    zero: list = []
    aggregated = sc.parallelize(pairs, slices).aggregateByKey(
        zero, append_value, extend_list, num_partitions
    )

    result = unique_keys(aggregated.collect())
    # a zero shared between keys or partitions would leak other keys' values into each list
    assert {key: sorted(values) for key, values in result.items()} == sorted_groups(pairs)
    assert zero == []


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_aggregate_by_key_with_tuple_accumulator(sc, pairs, slices, num_partitions):
    def seq(acc, value):
        return (acc[0] + value, acc[1] + 1)

    def comb(a, b):
        return (a[0] + b[0], a[1] + b[1])

    result = unique_keys(
        sc.parallelize(pairs, slices).aggregateByKey((0, 0), seq, comb, num_partitions).collect()
    )
    expected = {key: (sum(values), len(values)) for key, values in groups_of(pairs).items()}
    assert result == expected


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_fold_by_key_applies_zero_once_per_key_and_map_partition(sc, pairs, slices, num_partitions):
    rdd = sc.parallelize(pairs, slices)
    input_partitions = rdd.glom().collect()

    assert unique_keys(rdd.foldByKey(0, add, num_partitions).collect()) == {
        key: sum(values) for key, values in groups_of(pairs).items()
    }
    # PySpark: combineByKey(lambda v: func(copy(zero), v), func, func), so a non-neutral zero
    # is added once per key in every map partition that holds the key.
    expected = {key: sum(values) for key, values in groups_of(pairs).items()}
    for part in input_partitions:
        for key in groups_of(part):
            expected[key] += 1000
    assert unique_keys(rdd.foldByKey(1000, add, num_partitions).collect()) == expected


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_reduce_by_key_and_locally_match_model(sc, pairs, slices, num_partitions):
    rdd = sc.parallelize(pairs, slices)
    expected_sums = {key: sum(values) for key, values in groups_of(pairs).items()}
    expected_max = {key: max(values) for key, values in groups_of(pairs).items()}

    reduced = rdd.reduceByKey(add, num_partitions)
    assert unique_keys(reduced.collect()) == expected_sums
    assert reduced.getNumPartitions() == (num_partitions or slices)
    assert unique_keys(rdd.reduceByKey(max, num_partitions).collect()) == expected_max
    assert rdd.reduceByKeyLocally(add) == expected_sums


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES)
def test_count_by_key_matches_model(sc, pairs, slices):
    counts = sc.parallelize(pairs, slices).countByKey()
    assert dict(counts) == {key: len(values) for key, values in groups_of(pairs).items()}


# --------------------------------------------------------------------------- grouping


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_group_by_key_gives_result_iterables(sc, pairs, slices, num_partitions):
    grouped = sc.parallelize(pairs, slices).groupByKey(num_partitions)
    result = unique_keys(grouped.collect())

    for values in result.values():
        assert isinstance(values, ResultIterable)
    assert {key: len(values) for key, values in result.items()} == {
        key: len(values) for key, values in groups_of(pairs).items()
    }
    assert {key: sorted(values) for key, values in result.items()} == sorted_groups(pairs)
    assert grouped.getNumPartitions() == (num_partitions or slices)


@shuffle_settings
@given(
    numbers=st.lists(st.integers(-100, 100), max_size=50),
    slices=SLICES,
    num_partitions=NUM_PARTITIONS,
)
def test_group_by_matches_model(sc, numbers, slices, num_partitions):
    grouped = sc.parallelize(numbers, slices).groupBy(modulo_seven, num_partitions)
    result = unique_keys(grouped.collect())

    assert {key: sorted(values) for key, values in result.items()} == sorted_groups(
        (modulo_seven(x), x) for x in numbers
    )
    assert all(isinstance(values, ResultIterable) for values in result.values())


# --------------------------------------------------------------------------- joins and cogroup


@shuffle_settings
@given(left=PAIRS, right=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_joins_match_model(sc, left, right, slices, num_partitions):
    left_rdd = sc.parallelize(left, slices)
    right_rdd = sc.parallelize(right, 2)
    joins = {
        "inner": left_rdd.join(right_rdd, num_partitions),
        "left": left_rdd.leftOuterJoin(right_rdd, num_partitions),
        "right": left_rdd.rightOuterJoin(right_rdd, num_partitions),
        "full": left_rdd.fullOuterJoin(right_rdd, num_partitions),
    }
    for how, joined in joins.items():
        assert Counter(joined.collect()) == model_join(left, right, how), how
        # PySpark joins group the union of both sides: its partition count is the default
        assert joined.getNumPartitions() == (num_partitions or slices + 2), how


@shuffle_settings
@given(left=PAIRS, right=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_cogroup_matches_model(sc, left, right, slices, num_partitions):
    cogrouped = sc.parallelize(left, slices).cogroup(sc.parallelize(right, 3), num_partitions)
    result = unique_keys(cogrouped.collect())

    for groups in result.values():
        assert len(groups) == 2
        assert all(isinstance(group, ResultIterable) for group in groups)
    as_lists = {key: tuple(sorted(group) for group in groups) for key, groups in result.items()}
    assert as_lists == model_cogroup(left, right)


@shuffle_settings
@given(datasets=st.lists(PAIRS, min_size=3, max_size=5), slices=SLICES)
def test_group_with_several_rdds_matches_model(sc, datasets, slices):
    rdds = [sc.parallelize(data, slices) for data in datasets]
    result = unique_keys(rdds[0].groupWith(*rdds[1:]).collect())

    as_lists = {key: tuple(sorted(group) for group in groups) for key, groups in result.items()}
    assert as_lists == model_cogroup(*datasets)


# --------------------------------------------------------------------------- set-like operations


@shuffle_settings
@given(left=PAIRS, right=PAIRS, slices=SLICES, num_partitions=NUM_PARTITIONS)
def test_subtract_by_key_and_subtract_match_model(sc, left, right, slices, num_partitions):
    left_rdd = sc.parallelize(left, slices)
    right_rdd = sc.parallelize(right, 2)
    right_keys = {key for key, _ in right}

    by_key = left_rdd.subtractByKey(right_rdd, num_partitions)
    assert Counter(by_key.collect()) == Counter(pair for pair in left if pair[0] not in right_keys)

    elements = left_rdd.subtract(right_rdd, num_partitions)
    # duplicates of the left side survive (PySpark's subtract is not a set difference)
    assert Counter(elements.collect()) == Counter(pair for pair in left if pair not in set(right))
    assert elements.getNumPartitions() == (num_partitions or slices + 2)


@shuffle_settings
@given(
    left=st.lists(KEYS, max_size=40),
    right=st.lists(KEYS, max_size=40),
    slices=SLICES,
    num_partitions=NUM_PARTITIONS,
)
def test_intersection_and_distinct_match_model(sc, left, right, slices, num_partitions):
    left_rdd = sc.parallelize(left, slices)
    right_rdd = sc.parallelize(right, 3)

    common = left_rdd.intersection(right_rdd).collect()
    assert len(common) == len(set(common))
    assert set(common) == set(left) & set(right)

    distinct = left_rdd.distinct(num_partitions)
    elements = distinct.collect()
    assert len(elements) == len(set(elements))
    assert set(elements) == set(left)
    assert distinct.getNumPartitions() == (num_partitions or slices)


# --------------------------------------------------------------------------- sorting


SORT_KEYFUNCS = st.sampled_from([identity, negate, abs, modulo_seven])


@shuffle_settings
@given(
    pairs=INT_PAIRS,
    slices=SLICES,
    num_partitions=st.one_of(st.none(), st.integers(1, 6)),
    ascending=st.booleans(),
    keyfunc=SORT_KEYFUNCS,
)
def test_sort_by_key_is_globally_sorted_and_range_partitioned(
    sc, pairs, slices, num_partitions, ascending, keyfunc
):
    rdd = sc.parallelize(pairs, slices)
    ordered = rdd.sortByKey(ascending, num_partitions, keyfunc)
    partitions = ordered.glom().collect()

    # collect() concatenates partitions, so one sorted sequence over the glom means each
    # partition is sorted and partition i holds only keys that sort before those of i + 1
    sort_keys = [keyfunc(key) for key, _ in flatten(partitions)]
    assert sort_keys == sorted(sort_keys, reverse=not ascending)
    assert Counter(flatten(partitions)) == Counter(pairs)
    assert ordered.collect() == flatten(partitions)
    expected_partitions = num_partitions or slices
    if not pairs and expected_partitions > 1:
        expected_partitions = slices  # PySpark returns the (empty) input itself
    assert len(partitions) == expected_partitions


@shuffle_settings
@given(
    words=st.lists(st.text(alphabet="aAbBc", max_size=4), max_size=40),
    num_partitions=st.integers(1, 5),
    ascending=st.booleans(),
)
def test_sort_by_key_with_string_keys_and_keyfunc(sc, words, num_partitions, ascending):
    pairs = [(word, index) for index, word in enumerate(words)]
    ordered = sc.parallelize(pairs, 3).sortByKey(ascending, num_partitions, str.lower)

    keys = [key.lower() for key, _ in ordered.collect()]
    assert keys == sorted((word.lower() for word in words), reverse=not ascending)
    assert Counter(ordered.collect()) == Counter(pairs)


@shuffle_settings
@given(
    numbers=st.lists(st.integers(-1000, 1000), max_size=60),
    slices=SLICES,
    num_partitions=NUM_PARTITIONS,
    ascending=st.booleans(),
)
def test_sort_by_matches_sorted(sc, numbers, slices, num_partitions, ascending):
    result = sc.parallelize(numbers, slices).sortBy(negate, ascending, num_partitions).collect()
    assert result == sorted(numbers, key=negate, reverse=not ascending)


def test_sort_by_key_with_many_partitions_and_duplicate_keys(sc):
    pairs = [(i % 37, i) for i in range(3000)] + [(5, -1)] * 2000  # one key is 40% of the data
    for ascending in (True, False):
        partitions = sc.parallelize(pairs, 7).sortByKey(ascending, 16).glom().collect()
        keys = [key for key, _ in flatten(partitions)]
        assert keys == sorted(keys, reverse=not ascending)
        assert Counter(flatten(partitions)) == Counter(pairs)
        # a key never straddles two partitions of a range partitioning
        owners = {key: index for index, key in placement(partitions)}
        assert all(owners[key] == index for index, key in placement(partitions))


def test_sort_by_key_accepts_unhashable_but_comparable_keys(sc):
    # like PySpark: range partitioning compares keys and never hashes them
    pairs = [([3, 1], "c"), ([1], "a"), ([2, 0], "b"), ([1, 5], "x")]
    for num_partitions in (1, 3):
        result = sc.parallelize(pairs, 2).sortByKey(True, num_partitions).collect()
        assert result == sorted(pairs)


# --------------------------------------------------------------------------- repartitioning


@shuffle_settings
@given(
    numbers=st.lists(st.integers(), max_size=200),
    slices=SLICES,
    num_partitions=st.integers(1, 9),
    via_coalesce=st.booleans(),
)
def test_repartition_preserves_elements_and_balances(
    sc, numbers, slices, num_partitions, via_coalesce
):
    rdd = sc.parallelize(numbers, slices)
    result = (
        rdd.coalesce(num_partitions, shuffle=True)
        if via_coalesce
        else rdd.repartition(num_partitions)
    )
    sizes = result.glom().map(len).collect()

    assert len(sizes) == num_partitions == result.getNumPartitions()
    assert Counter(result.collect()) == Counter(numbers)
    # round robin from each map partition: each of them adds at most one record more to one
    # output partition than to another
    assert max(sizes) - min(sizes) <= slices


def test_repartition_spreads_a_single_large_partition(sc):
    sizes = sc.parallelize(range(10_000), 1).repartition(7).glom().map(len).collect()
    assert sum(sizes) == 10_000
    assert max(sizes) - min(sizes) <= 1


@shuffle_settings
@given(
    pairs=INT_PAIRS,
    slices=SLICES,
    num_partitions=st.integers(1, 5),
    ascending=st.booleans(),
    keyfunc=SORT_KEYFUNCS,
)
def test_repartition_and_sort_within_partitions(
    sc, pairs, slices, num_partitions, ascending, keyfunc
):
    result = sc.parallelize(pairs, slices).repartitionAndSortWithinPartitions(
        num_partitions, key_length, ascending, keyfunc
    )
    partitions = result.glom().collect()

    assert len(partitions) == num_partitions
    assert Counter(flatten(partitions)) == Counter(pairs)
    assert records_in_their_partition(partitions, key_length)
    for part in partitions:
        sort_keys = [keyfunc(key) for key, _ in part]
        assert sort_keys == sorted(sort_keys, reverse=not ascending)


# --------------------------------------------------------------------------- lookup


@shuffle_settings
@given(pairs=PAIRS, slices=SLICES, probe=KEYS)
def test_lookup_without_partitioner_matches_model(sc, pairs, slices, probe):
    rdd = sc.parallelize(pairs, slices)
    assert rdd.partitioner is None
    assert sorted(rdd.lookup(probe)) == sorted(v for k, v in pairs if k == probe)


def test_lookup_with_partitioner_runs_one_reduce_task(sc):
    pairs = [(key, value) for value in range(3) for key in [*range(40), "k", None, (1, "t")]]
    computed_partitions = sc.accumulator(0)

    def count_partition(iterator):
        computed_partitions.add(1)
        return iterator

    partitioned = (
        sc.parallelize(pairs, 5)
        .partitionBy(8)
        .mapPartitions(count_partition, preservesPartitioning=True)
    )
    assert partitioned.partitioner is not None

    for probe in (7, "k", None, (1, "t"), 1.0, "absent"):
        before = computed_partitions.value
        assert sorted(partitioned.lookup(probe)) == sorted(v for k, v in pairs if k == probe)
        assert computed_partitions.value - before == 1, probe

    # once the shuffle output exists, a lookup is a single task
    partitioned.count()
    assert sorted(partitioned.lookup(3)) == [0, 1, 2]
    assert sc._runtime.jobs.completed[-1].task_count == 1


def test_lookup_with_partitioner_and_seed_dependent_key_type(sc):
    # hash(UserKey) differs between the driver and the workers unless both share
    # PYTHONHASHSEED; lookup must look in the partition where the shuffle put the key
    pairs = [(UserKey(f"user{i % 30}"), i) for i in range(300)]
    partitioned = sc.parallelize(pairs, 4).partitionBy(7)
    for probe in (UserKey("user0"), UserKey("user17"), UserKey("user29"), UserKey("nobody")):
        assert sorted(partitioned.lookup(probe)) == sorted(v for k, v in pairs if k == probe)
    grouped = unique_keys(partitioned.groupByKey().mapValues(sorted).collect())
    assert grouped == sorted_groups(pairs)


# --------------------------------------------------------------------------- countApproxDistinct


@pytest.mark.parametrize("relative_sd", [0.05, 0.01])
@pytest.mark.parametrize("distinct_count", [0, 1, 17, 1000, 20_000])
def test_count_approx_distinct_within_tolerance(sc, relative_sd, distinct_count):
    elements = [f"item-{i}" for i in range(distinct_count)]
    elements += [i for i in range(distinct_count // 2)]  # ints are distinct from the strings
    expected = len(elements)
    rdd = sc.parallelize(elements, 4)

    estimate = rdd.countApproxDistinct(relative_sd)
    assert abs(estimate - expected) <= 4 * relative_sd * expected + 1, (estimate, expected)
    # duplicates do not change a HyperLogLog sketch
    duplicated = sc.parallelize(elements * 3, 5).countApproxDistinct(relative_sd)
    assert duplicated == estimate


def test_count_approx_distinct_rejects_too_small_relative_sd(sc):
    with pytest.raises(ValueError, match="relativeSD"):
        sc.parallelize([1, 2]).countApproxDistinct(0.00001)


# --------------------------------------------------------------------------- default partitions


def test_num_partitions_default_to_the_parents(sc):
    left = sc.parallelize([(i % 5, i) for i in range(50)], 3)
    right = sc.parallelize([(i % 7, i) for i in range(20)], 4)

    for rdd in (
        left.reduceByKey(add),
        left.groupByKey(),
        left.partitionBy(None),
        left.combineByKey(to_list, append_value, extend_list),
        left.aggregateByKey(0, add, add),
        left.foldByKey(0, add),
        left.distinct(),
        left.sortByKey(),
        left.repartitionAndSortWithinPartitions(),
    ):
        assert rdd.getNumPartitions() == 3
    for rdd in (
        left.join(right),
        left.fullOuterJoin(right),
        left.cogroup(right),
        left.subtractByKey(right),
        left.subtract(right),
        left.intersection(right),
    ):
        assert rdd.getNumPartitions() == 7  # the union of both sides
    assert left.groupWith(right, left).getNumPartitions() == 10


def test_num_partitions_default_to_spark_default_parallelism(no_context):
    conf = SparkConf().set("spark.ui.port", "0").set("spark.default.parallelism", "7")
    context = SparkContext("local[2]", "default-parallelism", conf=conf)
    left = context.parallelize([(i % 5, i) for i in range(50)], 3)
    right = context.parallelize([(i % 7, i) for i in range(20)], 4)

    results = {
        "reduceByKey": left.reduceByKey(add),
        "groupByKey": left.groupByKey(),
        "partitionBy": left.partitionBy(None),
        "distinct": left.distinct(),
        "sortByKey": left.sortByKey(),
        "repartitionAndSortWithinPartitions": left.repartitionAndSortWithinPartitions(),
        "join": left.join(right),
        "cogroup": left.cogroup(right),
        "groupWith": left.groupWith(right, left),
        "subtract": left.subtract(right),
        "intersection": left.intersection(right),
    }
    for name, rdd in results.items():
        assert rdd.getNumPartitions() == 7, name
        assert len(rdd.glom().collect()) == 7, name
    assert unique_keys(results["reduceByKey"].collect()) == {
        key: sum(values) for key, values in groups_of((i % 5, i) for i in range(50)).items()
    }


# --------------------------------------------------------------------------- edge cases


def _every_keyed_result(rdd, other) -> dict:
    """The result of every keyed operation of ``rdd`` (and ``other``) in the driver."""
    return {
        "partitionBy": rdd.partitionBy(3).collect(),
        "reduceByKey": rdd.reduceByKey(add).collect(),
        "reduceByKeyLocally": rdd.reduceByKeyLocally(add),
        "groupByKey": rdd.groupByKey().collect(),
        "combineByKey": rdd.combineByKey(to_list, append_value, extend_list).collect(),
        "aggregateByKey": rdd.aggregateByKey(0, add, add).collect(),
        "foldByKey": rdd.foldByKey(0, add).collect(),
        "countByKey": rdd.countByKey(),
        "join": rdd.join(other).collect(),
        "fullOuterJoin": rdd.fullOuterJoin(other).collect(),
        "cogroup": rdd.cogroup(other).collect(),
        "subtractByKey": rdd.subtractByKey(other).collect(),
        "subtract": rdd.subtract(other).collect(),
        "intersection": rdd.intersection(other).collect(),
        "distinct": rdd.distinct().collect(),
        "sortByKey": rdd.sortByKey().collect(),
        "sortByKey(3)": rdd.sortByKey(False, 3).collect(),
        "repartition": rdd.repartition(3).collect(),
        "lookup": rdd.lookup(1),
        "lookup partitioned": rdd.partitionBy(2).lookup(1),
        "countApproxDistinct": rdd.countApproxDistinct(),
    }


@pytest.mark.parametrize(
    "make_empty",
    [
        pytest.param(lambda sc: sc.parallelize([], 3), id="parallelize([], 3)"),
        pytest.param(lambda sc: sc.emptyRDD(), id="emptyRDD()"),
    ],
)
def test_every_keyed_operation_on_empty_rdds(sc, make_empty):
    results = _every_keyed_result(make_empty(sc), sc.parallelize([], 2))
    for name, result in results.items():
        assert not result, name
    assert make_empty(sc).repartition(4).glom().collect() == [[]] * 4


def test_empty_partitions_on_both_sides_of_the_shuffle(sc):
    pairs = [("a", 1), ("b", 2), ("a", 3)]
    rdd = sc.parallelize(pairs, 10)  # seven empty map partitions
    assert unique_keys(rdd.reduceByKey(add, 12).collect()) == {"a": 4, "b": 2}
    partitions = rdd.groupByKey(12).mapValues(sorted).glom().collect()
    assert len(partitions) == 12
    assert sum(1 for part in partitions if not part) == 10
    assert dict(flatten(partitions)) == {"a": [1, 3], "b": [2]}
    assert Counter(rdd.join(sc.parallelize([("a", 0)], 6), 9).collect()) == model_join(
        pairs, [("a", 0)], "inner"
    )


def test_skewed_keys(sc):
    pairs = [("hot", i) for i in range(9000)] + [(f"cold{i % 100}", i) for i in range(1000)]
    rdd = sc.parallelize(pairs, 8)

    assert unique_keys(rdd.reduceByKey(add, 6).collect()) == {
        key: sum(values) for key, values in groups_of(pairs).items()
    }
    grouped = unique_keys(rdd.groupByKey(6).collect())
    assert len(grouped["hot"]) == 9000
    assert sorted(grouped["hot"]) == list(range(9000))
    assert {key: len(values) for key, values in grouped.items()} == dict(
        Counter(k for k, _ in pairs)
    )
    joined = rdd.join(sc.parallelize([("hot", "h"), ("cold7", "c")], 2), 5).collect()
    assert Counter(joined) == model_join(pairs, [("hot", "h"), ("cold7", "c")], "inner")


def test_mixed_numeric_keys_group_together(sc):
    pairs = [(1, "int"), (1.0, "float"), (True, "bool"), (0, "zero"), (-0.0, "neg"), (False, "f")]
    rdd = sc.parallelize(pairs, 6)  # every record in its own map partition

    grouped = unique_keys(rdd.groupByKey(4).mapValues(sorted).collect())
    assert grouped == {1: ["bool", "float", "int"], 0: ["f", "neg", "zero"]}
    assert unique_keys(rdd.mapValues(len).reduceByKey(add, 3).collect()) == {
        key: sum(map(len, values)) for key, values in groups_of(pairs).items()
    }
    assert sorted(rdd.keys().distinct(5).collect()) == [0, 1]
    joined = Counter(rdd.join(sc.parallelize([(1.0, "x")], 2), 3).collect())
    assert joined == Counter({(1, ("int", "x")): 1, (1, ("float", "x")): 1, (1, ("bool", "x")): 1})
    assert sorted(rdd.lookup(True)) == ["bool", "float", "int"]
    assert sorted(rdd.partitionBy(5).lookup(1.0)) == ["bool", "float", "int"]


def test_none_tuple_and_string_keys(sc):
    pairs = [
        (None, 1),
        ((1, "a"), 2),
        ("text", 3),
        (None, 4),
        ((1, "a"), 5),
        ((1.0, "a"), 6),
        ("text", 7),
        ("", 8),
        ((None, ()), 9),
        ("é", 10),
    ]
    rdd = sc.parallelize(pairs, 4)
    assert {key: sorted(values) for key, values in rdd.groupByKey(3).collect()} == sorted_groups(
        pairs
    )
    for probe in (None, (1, "a"), "text", "", (None, ()), "é"):
        assert sorted(rdd.partitionBy(7).lookup(probe)) == sorted_groups(pairs)[probe]
    assert Counter(rdd.leftOuterJoin(sc.parallelize([(None, "n"), ("é", "e")]), 3).collect()) == (
        model_join(pairs, [(None, "n"), ("é", "e")], "left")
    )


def lookup_in_table(total: int, value: str) -> int:
    """A merge function that raises ``KeyError`` itself (for a value not in its table)."""
    return total + {"one": 1, "two": 2}[value] if isinstance(total, int) else 0


def test_a_key_error_from_the_reduce_function_fails_the_task(sc):
    # The fold adds a key on the KeyError of its first record; a KeyError raised by the user's
    # function for a key already present must fail the job, not silently restart the key.
    rdd = sc.parallelize([("a", 1), ("a", "one"), ("a", "three"), ("b", 5)], 1)
    with pytest.raises(KeyError) as raised:
        rdd.reduceByKey(lookup_in_table, 2).collect()
    assert "three" in str(raised.value) and "reduceByKey" in str(raised.value)
    with pytest.raises(KeyError):
        rdd.reduceByKeyLocally(lookup_in_table)


def test_reduce_by_key_folds_str_and_mixed_keys_in_first_appearance_order(sc):
    first = [10]
    pairs = [("w", first), (1, [1]), ("w", [20]), (1.0, [2]), (True, [3]), ("", [4]), ("w", [30])]
    # one reduce partition and map partition: both the map-side and the reduce-side fold keep
    # every key's first object and first-appearance order, as PySpark's dict does
    assert sc.parallelize(pairs, 1).reduceByKey(add, 1).collect() == [
        ("w", [10, 20, 30]),
        (1, [1, 2, 3]),
        ("", [4]),
    ]
    assert first == [10]  # add makes new lists: the user's first value is not extended
    assert sc.parallelize(pairs, 3).reduceByKey(lambda a, b: b + a, 1).collect() == [
        ("w", [30, 20, 10]),
        (1, [3, 2, 1]),
        ("", [4]),
    ]
    assert sc.parallelize([], 3).reduceByKey(add, 2).glom().collect() == [[], []]


UNHASHABLE_KEY_RUNNERS: dict[str, Callable] = {
    "partitionBy": lambda rdd: rdd.partitionBy(2).collect(),
    "reduceByKey": lambda rdd: rdd.reduceByKey(add).collect(),
    "groupByKey": lambda rdd: rdd.groupByKey().collect(),
    "combineByKey": lambda rdd: rdd.combineByKey(to_list, append_value, extend_list).collect(),
    "aggregateByKey": lambda rdd: rdd.aggregateByKey(0, add, add).collect(),
    "foldByKey": lambda rdd: rdd.foldByKey(0, add).collect(),
    "join": lambda rdd: rdd.join(rdd).collect(),
    "leftOuterJoin": lambda rdd: rdd.leftOuterJoin(rdd).collect(),
    "rightOuterJoin": lambda rdd: rdd.rightOuterJoin(rdd).collect(),
    "fullOuterJoin": lambda rdd: rdd.fullOuterJoin(rdd).collect(),
    "cogroup": lambda rdd: rdd.cogroup(rdd).collect(),
    "subtractByKey": lambda rdd: rdd.subtractByKey(rdd).collect(),
    "distinct": lambda rdd: rdd.keys().distinct().collect(),
    "intersection": lambda rdd: rdd.keys().intersection(rdd.keys()).collect(),
    "reduceByKeyLocally": lambda rdd: rdd.reduceByKeyLocally(add),
    "repartitionAndSortWithinPartitions": (
        lambda rdd: rdd.repartitionAndSortWithinPartitions(2).collect()
    ),
    "groupBy": lambda rdd: rdd.groupBy(lambda kv: kv[0]).collect(),
    "subtract": lambda rdd: rdd.keys().subtract(rdd.keys()).collect(),
    "countByKey": lambda rdd: rdd.countByKey(),
    # the RDD is partitioned with hashable keys; the probe is the unhashable key
    "lookup": lambda rdd: rdd.filter(lambda kv: kv[0] == 4).partitionBy(2).lookup([1]),
}


UNHASHABLE_EXPECTED_FAILURES: dict = {}


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(name, marks=UNHASHABLE_EXPECTED_FAILURES.get(name, ()))
        for name in UNHASHABLE_KEY_RUNNERS
    ],
)
def test_unhashable_keys_raise_a_type_error_naming_the_operation(sc, operation):
    rdd = sc.parallelize([([1], 1), ([2], 2), ([1], 3), (4, 4)], 2)
    with pytest.raises(TypeError) as raised:
        UNHASHABLE_KEY_RUNNERS[operation](rdd)
    message = str(raised.value)
    assert "unhashable" in message
    assert re.search(rf"\b{operation}\b", message), message


# --------------------------------------------------------------------------- partitioner awareness


def _shuffles_in_last_job(sc) -> int:
    """How many shuffles (P2P barriers) the graph of the last job ran."""
    record = sc._runtime.jobs.completed[-1]
    return sum(1 for key in record.keys if str(key).startswith("shuffle-barrier-"))


def test_narrow_operations_keep_or_drop_the_partitioner(sc):
    partitioned = sc.parallelize([(i, i) for i in range(20)], 3).partitionBy(4)
    assert partitioned.partitioner is not None
    assert partitioned.mapValues(str).partitioner == partitioned.partitioner
    assert partitioned.flatMapValues(lambda v: [v, v]).partitioner == partitioned.partitioner
    assert partitioned.filter(lambda kv: kv[0] % 2).partitioner == partitioned.partitioner
    assert partitioned.map(identity).partitioner is None
    assert partitioned.map(identity, preservesPartitioning=True).partitioner is not None
    assert partitioned.reduceByKey(add).partitioner == partitioned.partitioner


def test_partition_by_with_the_same_partitioner_returns_the_same_rdd(sc):
    partitioned = sc.parallelize([(i, i) for i in range(20)], 3).partitionBy(4)
    assert partitioned.partitionBy(4) is partitioned
    assert partitioned.partitionBy(4, portable_hash) is partitioned
    assert partitioned.partitionBy(5) is not partitioned
    assert partitioned.partitionBy(4, key_length) is not partitioned
    mapped = partitioned.mapValues(negate)
    assert mapped.partitionBy(4) is mapped


def test_operations_on_copartitioned_rdds_do_not_shuffle_again(sc):
    left_pairs = [(i % 13, i) for i in range(60)]
    right_pairs = [(i % 17, -i) for i in range(40)]

    # fresh RDDs for every job: a ShuffledRDD that ran once keeps its output for later jobs
    def left(partitions=4):
        return sc.parallelize(left_pairs, 3).partitionBy(partitions)

    def right(partitions=4):
        return sc.parallelize(right_pairs, 5).partitionBy(partitions)

    joined_left = left()
    joined = joined_left.join(right())
    assert Counter(joined.collect()) == model_join(left_pairs, right_pairs, "inner")
    assert _shuffles_in_last_job(sc) == 2  # the two partitionBy shuffles, no third one
    assert joined.partitioner == joined_left.partitioner
    assert joined.getNumPartitions() == 4

    cogrouped = left().cogroup(right()).mapValues(lambda groups: tuple(map(sorted, groups)))
    assert dict(cogrouped.collect()) == model_cogroup(left_pairs, right_pairs)
    assert _shuffles_in_last_job(sc) == 2
    full = left().mapValues(negate).fullOuterJoin(right()).collect()
    assert Counter(full) == model_join([(k, -v) for k, v in left_pairs], right_pairs, "full")
    assert _shuffles_in_last_job(sc) == 2
    third = sc.parallelize([(i, "t") for i in range(8)], 2).partitionBy(4)
    left().groupWith(right(), third).collect()
    assert _shuffles_in_last_job(sc) == 3
    left().reduceByKey(add).collect()
    assert _shuffles_in_last_job(sc) == 1
    # the same operations shuffle again when the partitioning differs
    left().join(right(3)).collect()
    assert _shuffles_in_last_job(sc) == 3
    left().map(identity).join(right()).collect()
    assert _shuffles_in_last_job(sc) == 3

    # with both partitioned inputs computed, a co-partitioned join runs no map task at all...
    computed_left, computed_right, computed_other = left(), right(), right(3)
    for rdd in (computed_left, computed_right, computed_other):
        rdd.count()
    copartitioned = computed_left.join(computed_right)
    with ungrouped(sc):
        assert Counter(copartitioned.collect()) == model_join(left_pairs, right_pairs, "inner")
    copartitioned_tasks = sc._runtime.jobs.completed[-1].task_count
    assert _shuffles_in_last_job(sc) == 0
    # ...while a join with a differently partitioned RDD shuffles both sides together
    with ungrouped(sc):
        computed_left.join(computed_other).collect()
    assert _shuffles_in_last_job(sc) == 1
    assert copartitioned_tasks < sc._runtime.jobs.completed[-1].task_count


def test_second_action_reuses_the_map_side(sc):
    with ungrouped(sc):
        _check_second_action_reuses_the_map_side(sc)


def _check_second_action_reuses_the_map_side(sc):
    mapped_records = sc.accumulator(0)

    def tag(x):
        mapped_records.add(1)
        return (x % 11, x)

    reduce_partitions = 5
    reduced = sc.parallelize(range(500), 6).map(tag).reduceByKey(add, reduce_partitions)
    first = unique_keys(reduced.collect())
    assert sc._runtime.jobs.completed[-1].task_count == 6 + 1 + reduce_partitions
    assert mapped_records.value == 500

    assert unique_keys(reduced.collect()) == first
    assert sc._runtime.jobs.completed[-1].task_count == reduce_partitions
    assert reduced.count() == 11
    assert sc._runtime.jobs.completed[-1].task_count == reduce_partitions
    assert mapped_records.value == 500  # the map side did not run again
    assert first == {key: sum(x for x in range(500) if x % 11 == key) for key in range(11)}


@pytest.mark.parametrize(
    "spill_to_disk",
    [
        "true",
        "false",
    ],
)
def test_second_action_returns_the_same_records_with_either_shuffle_buffer(
    no_context, spill_to_disk
):
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.shuffle.spillToDisk", spill_to_disk)
    context = SparkContext("local[2]", "shuffle-buffer", conf=conf)
    pairs = [(i % 7, i) for i in range(100)]
    reduced = context.parallelize(pairs, 4).reduceByKey(add, 3)
    expected = {key: sum(values) for key, values in groups_of(pairs).items()}

    assert unique_keys(reduced.collect()) == expected
    assert unique_keys(reduced.collect()) == expected
    assert reduced.count() == 7


# --------------------------------------------------------------------------- scale of the graph


def test_reduce_by_key_graph_is_linear_in_map_and_reduce_partitions(sc):
    maps = reduces = 200
    result = (
        sc.parallelize(range(20_000), maps)
        .map(lambda x: (x % 1000, 1))
        .reduceByKey(add, reduces)
        .collect()
    )
    assert unique_keys(result) == dict.fromkeys(range(1000), 20)
    tasks = sc._runtime.jobs.completed[-1].task_count
    assert tasks <= maps + reduces + 10
    assert tasks * 50 < maps * reduces


def test_distinct_string_keys_spread_evenly(sc):
    keys = [f"user{i:05d}" for i in range(10_000)]
    sizes = sc.parallelize(keys, 8).map(lambda k: (k, 1)).partitionBy(16).glom().map(len).collect()
    mean = len(keys) / 16
    assert sum(sizes) == len(keys)
    assert max(sizes) <= 1.25 * mean, sizes
    assert min(sizes) >= 0.75 * mean, sizes


def test_the_shuffle_package_does_not_import_the_p2p_module():
    """A worker's event loop imports ``sparkish.shuffle._p2p`` (unpickling a shuffle spec) while
    its task thread may be importing ``sparkish.shuffle``; Python takes the submodule's import
    lock before the package's, so a path from the package's ``__init__`` back to ``_p2p`` is a
    lock-order inversion that ends in ``_DeadlockError`` (seen once in a benchmark run)."""
    import subprocess
    import sys

    code = "import sys, sparkish.shuffle; print('sparkish.shuffle._p2p' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
