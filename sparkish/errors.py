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
