"""Worker processes that die: crashes in user code, the memory limit, a killed driver.

Each test uses its own ``local[N]`` context (the shared one must not see crashes) and real
worker processes: tasks call ``os._exit`` or raise SIGSEGV in their own process, allocate past
the memory limit, or spin in native code holding the GIL while the driver is SIGKILLed.
"""

from __future__ import annotations

import ctypes
import inspect
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from sparkish import JobCancelledError, SparkConf, SparkContext, StorageLevel, WorkerLostError
from tests import helpers

REPO_ROOT = Path(__file__).resolve().parent.parent


def own_context(master: str = "local[2]", **settings: str) -> SparkContext:
    conf = SparkConf(loadDefaults=False).set("spark.ui.port", "0")
    for key, value in settings.items():
        conf.set(key, value)
    return SparkContext(master, conf=conf)


def assert_usable(sc: SparkContext) -> None:
    assert sc.parallelize(range(10), 2).map(lambda x: x * 3).sum() == 135


def exit_on(value: int):
    def crash(x: int) -> int:
        if x == value:
            os._exit(1)
        return x

    return crash


def crash_once_per_partition(directory: Path):
    """Each partition's first attempt kills its worker; later attempts succeed."""

    def crash_first_attempt(split: int, iterator):
        marker = directory / f"attempted-{split}"
        if not marker.exists():
            marker.touch()
            os._exit(1)
        return [sum(iterator)]

    return crash_first_attempt


def is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# --------------------------------------------------------------------------- crashes
@pytest.mark.timeout(240)
def test_crashing_and_cancelled_jobs_never_disable_the_context(
    no_context: None, tmp_path: Path
) -> None:
    sc = own_context(**{"spark.task.maxFailures": "2", "spark.python.task.killTimeout": "0.5"})
    for _ in range(4):
        with pytest.raises(WorkerLostError, match="exit code 1"):
            sc.parallelize(range(4), 4).map(exit_on(2)).collect()
    # A cancelled job whose task never ends: sparkish kills its worker, which costs nothing.
    started = tmp_path / "started"

    def spin(x: int) -> int:
        started.touch()
        while True:
            time.sleep(0.05)

    outcome: list[BaseException] = []

    def doomed_job() -> None:
        sc.setJobGroup("doomed", "a job to cancel")
        try:
            sc.parallelize([1], 1).map(spin).collect()
        except BaseException as error:
            outcome.append(error)

    job = threading.Thread(target=doomed_job)
    job.start()
    helpers.wait_until(started.exists, "the task started", 60)
    sc.cancelJobGroup("doomed")
    job.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], JobCancelledError), outcome
    assert_usable(sc)
    assert sc._runtime.cluster.failure is None
    assert len(sc._runtime.cluster.worker_pids) == 2


@pytest.mark.timeout(240)
def test_only_the_task_running_when_a_worker_dies_is_charged(
    no_context: None, tmp_path: Path
) -> None:
    # One worker, so every task of the job is assigned to it while one runs: each of the six
    # deaths would count against every task still waiting if queued tasks were charged too.
    sc = own_context("local[1]")
    rdd = sc.parallelize(range(60), 6).mapPartitionsWithIndex(crash_once_per_partition(tmp_path))
    assert rdd.collect() == [sum(range(start, start + 10)) for start in range(0, 60, 10)]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"attempted-{split}" for split in range(6)
    ]
    assert_usable(sc)


@pytest.mark.timeout(240)
def test_a_crash_names_operation_call_site_partition_attempts_and_signal(
    no_context: None,
) -> None:
    sc = own_context(**{"spark.task.maxFailures": "3"})

    def segfault_on_five(x: int) -> int:
        if x == 5:
            ctypes.string_at(0)  # reads address 0: a real segmentation fault
        return x

    line = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]
    with pytest.raises(WorkerLostError) as raised:
        sc.parallelize(range(8), 8).map(segfault_on_five).collect()
    error = raised.value
    message = str(error)
    assert isinstance(error, RuntimeError)
    assert f"RDD.map at test_worker_failures.py:{line}" in message, message
    assert f"collect at test_worker_failures.py:{line}" in message, message
    assert "partition 5:" in message and error.partition == 5, message
    assert error.attempts >= 3, message
    assert f"{error.attempts} times (spark.task.maxFailures=3)" in message, message
    assert "segmentation fault (SIGSEGV)" in message, message
    assert_usable(sc)


@pytest.mark.timeout(120)
def test_the_local_master_sets_max_failures(no_context: None) -> None:
    # One worker: no other worker can start the task's second attempt before the first death
    # is charged (with more workers, attempts can exceed the limit by the retries under way).
    sc = own_context("local[1, 1]")
    with pytest.raises(WorkerLostError, match=r"1 times \(spark.task.maxFailures=1\)"):
        sc.parallelize(range(4), 2).map(exit_on(3)).collect()
    assert_usable(sc)


# --------------------------------------------------------------------------- memory
MEMORY_LIMIT = {"sparkish.local.memoryLimit": "300MiB"}


@pytest.mark.timeout(180)
def test_a_task_over_the_memory_limit_fails_naming_operation_partition_and_limit(
    no_context: None,
) -> None:
    sc = own_context("local[1]", **MEMORY_LIMIT, **{"spark.task.maxFailures": "2"})

    def hoard_on_one(x: int) -> int:
        if x == 1:
            hoard = [b"x" * 2**20 for _ in range(400)]  # 400 MiB, every page written
            time.sleep(30)
            return len(hoard)
        return x

    line = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]
    with pytest.raises(WorkerLostError) as raised:
        sc.parallelize(range(4), 4).map(hoard_on_one).collect()
    message = str(raised.value)
    assert f"RDD.map at test_worker_failures.py:{line}" in message, message
    assert "partition 1:" in message, message
    assert "killed: out of memory" in message, message
    assert "300 MiB limit" in message and "sparkish.local.memoryLimit" in message, message
    assert_usable(sc)


def load_model_once_per_worker(x: int) -> int:
    """A task that keeps a 185 MiB object in its worker, as tasks loading a model do: with the
    worker's ~70 MiB, above Dask's pause threshold (80 % of 300 MiB), below the kill (95 %)."""
    import builtins

    model = getattr(builtins, "_sparkish_test_model", None)
    if model is None:
        model = bytearray(185 * 2**20)
        for offset in range(0, len(model), 4096):
            model[offset] = 1
        builtins._sparkish_test_model = model  # type: ignore[attr-defined]
    return x


@pytest.mark.timeout(120)
def test_workers_holding_memory_above_the_pause_threshold_keep_running_tasks(
    no_context: None,
) -> None:
    sc = own_context("local[2]", **MEMORY_LIMIT)
    assert sc.parallelize(range(100), 4).map(load_model_once_per_worker).count() == 100
    assert sc.parallelize(range(100), 8).map(load_model_once_per_worker).sum() == 4950
    assert sc._runtime.cluster.restarts == 0


@pytest.mark.timeout(180)
def test_a_partition_persisted_memory_and_disk_beyond_the_memory_limit_goes_to_disk(
    no_context: None,
) -> None:
    sc = own_context("local[1]", **MEMORY_LIMIT)
    count = 2_500_000  # 100-character strings: about 370 MB as Python objects

    def rows(split: int):
        return (f"{index:08d}" + "y" * 92 for index in range(count))

    big = sc.parallelize([0], 1).flatMap(rows).persist(StorageLevel.MEMORY_AND_DISK)
    assert big.count() == count
    assert big.map(len).sum() == count * 100
    assert big.filter(lambda line: line.startswith("0000000")).count() == 10
    assert sc._runtime.cluster.restarts == 0


# --------------------------------------------------------------------------- a killed driver
DRIVER = textwrap.dedent(
    """
    import itertools, json, sys
    from pathlib import Path
    from sparkish import SparkConf, SparkContext

    started = Path(sys.argv[1])
    sc = SparkContext("local[2]", conf=SparkConf(loadDefaults=False).set("spark.ui.port", "0"))
    print(json.dumps(sorted(sc._runtime.cluster.worker_pids.values())), flush=True)

    def hold_the_gil(x):
        started.touch()
        # sum over a C iterator never returns to the interpreter loop: no other thread of the
        # worker runs until it ends.
        return sum(itertools.repeat(1, 10**15))

    sc.parallelize([1, 2], 2).map(hold_the_gil).collect()
    """
)


@pytest.mark.timeout(120)
def test_workers_die_with_a_killed_driver_while_a_task_holds_the_gil(tmp_path: Path) -> None:
    started = tmp_path / "started"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(started)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    worker_pids: list[int] = []
    try:
        assert driver.stdout is not None
        worker_pids = json.loads(driver.stdout.readline())
        assert len(worker_pids) == 2
        helpers.wait_until(started.exists, "a task holds the GIL", 60)
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
        helpers.wait_until(
            lambda: all(is_gone(pid) for pid in worker_pids), "the workers exited", 30
        )
    finally:
        driver.kill()
        driver.wait()
        for pid in worker_pids:
            if not is_gone(pid):
                os.kill(pid, signal.SIGKILL)


STOPPING_DRIVER = textwrap.dedent(
    """
    from sparkish import SparkConf, SparkContext, StorageLevel

    sc = SparkContext("local[2]", conf=SparkConf(loadDefaults=False).set("spark.ui.port", "0"))
    pairs = sc.parallelize(range(1000), 4).map(lambda x: (x % 7, x))
    on_disk = pairs.reduceByKey(lambda a, b: a + b).persist(StorageLevel.DISK_ONLY)
    assert on_disk.count() == 7
    assert sorted(on_disk.collect()) == sorted(
        (k, sum(x for x in range(1000) if x % 7 == k)) for k in range(7)
    )
    sc.stop()
    print("stopped")
    """
)


@pytest.mark.timeout(120)
def test_a_normal_stop_leaves_no_temporary_directories(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TMPDIR": str(temporary)}
    finished = subprocess.run(
        [sys.executable, "-c", STOPPING_DRIVER],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=100,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "stopped"
    assert sorted(os.listdir(temporary)) == []
