"""Tests for where jobs run: the embedded local cluster of worker processes and attaching to a
running Dask cluster (``dask://`` / ``tcp://`` masters and ``SparkContext(client=...)``).

Everything here checks real processes: the OS processes a context starts, the ports it opens,
and a ``dask scheduler`` + ``dask worker`` started as subprocesses by a module fixture.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from distributed import Client

import sparkish
from sparkish import SparkConf, SparkContext, SparkFiles, WorkerLostError
from sparkish.execution.cluster import parse_master
from sparkish.shuffle.hashing import python_hash
from tests import helpers

REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- helpers
def local_conf(**settings: str) -> SparkConf:
    conf = SparkConf(loadDefaults=False).set("spark.ui.port", "0")
    for key, value in settings.items():
        conf.set(key, value)
    return conf


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> None:
    helpers.wait_until(condition, what, timeout)


def is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def sparkish_worker_processes() -> dict[int, list[str]]:
    """``{pid: command line}`` of the sparkish worker processes started by this process."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            command = child.cmdline()
            if "sparkish.worker.main" in command and not is_gone(child.pid):
                found[child.pid] = command
        except psutil.NoSuchProcess:
            pass
    return found


def port_is_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(5)
        return probe.connect_ex((host, port)) == 0


def host_and_port(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url)
    assert parsed.hostname and parsed.port, url
    return parsed.hostname, parsed.port


def hash_seed_report() -> tuple[int, str | None]:
    return hash("abc"), os.environ.get("PYTHONHASHSEED")


# --------------------------------------------------------------------------- local masters
LOCAL_MASTERS = [
    # master, worker processes, threads per worker, memory limit per worker
    ("local", 1, 1, None),
    ("local[3]", 3, 1, None),
    ("local[*]", os.cpu_count(), 1, None),
    ("local[2,4]", 2, 1, None),
    ("local-cluster[2,2,512]", 2, 2, 512 * 2**20),
]


@pytest.mark.parametrize("master, processes, threads, memory", LOCAL_MASTERS)
@pytest.mark.timeout(120)
def test_local_masters_start_and_stop_their_worker_processes(
    no_context: None, tmp_path: Path, master: str, processes: int, threads: int, memory: int | None
) -> None:
    before = set(sparkish_worker_processes())
    sc = SparkContext(master, conf=local_conf())
    try:
        workers = sc.dask_client.scheduler_info(n_workers=-1)["workers"]
        assert len(workers) == processes
        assert [worker["nthreads"] for worker in workers.values()] == [threads] * processes
        if memory is not None:
            assert {worker["memory_limit"] for worker in workers.values()} == {memory}
        assert sc.defaultParallelism == processes * threads

        started = {
            pid: cmd for pid, cmd in sparkish_worker_processes().items() if pid not in before
        }
        assert set(started) == set(sc._runtime.cluster.worker_pids.values())
        assert len(started) == processes
        scheduler_address = sc._runtime.cluster.scheduler_address
        assert all(scheduler_address in command for command in started.values())

        ran_on = {pid for pid, _ in helpers.on_every_slot(sc, lambda: None, tmp_path)}
        assert ran_on == set(started)
        assert os.getpid() not in ran_on

        scheduler = host_and_port(scheduler_address.replace("tcp://", "http://"))
        dashboard = host_and_port(sc.uiWebUrl)
        assert port_is_open(*scheduler) and port_is_open(*dashboard)
    finally:
        sc.stop()
    wait_until(lambda: all(is_gone(pid) for pid in started), "the workers exited", 30)
    assert not port_is_open(*scheduler)
    assert not port_is_open(*dashboard)


@pytest.mark.parametrize(
    "master",
    [
        "spark://host:7077",
        "yarn",
        "mesos://host:5050",
        "k8s://https://host:443",
        "garbage",
        "local[0]",
        "local[two]",
        "local[2",
        "local-cluster[0,1,512]",
        "local-cluster[2,1]",
        "dask://",
    ],
)
def test_bad_master_urls_are_refused_by_name(no_context: None, master: str) -> None:
    before = set(sparkish_worker_processes())
    with pytest.raises(ValueError) as raised:
        SparkContext(master, conf=local_conf())
    assert repr(master) in str(raised.value)
    assert SparkContext._active_spark_context is None
    assert set(sparkish_worker_processes()) == before


@pytest.mark.timeout(120)
def test_workers_that_cannot_start_are_reported_with_their_exit_code(no_context: None) -> None:
    # Python refuses an unknown PYTHONMALLOC allocator at start-up and exits with code 1.
    conf = local_conf().set("spark.executorEnv.PYTHONMALLOC", "no-such-allocator")
    before = set(sparkish_worker_processes())
    with pytest.raises(RuntimeError, match="failed to start") as raised:
        SparkContext("local[1]", conf=conf)
    message = str(raised.value)
    assert "local-0 exited with code 1" in message, message
    assert "None" not in message, message
    # Why, in the worker's own words: Python's complaint on its stderr.
    assert "PYTHONMALLOC: unknown allocator" in message, message
    assert SparkContext._active_spark_context is None
    assert set(sparkish_worker_processes()) == before


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("sparkish.python.hashSeed", "not-a-number", "sparkish.python.hashSeed='not-a-number'"),
        ("sparkish.python.hashSeed", "4294967296", r"hash seed \(sparkish.python.hashSeed\)"),
        ("sparkish.shuffle.hash", "md5", "sparkish.shuffle.hash must be one of pyspark, xxh3"),
    ],
)
def test_bad_key_hashing_settings_fail_before_workers_start(
    no_context: None, key: str, value: str, message: str
) -> None:
    before = set(sparkish_worker_processes())
    with pytest.raises(ValueError, match=message):
        SparkContext("local[1]", conf=local_conf().set(key, value))
    assert SparkContext._active_spark_context is None
    assert set(sparkish_worker_processes()) == before


@pytest.mark.timeout(60)
def test_an_unreachable_scheduler_fails_within_the_connect_timeout(no_context: None) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    conf = local_conf(**{"sparkish.connect.timeoutSeconds": "2"})
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
        SparkContext(f"dask://127.0.0.1:{port}", conf=conf)
    assert SparkContext._active_spark_context is None


@pytest.mark.timeout(120)
def test_start_and_stop_three_times_in_one_process(no_context: None) -> None:
    seen_pids: set[int] = set()
    application_ids = set()
    for round_number in range(3):
        sc = SparkContext("local[2]", f"round-{round_number}", conf=local_conf())
        pids = set(sc._runtime.cluster.worker_pids.values())
        assert not pids & seen_pids
        seen_pids |= pids
        application_ids.add(sc.applicationId)
        shifted = sc.parallelize(range(100), 4).map(lambda x, offset=round_number: x + offset)
        assert shifted.sum() == sum(range(100)) + 100 * round_number
        sc.stop()
        wait_until(lambda pids=pids: all(is_gone(pid) for pid in pids), "the workers exited", 30)
    assert len(application_ids) == 3
    assert SparkContext._active_spark_context is None


@pytest.mark.timeout(120)
def test_stop_leaves_processes_it_did_not_start(no_context: None) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        sc = SparkContext("local[2]", conf=local_conf())
        assert sc.parallelize(range(10), 2).count() == 10
        sc.stop()
        assert bystander.poll() is None
        assert not is_gone(bystander.pid)
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.timeout(120)
def test_workers_get_a_fixed_hash_seed_in_every_context(no_context: None, tmp_path: Path) -> None:
    reports = []
    for _ in range(2):
        with SparkContext("local[2]", conf=local_conf()) as sc:
            results = helpers.on_every_slot(sc, hash_seed_report, tmp_path)
            assert len({pid for pid, _ in results}) == 2
            reports.extend(report for _, report in results)
    assert len(reports) == 4
    assert len({hash_value for hash_value, _ in reports}) == 1
    assert all(seed is not None and seed != "random" for _, seed in reports)


@pytest.mark.timeout(120)
def test_executor_environment_reaches_the_workers(no_context: None, tmp_path: Path) -> None:
    conf = local_conf().setExecutorEnv("FROM_CONF", "conf-value")

    def read_environment() -> tuple[str | None, str | None]:
        return os.environ.get("FROM_CONF"), os.environ.get("FROM_ARGUMENT")

    with SparkContext("local[2]", conf=conf, environment={"FROM_ARGUMENT": 42}) as sc:
        assert sc.environment["FROM_ARGUMENT"] == "42"
        results = helpers.on_every_slot(sc, read_environment, tmp_path)
    assert [report for _, report in results] == [("conf-value", "42")] * 2


def page_faults_of_churning_arrays(_: object) -> int:
    """Minor page faults of this process while it allocates and frees 500 arrays of 1 MiB, one
    at a time (as a task bucketing numpy columns partition after partition does; below 2 MiB
    so that transparent huge pages do not change the count)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(500):
        array = np.ones(2**20 // 8)
        del array
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning")
@pytest.mark.timeout(120)
def test_workers_reuse_freed_memory_instead_of_faulting_it_back(no_context: None) -> None:
    # MALLOC_TRIM_THRESHOLD_=65536 (Dask's nanny default) makes glibc hand every large freed
    # block back to the kernel, so the next allocation page-faults it in again: that made the
    # workers run the shuffle workloads 15-20 % slower than the same code in one process. It is
    # still a user's choice (spark.executorEnv), which this test uses as its comparison.
    faults = {}
    for label, conf in (
        ("default", local_conf()),
        ("trim 64 KiB", local_conf().setExecutorEnv("MALLOC_TRIM_THRESHOLD_", "65536")),
    ):
        with SparkContext("local[1]", conf=conf) as sc:
            rdd = sc.parallelize([0], 1).map(page_faults_of_churning_arrays)
            faults[label] = rdd.collect()[0]
    assert faults["default"] * 4 < faults["trim 64 KiB"], faults


@pytest.mark.timeout(120)
def test_a_killed_worker_is_replaced_and_gets_the_added_files(
    no_context: None, tmp_path: Path
) -> None:
    shipped = tmp_path / "shipped.txt"
    shipped.write_text("still here")
    with SparkContext("local[2]", conf=local_conf()) as sc:
        sc.addFile(str(shipped))
        lookup = sc.broadcast({"key": "broadcast value"})
        victim_name, victim_pid = sorted(sc._runtime.cluster.worker_pids.items())[0]
        os.kill(victim_pid, signal.SIGKILL)
        wait_until(
            lambda: sc._runtime.cluster.worker_pids.get(victim_name) not in (None, victim_pid),
            "the supervisor started a replacement",
        )
        wait_until(
            lambda: len(sc.dask_client.scheduler_info(n_workers=-1)["workers"]) == 2,
            "the replacement joined the scheduler",
        )

        def read() -> tuple[str, str]:
            return Path(SparkFiles.get("shipped.txt")).read_text(), lookup.value["key"]

        results = helpers.on_every_slot(sc, read, tmp_path)
        assert {pid for pid, _ in results} == set(sc._runtime.cluster.worker_pids.values())
        assert [report for _, report in results] == [("still here", "broadcast value")] * 2


@pytest.mark.timeout(120)
def test_a_context_that_lost_all_its_workers_fails_jobs_instead_of_hanging(
    no_context: None,
) -> None:
    sc = SparkContext("local[1]", conf=local_conf())
    try:
        for _ in range(21):
            pid = sc._runtime.cluster.worker_pids.get("local-0")
            if pid is None:
                break
            os.kill(pid, signal.SIGKILL)
            wait_until(
                lambda pid=pid: sc._runtime.cluster.worker_pids.get("local-0") != pid,
                "the worker is replaced or given up",
            )
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = sc.parallelize(range(3)).sum()
            except Exception as error:
                outcome["error"] = error

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(15)
        assert not thread.is_alive(), "the action hangs"
        assert outcome.get("result") == 3 or "worker" in str(outcome.get("error"))
    finally:
        sc._runtime.jobs.cancel(lambda record: True, "test cleanup")
        sc.stop()


# --------------------------------------------------------------------------- unguarded scripts
UNGUARDED_SCRIPT = textwrap.dedent(
    """
    import os
    from sparkish import SparkContext

    class Tally:
        def __init__(self, word):
            self.word = word

    def weight(word):
        return len(word) % 3 + 1

    sc = SparkContext("local[2]", "unguarded script")
    print("WORKERS", *sorted(sc._runtime.cluster.worker_pids.values()))
    words = "the quick brown fox jumps over the lazy dog the end".split()
    counts = (
        sc.parallelize(words, 3)
        .map(Tally)
        .map(lambda tally: (tally.word, weight(tally.word)))
        .reduceByKey(lambda a, b: a + b)
        .collect()
    )
    print("RESULT", sorted(counts))
    print("PIDS", len(set(sc.parallelize(range(20), 4).map(lambda _: os.getpid()).collect())))
    """
)


def expected_unguarded_result() -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for word in "the quick brown fox jumps over the lazy dog the end".split():
        totals[word] = totals.get(word, 0) + len(word) % 3 + 1
    return sorted(totals.items())


@pytest.mark.parametrize("how", ["file", "stdin"])
@pytest.mark.timeout(180)
def test_a_script_without_main_guard_runs(no_context: None, tmp_path: Path, how: str) -> None:
    script = tmp_path / "unguarded_job.py"
    script.write_text(UNGUARDED_SCRIPT)
    environment = dict(os.environ, SPARK_CONF_DIR=str(tmp_path))
    environment.pop("SPARKISH_SUBMIT_CONF", None)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")])
    )
    if how == "file":
        command, stdin = [sys.executable, str(script)], None
    else:
        command, stdin = [sys.executable, "-"], script.open("rb")
    try:
        completed = subprocess.run(
            command,
            stdin=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=150,
        )
    finally:
        if stdin is not None:
            stdin.close()
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = {line.split(" ", 1)[0]: line for line in completed.stdout.splitlines() if line}
    assert lines["RESULT"] == f"RESULT {expected_unguarded_result()}"
    worker_pids = [int(pid) for pid in lines["WORKERS"].split()[1:]]
    assert len(worker_pids) == 2
    # The script never calls stop(): its workers still go away with it.
    wait_until(lambda: all(is_gone(pid) for pid in worker_pids), "the workers exited", 30)


# --------------------------------------------------------------------------- external Dask
class ExternalDaskCluster:
    """A ``dask scheduler`` and a ``dask worker`` command, run as subprocesses of the test."""

    def __init__(
        self, directory: Path, workers: int, pythonpath: list[str], name: str = "dask"
    ) -> None:
        self.directory = directory
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(pythonpath)
        environment.pop("SPARKISH_SUBMIT_CONF", None)
        scheduler_file = directory / f"{name}-scheduler.json"
        self.processes: list[subprocess.Popen] = []
        self.scheduler = self._spawn(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--dashboard-address",
                "127.0.0.1:0",
                "--scheduler-file",
                str(scheduler_file),
            ],
            environment,
            directory / f"{name}-scheduler.log",
        )
        wait_until(scheduler_file.exists, "the dask scheduler wrote its address", 60)
        wait_until(lambda: scheduler_file.read_text().strip(), "the scheduler file is complete")
        self.address: str = json.loads(scheduler_file.read_text())["address"]
        self.host_port = self.address.split("://", 1)[1]
        self.worker = self._spawn(
            [
                "worker",
                self.address,
                "--nworkers",
                str(workers),
                "--nthreads",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(directory / f"{name}-workers"),
            ],
            environment,
            directory / f"{name}-worker.log",
        )
        self.expected_workers = workers

    def _spawn(self, arguments: list[str], environment: dict, log: Path) -> subprocess.Popen:
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "dask", *arguments],
                env=environment,
                cwd=self.directory,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(process)
        return process

    def wait_for_workers(self) -> None:
        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(self.expected_workers, timeout=90)

    def worker_process_pids(self) -> set[int]:
        """Pids of the processes of the ``dask worker`` command (nannies and workers)."""
        return {child.pid for child in psutil.Process(self.worker.pid).children(recursive=True)}

    def all_alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def close(self) -> None:
        tree = []
        for process in self.processes:
            try:
                tree += psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        for process in reversed(self.processes):  # the workers first, then the scheduler
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _, alive = psutil.wait_procs(tree, timeout=10)
        for leftover in alive:
            leftover.kill()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExternalDaskCluster]:
    """``dask scheduler`` + ``dask worker --nworkers 2 --nthreads 1`` as subprocesses."""
    directory = tmp_path_factory.mktemp("external-dask")
    cluster = ExternalDaskCluster(directory, 2, [str(REPO_ROOT)])
    try:
        cluster.wait_for_workers()
        yield cluster
    finally:
        cluster.close()


def assert_cluster_still_serves(cluster: ExternalDaskCluster) -> None:
    assert cluster.all_alive()
    with Client(cluster.address, timeout=30) as client:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6


def run_mixed_job(sc: SparkContext) -> None:
    """Narrow stages, a shuffle, an accumulator and a broadcast on the context's cluster."""
    lookup = sc.broadcast({0: "even", 1: "odd"})
    seen = sc.accumulator(0)

    def label(x: int) -> tuple[str, int]:
        seen.add(1)
        return lookup.value[x % 2], x

    result = sc.parallelize(range(100), 4).map(label).reduceByKey(lambda a, b: a + b).collect()
    assert sorted(result) == [("even", sum(range(0, 100, 2))), ("odd", sum(range(1, 100, 2)))]
    assert seen.value == 100


@pytest.mark.cluster
@pytest.mark.parametrize("scheme", ["dask", "tcp"])
@pytest.mark.timeout(180)
def test_attach_to_a_running_dask_cluster(
    no_context: None, tmp_path: Path, dask_cluster: ExternalDaskCluster, scheme: str
) -> None:
    master = f"{scheme}://{dask_cluster.host_port}"
    before = set(sparkish_worker_processes())
    sc = SparkContext(master, "attached", conf=local_conf())
    try:
        assert sc.master == master
        assert sc.defaultParallelism == 2
        assert set(sparkish_worker_processes()) == before, "no local workers for a remote master"
        run_mixed_job(sc)
        ran_on = {pid for pid, _ in helpers.on_every_slot(sc, lambda: None, tmp_path)}
        assert len(ran_on) == 2
        assert ran_on <= dask_cluster.worker_process_pids()
        assert {report for _, report in helpers.on_every_slot(sc, hash_seed_report, tmp_path)}
    finally:
        sc.stop()
    assert SparkContext._active_spark_context is None
    assert_cluster_still_serves(dask_cluster)


@pytest.mark.cluster
@pytest.mark.timeout(240)
def test_a_crash_on_a_remote_worker_is_a_worker_lost_error(
    no_context: None, dask_cluster: ExternalDaskCluster
) -> None:
    sc = SparkContext(f"dask://{dask_cluster.host_port}", conf=local_conf())
    try:

        def exit_on_three(x: int) -> int:
            if x == 3:
                os._exit(1)
            return x

        # Dask's nannies restart the workers; its scheduler counts the deaths (allowed-failures).
        with pytest.raises(WorkerLostError) as raised:
            sc.parallelize(range(4), 4).map(exit_on_three).collect()
        error = raised.value
        message = str(error)
        assert isinstance(error, RuntimeError)
        assert "collect at test_cluster.py:" in message and "partition 3:" in message, message
        assert error.partition == 3 and error.attempts >= 1, message
        dask_cluster.wait_for_workers()
        assert sc.parallelize(range(10), 2).sum() == 45
    finally:
        sc.stop()
    assert_cluster_still_serves(dask_cluster)


@pytest.mark.cluster
@pytest.mark.timeout(180)
def test_workers_with_another_hash_seed_are_reported_and_place_str_keys_like_pyspark(
    no_context: None, dask_cluster: ExternalDaskCluster
) -> None:
    # The external workers run with the test's own PYTHONHASHSEED (unset: a random one each).
    own_seed = os.environ.get("PYTHONHASHSEED")
    seed = 12345 if own_seed != "12345" else 54321
    conf = local_conf().set("sparkish.python.hashSeed", str(seed))
    with pytest.warns(RuntimeWarning, match=r"2 of the 2 workers of dask://.* another hash seed"):
        sc = SparkContext(f"dask://{dask_cluster.host_port}", conf=conf)
    try:
        words = [f"word{i}" for i in range(40)] + ["é", "✓ check", "𝄞"]
        pairs = sc.parallelize([(word, 1) for word in words], 3)
        placed = pairs.partitionBy(5).glom().collect()
        # PySpark's executors would hash with PYTHONHASHSEED=seed (test_hashing compares
        # python_hash with PySpark itself).
        assert placed == [
            [(word, 1) for word in words if python_hash(word, seed) % 5 == split]
            for split in range(5)
        ]
        assert sorted(pairs.partitionBy(5).lookup("✓ check")) == [1]
    finally:
        sc.stop()


@pytest.mark.cluster
@pytest.mark.timeout(180)
def test_an_existing_client_is_reused_and_left_running(
    no_context: None, dask_cluster: ExternalDaskCluster
) -> None:
    client = Client(dask_cluster.address, timeout=30, set_as_default=False)
    try:
        sc = SparkContext(client=client, conf=local_conf())
        assert sc.dask_client is client
        run_mixed_job(sc)
        sc.stop()
        assert client.status == "running"
        assert client.submit(lambda x: x + 1, 41).result(timeout=30) == 42
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2
        # A new context can use the same client again.
        with SparkContext(client=client, conf=local_conf()) as again:
            assert again.parallelize(range(10), 2).sum() == 45
        assert client.status == "running"
    finally:
        client.close()
    assert_cluster_still_serves(dask_cluster)


@pytest.mark.cluster
@pytest.mark.timeout(120)
def test_the_master_of_a_client_context_names_its_scheduler(
    no_context: None, dask_cluster: ExternalDaskCluster
) -> None:
    with Client(dask_cluster.address, timeout=30, set_as_default=False) as client:
        with SparkContext(client=client, conf=local_conf()) as sc:
            master = sc.master
    assert parse_master(master).address == dask_cluster.address


# --------------------------------------------------------------------------- broken workers
SHADOW_PACKAGES = {
    # sparkish cannot be imported on the worker
    "missing": {
        "__init__.py": "raise ModuleNotFoundError(\n"
        "    \"No module named 'sparkish'\", name='sparkish'\n"
        ")\n"
    },
    # another sparkish version is installed on the worker
    "mismatched": {
        "__init__.py": "__version__ = '0.0.1'\n",
        "worker/__init__.py": "",
        "worker/environment.py": textwrap.dedent(
            """
            import sys

            def worker_environment():
                version = f"{sys.version_info.major}.{sys.version_info.minor}"
                return {"sparkish": "0.0.1", "python": version}
            """
        ),
    },
}


@pytest.fixture(scope="module")
def broken_dask_clusters(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, ExternalDaskCluster]]:
    """One-worker Dask clusters whose worker sees a shadow ``sparkish`` package first."""
    clusters = {}
    try:
        for kind, files in SHADOW_PACKAGES.items():
            directory = tmp_path_factory.mktemp(f"broken-{kind}")
            package = directory / "shadow" / "sparkish"
            package.mkdir(parents=True)
            for name, text in files.items():
                (package / name).parent.mkdir(parents=True, exist_ok=True)
                (package / name).write_text(text)
            clusters[kind] = ExternalDaskCluster(directory, 1, [str(package.parent)], kind)
        for cluster in clusters.values():
            cluster.wait_for_workers()
        yield clusters
    finally:
        for cluster in clusters.values():
            cluster.close()


@pytest.mark.cluster
@pytest.mark.parametrize(
    "kind, pattern",
    [("missing", r"No module named 'sparkish'.*Install sparkish"), ("mismatched", r"0\.0\.1")],
)
@pytest.mark.timeout(120)
def test_workers_without_a_matching_sparkish_are_reported(
    no_context: None, broken_dask_clusters: dict, kind: str, pattern: str
) -> None:
    cluster = broken_dask_clusters[kind]
    with pytest.raises(RuntimeError, match=pattern) as raised:
        SparkContext(f"dask://{cluster.host_port}", conf=local_conf())
    assert sparkish.__version__ in str(raised.value)
    assert SparkContext._active_spark_context is None
    with Client(cluster.address, timeout=30) as client:
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 1


@pytest.mark.cluster
@pytest.mark.timeout(120)
def test_a_refused_remote_context_disconnects_from_the_scheduler(
    no_context: None, broken_dask_clusters: dict
) -> None:
    import gc

    cluster = broken_dask_clusters["missing"]

    def client_names(dask_scheduler) -> list[str]:
        return sorted(dask_scheduler.clients)

    with Client(cluster.address, timeout=30, set_as_default=False) as monitor:
        before = set(monitor.run_on_scheduler(client_names))
        with pytest.raises(RuntimeError):
            SparkContext(f"dask://{cluster.host_port}", conf=local_conf())
        gc.collect()
        time.sleep(1.0)  # let the scheduler process a disconnect, if one was sent
        after = set(monitor.run_on_scheduler(client_names))
    assert after == before
