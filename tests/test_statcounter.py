"""Tests for sparkish.statcounter.StatCounter, checked against PySpark's StatCounter (which runs
without a JVM) and against exact rational arithmetic."""

from __future__ import annotations

import copy
import doctest
import math
import multiprocessing
import pickle
import random
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction

import cloudpickle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.statcounter import StatCounter as PySparkStatCounter

from sparkish import statcounter
from sparkish.statcounter import StatCounter

# PySpark takes numpy.sqrt of a variance that overflowed to a negative value (e.g. for
# [1e308, 1e308, -1e308]) and numpy warns; sparkish returns the same NaN without a warning.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")

ACCESSORS = [
    "count",
    "mean",
    "sum",
    "min",
    "max",
    "variance",
    "sampleVariance",
    "stdev",
    "sampleStdev",
]


def _exactly(value: float) -> str:
    """A float's identity: distinguishes -0.0 from 0.0 and equates every NaN."""
    return repr(float(value))


def _assert_same_as_pyspark(ours: StatCounter, theirs: PySparkStatCounter) -> None:
    for name in ACCESSORS:
        assert _exactly(getattr(ours, name)()) == _exactly(getattr(theirs, name)()), name
    assert ours.count() == theirs.count()
    assert type(ours.count()) is int
    assert repr(ours) == repr(theirs)
    for sample in (False, True):
        ours_dict, theirs_dict = ours.asDict(sample), theirs.asDict(sample)
        assert list(ours_dict) == list(theirs_dict)
        assert {k: _exactly(v) for k, v in ours_dict.items()} == {
            k: _exactly(v) for k, v in theirs_dict.items()
        }


def _reduce(counters: list, order: str):
    """Merge counters in place the way a job might: left fold, right fold or pairwise tree."""
    if order == "left":
        total = counters[0]
        for counter in counters[1:]:
            total = total.mergeStats(counter)
        return total
    if order == "right":
        total = counters[-1]
        for counter in reversed(counters[:-1]):
            total = counter.mergeStats(total)
        return total
    level = list(counters)
    while len(level) > 1:
        level = [
            level[i].mergeStats(level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


def _split(values: list, cut_points: list[int]) -> list[list]:
    cuts = sorted({min(point, len(values)) for point in cut_points})
    bounds = [0, *cuts, len(values)]
    return [values[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


finite_floats = st.floats(allow_nan=False, allow_infinity=False)
any_floats = st.floats(allow_nan=True, allow_infinity=True)
numbers = st.one_of(
    any_floats,
    st.integers(min_value=-(2**64), max_value=2**64),
    st.booleans(),
)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [7],
        [2.5],
        [1, 2, 3],
        [1.0, 2.0, 3.0, 4.0],
        [float("nan")],
        [1.0, float("nan"), 3.0],
        [float("nan"), 1.0],
        [float("inf")],
        [float("-inf"), 1.0],
        [float("inf"), float("-inf")],
        [float("inf"), float("inf")],
        [1e308, 1e308, -1e308],
        [5e-324, 1e-300, 0.0],
        [-0.0],
        [-0.0, 0.0],
        [0.0, -0.0],
        [1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3],
        [True, False, True],
        [2**53 + 1, 3, -(2**60)],
        list(range(1000)),
    ],
    ids=repr,
)
def test_known_cases_match_pyspark(values) -> None:
    ours, theirs = StatCounter(values), PySparkStatCounter(values)
    _assert_same_as_pyspark(ours, theirs)
    one_by_one = StatCounter()
    for value in values:
        one_by_one.merge(value)
    _assert_same_as_pyspark(one_by_one, theirs)


def test_empty_counter() -> None:
    empty = StatCounter()
    assert empty.count() == 0
    assert empty.mean() == 0.0 and empty.sum() == 0.0
    assert empty.min() == math.inf and empty.max() == -math.inf
    for name in ("variance", "sampleVariance", "stdev", "sampleStdev"):
        assert math.isnan(getattr(empty, name)())
    assert (
        repr(empty)
        == repr(PySparkStatCounter())
        == ("(count: 0, mean: 0.0, stdev: nan, max: -inf, min: inf)")
    )
    assert math.isnan(StatCounter([3.0]).sampleVariance())
    assert StatCounter([3.0]).variance() == 0.0


def test_repr_format() -> None:
    assert repr(StatCounter([1, 2, 3])) == (
        "(count: 3, mean: 2.0, stdev: 0.816496580927726, max: 3.0, min: 1.0)"
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(numbers, max_size=60))
def test_property_matches_pyspark_value_by_value(values) -> None:
    _assert_same_as_pyspark(StatCounter(values), PySparkStatCounter(values))
    _assert_same_as_pyspark(StatCounter(iter(values)), PySparkStatCounter(values))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(numbers, max_size=80),
    st.lists(st.integers(min_value=0, max_value=80), max_size=12),
    st.sampled_from(["left", "right", "tree"]),
)
def test_property_merging_partial_counters_matches_pyspark(values, cut_points, order) -> None:
    chunks = _split(values, cut_points)
    ours = _reduce([StatCounter(chunk) for chunk in chunks], order)
    theirs = _reduce([PySparkStatCounter(chunk) for chunk in chunks], order)
    _assert_same_as_pyspark(ours, theirs)


def _exact_statistics(values: list[float]) -> tuple[Fraction, Fraction]:
    exact = [Fraction(value) for value in values]
    mean = sum(exact) / len(exact)
    return mean, sum((value - mean) ** 2 for value in exact) / len(exact)


def _close(approximate: float, exact: Fraction, tolerance: float) -> bool:
    return abs(Fraction(approximate) - exact) <= tolerance


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=200),
    st.floats(min_value=-1e9, max_value=1e9),
    st.lists(st.integers(min_value=0, max_value=200), max_size=10),
    st.sampled_from(["left", "right", "tree"]),
)
def test_property_any_grouping_is_accurate(noise, offset, cut_points, order) -> None:
    # A large common offset is the case that breaks the naive sum-of-squares formula.
    values = [offset + value for value in noise]
    exact_mean, exact_variance = _exact_statistics(values)
    spread = max(values) - min(values)
    largest = max(abs(value) for value in values)
    merged = _reduce([StatCounter(chunk) for chunk in _split(values, cut_points)], order)
    assert merged.count() == len(values)
    # Rounding the running mean costs about one ulp of the largest value per step; the variance
    # error is about that times the spread, plus a small relative error (and underflow: the
    # variance of values near 1e-200 is below the smallest float).
    # A result can never be closer than the spacing of floats around it (subnormals included).
    rounding = len(values) * 2.0**-52 * largest + math.ulp(0.0)
    assert _close(merged.mean(), exact_mean, tolerance=8 * rounding)
    variance_tolerance = 1e-9 * spread**2 + 8 * rounding * spread + 1e-300
    assert _close(merged.variance(), exact_variance, variance_tolerance)
    assert merged.max() == max(values) and merged.min() == min(values)


def test_variance_is_stable_with_a_huge_offset() -> None:
    rng = random.Random(5)
    values = [1e9 + rng.random() for _ in range(10_000)]
    _, exact_variance = _exact_statistics(values)
    naive_mean = sum(values) / len(values)
    naive_variance = sum(v * v for v in values) / len(values) - naive_mean**2
    stats = StatCounter(values)
    assert abs(stats.variance() - float(exact_variance)) < 1e-5 * float(exact_variance)
    # The data defeats the naive sum-of-squares formula, so the check above means something.
    assert abs(naive_variance - float(exact_variance)) > float(exact_variance)


def test_many_partitions_of_random_data_match_pyspark() -> None:
    rng = random.Random(20260801)
    pools = [
        [rng.gauss(0, 1) for _ in range(5000)],
        [rng.expovariate(1e-12) for _ in range(5000)],
        [rng.uniform(-1e-300, 1e-300) for _ in range(5000)],
        [rng.randrange(-(10**12), 10**12) for _ in range(5000)],
        [rng.choice([1.0, -2.5, float("inf"), 3]) for _ in range(500)],
    ]
    for values in pools:
        for partitions in (1, 2, 7, 64):
            size = -(-len(values) // partitions)
            chunks = [values[i : i + size] for i in range(0, len(values), size)]
            for order in ("left", "right", "tree"):
                ours = _reduce([StatCounter(chunk) for chunk in chunks], order)
                theirs = _reduce([PySparkStatCounter(chunk) for chunk in chunks], order)
                _assert_same_as_pyspark(ours, theirs)


def test_merge_stats_with_itself_and_with_empty_counters() -> None:
    ours, theirs = StatCounter([1.0, 5.0]), PySparkStatCounter([1.0, 5.0])
    _assert_same_as_pyspark(ours.mergeStats(ours), theirs.mergeStats(theirs))
    _assert_same_as_pyspark(ours.mergeStats(StatCounter()), theirs.mergeStats(PySparkStatCounter()))
    _assert_same_as_pyspark(
        StatCounter().mergeStats(StatCounter([2.0])),
        PySparkStatCounter().mergeStats(PySparkStatCounter([2.0])),
    )
    _assert_same_as_pyspark(
        StatCounter().mergeStats(StatCounter()),
        PySparkStatCounter().mergeStats(PySparkStatCounter()),
    )


def test_merge_methods_return_the_counter_itself() -> None:
    stats = StatCounter()
    assert stats.merge(1.0) is stats
    assert stats.mergeStats(StatCounter([2.0])) is stats


def test_copy_is_independent() -> None:
    original = StatCounter([1.0, 2.0])
    for duplicate in (original.copy(), copy.copy(original), copy.deepcopy(original)):
        duplicate.merge(100.0)
        assert duplicate.count() == 3
    assert original.count() == 2 and original.max() == 2.0


def test_bad_values_raise_a_clear_error_and_leave_the_counter_unchanged() -> None:
    stats = StatCounter([1.0])
    with pytest.raises(TypeError, match=r"StatCounter: cannot add 'x' of type str"):
        stats._merge_values([2.0, "x", 3.0])
    with pytest.raises(TypeError, match=r"cannot add None of type NoneType"):
        stats.merge(None)
    with pytest.raises(TypeError, match=r"cannot add 'x' of type str"):
        StatCounter(iter([1, "x"]))
    assert repr(stats) == repr(StatCounter([1.0]))
    with pytest.raises(TypeError, match="Can only merge StatCounter but got <class 'int'>"):
        stats.mergeStats(5)


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps])
def test_pickle_round_trip(dumps) -> None:
    for stats in (StatCounter(), StatCounter([1, 2.5, float("nan")]), StatCounter([-0.0])):
        restored = pickle.loads(dumps(stats))
        assert type(restored) is StatCounter
        assert repr(restored) == repr(stats)
        restored_state = [
            restored.n,
            restored.mu,
            restored.m2,
            restored.maxValue,
            restored.minValue,
        ]
        state = [stats.n, stats.mu, stats.m2, stats.maxValue, stats.minValue]
        assert [_exactly(x) for x in restored_state] == [_exactly(x) for x in state]


def _stats_of_partition(values: list[float]) -> StatCounter:
    return StatCounter(values)


def test_counters_built_in_other_processes_merge_like_local_ones() -> None:
    rng = random.Random(11)
    partitions = [[rng.lognormvariate(0, 3) for _ in range(2000)] for _ in range(6)]
    # "spawn": forking a test process that runs other threads (Dask clients) can deadlock.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        remote = list(pool.map(_stats_of_partition, partitions))
    merged = _reduce(remote, "left")
    expected = _reduce([PySparkStatCounter(p) for p in partitions], "left")
    _assert_same_as_pyspark(merged, expected)


def test_docstring_examples() -> None:
    failures, tried = doctest.testmod(statcounter, raise_on_error=False)
    assert tried > 10
    assert failures == 0
