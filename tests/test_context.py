"""Tests for sparkish.SparkContext: lifecycle, properties, job control and RDD creation.

``pyspark/core/context.py`` is the specification. Tests that stop the context, kill workers or
need their own settings create their own context (``no_context`` fixture); the others share the
``sc`` fixture (``local[2]``).
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import threading
import time
import tracemalloc
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

import sparkish
from sparkish import (
    InheritableThread,
    JobCancelledError,
    SparkConf,
    SparkContext,
    SparkFiles,
)
from tests import helpers


# --------------------------------------------------------------------------- helpers
def local_conf(**settings: str) -> SparkConf:
    """A conf without submitted defaults and with the dashboard on a free port."""
    conf = SparkConf(loadDefaults=False).set("spark.ui.port", "0")
    for key, value in settings.items():
        conf.set(key.replace("_", "."), value)
    return conf


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    helpers.wait_until(condition, what, timeout)


def is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def sparkish_worker_pids() -> set[int]:
    """Pids of the sparkish worker processes started by this (test) process."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "sparkish.worker.main" in child.cmdline() and not is_gone(child.pid):
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return pids


def close_leaked_clusters() -> int:
    """Close local clusters that no context owns any more (left behind by a failed start)."""
    import gc

    from sparkish.execution.cluster import LocalProcessCluster

    active = SparkContext._active_spark_context
    owned = active._runtime.cluster if active is not None else None
    leaked = [
        candidate
        for candidate in gc.get_objects()
        if isinstance(candidate, LocalProcessCluster)
        and not candidate._closing
        and candidate is not owned
    ]
    for cluster in leaked:
        cluster.close()
    return len(leaked)


class JobThread:
    """Runs ``action`` in a thread (which first applies ``setup``) and keeps its outcome."""

    def __init__(self, action: Callable[[], Any], setup: Callable[[], None] = lambda: None):
        self.result: Any = None
        self.error: BaseException | None = None

        def run() -> None:
            setup()
            try:
                self.result = action()
            except BaseException as error:  # noqa: BLE001 - reported to the test
                self.error = error

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 50.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the job's action did not return"


def block_until(release: Path, limit: float = 120.0) -> None:
    """Inside a task: wait until the test creates ``release`` (at most ``limit`` seconds)."""
    deadline = time.monotonic() + limit
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def mark(directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}-{os.getpid()}-{uuid.uuid4().hex[:6]}").touch()


def marks(directory: Path, prefix: str = "") -> list[str]:
    if not directory.exists():
        return []
    return [path.name for path in directory.iterdir() if path.name.startswith(prefix)]


# --------------------------------------------------------------------------- lifecycle
def test_get_or_create_returns_the_active_context(sc: SparkContext) -> None:
    assert SparkContext.getOrCreate() is sc
    # The conf of getOrCreate is ignored while a context is active, as in PySpark.
    assert SparkContext.getOrCreate(local_conf().setAppName("other")) is sc
    assert sc.appName == "sparkish-tests"


def test_get_or_create_builds_a_context_from_the_conf(no_context: None) -> None:
    conf = local_conf().setMaster("local[1]").setAppName("built-by-getOrCreate")
    sc = SparkContext.getOrCreate(conf)
    try:
        assert SparkContext._active_spark_context is sc
        assert (sc.master, sc.appName) == ("local[1]", "built-by-getOrCreate")
        assert sc.parallelize([1, 2, 3]).sum() == 6
    finally:
        sc.stop()
    assert SparkContext._active_spark_context is None


def test_only_one_context_may_be_active(sc: SparkContext) -> None:
    before = sparkish_worker_pids()
    with pytest.raises(ValueError, match="Cannot run multiple SparkContexts at once"):
        SparkContext("local[1]", "second", conf=local_conf())
    assert sparkish_worker_pids() == before, "the refused context must start no workers"
    assert SparkContext._active_spark_context is sc
    assert sc.parallelize(range(5)).count() == 5


def test_context_manager_stops_the_context_and_its_workers(no_context: None) -> None:
    with SparkContext("local[2]", "managed", conf=local_conf()) as sc:
        pids = set(sc._runtime.cluster.worker_pids.values())
        assert pids <= sparkish_worker_pids()
        assert sc.parallelize(range(4), 2).map(lambda x: x * 2).collect() == [0, 2, 4, 6]
    assert sc._stopped
    assert SparkContext._active_spark_context is None
    assert all(is_gone(pid) for pid in pids)


def test_stop_is_idempotent(no_context: None) -> None:
    sc = SparkContext("local[1]", conf=local_conf())
    sc.stop()
    sc.stop()
    assert SparkContext._active_spark_context is None
    # A new context can be created after a stop.
    with SparkContext("local[1]", conf=local_conf()) as again:
        assert again.parallelize([1]).collect() == [1]


@pytest.mark.parametrize(
    "use",
    [
        pytest.param(lambda sc, rdd, path: sc.parallelize([1, 2]), id="parallelize"),
        pytest.param(lambda sc, rdd, path: sc.range(3), id="range"),
        pytest.param(lambda sc, rdd, path: sc.broadcast(1), id="broadcast"),
        pytest.param(lambda sc, rdd, path: sc.accumulator(0), id="accumulator"),
        pytest.param(lambda sc, rdd, path: sc.addFile(path), id="addFile"),
        pytest.param(lambda sc, rdd, path: rdd.count(), id="action-on-earlier-rdd"),
        pytest.param(lambda sc, rdd, path: rdd.map(str).collect(), id="transform-earlier-rdd"),
        pytest.param(lambda sc, rdd, path: sc.runJob(rdd, list), id="runJob"),
    ],
)
@pytest.mark.timeout(60)
def test_using_a_stopped_context_raises_a_clear_error(
    no_context: None, tmp_path: Path, use: Callable
) -> None:
    path = tmp_path / "data.txt"
    path.write_text("x")
    sc = SparkContext("local[1]", conf=local_conf())
    rdd = sc.parallelize(range(10), 2)
    sc.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        use(sc, rdd, str(path))


@pytest.mark.timeout(60)
def test_stop_during_a_running_job_fails_that_job(no_context: None, tmp_path: Path) -> None:
    sc = SparkContext("local[2]", conf=local_conf())
    release = tmp_path / "release"
    started = tmp_path / "started"

    def wait(x: int) -> int:
        mark(started, "task")
        block_until(release)
        return x

    job = JobThread(lambda: sc.parallelize(range(2), 2).map(wait).collect())
    pids = set(sc._runtime.cluster.worker_pids.values())
    try:
        wait_until(lambda: len(marks(started)) == 2, "both tasks started")
        sc.stop()
        job.join()
        assert not release.exists()
        assert isinstance(job.error, JobCancelledError), job.error
        assert "stopped" in str(job.error)
        wait_until(lambda: all(is_gone(pid) for pid in pids), "the workers exited")
    finally:
        release.touch()


# --------------------------------------------------------------------------- properties
def test_identity_properties(sc: SparkContext) -> None:
    assert sc.master == "local[2]"
    assert sc.appName == "sparkish-tests"
    assert sc.version == sparkish.__version__
    assert sc.applicationId.startswith("local-")
    assert sc.getConf().get("spark.master") == "local[2]"
    assert sc.getConf().get("spark.app.name") == "sparkish-tests"


def test_application_ids_and_start_times_of_two_contexts(no_context: None) -> None:
    before = int(time.time() * 1000)
    with SparkContext("local[1]", conf=local_conf()) as first:
        first_id, first_start = first.applicationId, first.startTime
    with SparkContext("local[1]", conf=local_conf()) as second:
        second_id, second_start = second.applicationId, second.startTime
    after = int(time.time() * 1000)
    assert first_id != second_id
    assert before <= first_start <= second_start <= after


def test_spark_user(sc: SparkContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPARK_USER", raising=False)
    assert sc.sparkUser() == getpass.getuser()
    monkeypatch.setenv("SPARK_USER", "alice")
    assert sc.sparkUser() == "alice"


def test_ui_web_url_answers_http_requests(sc: SparkContext) -> None:
    url = sc.uiWebUrl
    assert url is not None and url.startswith("http://")
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert response.read()


def test_ui_can_be_disabled(no_context: None) -> None:
    with SparkContext("local[1]", conf=local_conf(spark_ui_enabled="false")) as sc:
        assert sc.uiWebUrl is None
        assert sc.parallelize([1, 2]).sum() == 3


def test_default_parallelism_of_the_shared_local_2_context(sc: SparkContext) -> None:
    assert sc.defaultParallelism == 2
    assert sc.defaultMinPartitions == 2
    assert sc.parallelize(range(10)).getNumPartitions() == 2
    assert sc.range(10).getNumPartitions() == 2


@pytest.mark.parametrize("setting, min_partitions", [("5", 2), ("1", 1)])
def test_default_parallelism_follows_the_setting(
    no_context: None, setting: str, min_partitions: int
) -> None:
    conf = local_conf(spark_default_parallelism=setting)
    with SparkContext("local[1]", conf=conf) as sc:
        assert sc.defaultParallelism == int(setting)
        assert sc.defaultMinPartitions == min_partitions
        assert sc.parallelize(list(range(20))).getNumPartitions() == int(setting)
        assert sc.parallelize(range(20)).glom().map(len).sum() == 20


@pytest.mark.parametrize("setting", ["0", "-2", "many"])
def test_invalid_default_parallelism_is_refused(no_context: None, setting: str) -> None:
    try:
        with pytest.raises(ValueError, match="spark.default.parallelism"):
            SparkContext("local[1]", conf=local_conf(spark_default_parallelism=setting))
        assert SparkContext._active_spark_context is None
    finally:
        close_leaked_clusters()  # see test_a_failed_start_leaves_no_worker_processes


def test_a_failed_start_leaves_no_worker_processes(no_context: None) -> None:
    before = sparkish_worker_pids()
    try:
        with pytest.raises(ValueError):
            SparkContext("local[2]", conf=local_conf(spark_default_parallelism="0"))
        time.sleep(1.0)  # a leaked cluster's workers would still be running by now
        leaked = sparkish_worker_pids() - before
    finally:
        close_leaked_clusters()
    assert not leaked


def test_get_conf_returns_a_copy(sc: SparkContext) -> None:
    copy = sc.getConf()
    copy.set("spark.app.name", "changed").set("spark.extra", "1")
    assert sc.getConf().get("spark.app.name") == "sparkish-tests"
    assert not sc.getConf().contains("spark.extra")
    assert sc.getConf() is not sc.getConf()


def test_the_conf_passed_in_is_copied(no_context: None) -> None:
    conf = local_conf().setAppName("original")
    with SparkContext("local[1]", conf=conf) as sc:
        conf.setAppName("mutated later")
        assert sc.appName == "original"
        assert sc.getConf().get("spark.app.name") == "original"


def test_set_log_level(sc: SparkContext) -> None:
    def worker_levels(dask_worker) -> int:
        return logging.getLogger("distributed").level

    try:
        sc.setLogLevel("error")  # case-insensitive, as in Spark
        assert logging.getLogger("sparkish").getEffectiveLevel() == logging.ERROR
        assert set(sc.dask_client.run(worker_levels).values()) == {logging.ERROR}
        sc.setLogLevel("INFO")
        assert logging.getLogger("sparkish").getEffectiveLevel() == logging.INFO
        with pytest.raises(ValueError, match="VERBOSE"):
            sc.setLogLevel("VERBOSE")
        assert logging.getLogger("sparkish").getEffectiveLevel() == logging.INFO
    finally:
        sc.setLogLevel("WARN")
    assert sc.parallelize([1, 2]).sum() == 3


# --------------------------------------------------------------------------- local properties
def test_local_properties_are_per_thread(sc: SparkContext) -> None:
    sc.setLocalProperty("team", "main")
    seen: dict[str, Any] = {}

    def other_thread() -> None:
        seen["inherited"] = sc.getLocalProperty("team")
        sc.setLocalProperty("team", "other")
        seen["own"] = sc.getLocalProperty("team")

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == {"inherited": None, "own": "other"}
    assert sc.getLocalProperty("team") == "main"
    sc.setLocalProperty("team", None)
    assert sc.getLocalProperty("team") is None


def test_inheritable_thread_copies_the_properties(sc: SparkContext) -> None:
    sc.setJobGroup("parent-group", "parent")
    seen: dict[str, Any] = {}

    def child() -> None:
        seen["group"] = sc.getLocalProperty("spark.jobGroup.id")
        sc.setLocalProperty("spark.jobGroup.id", "child-group")

    thread = InheritableThread(target=child)
    thread.start()
    thread.join()
    assert seen == {"group": "parent-group"}
    assert sc.getLocalProperty("spark.jobGroup.id") == "parent-group"


def test_job_group_description_and_tags_are_recorded(sc: SparkContext) -> None:
    tracker = sc.statusTracker()
    group = f"group-{uuid.uuid4().hex[:8]}"
    sc.setJobGroup(group, "a described group")
    assert sc.getLocalProperty("spark.jobGroup.id") == group
    assert sc.getLocalProperty("spark.job.description") == "a described group"
    sc.setJobDescription("a new description")
    assert sc.getLocalProperty("spark.job.description") == "a new description"
    sc.addJobTag("tag-a")
    sc.addJobTag("tag-b")
    assert sc.getJobTags() == {"tag-a", "tag-b"}
    sc.parallelize(range(4), 2).count()
    sc.parallelize(range(4), 2).sum()
    group_jobs = tracker.getJobIdsForGroup(group)
    assert len(group_jobs) == 2
    assert sorted(tracker.getJobIdsForTag("tag-a")) == sorted(group_jobs)
    sc.removeJobTag("tag-a")
    assert sc.getJobTags() == {"tag-b"}
    sc.clearJobTags()
    assert sc.getJobTags() == set()
    with pytest.raises(ValueError, match="tag"):
        sc.addJobTag("has,comma")
    sc.setLocalProperty("spark.jobGroup.id", None)
    sc.parallelize([1]).count()
    assert len(tracker.getJobIdsForGroup(group)) == 2


# --------------------------------------------------------------------------- cancellation
def sleep_two_minutes(directory: Path) -> Callable[[int], int]:
    def sleepy(x: int) -> int:
        mark(directory / "started", f"task{x}")
        time.sleep(120)
        mark(directory / "finished", f"task{x}")
        return x

    return sleepy


def assert_workers_are_free(sc: SparkContext, directory: Path) -> None:
    """A small job completes although the cancelled tasks would still be sleeping."""
    assert sc.parallelize(range(10), 2).map(lambda x: x + 1).collect() == list(range(1, 11))
    assert not marks(directory / "finished"), "a cancelled task ran to its end"


@pytest.mark.timeout(60)
def test_cancel_job_group_stops_the_running_tasks(no_context: None, tmp_path: Path) -> None:
    sc = SparkContext("local[2]", conf=local_conf())
    sleepy = sleep_two_minutes(tmp_path)

    def in_group() -> None:
        sc.setJobGroup("slow-group", "two sleeping tasks")

    job = JobThread(lambda: sc.parallelize(range(2), 2).map(sleepy).collect(), in_group)
    wait_until(lambda: len(marks(tmp_path / "started")) == 2, "both tasks run")
    assert job.thread.is_alive()
    sc.cancelJobGroup("unrelated-group")
    assert job.thread.is_alive()
    sc.cancelJobGroup("slow-group")
    job.join()
    assert isinstance(job.error, JobCancelledError), job.error
    assert "slow-group" in str(job.error)
    assert_workers_are_free(sc, tmp_path)
    tracker = sc.statusTracker()
    [job_id] = tracker.getJobIdsForGroup("slow-group")
    assert job_id not in tracker.getActiveJobsIds()
    sc.stop()


@pytest.mark.timeout(60)
def test_cancel_all_jobs_stops_jobs_of_every_thread(no_context: None, tmp_path: Path) -> None:
    sc = SparkContext("local[2]", conf=local_conf())
    sleepy = sleep_two_minutes(tmp_path)
    grouped = JobThread(
        lambda: sc.parallelize([0], 1).map(sleepy).collect(),
        lambda: sc.setJobGroup("some-group", "grouped"),
    )
    ungrouped = JobThread(lambda: sc.parallelize([1], 1).map(sleepy).collect())
    wait_until(lambda: len(marks(tmp_path / "started")) == 2, "both jobs run")
    sc.cancelAllJobs()
    grouped.join()
    ungrouped.join()
    assert isinstance(grouped.error, JobCancelledError), grouped.error
    assert isinstance(ungrouped.error, JobCancelledError), ungrouped.error
    assert_workers_are_free(sc, tmp_path)
    sc.stop()


@pytest.mark.timeout(60)
def test_cancel_jobs_with_tag_spares_other_jobs(no_context: None, tmp_path: Path) -> None:
    sc = SparkContext("local[2]", conf=local_conf())
    release = tmp_path / "release"
    started = tmp_path / "started"

    def wait(x: int) -> int:
        mark(started, f"task{x}")
        block_until(release)
        return x * 10

    doomed = JobThread(
        lambda: sc.parallelize([1], 1).map(wait).collect(), lambda: sc.addJobTag("doomed")
    )
    spared = JobThread(
        lambda: sc.parallelize([2], 1).map(wait).collect(), lambda: sc.addJobTag("spared")
    )
    try:
        wait_until(lambda: len(marks(started)) == 2, "both jobs run")
        sc.cancelJobsWithTag("doomed")
        doomed.join()
        assert isinstance(doomed.error, JobCancelledError), doomed.error
        assert spared.thread.is_alive(), "the job with another tag was cancelled too"
    finally:
        release.touch()
    spared.join()
    assert spared.error is None
    assert spared.result == [20]
    sc.stop()


# --------------------------------------------------------------------------- status tracker
@pytest.mark.timeout(60)
def test_status_tracker_follows_running_finished_and_failed_jobs(
    sc: SparkContext, tmp_path: Path
) -> None:
    tracker = sc.statusTracker()
    release = tmp_path / "release"
    group = f"tracked-{uuid.uuid4().hex[:8]}"

    def wait(x: int) -> int:
        block_until(release)
        return x

    job = JobThread(
        lambda: sc.parallelize(range(2), 2).map(wait).collect(),
        lambda: sc.setJobGroup(group, "tracked"),
    )
    try:
        wait_until(lambda: tracker.getJobIdsForGroup(group), "the job is registered")
        [job_id] = tracker.getJobIdsForGroup(group)
        assert job_id in tracker.getActiveJobsIds()
        assert tracker.getJobInfo(job_id).status == "RUNNING"
    finally:
        release.touch()
    job.join()
    assert job.result == [0, 1]
    assert job_id not in tracker.getActiveJobsIds()
    info = tracker.getJobInfo(job_id)
    assert (info.jobId, info.status) == (job_id, "SUCCEEDED")

    def fail(x: int) -> int:
        raise ValueError("tracked failure")

    sc.setJobGroup(group, "failing")
    with pytest.raises(ValueError):
        sc.parallelize([1]).map(fail).collect()
    failed_id = max(tracker.getJobIdsForGroup(group))
    assert tracker.getJobInfo(failed_id).status == "FAILED"
    assert tracker.getJobInfo(10**9) is None


@pytest.mark.timeout(60)
def test_status_of_a_cancelled_job_is_failed(no_context: None, tmp_path: Path) -> None:
    sc = SparkContext("local[1]", conf=local_conf())
    release = tmp_path / "release"
    started = tmp_path / "started"

    def wait(x: int) -> int:
        mark(started, "task")
        block_until(release)
        return x

    job = JobThread(
        lambda: sc.parallelize([1], 1).map(wait).collect(), lambda: sc.setJobGroup("c", "c")
    )
    try:
        wait_until(lambda: marks(started), "the task runs")
        sc.cancelJobGroup("c")
        job.join()
    finally:
        release.touch()
    [job_id] = sc.statusTracker().getJobIdsForGroup("c")
    status = sc.statusTracker().getJobInfo(job_id).status
    sc.stop()
    assert status in ("RUNNING", "SUCCEEDED", "FAILED", "UNKNOWN")
    assert status == "FAILED"


def test_status_tracker_describes_the_stages_of_a_job(sc: SparkContext) -> None:
    tracker = sc.statusTracker()
    group = f"staged-{uuid.uuid4().hex[:8]}"
    sc.setJobGroup(group, "staged")
    sc.parallelize(range(6), 3).count()
    [job_id] = tracker.getJobIdsForGroup(group)
    info = tracker.getJobInfo(job_id)
    assert info.stageIds
    stage = tracker.getStageInfo(info.stageIds[-1])
    assert stage.numTasks == 3


# --------------------------------------------------------------------------- jobs and RDDs
def test_run_job_on_all_and_on_some_partitions(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(9), 3)
    assert sc.runJob(rdd, lambda part: [sum(part)]) == [3, 12, 21]
    assert sc.runJob(rdd, lambda part: (x * x for x in part), [2, 0]) == [36, 49, 64, 0, 1, 4]
    assert sc.runJob(rdd, lambda part: [len(list(part))], [1], True) == [3]
    assert sc.runJob(rdd, lambda part: [1], []) == []


def test_run_job_rejects_bad_arguments(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(9), 3)
    with pytest.raises(IndexError, match="partition 3"):
        sc.runJob(rdd, lambda part: part, [3])
    with pytest.raises(TypeError, match="runJob"):
        sc.runJob(rdd, "not a function")  # type: ignore[arg-type]


def test_empty_rdd(sc: SparkContext) -> None:
    empty = sc.emptyRDD()
    assert empty.getNumPartitions() == 0
    assert empty.collect() == []
    assert empty.count() == 0
    assert empty.isEmpty()
    assert empty.map(lambda x: x + 1).collect() == []
    assert sc.union([empty, sc.parallelize([1, 2], 2)]).collect() == [1, 2]


@pytest.mark.parametrize(
    "arguments",
    [(10,), (3, 17), (3, 17, 4), (20, 2, -3), (5, 5), (0,), (-4,), (1, 100, 7, 5)],
)
def test_range_matches_python_range(sc: SparkContext, arguments: tuple) -> None:
    start, *rest = arguments
    end = rest[0] if rest else None
    step = rest[1] if len(rest) > 1 else 1
    slices = rest[2] if len(rest) > 2 else None
    expected = list(range(start, end, step)) if end is not None else list(range(start))
    rdd = sc.range(start, end, step, slices)
    assert rdd.collect() == expected
    assert rdd.getNumPartitions() == (slices or sc.defaultParallelism)


@pytest.mark.timeout(60)
def test_a_huge_range_is_never_materialized(sc: SparkContext) -> None:
    size = 10**15
    tracemalloc.start()
    try:
        rdd = sc.parallelize(range(size), 4)
        same = sc.range(0, size, 1, 4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert rdd.getNumPartitions() == 4
    firsts = rdd.mapPartitionsWithIndex(lambda i, part: [(i, next(iter(part)))]).collect()
    # PySpark's start of slice i: int(i * size / numSlices) * step.
    assert firsts == [(i, int(i * size / 4)) for i in range(4)]
    assert same.take(3) == [0, 1, 2]
    assert sc.range(0, size, 10**12).count() == 1000


def test_parallelize_accepts_any_iterable(sc: SparkContext) -> None:
    assert sc.parallelize((x * 2 for x in range(5)), 2).collect() == [0, 2, 4, 6, 8]
    assert sorted(sc.parallelize({"b", "a", "c"}).collect()) == ["a", "b", "c"]
    assert sc.parallelize("abc", 3).glom().collect() == [["a"], ["b"], ["c"]]
    assert sc.parallelize([], 3).glom().collect() == [[], [], []]
    more = sc.parallelize([1, 2], 5)
    assert more.getNumPartitions() == 5
    assert more.collect() == [1, 2]


def test_union_keeps_order_duplicates_and_partitions(sc: SparkContext) -> None:
    first = sc.parallelize([1, 2, 3], 2)
    second = sc.parallelize([3, 4], 1)
    third = sc.range(5, 7, numSlices=2)
    union = sc.union([first, second, third])
    assert union.collect() == [1, 2, 3, 3, 4, 5, 6]
    assert union.getNumPartitions() == 5
    assert sc.union([second]).collect() == [3, 4]
    with pytest.raises(ValueError, match="empty"):
        sc.union([])


# --------------------------------------------------------------------------- files
def on_every_worker(sc: SparkContext, function: Callable[[], Any], tmp_path: Path) -> dict:
    """``{worker pid: function()}`` from one task on each of the context's worker processes.

    Every task waits until as many tasks run as there are workers: with one thread per worker,
    they then run on distinct processes.
    """
    workers = len(sc.dask_client.scheduler_info(n_workers=-1)["workers"])
    barrier = tmp_path / f"barrier-{uuid.uuid4().hex[:8]}"
    barrier.mkdir()

    def task(_: int) -> tuple[int, Any]:
        (barrier / str(os.getpid())).touch()
        deadline = time.monotonic() + 30
        while len(list(barrier.iterdir())) < workers and time.monotonic() < deadline:
            time.sleep(0.02)
        return os.getpid(), function()

    results = dict(sc.parallelize(range(workers), workers).map(task).collect())
    assert len(results) == workers, "the tasks did not run on distinct workers"
    return results


def test_add_file_reaches_every_worker(sc: SparkContext, tmp_path: Path) -> None:
    name = f"greeting-{uuid.uuid4().hex[:8]}.txt"
    source = tmp_path / "source"
    source.mkdir()
    (source / name).write_text("hello workers")
    sc.addFile(str(source / name))
    assert f"file:{source / name}" in sc.listFiles

    def read() -> tuple[str, bool]:
        path = SparkFiles.get(name)
        return Path(path).read_text(), path.startswith(SparkFiles.getRootDirectory())

    results = on_every_worker(sc, read, tmp_path)
    assert set(results.values()) == {("hello workers", True)}
    assert set(results) <= set(sc._runtime.cluster.worker_pids.values())
    assert Path(SparkFiles.get(name)).read_text() == "hello workers"  # the driver's copy


def test_add_file_recursive_directory(sc: SparkContext, tmp_path: Path) -> None:
    tree = tmp_path / f"tree-{uuid.uuid4().hex[:8]}"
    (tree / "sub" / "deeper").mkdir(parents=True)
    contents = {"top.txt": "top", "sub/mid.txt": "mid", "sub/deeper/low.bin": "low"}
    for relative, text in contents.items():
        (tree / relative).write_text(text)
    with pytest.raises(ValueError, match="recursive"):
        sc.addFile(str(tree))
    sc.addFile(str(tree), recursive=True)

    def read_tree() -> dict[str, str]:
        root = Path(SparkFiles.get(tree.name))
        return {
            str(path.relative_to(root)): path.read_text()
            for path in root.rglob("*")
            if path.is_file()
        }

    for found in on_every_worker(sc, read_tree, tmp_path).values():
        assert found == contents


def test_add_file_of_a_missing_path_names_it(sc: SparkContext, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file.txt"
    with pytest.raises(FileNotFoundError, match="no-such-file.txt"):
        sc.addFile(str(missing))


def test_add_py_file_module_and_zip_are_importable_in_tasks(
    sc: SparkContext, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    module = f"shipped_module_{suffix}"
    package = f"shipped_package_{suffix}"
    (tmp_path / f"{module}.py").write_text("FACTOR = 7\n\ndef scale(x):\n    return FACTOR * x\n")
    package_dir = tmp_path / "build" / package
    package_dir.mkdir(parents=True)
    (package_dir / "__init__.py").write_text("def greet(name):\n    return 'hi ' + name\n")
    archive = tmp_path / f"{package}.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(package_dir / "__init__.py", f"{package}/__init__.py")
    shutil.rmtree(tmp_path / "build")
    sc.addPyFile(str(tmp_path / f"{module}.py"))
    sc.addPyFile(str(archive))

    def use(x: int) -> tuple[int, str, bool]:
        import importlib

        shipped = importlib.import_module(module)
        greeting = importlib.import_module(package).greet(str(x))
        from_worker_files = shipped.__file__.startswith(SparkFiles.getRootDirectory())
        return shipped.scale(x), greeting, from_worker_files

    assert sc.parallelize(range(4), 4).map(use).collect() == [
        (7 * x, f"hi {x}", True) for x in range(4)
    ]
    for found in on_every_worker(sc, lambda: use(1), tmp_path).values():
        assert found == (7, "hi 1", True)
    with pytest.raises(ValueError, match="addPyFile"):
        sc.addPyFile(str(tmp_path / "notes.txt"))


@pytest.mark.parametrize("kind", ["gztar", "zip"])
def test_add_archive_is_unpacked_on_every_worker(
    sc: SparkContext, tmp_path: Path, kind: str
) -> None:
    content = tmp_path / "content"
    (content / "inner").mkdir(parents=True)
    (content / "inner" / "data.txt").write_text(f"packed as {kind}")
    base = tmp_path / f"bundle-{uuid.uuid4().hex[:8]}"
    archive = Path(shutil.make_archive(str(base), kind, root_dir=content))
    sc.addArchive(str(archive))
    assert f"file:{archive}" in sc.listArchives

    def read() -> tuple[bool, str]:
        unpacked = Path(SparkFiles.get(archive.name))
        return unpacked.is_dir(), (unpacked / "inner" / "data.txt").read_text()

    assert set(on_every_worker(sc, read, tmp_path).values()) == {(True, f"packed as {kind}")}
