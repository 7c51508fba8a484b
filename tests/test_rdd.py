"""Tests for the core RDD API (sparkish/rdd.py), checked against plain-Python models.

Every RDD under test comes with its *layout*: the list of its partitions, each a list of
elements, derived independently of sparkish (from the layout itself, or from PySpark's slicing
rule, which tests/test_rdd_slicing.py checks against a real PySpark context). The expected
result of each method is computed from the layout in plain Python, following the semantics of
PySpark's ``pyspark/core/rdd.py``.

Error handling (bad arguments, user exceptions, unpicklable closures) is in
tests/test_rdd_errors.py.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import pickle
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.statcounter import StatCounter as PySparkStatCounter

from sparkish import RDD, SparkContext, StorageLevel
from tests.pyspark_oracle import PySparkOracle


@pytest.fixture
def sc(sc_in_both_grouping_modes):
    """This suite runs with partitions grouped into tasks and with one task per partition."""
    return sc_in_both_grouping_modes


HYPOTHESIS_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Random layouts: up to 6 partitions (0 partitions is an emptyRDD) of up to 6 small integers,
# so empty partitions, one partition and more partitions than elements all come up often.
layouts = st.lists(st.lists(st.integers(-20, 20), max_size=6), max_size=6)


# --------------------------------------------------------------------------- models


def flatten(layout: list[list]) -> list:
    return [x for part in layout for x in part]


def slice_model(data: list, num_slices: int) -> list[list]:
    """PySpark's parallelize slicing: batches of min(len // numSlices, 1024) elements, then the
    batches split at positions ``i * batches // numSlices`` (Spark's ParallelCollectionRDD)."""
    batch = max(1, min(len(data) // num_slices, 1024))
    batches = [data[i : i + batch] for i in range(0, len(data), batch)]
    count = len(batches)
    return [
        flatten(batches[i * count // num_slices : (i + 1) * count // num_slices])
        for i in range(num_slices)
    ]


def range_slice_model(values: range, num_slices: int) -> list[list[int]]:
    """PySpark's parallelize(range(...)) slicing: ``start + int(i * size / numSlices) * step``."""
    size = len(values)
    if size == 0:
        return [[] for _ in range(num_slices)]
    step = values[1] - values[0] if size > 1 else 1

    def start_of(split: int) -> int:
        return values[0] + int(split * size / num_slices) * step

    return [list(range(start_of(i), start_of(i + 1), step)) for i in range(num_slices)]


def rdd_of(sc: SparkContext, layout: list[list]) -> RDD:
    """An RDD whose partitions are exactly ``layout`` (an emptyRDD for an empty layout).

    One list per slice: parallelize puts each of n elements in its own slice of n.
    """
    if not layout:
        return sc.emptyRDD()
    return sc.parallelize(layout, len(layout)).flatMap(lambda part: part)


@dataclass(frozen=True)
class Case:
    """A way to build an RDD, and the partitions it must have."""

    build: Callable[[SparkContext], RDD]
    layout: list

    @property
    def flat(self) -> list:
        return flatten(self.layout)


_SHUFFLED_40 = [(i * 17) % 40 - 13 for i in range(40)]

INT_CASES = [
    pytest.param(Case(lambda sc: sc.emptyRDD(), []), id="emptyRDD-no-partitions"),
    pytest.param(Case(lambda sc: sc.parallelize([], 3), [[], [], []]), id="empty-3-partitions"),
    pytest.param(
        Case(lambda sc: sc.parallelize([3, 1, 4, 1, 5, 9, 2, 6], 1), [[3, 1, 4, 1, 5, 9, 2, 6]]),
        id="one-partition",
    ),
    pytest.param(
        Case(
            lambda sc: rdd_of(sc, [[], [5, -3], [], [], [8], [1, 1], []]),
            [[], [5, -3], [], [], [8], [1, 1], []],
        ),
        id="empty-partitions-between",
    ),
    pytest.param(
        Case(lambda sc: sc.parallelize([7, -2, 9], 8), slice_model([7, -2, 9], 8)),
        id="more-partitions-than-elements",
    ),
    pytest.param(Case(lambda sc: sc.parallelize([42], 1), [[42]]), id="single-element"),
    pytest.param(
        Case(lambda sc: sc.range(-5, 20, 3, 4), range_slice_model(range(-5, 20, 3), 4)),
        id="range",
    ),
    pytest.param(
        Case(lambda sc: sc.parallelize(_SHUFFLED_40, 5), slice_model(_SHUFFLED_40, 5)),
        id="forty-in-five",
    ),
    pytest.param(
        # Batches of 6, so the last slice gets two batches: [6, 6, 6, 7] elements.
        Case(lambda sc: sc.parallelize(_SHUFFLED_40[:25], 4), slice_model(_SHUFFLED_40[:25], 4)),
        id="uneven-batches",
    ),
]

NONE_LAYOUT = [[None, 1], [None], [], [2, None, None]]


def _assert_context_usable(sc: SparkContext) -> None:
    assert sc.parallelize(range(10), 3).map(lambda x: x * 2).sum() == 90


# --------------------------------------------------------------------------- identity


def test_rdd_of_builds_the_requested_partitions(sc):
    for layout in ([[1], [], [2, 3]], [[]], [[None]], [[], []]):
        assert rdd_of(sc, layout).glom().collect() == layout


@pytest.mark.parametrize("case", INT_CASES)
def test_getNumPartitions_and_glom_match_layout(sc, case):
    rdd = case.build(sc)
    assert rdd.getNumPartitions() == len(case.layout)
    assert rdd.glom().collect() == case.layout


def test_id_is_unique_int_and_stable(sc):
    base = sc.parallelize([1, 2, 3], 2)
    rdds = [base, base.map(str), base.filter(bool), base.union(base), sc.emptyRDD(), sc.range(3)]
    ids = [rdd.id() for rdd in rdds]
    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == len(ids)
    assert [rdd.id() for rdd in rdds] == ids
    base.collect()
    assert base.id() == ids[0]


def test_name_and_setName(sc):
    rdd = sc.parallelize([1, 2], 2)
    assert rdd.name() is None
    assert rdd.setName("numbers") is rdd
    assert rdd.name() == "numbers"
    assert rdd.setName("renamed").name() == "renamed"
    assert b"renamed" in rdd.toDebugString()
    assert rdd.map(str).name() is None


def test_context_is_the_creating_context(sc):
    rdd = sc.parallelize([1, 2])
    assert rdd.context is sc
    assert rdd.map(str).filter(bool).context is sc
    assert sc.emptyRDD().context is sc


def test_toDebugString_is_bytes_describing_the_lineage(sc):
    left = sc.parallelize(range(4), 2)
    right = sc.parallelize([5], 1)
    rdd = left.union(right).map(str).setName("lineage-test")
    text = rdd.toDebugString()
    assert isinstance(text, bytes)
    lines = text.decode("utf-8").splitlines()
    assert lines[0].startswith("(3) ")
    assert "lineage-test" in lines[0]
    assert f"[{rdd.id()}]" in lines[0]
    assert lines[0].endswith("[]")  # not persisted
    assert all(line.startswith(" |  ") for line in lines[1:])
    rest = "\n".join(lines[1:])
    assert f"[{right.id()}]" in rest


def test_toDebugString_shows_the_storage_level(sc):
    rdd = sc.parallelize([1, 2], 2).map(str).cache()
    first_line = rdd.toDebugString().decode().splitlines()[0]
    assert first_line.endswith(f"[{StorageLevel.MEMORY_ONLY}]")
    assert first_line.endswith("[Memory Serialized 1x Replicated]")


# --------------------------------------------------------------------------- persistence


def test_storage_level_defaults_to_none(sc):
    rdd = sc.parallelize([1])
    assert rdd.getStorageLevel() == StorageLevel(False, False, False, False, 1)
    assert rdd.is_cached is False


def test_cache_is_persist_memory_only_and_returns_self(sc):
    rdd = sc.parallelize([1, 2, 3])
    assert rdd.cache() is rdd
    assert rdd.is_cached is True
    assert rdd.getStorageLevel() == StorageLevel.MEMORY_ONLY
    assert str(rdd.getStorageLevel()) == "Memory Serialized 1x Replicated"
    other = sc.parallelize([1])
    assert other.persist() is other
    assert other.getStorageLevel() == StorageLevel.MEMORY_ONLY


PERSIST_LEVELS = [
    pytest.param(None, id="cache"),
    pytest.param(StorageLevel.MEMORY_ONLY, id="MEMORY_ONLY"),
    pytest.param(StorageLevel.MEMORY_AND_DISK, id="MEMORY_AND_DISK"),
    pytest.param(StorageLevel.DISK_ONLY, id="DISK_ONLY"),
    pytest.param(StorageLevel.MEMORY_ONLY_2, id="MEMORY_ONLY_2"),
]


@pytest.mark.parametrize("level", PERSIST_LEVELS)
def test_persisted_partitions_are_computed_once(sc, level):
    data = list(range(30))
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x * 2

    rdd = sc.parallelize(data, 4).map(record)
    rdd = rdd.cache() if level is None else rdd.persist(level)
    assert rdd.is_cached
    assert rdd.getStorageLevel() == (StorageLevel.MEMORY_ONLY if level is None else level)
    expected = [x * 2 for x in data]
    assert rdd.count() == len(data)
    first_job_tasks = sc._runtime.jobs.completed[-1].task_count
    assert computed.value == len(data)
    assert rdd.collect() == expected
    # The second job reads the persisted partitions: no task upstream of them.
    assert sc._runtime.jobs.completed[-1].task_count < first_job_tasks
    assert sc._runtime.jobs.completed[-1].task_count == first_job_tasks // 2
    assert rdd.map(lambda x: x + 1).sum() == sum(expected) + len(data)
    assert rdd.glom().collect() == slice_model(expected, 4)
    assert computed.value == len(data)
    rdd.unpersist()


def test_partially_computed_cache_is_reused(sc):
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x

    rdd = sc.parallelize(range(20), 4).map(record).cache()
    assert rdd.take(2) == [0, 1]
    assert computed.value == 5  # only partition 0 was computed
    assert rdd.collect() == list(range(20))
    assert computed.value == 20
    rdd.unpersist()


def test_unpersist_recomputes_and_resets_level(sc):
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x

    rdd = sc.parallelize(range(10), 2).map(record).persist(StorageLevel.MEMORY_AND_DISK)
    assert rdd.sum() == 45
    assert rdd.sum() == 45
    assert computed.value == 10
    assert rdd.unpersist() is rdd
    assert rdd.is_cached is False
    assert rdd.getStorageLevel() == StorageLevel.NONE
    assert rdd.sum() == 45
    assert computed.value == 20
    # Unpersisting an RDD that was never persisted is harmless.
    plain = sc.parallelize([1])
    assert plain.unpersist() is plain
    assert plain.collect() == [1]


def test_persist_cannot_change_an_assigned_level(sc):
    rdd = sc.parallelize([1, 2]).persist(StorageLevel.MEMORY_ONLY)
    with pytest.raises(Exception, match="Cannot change storage level"):
        rdd.persist(StorageLevel.DISK_ONLY)
    assert rdd.persist(StorageLevel.MEMORY_ONLY).getStorageLevel() == StorageLevel.MEMORY_ONLY
    rdd.unpersist()
    assert rdd.persist(StorageLevel.DISK_ONLY).getStorageLevel() == StorageLevel.DISK_ONLY
    assert rdd.collect() == [1, 2]
    rdd.unpersist()


@pytest.mark.parametrize("case", INT_CASES)
def test_cache_of_edge_cases(sc, case):
    rdd = case.build(sc).cache()
    assert rdd.collect() == case.flat
    assert rdd.glom().collect() == case.layout
    assert rdd.count() == len(case.flat)
    rdd.unpersist()


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_writes_files_and_cuts_the_lineage(sc, tmp_path):
    sc.setCheckpointDir(str(tmp_path))
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x * 10

    source = sc.parallelize(range(12), 3)
    rdd = source.map(record)
    assert rdd.checkpoint() is None
    assert rdd.isCheckpointed() is False
    assert rdd.getCheckpointFile() is None
    assert rdd.collect() == [x * 10 for x in range(12)]
    assert rdd.isCheckpointed() is True
    assert rdd.isLocallyCheckpointed() is False
    checkpoint_file = rdd.getCheckpointFile()
    assert isinstance(checkpoint_file, str)
    local_path = checkpoint_file.removeprefix("file:")
    assert local_path.startswith(str(tmp_path))
    assert os.path.isdir(local_path)
    assert len(os.listdir(local_path)) >= 3
    after_checkpoint = computed.value
    # Later jobs read the checkpoint files instead of recomputing the lineage.
    assert rdd.glom().collect() == [[x * 10 for x in part] for part in slice_model(range(12), 3)]
    assert rdd.map(lambda x: x + 1).sum() == sum(x * 10 + 1 for x in range(12))
    assert computed.value == after_checkpoint
    debug = rdd.toDebugString().decode()
    assert f"[{source.id()}]" not in debug
    assert "Checkpoint" in debug


def test_checkpoint_of_edge_cases(sc, tmp_path):
    sc.setCheckpointDir(str(tmp_path))
    for layout in ([[], []], [[1], [], [2, 3]], [[None]]):
        rdd = rdd_of(sc, layout)
        rdd.checkpoint()
        assert rdd.count() == len(flatten(layout))
        assert rdd.isCheckpointed()
        assert rdd.glom().collect() == layout


def test_checkpoint_of_a_cached_rdd_reads_the_cached_partitions(sc, tmp_path):
    sc.setCheckpointDir(str(tmp_path))
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x

    rdd = sc.parallelize(range(10), 2).map(record).cache()
    rdd.checkpoint()
    assert rdd.count() == 10
    assert rdd.isCheckpointed()
    assert rdd.collect() == list(range(10))
    assert computed.value == 10
    rdd.unpersist()
    assert rdd.collect() == list(range(10))  # from the checkpoint files
    assert computed.value == 10


def test_checkpoint_is_written_by_a_job_on_a_descendant(sc, tmp_path):
    sc.setCheckpointDir(str(tmp_path))
    parent = sc.parallelize(range(6), 3).map(lambda x: x + 1)
    parent.checkpoint()
    child = parent.map(lambda x: x * 2).filter(lambda x: x > 4)
    assert child.collect() == [6, 8, 10, 12]
    assert parent.isCheckpointed()
    assert parent.getCheckpointFile() is not None
    assert child.isCheckpointed() is False
    assert parent.glom().collect() == [[1, 2], [3, 4], [5, 6]]


def test_localCheckpoint_persists_and_cuts_the_lineage(sc):
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return -x

    rdd = sc.parallelize(range(9), 3).map(record)
    assert rdd.localCheckpoint() is None
    assert rdd.isLocallyCheckpointed() is True
    assert rdd.isCheckpointed() is False
    level = rdd.getStorageLevel()
    assert level.useDisk and level.useMemory
    assert rdd.collect() == [-x for x in range(9)]
    assert rdd.isCheckpointed() is True
    assert rdd.getCheckpointFile() is None
    assert rdd.sum() == -36
    assert computed.value == 9
    rdd.unpersist()


def test_localCheckpoint_of_a_cached_rdd_adds_disk(sc):
    rdd = sc.parallelize([1, 2], 2).cache()
    rdd.localCheckpoint()
    level = rdd.getStorageLevel()
    assert level.useDisk and level.useMemory
    assert rdd.collect() == [1, 2]
    rdd.unpersist()


# --------------------------------------------------------------------------- narrow transformations


def _check_narrow_transformations(rdd: RDD, layout: list[list]) -> None:
    def per_partition(function):
        return [function(part) for part in layout]

    assert rdd.map(lambda x: x * 3 + 1).glom().collect() == per_partition(
        lambda p: [x * 3 + 1 for x in p]
    )
    assert rdd.flatMap(lambda x: [x] * (x % 3)).glom().collect() == per_partition(
        lambda p: [x for x in p for _ in range(x % 3)]
    )
    assert rdd.flatMap(lambda x: iter(range(x % 2))).collect() == [
        y for x in flatten(layout) for y in range(x % 2)
    ]
    assert rdd.filter(lambda x: x % 2 == 0).glom().collect() == per_partition(
        lambda p: [x for x in p if x % 2 == 0]
    )
    assert rdd.mapPartitions(lambda it: [sum(it), -1]).glom().collect() == per_partition(
        lambda p: [sum(p), -1]
    )
    assert rdd.mapPartitions(lambda it: (x for x in it if x > 0)).collect() == [
        x for x in flatten(layout) if x > 0
    ]
    assert rdd.mapPartitionsWithIndex(lambda i, it: [(i, list(it))]).collect() == list(
        enumerate(layout)
    )
    assert rdd.keyBy(lambda x: x % 4).glom().collect() == per_partition(
        lambda p: [(x % 4, x) for x in p]
    )
    starts = [len(flatten(layout[:i])) for i in range(len(layout))]
    assert rdd.zipWithIndex().glom().collect() == [
        [(x, starts[i] + j) for j, x in enumerate(part)] for i, part in enumerate(layout)
    ]
    n = len(layout)
    assert rdd.zipWithUniqueId().glom().collect() == [
        [(x, j * n + i) for j, x in enumerate(part)] for i, part in enumerate(layout)
    ]
    assert rdd.glom().map(len).collect() == [len(p) for p in layout]
    chained = rdd.map(lambda x: x + 1).filter(lambda x: x % 3 != 0).map(lambda x: x * x)
    assert chained.collect() == [(x + 1) ** 2 for x in flatten(layout) if (x + 1) % 3 != 0]


def _check_pair_transformations(rdd: RDD, layout: list[list]) -> None:
    pairs = rdd.map(lambda x: (x % 3, x))
    pair_layout = [[(x % 3, x) for x in part] for part in layout]
    flat_pairs = flatten(pair_layout)
    assert pairs.keys().glom().collect() == [[k for k, _ in p] for p in pair_layout]
    assert pairs.values().glom().collect() == [[v for _, v in p] for p in pair_layout]
    assert pairs.mapValues(lambda v: -v).glom().collect() == [
        [(k, -v) for k, v in p] for p in pair_layout
    ]
    assert pairs.flatMapValues(lambda v: range(v % 3)).glom().collect() == [
        [(k, y) for k, v in p for y in range(v % 3)] for p in pair_layout
    ]
    assert pairs.countByKey() == Counter(k for k, _ in flat_pairs)
    assert pairs.collectAsMap() == dict(flat_pairs)
    for key in (0, 1, 2, 3):
        assert pairs.lookup(key) == [v for k, v in flat_pairs if k == key]


@pytest.mark.parametrize("case", INT_CASES)
def test_narrow_transformations_match_model(sc, case):
    _check_narrow_transformations(case.build(sc), case.layout)


@pytest.mark.parametrize("case", INT_CASES)
def test_pair_methods_match_model(sc, case):
    _check_pair_transformations(case.build(sc), case.layout)


@HYPOTHESIS_SETTINGS
@given(layout=layouts)
def test_narrow_transformations_match_model_on_random_layouts(sc, layout):
    rdd = rdd_of(sc, layout)
    _check_narrow_transformations(rdd, layout)
    _check_pair_transformations(rdd, layout)


def test_transformations_are_lazy(sc):
    calls = sc.accumulator(0)

    def record(*args):
        calls.add(1)
        return [args[-1]]

    rdd = sc.parallelize(range(10), 2)
    derived = [
        rdd.map(record),
        rdd.flatMap(record),
        rdd.filter(record),
        rdd.mapPartitions(record),
        rdd.mapPartitionsWithIndex(record),
        rdd.keyBy(record),
        rdd.map(lambda x: (x, x)).mapValues(record),
        rdd.map(lambda x: (x, x)).flatMapValues(record),
        rdd.map(record).glom().union(rdd.map(record)).coalesce(1),
        rdd.map(record).cartesian(rdd).zipWithUniqueId(),
        rdd.map(record).sample(False, 0.5, 1),
        rdd.map(record).pipe("cat"),
    ]
    assert len(derived) == 12
    assert calls.value == 0
    assert derived[0].count() == 10
    assert calls.value == 10


class _AddOffset:
    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __call__(self, x: int) -> int:
        return x + self.offset


def test_builtins_partials_and_callable_objects_as_functions(sc):
    rdd = sc.parallelize(range(-3, 9), 3)
    data = list(range(-3, 9))
    assert rdd.map(operator.neg).collect() == [-x for x in data]
    assert rdd.map(functools.partial(pow, 2)).collect() == [2**x for x in data]
    assert rdd.filter(bool).collect() == [x for x in data if x]
    assert rdd.map(_AddOffset(10)).collect() == [x + 10 for x in data]
    assert rdd.map(str).flatMap(list).collect() == [c for x in data for c in str(x)]
    assert rdd.keyBy(abs).mapValues(_AddOffset(1)).values().collect() == [x + 1 for x in data]
    assert rdd.reduce(operator.mul) == math.prod(data)
    assert rdd.fold(0, operator.add) == sum(data)
    assert rdd.max(key=abs) == max(data, key=abs)
    assert rdd.mapPartitions(sorted).glom().collect() == [sorted(p) for p in slice_model(data, 3)]


class _Meters(float):
    """A float subclass: adding it must go through its own ``__radd__``."""

    def __radd__(self, other):
        return f"{other}+{float(self)}m"


@pytest.mark.parametrize(
    "partitions",
    [
        [[10**16, 1.0, -(10**16)]],  # a left fold gives 0.0; compensated summation gives 1.0
        [[1e16, 1.0, -1e16, 0.1, 0.1, 0.1], [0.1] * 10],
        [[1, True, 2.5], [False], [2**62, 2**62, 2**62]],  # bools add as ints; past 64 bits
        [[], [3, 4], []],
        [["a", "b"], ["c"]],  # str: sum() would refuse them
        [[(1,), (2,)], [(3,)]],
        [[1.5, 2], [Fraction(1, 3), 1]],
        [[1, 2.0, _Meters(3.0)]],
    ],
    ids=[
        "cancelling-floats",
        "float-rounding",
        "ints-bools",
        "empty",
        "str",
        "tuple",
        "mixed",
        "float-subclass",
    ],
)
def test_reduce_with_add_is_the_left_fold_of_add(sc, partitions):
    # PySpark's reduce is functools.reduce(operator.add) per partition, then over the partials.
    rdd = sc.parallelize([x for part in partitions for x in part], 1)
    layout = sc.union([sc.parallelize(part, 1) for part in partitions])
    partials = [functools.reduce(operator.add, part) for part in partitions if part]
    expected = functools.reduce(operator.add, partials)
    got = layout.reduce(operator.add)
    assert got == expected and type(got) is type(expected)
    flat = functools.reduce(operator.add, [x for part in partitions for x in part])
    assert rdd.reduce(operator.add) == flat


def test_jobs_from_several_threads_share_a_cached_rdd(sc):
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x * 2

    base = sc.parallelize(range(1000), 8).map(record).cache()
    results: dict[int, object] = {}

    def run(offset: int) -> None:
        try:
            results[offset] = base.map(lambda x: x + offset).sum()
        except Exception as error:  # reported below, in the test's thread
            results[offset] = error

    threads = [threading.Thread(target=run, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {offset: 999_000 + 1000 * offset for offset in range(4)}
    assert base.count() == 1000
    # Concurrent first jobs may each compute a partition; later jobs reuse it.
    settled = computed.value
    assert base.sum() == 999_000
    assert computed.value == settled
    base.unpersist()


def test_partitioner_kept_only_by_partitioning_preserving_transformations(sc):
    partitioned = sc.parallelize([(i, i) for i in range(8)], 2).partitionBy(3)
    assert partitioned.partitioner is not None
    for kept in (
        partitioned.filter(lambda kv: kv[0] > 2),
        partitioned.mapValues(str),
        partitioned.flatMapValues(lambda v: [v]),
        partitioned.map(lambda kv: kv, preservesPartitioning=True),
        partitioned.mapPartitions(lambda it: it, preservesPartitioning=True),
    ):
        assert kept.partitioner == partitioned.partitioner
    for dropped in (
        partitioned.map(lambda kv: kv),
        partitioned.flatMap(lambda kv: [kv]),
        partitioned.mapPartitions(lambda it: it),
        partitioned.keyBy(lambda kv: kv[0]),
    ):
        assert dropped.partitioner is None


def test_none_elements(sc):
    layout = NONE_LAYOUT
    flat = flatten(layout)
    rdd = rdd_of(sc, layout)
    assert rdd.collect() == flat
    assert rdd.count() == len(flat)
    assert rdd.first() is None
    assert rdd.take(3) == flat[:3]
    assert rdd.isEmpty() is False
    assert rdd.map(lambda x: x is None).glom().collect() == [[x is None for x in p] for p in layout]
    assert rdd.filter(lambda x: x is None).count() == flat.count(None)
    assert rdd.flatMap(lambda x: [x, x]).collect() == [y for x in flat for y in (x, x)]
    assert rdd.keyBy(lambda x: x).lookup(None) == [None] * flat.count(None)
    assert rdd.map(lambda x: (x, 1)).countByKey() == Counter(flat)
    assert rdd.map(lambda x: (x, x)).collectAsMap() == {x: x for x in flat}
    assert rdd.countByValue() == Counter(flat)
    assert rdd.zipWithIndex().collect() == [(x, i) for i, x in enumerate(flat)]
    assert rdd.zip(rdd.map(lambda x: x)).collect() == [(x, x) for x in flat]
    assert rdd.union(rdd).collect() == flat + flat
    assert rdd.coalesce(2).collect() == flat
    assert rdd.pipe("cat").collect() == [str(x) for x in flat]
    assert list(rdd.toLocalIterator()) == flat
    assert rdd.cartesian(sc.parallelize([None], 1)).collect() == [(x, None) for x in flat]
    assert rdd.sample(False, 1.0, 3).collect() == flat
    assert rdd.takeOrdered(2, key=lambda x: (x is not None, x)) == [None, None]
    assert rdd.top(1, key=lambda x: -1 if x is None else x) == [2]
    assert rdd.max(key=lambda x: x is None) is None
    assert rdd.reduce(lambda a, b: a if a is not None else b) == 1
    assert rdd.fold(0, lambda a, b: a + (b or 0)) == 3


# --------------------------------------------------------------------------- zip, union...


@pytest.mark.parametrize("case", INT_CASES)
def test_zip_pairs_elements_partition_by_partition(sc, case):
    rdd = case.build(sc)
    layout = case.layout
    assert rdd.zip(rdd.map(lambda x: x * 2)).glom().collect() == [
        [(x, x * 2) for x in p] for p in layout
    ]
    twin = rdd_of(sc, [[str(x) for x in p] for p in layout])
    assert rdd.zip(twin).collect() == [(x, str(x)) for x in case.flat]


def test_zip_of_different_partition_counts_raises(sc):
    with pytest.raises(ValueError, match="same number of partitions"):
        sc.parallelize([1, 2, 3], 2).zip(sc.parallelize([1, 2, 3], 3))
    with pytest.raises(ValueError, match="same number of partitions"):
        sc.emptyRDD().zip(sc.parallelize([], 1))
    _assert_context_usable(sc)


@pytest.mark.parametrize(
    "left, right",
    [
        ([[1, 2], [3]], [[1, 2], [3, 4]]),  # extra element on the right, last partition
        ([[1, 2], [3]], [[1], [2, 3]]),  # same total, different split
        ([[1], [], [2]], [[1], [5], [2]]),  # an empty partition against a non-empty one
        ([[1, 2, 3]], [[1]]),  # extra elements on the left
    ],
)
def test_zip_of_different_partition_sizes_raises_at_action(sc, left, right):
    zipped = rdd_of(sc, left).zip(rdd_of(sc, right))
    with pytest.raises(ValueError, match="same number of elements in each partition"):
        zipped.collect()
    _assert_context_usable(sc)


@pytest.mark.parametrize("case", INT_CASES)
def test_union_concatenates_partitions(sc, case):
    rdd = case.build(sc)
    other_layout = [[100], [], [101, 102]]
    other = rdd_of(sc, other_layout)
    for union in (rdd.union(other), rdd + other):
        assert union.getNumPartitions() == len(case.layout) + 3
        assert union.glom().collect() == case.layout + other_layout
    assert other.union(rdd).collect() == [100, 101, 102] + case.flat
    assert (rdd + rdd).glom().collect() == case.layout + case.layout
    assert rdd.union(sc.emptyRDD()).glom().collect() == case.layout
    assert sc.union([rdd, other, rdd]).collect() == case.flat + [100, 101, 102] + case.flat


def test_union_with_a_non_rdd_raises_type_error(sc):
    rdd = sc.parallelize([1])
    with pytest.raises(TypeError):
        rdd + [2]  # noqa: B018
    with pytest.raises(TypeError):
        rdd.union([2])
    _assert_context_usable(sc)


@pytest.mark.parametrize("case", INT_CASES)
def test_cartesian_pairs_every_partition_pair(sc, case):
    rdd = case.build(sc)
    right_layout = [["a"], [], ["b", "c"]]
    result = rdd.cartesian(rdd_of(sc, right_layout))
    assert result.getNumPartitions() == len(case.layout) * 3
    assert result.glom().collect() == [
        [(x, y) for x in left for y in right] for left in case.layout for right in right_layout
    ]
    assert sorted(rdd.cartesian(rdd).collect()) == sorted(
        (x, y) for x in case.flat for y in case.flat
    )


def _coalesce_model(layout: list[list], num_partitions: int) -> list[list]:
    count = min(num_partitions, len(layout))
    return [
        flatten(layout[i * len(layout) // count : (i + 1) * len(layout) // count])
        for i in range(count)
    ]


@pytest.mark.parametrize("case", INT_CASES)
@pytest.mark.parametrize("num_partitions", [1, 2, 3, 8, 50])
def test_coalesce_without_shuffle_merges_neighbours(sc, case, num_partitions):
    coalesced = case.build(sc).coalesce(num_partitions)
    expected = _coalesce_model(case.layout, num_partitions) if case.layout else []
    assert coalesced.getNumPartitions() == len(expected)
    assert coalesced.glom().collect() == expected


@HYPOTHESIS_SETTINGS
@given(layout=layouts, num_partitions=st.integers(1, 8))
def test_coalesce_on_random_layouts(sc, layout, num_partitions):
    expected = _coalesce_model(layout, num_partitions) if layout else []
    assert rdd_of(sc, layout).coalesce(num_partitions, shuffle=False).glom().collect() == expected


# --------------------------------------------------------------------------- sampling


def _is_subsequence(sample: list, source: list) -> bool:
    position = iter(source)
    return all(any(x == y for y in position) for x in sample)


def _is_repetition_of_subsequence(sample: list, source: list) -> bool:
    """Whether ``sample`` is ``source`` with each element repeated zero or more times, in order."""
    i = 0
    for element in source:
        while i < len(sample) and sample[i] == element:
            i += 1
    return i == len(sample)


def test_sample_without_replacement_keeps_order_and_partitions(sc):
    layout = slice_model(list(range(2000)), 4)
    rdd = sc.parallelize(list(range(2000)), 4)
    sample = rdd.sample(False, 0.3, 11)
    parts = sample.glom().collect()
    assert len(parts) == 4
    assert all(_is_subsequence(s, p) for s, p in zip(parts, layout))
    assert sample.glom().collect() == parts  # a seeded sample is the same every time
    # 2000 Bernoulli(0.3) draws: mean 600, sd ~20.5; 6 sd either side.
    assert 477 <= len(flatten(parts)) <= 723
    assert rdd.sample(False, 0.3, 12).collect() != flatten(parts)
    assert rdd.sample(False, 0.0, 1).collect() == []
    assert rdd.sample(False, 1.0, 1).collect() == list(range(2000))


def test_sample_with_replacement_repeats_elements_in_place(sc):
    layout = slice_model(list(range(3000)), 3)
    rdd = sc.parallelize(list(range(3000)), 3)
    for fraction in (0.5, 2.0):
        sample = rdd.sample(True, fraction, 5)
        parts = sample.glom().collect()
        assert all(_is_repetition_of_subsequence(s, p) for s, p in zip(parts, layout))
        total = len(flatten(parts))
        expected, sd = 3000 * fraction, math.sqrt(3000 * fraction)  # Poisson counts
        assert expected - 6 * sd <= total <= expected + 6 * sd
        assert sample.collect() == flatten(parts)


def test_sample_draws_independently_in_each_partition(sc):
    # Eight identical partitions: identical selections would mean one seed for all of them.
    rdd = sc.parallelize(list(range(50)) * 8, 8)
    kept = rdd.sample(False, 0.5, 3).glom().collect()
    assert len({tuple(part) for part in kept}) > 1


@pytest.mark.parametrize("case", INT_CASES)
def test_sample_of_edge_cases(sc, case):
    rdd = case.build(sc)
    assert rdd.sample(False, 1.0, 2).glom().collect() == case.layout
    assert rdd.sample(False, 0.0, 2).collect() == []
    for with_replacement in (False, True):
        parts = rdd.sample(with_replacement, 0.5).glom().collect()
        assert len(parts) == len(case.layout)
        assert all(_is_repetition_of_subsequence(s, p) for s, p in zip(parts, case.layout))


@pytest.mark.parametrize("seed", [7, None])
def test_randomSplit_partitions_the_data(sc, seed):
    data = list(range(6000))
    layout = slice_model(data, 3)
    rdd = sc.parallelize(data, 3)
    splits = rdd.randomSplit([1, 2, 3], seed)
    assert len(splits) == 3
    split_layouts = [split.glom().collect() for split in splits]
    for index, part in enumerate(layout):
        pieces = [split_layout[index] for split_layout in split_layouts]
        assert all(_is_subsequence(piece, part) for piece in pieces)
        assert sorted(flatten(pieces)) == part
    for split_layout, weight in zip(split_layouts, (1, 2, 3)):
        size = len(flatten(split_layout))
        expected = 6000 * weight / 6
        sd = math.sqrt(6000 * weight / 6 * (1 - weight / 6))
        assert expected - 6 * sd <= size <= expected + 6 * sd
    # Each split recomputes its lineage, and must find the same elements again.
    assert [split.glom().collect() for split in splits] == split_layouts


@pytest.mark.parametrize("case", INT_CASES)
def test_randomSplit_of_edge_cases(sc, case):
    splits = case.build(sc).randomSplit([0.5, 0.5], 1)
    assert sorted(splits[0].collect() + splits[1].collect()) == sorted(case.flat)
    (whole,) = case.build(sc).randomSplit([3.0], 1)
    assert whole.glom().collect() == case.layout


# --------------------------------------------------------------------------- pipe


@pytest.mark.parametrize("case", INT_CASES)
def test_pipe_through_cat(sc, case):
    piped = case.build(sc).pipe("cat")
    assert piped.glom().collect() == [[str(x) for x in p] for p in case.layout]


def test_pipe_splits_lines_and_strips_newlines(sc):
    rdd = rdd_of(sc, [["a\nb", "c\n", "", None, 5], ["ü"]])
    assert rdd.pipe("cat").glom().collect() == [["a", "b", "c", "", "None", "5"], ["ü"]]


def test_pipe_env_is_the_whole_environment_of_the_command(sc):
    rdd = sc.parallelize([1, 2, 3], 3)
    env = {"SPARKISH_PIPE_TEST": "value with spaces"}
    assert (
        rdd.pipe("env", env=env).glom().collect() == [["SPARKISH_PIPE_TEST=value with spaces"]] * 3
    )
    assert rdd.pipe("env").collect() == []
    assert (
        rdd.pipe("sh -c 'echo $SPARKISH_PIPE_TEST'", env=env).collect() == ["value with spaces"] * 3
    )


def test_pipe_checkCode(sc):
    rdd = sc.parallelize(["x", "y"], 2)
    assert rdd.pipe("false").collect() == []
    assert rdd.pipe("sh -c 'cat; exit 3'").collect() == ["x", "y"]
    with pytest.raises(RuntimeError, match="exited with error code 1"):
        rdd.pipe("false", checkCode=True).collect()
    with pytest.raises(RuntimeError, match="exited with error code 3"):
        rdd.pipe("sh -c 'cat; exit 3'", checkCode=True).collect()
    assert rdd.pipe("cat", checkCode=True).collect() == ["x", "y"]
    _assert_context_usable(sc)


def test_pipe_streams_partitions_larger_than_the_pipe_buffer(sc):
    # Megabytes per partition: writing all input before reading output would deadlock.
    piped = sc.parallelize(range(200_000), 2).pipe("cat").collect()
    assert piped == [str(x) for x in range(200_000)]
    # A command that exits without reading its input is not an error.
    early_exit = sc.parallelize(range(100_000), 2).pipe("head -n 1", checkCode=True)
    assert early_exit.collect() == ["0", "50000"]


def test_pipe_of_a_missing_command_raises(sc):
    with pytest.raises(FileNotFoundError):
        sc.parallelize([1]).pipe("sparkish-no-such-command").collect()
    _assert_context_usable(sc)


# --------------------------------------------------------------------------- actions


def _take_scan_model(matches_per_partition: list[int], num: int, scale_up: int = 4) -> int:
    """How many partitions PySpark's take(num) computes (its scan loop, in plain Python)."""
    total = len(matches_per_partition)
    found = scanned = 0
    while found < num and scanned < total:
        to_try = 1
        if scanned > 0:
            if found == 0:
                to_try = scanned * scale_up
            else:
                to_try = int(1.5 * num * scanned / found) - scanned
                to_try = min(max(to_try, 1), scanned * scale_up)
        left = num - found
        for split in range(scanned, min(scanned + to_try, total)):
            found += min(left, matches_per_partition[split])
        scanned += to_try
    return min(scanned, total)


def _check_collecting_actions(rdd: RDD, layout: list[list]) -> None:
    flat = flatten(layout)
    assert rdd.collect() == flat
    assert rdd.count() == len(flat)
    assert rdd.isEmpty() is (not flat)
    for num in sorted({0, 1, 2, len(flat) // 2, len(flat), len(flat) + 3}):
        assert rdd.take(num) == flat[:num]
    if flat:
        assert rdd.first() == flat[0]
    else:
        with pytest.raises(ValueError, match="RDD is empty"):
            rdd.first()
    assert list(rdd.toLocalIterator()) == flat
    assert list(rdd.toLocalIterator(prefetchPartitions=True)) == flat
    assert rdd.countByValue() == Counter(flat)
    context = rdd.context
    assert context.runJob(rdd, lambda it: [sum(it)]) == [sum(p) for p in layout]
    if layout:
        last = len(layout) - 1
        assert context.runJob(rdd, lambda it: list(it), [last, 0]) == layout[last] + layout[0]


def _check_ordering_actions(rdd: RDD, layout: list[list]) -> None:
    flat = flatten(layout)
    for num in sorted({0, 1, 3, len(flat), len(flat) + 2}):
        assert rdd.takeOrdered(num) == sorted(flat)[:num]
        assert rdd.takeOrdered(num, key=lambda x: -x) == sorted(flat, reverse=True)[:num]
        assert rdd.takeOrdered(num, key=abs) == sorted(flat, key=abs)[:num]
        if not layout:  # PySpark's top reduces per-partition results: none at all is an error
            with pytest.raises(ValueError, match="empty"):
                rdd.top(num)
            continue
        assert rdd.top(num) == sorted(flat, reverse=True)[:num]
        assert rdd.top(num, key=lambda x: -x) == sorted(flat)[:num]
        assert rdd.top(num, key=abs) == sorted(flat, key=abs, reverse=True)[:num]
    if flat:
        assert rdd.max() == max(flat)
        assert rdd.min() == min(flat)
        assert rdd.max(key=abs) == max(flat, key=abs)
        assert rdd.min(key=abs) == min(flat, key=abs)
        assert rdd.max(key=lambda x: -x) == min(flat)
    else:
        for action in (rdd.max, rdd.min):
            with pytest.raises(ValueError, match="empty"):
                action()


def _check_reductions(rdd: RDD, layout: list[list]) -> None:
    flat = flatten(layout)
    n = len(layout)
    add = operator.add
    if flat:
        assert rdd.reduce(add) == sum(flat)
        assert rdd.reduce(max) == max(flat)
        # A non-commutative reduction shows that partitions are combined in order.
        assert rdd.map(str).reduce(lambda a, b: a + "," + b) == ",".join(map(str, flat))
        for depth in (1, 2, 3):
            assert rdd.treeReduce(add, depth) == sum(flat)
    else:
        with pytest.raises(ValueError, match="Can not reduce\\(\\) empty RDD"):
            rdd.reduce(add)
        with pytest.raises(ValueError, match="empty"):
            rdd.treeReduce(add)
    assert rdd.fold(0, add) == sum(flat)
    # The zero value is folded into every partition and once more into the merged results.
    assert rdd.fold(1, add) == sum(flat) + n + 1
    assert rdd.map(str).fold("", add) == "".join(map(str, flat))
    assert rdd.aggregate((0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1), _add_pairs) == (
        sum(flat),
        len(flat),
    )

    def append(acc, x):
        acc.append(x)
        return acc

    def extend(a, b):
        a.extend(b)
        return a

    # Each partition must fold into its own copy of a mutable zero value.
    assert rdd.aggregate([], append, extend) == flat
    assert rdd.fold([], lambda a, b: a + (b if isinstance(b, list) else [b])) == flat
    for depth in (1, 2, 3):
        assert rdd.treeAggregate(
            (0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1), _add_pairs, depth
        ) == (sum(flat), len(flat))
    assert rdd.treeAggregate([], append, extend) == flat


def _add_pairs(a, b):
    return (a[0] + b[0], a[1] + b[1])


def _check_side_effect_actions(rdd: RDD, layout: list[list]) -> None:
    sc = rdd.context
    total = sc.accumulator(0)
    assert rdd.foreach(lambda x: total.add(x)) is None
    assert total.value == sum(flatten(layout))
    calls, seen = sc.accumulator(0), sc.accumulator(0)

    def consume(iterator):
        calls.add(1)
        for _ in iterator:
            seen.add(1)

    assert rdd.foreachPartition(consume) is None
    assert calls.value == len(layout)  # empty partitions too
    assert seen.value == len(flatten(layout))


def _check_numeric_actions(rdd: RDD, layout: list[list]) -> None:
    flat = flatten(layout)
    assert rdd.sum() == sum(flat)
    assert rdd.map(float).sum() == pytest.approx(sum(flat))
    if not layout:
        # PySpark's stats() reduces per-partition counters and so fails on an RDD without
        # partitions; what it returns there is left unspecified.
        return
    expected = PySparkStatCounter(flat)
    stats = rdd.stats()
    assert stats.count() == len(flat)
    for name in ("mean", "variance", "stdev", "sampleVariance", "sampleStdev", "max", "min"):
        _assert_same_float(getattr(stats, name)(), getattr(expected, name)(), name)
    for name in ("mean", "variance", "stdev", "sampleVariance", "sampleStdev"):
        _assert_same_float(getattr(rdd, name)(), getattr(expected, name)(), name)
    if flat:
        exact_mean = Fraction(sum(flat), len(flat))
        assert rdd.mean() == pytest.approx(float(exact_mean), rel=1e-12, abs=1e-12)
        exact_variance = sum((x - exact_mean) ** 2 for x in flat) / len(flat)
        assert rdd.variance() == pytest.approx(float(exact_variance), rel=1e-9, abs=1e-9)


def _assert_same_float(actual: float, expected: float, name: str) -> None:
    if math.isnan(expected):
        assert math.isnan(actual), name
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9), name


def _histogram_model(values: list, buckets: list) -> list[int]:
    counts = [0] * (len(buckets) - 1)
    for x in values:
        if x is None or x != x or x < buckets[0] or x > buckets[-1]:
            continue
        if x == buckets[-1]:
            counts[-1] += 1
            continue
        counts[max(i for i in range(len(buckets) - 1) if buckets[i] <= x)] += 1
    return counts


def _even_buckets_model(values: list, count: int) -> list:
    low, high = min(values), max(values)
    if (high - low) % count == 0:
        step = (high - low) // count
    else:
        step = (high - low) / count
    return [low + i * step for i in range(count)] + [high]


def _check_histogram(rdd: RDD, layout: list[list]) -> None:
    flat = flatten(layout)
    for buckets in ([-20, 0, 20], [-5, -1, 3, 4, 30], [0, 10], (-20, -10, 0, 10, 20)):
        if not layout:  # PySpark reduces per-partition counts: no partitions is an error
            with pytest.raises(ValueError, match="empty"):
                rdd.histogram(buckets)
            continue
        result_buckets, counts = rdd.histogram(buckets)
        assert result_buckets == buckets
        assert counts == _histogram_model(flat, list(buckets))
    for count in (1, 2, 3, 7):
        if not flat:
            with pytest.raises(ValueError):
                rdd.histogram(count)
            continue
        result_buckets, counts = rdd.histogram(count)
        if min(flat) == max(flat) or count == 1:
            assert (result_buckets, counts) == ([min(flat), max(flat)], [len(flat)])
            continue
        assert result_buckets == _even_buckets_model(flat, count)
        assert counts == _histogram_model(flat, result_buckets)


ACTION_CHECKS = [
    _check_collecting_actions,
    _check_ordering_actions,
    _check_reductions,
    _check_side_effect_actions,
    _check_numeric_actions,
    _check_histogram,
]


@pytest.mark.parametrize("check", ACTION_CHECKS, ids=lambda check: check.__name__[7:])
@pytest.mark.parametrize("case", INT_CASES)
def test_actions_match_model(sc, case, check):
    check(case.build(sc), case.layout)


@HYPOTHESIS_SETTINGS
@given(layout=layouts)
def test_actions_match_model_on_random_layouts(sc, layout):
    rdd = rdd_of(sc, layout)
    for check in ACTION_CHECKS:
        check(rdd, layout)


def test_take_one_of_a_hundred_partitions_computes_one_partition(sc):
    computed = sc.accumulator(0)

    def record(x):
        computed.add(1)
        return x

    rdd = sc.parallelize(range(100), 100).map(record)
    assert rdd.take(1) == [0]
    assert computed.value == 1
    assert sc._runtime.jobs.completed[-1].task_count == 1
    assert rdd.first() == 0
    assert rdd.isEmpty() is False
    assert computed.value == 3


@pytest.mark.parametrize(
    "predicate_name, num",
    [("all", 1), ("all", 10), ("late", 3), ("every_tenth", 2), ("none", 5), ("all", 100)],
)
def test_take_scans_partitions_like_pyspark(sc, predicate_name, num):
    predicates = {
        "all": lambda x: True,
        "late": lambda x: x >= 90,
        "every_tenth": lambda x: x % 10 == 0 and x > 0,
        "none": lambda x: False,
    }
    predicate = predicates[predicate_name]
    partitions_computed = sc.accumulator(0)

    def count_partition(index, iterator):
        partitions_computed.add(1)
        return iterator

    rdd = sc.parallelize(range(100), 100).mapPartitionsWithIndex(count_partition)
    matching = [x for x in range(100) if predicate(x)]
    assert rdd.filter(predicate).take(num) == matching[:num]
    expected = _take_scan_model([int(predicate(x)) for x in range(100)], num)
    assert partitions_computed.value == expected


def test_toLocalIterator_returns_an_iterator(sc):
    iterator = sc.parallelize(range(5), 2).toLocalIterator()
    assert next(iterator) == 0
    assert list(iterator) == [1, 2, 3, 4]


@pytest.mark.parametrize("prefetch", [False, True])
def test_toLocalIterator_streams_partitions(sc, prefetch):
    partitions_computed = sc.accumulator(0)

    def count_partition(iterator):
        partitions_computed.add(1)
        return iterator

    rdd = sc.parallelize(range(40), 8).mapPartitions(count_partition)
    iterator = iter(rdd.toLocalIterator(prefetchPartitions=prefetch))
    assert next(iterator) == 0
    iterator.close()
    # Without prefetching only partition 0 is computed; with it, at most the next one too.
    assert 1 <= partitions_computed.value <= (2 if prefetch else 1)
    assert list(rdd.toLocalIterator(prefetchPartitions=prefetch)) == list(range(40))


@pytest.mark.parametrize("prefetch", [False, True])
def test_toLocalIterator_yields_earlier_partitions_before_a_failing_one(sc, prefetch):
    def fail_on_five(x):
        if x == 5:
            raise ArithmeticError("five")
        return x

    rdd = sc.parallelize(range(6), 3).map(fail_on_five)
    iterator = iter(rdd.toLocalIterator(prefetchPartitions=prefetch))
    received = []
    with pytest.raises(ArithmeticError, match="five"):
        for x in iterator:
            received.append(x)
    assert received == [0, 1, 2, 3]
    _assert_context_usable(sc)


def test_lookup_of_a_partitioned_rdd_computes_one_partition(sc):
    pairs = sc.parallelize([(i % 10, i) for i in range(100)], 4)
    partitioned = pairs.partitionBy(5)
    layout = partitioned.glom().collect()
    holding = [part for part in layout if any(k == 3 for k, _ in part)]
    assert len(holding) == 1
    computed = sc.accumulator(0)

    def record(value):
        computed.add(1)
        return value

    counted = partitioned.mapValues(record)
    assert counted.lookup(3) == [v for k, v in flatten(layout) if k == 3]
    assert computed.value == len(holding[0]) < 100
    assert counted.lookup(99) == []


def test_takeSample(sc):
    data = list(range(100))
    rdd = sc.parallelize(data, 4)
    for num in (0, 1, 10, 99):
        sample = rdd.takeSample(False, num, 3)
        assert len(sample) == num
        assert len(set(sample)) == num
        assert set(sample) <= set(data)
        assert rdd.takeSample(False, num, 3) == sample
    everything = rdd.takeSample(False, 150, 1)
    assert sorted(everything) == data
    for num in (1, 20, 250):
        sample = rdd.takeSample(True, num, 5)
        assert len(sample) == num
        assert set(sample) <= set(data)
    assert sorted(Counter(rdd.takeSample(True, 300, 8)).values())[-1] > 1
    assert sc.parallelize([7], 1).takeSample(True, 3, 1) == [7, 7, 7]


@pytest.mark.parametrize("case", INT_CASES)
def test_takeSample_of_edge_cases(sc, case):
    rdd = case.build(sc)
    for with_replacement in (False, True):
        sample = rdd.takeSample(with_replacement, 4, 9)
        if not case.flat:
            assert sample == []
        elif with_replacement:
            assert len(sample) == 4 and set(sample) <= set(case.flat)
        else:
            assert len(sample) == min(4, len(case.flat))
            assert not Counter(sample) - Counter(case.flat)


def test_histogram_pyspark_examples_and_special_values(sc):
    rdd = sc.parallelize(range(51))
    assert rdd.histogram(2) == ([0, 25, 50], [25, 26])
    assert rdd.histogram([0, 5, 25, 50]) == ([0, 5, 25, 50], [5, 20, 26])
    assert rdd.histogram([0, 15, 30, 45, 60]) == ([0, 15, 30, 45, 60], [15, 15, 15, 6])
    strings = sc.parallelize(["ab", "ac", "b", "bd", "ef"])
    assert strings.histogram(("a", "b", "c")) == (("a", "b", "c"), [2, 2])
    with_gaps = sc.parallelize([1.0, None, float("nan"), 2.0, 3.5, None], 3)
    buckets, counts = with_gaps.histogram(2)
    assert buckets == [1.0, 2.25, 3.5]
    assert counts == [2, 1]
    assert sc.parallelize([4, 4, 4], 2).histogram(3) == ([4, 4], [3])
    with pytest.raises(ValueError):
        sc.parallelize([1.0, float("inf")]).histogram(2)
    assert sc.parallelize([1, 2, 3], 2).histogram([10, 20]) == ([10, 20], [0])


def test_stats_of_floats_match_pyspark_statcounter(sc):
    values = [0.1 * i - 3.7 for i in range(97)] + [1e6, -2.5e-3]
    rdd = sc.parallelize(values, 6)
    expected = PySparkStatCounter(values)
    stats = rdd.stats()
    assert stats.count() == len(values)
    for name in ("mean", "variance", "stdev", "sampleVariance", "sampleStdev", "max", "min"):
        _assert_same_float(getattr(stats, name)(), getattr(expected, name)(), name)
    assert rdd.sum() == pytest.approx(math.fsum(values))


def test_runJob(sc):
    rdd = sc.parallelize(range(9), 3)
    assert sc.runJob(rdd, lambda part: [x * x for x in part]) == [x * x for x in range(9)]
    assert sc.runJob(rdd, lambda part: [sum(part)], [2, 0]) == [6 + 7 + 8, 0 + 1 + 2]
    assert sc.runJob(rdd, lambda part: (x for x in part if x % 2), [1], True) == [3, 5]
    assert sc.runJob(rdd, lambda part: [sum(part)], []) == []
    computed = sc.accumulator(0)

    def count_partition(iterator):
        computed.add(1)
        return iterator

    counted = rdd.mapPartitions(count_partition)
    assert sc.runJob(counted, lambda part: list(part), [1]) == [3, 4, 5]
    assert computed.value == 1
    assert sc.runJob(sc.emptyRDD(), lambda part: list(part)) == []


# --------------------------------------------------------------------------- pickle files


@pytest.mark.parametrize("batch_size", [1, 3, 10])
def test_saveAsPickleFile_round_trips_through_pickleFile(sc, tmp_path, batch_size):
    values = [None, 1, "two", (3, [4.5]), {"six": 7}, b"\x08"] * 5
    path = str(tmp_path / "pickled")
    sc.parallelize(values, 4).saveAsPickleFile(path, batch_size)
    assert os.path.isdir(path)
    loaded = sc.pickleFile(path)
    assert sorted(map(pickle.dumps, loaded.collect())) == sorted(map(pickle.dumps, values))
    assert sc.pickleFile(path, 3).count() == len(values)


@pytest.mark.parametrize("case", INT_CASES)
def test_saveAsPickleFile_of_edge_cases(sc, tmp_path, case):
    path = str(tmp_path / "edge")
    case.build(sc).saveAsPickleFile(path)
    assert sorted(sc.pickleFile(path).collect()) == sorted(case.flat)


# --------------------------------------------------------------------------- str-keyed shuffles
# PySpark places str and bytes keys by hash() under its executors' PYTHONHASHSEED (the
# driver's, else 0); sparkish must put every record in the same partition, in the same order.

_TEXT = (
    "the quick brown fox jumps over the lazy dog and the dog sleeps while the fox runs "
    "über café naïve ✓ check 𝄞 clef the end"
).split()

STR_KEYED_SHUFFLES: dict[str, Callable] = {
    "partitionBy (the issue's example)": lambda sc: (
        sc.parallelize(["a", "b", "c", "d"]).map(lambda w: (w, 1)).partitionBy(2).glom().collect()
    ),
    "reduceByKey word count": lambda sc: (
        sc.parallelize(_TEXT, 3).map(lambda w: (w, 1)).reduceByKey(operator.add, 4).glom().collect()
    ),
    "reduceByKey default partitions, collect order": lambda sc: (
        sc.parallelize(_TEXT, 3).map(lambda w: (w, 1)).reduceByKey(operator.add).collect()
    ),
    "groupByKey": lambda sc: (
        sc.parallelize(_TEXT, 2)
        .map(lambda w: (w[:2], w))
        .groupByKey(5)
        .mapValues(sorted)
        .glom()
        .collect()
    ),
    "distinct": lambda sc: sc.parallelize(_TEXT, 4).distinct(3).glom().collect(),
    "partitionBy of bytes and tuple keys": lambda sc: (
        sc.parallelize(_TEXT, 2)
        .flatMap(lambda w: [(w.encode(), 1), ((w, len(w)), 2)])
        .partitionBy(7)
        .glom()
        .collect()
    ),
    "partitionBy of frozenset keys": lambda sc: (
        sc.parallelize(_TEXT, 2).map(lambda w: (frozenset(w), w)).partitionBy(3).glom().collect()
    ),
}


@pytest.fixture(scope="module")
def pyspark_oracle():
    """A real PySpark ``local[2]`` context (in a child process)."""
    oracle = PySparkOracle("local[2]")
    yield oracle
    oracle.close()


@pytest.mark.parametrize("name", list(STR_KEYED_SHUFFLES))
def test_str_keyed_shuffles_place_records_like_pyspark(sc, pyspark_oracle, name):
    program = STR_KEYED_SHUFFLES[name]
    expected = pyspark_oracle.run(program)
    assert program(sc) == expected
