"""sparkish's own metrics, task names, the jobs page and ``statusTracker`` against real clusters.

Counters are read from the real endpoints (the scheduler's ``/metrics``, the driver endpoint,
the workers' ``/metrics``) before and after each job: they must move by exactly what the job
did. ``statusTracker`` is polled while a job whose tasks wait for files runs, so the test
decides when each task may finish.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
import uuid
from operator import add
from pathlib import Path

import pytest

from sparkish import SparkConf, SparkContext
from sparkish.errors import JobCancelledError
from tests import helpers
from tests.monitoring_helpers import (
    scheduler_base_url,
    scheduler_metrics_url,
    scrape,
    total,
    value,
    worker_metrics_urls,
)

pytestmark = pytest.mark.timeout(300)


def scheduler_prefixes(sc: SparkContext) -> set[str]:
    return set(
        sc.dask_client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    )


# --------------------------------------------------------------------------- task names
def test_task_keys_carry_the_rdd_operation(sc, tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("a b a\nc b a\n")
    words = sc.textFile(str(path), 2).flatMap(str.split).persist()
    assert words.count() == 6
    assert sorted(words.map(lambda w: (w, 1)).reduceByKey(add, 2).collect()) == [
        ("a", 3),
        ("b", 2),
        ("c", 1),
    ]
    words.map(str.upper).saveAsTextFile(str(tmp_path / "out"))
    words.unpersist()

    prefixes = scheduler_prefixes(sc)
    # What the Dask dashboard's progress bars and task stream are labelled with.
    assert {"count", "collect", "saveAsTextFile", "reduceByKey-map", "flatMap-persist"} <= prefixes
    assert not any(prefix.startswith(("local", "shuffle-map", "persist-")) for prefix in prefixes)


# --------------------------------------------------------------------------- exact counters
@pytest.mark.parametrize(
    "make_pairs",
    [
        pytest.param(lambda n: [(f"key{i}", i) for i in range(n)], id="pickled-records"),
        pytest.param(lambda n: [(i, i * 3) for i in range(n)], id="int-columns"),
    ],
)
def test_shuffle_counters_rise_by_exactly_the_records_shuffled(sc, make_pairs):
    records = 1234
    url = scheduler_metrics_url(sc)
    before = scrape(url)
    assert sc.parallelize(make_pairs(records), 4).partitionBy(3).count() == records
    after = scrape(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("sparkish_shuffle_records_written_total") == records
    assert delta("sparkish_shuffle_records_read_total") == records
    written = delta("sparkish_shuffle_written_bytes_total")
    assert written > records  # every record takes at least a byte
    assert delta("sparkish_shuffle_read_bytes_total") == written
    assert delta("sparkish_tasks_completed_total", operation="partitionBy-map") == 4
    assert delta("sparkish_tasks_completed_total", operation="count") == 3
    assert delta("sparkish_stages_started_total", operation="partitionBy-map") == 1
    assert value(after, "sparkish_tasks_active", operation="count") == 0


def test_input_and_output_bytes_by_protocol(sc, tmp_path):
    lines = helpers.numbered_lines(500)
    source = tmp_path / "input.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    url = scheduler_metrics_url(sc)

    before = scrape(url)
    assert sc.textFile(str(source), 1).count() == len(lines)
    middle = scrape(url)
    sc.parallelize(lines, 3).saveAsTextFile(str(tmp_path / "out"))
    after = scrape(url)

    read = value(middle, "sparkish_input_read_bytes_total", protocol="file") - value(
        before, "sparkish_input_read_bytes_total", protocol="file"
    )
    assert read == source.stat().st_size
    written = value(after, "sparkish_output_written_bytes_total", protocol="file") - value(
        middle, "sparkish_output_written_bytes_total", protocol="file"
    )
    part_files = sorted((tmp_path / "out").glob("part-*"))
    assert len(part_files) == 3
    assert written == sum(part.stat().st_size for part in part_files)
    records = value(after, "sparkish_output_records_written_total", protocol="file") - value(
        middle, "sparkish_output_records_written_total", protocol="file"
    )
    assert records == len(lines)


def test_task_failures_are_counted_by_exception_type(sc):
    url = scheduler_metrics_url(sc)
    labels = {"operation": "collect", "exception": "ZeroDivisionError"}
    before = value(scrape(url), "sparkish_task_failures_total", **labels)
    with pytest.raises(ZeroDivisionError):
        sc.parallelize([1, 0], 2).map(lambda x: 1 // x).collect()
    assert value(scrape(url), "sparkish_task_failures_total", **labels) == before + 1


def test_worker_local_metrics_count_spilled_shuffle_bytes(sc):
    before = sum(
        total(scrape(u), "sparkish_shuffle_spilled_bytes_total") for u in worker_metrics_urls(sc)
    )
    written_before = value(
        scrape(scheduler_metrics_url(sc)), "sparkish_shuffle_written_bytes_total"
    )
    pairs = [(i % 500, i) for i in range(20_000)]
    assert len(sc.parallelize(pairs, 4).groupByKey(4).collect()) == 500
    urls = worker_metrics_urls(sc)
    assert len(urls) == 2
    spilled = sum(total(scrape(u), "sparkish_shuffle_spilled_bytes_total") for u in urls) - before
    written = value(scrape(scheduler_metrics_url(sc)), "sparkish_shuffle_written_bytes_total")
    # Received buckets go to disk with their 24-byte frame headers.
    assert spilled >= written - written_before > 0


# --------------------------------------------------------------------------- statusTracker
def wait_for_go(directory: str):
    def wait(x: int) -> int:
        Path(directory, f"started-{x}").touch()
        deadline = time.monotonic() + 120
        while not Path(directory, f"go-{x}").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return x

    return wait


def test_status_tracker_counts_move_while_a_job_runs(sc, tmp_path):
    tracker = sc.statusTracker()
    group = f"watched-{uuid.uuid4().hex[:6]}"
    results: list = []

    def job() -> None:
        sc.setJobGroup(group, "a job whose tasks wait for files")
        rdd = sc.parallelize(range(4), 4).map(wait_for_go(str(tmp_path)))
        results.append(rdd.map(lambda x: (x % 2, x)).reduceByKey(add, 2).collect())

    thread = threading.Thread(target=job)
    thread.start()
    try:
        helpers.wait_until(lambda: tracker.getJobIdsForGroup(group), "the job started", 60)
        [job_id] = tracker.getJobIdsForGroup(group)
        assert tracker.getJobInfo(job_id).status == "RUNNING"
        assert job_id in tracker.getActiveJobsIds()
        stage_ids = tracker.getJobInfo(job_id).stageIds
        by_name = {tracker.getStageInfo(s).name.endswith("(map side)"): s for s in stage_ids}
        map_stage, reduce_stage = by_name[True], by_name[False]

        def counts(stage_id: int) -> tuple[int, int, int]:
            info = tracker.getStageInfo(stage_id)
            return info.numActiveTasks, info.numCompletedTasks, info.numFailedTasks

        # Two worker processes with one thread each: two tasks run, two wait their turn.
        helpers.wait_until(lambda: counts(map_stage) == (2, 0, 0), "two map tasks run", 60)
        assert tracker.getStageInfo(map_stage).numTasks == 4
        assert counts(reduce_stage) == (0, 0, 0)  # waits for the map stage
        first = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("started-*"))[0]
        (tmp_path / f"go-{first}").touch()
        helpers.wait_until(lambda: counts(map_stage) == (2, 1, 0), "one map task finished", 60)
        for x in range(4):
            (tmp_path / f"go-{x}").touch()
        thread.join(60)
    finally:
        for x in range(4):
            (tmp_path / f"go-{x}").touch()
        thread.join(60)
    assert sorted(results[0]) == [(0, 2), (1, 4)]
    assert tracker.getJobInfo(job_id).status == "SUCCEEDED"
    assert counts(map_stage) == (0, 4, 0)
    assert counts(reduce_stage) == (0, 2, 0)
    assert job_id not in tracker.getActiveJobsIds()


def test_status_tracker_reports_a_failed_job_and_its_failed_task(sc):
    tracker = sc.statusTracker()
    group = f"failing-{uuid.uuid4().hex[:6]}"
    sc.setJobGroup(group, "fails in one task")
    with pytest.raises(ZeroDivisionError):
        sc.parallelize(range(4), 2).map(lambda x: 1 // (x - 3)).count()
    [job_id] = tracker.getJobIdsForGroup(group)
    info = tracker.getJobInfo(job_id)
    assert info.status == "FAILED"
    stage = tracker.getStageInfo(info.stageIds[0])
    assert stage.numFailedTasks == 1
    assert stage.numActiveTasks == 0
    assert stage.numCompletedTasks <= 1


# --------------------------------------------------------------------------- the jobs page
def test_jobs_page_lists_descriptions_groups_and_stages(sc):
    group = f"nightly-{uuid.uuid4().hex[:6]}"
    sc.setJobGroup(group, "nightly word totals")
    assert sc.parallelize(range(10), 2).map(lambda x: (x % 3, 1)).reduceByKey(add).count() == 3
    base = scheduler_base_url(sc)

    def our_job() -> dict | None:
        with urllib.request.urlopen(base + "/sparkish/api/jobs", timeout=30) as response:
            jobs = json.loads(response.read())
        return next((j for j in jobs if j["jobGroup"] == group and j["status"] != "RUNNING"), None)

    helpers.wait_until(our_job, "the jobs page has the finished job", 30)
    job = our_job()
    assert job is not None
    assert job["description"] == "nightly word totals"
    assert job["action"] == "count"
    assert job["status"] == "SUCCEEDED"
    assert job["applicationId"] == sc.applicationId
    operations = {stage["operation"] for stage in job["stages"]}
    assert operations == {"count", "reduceByKey-map"}
    assert all(stage["numCompletedTasks"] == stage["numTasks"] for stage in job["stages"])
    with urllib.request.urlopen(base + "/sparkish/jobs", timeout=30) as response:
        page = response.read().decode()
    assert "nightly word totals" in page and group in page and "reduceByKey-map" in page


# --------------------------------------------------------------------------- driver endpoint
def test_the_driver_endpoint_is_off_by_default(sc):
    assert sc._runtime.monitoring.endpoint is None
    assert sc._runtime.monitoring.driver_metrics is not None


def test_driver_endpoint_serves_job_metrics_and_scrape_targets(no_context, tmp_path):
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.metrics.port", "0")
    sc = SparkContext("local[2]", "driver-endpoint", conf=conf)
    endpoint = sc._runtime.monitoring.endpoint_url
    assert endpoint is not None
    sc.parallelize(range(10), 2).count()
    sc.parallelize(range(10), 2).count()
    with pytest.raises(ZeroDivisionError):
        sc.parallelize([0], 1).map(lambda x: 1 // x).collect()
    release = tmp_path / "release"

    def blocked_job() -> None:
        sc.setJobGroup("doomed", "cancelled while it runs")
        with pytest.raises(JobCancelledError):
            sc.parallelize([1], 1).map(
                lambda x: helpers.wait_until(release.exists, "release", 60) or x
            ).collect()

    thread = threading.Thread(target=blocked_job)
    thread.start()
    helpers.wait_until(lambda: sc.statusTracker().getJobIdsForGroup("doomed"), "started", 60)
    samples = scrape(endpoint + "/metrics")
    assert value(samples, "sparkish_jobs_active") == 1
    sc.cancelJobGroup("doomed")
    thread.join(60)
    release.touch()

    samples = scrape(endpoint + "/metrics")
    assert value(samples, "sparkish_jobs_started_total", action="count") == 2
    assert value(samples, "sparkish_jobs_started_total", action="collect") == 2
    finished = "sparkish_jobs_finished_total"
    assert value(samples, finished, action="count", status="succeeded") == 2
    assert value(samples, finished, action="collect", status="failed") == 1
    assert value(samples, finished, action="collect", status="cancelled") == 1
    assert value(samples, "sparkish_jobs_active") == 0
    assert value(samples, "sparkish_job_duration_seconds_count", action="count") == 2
    assert value(samples, "sparkish_job_duration_seconds_sum", action="count") > 0

    def targets() -> dict[str, list[str]]:
        with urllib.request.urlopen(endpoint + "/targets", timeout=30) as response:
            return {g["labels"]["sparkish_role"]: g["targets"] for g in json.loads(response.read())}

    # (a worker still running the cancelled task may be restarting)
    helpers.wait_until(lambda: len(targets().get("worker", [])) == 2, "two workers listed", 60)
    groups = targets()
    assert groups["driver"] == [endpoint.removeprefix("http://")]
    assert groups["scheduler"] == [scheduler_base_url(sc).removeprefix("http://")]
    for target in groups["worker"]:
        assert total(scrape(f"http://{target}/metrics"), "dask_worker_threads") == 1
    sc.stop()


def test_metrics_can_be_switched_off(no_context):
    conf = (
        SparkConf()
        .set("spark.ui.port", "0")
        .set("sparkish.metrics.enabled", "false")
        .set("sparkish.metrics.port", "0")
    )
    sc = SparkContext("local[2]", "metrics-off", conf=conf)
    monitoring = sc._runtime.monitoring
    assert monitoring.endpoint is None and monitoring.driver_metrics is None
    url = scheduler_metrics_url(sc)
    before = scrape(url)
    assert sc.parallelize([(i, i) for i in range(100)], 2).partitionBy(2).count() == 100
    after = scrape(url)
    assert value(after, "sparkish_shuffle_records_written_total") == value(
        before, "sparkish_shuffle_records_written_total"
    )
    # Progress is not a metric: statusTracker still sees the tasks.
    tracker = sc.statusTracker()
    job = tracker.getJobInfo(max(tracker.getJobIdsForGroup()))
    assert [tracker.getStageInfo(s).numCompletedTasks for s in job.stageIds] == [2, 2]
    sc.stop()


# --------------------------------------------------------------------------- worker loss
MAP_PARTITIONS = 8
RECORDS_PER_PARTITION = 40


@pytest.mark.cluster
def test_a_task_recomputed_after_a_worker_loss_counts_once(no_context, tmp_path):
    # One task per map partition, so that the killed worker surely runs a map task.
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.task.grouping", "false")
    sc = SparkContext("local[2]", "recompute", conf=conf)
    url = scheduler_metrics_url(sc)
    before = scrape(url)
    directory = str(tmp_path)

    def slow_pairs(split, records):
        Path(directory, f"started-{split}-{os.getpid()}").touch()
        for record in records:
            time.sleep(0.01)
            yield record, record
        Path(directory, f"finished-{split}-{os.getpid()}").touch()

    def markers(kind: str) -> list[tuple[int, int]]:
        return [tuple(map(int, p.name.split("-")[1:])) for p in tmp_path.glob(f"{kind}-*")]

    pids = set(sc._runtime.cluster.worker_pids.values())
    killed: list[int] = []
    tracker = sc.statusTracker()

    def map_tasks_done() -> int:
        stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
        return sum(s.numCompletedTasks for s in stages if s and s.name.endswith("(map side)"))

    def kill_during_map_side() -> None:
        # Once the scheduler holds two map results, kill a worker running another map task:
        # the shuffle restarts and computes the finished map tasks again, under the same keys.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            finished = set(markers("finished"))
            running = {pid for split, pid in set(markers("started")) - finished if pid in pids}
            if running and map_tasks_done() >= 2:
                killed.append(min(running))
                os.kill(killed[0], signal.SIGKILL)
            time.sleep(0.005)

    killer = threading.Thread(target=kill_during_map_side, daemon=True)
    killer.start()
    records = MAP_PARTITIONS * RECORDS_PER_PARTITION
    result = (
        sc.parallelize(range(records), MAP_PARTITIONS)
        .mapPartitionsWithIndex(slow_pairs)
        .partitionBy(4)
        .count()
    )
    killer.join(5)
    assert killed, "no worker was killed while the map side ran"
    assert result == records
    assert len(markers("started")) > MAP_PARTITIONS  # map tasks ran again
    after = scrape(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("sparkish_shuffle_records_written_total") == records
    assert delta("sparkish_shuffle_records_read_total") == records
    assert delta("sparkish_tasks_completed_total", operation="partitionBy-map") == MAP_PARTITIONS
    assert delta("sparkish_tasks_recomputed_total") >= 1
    assert delta("sparkish_worker_losses_total") == 1
    sc.stop()
