"""The exceptions that sparkish raises itself.

Each is a subclass of the built-in exception PySpark raises in the same situation, so code written
for PySpark (``except ValueError``) keeps working, and code written for sparkish can catch the
precise case without looking at messages.

>>> issubclass(EmptyRDDError, ValueError)
True
>>> str(EmptyRDDError())
'Can not reduce() empty RDD'
"""

from __future__ import annotations

__all__ = [
    "EmptyRDDError",
    "JobCancelledError",
    "SerializationError",
    "UserCodeError",
    "WorkerLostError",
]


class EmptyRDDError(ValueError):
    """An action that needs at least one element ran over an RDD without any.

    The default message is PySpark's (``reduce``, ``max``, ``stats``...); actions whose PySpark
    message differs pass their own.
    """

    def __init__(self, message: str = "Can not reduce() empty RDD") -> None:
        super().__init__(message)


class JobCancelledError(RuntimeError):
    """Raised by an action whose job was cancelled (``cancelJobGroup``, ``cancelAllJobs``...)."""


class SerializationError(TypeError):
    """A function, a value it captures, or a task's result cannot be pickled."""


class UserCodeError(RuntimeError):
    """A task's user code raised something that cannot travel back as itself.

    That is a ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``,
    ``SystemExit``...), a ``StopIteration`` (which would silently end an iteration), or an
    exception that cannot be pickled. The message starts with the original type and message.
    """


class WorkerLostError(RuntimeError):
    """The worker process running a task died, as many times as ``spark.task.maxFailures``
    allows (default 4).

    A segmentation fault or ``os._exit`` in user or native code, the supervisor's kill of a local
    worker over its memory limit, or any other death of the process while the task ran. Only
    the task that was running counts an attempt, never the tasks merely queued on that worker.
    The message names the RDD operations of the task's stage and their call sites, the
    partition, the attempts and how the process ended (``segmentation fault (SIGSEGV)``,
    ``killed: out of memory ...``, ``exit code 1``).

    Attributes
    ----------
    partition : int
        The partition whose task was running.
    attempts : int
        How many times a worker died running it.
    cause : str
        How the worker ended the last time.
    """

    def __init__(self, message: str, partition: int = -1, attempts: int = 0, cause: str = ""):
        super().__init__(message)
        self.partition = partition
        self.attempts = attempts
        self.cause = cause

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.partition, self.attempts, self.cause))
