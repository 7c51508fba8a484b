"""``TaskContext``: what a running task can learn about itself, like ``pyspark.TaskContext``.

>>> TaskContext.get() is None  # in the driver
True
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["TaskContext", "set_task_context"]

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
