"""Accumulators: variables that tasks can only add to and the driver can read.

A task works on its own zero-valued copy of each accumulator it uses. When the task succeeds,
its updates ride along with the task's completion message to the scheduler (as task metadata),
where sparkish's scheduler plugin keeps them until the driver collects them at the end of the job.
An attempt that fails, or whose worker dies, never reports, so each successful task's updates are
merged exactly once.

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> total = sc.accumulator(0)
>>> sc.parallelize(range(10), 3).foreach(lambda x: total.add(x))
>>> total.value
45
"""

from __future__ import annotations

import threading
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["Accumulator", "AccumulatorParam"]


class AccumulatorParam(Generic[T]):
    """How to build the zero value of an accumulator and how to add two values.

    Examples
    --------
    >>> class ListParam(AccumulatorParam):
    ...     def zero(self, value):
    ...         return []
    ...     def addInPlace(self, value1, value2):
    ...         value1.extend(value2)
    ...         return value1
    >>> ListParam().addInPlace([1], [2])
    [1, 2]
    """

    def zero(self, value: T) -> T:
        """The zero value each task's copy of an accumulator starts from.

        Parameters
        ----------
        value : object
            The accumulator's initial value in the driver.

        Returns
        -------
        object
        """
        raise NotImplementedError

    def addInPlace(self, value1: T, value2: T) -> T:
        """Add two values (``value1`` may be modified and returned).

        Parameters
        ----------
        value1 : object
            The accumulated value.
        value2 : object
            The value to add.

        Returns
        -------
        object
            The sum.
        """
        raise NotImplementedError


class AddingAccumulatorParam(AccumulatorParam[T]):
    """Adds values with ``+=``; used for ints, floats and complex numbers."""

    def __init__(self, zero_value: T) -> None:
        self.zero_value = zero_value

    def zero(self, value: T) -> T:
        return self.zero_value

    def addInPlace(self, value1: T, value2: T) -> T:
        value1 += value2  # type: ignore[operator]
        return value1


INT_ACCUMULATOR_PARAM = AddingAccumulatorParam(0)
FLOAT_ACCUMULATOR_PARAM = AddingAccumulatorParam(0.0)
COMPLEX_ACCUMULATOR_PARAM = AddingAccumulatorParam(0.0j)


class _TaskAccumulators(threading.local):
    """The accumulator copies deserialized by the task running in this thread."""

    def __init__(self) -> None:
        self.active: dict[int, Accumulator] | None = None


_task_accumulators = _TaskAccumulators()


class Accumulator(Generic[T]):
    """A shared variable that tasks add to with ``add`` or ``+=``; only the driver reads it.

    Parameters
    ----------
    aid : int
        The accumulator's id, unique per application.
    value : object
        The initial value.
    accum_param : AccumulatorParam
        How to make a task's zero value and add values.

    Examples
    --------
    >>> from sparkish import SparkContext
    >>> sc = SparkContext.getOrCreate()
    >>> counter = sc.accumulator(0)
    >>> def count_evens(x):
    ...     global counter
    ...     if x % 2 == 0:
    ...         counter += 1
    >>> sc.parallelize(range(10), 2).foreach(count_evens)
    >>> counter.value
    5
    """

    def __init__(self, aid: int, value: T, accum_param: AccumulatorParam[T]) -> None:
        self.aid = aid
        self.accum_param = accum_param
        self._value = value
        self._deserialized = False

    def __reduce__(self):
        return (
            _deserialize_accumulator,
            (self.aid, self.accum_param.zero(self._value), self.accum_param),
        )

    @property
    def value(self) -> T:
        """The accumulated value; only readable in the driver."""
        if self._deserialized:
            raise RuntimeError("Accumulator.value cannot be accessed inside tasks")
        return self._value

    @value.setter
    def value(self, value: T) -> None:
        if self._deserialized:
            raise RuntimeError("Accumulator.value cannot be accessed inside tasks")
        self._value = value

    def add(self, term: T) -> None:
        """Add to this accumulator's value.

        Parameters
        ----------
        term : object
            What to add (with ``accum_param.addInPlace``).
        """
        self._value = self.accum_param.addInPlace(self._value, term)

    def __iadd__(self, term: T) -> Accumulator[T]:
        self.add(term)
        return self

    def __str__(self) -> str:
        return str(self._value)

    def __repr__(self) -> str:
        return f"Accumulator<id={self.aid}, value={self._value}>"


def _deserialize_accumulator(
    aid: int, zero_value: Any, accum_param: AccumulatorParam
) -> Accumulator:
    active = _task_accumulators.active
    if active is not None and aid in active:
        return active[aid]
    accumulator = Accumulator(aid, zero_value, accum_param)
    accumulator._deserialized = True  # noqa: SLF001 - the class's own module
    if active is not None:
        active[aid] = accumulator
    return accumulator


def begin_task() -> None:
    """Start collecting the accumulator copies that this thread's task deserializes."""
    _task_accumulators.active = {}


def end_task() -> dict[int, Any]:
    """Stop collecting and return ``{accumulator id: this task's update}``."""
    active = _task_accumulators.active or {}
    _task_accumulators.active = None
    return {
        aid: accumulator._value  # noqa: SLF001 - the class's own module
        for aid, accumulator in active.items()
    }


def infer_param(value: Any) -> AccumulatorParam:
    """PySpark's default parameter for an accumulator of ``value``'s type."""
    if isinstance(value, int):
        return INT_ACCUMULATOR_PARAM
    if isinstance(value, float):
        return FLOAT_ACCUMULATOR_PARAM
    if isinstance(value, complex):
        return COMPLEX_ACCUMULATOR_PARAM
    raise TypeError(f"No default accumulator param for type {type(value)}")
