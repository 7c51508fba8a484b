"""Which tasks a local worker process is running, readable after the process has died.

A worker that dies (a segmentation fault in native code, ``os._exit`` in user code, the
supervisor's out-of-memory kill) cannot say what it was doing, and the scheduler only knows
which tasks were *assigned* to it, queued ones included. So each local worker gets a small
file from its supervisor: a header saying whether the worker finished starting, then one slot
per concurrently running task holding that task's key, the RDD operations of its stage and the
partition it is computing (a task computing a group of partitions updates it as it goes). The
worker writes the slots through a memory map, which costs a copy into the page cache and
survives the process; the supervisor reads the file once the process has exited and blames
exactly the tasks that were running.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "running")
>>> create_file(path, slots=2)
>>> read_file(path)
RunningTasks(started=False, tasks=[])
>>> board = RunningTaskBoard(path)
>>> board.mark_started()
>>> with board.running(("map-job0", 3)) as describe:
...     describe(("RDD.map at job.py:7",), 3)
...     read_file(path)
RunningTasks(started=True, tasks=[(('map-job0', 3), ('RDD.map at job.py:7',), 3)])
>>> read_file(path).tasks
[]
>>> board.close()
"""

from __future__ import annotations

import mmap
import pickle
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RunningTaskBoard",
    "RunningTasks",
    "create_file",
    "open_board",
    "read_file",
    "running",
]

#: ``describe(operations, partition)``: what a running task records about itself.
Describe = Callable[[tuple[str, ...], "int | None"], None]

#: Bytes per task slot: a length, then the pickled ``(key, operations, partition)``.
SLOT_SIZE = 4096
_HEADER = b"sparkish-running-tasks-v1"
_STARTED = b"started\0"
_HEADER_SIZE = 64
_LENGTH = struct.Struct("<I")


@dataclass
class RunningTasks:
    """What a worker's file says: whether it finished starting, and its running tasks as
    ``(key, RDD operations of the task's stage, partition being computed or None)``."""

    started: bool
    tasks: list[tuple[Any, tuple[str, ...], int | None]]


def create_file(path: str, slots: int) -> None:
    """Create (or reset) the file of a worker about to start, with ``slots`` empty slots."""
    with open(path, "wb") as file:
        file.write(_HEADER.ljust(_HEADER_SIZE, b"\0"))
        file.write(b"\0" * (SLOT_SIZE * slots))


def read_file(path: str) -> RunningTasks:
    """Read a worker's file (the worker has exited, or this is a best-effort look)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return RunningTasks(False, [])
    started = data[len(_HEADER) : len(_HEADER) + len(_STARTED)] == _STARTED
    tasks = []
    for offset in range(_HEADER_SIZE, len(data) - _LENGTH.size + 1, SLOT_SIZE):
        (length,) = _LENGTH.unpack_from(data, offset)
        if not 0 < length <= SLOT_SIZE - _LENGTH.size:
            continue
        start = offset + _LENGTH.size
        try:
            key, operations, partition = pickle.loads(data[start : start + length])
        except Exception:  # a slot torn by a crash in the middle of a write names nothing
            continue
        tasks.append((key, tuple(operations), partition))
    return RunningTasks(started, tasks)


class RunningTaskBoard:
    """The worker's side: writes the slots of its file through a memory map.

    Parameters
    ----------
    path : str
        The file the supervisor created with :func:`create_file`; tasks running at once
        beyond its number of slots are not recorded.
    """

    def __init__(self, path: str) -> None:
        self._file = open(path, "r+b")  # noqa: SIM115 - mapped for the worker's lifetime
        self._map = mmap.mmap(self._file.fileno(), 0)
        self._free = list(range((len(self._map) - _HEADER_SIZE) // SLOT_SIZE))
        self._lock = threading.Lock()

    def mark_started(self) -> None:
        """Record that the worker registered with the scheduler: a later death is not a failed
        start."""
        self._map[len(_HEADER) : len(_HEADER) + len(_STARTED)] = _STARTED

    @contextmanager
    def running(self, key: Any) -> Iterator[Describe]:
        """Record ``key`` as running for the duration of the block; the block gets a function
        that adds the RDD operations of the task's stage once its plan is unpickled, and the
        partition the task computes."""
        with self._lock:
            slot = self._free.pop() if self._free else None
        if slot is None:
            yield _ignore
            return
        try:
            self._write(slot, key, (), None)
            yield lambda operations, partition: self._write(slot, key, operations, partition)
        finally:
            self._clear(slot)
            with self._lock:
                self._free.append(slot)

    def close(self) -> None:
        self._map.close()
        self._file.close()

    def _write(
        self, slot: int, key: Any, operations: tuple[str, ...], partition: int | None
    ) -> None:
        payload = pickle.dumps((key, operations, partition), protocol=5)
        if len(payload) > SLOT_SIZE - _LENGTH.size:
            payload = pickle.dumps((key, (), partition), protocol=5)
            if len(payload) > SLOT_SIZE - _LENGTH.size:
                return
        offset = _HEADER_SIZE + slot * SLOT_SIZE
        # The length goes last, so a crash in the middle leaves the slot empty or whole.
        self._map[offset : offset + _LENGTH.size] = _LENGTH.pack(0)
        start = offset + _LENGTH.size
        self._map[start : start + len(payload)] = payload
        self._map[offset : offset + _LENGTH.size] = _LENGTH.pack(len(payload))

    def _clear(self, slot: int) -> None:
        offset = _HEADER_SIZE + slot * SLOT_SIZE
        self._map[offset : offset + _LENGTH.size] = _LENGTH.pack(0)


def _ignore(operations: tuple[str, ...], partition: int | None) -> None:
    return None


_board: RunningTaskBoard | None = None


def open_board(path: str) -> RunningTaskBoard:
    """Open this worker process's board; :func:`running` records tasks on it from now on."""
    global _board
    _board = RunningTaskBoard(path)
    return _board


@contextmanager
def running(task_key: Callable[[], Any]) -> Iterator[Describe]:
    """Record the running task (its key from ``task_key()``) on this process's board, if it has
    one (only local workers do); yields the function that adds the stage's operations."""
    board = _board
    if board is None:
        yield _ignore
        return
    with board.running(task_key()) as describe:
        yield describe
