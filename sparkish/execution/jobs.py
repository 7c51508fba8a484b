"""Running jobs: submit a job's graph, wait for it, gather its results, cancel it.

Execution is one ``client.get`` of a low-level graph (which Dask does not re-optimize), then a
gather. :class:`JobRunner` keeps a :class:`JobRecord` of every running and recent job, which
``StatusTracker``, job groups and cancellation read.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import CancelledError as FutureCancelledError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._dask_compat import executing_task_keys, killed_worker_report
from ..errors import JobCancelledError, WorkerLostError
from ..serialization import PartitionGroup
from ..settings import Settings
from ..shuffle.hashing import DEFAULT_KEY_HASHING
from ..worker.plan import Node
from ..worker.task import gc_paused
from .barrier import BarrierCoordinator
from .graph import Finisher, GraphBuilder, group_key
from .grouping import GroupingPolicy

if TYPE_CHECKING:
    from distributed import Client, Future

    from .cluster import LocalProcessCluster, WorkerExit

__all__ = ["JobRecord", "JobRunner"]

logger = logging.getLogger("sparkish.execution")


@dataclass
class JobRecord:
    """What the driver knows about one submitted job."""

    job_id: int
    description: str
    group_id: str | None
    tags: frozenset[str]
    task_count: int = 0
    futures: list = field(default_factory=list)
    # Futures of results the job computes for later jobs (a shuffle's barrier, persisted
    # partitions): cancelling the job must cancel those still being computed too.
    held_futures: list = field(default_factory=list)
    cancelled_reason: str | None = None
    submitted: float = field(default_factory=time.time)
    finished: float | None = None
    status: str = "RUNNING"
    num_partitions: int = 0
    keys: frozenset = frozenset()
    stages: dict = field(default_factory=dict)  # stage id -> (description, number of tasks)
    barrier_ids: list[str] = field(default_factory=list)
    action: str = ""  # the RDD action (collect, count...): the metrics' label
    # Stage id -> (active, complete, failed) when the job ended without succeeding.
    stage_counts: dict = field(default_factory=dict)


class JobRunner:
    """Submits the jobs of one context and tracks the running ones.

    Parameters
    ----------
    client : distributed.Client
        Where jobs run.
    application_id : str
        The context's application id (part of every task key).
    cluster : LocalProcessCluster or None
        The embedded cluster, if the context started one: its worker processes can be killed
        when a cancelled task keeps running, and its failure ends jobs promptly.
    kill_grace_seconds : float
        How long a cancelled task may keep running before its worker process is killed.
    after_job : callable
        Called after every job, successful or not (merges accumulator updates).
    barrier_timeout : float
        How long the tasks of a barrier stage wait for each other, in seconds.
    no_workers_timeout : float
        How long a job waits on a remote cluster without workers before failing, in seconds.
    max_failures : int
        ``spark.task.maxFailures``: a task fails once its worker died this many times while
        running it.
    settings : Settings
        The context's settings; ``sparkish.task.*`` choose how partitions are grouped into
        tasks (a thread's local properties of the same names override them per job).
    """

    def __init__(
        self,
        client: Client,
        application_id: str,
        cluster: LocalProcessCluster | None = None,
        *,
        kill_grace_seconds: float = 2.0,
        after_job: Callable[[], None] = lambda: None,
        barrier_timeout: float = 300.0,
        no_workers_timeout: float = 300.0,
        max_failures: int = 4,
        settings: Settings | None = None,
    ) -> None:
        self.client = client
        self.no_workers_timeout = no_workers_timeout
        self.max_failures = max_failures
        self.settings = settings or Settings()
        GroupingPolicy.from_settings(self.settings, 1)  # a bad value fails the context at once
        self.barriers = BarrierCoordinator(client)
        self.barrier_timeout = barrier_timeout
        self.application_id = application_id
        self.cluster = cluster
        self.kill_grace_seconds = kill_grace_seconds
        self.after_job = after_job
        self.job_ids = itertools.count()
        self.stage_ids = itertools.count()
        self.active: dict[int, JobRecord] = {}
        self.completed: list[JobRecord] = []
        self.listeners: list[Callable[[str, JobRecord], None]] = []
        #: Whether tasks count their metrics (``sparkish.metrics.enabled``).
        self.collect_metrics = True
        #: How tasks hash shuffle keys (``sparkish.shuffle.hash``, ``sparkish.python.hashSeed``).
        self.key_hashing = DEFAULT_KEY_HASHING
        self.closed = False
        #: Task keys of the jobs cancelled so far, whose tasks may still run on a worker.
        self.cancelled_keys: set = set()
        self._lock = threading.Lock()

    def new_graph(self, local_properties: Mapping[str, Any] | None = None) -> GraphBuilder:
        """An empty graph for the next job."""
        properties = {
            key: value for key, value in (local_properties or {}).items() if isinstance(value, str)
        }
        return GraphBuilder(
            self.application_id,
            next(self.job_ids),
            self.stage_ids,
            properties,
            self.barrier_timeout,
            self.collect_metrics,
            self.key_hashing,
            grouping=self.grouping_policy(properties),
        )

    def grouping_policy(self, local_properties: Mapping[str, str]) -> GroupingPolicy:
        """How the next job groups partitions into tasks: the settings, overridden by the
        thread's ``sparkish.task.*`` local properties, for the cluster's current threads."""
        overrides = {
            key: value
            for key, value in local_properties.items()
            if key.startswith("sparkish.task.")
        }
        settings = Settings({**self.settings, **overrides}) if overrides else self.settings
        if not settings.get_bool("sparkish.task.grouping", True):
            return GroupingPolicy(enabled=False)
        try:
            threads = sum(self.client.nthreads().values())
        except Exception:  # no scheduler to ask: keep one task per partition
            threads = 0
        return GroupingPolicy.from_settings(settings, threads)

    def run(
        self,
        node: Node,
        finisher: Finisher,
        splits: Iterable[int] | None,
        description: str,
        *,
        local_properties: Mapping[str, Any] | None = None,
        drain_on_failure: bool = False,
    ) -> list:
        """Compute ``finisher(split, records)`` for each split; results in split order.

        Parameters
        ----------
        node : Node
            The plan of the RDD's partitions.
        finisher : callable
            ``finisher(split, records)`` computes each task's result.
        splits : iterable of int or None
            The partitions to compute (all when None).
        description : str
            The action and its call site, for errors, status and the dashboard.
        local_properties : mapping
            The submitting thread's local properties (job group, description, tags...).
        drain_on_failure : bool
            On failure, return only once none of the job's tasks runs any more (jobs with side
            effects, like writing files, need that before cleaning up).

        Returns
        -------
        list
            The finisher's result for each split.
        """
        chosen = _checked_splits(node, splits, description)
        if not chosen:
            return []
        builder = self.new_graph(local_properties)
        name = f"{description.split(' ')[0]}-job{builder.job_id}-{self.application_id}"
        groups = builder.group_splits(node, chosen)
        output_keys = [
            builder.add_task(group_key(name, group), node, finisher, group, description).key
            for group in groups
        ]
        barriers = builder.barrier_stages()
        if barriers:
            self.barriers.prepare(max(barriers.values()))
        record = _job_record(builder, description, local_properties or {}, len(chosen))
        record.barrier_ids = list(barriers)
        futures = self._submit(builder, output_keys, record)
        try:
            results = self._results(futures, record, builder, drain_on_failure)
        except KeyboardInterrupt as interrupt:
            record.status = "FAILED"
            self.cancel(lambda job: job is record, "interrupted (KeyboardInterrupt)")
            interrupt.sparkish_job = f"job {record.job_id} ({record.description})"  # type: ignore[attr-defined]
            raise
        finally:
            self._finish(record, futures, builder)
        return _by_partition(results, chosen)

    def _submit(self, builder: GraphBuilder, output_keys: list, record: JobRecord) -> list:
        # Several held partitions may share one task (a group): ask for each key once.
        held_keys = list(dict.fromkeys(key for _, _, key in builder.held))
        futures = self.client.get(builder.graph, output_keys + held_keys, sync=False)
        outputs = futures[: len(output_keys)]
        held_futures = dict(zip(held_keys, futures[len(output_keys) :]))
        for provider, split, key in builder.held:
            provider.attach(split, held_futures[key])
        record.futures = outputs
        record.held_futures = futures[len(output_keys) :]
        with self._lock:
            self.active[record.job_id] = record
        self._notify("start", record)
        return outputs

    def _results(
        self, futures: list, record: JobRecord, builder: GraphBuilder, drain_on_failure: bool
    ) -> list:
        try:
            self._wait(futures, record, builder)
            with gc_paused():
                results = self.client.gather(futures)
        except (FutureCancelledError, asyncio.CancelledError) as error:
            record.status = "FAILED"
            reason = record.cancelled_reason or "its futures were cancelled"
            raise JobCancelledError(
                f"Job {record.job_id} ({record.description}) cancelled: {reason}"
            ) from error
        except Exception as error:
            record.status = "FAILED"
            self.barriers.abort(record.barrier_ids, f"a task failed: {type(error).__name__}")
            if drain_on_failure:
                self._drain(record, futures)
            lost = _lost_task_error(error, builder)
            if lost is not None:
                raise lost from error
            raise
        record.status = "SUCCEEDED"
        return results

    def _finish(self, record: JobRecord, futures: list, builder: GraphBuilder) -> None:
        record.finished = time.time()
        with self._lock:
            self.active.pop(record.job_id, None)
            self.completed.append(record)
            del self.completed[:-1000]
        for future in futures:
            future.release()
        if self.cluster is not None:
            self.cluster.forget_task_failures(record.keys)
        record.futures = []
        record.held_futures = []
        builder.external_futures.clear()
        # Updates of the tasks that succeeded count even when the job failed, like Spark.
        self.after_job()
        self._notify("end", record)

    def _wait(self, futures: list, record: JobRecord, builder: GraphBuilder) -> None:
        """Wait for a job's results, failing promptly if the local cluster lost every worker or
        a task's worker died running it ``max_failures`` times, or if a remote cluster has had
        no worker for ``no_workers_timeout`` seconds."""
        if not futures:
            return
        settled = threading.Event()
        remaining = [len(futures)]
        lock = threading.Lock()

        def on_done(future: Future) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0 or future.status != "finished":
                    settled.set()

        for future in futures:
            future.add_done_callback(on_done)
        cluster = self.cluster
        without_workers_since: float | None = None
        while not settled.wait(0.1 if cluster is not None else 1.0):
            if cluster is not None:
                self._check_local_cluster(cluster, record, futures, builder)
                continue
            without_workers_since = self._check_workers(record, futures, without_workers_since)
        if without_workers_since is not None and remaining[0] == 0:
            logger.warning("job %s continued: a worker joined the cluster", record.job_id)

    def _check_workers(
        self, record: JobRecord, futures: list, without_workers_since: float | None
    ) -> float | None:
        """Warn once when a remote cluster has no workers, fail the job when none joined in
        time; returns since when the cluster has had none (None while it has some)."""
        try:
            workers = self.client.nthreads()
        except OSError:  # the scheduler is unreachable: the job's futures report that
            return without_workers_since
        if workers:
            if without_workers_since is not None:
                logger.warning("job %s continued: a worker joined the cluster", record.job_id)
            return None
        now = time.monotonic()
        if without_workers_since is None:
            logger.warning(
                "job %s (%s) waits: the Dask cluster has no workers; it fails if none joins "
                "within %.0f s (sparkish.noWorkersTimeout)",
                record.job_id,
                record.description,
                self.no_workers_timeout,
            )
            return now
        if now - without_workers_since > self.no_workers_timeout:
            self.client.cancel(futures, force=True)
            raise RuntimeError(
                f"Job {record.job_id} ({record.description}) failed: the Dask cluster had no "
                f"workers for {self.no_workers_timeout:.0f} s (sparkish.noWorkersTimeout)"
            )
        return without_workers_since

    def _check_local_cluster(
        self, cluster: LocalProcessCluster, record: JobRecord, futures: list, builder: GraphBuilder
    ) -> None:
        """Fail the job if every local worker is gone for good, or if a worker died running
        one of its tasks ``max_failures`` times."""
        if cluster.failure:
            self.client.cancel(futures, force=True)
            raise RuntimeError(f"The job cannot run: {cluster.failure}")
        for key, deaths in cluster.task_failures(record.keys).items():
            if len(deaths) >= self.max_failures:
                self.client.cancel(futures, force=True)
                raise _worker_lost(key, deaths, builder, self.max_failures)

    def cancel(self, predicate: Callable[[JobRecord], bool], reason: str) -> int:
        """Cancel the running jobs matching ``predicate``; returns how many were cancelled."""
        with self._lock:
            targets = [record for record in self.active.values() if predicate(record)]
        for record in targets:
            record.cancelled_reason = reason
            self.cancelled_keys.update(record.keys)
            unfinished = [future for future in record.held_futures if not future.done()]
            if record.futures or unfinished:
                self.client.cancel(record.futures + unfinished, reason=reason, force=True)
            self.barriers.abort(record.barrier_ids, f"the job was cancelled: {reason}")
        if targets and self.cluster is not None:
            # Dask cannot interrupt a running task; like PySpark, kill the worker processes
            # still running a cancelled task after a grace period (the supervisor restarts them).
            keys = frozenset().union(*(record.keys for record in targets))
            timer = threading.Timer(self.kill_grace_seconds, self._kill_workers_running, (keys,))
            timer.daemon = True
            timer.start()
        return len(targets)

    def close(self, reason: str) -> None:
        """Cancel every running job and kill the local workers still running a cancelled task
        (the context is going away: no grace period); nothing is killed or submitted
        afterwards."""
        self.cancel(lambda record: True, reason)
        if self.cancelled_keys:
            self._kill_workers_running(frozenset(self.cancelled_keys), announce=False)
        self.closed = True

    def _drain(self, record: JobRecord, futures: list, timeout: float = 60.0) -> None:
        """Cancel a failed job's remaining tasks and wait until none of them is running."""
        self.client.cancel(futures, force=True)
        started = time.monotonic()
        killed = False
        while time.monotonic() - started < timeout:
            try:
                running = self.client.run(executing_task_keys)
            except Exception:
                return
            if not any(record.keys.intersection(keys) for _, keys in running.values()):
                return
            waited = time.monotonic() - started
            if not killed and self.cluster is not None and waited > self.kill_grace_seconds:
                self._kill_workers_running(record.keys)
                killed = True
            time.sleep(0.1)
        logger.warning("tasks of failed job %s still run after %.0f s", record.job_id, timeout)

    def _kill_workers_running(self, keys: frozenset, announce: bool = True) -> None:
        cluster = self.cluster
        if cluster is None or self.closed:
            return
        for pid in cluster.workers_running(keys):
            log = logger.warning if announce else logger.info
            log("killing worker process %s, which still runs a cancelled task", pid)
            cluster.kill_worker(pid, cancelling=True)

    def _notify(self, event: str, record: JobRecord) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, record)
            except Exception:  # a monitoring listener must never break a job
                logger.exception("job listener failed")


def _by_partition(results: list, chosen: list[int]) -> list:
    """One result per chosen partition, in order, out of the tasks' results (a group task
    returns its partitions' results together).

    >>> _by_partition([PartitionGroup(0, ["a", "b"]), "c"], [0, 1, 2])
    ['a', 'b', 'c']
    """
    if len(results) == len(chosen):
        return results
    flat: list = []
    for result in results:
        if type(result) is PartitionGroup:
            flat.extend(result.parts)
        else:
            flat.append(result)
    return flat


def _checked_splits(node: Node, splits: Iterable[int] | None, description: str) -> list[int]:
    chosen = list(range(node.num_partitions)) if splits is None else list(splits)
    for split in chosen:
        if not 0 <= split < node.num_partitions:
            raise IndexError(
                f"{description}: partition {split} does not exist "
                f"(the RDD has {node.num_partitions} partitions)"
            )
    return chosen


def _job_record(
    builder: GraphBuilder, description: str, properties: Mapping[str, Any], partitions: int
) -> JobRecord:
    return JobRecord(
        builder.job_id,
        properties.get("spark.job.description") or description,
        properties.get("spark.jobGroup.id"),
        frozenset(properties.get("spark.job.tags", ())),
        task_count=len(builder.graph),
        num_partitions=partitions,
        keys=frozenset(builder.graph),
        stages=builder.stage_summary(),
        action=description.split(" ", 1)[0],
    )


def _worker_lost(
    key: Any, deaths: list[WorkerExit], builder: GraphBuilder, max_failures: int
) -> WorkerLostError:
    """The error of a task whose worker died ``len(deaths)`` times while running it."""
    description, split = builder.key_descriptions.get(key, (str(key), -1))
    operations, partition = next(
        (
            (ops, partition)
            for death in reversed(deaths)
            for running, ops, partition in death.running
            if running == key
        ),
        ((), None),
    )
    if partition is not None:  # the partition of a group the task was computing
        split = partition
    steps = [operation for operation in operations[:-1] if operation]
    where = f"{', '.join(steps)} (in {description})" if steps else description
    cause = deaths[-1].cause
    return WorkerLostError(
        f"{where}, partition {split}: its worker process died while running the task "
        f"{len(deaths)} times (spark.task.maxFailures={max_failures}); the last time: {cause}",
        partition=split,
        attempts=len(deaths),
        cause=cause,
    )


def _lost_task_error(error: Exception, builder: GraphBuilder) -> WorkerLostError | None:
    """Dask's ``KilledWorker`` (its own count of worker deaths, on clusters sparkish does not
    supervise) as a :class:`WorkerLostError` naming the RDD operation and partition."""
    report = killed_worker_report(error)
    if report is None:
        return None
    key, deaths = report
    description, split = builder.key_descriptions.get(key, (str(key), -1))
    cause = "unknown (the worker process is not supervised by sparkish)"
    return WorkerLostError(
        f"{description}, partition {split}: Dask's scheduler lost {deaths} workers while the "
        "task was assigned to them (its distributed.scheduler.allowed-failures limit; a crash "
        "or out-of-memory in user code?)",
        partition=split,
        attempts=deaths,
        cause=cause,
    )
