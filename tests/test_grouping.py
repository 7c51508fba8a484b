"""Partition grouping: a task may compute several consecutive partitions.

What the user sees must not change (partitions, their contents and order, ``TaskContext``,
errors, laziness); what changes is the number of Dask tasks, which these tests count from the
job records and from the scheduler's task stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from operator import add
from pathlib import Path

import pytest
from distributed import get_task_stream

from sparkish import SparkConf, SparkContext, TaskContext
from tests.helpers import ungrouped, wait_until

REPO = Path(__file__).resolve().parent.parent
PAIRS = [(i % 97, i) for i in range(20_000)]


def _last_job_tasks(sc: SparkContext) -> int:
    return sc._runtime.jobs.completed[-1].task_count


def _slots(sc: SparkContext) -> int:
    return sum(sc.dask_client.nthreads().values())


def test_many_small_partitions_run_in_few_tasks_with_the_same_results(sc):
    rdd = sc.parallelize(PAIRS, 500).reduceByKey(add, 400)
    with get_task_stream(client=sc.dask_client) as stream:
        grouped = rdd.collect()
    grouped_tasks = _last_job_tasks(sc)
    with ungrouped(sc):
        ungrouped_result = sc.parallelize(PAIRS, 500).reduceByKey(add, 400).collect()
    assert _last_job_tasks(sc) == 500 + 1 + 400
    assert grouped == ungrouped_result  # same records, same order
    assert dict(grouped) == {k: sum(v for key, v in PAIRS if key == k) for k in range(97)}
    # map groups + barrier + reduce groups: a few tasks per worker thread, not per partition
    assert grouped_tasks <= 2 * (2 * _slots(sc)) + 1
    executed = {task["key"] for task in stream.data}
    assert any(isinstance(key, tuple) and len(key) == 3 for key in executed), executed
    assert rdd.getNumPartitions() == 400
    assert len(rdd.glom().collect()) == 400


def test_partitions_keep_their_index_context_and_order_inside_a_group(sc):
    rdd = sc.parallelize(range(1000), 100)

    def tagged(index, records):
        context = TaskContext.get()
        assert context is not None
        yield (index, context.partitionId(), sum(records))

    result = rdd.mapPartitionsWithIndex(tagged).collect()
    assert _last_job_tasks(sc) < 100
    assert result == [(i, i, sum(range(10 * i, 10 * i + 10))) for i in range(100)]
    assert rdd.glom().collect() == [list(range(10 * i, 10 * i + 10)) for i in range(100)]


def test_an_error_names_the_partition_that_failed_inside_a_group(sc):
    def fail_on_37(index, records):
        if index == 37:
            raise ValueError("bad record")
        return records

    rdd = sc.parallelize(range(1000), 100).mapPartitionsWithIndex(fail_on_37)
    with pytest.raises(ValueError, match=r"bad record .*partition 37,"):
        rdd.count()
    with pytest.raises(ValueError, match=r"bad record .*partition 37,"):
        rdd.map(lambda x: (x % 3, x)).reduceByKey(add).collect()


def test_an_action_over_some_partitions_computes_only_those(sc):
    partitions_started = sc.accumulator(0)

    def start(index, records):
        partitions_started.add(1)
        return records

    rdd = sc.parallelize(range(1000), 100).mapPartitionsWithIndex(start)
    assert rdd.take(3) == [0, 1, 2]
    assert partitions_started.value == 1  # the first partition only
    assert sc.runJob(rdd, lambda it: [sum(it)], [5, 6]) == [sum(range(50, 60)), sum(range(60, 70))]
    assert partitions_started.value == 3
    pairs = sc.parallelize(PAIRS, 50).partitionBy(40)
    assert sorted(pairs.lookup(5)) == [v for k, v in PAIRS if k == 5]


def test_a_persisted_rdd_is_computed_in_groups_once_and_read_by_partition(sc):
    computed = sc.accumulator(0)

    def count_record(x):
        computed.add(1)
        return x * 2

    rdd = sc.parallelize(range(10_000), 200).map(count_record).cache()
    assert rdd.count() == 10_000
    held_keys = {future.key for future in rdd._materialized.held.futures()}
    assert len(held_keys) < 200  # groups, not partitions
    assert rdd.glom().map(len).collect() == [50] * 200
    assert rdd.sum() == 2 * sum(range(10_000))
    with ungrouped(sc):  # one task per partition reads the groups held on the workers
        assert rdd.map(lambda x: x + 1).take(5) == [1, 3, 5, 7, 9]
        assert rdd.collect() == [2 * x for x in range(10_000)]
    assert computed.value == 10_000
    rdd.unpersist()


def test_target_bytes_decides_how_much_a_task_carries(no_context):
    conf = (
        SparkConf()
        .set("spark.ui.port", "0")
        .set("sparkish.task.targetBytes", "1k")
        # one group per thread at least; small targets then give one task per partition
        .set("sparkish.task.tasksPerSlot", "1")
    )
    with SparkContext("local[2]", "grouping-target", conf=conf) as sc:
        rdd = sc.parallelize([b"x" * 2000 for _ in range(40)], 40)
        assert rdd.count() == 40
        assert _last_job_tasks(sc) == 40  # every slice is larger than the target
        small = sc.parallelize(range(4000), 40)
        assert small.count() == 4000
        assert _last_job_tasks(sc) < 40


def test_bad_grouping_settings_fail_when_the_context_starts(no_context):
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.task.tasksPerSlot", "0")
    with pytest.raises(ValueError, match="sparkish.task.tasksPerSlot=0"):
        SparkContext("local[1]", "bad-grouping", conf=conf)


def test_a_group_lost_with_its_worker_is_recomputed(no_context):
    conf = SparkConf().set("spark.ui.port", "0")
    with SparkContext("local[2]", "grouping-loss", conf=conf) as sc:
        rdd = sc.parallelize(PAIRS, 300).map(lambda kv: (kv[0], kv[1] + 1)).cache()
        assert rdd.count() == len(PAIRS)
        expected = Counter((k, v + 1) for k, v in PAIRS)
        cluster = sc._runtime.cluster
        assert cluster is not None
        pids = list(sc.dask_client.run(os.getpid).values())
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: len(sc.dask_client.nthreads()) == 2, "the worker restarts", 60)
        assert Counter(rdd.collect()) == expected
        assert dict(rdd.reduceByKey(add, 200).collect()) == {
            k: sum(v + 1 for key, v in PAIRS if key == k) for k in range(97)
        }


NO_GROUPING_JOB = """
from pyspark import SparkContext
sc = SparkContext.getOrCreate()
assert sc.parallelize(range(1000), 40).map(lambda x: x + 1).sum() == 500500
print("TASKS", sc._runtime.jobs.completed[-1].task_count)
sc.stop()
"""


@pytest.mark.parametrize(("flags", "per_partition"), [([], False), (["--no-grouping"], True)])
def test_submit_no_grouping_runs_one_task_per_partition(
    no_context, tmp_path: Path, flags: list[str], per_partition: bool
):
    (tmp_path / "job.py").write_text(NO_GROUPING_JOB)
    command = [sys.executable, "-m", "sparkish.submit", "--master", "local[2]", *flags]
    command += ["--conf", "spark.ui.enabled=false", "job.py"]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("SPARKISH_SUBMIT_CONF", None)
    result = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr
    tasks = int(result.stdout.split("TASKS", 1)[1].split()[0])
    assert (tasks == 40) is per_partition, tasks


def test_nearly_equal_partitions_are_grouped_evenly(sc, tmp_path):
    # Eight input files, the first one line shorter: four tasks of two files each, not the
    # three-file first group that cutting after the first boundary crossed gives.
    for index in range(8):
        lines = 99 if index == 0 else 100
        (tmp_path / f"part-{index}.txt").write_text("0123456789\n" * lines)
    rdd = sc.textFile(str(tmp_path / "*.txt"), 8)
    assert rdd.getNumPartitions() == 8
    with get_task_stream(client=sc.dask_client) as stream:
        assert rdd.count() == 799
    groups = sorted(
        (key[1], key[2]) for key in (task["key"] for task in stream.data) if len(key) == 3
    )
    assert groups == [(0, 1), (2, 3), (4, 5), (6, 7)], groups


def _reschedules(dask_scheduler, since: float) -> list:
    """Tuple keys that a worker handed back to the scheduler since ``since`` (distributed's P2P
    extension does so with a reader that runs where its partition is not)."""
    return [
        entry.key
        for entry in dask_scheduler.transition_log
        if entry.timestamp >= since
        and isinstance(entry.key, tuple)
        and entry.start == "processing"
        and entry.finish in ("released", "waiting")
    ]


@pytest.mark.parametrize("mode", ["grouped", "per-partition"])
def test_shuffle_readers_start_on_the_worker_holding_their_partitions(sc, mode):
    # Reduce tasks are sent straight to their output partitions' worker: none is first queued
    # on another worker (where it would wait behind that worker's own reduce task, then
    # reschedule itself) while its own worker sits idle.
    sc.setLocalProperty("sparkish.task.tasksPerSlot", "2")
    if mode == "per-partition":
        sc.setLocalProperty("sparkish.task.grouping", "false")
    for _ in range(3):
        since = sc.dask_client.run_on_scheduler(lambda: time.time())
        pairs = sc.parallelize(range(40_000), 16).map(lambda i: (i % 1_000, i))
        counts = pairs.groupByKey(16).mapValues(len).collect()
        assert sorted(counts) == [(key, 40) for key in range(1_000)]
        rescheduled = sc.dask_client.run_on_scheduler(_reschedules, since=since)
        assert rescheduled == [], rescheduled
