"""Everything sparkish uses of Dask's and ``distributed``'s private internals, in one place.

sparkish runs on public Dask APIs except for these pieces, which a Dask upgrade must review
(``tests/test_dask_compat.py`` pins each of them down):

- the P2P shuffle extension (``distributed.shuffle._core`` and friends): sparkish plugs its own
  buckets into it with :class:`RecordsShuffleSpec` / :class:`RecordsShuffleRun`, which implement
  the extension's abstract hooks; what sparkish does with the bytes is in
  :mod:`sparkish.shuffle.buckets`;
- two shortcuts that let a task reach its worker's active shuffle run from the task thread
  instead of through the event loop (a blocking round trip per task): :func:`_open_active_run`;
- on the scheduler, the P2P extension's active runs and its own task restriction
  (:class:`ShuffleReaderPlacement`), to send reduce tasks to their partitions' worker at once;
- what a task can learn about itself on a worker (its key, its metadata), the keys a worker is
  executing, the attempts counted in a ``KilledWorker`` error, and which exceptions are Dask's
  scheduling signals.

The installed ``distributed`` must be in :data:`SUPPORTED_DISTRIBUTED`: importing this module
with another version raises ``ImportError`` naming both.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import distributed
from distributed import get_worker
from distributed.diagnostics.plugin import SchedulerPlugin
from distributed.exceptions import Reschedule
from distributed.scheduler import KilledWorker
from distributed.shuffle._core import (
    P2PBarrierTask,
    ShuffleId,
    ShuffleRun,
    ShuffleSpec,
    barrier_key,
    get_worker_plugin,
    handle_transfer_errors,
    handle_unpack_errors,
    id_from_key,
    p2p_barrier,
)
from distributed.shuffle._disk import DiskShardsBuffer
from distributed.shuffle._exceptions import DataUnavailable
from distributed.shuffle._limiter import ResourceLimiter
from distributed.worker import thread_state
from packaging.version import Version

from .monitoring.worker_metrics import count_spilled_bytes
from .shuffle.buckets import (
    BucketIndex,
    ReceivedPartition,
    chunk_buckets,
    group_size,
    index_chunks,
    index_file,
    read_file_buckets,
)

__all__ = [
    "SUPPORTED_DISTRIBUTED",
    "RecordsShuffleRun",
    "RecordsShuffleSpec",
    "ShuffleReaderPlacement",
    "active_shuffle_ids",
    "barrier_key_of",
    "barrier_task",
    "current_task_key",
    "executing_task_keys",
    "is_scheduling_signal",
    "killed_worker_report",
    "log_task_event",
    "read_output_partition",
    "set_current_task_metadata",
    "worker_memory_limit",
    "write_input_partition",
]

#: The ``distributed`` releases whose internals this module was checked against
#: (``pyproject.toml`` pins the same range).
SUPPORTED_DISTRIBUTED = (Version("2026.7.0"), Version("2026.9"))


def _check_version(version: str) -> None:
    low, high = SUPPORTED_DISTRIBUTED
    if not low <= Version(version) < high:
        raise ImportError(
            f"sparkish needs distributed >= {low}, < {high} (it uses the private P2P shuffle "
            f"API of those releases), but distributed {version} is installed"
        )


_check_version(distributed.__version__)


# --------------------------------------------------------------------------- tasks and workers


def is_scheduling_signal(error: BaseException) -> bool:
    """Whether ``error`` is how Dask moves or restarts a task, which must pass untouched."""
    module = type(error).__module__
    return isinstance(error, Reschedule) or module.startswith("distributed.shuffle")


def current_task_key() -> Any:
    """The key of the task running in this thread of a worker."""
    return thread_state.key


def set_current_task_metadata(name: str, value: Any) -> bool:
    """Attach ``value`` to the running task's metadata, which reaches scheduler plugins only if
    the task succeeds. Returns False outside a worker's task thread (e.g. a direct call)."""
    try:
        worker = get_worker()
        task_state = worker.state.tasks[thread_state.key]
    except (ValueError, AttributeError, KeyError):
        return False
    task_state.metadata[name] = value
    return True


def worker_memory_limit() -> int | None:
    """The memory limit of the worker running this thread's task (None outside a worker or
    without a limit)."""
    try:
        worker = get_worker()
    except ValueError:
        return None
    return worker.memory_manager.memory_limit or None


def log_task_event(topic: str, payload: list) -> bool:
    """Log ``payload + [running task's key]`` under ``topic`` on the scheduler, without waiting
    (the worker's batched stream carries it, ahead of the task's completion). Returns False
    outside a worker's task thread."""
    try:
        worker = get_worker()
        key = thread_state.key
    except (ValueError, AttributeError):
        return False
    worker.log_event(topic, [*payload, key])
    return True


def executing_task_keys(dask_worker: Any) -> tuple[int, list]:
    """``(process id, keys being executed)`` of a worker: run with ``Client.run``."""
    return os.getpid(), list(dask_worker.active_threads.values())


def killed_worker_report(error: BaseException) -> tuple[Any, int] | None:
    """``(task key, worker deaths counted)`` of a ``KilledWorker`` error, else None."""
    if not isinstance(error, KilledWorker):
        return None
    return error.task, error.args[2] + 1


# --------------------------------------------------------------------------- the P2P shuffle


class RecordsShuffleRun(ShuffleRun[int, Any]):
    """One worker's part of one run of a sparkish shuffle.

    Inputs are lists of ``(reduce partition, framed bucket)`` from one map task; a reduce
    partition's output is its :class:`~sparkish.shuffle.buckets.ReceivedPartition` (the payloads,
    which its reader decodes), read in map order so that record order is deterministic (and the
    same as Spark's).
    """

    def __init__(self, worker_for: dict[int, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.worker_for = worker_for
        self.group_size = group_size(max(worker_for) + 1 if worker_for else 1)
        # Per shuffle file (or in-memory group): the buffers and where each partition's frames
        # are, built by the first reducer that reads it.
        self._indexes: dict[int, tuple[list, BucketIndex]] = {}
        self._indexes_lock = threading.Lock()
        #: Set once a reducer on this worker went through distributed's own read path, which
        #: flushes what was received; nothing arrives after the barrier.
        self.flushed = False

    # hooks of ShuffleRun ------------------------------------------------------------------
    def _shard_partition(self, data: list, partition_id: int, **kwargs: Any) -> dict:
        by_worker: dict[str, list] = defaultdict(list)
        for reduce_id, payload in data:
            by_worker[self.worker_for[reduce_id]].append((reduce_id, payload))
        return {worker: (partition_id, shards) for worker, shards in by_worker.items()}

    async def _receive(self, data: list) -> None:
        self.raise_if_closed()
        groups: dict[tuple[int], list[bytes]] = defaultdict(list)
        for input_id, shards in data:
            if input_id in self.received:
                continue  # a retried send: already stored
            self.received.add(input_id)
            for reduce_id, payload in shards:
                groups[(reduce_id // self.group_size,)].append(payload)
                self.total_recvd += len(payload)
        if not groups:
            return
        try:
            shards = {key: b"".join(chunks) for key, chunks in groups.items()}
            await self._write_to_disk(shards)
            if isinstance(self._disk_buffer, DiskShardsBuffer):
                count_spilled_bytes(sum(map(len, shards.values())))
        except Exception as error:
            self._exception = error
            raise

    def _get_output_partition(self, partition_id: int, key: Any, **kwargs: Any) -> Any:
        self.flushed = True
        group = partition_id // self.group_size
        if isinstance(self._disk_buffer, DiskShardsBuffer):
            path = self._disk_buffer.directory / str(group)
            _, index = self._index(group, lambda: ([], index_file(path)))
            payloads = read_file_buckets(path, index, partition_id)
        else:
            buffers, index = self._index(group, lambda: index_chunks(self._memory_chunks(group)))
            payloads = chunk_buckets(buffers, index, partition_id)
        return ReceivedPartition(payloads)

    def _get_assigned_worker(self, partition_id: int) -> str:
        return self.worker_for[partition_id]

    def read(self, path: Path) -> tuple[bytes, int]:
        with open(path, "rb") as f:
            data = f.read()
        return data, len(data)

    def deserialize(self, buffer: Any) -> Any:
        return buffer

    async def close(self) -> None:
        with self._indexes_lock:
            self._indexes.clear()
        await super().close()

    # sparkish's own ------------------------------------------------------------------------
    def _index(self, group: int, build: Any) -> tuple[list, BucketIndex]:
        with self._indexes_lock:
            cached = self._indexes.get(group)
            if cached is None:
                self.raise_if_closed()
                cached = self._indexes[group] = build()
            return cached

    def _memory_chunks(self, group: int) -> list:
        try:  # the in-memory buffer hands its chunks over once: the index keeps them
            data = self._read_from_disk((group,))
        except DataUnavailable:
            return []
        return [data] if isinstance(data, (bytes, bytearray, memoryview)) else list(data)

    def read_local_partition(self, partition_id: int) -> ReceivedPartition | None:
        """The partition's records read from the task thread, or None when distributed's own
        path must be taken (the partition is not assigned here, or nothing was flushed yet)."""
        if not self.flushed or not self.transferred:
            return None
        if self.worker_for.get(partition_id) != self.local_address:
            return None
        self.raise_if_closed()
        return self._get_output_partition(partition_id, None)


@dataclass(frozen=True)
class RecordsShuffleSpec(ShuffleSpec[int]):
    """Scheduler-side description of a sparkish shuffle with ``npartitions_out`` outputs.

    ``group_starts`` are the first partitions of the groups in which reduce tasks read the
    output (empty: one partition per task); a group's partitions all go to one worker.
    ``readers`` maps the key of each task of the job that made the shuffle and reads it to the
    (first) output partition it reads: :class:`ShuffleReaderPlacement` sends those tasks
    straight to that partition's worker.
    """

    npartitions_out: int
    group_starts: tuple[int, ...] = ()
    readers: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def output_partitions(self) -> Any:
        yield from range(self.npartitions_out)

    def pick_worker(self, partition: int, workers: Sequence[str]) -> str:
        if not self.group_starts:
            return workers[len(workers) * partition // self.npartitions_out]
        group = bisect.bisect_right(self.group_starts, partition) - 1
        return workers[len(workers) * group // len(self.group_starts)]

    def create_run_on_worker(
        self, run_id: int, span_id: str | None, worker_for: dict[int, str], plugin: Any
    ) -> ShuffleRun:
        worker = plugin.worker
        directory = os.path.join(worker.local_directory, f"sparkish-shuffle-{self.id}-{run_id}")
        os.makedirs(directory, mode=0o700, exist_ok=True)  # spilled records: private to the user
        return RecordsShuffleRun(
            worker_for=worker_for,
            id=self.id,
            run_id=run_id,
            span_id=span_id,
            local_address=worker.address,
            directory=directory,
            executor=plugin._executor,
            rpc=worker.rpc,
            digest_metric=worker.digest_metric,
            scheduler=worker.scheduler,
            memory_limiter_disk=plugin.memory_limiter_disk if self.disk else ResourceLimiter(None),
            memory_limiter_comms=plugin.memory_limiter_comms,
            disk=self.disk,
            loop=worker.loop,
        )


def _open_active_run(plugin: Any, shuffle_id: ShuffleId) -> Any:
    """The worker's active run of ``shuffle_id`` when it exists and is open, read from the task
    thread. ``distributed`` looks it up on the event loop (a blocking round trip per task); when
    the run is there, that lookup returns exactly this object. A run that closes meanwhile raises
    ``ShuffleClosedError`` in the call that follows, which reschedules the task as usual."""
    run = plugin.shuffle_runs._active_runs.get(shuffle_id)
    if run is None or run.closed or run._exception is not None:
        return None
    return run


def write_input_partition(shuffle_id: str, input_partition: int, buckets: list) -> int:
    """Hand the framed buckets of one map task to the shuffle; returns the run id."""
    shuffle = ShuffleId(shuffle_id)
    with handle_transfer_errors(shuffle):
        plugin = get_worker_plugin()
        run = _open_active_run(plugin, shuffle)
        if run is None:
            return plugin.add_partition(buckets, input_partition, shuffle)
        return run.add_partition(data=buckets, partition_id=input_partition)


def read_output_partition(shuffle_id: str, output_partition: int, run_id: int) -> ReceivedPartition:
    """The payloads of one reduce partition (must run in a task of the current run)."""
    shuffle = ShuffleId(shuffle_id)
    with handle_unpack_errors(shuffle):
        plugin = get_worker_plugin()
        run = _open_active_run(plugin, shuffle)
        if isinstance(run, RecordsShuffleRun) and run.run_id == run_id:
            received = run.read_local_partition(output_partition)
            if received is not None:
                return received
        return plugin.get_output_partition(shuffle, run_id, output_partition)


def barrier_task(
    shuffle_id: str,
    transfer_refs: list,
    npartitions_out: int,
    disk: bool,
    group_starts: tuple[int, ...] = (),
    readers: dict | None = None,
) -> Any:
    """The graph task that waits for every map task of a shuffle (what the scheduler's P2P
    plugin recognises a shuffle by). ``readers`` (reader task key -> output partition) may
    still be filled in until the graph is submitted."""
    spec = RecordsShuffleSpec(
        id=ShuffleId(shuffle_id),
        disk=disk,
        npartitions_out=npartitions_out,
        group_starts=group_starts,
        readers=readers if readers is not None else {},
    )
    return P2PBarrierTask(
        barrier_key(ShuffleId(shuffle_id)), p2p_barrier, shuffle_id, *transfer_refs, spec=spec
    )


class ShuffleReaderPlacement(SchedulerPlugin):
    """Scheduler plugin: when a sparkish shuffle's barrier finishes, restrict the reader tasks
    its spec lists to the workers holding their output partitions.

    Without it, distributed's P2P extension places a reader wherever the scheduler first sends
    it; on a wrong worker the task asks for the right one and reschedules itself. A worker runs
    its queue in order, so a misplaced reader waits there behind a reader that does belong to
    that worker, while its own worker may sit idle: with grouped reduce partitions that is a
    whole group's run time (measured: a worker idle for 0.5-0.8 s of a 5 s ``groupByKey`` job).
    The restriction is the one the P2P extension would set itself, through its own bookkeeping,
    so it is lifted with the shuffle's.
    """

    name = "sparkish-shuffle-reader-placement"

    def __init__(self) -> None:
        self.scheduler: Any = None

    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if finish != "memory" or self.scheduler is None:
            return
        shuffle_id = id_from_key(key)
        if shuffle_id is None:
            return
        extension = self.scheduler.extensions.get("shuffle")
        state = extension.active_shuffles.get(shuffle_id) if extension is not None else None
        if state is None or not isinstance(state.run_spec.spec, RecordsShuffleSpec):
            return
        worker_for = state.run_spec.worker_for
        barrier = self.scheduler.tasks.get(key)
        for reader_key, partition in state.run_spec.spec.readers.items():
            task = self.scheduler.tasks.get(reader_key)
            worker = worker_for.get(partition)
            if task is None or worker is None or barrier not in task.dependencies:
                continue
            if task.state in ("released", "waiting") and worker in self.scheduler.workers:
                extension._set_restriction(task, worker)


def barrier_key_of(shuffle_id: str) -> str:
    """The key of a shuffle's barrier task."""
    return barrier_key(ShuffleId(shuffle_id))


def active_shuffle_ids(dask_scheduler: Any) -> list[str]:
    """The shuffles the scheduler's P2P extension is running (``client.run_on_scheduler``):
    an interrupted job's shuffle must not be among them."""
    return [str(shuffle_id) for shuffle_id in dask_scheduler.extensions["shuffle"].active_shuffles]
