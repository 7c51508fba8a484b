"""Where jobs run: an embedded local cluster of worker processes, or an existing Dask cluster.

``SparkContext("local[N]")`` starts a :class:`LocalProcessCluster`: a ``distributed`` scheduler
inside the driver process and N worker processes with one thread each (Python lambdas need
processes, not threads, to run in parallel). ``dask://host:port`` and ``tcp://host:port`` attach
to a running ``dask scheduler``.

>>> parse_master("local[4]")  # doctest: +NORMALIZE_WHITESPACE
MasterSpec(kind='local', workers=4, threads_per_worker=1, memory_per_worker=None, address=None,
           max_failures=None)
>>> parse_master("dask://10.0.0.5:8786").address
'tcp://10.0.0.5:8786'
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any

import dask
import psutil
from distributed import LocalCluster

from ..worker import running_tasks

logger = logging.getLogger("sparkish.cluster")

#: A worker that dies this many times in a row before registering with the scheduler is given up.
FAILED_STARTS_LIMIT = 3
#: How often the supervisor looks at its workers (exits, memory), in seconds.
POLL_SECONDS = 0.1
#: Lines of a worker's stderr kept to explain why it could not start.
STDERR_LINES_KEPT = 20
#: Task slots per worker beyond its threads (tasks that secede run beside the others).
EXTRA_TASK_SLOTS = 4
#: Dask's own count of worker deaths per task, a backstop for deaths the supervisor cannot
#: charge to a task (``spark.task.maxFailures`` is what normally fails a task).
DASK_ALLOWED_FAILURES = 50

__all__ = ["LocalProcessCluster", "MasterSpec", "WorkerExit", "exit_cause", "parse_master"]


@dataclass(frozen=True)
class MasterSpec:
    """A parsed master URL."""

    kind: str  # "local" or "remote"
    workers: int = 0
    threads_per_worker: int = 1
    memory_per_worker: int | None = None
    address: str | None = None
    #: ``F`` of ``local[N, F]``: Spark's ``spark.task.maxFailures`` for local mode.
    max_failures: int | None = None


_LOCAL = re.compile(r"^local(?:\[\s*(\*|\d+)\s*(?:,\s*(\d+)\s*)?\])?$")
_LOCAL_CLUSTER = re.compile(r"^local-cluster\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]$")


def parse_master(master: str) -> MasterSpec:
    """Parse a Spark-style master URL.

    Supported: ``local``, ``local[N]``, ``local[*]``, ``local[N, maxFailures]``,
    ``local-cluster[workers, coresPerWorker, memoryMiBPerWorker]``, ``dask://host:port``,
    ``tcp://host:port`` and ``tls://host:port``.

    >>> parse_master("local").workers
    1
    >>> parse_master("local[2, 3]").max_failures
    3
    >>> parse_master("local-cluster[2, 1, 1024]").memory_per_worker
    1073741824
    >>> parse_master("spark://host:7077")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Unsupported master URL 'spark://host:7077': sparkish runs on Dask; use ...
    """
    text = master.strip()
    match = _LOCAL.match(text)
    if match:
        count = match.group(1)
        if count is None:
            workers = 1
        elif count == "*":
            workers = os.cpu_count() or 1
        else:
            workers = int(count)
        if workers < 1:
            raise ValueError(f"Invalid master URL {master!r}: the number of workers must be >= 1")
        failures = int(match.group(2)) if match.group(2) is not None else None
        if failures is not None and failures < 1:
            raise ValueError(f"Invalid master URL {master!r}: maxFailures must be >= 1")
        return MasterSpec("local", workers=workers, max_failures=failures)
    match = _LOCAL_CLUSTER.match(text)
    if match:
        workers, cores, memory_mib = (int(group) for group in match.groups())
        if workers < 1 or cores < 1:
            raise ValueError(f"Invalid master URL {master!r}: workers and cores must be >= 1")
        return MasterSpec("local", workers, cores, memory_mib * 2**20)
    for prefix, protocol in (("dask://", "tcp://"), ("tcp://", "tcp://"), ("tls://", "tls://")):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            if not rest:
                raise ValueError(f"Invalid master URL {master!r}: missing host:port")
            return MasterSpec("remote", address=protocol + rest)
    raise ValueError(
        f"Unsupported master URL {master!r}: sparkish runs on Dask; use local, local[N], "
        "local[*], local-cluster[N,C,M], dask://host:port or tcp://host:port"
    )


@dataclass(frozen=True)
class WorkerExit:
    """How a local worker process ended, and the tasks it was running then."""

    worker: str
    code: int
    #: ``segmentation fault (SIGSEGV)``, ``killed: out of memory (...)``, ``exit code 1``...
    cause: str
    #: ``(task key, RDD operations of its stage, partition it computed)`` of each task that was
    #: running.
    running: tuple[tuple[Any, tuple[str, ...], int | None], ...]
    #: sparkish killed it to stop a cancelled task: nobody is blamed.
    intentional: bool = False


@dataclass
class _WorkerProcess:
    """One running local worker process and what the supervisor knows of it."""

    name: str
    process: subprocess.Popen
    running_file: str
    failed_starts: int
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=STDERR_LINES_KEPT))
    stderr_reader: threading.Thread | None = None
    kill_cause: str | None = None
    intentional: bool = False
    usage: psutil.Process | None = None


class LocalProcessCluster:
    """A scheduler in this process plus worker processes that it starts and supervises.

    Workers are plain subprocesses (``python -m sparkish.worker.main``), so the user's script is
    never re-imported in them. One supervisor thread starts them, watches them and stops them:

    - a worker that dies is restarted at once, whatever killed it (user code, a segmentation
      fault, the memory limit, sparkish cancelling a task), so no number of crashes or
      cancelled jobs disables the cluster; only a worker that dies
      :data:`FAILED_STARTS_LIMIT` times in a row before it has registered with the scheduler is
      given up, and :attr:`failure` then says why (exit code, last lines of its stderr);
    - each death is charged to the tasks that worker was running when it died (read from its
      :mod:`~sparkish.worker.running_tasks` file), never to the tasks merely queued on it;
      :meth:`task_failures` gives the counts, which the job runner compares with
      ``spark.task.maxFailures``;
    - like Dask's nanny, it enforces the memory limit from outside the worker: a worker whose
      resident memory passes ``distributed.worker.memory.terminate`` (95 %) of its limit is
      killed, and the task it was running is told so;
    - workers die with the driver: on Linux each one asks the kernel to kill it when this
      thread, its parent, ends (``PR_SET_PDEATHSIG``), which also happens when the driver
      process is killed.

    >>> cluster = LocalProcessCluster(n_workers=1)  # doctest: +SKIP
    >>> cluster.scheduler_address  # doctest: +SKIP
    'tcp://127.0.0.1:40231'
    >>> cluster.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        n_workers: int,
        threads_per_worker: int = 1,
        memory_limit: int | None = None,
        dashboard_address: str | None = ":8787",
        environment: dict[str, str] | None = None,
        memory_setting: str = "sparkish.local.memoryLimit",
    ) -> None:
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        total_memory = psutil.virtual_memory().total
        self.memory_limit = memory_limit or int(total_memory / max(n_workers, 1))
        #: The setting that raises :attr:`memory_limit`, named in out-of-memory errors.
        self.memory_setting = memory_setting
        # Dask's nanny threshold; False or 0 there turns the supervisor's enforcement off too.
        self.terminate_fraction = float(
            dask.config.get("distributed.worker.memory.terminate") or 0.0
        )
        self.restarts = 0
        self.failure: str | None = None
        self._workers: dict[str, _WorkerProcess] = {}
        self._given_up: dict[str, str] = {}
        self._task_failures: dict[Any, list[WorkerExit]] = {}
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self.local_directory = tempfile.mkdtemp(prefix="sparkish-")
        self._environment = self._worker_environment(environment or {})
        with dask.config.set(
            {
                # Sparkish submits fused, coarse tasks; queuing root tasks on the scheduler only
                # adds round trips (measured: 1.4 ms vs 4 ms per no-op task).
                "distributed.scheduler.worker-saturation": float("inf"),
                "distributed.scheduler.work-stealing": True,
                # If every worker is gone for good, fail the job instead of waiting forever.
                "distributed.scheduler.no-workers-timeout": "120s",
                # Dask charges a worker's death to every task assigned to it, queued ones too;
                # the supervisor charges the running ones and the job runner applies
                # spark.task.maxFailures. Dask's own count stays only as a backstop.
                "distributed.scheduler.allowed-failures": DASK_ALLOWED_FAILURES,
                # The scheduler's scratch directory goes with the workers', removed on close.
                "temporary-directory": self.local_directory,
            }
        ):
            self._scheduler_cluster = LocalCluster(
                n_workers=0,
                processes=False,
                protocol="tcp",
                host="127.0.0.1",
                dashboard_address=dashboard_address,
                silence_logs=logging.WARNING,
                # Without a dashboard the scheduler still serves /health and /metrics: keep that
                # on a free loopback port instead of the dashboard's default one.
                scheduler_kwargs={} if dashboard_address else {"dashboard_address": "127.0.0.1:0"},
            )
        self._dashboard_enabled = dashboard_address is not None
        self.scheduler_address: str = self._scheduler_cluster.scheduler_address
        started = threading.Event()
        self._supervisor = threading.Thread(
            target=self._supervise, args=(started,), name="sparkish-worker-supervisor", daemon=True
        )
        self._supervisor.start()
        started.wait()

    @property
    def dashboard_link(self) -> str | None:
        if not self._dashboard_enabled:
            return None
        try:
            return self._scheduler_cluster.dashboard_link
        except Exception:  # no bokeh, or no dashboard
            return None

    @property
    def worker_pids(self) -> dict[str, int]:
        with self._lock:
            return {name: worker.process.pid for name, worker in self._workers.items()}

    def task_failures(self, keys: frozenset) -> dict[Any, list[WorkerExit]]:
        """The worker deaths charged to each of ``keys`` that has any."""
        with self._lock:
            return {key: list(exits) for key, exits in self._task_failures.items() if key in keys}

    def forget_task_failures(self, keys: frozenset) -> None:
        """Drop the counts of finished tasks."""
        with self._lock:
            for key in keys.intersection(self._task_failures):
                del self._task_failures[key]

    def _worker_environment(self, extra: dict[str, str]) -> dict[str, str]:
        environment = dict(os.environ)
        search_path = [entry or os.getcwd() for entry in sys.path]
        environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(search_path))
        environment.setdefault("PYTHONHASHSEED", "0")
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            environment.setdefault(variable, str(self.threads_per_worker))
        # MALLOC_TRIM_THRESHOLD_ is left to glibc (unlike Dask's nanny, which sets 64 KiB): a
        # fixed threshold turns off glibc's adaptive mmap threshold, so every large block a task
        # frees goes back to the kernel and is page-faulted in again by the next partition.
        environment["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
        # The supervisor enforces the memory limit by restarting the worker. A paused worker
        # runs nothing until its memory drops, which never happens when the memory is held by
        # user objects (a model loaded once per worker): jobs then hang. Spilling stays on.
        environment["DASK_DISTRIBUTED__WORKER__MEMORY__PAUSE"] = "False"
        # Shuffle buffers sized to the worker, not Dask's fixed 1 GiB / 100 MiB, so a shuffle
        # larger than memory spills to disk instead of pushing the worker over its limit.
        environment.setdefault(
            "DASK_DISTRIBUTED__P2P__COMM__BUFFER", str(min(2**30, self.memory_limit // 8))
        )
        environment.setdefault(
            "DASK_DISTRIBUTED__P2P__STORAGE__BUFFER", str(min(100 * 2**20, self.memory_limit // 16))
        )
        environment.update(extra)
        return environment

    # ------------------------------------------------------------------ the supervisor thread
    def _supervise(self, started: threading.Event) -> None:
        # Every worker is started from this thread: the kernel's parent-death signal fires when
        # the thread that started a process ends, so it must live exactly as long as the cluster.
        try:
            with self._lock:
                for index in range(self.n_workers):
                    self._start_worker(f"local-{index}", failed_starts=0)
            started.set()
            while not self._closing.wait(POLL_SECONDS):
                with self._lock:
                    self._check_workers()
        except Exception:
            logger.exception("the sparkish worker supervisor failed")
            self.failure = self.failure or "the worker supervisor failed (see the log)"
        finally:
            started.set()
            self._stop_workers()

    def _start_worker(self, name: str, failed_starts: int) -> None:
        directory = os.path.join(self.local_directory, name)
        os.makedirs(directory, mode=0o700, exist_ok=True)  # spilled data is private to the user
        running_file = os.path.join(directory, "running-tasks")
        running_tasks.create_file(running_file, slots=self.threads_per_worker + EXTRA_TASK_SLOTS)
        command = [
            sys.executable,
            "-m",
            "sparkish.worker.main",
            self.scheduler_address,
            "--name",
            name,
            "--nthreads",
            str(self.threads_per_worker),
            "--memory-limit",
            str(self.memory_limit),
            "--local-directory",
            directory,
            "--parent-pid",
            str(os.getpid()),
            "--running-tasks",
            running_file,
        ]
        process = subprocess.Popen(
            command,
            env=self._environment,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        worker = _WorkerProcess(name, process, running_file, failed_starts)
        try:
            worker.usage = psutil.Process(process.pid)
        except psutil.Error:
            pass
        worker.stderr_reader = threading.Thread(
            target=_forward_stderr,
            args=(process.stderr, worker.stderr_tail),
            name=f"sparkish-{name}-stderr",
            daemon=True,
        )
        worker.stderr_reader.start()
        self._workers[name] = worker

    def _check_workers(self) -> None:
        for worker in list(self._workers.values()):
            code = worker.process.poll()
            if code is None:
                self._enforce_memory_limit(worker)
            else:
                self._replace(worker, code)
        if not self._workers and self.failure is None:
            self.failure = "every local worker process failed to start: " + "; ".join(
                self._given_up.values()
            )
            logger.error("sparkish local cluster: %s", self.failure)

    def _enforce_memory_limit(self, worker: _WorkerProcess) -> None:
        if worker.usage is None or worker.kill_cause is not None or not self.terminate_fraction:
            return
        try:
            used = worker.usage.memory_info().rss
        except psutil.Error:
            return
        if used <= self.memory_limit * self.terminate_fraction:
            return
        worker.kill_cause = (
            f"killed: out of memory (the worker process used {format_bytes(used)}, over "
            f"{self.terminate_fraction:.0%} of its {format_bytes(self.memory_limit)} limit; "
            f"{self.memory_setting} raises the limit)"
        )
        logger.warning("worker %s %s", worker.name, worker.kill_cause)
        worker.process.kill()

    def _replace(self, worker: _WorkerProcess, code: int) -> None:
        """Charge a dead worker's death to its running tasks and restart it, unless it keeps
        dying before it has started."""
        if worker.stderr_reader is not None:
            # Its last lines explain a failed start; a child process that inherited the pipe
            # can keep it open, so do not wait long for the end.
            worker.stderr_reader.join(timeout=0.5)
        report = running_tasks.read_file(worker.running_file)
        cause = worker.kill_cause or exit_cause(code)
        death = WorkerExit(worker.name, code, cause, tuple(report.tasks), worker.intentional)
        if not worker.intentional:
            for key, *_ in report.tasks:
                self._task_failures.setdefault(key, []).append(death)
        failed_starts = 0 if report.started else worker.failed_starts + 1
        del self._workers[worker.name]
        if failed_starts >= FAILED_STARTS_LIMIT:
            stderr = "\n".join(worker.stderr_tail)
            ended = f"{worker.name} was {cause}" if worker.kill_cause else None
            reason = f"{ended or _exit_description(worker.name, code)} before it had started"
            if failed_starts > 1:
                reason += f", {failed_starts} times in a row"
            if stderr:
                reason += f"; the last lines of its stderr:\n{stderr}"
            self._given_up[worker.name] = reason
            logger.error("giving up on local worker %s: %s", worker.name, reason)
            return
        if not worker.intentional:
            running = ", ".join(str(key) for key, *_ in report.tasks) or "no task"
            logger.warning(
                "worker %s died (%s) while running %s; restarting it", worker.name, cause, running
            )
        self.restarts += 1
        self._start_worker(worker.name, failed_starts)

    def _stop_workers(self, timeout: float = 10.0) -> None:
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        deadline = time.monotonic() + timeout
        for worker in workers:
            try:
                worker.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            if worker.stderr_reader is not None:
                worker.stderr_reader.join(timeout=1.0)

    # ------------------------------------------------------------------ used by the driver
    def workers_running(self, keys: frozenset) -> list[int]:
        """The pids of the live workers running a task in ``keys``, read from their task files
        (no message to the worker, which may not answer while its task holds the GIL)."""
        with self._lock:
            workers = [w for w in self._workers.values() if w.process.poll() is None]
        return [
            worker.process.pid
            for worker in workers
            if any(key in keys for key, *_ in running_tasks.read_file(worker.running_file).tasks)
        ]

    def kill_worker(self, pid: int, *, cancelling: bool = False) -> bool:
        """SIGKILL one of this cluster's worker processes; the supervisor restarts it.

        With ``cancelling``, sparkish kills it to stop a cancelled task: the death is charged
        to no task."""
        with self._lock:
            for worker in self._workers.values():
                if worker.process.pid == pid and worker.process.poll() is None:
                    worker.intentional = worker.intentional or cancelling
                    worker.process.send_signal(signal.SIGKILL)
                    return True
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers and the scheduler and remove the workers' local directory."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._supervisor.join(timeout + 5.0)
        try:
            self._scheduler_cluster.close(timeout=timeout)
        finally:
            shutil.rmtree(self.local_directory, ignore_errors=True)

    def __enter__(self) -> LocalProcessCluster:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _forward_stderr(stream: IO[bytes], tail: deque) -> None:
    """Copy a worker's stderr to the driver's, keeping its last lines for error messages."""
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        tail.append(line.rstrip("\n"))
        try:
            sys.stderr.write(line)
            sys.stderr.flush()
        except (OSError, ValueError):  # the driver's stderr is closed: keep draining the pipe
            pass
    stream.close()


_SIGNAL_CAUSES = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGABRT: "aborted",
    signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating-point exception",
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
}


def exit_cause(code: int) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it).

    >>> exit_cause(-11)
    'segmentation fault (SIGSEGV)'
    >>> exit_cause(-9)
    'killed (SIGKILL; by another process, or by the system when out of memory)'
    >>> exit_cause(1)
    'exit code 1'
    """
    if code >= 0:
        return f"exit code {code}"
    try:
        number = signal.Signals(-code)
    except ValueError:
        return f"killed by signal {-code}"
    cause = _SIGNAL_CAUSES.get(number, "killed")
    if number == signal.SIGKILL:
        return f"{cause} ({number.name}; by another process, or by the system when out of memory)"
    return f"{cause} ({number.name})"


def format_bytes(count: float) -> str:
    """``count`` bytes in binary units.

    >>> format_bytes(300 * 2**20)
    '300 MiB'
    >>> format_bytes(1.5 * 2**30)
    '1.5 GiB'
    """
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{int(count)} B"


def _exit_description(name: str, code: int) -> str:
    """How a worker process ended, from its exit code (negative: killed by a signal).

    >>> _exit_description("local-0", -9)
    'local-0 was killed by SIGKILL'
    >>> _exit_description("local-1", 1)
    'local-1 exited with code 1'
    """
    if code < 0:
        try:
            return f"{name} was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"{name} was killed by signal {-code}"
    return f"{name} exited with code {code}"
