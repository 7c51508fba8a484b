"""parallelize() and range() slice data into partitions exactly as PySpark does.

The reference is a real PySpark context (one JVM for the module): every test builds the same
RDD in both and compares ``glom()``. The slicing models used by tests/test_rdd.py are checked
against PySpark here too.
"""

from __future__ import annotations

import operator

import pytest

from tests.pyspark_oracle import PySparkOracle
from tests.test_rdd import range_slice_model, slice_model

# Emitted when the PySpark context starts; irrelevant to the RDD API.
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

SIZES = [0, 1, 5, 1023, 1024, 1025, 3000, 10000]
NUM_SLICES = [1, 2, 3, 7, 16]
# Small collections into many partitions (most partitions empty).
MORE_SLICES_THAN_ELEMENTS = [(0, 4), (1, 3), (2, 5), (5, 40), (17, 64), (100, 128)]


@pytest.fixture(scope="module")
def pyspark_sc():
    """A real PySpark ``local[2]`` context (in a child process): the same default
    parallelism as the ``sc`` fixture."""
    oracle = PySparkOracle("local[2]")
    yield oracle
    oracle.close()


def _both_glom(sc, pyspark_sc, make):
    """``make(context).glom().collect()`` in sparkish and in PySpark."""
    return make(sc).glom().collect(), pyspark_sc.run(lambda ctx: make(ctx).glom().collect())


@pytest.mark.parametrize(
    "size, num_slices",
    [(size, n) for size in SIZES for n in NUM_SLICES] + MORE_SLICES_THAN_ELEMENTS,
)
def test_parallelize_list_slicing_matches_pyspark(sc, pyspark_sc, size, num_slices):
    data = list(range(size))
    ours, theirs = _both_glom(sc, pyspark_sc, lambda ctx: ctx.parallelize(data, num_slices))
    assert [len(part) for part in ours] == [len(part) for part in theirs]
    assert ours == theirs
    assert slice_model(data, num_slices) == theirs


@pytest.mark.parametrize("size", [0, 1, 3, 1025, 3000])
def test_parallelize_default_slicing_matches_pyspark(sc, pyspark_sc, size):
    assert sc.defaultParallelism == pyspark_sc.run(lambda ctx: ctx.defaultParallelism)
    data = [f"item-{i}" for i in range(size)]
    ours, theirs = _both_glom(sc, pyspark_sc, lambda ctx: ctx.parallelize(data))
    assert ours == theirs


@pytest.mark.parametrize(
    "make_data",
    [
        pytest.param(lambda: tuple(range(11)), id="tuple"),
        pytest.param(lambda: (x * x for x in range(11)), id="generator"),
        pytest.param(lambda: "sparkish", id="str"),
        pytest.param(lambda: {f"k{i}": i for i in range(9)}, id="dict"),
        pytest.param(lambda: {3, 1, 4, 15, 9, 26}, id="set"),
        pytest.param(lambda: [None, (1, "a"), [2.5], {"x": None}, b"\x00", None, 7], id="mixed"),
        pytest.param(lambda: iter(range(2050)), id="long-iterator"),
    ],
)
@pytest.mark.parametrize("num_slices", [1, 3, 8])
def test_parallelize_of_other_collections_matches_pyspark(sc, pyspark_sc, make_data, num_slices):
    data = make_data()
    reusable = data if hasattr(data, "__len__") else list(data)
    ours = sc.parallelize(reusable, num_slices).glom().collect()
    # The data is built in PySpark's process too: a set rebuilt from a pickle may iterate in
    # another order than the original.
    theirs = pyspark_sc.run(
        lambda ctx: ctx.parallelize(_reusable(make_data()), num_slices).glom().collect()
    )
    assert ours == theirs
    if not hasattr(data, "__len__"):
        # A one-shot iterator must be materialized exactly once, before slicing.
        assert sc.parallelize(iter(reusable), num_slices).glom().collect() == theirs


def _reusable(data):
    return data if hasattr(data, "__len__") else list(data)


RANGES = [
    range(0),
    range(5, 5),
    range(5, 0),
    range(0, 5, -1),
    range(1),
    range(10),
    range(0, 10, 3),
    range(10, 0, -1),
    range(10, -11, -3),
    range(-7, 13, 4),
    range(0, -100, -7),
    range(5, 100, 200),
    range(5, 0, -10),
    range(1000),
    range(1025, 0, -1),
]


@pytest.mark.parametrize("values", RANGES, ids=repr)
@pytest.mark.parametrize("num_slices", NUM_SLICES)
def test_parallelize_range_slicing_matches_pyspark(sc, pyspark_sc, values, num_slices):
    ours, theirs = _both_glom(sc, pyspark_sc, lambda ctx: ctx.parallelize(values, num_slices))
    assert ours == theirs
    assert range_slice_model(values, num_slices) == theirs
    # A range and the list of its elements may be sliced differently; both must match PySpark.
    as_list = list(values)
    ours, theirs = _both_glom(sc, pyspark_sc, lambda ctx: ctx.parallelize(as_list, num_slices))
    assert ours == theirs


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((5,), {}),
        ((2, 4), {}),
        ((1, 7, 2), {}),
        ((10, 0, -2), {}),
        ((0,), {}),
        ((3, 3), {}),
        ((5, 0), {}),
        ((-3, 3), {"numSlices": 4}),
        ((10,), {"numSlices": 16}),
        ((100, -100, -7), {"numSlices": 7}),
        ((0, 2500, 1), {"numSlices": 3}),
    ],
    ids=repr,
)
def test_context_range_matches_pyspark(sc, pyspark_sc, args, kwargs):
    ours, theirs = _both_glom(sc, pyspark_sc, lambda ctx: ctx.range(*args, **kwargs))
    assert ours == theirs


@pytest.mark.parametrize(
    "values, num_slices",
    [
        (range(0, 3 * 10**16 + 1), 7),
        (range(10**18, -(10**18), -3), 5),
        (range(-(2**62), 2**62, 2**40 + 1), 3),
        (range(0, 10**17, 7), 16),
    ],
    ids=repr,
)
def test_huge_range_partition_boundaries_match_pyspark(sc, pyspark_sc, values, num_slices):
    # Too big to collect: compare each partition's first element and length. The split points
    # come from float arithmetic (int(i * size / numSlices)), so rounding must agree too.
    def first_and_length(iterator):
        iterator = iter(iterator)
        length = operator.length_hint(iterator)
        return [(next(iterator, None), length)]

    def boundaries(ctx):
        return ctx.parallelize(values, num_slices).mapPartitions(first_and_length).collect()

    ours, theirs = boundaries(sc), pyspark_sc.run(boundaries)
    assert ours == theirs
    # Beyond 2**53 elements PySpark's float split points drop the last few elements (its
    # partitions' lengths sum to less than len(values)); matching PySpark means doing the same.
    assert _range_boundaries(sc, values, num_slices, first_and_length) == theirs


def _range_boundaries(sc, values: range, num_slices: int, summarize) -> list:
    return (
        sc.range(values.start, values.stop, values.step, num_slices)
        .mapPartitions(summarize)
        .collect()
    )
