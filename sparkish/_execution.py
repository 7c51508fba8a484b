"""Driver side of a job: lower an RDD's plan to a Dask task graph, run it, gather results.

A job computes a *finisher* (``count``, ``collect``, a partial ``reduce``...) over some
partitions of an RDD. The RDD's narrow lineage is one plan tree (see :mod:`sparkish._plan`),
pickled once per stage; every partition becomes exactly one task. Partitions that come from a
stage boundary (a persisted RDD, a shuffle, a checkpoint) are :class:`~sparkish._plan.Source`
leaves whose *provider* adds the upstream tasks to the same graph, or points at results that
are still held from an earlier job. Graph building never executes anything; execution is one
``client.get`` of a low-level graph (which Dask does not re-optimize), then a gather.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError as FutureCancelledError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cloudpickle
from dask._task_spec import Task, TaskRef

from ._plan import Node, materialize
from ._task import StageInfo, gc_paused, run_task
from .broadcast import collect_used_broadcasts

if TYPE_CHECKING:
    from distributed import Future

    from .context import SparkContext

logger = logging.getLogger("sparkish.execution")

Finisher = Callable[[int, Any], Any]

_DEAD_FUTURE_STATES = frozenset({"error", "cancelled", "lost"})


class JobCancelledError(RuntimeError):
    """Raised by an action whose job was cancelled (``cancelJobGroup``, ``cancelAllJobs``...)."""


from ._serialize import SerializationError  # noqa: E402  (re-exported)


@dataclass
class JobRecord:
    """What the driver knows about one submitted job."""

    job_id: int
    description: str
    group_id: str | None
    tags: frozenset[str]
    task_count: int = 0
    futures: list = field(default_factory=list)
    cancelled_reason: str | None = None
    submitted: float = field(default_factory=time.time)
    finished: float | None = None
    status: str = "RUNNING"
    num_partitions: int = 0
    keys: frozenset = frozenset()
    stages: dict = field(default_factory=dict)  # stage id -> (description, number of tasks)


class Provider:
    """Turns a partition of a :class:`Source` leaf into a graph input for a task."""

    is_shuffle = False

    def graph_input(self, split: int, builder: GraphBuilder, exclusive: bool = True) -> Any:
        """A literal or a ``TaskRef`` giving partition ``split`` to the task being built.

        ``exclusive`` says that the task reads nothing else from any shuffle.
        """
        raise NotImplementedError


class LiteralProvider(Provider):
    """Partitions embedded in the graph as literal values (parallelize slices, file splits)."""

    def __init__(self, values: list) -> None:
        self.values = values

    def graph_input(self, split: int, builder: GraphBuilder, exclusive: bool = True) -> Any:
        return self.values[split]


class MaterializedProvider(Provider):
    """Partitions computed by their own tasks and kept on the workers after the job.

    Used for persisted RDDs: the first job that needs a partition adds a task computing it and
    holds on to its future; later jobs refer to the held result, which Dask recomputes from the
    same task if the worker holding it is lost.
    """

    def __init__(
        self,
        name: str,
        node_factory: Callable[[], Node],
        description: str,
        finisher: Finisher = materialize,
    ) -> None:
        self.name = name
        self.node_factory = node_factory
        self.description = description
        self.finisher = finisher
        self.futures: dict[int, Future] = {}
        self._generation: dict[int, int] = {}
        self._lock = threading.Lock()

    def key(self, split: int) -> tuple[str, int]:
        return (f"{self.name}-{self._generation.get(split, 0)}", split)

    def graph_input(self, split: int, builder: GraphBuilder, exclusive: bool = True) -> Any:
        with self._lock:
            future = self.futures.get(split)
            if future is not None and future.status in _DEAD_FUTURE_STATES:
                # A failed or cancelled attempt: Dask remembers its outcome under its key, so the
                # next attempt computes under a new one.
                del self.futures[split]
                future.release()
                self._generation[split] = self._generation.get(split, 0) + 1
                future = None
        if future is not None:
            builder.external_futures.append(future)
            return TaskRef(future.key)
        key = self.key(split)
        if key not in builder.graph:
            builder.add_task(key, builder.node_of(self), self.finisher, split, self.description)
            builder.hold(self, split, key)
        return TaskRef(key)

    def attach(self, split: int, future: Future) -> None:
        with self._lock:
            self.futures[split] = future

    def is_complete(self, num_partitions: int) -> bool:
        with self._lock:
            return all(
                split in self.futures and self.futures[split].status == "finished"
                for split in range(num_partitions)
            )

    def release(self) -> None:
        with self._lock:
            futures, self.futures = self.futures, {}
        for future in futures.values():
            future.release()


class GraphBuilder:
    """Accumulates the tasks of one job."""

    def __init__(self, runner: JobRunner, job_id: int) -> None:
        self.runner = runner
        self.job_id = job_id
        self.graph: dict = {}
        self.external_futures: list[Future] = []
        self.held: list[tuple[Provider, int, Any]] = []
        self.key_descriptions: dict[Any, tuple[str, int]] = {}
        self._stages: dict[tuple[int, int], tuple[bytes, StageInfo]] = {}
        self._keep_alive: list = []
        self._provider_nodes: dict[int, Node] = {}

    def stage(self, node: Node, finisher: Finisher, description: str) -> tuple[bytes, StageInfo]:
        """The pickled (plan, finisher) of a stage and its info, made once per job."""
        identity = (id(node), id(finisher))
        cached = self._stages.get(identity)
        if cached is not None:
            return cached
        blob = serialize_stage(node, finisher, description)
        info = StageInfo(
            self.runner.sc.applicationId, self.job_id, next(self.runner.stage_ids), description
        )
        self._stages[identity] = (blob, info)
        self._keep_alive.append((node, finisher))  # keep ids unique while the job is built
        return blob, info

    def add_task(self, key: Any, node: Node, finisher: Finisher, split: int, description: str):
        """Add the task that computes partition ``split`` of ``node`` and applies ``finisher``."""
        blob, info = self.stage(node, finisher, description)
        slot_ids: list = []
        slot_values = []
        sources = []
        for source, leaf_split in node.sources(split):
            if source.provider is None:
                raise RuntimeError(f"source {source.uid} has no provider in the driver")
            if (source.uid, leaf_split) not in slot_ids:
                slot_ids.append((source.uid, leaf_split))
                sources.append((source, leaf_split))
        # A task may read a shuffle's output directly only if it reads one partition of one
        # shuffle: the shuffle pins that partition's reader to the worker holding the data.
        shuffle_reads = [s for s, _ in sources if getattr(s.provider, "is_shuffle", False)]
        exclusive = len(shuffle_reads) == 1
        for source, leaf_split in sources:
            slot_values.append(source.provider.graph_input(leaf_split, self, exclusive))
        self.graph[key] = Task(key, run_task, blob, info, split, tuple(slot_ids), *slot_values)
        self.key_descriptions[key] = (description, split)
        return TaskRef(key)

    def stage_summary(self) -> dict[int, tuple[str, int]]:
        """Stage id -> (description, number of tasks) for the stages of this job."""
        counts: dict[int, int] = {}
        for task in self.graph.values():
            info = getattr(task, "args", (None, None))[1:2]
            if info and isinstance(info[0], StageInfo):
                counts[info[0].stage_id] = counts.get(info[0].stage_id, 0) + 1
        return {
            info.stage_id: (info.description, counts.get(info.stage_id, 0))
            for _, info in self._stages.values()
        }

    def node_of(self, provider: MaterializedProvider) -> Node:
        """The plan of a materialized provider, built once per job."""
        node = self._provider_nodes.get(id(provider))
        if node is None:
            node = self._provider_nodes[id(provider)] = provider.node_factory()
            self._keep_alive.append(provider)
        return node

    def hold(self, provider: Provider, split: int, key: Any) -> None:
        self.held.append((provider, split, key))


def serialize_stage(node: Node, finisher: Finisher, description: str) -> bytes:
    """Pickle a stage's plan and finisher once, naming the operation whose closure fails."""
    try:
        blob, broadcasts = collect_used_broadcasts(cloudpickle.dumps, (node, finisher), 5)
    except Exception as error:
        culprit = _find_unpicklable_step(node)
        where = culprit.describe() if culprit is not None else description
        raise SerializationError(
            f"{where}: could not serialize the function or the values it captures for the "
            f"workers: {type(error).__name__}: {error}"
        ) from error
    for broadcast in broadcasts:
        broadcast._ensure_shipped()
    return blob


def _find_unpicklable_step(node: Node):
    for step in node.steps():
        try:
            cloudpickle.dumps(step.function)
        except Exception:
            return step
    return None


class JobRunner:
    """Submits jobs for one :class:`~sparkish.SparkContext` and tracks the running ones."""

    def __init__(self, sc: SparkContext) -> None:
        self.sc = sc
        self.job_ids = itertools.count()
        self.stage_ids = itertools.count()
        self.active: dict[int, JobRecord] = {}
        self.completed: list[JobRecord] = []
        self.listeners: list[Callable[[str, JobRecord], None]] = []
        self._lock = threading.Lock()
        self.last_task_count = 0

    def run(
        self,
        node: Node,
        finisher: Finisher,
        splits: Iterable[int] | None,
        description: str,
        drain_on_failure: bool = False,
    ) -> list:
        """Compute ``finisher(split, records)`` for each split; results in split order.

        With ``drain_on_failure``, a failed job returns only once none of its tasks runs any
        more (jobs with side effects, like writing files, need that before cleaning up).
        """
        splits = list(range(node.num_partitions)) if splits is None else list(splits)
        if not splits:
            return []
        for split in splits:
            if not 0 <= split < node.num_partitions:
                raise IndexError(
                    f"{description}: partition {split} does not exist "
                    f"(the RDD has {node.num_partitions} partitions)"
                )
        job_id = next(self.job_ids)
        builder = GraphBuilder(self, job_id)
        app = self.sc.applicationId
        name = f"{description.split(' ')[0]}-job{job_id}-{app}"
        output_keys = [
            builder.add_task((name, split), node, finisher, split, description).key
            for split in splits
        ]
        held_keys = [key for _, _, key in builder.held]
        properties = self.sc._thread_properties()
        record = JobRecord(
            job_id,
            properties.get("spark.job.description") or description,
            properties.get("spark.jobGroup.id"),
            frozenset(properties.get("spark.job.tags", ())),
            task_count=len(builder.graph),
            num_partitions=len(splits),
            keys=frozenset(builder.graph),
            stages=builder.stage_summary(),
        )
        self.last_task_count = len(builder.graph)
        client = self.sc._client
        futures = client.get(builder.graph, output_keys + held_keys, sync=False)
        output_futures = futures[: len(output_keys)]
        for (provider, split, _), future in zip(builder.held, futures[len(output_keys) :]):
            provider.attach(split, future)
        record.futures = output_futures
        with self._lock:
            self.active[job_id] = record
        self._notify("start", record)
        try:
            self._wait(output_futures)
            with gc_paused():
                results = client.gather(output_futures)
            record.status = "SUCCEEDED"
        except (FutureCancelledError, _asyncio_cancelled()) as error:
            record.status = "FAILED"
            reason = record.cancelled_reason or "its futures were cancelled"
            raise JobCancelledError(
                f"Job {job_id} ({record.description}) cancelled: {reason}"
            ) from error
        except Exception as error:
            record.status = "FAILED"
            _annotate_lost_task(error, builder)
            if drain_on_failure:
                self._drain(record, output_futures)
            raise
        finally:
            record.finished = time.time()
            with self._lock:
                self.active.pop(job_id, None)
                self.completed.append(record)
                del self.completed[:-1000]
            for future in output_futures:
                future.release()
            record.futures = []
            del builder.external_futures
            # Updates of the tasks that succeeded count even when the job failed, like Spark.
            self.sc._merge_accumulator_updates()
            self._notify("end", record)
        return results

    def _wait(self, futures: list) -> None:
        """Wait for a job's results, failing promptly if the local cluster lost every worker."""
        cluster = self.sc._cluster
        if cluster is None or not futures:
            return
        settled = threading.Event()
        remaining = [len(futures)]
        lock = threading.Lock()

        def on_done(future) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0 or future.status != "finished":
                    settled.set()

        for future in futures:
            future.add_done_callback(on_done)
        while not settled.wait(1.0):
            if cluster.failure:
                self.sc._client.cancel(futures, force=True)
                raise RuntimeError(f"The job cannot run: {cluster.failure}")

    def cancel(self, predicate: Callable[[JobRecord], bool], reason: str) -> int:
        """Cancel the running jobs matching ``predicate``; returns how many were cancelled."""
        with self._lock:
            targets = [record for record in self.active.values() if predicate(record)]
        for record in targets:
            record.cancelled_reason = reason
            if record.futures:
                self.sc._client.cancel(record.futures, reason=reason, force=True)
        if targets and self.sc._cluster is not None:
            # Dask cannot interrupt a running task; like PySpark, kill the worker processes
            # still running a cancelled task after a grace period (the supervisor restarts them).
            keys = frozenset().union(*(record.keys for record in targets))
            grace = self.sc._conf._get_int("spark.python.task.killTimeout", 2)
            timer = threading.Timer(grace, self._kill_workers_running, (keys,))
            timer.daemon = True
            timer.start()
        return len(targets)

    def _drain(self, record: JobRecord, futures: list, timeout: float = 60.0) -> None:
        """Cancel a failed job's remaining tasks and wait until none of them is running."""
        self.sc._client.cancel(futures, force=True)
        grace = self.sc._conf._get_int("spark.python.task.killTimeout", 2)
        started = time.monotonic()
        killed = False
        while time.monotonic() - started < timeout:
            try:
                running = self.sc._client.run(_executing_keys)
            except Exception:
                return
            if not any(record.keys.intersection(keys) for _, keys in running.values()):
                return
            if not killed and self.sc._cluster is not None and time.monotonic() - started > grace:
                self._kill_workers_running(record.keys)
                killed = True
            time.sleep(0.1)
        logger.warning("tasks of failed job %s still run after %.0f s", record.job_id, timeout)

    def _kill_workers_running(self, keys: frozenset) -> None:
        cluster = self.sc._cluster
        if cluster is None or self.sc._stopped:
            return
        try:
            running = self.sc._client.run(_executing_keys)
        except Exception:
            return
        for address, (pid, executing) in running.items():
            if keys.intersection(executing):
                logger.warning("killing worker %s, which still runs a cancelled task", address)
                cluster.kill_worker(pid)

    def _notify(self, event: str, record: JobRecord) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, record)
            except Exception:  # a monitoring listener must never break a job
                logger.exception("job listener failed")


def _executing_keys(dask_worker) -> tuple[int, list]:
    import os

    return os.getpid(), list(dask_worker.active_threads.values())


def _asyncio_cancelled() -> type[BaseException]:
    import asyncio

    return asyncio.CancelledError


def _annotate_lost_task(error: Exception, builder: GraphBuilder) -> None:
    """Name the RDD operation and partition in errors raised by Dask about a task key."""
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        description, split = builder.key_descriptions.get(error.task, ("a task", -1))
        note = (
            f"sparkish: {description}, partition {split}: the task's worker died "
            f"{error.args[2] + 1} times while running it (a crash or out-of-memory in "
            "user code?)"
        )
        if hasattr(error, "add_note"):
            error.add_note(note)
