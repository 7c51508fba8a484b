"""Threads that carry the job properties of the thread starting them, like ``pyspark.util``.

>>> import threading
>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> sc.setJobGroup("my-group", "work in a thread")
>>> seen = []
>>> def record_group():
...     seen.append(sc.getLocalProperty("spark.jobGroup.id"))
>>> thread = InheritableThread(target=record_group)
>>> thread.start(); thread.join()
>>> seen
['my-group']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from threading import Thread
from typing import Any

from .context import SparkContext

__all__ = ["InheritableThread", "inheritable_thread_target"]


def _inherited_properties() -> tuple[SparkContext | None, dict]:
    context = SparkContext._active_spark_context
    if context is None:
        return None, {}
    return context, dict(context._runtime.local_properties())


class InheritableThread(Thread):
    """A thread that inherits the job group, description and tags of the thread starting it.

    Parameters
    ----------
    target : callable
        What the thread runs.
    *args, **kwargs
        As for ``threading.Thread`` (a ``session`` keyword is accepted and ignored).
    """

    def __init__(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        kwargs.pop("session", None)
        kwargs["target"] = target
        super().__init__(*args, **kwargs)
        self._inherited: tuple[SparkContext | None, dict] = (None, {})

    def start(self) -> None:
        """Start the thread with a copy of this thread's job properties."""
        self._inherited = _inherited_properties()
        super().start()

    def run(self) -> None:
        """Run the target with the properties of the thread that started this one."""
        context, inherited = self._inherited
        if context is not None:
            context._runtime.replace_local_properties(dict(inherited))
        super().run()


def inheritable_thread_target(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a thread target so it runs with the starting thread's job properties.

    Parameters
    ----------
    f : callable
        The thread's target.

    Returns
    -------
    callable
    """
    context, inherited = _inherited_properties()

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if context is not None:
            context._runtime.replace_local_properties(dict(inherited))
        return f(*args, **kwargs)

    return wrapped
