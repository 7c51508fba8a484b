"""RDDs to and from Dask bags, delayed objects, Dask DataFrames and pandas, on real clusters.

Round trips run on the embedded ``local[2]`` cluster and on a ``dask scheduler`` + ``dask
worker`` pair started as subprocesses (the ``dask_cluster`` fixture of ``test_cluster.py``).
That nothing passes through the driver is proven with records that refuse to be unpickled in the
driver process: if any of them reached it, the job would fail there.

Expected values come from plain Python, pandas and Dask themselves, never from sparkish.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial

import dask
import dask.bag as db
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sparkish import Row, SparkConf, SparkContext
from tests.test_cluster import ExternalDaskCluster, dask_cluster  # noqa: F401 - fixture

DRIVER_PID = os.getpid()


class DriverUnpicklingError(RuntimeError):
    """A record crossed to the driver."""


def _refuse_in_driver(value: int, driver_pid: int) -> WorkerOnly:
    if os.getpid() == driver_pid:
        raise DriverUnpicklingError(f"record {value} was shipped to the driver process")
    return WorkerOnly(value, driver_pid)


class WorkerOnly:
    """A record that can be unpickled anywhere but in the driver process (``driver_pid``:
    made in a worker, this module's ``DRIVER_PID`` would be the worker's own)."""

    def __init__(self, value: int, driver_pid: int) -> None:
        self.value = value
        self.driver_pid = driver_pid

    def __reduce__(self) -> tuple:
        return (_refuse_in_driver, (self.value, self.driver_pid))


@pytest.fixture(params=["local", pytest.param("dask", marks=pytest.mark.cluster)])
def context(request: pytest.FixtureRequest) -> Iterator[SparkContext]:
    """The shared ``local[2]`` context, or a context on a running ``dask scheduler``."""
    if request.param == "local":
        yield request.getfixturevalue("sc")
        return
    cluster: ExternalDaskCluster = request.getfixturevalue("dask_cluster")
    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()
    conf = SparkConf().set("spark.ui.port", "0")
    sc = SparkContext(f"dask://{cluster.host_port}", "interop", conf=conf)
    try:
        yield sc
    finally:
        sc.stop()


def partitions_of(rdd) -> list[list]:
    return rdd.glom().collect()


# --------------------------------------------------------------------------- Dask bags
@pytest.mark.timeout(300)
def test_bag_round_trip_keeps_every_record_and_the_partitioning(context: SparkContext) -> None:
    data = [(i % 7, f"w{i}") for i in range(1000)]
    rdd = context.parallelize(data, 5).filter(lambda pair: pair[0] != 3)
    expected = partitions_of(rdd)

    bag = rdd.toDaskBag()
    assert bag.npartitions == 5
    back = context.fromDaskBag(bag)
    assert back.getNumPartitions() == 5
    assert partitions_of(back) == expected
    # Dask's own operations on the bag see the same records, computed on the cluster.
    counted = bag.map(lambda pair: pair[0]).frequencies().compute(scheduler=context.dask_client)
    assert dict(counted) == {k: sum(1 for pair in data if pair[0] == k) for k in (0, 1, 2, 4, 5, 6)}
    # A shuffle after the bag: the bag's tasks feed the map side of the RDD's shuffle.
    summed = back.reduceByKey(lambda a, b: a + "," + b).mapValues(lambda s: s.count(",") + 1)
    assert dict(summed.collect()) == dict(counted)


def test_a_bag_built_by_dask_becomes_partitions_computed_on_the_cluster(sc: SparkContext) -> None:
    bag = db.from_sequence(range(12), npartitions=4).map(lambda x: (x, os.getpid()))
    rdd = sc.fromDaskBag(bag)
    parts = partitions_of(rdd)
    assert [[x for x, _ in part] for part in parts] == [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [9, 10, 11],
    ]
    pids = {pid for part in parts for _, pid in part}
    assert DRIVER_PID not in pids
    assert pids <= set(sc._runtime.cluster.worker_pids.values())


def _tokens(driver_pid: int, index: int, records: Iterator[int]) -> Iterator[tuple]:
    return ((x, WorkerOnly(x, driver_pid)) for x in records)


@pytest.mark.timeout(300)
def test_bag_conversions_gather_nothing_in_the_driver(context: SparkContext) -> None:
    rdd = context.parallelize(range(400), 4).mapPartitionsWithIndex(partial(_tokens, DRIVER_PID))
    # RDD -> bag -> Dask operations -> RDD -> shuffle -> only small numbers reach the driver.
    bag = rdd.toDaskBag().map(lambda pair: (pair[0] % 3, pair[1]))
    back = context.fromDaskBag(bag)
    sums = back.mapValues(lambda token: token.value).reduceByKey(lambda a, b: a + b).collect()
    assert dict(sums) == {k: sum(x for x in range(400) if x % 3 == k) for k in range(3)}
    # The guard itself works: a record that does reach the driver fails there.
    with pytest.raises(DriverUnpicklingError, match="shipped to the driver"):
        back.take(1)


def test_a_bag_computed_without_the_cluster_says_how_to_compute_it(sc: SparkContext) -> None:
    bag = sc.parallelize(range(4), 2).toDaskBag()
    with pytest.raises(RuntimeError, match=r"sparkish cluster's workers.*sc\.dask_client"):
        bag.compute(scheduler="sync")
    assert sorted(bag.compute(scheduler=sc.dask_client)) == [0, 1, 2, 3]


# --------------------------------------------------------------------------- delayed
def test_delayed_objects_become_partitions(sc: SparkContext) -> None:
    parts = [dask.delayed(list)(range(start, start + n)) for start, n in ((0, 3), (10, 0), (20, 2))]
    rdd = sc.fromDelayed(parts)
    assert partitions_of(rdd) == [[0, 1, 2], [], [20, 21]]
    assert rdd.map(lambda x: x * 2).sum() == 2 * (0 + 1 + 2 + 20 + 21)


def test_a_delayed_that_is_not_iterable_names_the_partition(sc: SparkContext) -> None:
    parts = [dask.delayed(list)([1]), dask.delayed(int)(7)]
    with pytest.raises(TypeError, match=r"fromDelayed: partition 1 is a int, not an iterable"):
        sc.fromDelayed(parts).collect()
    with pytest.raises(TypeError, match="expected a Dask collection"):
        sc.fromDelayed([[1, 2]])


# --------------------------------------------------------------------------- Dask DataFrames
PEOPLE = [
    Row(name="Alice", age=11, height=1.45, member=True),
    Row(name="Bob", age=None, height=1.80, member=False),
    Row(name="Carol", age=35, height=None, member=None),
    Row(name=None, age=52, height=1.62, member=True),
    Row(name="Eve", age=7, height=1.20, member=False),
]


@pytest.mark.timeout(300)
def test_dataframe_round_trip_keeps_rows_types_and_partitions(context: SparkContext) -> None:
    rdd = context.parallelize(PEOPLE, 3)
    ddf = rdd.toDF()
    assert ddf.npartitions == 3
    assert list(ddf.columns) == ["name", "age", "height", "member"]
    assert ddf.dtypes.to_dict() == {
        "name": pd.DataFrame({"s": pa.array(["x"]).to_pandas()}).s.dtype,
        "age": pd.Int64Dtype(),
        "height": np.dtype("float64"),
        "member": pd.BooleanDtype(),
    }
    computed = ddf.compute(scheduler=context.dask_client)
    expected = pd.DataFrame([row.asDict() for row in PEOPLE]).astype(
        {"age": "Int64", "member": "boolean"}
    )
    pd.testing.assert_frame_equal(
        computed.reset_index(drop=True), expected, check_dtype=False, check_index_type=False
    )
    back = context.fromDaskDataFrame(ddf)
    assert partitions_of(back) == partitions_of(rdd)
    assert back.first().asDict() == PEOPLE[0].asDict()


@pytest.mark.timeout(300)
def test_dask_operations_between_rdd_steps(context: SparkContext) -> None:
    words = context.parallelize(["a b a", "c a b", "d"], 2).flatMap(str.split)
    ddf = words.map(lambda w: (w, len(w) * 10)).toDF(["word", "score"])
    with context.dask_client.as_current():
        totals = ddf.groupby("word").score.sum().compute().sort_index()
        shuffled = ddf.shuffle("word", npartitions=3)  # Dask's own shuffle between RDD steps
        back = context.fromDaskDataFrame(shuffled)
    assert totals.to_dict() == {"a": 30, "b": 20, "c": 10, "d": 10}
    assert back.getNumPartitions() == 3
    assert sorted(back.map(lambda row: (row.word, row.score)).collect()) == sorted(
        (w, 10) for w in "a b a c a b d".split()
    )


def _with_tokens(frame: pd.DataFrame, driver_pid: int) -> pd.DataFrame:
    return frame.assign(token=[WorkerOnly(int(n), driver_pid) for n in frame.n])


@pytest.mark.timeout(300)
def test_dataframe_conversions_gather_nothing_in_the_driver(context: SparkContext) -> None:
    rdd = context.parallelize(range(300), 3).map(lambda n: (n % 5, n))
    ddf = rdd.toDF("k bigint, n bigint")  # a full schema: no inference job at all
    meta = ddf._meta.assign(token=pd.Series([], dtype=object))
    with_tokens = ddf.map_partitions(_with_tokens, DRIVER_PID, meta=meta)
    back = context.fromDaskDataFrame(with_tokens)
    total = back.map(lambda row: row.token.value).sum()
    assert total == sum(range(300))
    sums = with_tokens.groupby("k").n.sum().compute(scheduler=context.dask_client)
    assert sums.sort_index().to_dict() == {k: sum(range(k, 300, 5)) for k in range(5)}
    with pytest.raises(DriverUnpicklingError):  # the guard: these frames cannot reach the driver
        with_tokens.compute(scheduler=context.dask_client)


def test_dataframe_schema_forms(sc: SparkContext) -> None:
    rdd = sc.parallelize([("a", 1), ("b", 2)], 2)
    by_ddl = rdd.toDF("word: string, n: int").compute(scheduler=sc.dask_client)
    assert by_ddl.dtypes.to_dict()["n"] == pd.Int32Dtype()
    by_arrow = rdd.toDaskDataFrame(pa.schema([("word", pa.string()), ("n", pa.float64())]))
    assert by_arrow.compute(scheduler=sc.dask_client).n.tolist() == [1.0, 2.0]
    dicts = sc.parallelize([{"b": 1, "a": "x"}, {"a": "y"}]).toDF()
    assert list(dicts.columns) == ["a", "b"]  # PySpark sorts a dict's keys
    assert dicts.compute(scheduler=sc.dask_client).b.tolist() == [1, pd.NA]
    tuples = sc.parallelize([(1, 2.5)]).toDF()
    assert list(tuples.columns) == ["_1", "_2"]


def test_bad_records_and_schemas_give_clear_errors(sc: SparkContext) -> None:
    wrong_width = sc.parallelize([("a", 1), ("b", 2, 3)], 2).toDF(["word", "n"])
    with pytest.raises(ValueError, match=r"record 0 of this partition has 3 fields.*partition 1"):
        wrong_width.compute(scheduler=sc.dask_client)
    with pytest.raises(TypeError, match=r"every record must be a Row, tuple, list or dict"):
        sc.parallelize([1, 2]).toDF()
    with pytest.raises(TypeError, match=r"column 'n'.*pass an explicit schema"):
        sc.parallelize([("a", 1), ("b", "two")], 1).toDF(["word", "n"])
    with pytest.raises(ValueError, match=r"column\(s\) \['n'\].*pass an explicit schema"):
        sc.parallelize([("a", None)], 1).toDF(["word", "n"])
    with pytest.raises(ValueError, match="cannot infer a schema from an empty dataset"):
        sc.parallelize([], 2).toDF()
    with pytest.raises(ValueError, match="unknown column type 'integr'"):
        sc.parallelize([(1,)]).toDF("n integr")
    misfit = sc.parallelize([("a", "x")], 1).toDaskDataFrame("word string, n int")
    with pytest.raises(TypeError, match=r"column 'n' has type int32.*partition 0"):
        misfit.compute(scheduler=sc.dask_client)


def test_schema_inference_scans_past_empty_partitions(sc: SparkContext) -> None:
    rdd = sc.parallelize([], 6).union(sc.parallelize([("late", 1)], 1))
    ddf = rdd.toDF(["word", "n"])
    assert ddf.npartitions == 7
    assert ddf.compute(scheduler=sc.dask_client).values.tolist() == [["late", 1]]


# --------------------------------------------------------------------------- pandas
def test_from_pandas_matches_pandas_and_slices_like_parallelize(sc: SparkContext) -> None:
    frame = pd.DataFrame(
        {
            "city": ["Oslo", "Lima", None, "Pune", "Kyiv", "Baku", "Rome"],
            "population": [709_000, 9_750_000, 1, 3_124_000, 2_952_000, 2_300_000, 2_873_000],
            "area": [454.0, 2672.3, np.nan, 331.3, 839.0, 2140.0, 1285.0],
            "when": pd.to_datetime(["2020-01-01"] * 6 + [None]),
        },
        index=list("abcdefg"),
    )
    rdd = sc.fromPandas(frame, 3)
    parts = partitions_of(rdd)
    assert [len(part) for part in parts] == [2, 2, 3]
    rows = [row for part in parts for row in part]
    assert [row.asDict()["population"] for row in rows] == frame.population.tolist()
    for row, (_, expected) in zip(rows, frame.iterrows()):
        for name in frame.columns:
            value = expected[name]
            assert row[name] == (None if pd.isna(value) else value), (row, name)
    assert sc.fromPandas(frame).getNumPartitions() == sc.defaultParallelism


def test_to_pandas_matches_pandas_built_from_the_same_records(sc: SparkContext) -> None:
    got = sc.parallelize(PEOPLE, 3).toPandas()
    expected = pd.DataFrame.from_records(
        [tuple(row) for row in PEOPLE], columns=PEOPLE[0].__fields__
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.age.dtype == np.dtype("float64")  # as PySpark: an int column with nulls
    empty = sc.parallelize([], 2).toPandas("word string, n bigint")
    assert list(empty.columns) == ["word", "n"] and len(empty) == 0


def test_pandas_round_trip_through_an_rdd_shuffle(sc: SparkContext) -> None:
    frame = pd.DataFrame({"k": list("abcabcab"), "v": range(8)})
    rdd = sc.fromPandas(frame, 3).map(lambda row: (row.k, row.v)).reduceByKey(lambda a, b: a + b)
    got = rdd.map(lambda kv: Row(k=kv[0], v=kv[1])).toPandas().sort_values("k")
    expected = frame.groupby("k", as_index=False).v.sum()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_from_dask_dataframe_and_from_pandas_agree_with_dask(sc: SparkContext) -> None:
    frame = pd.DataFrame({"x": np.arange(50), "y": np.arange(50) * 0.5, "z": ["q"] * 50})
    ddf = dd.from_pandas(frame, npartitions=4)
    rows = sc.fromDaskDataFrame(ddf).collect()
    assert [tuple(row) for row in rows] == list(frame.itertuples(index=False, name=None))
    assert rows == sc.fromPandas(frame, 4).collect()
    with pytest.raises(TypeError, match="expected a Dask DataFrame"):
        sc.fromDaskDataFrame(frame.values)
    with pytest.raises(TypeError, match="expected a pandas DataFrame"):
        sc.fromPandas([1, 2])
