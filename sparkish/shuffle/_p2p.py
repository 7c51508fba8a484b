"""Transport of shuffle buckets on Dask's peer-to-peer shuffle extension.

``distributed/shuffle`` moves data between workers outside the task graph, with back-pressure,
disk buffering and a restart of the whole shuffle when a participating worker dies. It is
generic over what it moves: this module plugs lists of Python records into it through a
:class:`RecordsShuffleSpec` / :class:`RecordsShuffleRun` pair.

The graph of one shuffle is M map tasks, one barrier task and, downstream, one task per reduce
partition: O(M + R) tasks. A map task buckets its records by reduce partition, pickles each
bucket to ``bytes`` and hands the buckets to :meth:`RecordsShuffleRun.add_partition`; the
receiving worker appends each bucket, length-prefixed, to one file per reduce partition (kept in
memory up to ``distributed.p2p.storage.buffer``, then on local disk); a reduce task reads its
file back.

This relies on ``distributed``'s private shuffle API (``distributed.shuffle._core``);
``tests/test_shuffle_conformance.py`` checks the pieces used here so that an incompatible
``distributed`` release fails loudly.
"""

from __future__ import annotations

import itertools
import os
import pickle
import struct
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed.shuffle._core import (
    P2PBarrierTask,
    ShuffleId,
    ShuffleRun,
    ShuffleSpec,
    barrier_key,
    get_worker_plugin,
    handle_transfer_errors,
    handle_unpack_errors,
    p2p_barrier,
)
from distributed.shuffle._disk import DiskShardsBuffer
from distributed.shuffle._exceptions import DataUnavailable
from distributed.shuffle._limiter import ResourceLimiter
from distributed.utils import sync
from distributed.worker import thread_state

from ._int_columns import ColumnIterator, decode_int_columns, is_int_payload, pairs_of

__all__ = [
    "RecordsShuffleRun",
    "RecordsShuffleSpec",
    "barrier_task",
    "read_output_partition",
    "write_input_partition",
]

_HEADER = struct.Struct("<QQQ")

#: At most this many files per shuffle on each worker: reduce partitions share files in
#: contiguous groups, so a 1000 x 1000 shuffle does not append to 1000 files per batch.
MAX_FILES = 64
#: Shuffle file headers are parsed out of reads of this size.
_INDEX_READ_BYTES = 4 << 20
#: A reducer with more than _MANY_BUCKETS buckets in a shuffle file up to this size (or up to
#: 4 times what it needs) reads the file whole.
_WHOLE_FILE_READ_BYTES = 16 << 20
_MANY_BUCKETS = 64


def frame(input_partition: int, output_partition: int, payload: bytes) -> bytes:
    """Prefix a pickled bucket with its map partition, reduce partition and length, so buckets
    can be concatenated in one file and read back per reduce partition in map order."""
    return _HEADER.pack(input_partition, output_partition, len(payload)) + payload


def frame_offsets(view: memoryview) -> Iterator[tuple[int, int, int, int]]:
    """``(map partition, reduce partition, payload offset, payload length)`` of each frame in a
    buffer of concatenated frames."""
    offset = 0
    size = len(view)
    while offset < size:
        input_partition, output_partition, length = _HEADER.unpack_from(view, offset)
        offset += _HEADER.size
        yield input_partition, output_partition, offset, length
        offset += length


def unframe(data: bytes | bytearray | memoryview) -> Iterator[tuple[int, int, memoryview]]:
    """The ``(map partition, reduce partition, pickled bucket)`` of concatenated frames."""
    view = memoryview(data)
    for input_partition, output_partition, offset, length in frame_offsets(view):
        yield input_partition, output_partition, view[offset : offset + length]


def _decode_buckets(payloads: list) -> list[tuple[Any, Any]]:
    """Key and value columns of a reduce partition's buckets, in map order; consecutive int64
    buckets are decoded together into one pair of arrays (no per-bucket numpy call)."""
    columns: list[tuple[Any, Any]] = []
    int_payloads: list = []
    for payload in payloads:
        if is_int_payload(payload):
            int_payloads.append(payload)
            continue
        if int_payloads:
            columns.append(decode_int_columns(int_payloads))
            int_payloads = []
        columns.append(pickle.loads(payload))
    if int_payloads:
        columns.append(decode_int_columns(int_payloads))
    return columns


def group_size(npartitions_out: int) -> int:
    """How many consecutive reduce partitions share one shuffle file."""
    return -(-npartitions_out // MAX_FILES)


class ColumnarRecords:
    """The ``(key, value)`` records of a reduce partition, kept as the received key and value
    columns of each map output (lists, or int64 arrays from the vectorised int path); iterating
    pairs them up without building a list of tuples."""

    __slots__ = ("columns",)

    def __init__(self, columns: list[tuple[Any, Any]]) -> None:
        self.columns = columns

    def __iter__(self) -> ColumnIterator:
        iterator = ColumnIterator.from_iterable(itertools.starmap(pairs_of, self.columns))
        iterator.columns = self.columns
        return iterator

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self.columns)


class RecordsShuffleRun(ShuffleRun[int, list]):
    """One worker's part of one run of a records shuffle.

    Inputs are lists of ``(reduce partition, framed pickled bucket)``; outputs are lists of the
    records of one reduce partition.
    """

    def __init__(self, worker_for: dict[int, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.worker_for = worker_for
        self.group_size = group_size(max(worker_for) + 1 if worker_for else 1)
        # Where each reduce partition's buckets are, per shuffle file, built on first read.
        self._parsed: dict[int, tuple[list, dict[int, list]]] = {}
        self._parsed_lock = threading.Lock()
        self._receive_flushed = False

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
            await self._write_to_disk({key: b"".join(chunks) for key, chunks in groups.items()})
        except Exception as error:
            self._exception = error
            raise

    def get_output_partition(self, partition_id: int, key: Any, **kwargs: Any) -> Any:
        """``ShuffleRun.get_output_partition`` without its two blocking event-loop round trips
        per reduce task when they have nothing to do: the partition is assigned to this worker
        (checked here), and the received shards were already flushed by an earlier reducer
        (nothing arrives after the barrier)."""
        self.raise_if_closed()
        if self._get_assigned_worker(partition_id) != self.local_address:
            sync(self._loop, self._ensure_output_worker, partition_id, key)
        if not self.transferred:
            raise RuntimeError("`get_output_partition` called before barrier task")
        if not self._receive_flushed:
            sync(self._loop, self.flush_receive)
            self._receive_flushed = True
        with self._capture_metrics("foreground"):
            return self._get_output_partition(partition_id, key, **kwargs)

    def _get_output_partition(self, partition_id: int, key: Any, **kwargs: Any):
        # Buckets arrive in any order; reading them in map-partition order makes a reduce
        # partition's record order deterministic (and the same as Spark's).
        if isinstance(self._disk_buffer, DiskShardsBuffer):
            payloads = self._read_partition_from_file(partition_id)
        else:
            payloads = self._read_partition_from_memory(partition_id)
        return ColumnarRecords(_decode_buckets(payloads))

    def _file_index(self, group: int) -> dict[int, list]:
        """Where each reduce partition's buckets are in one shuffle file: read once per file,
        headers only, so a reducer then reads just its own bytes (the worker's memory holds
        one reduce partition at a time, however large the shuffle)."""
        with self._parsed_lock:
            cached = self._parsed.get(group)
            if cached is not None:
                return cached[1]
            self.raise_if_closed()
            index: dict[int, list] = defaultdict(list)
            path = self._disk_buffer.directory / str(group)
            try:
                with open(path, "rb", buffering=0) as f:
                    size = os.fstat(f.fileno()).st_size
                    offset = chunk_start = 0
                    chunk = b""
                    # Headers are parsed out of large reads, not one read and seek per bucket:
                    # a 1000 x 1000 shuffle has 16,000 small buckets per file.
                    while offset + _HEADER.size <= size:
                        if offset + _HEADER.size > chunk_start + len(chunk):
                            f.seek(offset)
                            chunk, chunk_start = f.read(_INDEX_READ_BYTES), offset
                        input_id, output_id, length = _HEADER.unpack_from(
                            chunk, offset - chunk_start
                        )
                        offset += _HEADER.size
                        index[output_id].append((input_id, offset, length))
                        offset += length
            except FileNotFoundError:
                pass
            self._parsed[group] = ([], index)
            return index

    def _read_partition_from_file(self, partition_id: int) -> list[bytes]:
        entries = sorted(self._file_index(partition_id // self.group_size).get(partition_id, ()))
        if not entries:
            return []
        path = self._disk_buffer.directory / str(partition_id // self.group_size)
        descriptor = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(descriptor).st_size
            wanted = sum(length for _, _, length in entries)
            if len(entries) > _MANY_BUCKETS and size <= max(_WHOLE_FILE_READ_BYTES, 4 * wanted):
                # Many small buckets: one read of the whole file beats a pread per bucket.
                view = memoryview(os.pread(descriptor, size, 0))
                return [view[offset : offset + length] for _, offset, length in entries]
            return [os.pread(descriptor, length, offset) for _, offset, length in entries]
        finally:
            os.close(descriptor)

    def _read_partition_from_memory(self, partition_id: int) -> list:
        group = partition_id // self.group_size
        with self._parsed_lock:
            cached = self._parsed.get(group)
            if cached is None:
                try:  # the in-memory buffer hands its chunks over once: keep them
                    data = self._read_from_disk((group,))
                except DataUnavailable:
                    data = []
                chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
                buffers = [memoryview(chunk) for chunk in chunks]
                index: dict[int, list] = defaultdict(list)
                for chunk, view in enumerate(buffers):
                    for input_id, output_id, offset, length in frame_offsets(view):
                        index[output_id].append((input_id, chunk, offset, length))
                cached = self._parsed[group] = (buffers, index)
        buffers, index = cached
        entries = sorted(index.get(partition_id, ()))
        return [buffers[chunk][start : start + length] for _, chunk, start, length in entries]

    async def close(self) -> None:
        with self._parsed_lock:
            self._parsed.clear()
        await super().close()

    def _get_assigned_worker(self, partition_id: int) -> str:
        return self.worker_for[partition_id]

    def read(self, path: Path) -> tuple[bytes, int]:
        with open(path, "rb") as f:
            data = f.read()
        return data, len(data)

    def deserialize(self, buffer: Any) -> Any:
        return buffer


@dataclass(frozen=True)
class RecordsShuffleSpec(ShuffleSpec[int]):
    """Scheduler-side description of a records shuffle with ``npartitions_out`` outputs."""

    npartitions_out: int

    @property
    def output_partitions(self):
        yield from range(self.npartitions_out)

    def pick_worker(self, partition: int, workers: Sequence[str]) -> str:
        return workers[len(workers) * partition // self.npartitions_out]

    def create_run_on_worker(self, run_id, span_id, worker_for, plugin) -> ShuffleRun:
        worker = plugin.worker
        return RecordsShuffleRun(
            worker_for=worker_for,
            id=self.id,
            run_id=run_id,
            span_id=span_id,
            local_address=worker.address,
            directory=os.path.join(worker.local_directory, f"sparkish-shuffle-{self.id}-{run_id}"),
            executor=plugin._executor,
            rpc=worker.rpc,
            digest_metric=worker.digest_metric,
            scheduler=worker.scheduler,
            memory_limiter_disk=plugin.memory_limiter_disk if self.disk else ResourceLimiter(None),
            memory_limiter_comms=plugin.memory_limiter_comms,
            disk=self.disk,
            loop=worker.loop,
        )


def _open_active_run(plugin: Any, shuffle_id: ShuffleId) -> ShuffleRun | None:
    """The worker's active run of ``shuffle_id`` when it exists and is open, read from the task
    thread. ``distributed`` looks it up on the event loop (one blocking round trip per task);
    when the run is there, that lookup returns exactly this object. A run that closes meanwhile
    raises ``ShuffleClosedError`` in the call that follows, which reschedules the task as usual.
    """
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


def read_output_partition(shuffle_id: str, output_partition: int, run_id: int) -> ColumnarRecords:
    """The records of one reduce partition (must run in a task of the current run)."""
    shuffle = ShuffleId(shuffle_id)
    with handle_unpack_errors(shuffle):
        plugin = get_worker_plugin()
        run = _open_active_run(plugin, shuffle)
        if run is None or run.run_id != run_id:  # unknown or another run: let distributed decide
            return plugin.get_output_partition(shuffle, run_id, output_partition)
        return run.get_output_partition(partition_id=output_partition, key=thread_state.key)


def barrier_task(shuffle_id: str, transfer_refs: list, npartitions_out: int, disk: bool):
    """The graph task that waits for every map task of a shuffle."""
    spec = RecordsShuffleSpec(id=ShuffleId(shuffle_id), disk=disk, npartitions_out=npartitions_out)
    return P2PBarrierTask(
        barrier_key(ShuffleId(shuffle_id)), p2p_barrier, shuffle_id, *transfer_refs, spec=spec
    )


def barrier_key_of(shuffle_id: str) -> str:
    return barrier_key(ShuffleId(shuffle_id))
