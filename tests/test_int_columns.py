"""The vectorised path for ``(int, int)`` records gives exactly what the general path gives.

``sparkish/shuffle/int_columns.py`` buckets int pairs as numpy arrays and sums them per key for
``reduceByKey(operator.add)``. These tests compare it with the general Python path: the same
partition for every record, the same record order inside each partition, Python ints (never
numpy scalars) in the results, and every fallback (bools, huge ints, sums beyond 64 bits, sparse
keys, a non-int record after the first chunk) taken where it must be.
"""

from __future__ import annotations

import os
import random
from operator import add

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkish import SparkConf, SparkContext
from sparkish.shuffle.hashing import bucket_columns
from sparkish.shuffle.int_columns import (
    NATIVE_CONVERSION,
    bucket_int_columns,
    int_columns,
    native_int_columns,
    python_int_columns,
    sum_by_key,
)

#: Both implementations of the conversion; the C one must be built wherever CI runs.
CONVERTERS = [
    pytest.param(python_int_columns, id="python"),
    pytest.param(
        native_int_columns,
        id="native",
        marks=pytest.mark.skipif(
            not NATIVE_CONVERSION and os.environ.get("CI") != "true",
            reason="sparkish was installed without a C compiler",
        ),
    ),
]

property_settings = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

INT_KEYS = st.one_of(
    st.integers(-5, 40),
    st.integers(-(2**61) + 2, 2**61 - 2),  # the largest keys that still hash to themselves
    st.just(-1),  # hash(-1) == -2
)
INT_PAIRS = st.lists(st.tuples(INT_KEYS, st.integers(-(2**40), 2**40)), max_size=300)


def python_add(left: int, right: int) -> int:
    """Same sum as ``operator.add``, but not ``operator.add``: forces the general path."""
    return left + right


def dict_sums(pairs) -> list[tuple]:
    totals: dict = {}
    for key, value in pairs:
        totals[key] = totals[key] + value if key in totals else value
    return list(totals.items())


# --------------------------------------------------------------------------- unit level


@given(pairs=INT_PAIRS, partitions=st.integers(1, 40))
@property_settings
def test_bucketing_matches_the_general_bucketing(pairs, partitions):
    columns = int_columns(pairs)
    if not pairs:
        assert columns is None
        return
    expected_keys, expected_values = bucket_columns(pairs, partitions)
    got = {r: (k.tolist(), v.tolist()) for r, k, v in bucket_int_columns(*columns, partitions)}
    expected = {r: (keys, expected_values[r]) for r, keys in enumerate(expected_keys) if keys}
    assert got == expected


@given(pairs=INT_PAIRS)
@property_settings
def test_sums_match_a_dict_fold_in_first_appearance_order(pairs):
    columns = int_columns(pairs)
    if columns is None:
        assert not pairs
        return
    summed = sum_by_key(*columns)
    if summed is None:  # keys too sparse for a table: the caller folds in a dict instead
        return
    keys, sums = summed
    assert list(zip(keys.tolist(), sums.tolist())) == dict_sums(pairs)


def test_sums_use_a_table_for_dense_and_strided_keys():
    keys = np.array([3 + 32 * (i % 1000) for i in range(10_000)])
    values = np.arange(10_000)
    unique, sums = sum_by_key(keys, values)
    pairs = list(zip(keys.tolist(), values.tolist()))
    assert list(zip(unique.tolist(), sums.tolist())) == dict_sums(pairs)


def test_sums_near_the_int64_limit_take_the_exact_path():
    big = 2**59
    keys = np.array([1, 2, 1, 2])
    values = np.array([big, -big, big, 5])
    unique, sums = sum_by_key(keys, values)  # partial sums exceed 2**53: float64 is not exact
    assert sums.tolist() == [2 * big, -big + 5]
    assert sum_by_key(np.array([1, 1]), np.array([2**62, 2**62])) is None


def test_sparse_keys_fall_back_to_the_dict():
    assert sum_by_key(np.array([0, 10**12, 1, 0]), np.array([1, 2, 3, 4])) is None


@pytest.mark.parametrize(
    "records",
    [
        [(1, 2), (True, 3)],  # bool keys stay Python objects
        [(1, 2), (3, False)],
        [(1, 2), (3, 4.0)],
        [(1, 2), (2**61, 4)],  # hash(2**61) != 2**61
        [(1, 2), (3, 2**63)],  # value beyond int64
        [(1, 2), (3, 4, 5)],
        [(1, 2), "ab"],
        [{0: 1, 1: 2}],
        [(1, 2), None],
        [],
    ],
)
@pytest.mark.parametrize("convert", CONVERTERS)
def test_records_that_are_not_plain_int_pairs_are_refused(convert, records):
    assert convert(records) is None


class IntSubclass(int):
    pass


class PairSubclass(tuple):
    pass


@pytest.mark.parametrize("convert", CONVERTERS)
@pytest.mark.parametrize(
    "records",
    [
        [(IntSubclass(1), 2)],  # hashes and pickles like its class, not like an int
        [(1, IntSubclass(2))],
        [PairSubclass((1, 2))],  # a namedtuple is a record of its own type
        [(1, 2), (-(2**61) + 1, 3)],  # hash() of this key is 0, not the key
        [(1, 2), (3, -(2**63) - 1)],
        [(np.int64(1), 2)],  # numpy scalars come back as numpy scalars on the general path
    ],
)
def test_subclasses_and_edge_values_are_refused(convert, records):
    assert convert(records) is None


@pytest.mark.parametrize("convert", CONVERTERS)
def test_lists_of_two_ints_are_pairs_too(convert):
    keys, values = convert([[1, 2], (3, 4)])
    assert (keys.tolist(), values.tolist()) == ([1, 3], [2, 4])


@pytest.mark.parametrize("convert", CONVERTERS)
def test_extreme_values_convert_exactly(convert):
    records = [(2**61 - 2, 2**63 - 1), (-(2**61) + 2, -(2**63)), (-1, 0), (0, -1)]
    keys, values = convert(records)
    assert keys.dtype == values.dtype == np.int64
    assert list(zip(keys.tolist(), values.tolist())) == records


RECORDS = st.lists(
    st.one_of(
        st.tuples(INT_KEYS, st.integers(-(2**63), 2**63 - 1)),
        st.tuples(st.integers(-(2**62), 2**62), st.integers(-(2**64), 2**64)),
        st.lists(st.integers(-5, 5), min_size=1, max_size=3),
        st.tuples(st.booleans(), st.integers(0, 3)),
        st.tuples(st.integers(0, 3), st.floats(allow_nan=False)),
    ),
    max_size=50,
)


@pytest.mark.skipif(
    not NATIVE_CONVERSION and os.environ.get("CI") != "true",
    reason="sparkish was installed without a C compiler",
)
@given(records=RECORDS)
@settings(max_examples=300, deadline=None)
def test_the_c_conversion_answers_as_the_python_one(records):
    native = native_int_columns(records)
    python = python_int_columns(records)
    if python is None:
        assert native is None
    else:
        assert native is not None
        assert [column.tolist() for column in native] == [column.tolist() for column in python]
        assert all(column.flags.writeable for column in native)


# --------------------------------------------------------------------------- through the shuffle


@given(pairs=INT_PAIRS, slices=st.integers(1, 5), partitions=st.integers(1, 6))
@property_settings
def test_reduce_by_key_add_equals_the_general_path_partition_by_partition(
    sc, pairs, slices, partitions
):
    rdd = sc.parallelize(pairs, slices)
    vectorised = rdd.reduceByKey(add, partitions).glom().collect()
    general = rdd.reduceByKey(python_add, partitions).glom().collect()
    assert vectorised == general
    assert all(type(k) is int and type(v) is int for part in vectorised for k, v in part)


@given(pairs=INT_PAIRS, slices=st.integers(1, 5), partitions=st.integers(1, 6))
@property_settings
def test_partition_by_and_group_by_key_keep_records_and_order(sc, pairs, slices, partitions):
    rdd = sc.parallelize(pairs, slices)
    moved = rdd.partitionBy(partitions).glom().collect()
    # The general path, forced by a partition function that is not portable_hash.
    general = rdd.partitionBy(partitions, lambda key: hash(key)).glom().collect()
    assert moved == general
    assert all(type(k) is int and type(v) is int for part in moved for k, v in part)
    grouped = rdd.groupByKey(partitions).mapValues(list).collect()
    expected: dict = {}
    for key, value in pairs:
        expected.setdefault(key, []).append(value)
    assert dict(grouped) == expected


def test_large_partitions_mixing_types_after_the_first_chunk(sc):
    rng = random.Random(7)
    pairs = [(rng.randrange(5000), rng.randrange(100)) for _ in range(150_000)]
    pairs[120_000] = ("late-string-key", 1)  # in a later chunk than the first 65,536 records
    pairs[130_000] = (True, 5)  # a bool key equal to 1
    rdd = sc.parallelize(pairs, 2)
    expected = dict_sums(pairs)
    assert sorted(rdd.reduceByKey(add, 3).collect(), key=repr) == sorted(expected, key=repr)
    assert sorted(rdd.partitionBy(3).collect(), key=repr) == sorted(pairs, key=repr)


def test_sums_beyond_64_bits_are_exact(sc):
    pairs = [(i % 3, 2**62) for i in range(30)]
    assert dict(sc.parallelize(pairs, 3).reduceByKey(add, 2).collect()) == {
        0: 10 * 2**62,
        1: 10 * 2**62,
        2: 10 * 2**62,
    }


def test_bool_keys_keep_their_first_object(sc):
    pairs = [(True, 1), (1, 2), (0, 3), (False, 4)]
    result = dict(sc.parallelize(pairs, 1).reduceByKey(add, 1).collect())
    assert result == {True: 3, 0: 7}
    assert any(key is True for key in result)


def test_map_side_combine_and_a_reused_shuffle(sc):
    pairs = [(i % 50, i) for i in range(200_000)]  # dense, heavily repeated keys
    reduced = sc.parallelize(pairs, 4).reduceByKey(add, 5)
    expected = dict(dict_sums(pairs))
    assert dict(reduced.collect()) == expected
    assert dict(reduced.collect()) == expected  # second read of the kept shuffle output


@pytest.mark.parametrize("spill_to_disk", ["true", "false"])
def test_either_shuffle_buffer_reads_int_buckets(no_context, spill_to_disk):
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.shuffle.spillToDisk", spill_to_disk)
    with SparkContext("local[2]", "int-buckets", conf=conf) as context:
        pairs = [((i * 7919) % 10_007, i % 13) for i in range(50_000)]
        rdd = context.parallelize(pairs, 5)
        assert rdd.reduceByKey(add, 4).glom().collect() == (
            rdd.reduceByKey(python_add, 4).glom().collect()
        )
        assert sorted(rdd.partitionBy(4).collect()) == sorted(pairs)


def _skip_first(iterator):
    next(iterator, None)
    return iterator  # the same iterator object, one record in


def test_a_partly_consumed_reduce_output_is_not_reread_from_its_columns(sc):
    pairs = [(i % 40, i) for i in range(1000)]
    rdd = sc.parallelize(pairs, 4)

    def pipeline(func):
        reduced = rdd.reduceByKey(func, 2).mapPartitions(_skip_first)
        return sorted(reduced.partitionBy(3).collect())

    assert pipeline(add) == pipeline(python_add)
    assert len(pipeline(add)) == 38  # 40 keys, one dropped from each of the 2 partitions
