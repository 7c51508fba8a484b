"""Running count, mean, variance, min and max of numbers, as returned by ``RDD.stats()``.

:class:`StatCounter` has PySpark's API and gives the same numbers bit for bit: values are
added one at a time with Welford's update, and counters are merged with the pairwise update of
Chan, Golub and LeVeque, using the same formulas and branches as PySpark (ported from Spark's
``StatCounter.scala``). Also like PySpark with numpy installed:

- an empty counter has ``count() == 0``, ``mean() == sum() == 0.0``, ``min() == inf``,
  ``max() == -inf`` and NaN variance and stdev; ``sampleVariance()`` is NaN below two values;
- a NaN value makes ``min()`` and ``max()`` NaN (numpy's ``maximum`` propagates NaN);
- ``asDict()`` reports the *sample* stdev and variance by default and the population ones with
  ``sample=True``. That inversion is PySpark's; it is kept so results match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

__all__ = ["StatCounter"]


def _sqrt(value: float) -> float:
    # numpy.sqrt (used by PySpark) gives NaN for negative input where math.sqrt raises.
    return math.sqrt(value) if value >= 0.0 else math.nan


def _max_propagating_nan(current: float, other: float) -> float:
    # numpy.maximum: NaN wins, and on a tie the second argument is returned (0.0 vs -0.0).
    return current if current > other or current != current else other


def _min_propagating_nan(current: float, other: float) -> float:
    return current if current < other or current != current else other


def _bad_value_error(value: Any) -> TypeError:
    return TypeError(
        f"StatCounter: cannot add {value!r} of type {type(value).__name__}: values must be numbers"
    )


class StatCounter:
    """Count, mean, variance, min and max of numbers, computed in one pass.

    Parameters
    ----------
    values : iterable of numbers, optional
        The values counted first.

    Examples
    --------
    >>> stats = StatCounter([1, 2, 3])
    >>> stats
    (count: 3, mean: 2.0, stdev: 0.816496580927726, max: 3.0, min: 1.0)
    >>> stats.mergeStats(StatCounter([4.0])).sampleVariance()
    1.6666666666666667
    >>> stats.merge(float("nan")).max()
    nan
    >>> StatCounter()
    (count: 0, mean: 0.0, stdev: nan, max: -inf, min: inf)
    """

    __slots__ = ("n", "mu", "m2", "maxValue", "minValue")

    def __init__(self, values: Iterable[float] | None = None) -> None:
        self.n = 0  # number of values
        self.mu = 0.0  # mean of the values
        self.m2 = 0.0  # sum of squared differences from the mean
        self.maxValue = -math.inf
        self.minValue = math.inf
        if values is not None:
            self._merge_values(values)

    def _merge_values(self, values: Iterable[float]) -> None:
        """Add many values: ``merge`` in a loop kept inside one frame with local variables."""
        n, mu, m2 = self.n, self.mu, self.m2
        highest, lowest = self.maxValue, self.minValue
        value: Any = None
        try:
            for value in values:
                delta = value - mu
                n += 1
                mu += delta / n
                m2 += delta * (value - mu)
                # numpy.maximum/minimum semantics (see the helpers above) with one comparison
                # per value in the common case.
                if not highest > value and highest == highest:
                    highest = value
                if not lowest < value and lowest == lowest:
                    lowest = value
        except TypeError as error:
            raise _bad_value_error(value) from error
        self.n, self.mu, self.m2 = n, mu, m2
        self.maxValue, self.minValue = float(highest), float(lowest)

    def merge(self, value: float) -> StatCounter:
        """Add one value and return this counter.

        Parameters
        ----------
        value : number
            The value to add.

        Returns
        -------
        StatCounter
            This counter.

        Examples
        --------
        >>> StatCounter().merge(2).merge(4).mean()
        3.0
        """
        try:
            delta = value - self.mu
        except TypeError as error:
            raise _bad_value_error(value) from error
        self.n += 1
        self.mu += delta / self.n
        self.m2 += delta * (value - self.mu)
        self.maxValue = float(_max_propagating_nan(self.maxValue, value))
        self.minValue = float(_min_propagating_nan(self.minValue, value))
        return self

    def mergeStats(self, other: StatCounter) -> StatCounter:
        """Add the values summarised by another counter and return this counter.

        Parameters
        ----------
        other : StatCounter
            The counter whose statistics are added.

        Returns
        -------
        StatCounter
            This counter.

        Examples
        --------
        >>> left, right = StatCounter([1.0, 2.0]), StatCounter([3.0, 4.0, 5.0])
        >>> left.mergeStats(right).mean(), left.count(), left.max()
        (3.0, 5, 5.0)
        """
        if not isinstance(other, StatCounter):
            raise TypeError(f"Can only merge StatCounter but got {type(other)}")
        if other is self:
            other = self.copy()
        if self.n == 0:
            self.n, self.mu, self.m2 = other.n, other.mu, other.m2
            self.maxValue, self.minValue = other.maxValue, other.minValue
        elif other.n != 0:
            total = self.n + other.n
            delta = other.mu - self.mu
            # When one side is much smaller, move the larger side's mean by a small correction
            # instead of forming the weighted average, which loses precision.
            if other.n * 10 < self.n:
                self.mu = self.mu + (delta * other.n) / total
            elif self.n * 10 < other.n:
                self.mu = other.mu - (delta * self.n) / total
            else:
                self.mu = (self.mu * self.n + other.mu * other.n) / total
            self.maxValue = _max_propagating_nan(self.maxValue, other.maxValue)
            self.minValue = _min_propagating_nan(self.minValue, other.minValue)
            self.m2 += other.m2 + (delta * delta * self.n * other.n) / total
            self.n = total
        return self

    def copy(self) -> StatCounter:
        """Return an independent counter with the same statistics.

        >>> original = StatCounter([1.0])
        >>> duplicate = original.copy().merge(3.0)
        >>> original.count(), duplicate.count()
        (1, 2)
        """
        duplicate = StatCounter.__new__(StatCounter)
        duplicate.n, duplicate.mu, duplicate.m2 = self.n, self.mu, self.m2
        duplicate.maxValue, duplicate.minValue = self.maxValue, self.minValue
        return duplicate

    def count(self) -> int:
        """Return the number of values.

        >>> StatCounter([5, 5]).count()
        2
        """
        return int(self.n)

    def mean(self) -> float:
        """Return the mean, ``0.0`` when empty (as in PySpark).

        >>> StatCounter([1, 2]).mean()
        1.5
        """
        return self.mu

    def sum(self) -> float:
        """Return ``count() * mean()``, the sum as PySpark computes it.

        >>> StatCounter([1, 2, 3.5]).sum()
        6.5
        """
        return self.n * self.mu

    def min(self) -> float:
        """Return the smallest value (``inf`` when empty, NaN if any value is NaN).

        >>> StatCounter([3, -1, 2]).min()
        -1.0
        """
        return self.minValue

    def max(self) -> float:
        """Return the largest value (``-inf`` when empty, NaN if any value is NaN).

        >>> StatCounter([3, -1, 2]).max()
        3.0
        """
        return self.maxValue

    def variance(self) -> float:
        """Return the population variance (divided by n), NaN when empty.

        >>> StatCounter([1, 2, 3, 4]).variance()
        1.25
        """
        return self.m2 / self.n if self.n else math.nan

    def sampleVariance(self) -> float:
        """Return the sample variance (divided by n - 1), NaN below two values.

        >>> StatCounter([1, 2, 3, 4]).sampleVariance()
        1.6666666666666667
        """
        return self.m2 / (self.n - 1) if self.n > 1 else math.nan

    def stdev(self) -> float:
        """Return the population standard deviation.

        >>> StatCounter([2, 4, 4, 4, 5, 5, 7, 9]).stdev()
        2.0
        """
        return _sqrt(self.variance())

    def sampleStdev(self) -> float:
        """Return the sample standard deviation.

        >>> StatCounter([1, 2, 3, 4]).sampleStdev()
        1.2909944487358056
        """
        return _sqrt(self.sampleVariance())

    def asDict(self, sample: bool = False) -> dict[str, float]:
        """Return the statistics as a dict.

        Parameters
        ----------
        sample : bool
            As in PySpark, the default gives the *sample* stdev and variance and
            ``sample=True`` the population ones.

        Returns
        -------
        dict
            ``count``, ``mean``, ``sum``, ``min``, ``max``, ``stdev`` and ``variance``.

        Examples
        --------
        >>> StatCounter([1.0, 2.0, 3.0, 4.0]).asDict()  # doctest: +NORMALIZE_WHITESPACE
        {'count': 4, 'mean': 2.5, 'sum': 10.0, 'min': 1.0, 'max': 4.0,
         'stdev': 1.2909944487358056, 'variance': 1.6666666666666667}
        >>> StatCounter([1.0, 2.0, 3.0, 4.0]).asDict(sample=True)["variance"]
        1.25
        """
        return {
            "count": self.count(),
            "mean": self.mean(),
            "sum": self.sum(),
            "min": self.min(),
            "max": self.max(),
            "stdev": self.stdev() if sample else self.sampleStdev(),
            "variance": self.variance() if sample else self.sampleVariance(),
        }

    def __repr__(self) -> str:
        return (
            f"(count: {self.count()}, mean: {self.mean()}, stdev: {self.stdev()}, "
            f"max: {self.max()}, min: {self.min()})"
        )
