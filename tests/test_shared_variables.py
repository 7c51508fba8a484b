"""Broadcast variables and accumulators, checked on real worker processes.

Broadcasts: the value reaches every worker once (counted by unpickling a recorder object),
``unpersist`` makes the next use ship it again, ``destroy`` makes any later use fail clearly.
Accumulators: exact totals for the built-in and custom parameters, updates merged once per
successful task even when workers are SIGKILLed mid-job, and no reading inside tasks.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from sparkish import AccumulatorParam, SparkConf, SparkContext
from tests import helpers


# --------------------------------------------------------------------------- helpers
def wait_until(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    helpers.wait_until(condition, what, timeout)


def own_context() -> SparkContext:
    return SparkContext("local[2]", conf=SparkConf(loadDefaults=False).set("spark.ui.port", "0"))


def mark(directory: Path, label: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}").touch()


def marks(directory: Path, label: str) -> list[int]:
    """The pids of the processes that left a ``label`` mark."""
    if not directory.exists():
        return []
    prefix = f"{label}-"
    return [
        int(path.name[len(prefix) :].split("-")[0])
        for path in directory.iterdir()
        if path.name.startswith(prefix)
    ]


def block_until(release: Path, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def on_every_slot(sc: SparkContext, function: Callable[[], Any], tmp_path: Path) -> list:
    """``helpers.on_every_slot``, checking that the tasks reached every worker process."""
    results = helpers.on_every_slot(sc, function, tmp_path)
    workers = sc.dask_client.scheduler_info(n_workers=-1)["workers"]
    assert len({pid for pid, _ in results}) == len(workers), "tasks did not reach every worker"
    return results


class UnpickleRecorder:
    """A broadcast value that leaves a file named after the process each time it is unpickled."""

    def __init__(self, directory: Path, payload: Any) -> None:
        self.directory = directory
        self.payload = payload

    def __getstate__(self) -> dict:
        return {"directory": self.directory, "payload": self.payload}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        mark(self.directory, "unpickled")


# --------------------------------------------------------------------------- broadcast
def test_broadcast_value_in_driver_and_tasks(sc: SparkContext) -> None:
    table = {i: f"name-{i}" for i in range(1000)}
    lookup = sc.broadcast(table)
    assert lookup.value == table
    result = sc.parallelize(range(0, 1000, 7), 4).map(lambda i: lookup.value[i]).collect()
    assert result == [table[i] for i in range(0, 1000, 7)]
    # Shuffle-side functions can use it as well.
    pairs = sc.parallelize(range(20), 4).map(lambda i: (i % 3, i))
    summed = pairs.reduceByKey(lambda a, b: a + b + len(lookup.value) * 0).collect()
    assert sorted(summed) == [(k, sum(i for i in range(20) if i % 3 == k)) for k in range(3)]
    lookup.destroy()


def test_tasks_carry_only_a_reference_to_the_broadcast(sc: SparkContext) -> None:
    big = sc.broadcast(os.urandom(4_000_000))
    closure = lambda x: len(big.value) + x  # noqa: E731
    assert len(cloudpickle.dumps(closure)) < 10_000
    assert sc.parallelize([1, 2], 2).map(closure).collect() == [4_000_001, 4_000_002]
    big.destroy()


def test_broadcast_is_shipped_once_per_worker_and_again_after_unpersist(
    sc: SparkContext, tmp_path: Path
) -> None:
    directory = tmp_path / "unpickles"
    recorder = sc.broadcast(UnpickleRecorder(directory, list(range(1000))))

    def use() -> int:
        return len(recorder.value.payload)

    for _ in range(2):
        results = on_every_slot(sc, use, tmp_path)
        assert [length for _, length in results] == [1000, 1000]
        assert sc.parallelize(range(16), 8).map(lambda _: use()).sum() == 16 * 1000
    workers = {pid for pid, _ in results}
    counts = Counter(marks(directory, "unpickled"))
    assert os.getpid() not in counts, "the driver unpickled its own broadcast"
    assert all(counts[pid] == 1 for pid in workers), counts
    assert all(count == 1 for count in counts.values()), counts

    recorder.unpersist()
    assert recorder.value.payload[-1] == 999  # still usable in the driver
    results = on_every_slot(sc, use, tmp_path)
    counts = Counter(marks(directory, "unpickled"))
    assert all(counts[pid] == 2 for pid, _ in results), counts
    recorder.destroy()


def test_a_destroyed_broadcast_cannot_be_used(sc: SparkContext) -> None:
    doomed = sc.broadcast([1, 2, 3])
    assert sc.parallelize([0], 1).map(lambda _: sum(doomed.value)).collect() == [6]
    doomed.destroy()
    with pytest.raises(Exception, match="destroyed"):
        sc.parallelize([0], 1).map(lambda _: sum(doomed.value)).collect()
    with pytest.raises(RuntimeError, match="destroyed"):
        _ = doomed.value
    assert sc.parallelize([0, 1], 2).count() == 2


# --------------------------------------------------------------------------- accumulators
@pytest.mark.parametrize(
    "zero, term, expected",
    [
        (0, lambda x: x, sum(range(100))),
        (1.0, lambda x: x / 4, 1.0 + sum(x / 4 for x in range(100))),  # exact in binary
        (0j, lambda x: complex(x, -2 * x), complex(sum(range(100)), -2 * sum(range(100)))),
    ],
    ids=["int", "float", "complex"],
)
def test_builtin_accumulators(sc: SparkContext, zero: Any, term: Callable, expected: Any) -> None:
    total = sc.accumulator(zero)
    sc.parallelize(range(100), 7).foreach(lambda x: total.add(term(x)))
    assert total.value == expected
    assert type(total.value) is type(zero)


def test_accumulator_in_place_addition_inside_tasks(sc: SparkContext) -> None:
    evens = sc.accumulator(0)

    def count_even(x: int) -> None:
        nonlocal evens
        if x % 2 == 0:
            evens += 1

    sc.parallelize(range(50), 3).foreach(count_even)
    assert evens.value == 25
    evens += 5  # the driver may add too
    assert evens.value == 30


class VectorParam(AccumulatorParam):
    def zero(self, value: list[int]) -> list[int]:
        return [0] * len(value)

    def addInPlace(self, value1: list[int], value2: list[int]) -> list[int]:
        for index, amount in enumerate(value2):
            value1[index] += amount
        return value1


class SetParam(AccumulatorParam):
    def zero(self, value: set) -> set:
        return set()

    def addInPlace(self, value1: set, value2: set) -> set:
        value1 |= value2
        return value1


def test_custom_accumulator_params(sc: SparkContext) -> None:
    histogram = sc.accumulator([0, 0, 0], VectorParam())
    seen = sc.accumulator({"start"}, SetParam())

    def record(x: int) -> None:
        bucket = [0, 0, 0]
        bucket[x % 3] = 1
        histogram.add(bucket)
        seen.add({x % 5})

    sc.parallelize(range(30), 4).foreach(record)
    assert histogram.value == [10, 10, 10]
    assert seen.value == {"start", 0, 1, 2, 3, 4}


def test_accumulators_without_a_default_param_are_refused(sc: SparkContext) -> None:
    with pytest.raises(TypeError, match="accumulator"):
        sc.accumulator("text")


def test_reading_an_accumulator_inside_a_task_raises(sc: SparkContext) -> None:
    total = sc.accumulator(0)
    with pytest.raises(RuntimeError, match="cannot be accessed inside tasks"):
        sc.parallelize([1, 2], 2).map(lambda x: total.value + x).collect()

    def assign(x: int) -> None:
        total.value = x

    with pytest.raises(RuntimeError, match="cannot be accessed inside tasks"):
        sc.parallelize([1, 2], 2).foreach(assign)
    assert total.value == 0
    assert sc.parallelize([1, 2], 2).sum() == 3


def test_accumulators_in_shuffles_and_concurrent_jobs(sc: SparkContext) -> None:
    mapped = sc.accumulator(0)
    merged = sc.accumulator(0)

    def tag(x: int) -> tuple[int, int]:
        mapped.add(1)
        return x % 4, x

    def add(a: int, b: int) -> int:
        merged.add(1)
        return a + b

    result = sc.parallelize(range(400), 5).map(tag).reduceByKey(add).collectAsMap()
    assert result == {k: sum(range(k, 400, 4)) for k in range(4)}
    assert mapped.value == 400
    # Each record but the first of every key is merged once, map side or reduce side.
    assert merged.value == 400 - 4

    concurrent = sc.accumulator(0)
    threads = [
        threading.Thread(
            target=lambda: sc.parallelize(range(500), 4).foreach(lambda _: concurrent.add(1))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert concurrent.value == 1000


def test_recomputed_transformations_add_again_but_cached_ones_do_not(sc: SparkContext) -> None:
    calls = sc.accumulator(0)
    rdd = sc.parallelize(range(10), 2).map(lambda x: calls.add(1) or x)
    rdd.count()
    rdd.count()
    assert calls.value == 20  # no cache: every action recomputes, as in PySpark
    cached_calls = sc.accumulator(0)
    cached = sc.parallelize(range(10), 2).map(lambda x: cached_calls.add(1) or x).cache()
    cached.count()
    cached.count()
    assert cached_calls.value == 10
    cached.unpersist()


@pytest.mark.timeout(60)
def test_updates_of_successful_tasks_of_a_failed_job(sc: SparkContext, tmp_path: Path) -> None:
    counted = sc.accumulator(0)

    def count_then_maybe_fail(index: int, part):
        for _ in part:
            counted.add(1)
        if index == 3:
            # Fail only after the three other partitions have finished.
            wait_until(lambda: len(marks(tmp_path, "done")) == 3, "the others finished", 60)
            raise ValueError("last partition fails")
        mark(tmp_path, "done")
        return [index]

    with pytest.raises(ValueError, match="last partition fails"):
        sc.parallelize(range(40), 4).mapPartitionsWithIndex(count_then_maybe_fail).collect()
    after_failure = counted.value
    sc.parallelize(range(4), 2).count()  # an unrelated job
    assert counted.value == after_failure, "the value changed during an unrelated job"
    assert after_failure == 30


@pytest.mark.timeout(90)
def test_a_killed_attempt_does_not_count(no_context: None, tmp_path: Path) -> None:
    sc = own_context()
    counted = sc.accumulator(0)
    release = tmp_path / "release"

    def count_then_wait(index: int, part):
        records = 0
        for _ in part:
            counted.add(1)
            records += 1
        mark(tmp_path, f"p{index}")
        block_until(release)
        return [records]

    outcome: dict[str, Any] = {}

    def run() -> None:
        outcome["result"] = sc.parallelize(range(20), 2).mapPartitionsWithIndex(count_then_wait)
        outcome["result"] = outcome["result"].collect()

    job = threading.Thread(target=run, daemon=True)
    job.start()
    try:
        wait_until(lambda: marks(tmp_path, "p0") and marks(tmp_path, "p1"), "both tasks run")
        [victim] = marks(tmp_path, "p0")
        assert victim in sc._runtime.cluster.worker_pids.values()
        os.kill(victim, signal.SIGKILL)  # partition 0's updates are already added there
    finally:
        release.touch()
    job.join(60)
    assert not job.is_alive()
    assert outcome["result"] == [10, 10]
    assert len(marks(tmp_path, "p0")) == 2, "partition 0 was not retried"
    assert counted.value == 20
    sc.stop()


@pytest.mark.timeout(90)
def test_tasks_recomputed_after_a_worker_loss_count_once(no_context: None, tmp_path: Path) -> None:
    sc = own_context()
    counted = sc.accumulator(0)
    release = tmp_path / "release"

    def count(index: int, part):
        records = 0
        for _ in part:
            counted.add(1)
            records += 1
        if index == 5:
            mark(tmp_path, "slow-started")
            block_until(release)
        mark(tmp_path, "done")
        return [records]

    outcome: dict[str, Any] = {}

    def run() -> None:
        rdd = sc.parallelize(range(60), 6).mapPartitionsWithIndex(count)
        outcome["result"] = rdd.collect()

    job = threading.Thread(target=run, daemon=True)
    job.start()
    try:
        wait_until(
            lambda: len(marks(tmp_path, "done")) == 5 and marks(tmp_path, "slow-started"),
            "five partitions finished and the sixth runs",
        )
        # Both workers die: the finished partitions' results are lost and recomputed.
        for pid in list(sc._runtime.cluster.worker_pids.values()):
            os.kill(pid, signal.SIGKILL)
    finally:
        release.touch()
    job.join(60)
    assert not job.is_alive()
    assert outcome["result"] == [10] * 6
    assert len(marks(tmp_path, "done")) > 6, "no finished task was recomputed"
    sc.stop()
    assert counted.value == 60
