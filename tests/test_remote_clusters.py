"""Jobs on a running ``dask scheduler`` that loses its workers or requires TLS (issue 12).

The schedulers and workers are ``dask`` commands run as subprocesses of the test.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sparkish import SparkConf, SparkContext
from tests.test_cluster import wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` commands started by a test, all stopped at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.environment = dict(os.environ)
        self.environment["PYTHONPATH"] = str(REPO_ROOT)
        self.environment.pop("SPARKISH_SUBMIT_CONF", None)
        self.processes: list[subprocess.Popen] = []

    def start(self, *arguments: str, log: str) -> subprocess.Popen:
        with (self.directory / log).open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "dask", *arguments],
                env=self.environment,
                cwd=self.directory,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(process)
        return process

    def scheduler(self, *arguments: str) -> str:
        """Start a scheduler on a free loopback port; returns its address."""
        scheduler_file = self.directory / "scheduler.json"
        self.start(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(scheduler_file),
            *arguments,
            log="scheduler.log",
        )
        wait_until(
            lambda: scheduler_file.exists() and scheduler_file.read_text().strip(), "address"
        )
        return json.loads(scheduler_file.read_text())["address"]

    def worker(self, address: str, *arguments: str) -> subprocess.Popen:
        return self.start(
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--local-directory",
            str(self.directory / "workers"),
            *arguments,
            log="worker.log",
        )

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[DaskProcesses]:
    processes = DaskProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.close()


def _worker_count(context: SparkContext) -> int:
    return len(context.dask_client.nthreads())


def test_a_job_waits_for_a_worker_then_fails_after_the_no_workers_timeout(
    no_context: None, dask_processes: DaskProcesses, caplog: pytest.LogCaptureFixture
) -> None:
    address = dask_processes.scheduler()
    worker = dask_processes.worker(address)
    master = "dask://" + address.split("://", 1)[1]
    conf = SparkConf().set("sparkish.noWorkersTimeout", "120")
    sc = SparkContext(master, "no-workers", conf=conf)
    wait_until(lambda: _worker_count(sc) == 1, "the worker joined")
    assert sc.parallelize(range(10), 2).map(lambda x: x * 2).sum() == 90
    dask_processes.stop(worker)
    wait_until(lambda: _worker_count(sc) == 0, "the worker left")

    results: list = []
    caplog.set_level(logging.WARNING, logger="sparkish")
    job = threading.Thread(
        target=lambda: results.append(
            sc.parallelize(range(10), 2)
            .map(lambda x: (x % 2, x))
            .reduceByKey(int.__add__)
            .collect()
        )
    )
    job.start()
    wait_until(lambda: "has no workers" in caplog.text, "the job warned that it waits")
    assert job.is_alive()
    dask_processes.worker(address)
    job.join(120)
    assert sorted(results[0]) == [(0, 20), (1, 25)]
    waiting = [record for record in caplog.records if "has no workers" in record.getMessage()]
    assert len(waiting) == 1, "the wait is reported once"
    assert "sparkish.noWorkersTimeout" in waiting[0].getMessage()
    assert "a worker joined" in caplog.text
    sc.stop()

    for process in dask_processes.processes[1:]:
        dask_processes.stop(process)
    conf = SparkConf().set("sparkish.noWorkersTimeout", "2")
    sc = SparkContext(master, "no-workers-timeout", conf=conf)
    wait_until(lambda: _worker_count(sc) == 0, "no worker is left")
    with pytest.raises(
        RuntimeError, match=r"count at .*no workers for 2 s \(sparkish.noWorkersTimeout\)"
    ):
        sc.parallelize(range(10), 2).count()
    sc.stop()
