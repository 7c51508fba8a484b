"""``SparkContext``: the entry point of a sparkish application.

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> sc.parallelize(range(10), 3).map(lambda x: x * x).filter(lambda x: x % 2).collect()
[1, 9, 25, 49, 81]
"""

from __future__ import annotations

import atexit
import getpass
import itertools
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from . import __version__
from .accumulators import Accumulator, AccumulatorParam, infer_param
from .broadcast import Broadcast
from .conf import SparkConf
from .files import ShipFilesPlugin, SparkFiles, _unpack_archive

if TYPE_CHECKING:
    from distributed import Client

    from .rdd import RDD

T = TypeVar("T")
U = TypeVar("U")

logger = logging.getLogger("sparkish")

__all__ = ["SparkContext"]

_LOG_LEVELS = {
    "ALL": logging.DEBUG,
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "OFF": logging.CRITICAL + 10,
}

_DEFAULT_BATCH = 1024


def _set_driver_log_level(level: int) -> None:
    for name in ("sparkish", "distributed", "tornado"):
        logging.getLogger(name).setLevel(level)
    logging.getLogger("bokeh").setLevel(max(level, logging.ERROR))
    # The P2P shuffle logs every shuffle's start and end as warnings.
    logging.getLogger("distributed.shuffle").setLevel(max(level, logging.ERROR))


def _set_worker_log_level(level: int) -> None:
    _set_driver_log_level(level)


class SparkContext:
    """The connection to a cluster: creates RDDs, broadcast variables and accumulators.

    ``master`` is ``local``, ``local[N]``, ``local[*]`` (an embedded cluster of N worker
    processes), ``local-cluster[N,C,M]``, or ``dask://host:port`` / ``tcp://host:port`` (a running
    ``dask scheduler``). ``client`` attaches to an existing ``distributed.Client`` instead. Only
    one context may be active per process; use it as a context manager or call :meth:`stop`.

    >>> from sparkish import SparkContext
    >>> sc = SparkContext.getOrCreate()
    >>> sc.defaultParallelism >= 1
    True
    >>> SparkContext("local[2]", "second")
    Traceback (most recent call last):
    ...
    ValueError: Cannot run multiple SparkContexts at once; existing SparkContext(...) ...
    """

    _active_spark_context: ClassVar[SparkContext | None] = None
    _lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(
        self,
        master: str | None = None,
        appName: str | None = None,
        sparkHome: str | None = None,
        pyFiles: list[str] | None = None,
        environment: dict[str, Any] | None = None,
        batchSize: int = 0,
        serializer: Any = None,
        conf: SparkConf | None = None,
        gateway: Any = None,
        jsc: Any = None,
        profiler_cls: Any = None,
        udf_profiler_cls: Any = None,
        memory_profiler_cls: Any = None,
        *,
        client: Client | None = None,
    ) -> None:
        with SparkContext._lock:
            active = SparkContext._active_spark_context
            if active is not None:
                raise ValueError(
                    "Cannot run multiple SparkContexts at once; existing "
                    f"SparkContext(app={active.appName}, master={active.master}) created by "
                    f"{active._creation_site}"
                )
            self._conf = conf._copy() if conf is not None else SparkConf()
            if master:
                self._conf.setMaster(master)
            if appName:
                self._conf.setAppName(appName)
            if sparkHome:
                self._conf.setSparkHome(sparkHome)
            for key, value in (environment or {}).items():
                self._conf.setExecutorEnv(key, str(value))
            if client is None:
                self._conf.setIfMissing("spark.master", "local[*]")
            else:
                self._conf.setIfMissing("spark.master", client.scheduler.address)
            self._conf.setIfMissing("spark.app.name", "sparkish")
            self._creation_site = _caller_site()
            self._batch_size = batchSize
            self._stopped = False
            self._start(client)
            SparkContext._active_spark_context = self
        submitted = [p for p in (self._conf.get("spark.submit.pyFiles") or "").split(",") if p]
        for path in [*submitted, *(pyFiles or [])]:
            self.addPyFile(path)

    # ------------------------------------------------------------------ start-up and shutdown
    def _start(self, client: Client | None) -> None:
        from ._execution import JobRunner
        from .cluster import LocalProcessCluster, MasterSpec, parse_master

        self.master: str = self._conf.get("spark.master")  # type: ignore[assignment]
        self.appName: str = self._conf.get("spark.app.name")  # type: ignore[assignment]
        self.sparkHome = self._conf.get("spark.home")
        self.environment = {
            key[len("spark.executorEnv.") :]: value
            for key, value in self._conf.getAll()
            if key.startswith("spark.executorEnv.")
        }
        self._start_time_ms = int(time.time() * 1000)
        self._cluster: LocalProcessCluster | None = None
        self._owns_client = client is None
        self._thread_local = threading.local()
        self._accumulator_ids = itertools.count()
        self._accumulators: dict[int, Accumulator] = {}
        self._broadcast_ids = itertools.count()
        self._broadcasts: dict[str, Broadcast] = {}
        self._rdd_ids = itertools.count()
        self._added_files: list[str] = []
        self._added_archives: list[str] = []
        self._checkpoint_dir: str | None = None
        self._materialized_providers: list = []
        self._accumulator_plugin_ready = False
        self.pythonExec = sys.executable
        self.pythonVer = f"{sys.version_info.major}.{sys.version_info.minor}"
        self._driver_directory = tempfile.mkdtemp(prefix="sparkish-driver-")
        SparkFiles._root_directory = os.path.join(self._driver_directory, "files")
        os.makedirs(SparkFiles._root_directory, exist_ok=True)

        if client is not None:
            spec = MasterSpec("remote", address=client.scheduler.address)
        else:
            spec = parse_master(self.master)
        if self._conf.contains("spark.default.parallelism"):
            self._compute_default_parallelism(spec)  # validate before starting anything
        self._client = None  # type: ignore[assignment]
        try:
            self._connect(spec, client)
            self._job_runner = JobRunner(self)
            self._default_parallelism = self._compute_default_parallelism(spec)
        except BaseException:
            self._release_resources()
            raise
        atexit.register(self._stop_at_exit)

    def _release_resources(self) -> None:
        """Close what this context started (used when start-up fails half-way)."""
        try:
            if self._owns_client and self._client is not None:
                self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()
            shutil.rmtree(self._driver_directory, ignore_errors=True)

    def _connect(self, spec, client: Client | None) -> None:
        from distributed import Client

        from .cluster import LocalProcessCluster

        if client is not None:
            self._client = client
            self._application_id = f"app-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        elif spec.kind == "local":
            _set_driver_log_level(logging.WARNING)
            self._cluster = LocalProcessCluster(
                n_workers=spec.workers,
                threads_per_worker=spec.threads_per_worker,
                memory_limit=spec.memory_per_worker or self._memory_setting(),
                dashboard_address=self._dashboard_address(),
                environment=self._worker_environment(),
            )
            self._application_id = f"local-{self._start_time_ms}-{uuid.uuid4().hex[:4]}"
            self._client = Client(self._cluster.scheduler_address, set_as_default=False)
            self._wait_for_local_workers(spec.workers)
        else:
            timeout = self._conf._get_int("sparkish.connect.timeoutSeconds", 30)
            try:
                self._client = Client(spec.address, timeout=timeout, set_as_default=False)
            except OSError as error:
                raise ConnectionError(
                    f"Could not connect to the Dask scheduler at {spec.address} "
                    f"(master {self.master!r}) within {timeout} s: {error}"
                ) from error
            self._application_id = f"app-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
            self._check_remote_workers()

    def _memory_setting(self) -> int | None:
        from dask.utils import parse_bytes

        value = self._conf.get("sparkish.local.memoryLimit") or self._conf.get(
            "spark.executor.memory"
        )
        if not value:
            return None
        text = value.strip()
        if text[-1:].lower() in "kmgt" and not text[-2:].lower().endswith("b"):
            text += "iB"
        return int(parse_bytes(text))

    def _dashboard_address(self) -> str | None:
        if not self._conf._get_bool("spark.ui.enabled", True):
            return None
        port = self._conf.get("spark.ui.port")
        return f":{port}" if port is not None else ":8787"

    def _worker_environment(self) -> dict[str, str]:
        environment = dict(self.environment)
        seed = self._conf.get("sparkish.python.hashSeed") or os.environ.get("PYTHONHASHSEED", "0")
        environment["PYTHONHASHSEED"] = seed
        return environment

    def _wait_for_local_workers(self, count: int) -> None:
        assert self._cluster is not None
        timeout = self._conf._get_int("sparkish.local.startTimeoutSeconds", 60)
        deadline = time.monotonic() + timeout
        while True:
            workers = self._client.scheduler_info(n_workers=-1)["workers"]
            if len(workers) >= count:
                return
            failure = self._cluster.startup_failure()
            if self._cluster.failure:
                raise RuntimeError(f"Local sparkish workers failed to start: {failure}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Only {len(workers)} of {count} local workers started within {timeout} s"
                    + (f" ({failure})" if failure else "")
                )
            time.sleep(0.02)

    def _check_remote_workers(self) -> None:
        """Fail early, with the reason, when remote workers cannot run sparkish tasks."""
        from ._remote_checks import worker_environment

        try:
            reports = self._client.run(worker_environment)
        except Exception as error:
            raise RuntimeError(
                f"Cannot run sparkish on the Dask cluster at {self.master}: the workers could not "
                f"run a sparkish function ({type(error).__name__}: {error}). Install sparkish "
                f"{__version__} and Python {self.pythonVer} on every worker."
            ) from error
        problems = []
        for address, report in reports.items():
            if report.get("sparkish") != __version__:
                problems.append(f"{address} has sparkish {report.get('sparkish')}")
            if report.get("python") != self.pythonVer:
                problems.append(f"{address} runs Python {report.get('python')}")
        if problems:
            raise RuntimeError(
                f"The workers of {self.master} do not match this driver (sparkish {__version__}, "
                f"Python {self.pythonVer}): " + "; ".join(problems)
            )

    def _compute_default_parallelism(self, spec) -> int:
        configured = self._conf.get("spark.default.parallelism")
        if configured is not None:
            value = self._conf._get_int("spark.default.parallelism", 1)
            if value < 1:
                raise ValueError(f"spark.default.parallelism must be >= 1, got {value}")
            return value
        if spec.kind == "local":
            return spec.workers * spec.threads_per_worker
        workers = self._client.scheduler_info(n_workers=-1)["workers"].values()
        return max(2, sum(worker.get("nthreads", 1) for worker in workers))

    def _stop_at_exit(self) -> None:
        try:
            self.stop()
        except Exception:
            pass

    def stop(self) -> None:
        """Shut down what this context started (its local cluster and client) and nothing else.

        A client or cluster that was passed in stays up; this context's results held on it are
        released.
        """
        with SparkContext._lock:
            if self._stopped:
                return
            self._stopped = True
            if SparkContext._active_spark_context is self:
                SparkContext._active_spark_context = None
        atexit.unregister(self._stop_at_exit)
        try:
            self._job_runner.cancel(lambda record: True, "the SparkContext was stopped")
            for provider in self._materialized_providers:
                provider.release()
            if not self._owns_client:
                for broadcast in list(self._broadcasts.values()):
                    broadcast.unpersist()
        finally:
            if self._owns_client:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            if SparkFiles._root_directory and SparkFiles._root_directory.startswith(
                self._driver_directory
            ):
                SparkFiles._root_directory = None
            shutil.rmtree(self._driver_directory, ignore_errors=True)

    def __enter__(self) -> SparkContext:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __getnewargs__(self) -> Any:
        raise RuntimeError(
            "It appears that you are attempting to reference SparkContext from a broadcast "
            "variable, action, or transformation. SparkContext can only be used on the driver, "
            "not in code that it run on workers. For more information, see SPARK-5063."
        )

    def __reduce__(self) -> Any:
        return self.__getnewargs__()

    def __repr__(self) -> str:
        return f"<SparkContext master={self.master} appName={self.appName}>"

    @classmethod
    def getOrCreate(cls, conf: SparkConf | None = None) -> SparkContext:
        """The active context, or a new one built from ``conf``.

        >>> SparkContext.getOrCreate() is SparkContext.getOrCreate()
        True
        """
        with cls._lock:
            if cls._active_spark_context is None:
                cls(conf=conf or SparkConf())
            assert cls._active_spark_context is not None
            return cls._active_spark_context

    @classmethod
    def setSystemProperty(cls, key: str, value: str) -> None:
        """Set a property that later ``SparkConf()`` objects load by default."""
        import json

        from .conf import SUBMIT_CONF_VARIABLE

        settings = json.loads(os.environ.get(SUBMIT_CONF_VARIABLE, "{}"))
        settings[key] = value
        os.environ[SUBMIT_CONF_VARIABLE] = json.dumps(settings)

    @classmethod
    def getSystemProperty(cls, key: str) -> str | None:
        """A system property: set with :meth:`setSystemProperty`, or an environment variable.

        ``SPARK_SUBMIT`` is ``'true'`` (sparkish always runs as a submitted application).
        """
        import json

        from .conf import SUBMIT_CONF_VARIABLE

        settings = json.loads(os.environ.get(SUBMIT_CONF_VARIABLE, "{}"))
        if key in settings:
            return str(settings[key])
        if key == "SPARK_SUBMIT":
            return "true"
        if key == "java.home":
            return os.environ.get("JAVA_HOME")
        return os.environ.get(key)

    # ------------------------------------------------------------------ properties
    @property
    def version(self) -> str:
        """The version of sparkish."""
        return __version__

    @property
    def applicationId(self) -> str:
        """A unique identifier of this application, e.g. ``local-1700000000000-ab12``."""
        return self._application_id

    @property
    def uiWebUrl(self) -> str | None:
        """The link to the Dask dashboard that shows this application's tasks."""
        if self._cluster is not None:
            return self._cluster.dashboard_link
        if not self._conf._get_bool("spark.ui.enabled", True):
            return None
        try:
            return self._client.dashboard_link
        except Exception:
            return None

    @property
    def startTime(self) -> int:
        """When the context started, in milliseconds since the epoch."""
        return self._start_time_ms

    @property
    def defaultParallelism(self) -> int:
        """Default number of partitions: ``spark.default.parallelism`` or the worker threads."""
        return self._default_parallelism

    @property
    def defaultMinPartitions(self) -> int:
        """Default minimum number of partitions for file input: ``min(defaultParallelism, 2)``."""
        return min(self.defaultParallelism, 2)

    @property
    def resources(self) -> dict:
        return {}

    @property
    def dask_client(self) -> Client:
        """The ``distributed.Client`` that runs this context's jobs."""
        return self._client

    @property
    def _jsc(self) -> None:
        return None

    def getConf(self) -> SparkConf:
        """A copy of this context's configuration."""
        return self._conf._copy()

    def sparkUser(self) -> str:
        """The user running this application."""
        return os.environ.get("SPARK_USER") or getpass.getuser()

    def setLogLevel(self, logLevel: str) -> None:
        """Set the log level of sparkish and Dask (ALL, DEBUG, INFO, WARN, ERROR, FATAL, OFF)."""
        level = _LOG_LEVELS.get(str(logLevel).upper())
        if level is None:
            raise ValueError(
                f"Invalid log level {logLevel!r}: use one of "
                "ALL, DEBUG, ERROR, FATAL, INFO, OFF, TRACE, WARN"
            )
        _set_driver_log_level(level)
        if self._cluster is not None:
            self._client.run(_set_worker_log_level, level)

    # ------------------------------------------------------------------ thread-local properties
    def _thread_properties(self) -> dict[str, Any]:
        properties = getattr(self._thread_local, "properties", None)
        if properties is None:
            properties = self._thread_local.properties = {}
        return properties

    def setLocalProperty(self, key: str, value: str | None) -> None:
        """Set a property of the jobs this thread submits (``None`` removes it)."""
        properties = self._thread_properties()
        if value is None:
            properties.pop(key, None)
        else:
            properties[key] = value

    def getLocalProperty(self, key: str) -> str | None:
        """A property set in this thread with :meth:`setLocalProperty`."""
        return self._thread_properties().get(key)

    def setJobGroup(self, groupId: str, description: str, interruptOnCancel: bool = False) -> None:
        """Put the jobs this thread submits into a group that :meth:`cancelJobGroup` cancels."""
        self.setLocalProperty("spark.jobGroup.id", groupId)
        self.setLocalProperty("spark.job.description", description)
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    def setJobDescription(self, value: str) -> None:
        """Describe the jobs this thread submits (shown on the dashboard and in errors)."""
        self.setLocalProperty("spark.job.description", value)

    def setInterruptOnCancel(self, interruptOnCancel: bool) -> None:
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    def addJobTag(self, tag: str) -> None:
        """Tag the jobs this thread submits; :meth:`cancelJobsWithTag` cancels them."""
        if not tag or "," in tag:
            raise ValueError(f"Invalid job tag {tag!r}: it must be non-empty and contain no comma")
        properties = self._thread_properties()
        properties["spark.job.tags"] = _TagSet({*properties.get("spark.job.tags", ()), tag})

    def removeJobTag(self, tag: str) -> None:
        properties = self._thread_properties()
        properties["spark.job.tags"] = _TagSet(set(properties.get("spark.job.tags", ())) - {tag})

    def getJobTags(self) -> set[str]:
        """The tags added in this thread (their repr is sorted)."""
        return _TagSet(self._thread_properties().get("spark.job.tags", ()))

    def clearJobTags(self) -> None:
        self._thread_properties()["spark.job.tags"] = _TagSet()

    def cancelJobGroup(self, groupId: str, reason: str | None = None) -> None:
        """Cancel the running jobs of a group; their actions raise ``JobCancelledError``."""
        why = reason or f"part of cancelled job group {groupId}"
        self._job_runner.cancel(lambda record: record.group_id == groupId, why)

    def cancelJobsWithTag(self, tag: str, reason: str | None = None) -> None:
        """Cancel the running jobs that carry ``tag``."""
        why = reason or f"part of cancelled job tag {tag}"
        self._job_runner.cancel(lambda record: tag in record.tags, why)

    def cancelAllJobs(self) -> None:
        """Cancel every running job of this context."""
        self._job_runner.cancel(lambda record: True, "as part of cancellation of all jobs")

    def statusTracker(self):
        """A :class:`~sparkish.status.StatusTracker` over this context's jobs."""
        from .status import StatusTracker

        return StatusTracker(self)

    # ------------------------------------------------------------------ RDD creation
    def _new_rdd_id(self) -> int:
        return next(self._rdd_ids)

    def _check_active(self) -> None:
        if self._stopped:
            raise RuntimeError("This SparkContext has been stopped; create a new one")

    def emptyRDD(self) -> RDD[Any]:
        """An RDD with no partitions and no elements.

        >>> sc.emptyRDD().collect(), sc.emptyRDD().getNumPartitions()
        ([], 0)
        """
        from .rdd import EmptyRDD

        return EmptyRDD(self)

    def range(
        self, start: int, end: int | None = None, step: int = 1, numSlices: int | None = None
    ) -> RDD[int]:
        """An RDD of ``range(start, end, step)`` (``range(0, start)`` when ``end`` is omitted).

        >>> sc.range(5).collect()
        [0, 1, 2, 3, 4]
        >>> sc.range(2, 4).collect()
        [2, 3]
        >>> sc.range(1, 7, 2).collect()
        [1, 3, 5]
        """
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def parallelize(self, c: Iterable[T], numSlices: int | None = None) -> RDD[T]:
        """Distribute a local collection as an RDD of ``numSlices`` partitions.

        A ``range`` is never materialized: each task generates its own slice.

        >>> sc.parallelize([0, 2, 3, 4, 6], 5).glom().collect()
        [[0], [2], [3], [4], [6]]
        >>> sc.parallelize(range(0, 6, 2), 5).glom().collect()
        [[], [0], [], [2], [4]]
        >>> sc.parallelize(["a", "b", "c"], 2).glom().collect()
        [['a'], ['b', 'c']]
        """
        from .rdd import ParallelCollectionRDD, RangeRDD

        self._check_active()
        slices = (
            self.defaultParallelism
            if numSlices is None
            else _positive_int(numSlices, "parallelize", "numSlices")
        )
        if isinstance(c, range):
            return RangeRDD(self, c, slices)
        if not hasattr(c, "__len__"):
            c = list(c)
        data = c if isinstance(c, list) else list(c)  # type: ignore[arg-type]
        batch = max(1, min(len(data) // slices, self._batch_size or _DEFAULT_BATCH))
        return ParallelCollectionRDD(self, data, slices, batch)

    def union(self, rdds: list[RDD[T]]) -> RDD[T]:
        """The union of a list of RDDs (duplicates kept).

        >>> sc.union([sc.parallelize([1, 2]), sc.parallelize([3])]).collect()
        [1, 2, 3]
        """
        from .rdd import UnionRDD

        rdds = list(rdds)
        if not rdds:
            raise ValueError("union: the list of RDDs is empty")
        for rdd in rdds:
            if rdd.context is not self:
                raise ValueError("union: all RDDs must belong to this SparkContext")
        return UnionRDD(self, rdds)

    def broadcast(self, value: T) -> Broadcast[T]:
        """Ship a read-only value to every worker once.

        >>> b = sc.broadcast([1, 2, 3, 4, 5])
        >>> b.value
        [1, 2, 3, 4, 5]
        >>> sc.parallelize([0, 0]).flatMap(lambda x: b.value).collect()
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
        >>> b.unpersist()
        """
        self._check_active()
        key = f"sparkish-broadcast-{self.applicationId}-{next(self._broadcast_ids)}"
        broadcast = Broadcast(self, value, key=key)
        self._broadcasts[key] = broadcast
        return broadcast

    def accumulator(
        self, value: T, accum_param: AccumulatorParam[T] | None = None
    ) -> Accumulator[T]:
        """An accumulator starting at ``value`` (ints, floats and complex need no param).

        >>> acc = sc.accumulator(10)
        >>> sc.parallelize([1, 2, 3]).foreach(lambda x: acc.add(x))
        >>> acc.value
        16
        """
        self._check_active()
        param = accum_param if accum_param is not None else infer_param(value)
        self._ensure_accumulator_plugin()
        accumulator = Accumulator(next(self._accumulator_ids), value, param)
        self._accumulators[accumulator.aid] = accumulator
        return accumulator

    def _ensure_accumulator_plugin(self) -> None:
        if self._accumulator_plugin_ready:
            return
        from ._scheduler_plugin import AccumulatorSchedulerPlugin

        try:
            self._client.register_plugin(AccumulatorSchedulerPlugin())
        except Exception as error:
            raise RuntimeError(
                "Accumulators need the sparkish scheduler plugin, which the Dask scheduler at "
                f"{self.master} could not load (is sparkish installed there?): {error}"
            ) from error
        self._accumulator_plugin_ready = True

    def _merge_accumulator_updates(self) -> None:
        if not self._accumulator_plugin_ready:
            return
        import pickle

        from ._scheduler_plugin import POP_HANDLER

        handler = getattr(self._client.scheduler, POP_HANDLER)
        payloads = self._client.sync(handler, app_id=self.applicationId)
        for payload in payloads:
            for aid, update in pickle.loads(payload).items():
                accumulator = self._accumulators.get(aid)
                if accumulator is not None:
                    accumulator._value = accumulator.accum_param.addInPlace(
                        accumulator._value, update
                    )

    # ------------------------------------------------------------------ files
    @staticmethod
    def _resource_uri(path: str) -> str:
        if "://" in path:
            return path
        return "file:" + os.path.abspath(path)

    def _read_resource(self, path: str, operation: str, recursive: bool) -> dict[str, bytes]:
        """The files at ``path`` (any fsspec URL), as {relative path: content}."""
        import fsspec

        fs, resolved = fsspec.core.url_to_fs(path)
        if not fs.exists(resolved):
            raise FileNotFoundError(f"{operation}: {path} does not exist")
        name = os.path.basename(resolved.rstrip("/"))
        if fs.isdir(resolved):
            if not recursive:
                raise ValueError(f"{operation}: {path} is a directory; pass recursive=True")
            return {
                os.path.join(name, os.path.relpath(child, resolved)): fs.cat_file(child)
                for child in fs.find(resolved)
            }
        return {name: fs.cat_file(resolved)}

    def _ship(self, files: dict[str, bytes], plugin_name: str, unpack: bool = False) -> None:
        root = SparkFiles.getRootDirectory()
        for relative, content in files.items():
            target = os.path.join(root, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(target):
                shutil.rmtree(target)
            with open(target, "wb") as f:
                f.write(content)
            if unpack:
                _unpack_archive(target)
        self._client.register_plugin(ShipFilesPlugin(files, unpack), name=plugin_name)

    def addFile(self, path: str, recursive: bool = False) -> None:
        """Ship a file (or, with ``recursive``, a directory) to every worker.

        Tasks find it with ``SparkFiles.get(name)``. Any fsspec URL works. A path added twice is
        shipped once.
        """
        self._check_active()
        uri = self._resource_uri(path)
        if uri in self._added_files:
            return
        files = self._read_resource(path, "addFile", recursive)
        name = os.path.basename(path.rstrip("/"))
        self._ship(files, f"sparkish-file-{self.applicationId}-{name}")
        self._added_files.append(uri)

    @property
    def listFiles(self) -> list[str]:
        """The URIs of the files added with :meth:`addFile`."""
        return list(self._added_files)

    def addPyFile(self, path: str) -> None:
        """Ship a ``.py``, ``.zip``, ``.egg`` or ``.whl`` file to the workers and import path."""
        self._check_active()
        if not path.endswith((".py", ".zip", ".egg", ".whl")):
            raise ValueError(f"addPyFile: {path} is not a .py, .zip, .egg or .whl file")
        self.addFile(path)
        shipped = SparkFiles.get(os.path.basename(path))
        entry = os.path.dirname(shipped) if path.endswith(".py") else shipped
        if entry not in sys.path:
            sys.path.insert(1, entry)
        self._client.register_plugin(
            _ImportPathPlugin(os.path.basename(path)),
            name=f"sparkish-pyfile-{self.applicationId}-{os.path.basename(path)}",
        )
        import importlib

        importlib.invalidate_caches()

    def addArchive(self, path: str) -> None:
        """Ship an archive (.zip, .tar, .tar.gz, .tgz) and unpack it on every worker.

        Tasks find the unpacked directory at ``SparkFiles.get(archive file name)``.
        """
        self._check_active()
        uri = self._resource_uri(path)
        if uri in self._added_archives:
            return
        files = self._read_resource(path, "addArchive", recursive=False)
        name = os.path.basename(path)
        self._ship(files, f"sparkish-archive-{self.applicationId}-{name}", unpack=True)
        self._added_archives.append(uri)

    @property
    def listArchives(self) -> list[str]:
        """The URIs of the archives added with :meth:`addArchive`."""
        return list(self._added_archives)

    def setCheckpointDir(self, dirName: str) -> None:
        """Set the directory (any fsspec URL) under which RDDs are checkpointed."""
        import fsspec

        fs, resolved = fsspec.core.url_to_fs(dirName)
        if fs.exists(resolved) and not fs.isdir(resolved):
            raise ValueError(f"setCheckpointDir: {dirName} exists and is not a directory")
        directory = dirName.rstrip("/") + "/" + str(uuid.uuid4())
        fs.makedirs(fs._strip_protocol(directory), exist_ok=True)
        self._checkpoint_dir = directory

    def getCheckpointDir(self) -> str | None:
        """The directory set by :meth:`setCheckpointDir`, or ``None``."""
        return self._checkpoint_dir

    # ------------------------------------------------------------------ jobs
    def runJob(
        self,
        rdd: RDD[T],
        partitionFunc: Callable[[Iterable[T]], Iterable[U]],
        partitions: list[int] | None = None,
        allowLocal: bool = False,
    ) -> list[U]:
        """Run ``partitionFunc`` on the given partitions and return the flattened results.

        >>> myRDD = sc.parallelize(range(6), 3)
        >>> sc.runJob(myRDD, lambda part: [x * x for x in part])
        [0, 1, 4, 9, 16, 25]
        >>> sc.runJob(myRDD, lambda part: [x * x for x in part], [0, 2], True)
        [0, 1, 16, 25]
        """
        from .rdd import _run_partition_function

        _require_callable(partitionFunc, "runJob", "partitionFunc")
        results = rdd._run(_run_partition_function(partitionFunc), partitions, "runJob")
        return [item for block in results for item in block]

    def show_profiles(self) -> None:
        raise NotImplementedError("sparkish has no Python profiler; use the Dask dashboard")

    def dump_profiles(self, path: str) -> None:
        raise NotImplementedError("sparkish has no Python profiler; use the Dask dashboard")

    # File readers live in sparkish.io; these delegate.
    def textFile(self, name: str, minPartitions: int | None = None, use_unicode: bool = True):
        """Read text files (a file, directory, glob or comma-separated list) as lines."""
        from .io import _context_readers

        return _context_readers.text_file(self, name, minPartitions, use_unicode)

    def wholeTextFiles(self, path: str, minPartitions: int | None = None, use_unicode: bool = True):
        """Read whole text files as ``(path, content)`` pairs."""
        from .io import _context_readers

        return _context_readers.whole_text_files(self, path, minPartitions, use_unicode)

    def binaryFiles(self, path: str, minPartitions: int | None = None):
        """Read whole binary files as ``(path, bytes)`` pairs."""
        from .io import _context_readers

        return _context_readers.binary_files(self, path, minPartitions)

    def binaryRecords(self, path: str, recordLength: int):
        """Read flat binary files as fixed-length records."""
        from .io import _context_readers

        return _context_readers.binary_records(self, path, recordLength)

    def pickleFile(self, name: str, minPartitions: int | None = None):
        """Read an RDD saved with ``RDD.saveAsPickleFile``.

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "pickled")
        >>> sc.parallelize(range(10)).saveAsPickleFile(path, 5)
        >>> sorted(sc.pickleFile(path, 3).collect())
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        from .io import _context_readers

        return _context_readers.pickle_file(self, name, minPartitions)


class _ImportPathPlugin(WorkerPlugin):
    """Worker plugin: put a file shipped with ``addPyFile`` on the worker's import path."""

    def __init__(self, name: str) -> None:
        self.name = name

    def setup(self, worker) -> None:
        import importlib

        from .files import _worker_root

        shipped = os.path.join(_worker_root(worker), self.name)
        entry = os.path.dirname(shipped) if self.name.endswith(".py") else shipped
        if entry not in sys.path:
            sys.path.insert(1, entry)
        importlib.invalidate_caches()


def _positive_int(value: Any, operation: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if float(value) != int(value):
                raise ValueError
            value = int(value)
        except (TypeError, ValueError):
            raise TypeError(f"{operation}: {name} must be an integer, got {value!r}") from None
    if value < 1:
        raise ValueError(f"{operation}: {name} must be positive, got {value}")
    return value


def _require_callable(function: Any, operation: str, name: str = "f") -> None:
    if not callable(function):
        raise TypeError(
            f"{operation}: {name} must be callable, got {type(function).__name__} {function!r}"
        )


def _caller_site() -> str:
    package = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(package):
            return f"{frame.name} at {frame.filename}:{frame.lineno}"
    return "<unknown>"


def _iter_batches(data: list, batch: int) -> Iterator[list]:
    for start in range(0, len(data), batch):
        yield data[start : start + batch]


class _TagSet(set):
    """A set of job tags whose repr is sorted, so it prints the same in every process."""

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(tag) for tag in sorted(self)) + "}" if self else "set()"


class InheritableThread(threading.Thread):
    """A thread that inherits the job group, description and tags of the thread starting it.

    >>> import threading
    >>> sc = SparkContext.getOrCreate()
    >>> sc.setJobGroup("my-group", "work in a thread")
    >>> seen = []
    >>> def record_group():
    ...     seen.append(sc.getLocalProperty("spark.jobGroup.id"))
    >>> thread = InheritableThread(target=record_group)
    >>> thread.start(); thread.join()
    >>> seen
    ['my-group']
    """

    def __init__(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        kwargs.pop("session", None)
        super().__init__(target=target, *args, **kwargs)  # noqa: B026

    def start(self) -> None:
        context = SparkContext._active_spark_context
        inherited = dict(context._thread_properties()) if context is not None else {}
        original_run = self.run

        def run_with_properties() -> None:
            if context is not None:
                context._thread_local.properties = dict(inherited)
            original_run()

        self.run = run_with_properties  # type: ignore[method-assign]
        super().start()


def inheritable_thread_target(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a thread target so it runs with the starting thread's job properties."""
    import functools

    context = SparkContext._active_spark_context
    inherited = dict(context._thread_properties()) if context is not None else {}

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if context is not None:
            context._thread_local.properties = dict(inherited)
        return f(*args, **kwargs)

    return wrapped
