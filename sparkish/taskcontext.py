"""``TaskContext``: what a running task can learn about itself, like ``pyspark.TaskContext``.

Tasks of a barrier stage (``rdd.barrier().mapPartitions(f)``) get a
:class:`BarrierTaskContext`, whose ``barrier()`` and ``allGather()`` synchronise the stage's
tasks through a handler on the Dask scheduler (:mod:`sparkish.execution.barrier`).

Examples
--------
>>> TaskContext.get() is None  # in the driver
True
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from distributed import get_client, get_worker

__all__ = [
    "BARRIER_SYNC_HANDLER",
    "BarrierTaskContext",
    "BarrierTaskInfo",
    "TaskContext",
    "set_task_context",
]

#: The scheduler handler through which barrier tasks meet (installed by the driver).
BARRIER_SYNC_HANDLER = "sparkish_barrier_sync"

_current = threading.local()


class TaskContext:
    """Information about the task that is running, like ``pyspark.TaskContext``.

    Only available inside a task: ``TaskContext.get()`` returns ``None`` in the driver.

    Parameters
    ----------
    partition : int
        The partition the task computes.
    stage : int
        The stage's id.
    attempt : int
        How many times the task was attempted before.
    task_attempt_id : int
        An id of the attempt, unique within its worker process.
    local_properties : dict, optional
        The driver's local properties when the job was submitted.
    """

    def __init__(
        self,
        partition: int,
        stage: int,
        attempt: int,
        task_attempt_id: int,
        local_properties: dict[str, str] | None = None,
    ) -> None:
        self._partition = partition
        self._stage = stage
        self._attempt = attempt
        self._task_attempt_id = task_attempt_id
        self._local_properties = dict(local_properties or {})

    @classmethod
    def get(cls) -> TaskContext | None:
        """The context of the task running in this thread, or ``None`` outside tasks.

        Returns
        -------
        TaskContext or None
        """
        return getattr(_current, "context", None)

    def partitionId(self) -> int:
        """The index of the partition this task computes."""
        return self._partition

    def stageId(self) -> int:
        """The id of the stage this task belongs to."""
        return self._stage

    def attemptNumber(self) -> int:
        """How many times this task has been attempted before (0 for the first attempt)."""
        return self._attempt

    def taskAttemptId(self) -> int:
        """An id of this task attempt, unique within its worker process."""
        return self._task_attempt_id

    def getLocalProperty(self, key: str) -> str | None:
        """A local property set in the driver with ``SparkContext.setLocalProperty``.

        Parameters
        ----------
        key : str
            The property's name.

        Returns
        -------
        str or None
            Its value when the job was submitted, or ``None``.
        """
        return self._local_properties.get(key)

    def cpus(self) -> int:
        """The number of CPU cores allotted to this task (always 1)."""
        return 1

    def resources(self) -> dict[str, Any]:
        """Resources allotted to this task (none: sparkish does not schedule resources)."""
        return {}


def set_task_context(context: TaskContext | None) -> None:
    """Make ``context`` the one ``TaskContext.get()`` returns in this thread (workers only)."""
    _current.context = context


class BarrierTaskInfo(NamedTuple):
    """Where a task of a barrier stage runs: ``address`` is its worker's address."""

    address: str


class BarrierTaskContext(TaskContext):
    """The context of a task in a barrier stage: all the stage's tasks run together.

    Parameters
    ----------
    partition : int
        The partition the task computes.
    stage : int
        The stage's id.
    attempt : int
        How many times the task was attempted before.
    task_attempt_id : int
        An id of the attempt, unique within its worker process.
    local_properties : dict, optional
        The driver's local properties when the job was submitted.
    barrier_id : str
        Identifies the stage's barrier on the scheduler.
    num_tasks : int
        How many tasks the stage has (each must reach every barrier).
    timeout : float
        How long a barrier waits for the other tasks, in seconds.
    """

    def __init__(
        self,
        partition: int,
        stage: int,
        attempt: int,
        task_attempt_id: int,
        local_properties: dict[str, str] | None = None,
        *,
        barrier_id: str,
        num_tasks: int,
        timeout: float,
    ) -> None:
        super().__init__(partition, stage, attempt, task_attempt_id, local_properties)
        self._barrier_id = barrier_id
        self._num_tasks = num_tasks
        self._timeout = timeout
        self._round = 0

    @classmethod
    def get(cls) -> BarrierTaskContext:
        """The context of the barrier task running in this thread.

        Returns
        -------
        BarrierTaskContext

        Raises
        ------
        RuntimeError
            Outside a task of a barrier stage.
        """
        context = TaskContext.get()
        if not isinstance(context, BarrierTaskContext):
            raise RuntimeError(
                "BarrierTaskContext.get() is only available in a task of a barrier stage "
                "(rdd.barrier().mapPartitions(...))"
            )
        return context

    def _gather(self, message: Any) -> list[Any]:
        self._round += 1
        client = get_client()
        handler = getattr(client.scheduler, BARRIER_SYNC_HANDLER)
        result = client.sync(
            handler,
            barrier_id=self._barrier_id,
            round=self._round,
            partition=self.partitionId(),
            message=message,
            count=self._num_tasks,
            timeout=self._timeout,
        )
        if "error" in result:
            raise RuntimeError(
                f"barrier stage {self.stageId()}, partition {self.partitionId()}: {result['error']}"
            )
        return list(result["messages"])

    def barrier(self) -> None:
        """Wait until every task of the stage has called ``barrier()`` as often as this one."""
        self._gather(None)

    def allGather(self, message: str = "") -> list[str]:
        """Wait for every task of the stage and return all their messages, by partition.

        Parameters
        ----------
        message : str
            This task's message.

        Returns
        -------
        list of str
        """
        if not isinstance(message, str):
            raise TypeError("Argument `message` must be of type `str`")
        return self._gather(message)

    def getTaskInfos(self) -> list[BarrierTaskInfo]:
        """Where every task of the stage runs, by partition (a barrier for all the tasks).

        Returns
        -------
        list of BarrierTaskInfo
        """
        return [BarrierTaskInfo(address) for address in self._gather(_worker_address())]


def _worker_address() -> str:
    """``host:port`` of the worker running this task."""
    address = str(get_worker().address)
    return address.split("://", 1)[-1]
