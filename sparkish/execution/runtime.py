"""The driver-side machinery of one application, behind the ``SparkContext`` facade.

A :class:`Runtime` owns the connection to Dask (an embedded :class:`LocalProcessCluster` it
started, or a running scheduler), the :class:`~sparkish.execution.jobs.JobRunner`, the settings
and what outlives single jobs: persisted partitions, accumulators, per-thread job properties.
RDDs reach it through their context; users never see it.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import fsspec
from distributed import Client, Security

from .._dask_compat import ShuffleReaderPlacement
from .._version import __version__
from ..accumulators import Accumulator
from ..broadcast import Broadcast
from ..monitoring.setup import Monitoring
from ..settings import Settings
from ..shuffle.hashing import (
    KeyHashing,
    builtin_hash_matches,
    seed_from_environment,
    use_key_hashing,
)
from ..worker.environment import worker_environment
from .cluster import LocalProcessCluster, MasterSpec, parse_master
from .jobs import JobRunner
from .providers import MaterializedProvider
from .scheduler_plugin import POP_HANDLER, AccumulatorSchedulerPlugin

if TYPE_CHECKING:
    from ..worker.plan import Node
    from .graph import Finisher

__all__ = [
    "Runtime",
    "client_hooks",
    "scheduler_address",
    "security_from_settings",
    "set_log_level",
]

logger = logging.getLogger("sparkish")

#: ``spark.task.maxFailures`` when neither it nor ``local[N, F]`` sets it (Spark's default).
DEFAULT_MAX_FAILURES = 4


def set_log_level(level: int) -> None:
    """Set the level of sparkish's and Dask's loggers in this process."""
    for name in ("sparkish", "distributed", "tornado"):
        logging.getLogger(name).setLevel(level)
    logging.getLogger("bokeh").setLevel(max(level, logging.ERROR))
    # The P2P shuffle logs every shuffle's start and end as warnings.
    logging.getLogger("distributed.shuffle").setLevel(max(level, logging.ERROR))


def scheduler_address(client: Client) -> str:
    """The address of the scheduler a client is connected to."""
    scheduler = client.scheduler
    assert scheduler is not None, "the client is not connected"
    return str(scheduler.address)


#: The ``sparkish.security.*`` settings and the ``distributed.Security`` argument each sets.
SECURITY_SETTINGS = {
    "sparkish.security.caFile": "tls_ca_file",
    "sparkish.security.certFile": "tls_client_cert",
    "sparkish.security.keyFile": "tls_client_key",
}


def security_from_settings(settings: Settings) -> Security | None:
    """The TLS credentials the ``sparkish.security.*`` settings name (None: none are set).

    >>> security_from_settings(Settings({})) is None
    True
    >>> security_from_settings(Settings({"sparkish.security.keyFile": "key.pem"}))
    Traceback (most recent call last):
        ...
    ValueError: TLS needs sparkish.security.caFile and certFile (set: keyFile)
    """
    given = [key for key in SECURITY_SETTINGS if settings.get(key) is not None]
    if not given:
        return None
    files = {SECURITY_SETTINGS[key]: settings[key] for key in given}
    if "tls_ca_file" not in files or "tls_client_cert" not in files:
        names = ", ".join(key.rsplit(".", 1)[1] for key in given)
        raise ValueError(f"TLS needs sparkish.security.caFile and certFile (set: {names})")
    return Security(require_encryption=True, **files)


#: Called with the client of every runtime that starts (and of the running ones when added):
#: how optional features install themselves on a cluster, e.g. the pyspark alias on workers.
client_hooks: list[Callable[[Client], None]] = []


class Runtime:
    """Connects to Dask and runs an application's jobs.

    Parameters
    ----------
    settings : Settings
        The context's configuration (``spark.master`` must be set).
    client : distributed.Client or None
        An existing client to run on; the runtime then neither closes it nor its cluster.
    security : distributed.Security or None
        TLS certificates for a remote scheduler; by default the ``sparkish.security.*``
        settings, else Dask's own configuration (``distributed.comm.tls.*``).
    """

    def __init__(
        self, settings: Settings, client: Client | None = None, security: Security | None = None
    ) -> None:
        self.settings = settings
        self.security = security
        self.master: str = settings["spark.master"]
        self.owns_client = client is None
        self.cluster: LocalProcessCluster | None = None
        self.stopped = False
        self.accumulators: dict[int, Accumulator] = {}
        self.broadcasts: dict[str, Broadcast] = {}
        self.materialized: list[MaterializedProvider] = []
        self._ids = itertools.count()
        self._rdd_ids = itertools.count()
        self._thread_local = threading.local()
        self._accumulator_plugin_ready = False
        if settings.get("spark.default.parallelism") is not None:
            self._configured_parallelism()  # validate before starting anything
        self.key_hashing = self._key_hashing()
        if client is not None:
            spec = MasterSpec("remote", address=scheduler_address(client))
            self.client = client
        else:
            spec = parse_master(self.master)
        self.max_failures = self._max_failures(spec)  # validated before starting anything
        if client is None:
            self.client = self._connect(spec)
        if spec.kind == "local":  # like Spark's local-<milliseconds>
            self.application_id = f"local-{int(time.time() * 1000)}-{uuid.uuid4().hex[:4]}"
        else:
            self.application_id = f"app-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        try:
            if spec.kind == "remote" and client is None:
                self._check_remote_workers()
            self.default_parallelism = self._default_parallelism(spec)
            for hook in client_hooks:
                hook(self.client)
            self.jobs = JobRunner(
                self.client,
                self.application_id,
                self.cluster,
                kill_grace_seconds=settings.get_float("spark.python.task.killTimeout", 2.0),
                after_job=self.merge_accumulator_updates,
                barrier_timeout=settings.get_float("spark.barrier.sync.timeout", 300.0),
                no_workers_timeout=settings.get_float("sparkish.noWorkersTimeout", 300.0),
                max_failures=self.max_failures,
                settings=settings,
            )
            self.jobs.key_hashing = self.key_hashing
            self.monitoring = Monitoring(self.client, self.application_id, self.jobs, settings)
            self.client.register_plugin(ShuffleReaderPlacement())
        except BaseException:
            self._close_connection()
            raise

    # ------------------------------------------------------------------ connecting
    def _connect(self, spec: MasterSpec) -> Client:
        if spec.kind == "local":
            return self._start_local_cluster(spec)
        timeout = self.settings.get_int("sparkish.connect.timeoutSeconds", 30)
        security = self.security or security_from_settings(self.settings)
        try:
            return Client(spec.address, timeout=timeout, set_as_default=False, security=security)
        except (OSError, TypeError) as error:
            # distributed raises TypeError for a tls:// address without certificates.
            hint = ""
            if str(spec.address).startswith("tls://"):
                hint = (
                    " (a tls:// scheduler needs the sparkish.security.caFile, certFile and "
                    "keyFile settings or SparkContext(security=distributed.Security(...)))"
                )
            raise ConnectionError(
                f"Could not connect to the Dask scheduler at {spec.address} "
                f"(master {self.master!r}) within {timeout} s: {error}{hint}"
            ) from error

    def _start_local_cluster(self, spec: MasterSpec) -> Client:
        set_log_level(logging.WARNING)
        memory, memory_setting = self._local_memory_limit(spec)
        self.cluster = LocalProcessCluster(
            n_workers=spec.workers,
            threads_per_worker=spec.threads_per_worker,
            memory_limit=memory,
            dashboard_address=self._dashboard_address(),
            environment=self._worker_environment(),
            memory_setting=memory_setting,
        )
        try:
            client = Client(self.cluster.scheduler_address, set_as_default=False)
            self._wait_for_local_workers(client, spec.workers)
        except BaseException:
            self.cluster.close()
            raise
        return client

    def _local_memory_limit(self, spec: MasterSpec) -> tuple[int | None, str]:
        """The memory limit per local worker and the setting that raises it."""
        if spec.memory_per_worker:
            return spec.memory_per_worker, "the third number of the local-cluster[...] master"
        for key in ("sparkish.local.memoryLimit", "spark.executor.memory"):
            value = self.settings.get_bytes(key)
            if value:
                return value, key
        return None, "sparkish.local.memoryLimit"

    def _max_failures(self, spec: MasterSpec) -> int:
        """``spark.task.maxFailures``, else ``F`` of a ``local[N, F]`` master, else 4."""
        if self.settings.get("spark.task.maxFailures") is not None:
            value = self.settings.get_int("spark.task.maxFailures", DEFAULT_MAX_FAILURES)
        else:
            value = spec.max_failures or DEFAULT_MAX_FAILURES
        if value < 1:
            raise ValueError(f"spark.task.maxFailures must be >= 1, got {value}")
        return value

    def _dashboard_address(self) -> str | None:
        if not self.settings.get_bool("spark.ui.enabled", True):
            return None
        port = self.settings.get("spark.ui.port")
        # Loopback only, like every server of a local cluster: the dashboard runs no code, but
        # shows what the application computes.
        return f"127.0.0.1:{port if port is not None else 8787}"

    def _worker_environment(self) -> dict[str, str]:
        prefix = "spark.executorEnv."
        environment = self.settings.with_prefix(prefix)
        # Workers started with the seed hash str keys with the built-in hash (the fast path).
        environment["PYTHONHASHSEED"] = str(self.key_hashing.seed)
        return environment

    def _key_hashing(self) -> KeyHashing:
        """``sparkish.shuffle.hash`` and the seed PySpark's executors would get (the
        ``sparkish.python.hashSeed`` setting, else the driver's ``PYTHONHASHSEED``, else 0),
        made the driver's own key hashing (``lookup``, partitioners called here)."""
        function = self.settings.get("sparkish.shuffle.hash", "pyspark").strip().lower()
        if self.settings.get("sparkish.python.hashSeed") is None:
            seed = seed_from_environment(os.environ.get("PYTHONHASHSEED"))
        else:
            seed = self.settings.get_int("sparkish.python.hashSeed", 0)
        hashing = KeyHashing(function, seed)
        use_key_hashing(hashing)  # validates both, with errors naming the settings
        return hashing

    def _wait_for_local_workers(self, client: Client, count: int) -> None:
        assert self.cluster is not None
        timeout = self.settings.get_int("sparkish.local.startTimeoutSeconds", 60)
        deadline = time.monotonic() + timeout
        while True:
            workers = client.scheduler_info(n_workers=-1)["workers"]
            if len(workers) >= count:
                return
            failure = self.cluster.failure
            if failure:
                raise RuntimeError(f"Local sparkish workers failed to start: {failure}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Only {len(workers)} of {count} local workers started within {timeout} s"
                )
            time.sleep(0.02)

    def _check_remote_workers(self) -> None:
        """Fail early, with the reason, when remote workers cannot run sparkish tasks."""
        python = worker_environment()["python"]
        try:
            reports = self.client.run(worker_environment)
        except Exception as error:
            raise RuntimeError(
                f"Cannot run sparkish on the Dask cluster at {self.master}: the workers could not "
                f"run a sparkish function ({type(error).__name__}: {error}). Install sparkish "
                f"{__version__} and Python {python} on every worker."
            ) from error
        problems = []
        for address, report in reports.items():
            if report.get("sparkish") != __version__:
                problems.append(f"{address} has sparkish {report.get('sparkish')}")
            if report.get("python") != python:
                problems.append(f"{address} runs Python {report.get('python')}")
        if problems:
            raise RuntimeError(
                f"The workers of {self.master} do not match this driver (sparkish {__version__}, "
                f"Python {python}): " + "; ".join(problems)
            )
        self._check_remote_hash_seeds()

    def _check_remote_hash_seeds(self) -> None:
        """Warn about workers started with another ``PYTHONHASHSEED``: they compute PySpark's
        placement of str and bytes keys themselves, which is slower than the built-in hash."""
        function, seed = self.key_hashing
        if function != "pyspark":
            return
        matches = self.client.run(builtin_hash_matches, seed)
        others = sorted(address for address, match in matches.items() if not match)
        if others:
            warnings.warn(
                f"{len(others)} of the {len(matches)} workers of {self.master} run with another "
                f"hash seed than this application's ({seed}): {', '.join(others)}. They compute "
                f"PySpark's placement of str and bytes keys with a slower hash function; start "
                f"them with PYTHONHASHSEED={seed} to use the built-in one "
                f"(sparkish.shuffle.hash=xxh3 needs no seed).",
                RuntimeWarning,
                stacklevel=2,
            )

    def _configured_parallelism(self) -> int:
        value = self.settings.get_int("spark.default.parallelism", 1)
        if value < 1:
            raise ValueError(f"spark.default.parallelism must be >= 1, got {value}")
        return value

    def _default_parallelism(self, spec: MasterSpec) -> int:
        if self.settings.get("spark.default.parallelism") is not None:
            return self._configured_parallelism()
        if spec.kind == "local":
            return spec.workers * spec.threads_per_worker
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return max(2, sum(worker.get("nthreads", 1) for worker in workers))

    # ------------------------------------------------------------------ state of the application
    def check_active(self) -> None:
        """Raise if the context was stopped."""
        if self.stopped:
            raise RuntimeError("This SparkContext has been stopped; create a new one")

    def new_id(self) -> int:
        """A number unique within this application (accumulator and broadcast ids)."""
        return next(self._ids)

    def new_rdd_id(self) -> int:
        """The next RDD id (RDDs are numbered from 0, as in Spark)."""
        return next(self._rdd_ids)

    def local_properties(self) -> dict[str, Any]:
        """This thread's job properties (job group, description, tags, user properties)."""
        properties = getattr(self._thread_local, "properties", None)
        if properties is None:
            properties = self._thread_local.properties = {}
        return properties

    def replace_local_properties(self, properties: dict[str, Any]) -> None:
        self._thread_local.properties = properties

    def run_job(
        self,
        node: Node,
        finisher: Finisher,
        splits: Any,
        description: str,
        drain_on_failure: bool = False,
    ) -> list:
        """Run one job with this thread's local properties (see ``JobRunner.run``)."""
        self.check_active()
        return self.jobs.run(
            node,
            finisher,
            splits,
            description,
            local_properties=self.local_properties(),
            drain_on_failure=drain_on_failure,
        )

    def storage_options(self, path: str, operation: str) -> dict[str, str]:
        """The ``sparkish.fs.<protocol>.*`` settings that apply to ``path``."""
        first = path.split(",")[0].strip()
        protocol, _ = fsspec.core.split_protocol(first)
        if protocol == "memory":
            self._require_in_process_workers(path, operation)
        return self.settings.with_prefix(f"sparkish.fs.{protocol or 'file'}.")

    def _require_in_process_workers(self, path: str, operation: str) -> None:
        """memory:// exists inside one process: only workers running in the driver can see it."""
        if any(pid != os.getpid() for pid in self.client.run(os.getpid).values()):
            raise ValueError(
                f"{operation}: {path} is on fsspec's in-memory file system, which exists only "
                "inside the driver process; this context's workers are separate processes. Use "
                "a local or shared file system path instead."
            )

    # ------------------------------------------------------------------ accumulators
    def register_accumulator(self, accumulator: Accumulator) -> None:
        """Track an accumulator; installs the scheduler plugin that collects task updates."""
        if not self._accumulator_plugin_ready:
            try:
                self.client.register_plugin(AccumulatorSchedulerPlugin())
            except Exception as error:
                raise RuntimeError(
                    "Accumulators need the sparkish scheduler plugin, which the Dask scheduler at "
                    f"{self.master} could not load (is sparkish installed there?): {error}"
                ) from error
            self._accumulator_plugin_ready = True
        self.accumulators[accumulator.aid] = accumulator

    def merge_accumulator_updates(self) -> None:
        """Add the updates of the tasks that succeeded since the last call."""
        if not self._accumulator_plugin_ready:
            return
        handler = getattr(self.client.scheduler, POP_HANDLER)
        payloads = self.client.sync(handler, app_id=self.application_id)
        for payload in payloads:
            for aid, update in pickle.loads(payload).items():
                accumulator = self.accumulators.get(aid)
                if accumulator is not None:
                    accumulator.add(update)

    # ------------------------------------------------------------------ shutting down
    def set_log_level(self, level: int) -> None:
        """Set the log level of this process and of the local workers."""
        set_log_level(level)
        if self.cluster is not None:
            self.client.run(set_log_level, level)

    def stop(self) -> None:
        """Cancel running jobs, release what this application holds on the cluster and close
        what the runtime started (never a client or cluster that was passed in)."""
        self.stopped = True
        try:
            self.jobs.close("the SparkContext was stopped")
            self.monitoring.close()
            for provider in self.materialized:
                provider.release()
            if not self.owns_client:  # the cluster stays up: remove what was installed on it
                for broadcast in list(self.broadcasts.values()):
                    broadcast.unpersist()
        finally:
            self._close_connection()

    def _close_connection(self) -> None:
        try:
            if self.owns_client and getattr(self, "client", None) is not None:
                self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
