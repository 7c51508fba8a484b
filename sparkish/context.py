"""``SparkContext``: the entry point of a sparkish application.

The context is PySpark's facade; the machinery behind it (connecting to Dask, running jobs,
what outlives a job) is a :class:`~sparkish.execution.runtime.Runtime`.

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> sc.parallelize(range(10), 3).map(lambda x: x * x).filter(lambda x: x % 2).collect()
[1, 9, 25, 49, 81]
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import fsspec

from ._version import __version__
from .accumulators import Accumulator, AccumulatorParam, infer_param
from .broadcast import Broadcast
from .callsite import user_frame
from .conf import SUBMIT_CONF_VARIABLE, SparkConf
from .execution.runtime import Runtime, scheduler_address
from .files import (
    ImportPathPlugin,
    SparkFiles,
    add_to_import_path,
    read_resource,
    set_driver_root,
    ship_files,
)
from .io import splits
from .io.readers import read_binary_files, read_pickle_split
from .rdd import RDD
from .rdd.kinds import (
    EmptySlices,
    FileInput,
    NoPartitions,
    ParallelCollection,
    RangeCollection,
    UnionOf,
)
from .settings import Settings
from .sources import InteropSources
from .status import StatusTracker
from .validation import require_callable, require_int
from .worker import inputs
from .worker.finishers import partition_function_finisher

if TYPE_CHECKING:
    from distributed import Client, Security

T = TypeVar("T")
U = TypeVar("U")

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

#: Records per batch when slicing a parallelized list (PySpark's default batch size).
_DEFAULT_BATCH = 1024


class _TagSet(set):
    """A set of job tags whose repr is sorted, so it prints the same in every process."""

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(tag) for tag in sorted(self)) + "}" if self else "set()"


class SparkContext(InteropSources):
    """The connection to a cluster: creates RDDs, broadcast variables and accumulators.

    Only one context may be active per process; use it as a context manager or call
    :meth:`stop`.

    Parameters
    ----------
    master : str, optional
        ``local``, ``local[N]``, ``local[*]`` (an embedded cluster of N worker processes),
        ``local-cluster[N,C,M]``, or ``dask://host:port`` / ``tcp://host:port`` (a running
        ``dask scheduler``). Default: ``spark.master`` from ``conf``, else ``local[*]``.
    appName : str, optional
        The application's name.
    sparkHome : str, optional
        Accepted for compatibility.
    pyFiles : list of str, optional
        ``.py``, ``.zip``, ``.egg`` or ``.whl`` files shipped to the workers (see
        :meth:`addPyFile`).
    environment : dict, optional
        Environment variables of the local worker processes.
    batchSize : int
        Records per batch when slicing a parallelized list (0: automatic).
    serializer
        Accepted for compatibility with PySpark's signature; ignored.
    conf : SparkConf, optional
        The configuration (copied).
    gateway, jsc, profiler_cls, udf_profiler_cls, memory_profiler_cls
        Accepted for compatibility with PySpark's signature; ignored.
    client : distributed.Client, optional
        Run on this existing Dask client instead; stopping the context leaves it open.
    security : distributed.Security, optional
        TLS certificates for a ``tls://`` master (instead of the ``sparkish.security.*``
        settings).

    Examples
    --------
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
    _active_creation_site: ClassVar[str] = ""
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
        security: Security | None = None,
    ) -> None:
        with SparkContext._lock:
            self._refuse_a_second_context()
            self._conf = _assemble_conf(conf, master, appName, sparkHome, environment, client)
            self._batch_size = batchSize
            self._stopped = False
            self._start(client, security)
            self._activate(self, str(user_frame()))
        for path in [*_paths(self._conf.get("spark.submit.pyFiles")), *(pyFiles or [])]:
            self.addPyFile(path)
        for path in _paths(self._conf.get("spark.files")):
            self.addFile(path)
        for path in _paths(self._conf.get("spark.archives")):
            self.addArchive(path)

    # ------------------------------------------------------------------ start-up and shutdown
    @classmethod
    def _refuse_a_second_context(cls) -> None:
        active = cls._active_spark_context
        if active is not None:
            raise ValueError(
                "Cannot run multiple SparkContexts at once; existing "
                f"SparkContext(app={active.appName}, master={active.master}) created by "
                f"{cls._active_creation_site}"
            )

    @classmethod
    def _activate(cls, context: SparkContext | None, creation_site: str = "") -> None:
        cls._active_spark_context = context
        cls._active_creation_site = creation_site

    def _start(self, client: Client | None, security: Security | None = None) -> None:
        settings = Settings(dict(self._conf.getAll()))
        self.master: str = settings["spark.master"]
        self.appName: str = settings["spark.app.name"]
        self.sparkHome = settings.get("spark.home")
        self.environment = settings.with_prefix("spark.executorEnv.")
        self.pythonExec = sys.executable
        self.pythonVer = f"{sys.version_info.major}.{sys.version_info.minor}"
        self._start_time_ms = int(time.time() * 1000)
        self._added_files: list[str] = []
        self._added_archives: list[str] = []
        self._checkpoint_dir: str | None = None
        self._driver_directory = tempfile.mkdtemp(prefix="sparkish-driver-")
        root = os.path.join(self._driver_directory, "files")
        os.makedirs(root, mode=0o700, exist_ok=True)
        set_driver_root(root)
        try:
            self._runtime = Runtime(settings, client, security)
        except BaseException:
            self._remove_driver_directory()
            raise
        atexit.register(self._stop_at_exit)
        _report_interrupted_jobs_briefly()

    def _remove_driver_directory(self) -> None:
        set_driver_root(None, only_under=self._driver_directory)
        shutil.rmtree(self._driver_directory, ignore_errors=True)

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
                self._activate(None)
        atexit.unregister(self._stop_at_exit)
        try:
            self._runtime.stop()
        finally:
            self._remove_driver_directory()

    def __enter__(self) -> SparkContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
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

        Parameters
        ----------
        conf : SparkConf, optional
            The configuration of a new context (ignored when one is active).

        Returns
        -------
        SparkContext

        Examples
        --------
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
        """Set a property that later ``SparkConf()`` objects load by default.

        Parameters
        ----------
        key : str
            The property's name.
        value : str
            Its value.
        """
        settings = json.loads(os.environ.get(SUBMIT_CONF_VARIABLE, "{}"))
        settings[key] = value
        os.environ[SUBMIT_CONF_VARIABLE] = json.dumps(settings)

    @classmethod
    def getSystemProperty(cls, key: str) -> str | None:
        """A system property: set with :meth:`setSystemProperty`, or an environment variable.

        ``SPARK_SUBMIT`` is ``'true'`` (sparkish always runs as a submitted application).

        Parameters
        ----------
        key : str
            The property's name.

        Returns
        -------
        str or None
        """
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
        return self._runtime.application_id

    @property
    def uiWebUrl(self) -> str | None:
        """The link to the Dask dashboard that shows this application's tasks."""
        cluster = self._runtime.cluster
        if cluster is not None:
            return cluster.dashboard_link
        if not self._runtime.settings.get_bool("spark.ui.enabled", True):
            return None
        try:
            return self._runtime.client.dashboard_link
        except Exception:
            return None

    @property
    def startTime(self) -> int:
        """When the context started, in milliseconds since the epoch."""
        return self._start_time_ms

    @property
    def defaultParallelism(self) -> int:
        """Default number of partitions: ``spark.default.parallelism`` or the worker threads."""
        return self._runtime.default_parallelism

    @property
    def defaultMinPartitions(self) -> int:
        """Default minimum number of partitions for file input: ``min(defaultParallelism, 2)``."""
        return min(self.defaultParallelism, 2)

    @property
    def resources(self) -> dict:
        """Resources of the driver (none: sparkish does not schedule resources)."""
        return {}

    @property
    def dask_client(self) -> Client:
        """The ``distributed.Client`` that runs this context's jobs."""
        return self._runtime.client

    @property
    def _jsc(self) -> None:
        return None

    def getConf(self) -> SparkConf:
        """A copy of this context's configuration.

        Returns
        -------
        SparkConf
        """
        return SparkConf(loadDefaults=False).setAll(self._conf.getAll())

    def sparkUser(self) -> str:
        """The user running this application."""
        return os.environ.get("SPARK_USER") or getpass.getuser()

    def setLogLevel(self, logLevel: str) -> None:
        """Set the log level of sparkish and Dask in the driver and the local workers.

        Parameters
        ----------
        logLevel : str
            One of ALL, DEBUG, ERROR, FATAL, INFO, OFF, TRACE, WARN.
        """
        level = _LOG_LEVELS.get(str(logLevel).upper())
        if level is None:
            raise ValueError(
                f"Invalid log level {logLevel!r}: use one of "
                "ALL, DEBUG, ERROR, FATAL, INFO, OFF, TRACE, WARN"
            )
        self._runtime.set_log_level(level)

    # ------------------------------------------------------------------ job properties
    def setLocalProperty(self, key: str, value: str | None) -> None:
        """Set a property of the jobs this thread submits (``None`` removes it).

        Tasks read it with ``TaskContext.getLocalProperty``.

        Parameters
        ----------
        key : str
            The property's name.
        value : str or None
            Its value, or ``None`` to remove it.
        """
        properties = self._runtime.local_properties()
        if value is None:
            properties.pop(key, None)
        else:
            properties[key] = value

    def getLocalProperty(self, key: str) -> str | None:
        """A property set in this thread with :meth:`setLocalProperty`.

        Parameters
        ----------
        key : str
            The property's name.

        Returns
        -------
        str or None
        """
        return self._runtime.local_properties().get(key)

    def setJobGroup(self, groupId: str, description: str, interruptOnCancel: bool = False) -> None:
        """Put the jobs this thread submits into a group that :meth:`cancelJobGroup` cancels.

        Parameters
        ----------
        groupId : str
            The group's id.
        description : str
            The jobs' description.
        interruptOnCancel : bool
            Accepted for compatibility: a cancelled task's worker is always stopped.
        """
        self.setLocalProperty("spark.jobGroup.id", groupId)
        self.setLocalProperty("spark.job.description", description)
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    def setJobDescription(self, value: str) -> None:
        """Describe the jobs this thread submits (shown in errors and the status tracker).

        Parameters
        ----------
        value : str
            The description.
        """
        self.setLocalProperty("spark.job.description", value)

    def setInterruptOnCancel(self, interruptOnCancel: bool) -> None:
        """Accepted for compatibility (see :meth:`setJobGroup`).

        Parameters
        ----------
        interruptOnCancel : bool
            Recorded as the ``spark.job.interruptOnCancel`` local property.
        """
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    def addJobTag(self, tag: str) -> None:
        """Tag the jobs this thread submits; :meth:`cancelJobsWithTag` cancels them.

        Parameters
        ----------
        tag : str
            A non-empty tag without commas.
        """
        if not tag or "," in tag:
            raise ValueError(f"Invalid job tag {tag!r}: it must be non-empty and contain no comma")
        properties = self._runtime.local_properties()
        properties["spark.job.tags"] = _TagSet({*properties.get("spark.job.tags", ()), tag})

    def removeJobTag(self, tag: str) -> None:
        """Stop tagging this thread's jobs with ``tag``.

        Parameters
        ----------
        tag : str
            The tag to remove.
        """
        properties = self._runtime.local_properties()
        properties["spark.job.tags"] = _TagSet(set(properties.get("spark.job.tags", ())) - {tag})

    def getJobTags(self) -> set[str]:
        """The tags added in this thread (their repr is sorted)."""
        return _TagSet(self._runtime.local_properties().get("spark.job.tags", ()))

    def clearJobTags(self) -> None:
        """Remove every tag of this thread's jobs."""
        self._runtime.local_properties()["spark.job.tags"] = _TagSet()

    def cancelJobGroup(self, groupId: str, reason: str | None = None) -> None:
        """Cancel the running jobs of a group; their actions raise ``JobCancelledError``.

        Parameters
        ----------
        groupId : str
            The group (see :meth:`setJobGroup`).
        reason : str, optional
            Included in the error the cancelled actions raise.
        """
        why = reason or f"part of cancelled job group {groupId}"
        self._runtime.jobs.cancel(lambda record: record.group_id == groupId, why)

    def cancelJobsWithTag(self, tag: str, reason: str | None = None) -> None:
        """Cancel the running jobs that carry ``tag``.

        Parameters
        ----------
        tag : str
            The tag (see :meth:`addJobTag`).
        reason : str, optional
            Included in the error the cancelled actions raise.
        """
        why = reason or f"part of cancelled job tag {tag}"
        self._runtime.jobs.cancel(lambda record: tag in record.tags, why)

    def cancelAllJobs(self) -> None:
        """Cancel every running job of this context."""
        self._runtime.jobs.cancel(lambda record: True, "as part of cancellation of all jobs")

    def statusTracker(self) -> StatusTracker:
        """A :class:`~sparkish.status.StatusTracker` over this context's jobs."""
        return StatusTracker(self._runtime.jobs, self._runtime.monitoring.stages)

    # ------------------------------------------------------------------ RDD creation
    def emptyRDD(self) -> RDD[Any]:
        """An RDD with no partitions and no elements.

        >>> sc.emptyRDD().collect(), sc.emptyRDD().getNumPartitions()
        ([], 0)
        """
        return RDD(self, NoPartitions())

    def range(
        self, start: int, end: int | None = None, step: int = 1, numSlices: int | None = None
    ) -> RDD[int]:
        """An RDD of ``range(start, end, step)`` (``range(0, start)`` when ``end`` is omitted).

        Parameters
        ----------
        start : int
            The first number (or the end, when ``end`` is omitted).
        end : int, optional
            One past the last number.
        step : int
            The difference between consecutive numbers.
        numSlices : int, optional
            The number of partitions (default: ``defaultParallelism``).

        Returns
        -------
        RDD

        Examples
        --------
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

        Parameters
        ----------
        c : iterable
            The elements (consumed once, in the driver).
        numSlices : int, optional
            The number of partitions (default: ``defaultParallelism``).

        Returns
        -------
        RDD

        Examples
        --------
        >>> sc.parallelize([0, 2, 3, 4, 6], 5).glom().collect()
        [[0], [2], [3], [4], [6]]
        >>> sc.parallelize(range(0, 6, 2), 5).glom().collect()
        [[], [0], [], [2], [4]]
        >>> sc.parallelize(["a", "b", "c"], 2).glom().collect()
        [['a'], ['b', 'c']]
        """
        self._runtime.check_active()
        slices = (
            self.defaultParallelism
            if numSlices is None
            else require_int(numSlices, "parallelize", "numSlices", integral_floats=True)
        )
        if isinstance(c, range):
            empty: RDD[Any] = RDD(self, EmptySlices(slices))
            return RDD(self, RangeCollection(c, slices, empty))
        data = c if isinstance(c, list) else list(c)
        batch = max(1, min(len(data) // slices, self._batch_size or _DEFAULT_BATCH))
        return RDD(self, ParallelCollection(data, slices, batch))

    def union(self, rdds: list[RDD[T]]) -> RDD[T]:
        """The union of a list of RDDs (duplicates kept).

        Parameters
        ----------
        rdds : list of RDD
            RDDs of this context.

        Returns
        -------
        RDD

        Examples
        --------
        >>> sc.union([sc.parallelize([1, 2]), sc.parallelize([3])]).collect()
        [1, 2, 3]
        """
        rdds = list(rdds)
        if not rdds:
            raise ValueError("union: the list of RDDs is empty")
        for rdd in rdds:
            if rdd.context is not self:
                raise ValueError("union: all RDDs must belong to this SparkContext")
        return RDD(self, UnionOf(rdds, keeps_partitioner=False))

    def textFile(
        self, name: str, minPartitions: int | None = None, use_unicode: bool = True
    ) -> RDD[str]:
        """Read text files as lines.

        Parameters
        ----------
        name : str
            A file, directory, glob or comma-separated list of those, on any fsspec file
            system; ``.gz``, ``.bz2``, ``.xz`` and ``.zst`` files are decompressed.
        minPartitions : int, optional
            The least number of partitions wanted (default :attr:`defaultMinPartitions`).
        use_unicode : bool
            Lines as ``str`` (else UTF-8 ``bytes``).

        Returns
        -------
        RDD
            The lines, without their line ends.
        """
        planned = splits.plan_text_splits(
            name,
            self._min_partitions(minPartitions),
            self._runtime.storage_options(name, "textFile"),
        )
        return self._file_rdd(planned, partial(inputs.text_lines, use_unicode), "textFile", name)

    def wholeTextFiles(
        self, path: str, minPartitions: int | None = None, use_unicode: bool = True
    ) -> RDD[tuple[str, str]]:
        """Read whole text files as ``(path, content)`` pairs.

        Parameters
        ----------
        path : str
            A file, directory, glob or comma-separated list of those, on any fsspec file system.
        minPartitions : int, optional
            The least number of partitions wanted.
        use_unicode : bool
            Contents as ``str`` (else UTF-8 ``bytes``).

        Returns
        -------
        RDD
        """
        planned = splits.plan_whole_file_splits(
            path,
            self._min_partitions(minPartitions),
            self._runtime.storage_options(path, "wholeTextFiles"),
        )
        read = partial(inputs.whole_text, use_unicode)
        return self._file_rdd(planned, read, "wholeTextFiles", path)

    def binaryFiles(self, path: str, minPartitions: int | None = None) -> RDD[tuple[str, bytes]]:
        """Read whole binary files as ``(path, bytes)`` pairs (never decompressed).

        Parameters
        ----------
        path : str
            A file, directory, glob or comma-separated list of those, on any fsspec file system.
        minPartitions : int, optional
            The least number of partitions wanted.

        Returns
        -------
        RDD
        """
        planned = splits.plan_whole_file_splits(
            path,
            self._min_partitions(minPartitions),
            self._runtime.storage_options(path, "binaryFiles"),
            decompress=False,
            operation="binaryFiles",
        )
        return self._file_rdd(planned, read_binary_files, "binaryFiles", path)

    def binaryRecords(self, path: str, recordLength: int) -> RDD[bytes]:
        """Read flat binary files as fixed-length records.

        Parameters
        ----------
        path : str
            A file, directory, glob or comma-separated list of those, on any fsspec file system.
        recordLength : int
            The length of every record in bytes (each file's size must be a multiple).

        Returns
        -------
        RDD
        """
        require_int(recordLength, "binaryRecords", "recordLength")
        planned = splits.plan_binary_record_splits(
            path,
            recordLength,
            self.defaultMinPartitions,
            self._runtime.storage_options(path, "binaryRecords"),
        )
        read = partial(inputs.binary_records, recordLength)
        return self._file_rdd(planned, read, "binaryRecords", path)

    def pickleFile(self, name: str, minPartitions: int | None = None) -> RDD[Any]:
        """Read an RDD saved with ``RDD.saveAsPickleFile``.

        Parameters
        ----------
        name : str
            The directory written by ``saveAsPickleFile`` (any fsspec URL).
        minPartitions : int, optional
            The least number of partitions wanted.

        Returns
        -------
        RDD

        Examples
        --------
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "pickled")
        >>> sc.parallelize(range(10)).saveAsPickleFile(path, 5)
        >>> sorted(sc.pickleFile(path, 3).collect())
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        planned = splits.plan_pickle_splits(
            name,
            self._min_partitions(minPartitions),
            self._runtime.storage_options(name, "pickleFile"),
        )
        return self._file_rdd(planned, read_pickle_split, "pickleFile", name)

    def _min_partitions(self, value: int | None) -> int:
        self._runtime.check_active()
        return self.defaultMinPartitions if value is None else max(int(value), 1)

    def _file_rdd(
        self, planned: list, read: Callable[[Any], Any], operation: str, path: str
    ) -> RDD[Any]:
        return RDD(self, FileInput(planned, read, operation, path))

    # ------------------------------------------------------------------ shared variables
    def broadcast(self, value: T) -> Broadcast[T]:
        """Ship a read-only value to every worker once.

        Parameters
        ----------
        value : object
            The value (pickled once, now).

        Returns
        -------
        Broadcast

        Examples
        --------
        >>> b = sc.broadcast([1, 2, 3, 4, 5])
        >>> b.value
        [1, 2, 3, 4, 5]
        >>> sc.parallelize([0, 0]).flatMap(lambda x: b.value).collect()
        [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
        >>> b.unpersist()
        """
        runtime = self._runtime
        runtime.check_active()
        key = f"sparkish-broadcast-{self.applicationId}-{runtime.new_id()}"
        return Broadcast(runtime.client, value, key=key, registry=runtime.broadcasts)

    def accumulator(
        self, value: T, accum_param: AccumulatorParam[T] | None = None
    ) -> Accumulator[T]:
        """An accumulator starting at ``value`` (ints, floats and complex need no param).

        Parameters
        ----------
        value : object
            The initial value.
        accum_param : AccumulatorParam, optional
            How to make a zero value and add values (required for other types).

        Returns
        -------
        Accumulator

        Examples
        --------
        >>> acc = sc.accumulator(10)
        >>> sc.parallelize([1, 2, 3]).foreach(lambda x: acc.add(x))
        >>> acc.value
        16
        """
        self._runtime.check_active()
        param = accum_param if accum_param is not None else infer_param(value)
        accumulator = Accumulator(self._runtime.new_id(), value, param)
        self._runtime.register_accumulator(accumulator)
        return accumulator

    # ------------------------------------------------------------------ files
    def addFile(self, path: str, recursive: bool = False) -> None:
        """Ship a file (or, with ``recursive``, a directory) to every worker.

        Tasks find it with ``SparkFiles.get(name)``. A path added twice is shipped once.

        Parameters
        ----------
        path : str
            A local path or any fsspec URL.
        recursive : bool
            Ship a whole directory.
        """
        self._runtime.check_active()
        uri = _resource_uri(path)
        if uri in self._added_files:
            return
        files = read_resource(path, "addFile", recursive)
        name = os.path.basename(path.rstrip("/"))
        ship_files(self._runtime.client, files, f"sparkish-file-{self.applicationId}-{name}")
        self._added_files.append(uri)

    @property
    def listFiles(self) -> list[str]:
        """The URIs of the files added with :meth:`addFile`."""
        return list(self._added_files)

    def addPyFile(self, path: str) -> None:
        """Ship a ``.py``, ``.zip``, ``.egg`` or ``.whl`` file to the workers' import path.

        Parameters
        ----------
        path : str
            A local path or any fsspec URL.
        """
        self._runtime.check_active()
        if not path.endswith((".py", ".zip", ".egg", ".whl")):
            raise ValueError(f"addPyFile: {path} is not a .py, .zip, .egg or .whl file")
        self.addFile(path)
        name = os.path.basename(path)
        add_to_import_path(SparkFiles.get(name))
        self._runtime.client.register_plugin(
            ImportPathPlugin(name), name=f"sparkish-pyfile-{self.applicationId}-{name}"
        )

    def addArchive(self, path: str) -> None:
        """Ship an archive (.zip, .tar, .tar.gz, .tgz) and unpack it on every worker.

        Tasks find the unpacked directory at ``SparkFiles.get(archive file name)``.

        Parameters
        ----------
        path : str
            A local path or any fsspec URL.
        """
        self._runtime.check_active()
        uri = _resource_uri(path)
        if uri in self._added_archives:
            return
        files = read_resource(path, "addArchive", recursive=False)
        name = os.path.basename(path)
        plugin_name = f"sparkish-archive-{self.applicationId}-{name}"
        ship_files(self._runtime.client, files, plugin_name, unpack=True)
        self._added_archives.append(uri)

    @property
    def listArchives(self) -> list[str]:
        """The URIs of the archives added with :meth:`addArchive`."""
        return list(self._added_archives)

    def setCheckpointDir(self, dirName: str) -> None:
        """Set the directory (any fsspec URL) under which RDDs are checkpointed.

        Parameters
        ----------
        dirName : str
            The directory; each context writes into a new subdirectory of it.
        """
        fs, resolved = fsspec.core.url_to_fs(dirName)
        if fs.exists(resolved) and not fs.isdir(resolved):
            raise ValueError(f"setCheckpointDir: {dirName} exists and is not a directory")
        directory = dirName.rstrip("/") + "/" + str(uuid.uuid4())
        fs.makedirs(fsspec.core.url_to_fs(directory)[1], exist_ok=True)
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

        Parameters
        ----------
        rdd : RDD
            The RDD whose partitions are computed.
        partitionFunc : callable
            Called with an iterator of a partition's elements; returns an iterable.
        partitions : list of int, optional
            The partitions to compute (default: all).
        allowLocal : bool
            Accepted for compatibility.

        Returns
        -------
        list
            The results of every partition, concatenated in partition order.

        Examples
        --------
        >>> myRDD = sc.parallelize(range(6), 3)
        >>> sc.runJob(myRDD, lambda part: [x * x for x in part])
        [0, 1, 4, 9, 16, 25]
        >>> sc.runJob(myRDD, lambda part: [x * x for x in part], [0, 2], True)
        [0, 1, 16, 25]
        """
        require_callable(partitionFunc, "runJob", "partitionFunc")
        results = rdd._run(partition_function_finisher(partitionFunc), partitions, "runJob")
        return [item for block in results for item in block]

    def show_profiles(self) -> None:
        """Not available: use the Dask dashboard's Profile page."""
        raise NotImplementedError("sparkish has no Python profiler; use the Dask dashboard")

    def dump_profiles(self, path: str) -> None:
        """Not available: use the Dask dashboard's Profile page.

        Parameters
        ----------
        path : str
            Where PySpark would write the profiles.
        """
        raise NotImplementedError("sparkish has no Python profiler; use the Dask dashboard")


def _assemble_conf(
    conf: SparkConf | None,
    master: str | None,
    app_name: str | None,
    spark_home: str | None,
    environment: dict[str, Any] | None,
    client: Client | None,
) -> SparkConf:
    """The context's configuration: ``conf`` with the constructor's arguments on top."""
    result = SparkConf(loadDefaults=conf is None)
    if conf is not None:
        result.setAll(conf.getAll())
    if master:
        result.setMaster(master)
    if app_name:
        result.setAppName(app_name)
    if spark_home:
        result.setSparkHome(spark_home)
    for key, value in (environment or {}).items():
        result.setExecutorEnv(key, str(value))
    default_master = "local[*]" if client is None else scheduler_address(client)
    result.setIfMissing("spark.master", default_master)
    result.setIfMissing("spark.app.name", "sparkish")
    return result


def _paths(setting: str | None) -> list[str]:
    """The paths of a comma-separated setting such as ``spark.files``."""
    return [path.strip() for path in (setting or "").split(",") if path.strip()]


def _resource_uri(path: str) -> str:
    if "://" in path:
        return path
    return "file:" + os.path.abspath(path)


def _report_interrupted_jobs_briefly() -> None:
    """Make a Ctrl-C that ends the program during a job print one line, not a traceback.

    The job was cancelled on the cluster by then (see ``JobRunner.run``); the traceback would
    only show sparkish's waiting loop. Other exceptions reach the previous hook unchanged.
    """
    previous = sys.excepthook
    if getattr(previous, "sparkish_hook", False):
        return

    def hook(kind: type[BaseException], error: BaseException, traceback: Any) -> None:
        job = getattr(error, "sparkish_job", None)
        if isinstance(error, KeyboardInterrupt) and job is not None:
            print(f"KeyboardInterrupt: cancelled {job}", file=sys.stderr, flush=True)
            # Stop now, while the interpreter is whole: at exit Python shuts its thread pools
            # down before running atexit handlers, and the scheduler in this process would
            # log a failure for every message its workers send in between.
            # In a REPL (or ``python -i``) the session goes on with the context.
            active = SparkContext._active_spark_context
            interactive = sys.flags.interactive or hasattr(sys, "ps1")
            if active is not None and not interactive:
                with contextlib.suppress(Exception):
                    active.stop()
            return
        previous(kind, error, traceback)

    hook.sparkish_hook = True  # type: ignore[attr-defined]
    sys.excepthook = hook
