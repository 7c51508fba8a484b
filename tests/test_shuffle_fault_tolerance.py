"""A shuffle survives a worker killed with SIGKILL, on real multi-process clusters.

Two clusters: sparkish's own ``local[N]`` (worker subprocesses restarted by the context's
supervisor) and a ``dask scheduler`` + ``dask worker --nworkers 2`` started here as separate
processes (workers restarted by their nanny). On each, a worker is killed

(a) while the map side of a ``reduceByKey`` runs: map tasks sleep a little per record, write a
    marker file when they start and when they finish, and a background thread kills the worker
    running a map task once other map tasks have already handed their output to the shuffle;
(b) between the map side and the reducers: the shuffled RDD is held, one action runs, a worker
    holding shuffle output is killed, and a second action reads the shuffle again.

Either way the action returns the complete, correct result, and the lost shuffle output is
rebuilt from lineage (more map tasks start than the RDD has map partitions).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from operator import add
from pathlib import Path

import psutil
import pytest

from sparkish import SparkConf, SparkContext
from tests import helpers

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

REPO_ROOT = Path(__file__).resolve().parent.parent

MAP_PARTITIONS = 8
RECORDS_PER_PARTITION = 40
SECONDS_PER_RECORD = 0.01  # about 0.4 s per map task, a few seconds of map side in all
REDUCE_PARTITIONS = 6  # every worker (2 or 3) owns some reduce partitions
DISTINCT_KEYS = 50
MAP_TASKS_DONE_BEFORE_KILL = 2


def expected_sums() -> dict[int, int]:
    sums: dict[int, int] = {}
    for record in range(MAP_PARTITIONS * RECORDS_PER_PARTITION):
        sums[record % DISTINCT_KEYS] = sums.get(record % DISTINCT_KEYS, 0) + record
    return sums


def as_unique_dict(pairs: list) -> dict:
    result = dict(pairs)
    assert len(result) == len(pairs), "a key appears in more than one output record"
    return result


def slow_reduce_by_key(context: SparkContext, marker_dir: Path):
    """``reduceByKey`` over slow map tasks that leave ``started-SPLIT-PID`` and
    ``finished-SPLIT-PID`` files in ``marker_dir``."""
    directory = str(marker_dir)

    def slow_pairs(split: int, records: Iterator[int]) -> Iterator[tuple[int, int]]:
        pid = os.getpid()
        Path(directory, f"started-{split}-{pid}").touch()
        for record in records:
            time.sleep(SECONDS_PER_RECORD)
            yield record % DISTINCT_KEYS, record
        Path(directory, f"finished-{split}-{pid}").touch()

    data = range(MAP_PARTITIONS * RECORDS_PER_PARTITION)
    return (
        context.parallelize(data, MAP_PARTITIONS)
        .mapPartitionsWithIndex(slow_pairs)
        .reduceByKey(add, REDUCE_PARTITIONS)
    )


def markers(marker_dir: Path, kind: str) -> set[tuple[int, int]]:
    """``(split, pid)`` of the ``kind`` ("started" or "finished") marker files."""
    found = set()
    for path in marker_dir.glob(f"{kind}-*"):
        _, split, pid = path.name.split("-")
        found.add((int(split), int(pid)))
    return found


class MapSideKiller(threading.Thread):
    """SIGKILLs a worker that is running a map task, once some map tasks have finished."""

    def __init__(self, marker_dir: Path, worker_pids: set[int]) -> None:
        super().__init__(name="map-side-killer", daemon=True)
        self.marker_dir = marker_dir
        self.worker_pids = worker_pids
        self.killed_pid: int | None = None
        self.finished_at_kill = -1
        self.error: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            finished = markers(self.marker_dir, "finished")
            running = {
                pid
                for split, pid in markers(self.marker_dir, "started") - finished
                if pid in self.worker_pids
            }
            if len(finished) >= MAP_TASKS_DONE_BEFORE_KILL and running:
                self.killed_pid = min(running)
                os.kill(self.killed_pid, signal.SIGKILL)
                self.finished_at_kill = len(markers(self.marker_dir, "finished"))
                return
            time.sleep(0.005)
        self.error = "no map task was seen running on a worker"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    helpers.wait_until(condition, what, timeout)


def run_kill_during_map_side(context: SparkContext, marker_dir: Path, worker_pids: set[int]):
    """Scenario (a); returns the pid that was killed."""
    reduced = slow_reduce_by_key(context, marker_dir)
    killer = MapSideKiller(marker_dir, worker_pids)
    killer.start()
    result = reduced.collect()
    killer.join(timeout=5)

    assert killer.error is None, killer.error
    assert killer.killed_pid is not None, "the action finished before a worker was killed"
    assert killer.finished_at_kill < MAP_PARTITIONS, "the map side had already finished"
    assert as_unique_dict(result) == expected_sums()
    # the killed worker's running map task and the shuffle output it held were redone
    assert len(markers(marker_dir, "started")) > MAP_PARTITIONS
    return killer.killed_pid


def run_kill_between_map_side_and_reducers(
    context: SparkContext, marker_dir: Path, kill_one_worker: Callable[[], int]
) -> int:
    """Scenario (b); returns the pid that was killed."""
    reduced = slow_reduce_by_key(context, marker_dir)
    assert reduced.count() == DISTINCT_KEYS
    assert len(markers(marker_dir, "finished")) == MAP_PARTITIONS
    started_before_kill = len(markers(marker_dir, "started"))

    killed_pid = kill_one_worker()
    assert as_unique_dict(reduced.collect()) == expected_sums()
    assert as_unique_dict(reduced.collect()) == expected_sums()
    # the shuffle output on the killed worker was rebuilt by running map tasks again
    assert len(markers(marker_dir, "started")) > started_before_kill
    return killed_pid


# --------------------------------------------------------------------------- sparkish local[N]


def local_context(workers: int) -> SparkContext:
    conf = SparkConf().set("spark.ui.port", "0")
    context = SparkContext(f"local[{workers}]", "shuffle-fault-tolerance", conf=conf)
    assert context._runtime.cluster is not None
    assert len(context._runtime.cluster.worker_pids) == workers
    return context


def wait_for_local_restart(context: SparkContext, killed_pid: int, workers: int) -> None:
    wait_until(
        lambda: (
            killed_pid not in context._runtime.cluster.worker_pids.values()
            and len(context.dask_client.scheduler_info(n_workers=-1)["workers"]) == workers
        ),
        "the supervisor restarted the killed worker",
    )


def test_local_cluster_worker_killed_during_map_side(no_context, tmp_path):
    context = local_context(2)
    worker_pids = set(context._runtime.cluster.worker_pids.values())

    killed_pid = run_kill_during_map_side(context, tmp_path, worker_pids)

    assert killed_pid in worker_pids
    wait_for_local_restart(context, killed_pid, 2)
    # the restarted cluster still shuffles correctly
    pairs = [(i % 9, i) for i in range(900)]
    assert as_unique_dict(context.parallelize(pairs, 5).reduceByKey(add, 4).collect()) == {
        key: sum(i for i in range(900) if i % 9 == key) for key in range(9)
    }


def test_local_cluster_worker_killed_between_map_side_and_reducers(no_context, tmp_path):
    context = local_context(3)
    worker_pids = set(context._runtime.cluster.worker_pids.values())

    def kill_one_worker() -> int:
        pid = min(context._runtime.cluster.worker_pids.values())
        os.kill(pid, signal.SIGKILL)
        return pid

    killed_pid = run_kill_between_map_side_and_reducers(context, tmp_path, kill_one_worker)

    assert killed_pid in worker_pids
    wait_for_local_restart(context, killed_pid, 3)


# --------------------------------------------------------------------------- dask scheduler


class DaskProcesses:
    """A ``dask scheduler`` and a ``dask worker --nworkers 2 --nthreads 1`` process tree."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        scheduler_file = directory / "scheduler.json"
        environment = dict(os.environ)
        # the workers import sparkish (and tests.*) from this checkout, like the driver
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
        )
        common = ["--no-dashboard", "--scheduler-file", str(scheduler_file)]
        self.scheduler = self._start(
            "scheduler",
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0"]
            + common,
            environment,
        )
        wait_until(scheduler_file.exists, "the dask scheduler wrote its address", 60)
        wait_until(
            lambda: scheduler_file.stat().st_size > 0 and "address" in scheduler_file.read_text(),
            "the scheduler file is complete",
            30,
        )
        self.address: str = json.loads(scheduler_file.read_text())["address"]
        self.workers = self._start(
            "worker",
            [
                sys.executable,
                "-m",
                "dask",
                "worker",
                "--nworkers",
                "2",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--local-directory",
                str(directory / "workers"),
            ]
            + common,
            environment,
        )

    def _start(self, name: str, command: list[str], environment: dict) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "wb")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=self.directory
        )
        log.close()
        return process

    def worker_process_pids(self) -> set[int]:
        """The pids of the worker processes (children of the ``dask worker`` nanny process)."""
        return {child.pid for child in psutil.Process(self.workers.pid).children(recursive=True)}

    def close(self) -> None:
        for process in (self.workers, self.scheduler):
            if process.poll() is None:
                process.terminate()
        for process in (self.workers, self.scheduler):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(process.pid).children(recursive=True):
                    child.kill()
                process.kill()
                process.wait()


@pytest.fixture
def dask_processes(tmp_path):
    """The dask processes; tests request it before ``no_context`` so that the context is
    stopped before its scheduler goes away."""
    processes = DaskProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.close()


def dask_context(processes: DaskProcesses) -> SparkContext:
    port = processes.address.rsplit(":", 1)[1]
    context = SparkContext(f"dask://127.0.0.1:{port}", "shuffle-fault-tolerance")
    wait_until(
        lambda: len(context.dask_client.scheduler_info(n_workers=-1)["workers"]) == 2,
        "both dask workers connected",
    )
    return context


def dask_worker_pids(context: SparkContext, processes: DaskProcesses) -> set[int]:
    pids = set(context.dask_client.run(os.getpid).values())
    assert len(pids) == 2
    assert pids <= processes.worker_process_pids(), "the workers are not the dask worker's children"
    return pids


def wait_for_nanny_restart(context: SparkContext, killed_pid: int) -> None:
    def restarted() -> bool:
        workers = context.dask_client.scheduler_info(n_workers=-1)["workers"]
        if len(workers) != 2:
            return False
        return killed_pid not in context.dask_client.run(os.getpid).values()

    wait_until(restarted, "the nanny restarted the killed dask worker")


def test_dask_cluster_worker_killed_during_map_side(dask_processes, no_context, tmp_path):
    context = dask_context(dask_processes)
    worker_pids = dask_worker_pids(context, dask_processes)
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()

    killed_pid = run_kill_during_map_side(context, marker_dir, worker_pids)

    assert killed_pid in worker_pids
    wait_for_nanny_restart(context, killed_pid)


def test_dask_cluster_worker_killed_between_map_side_and_reducers(
    dask_processes, no_context, tmp_path
):
    context = dask_context(dask_processes)
    worker_pids = dask_worker_pids(context, dask_processes)
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()

    def kill_one_worker() -> int:
        pid = min(worker_pids)
        os.kill(pid, signal.SIGKILL)
        return pid

    killed_pid = run_kill_between_map_side_and_reducers(context, marker_dir, kill_one_worker)

    assert killed_pid in worker_pids
    wait_for_nanny_restart(context, killed_pid)
