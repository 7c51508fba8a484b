"""Argument checks shared by every public entry point, with messages that name the operation.

>>> require_int(3, "parallelize", "numSlices")
3
>>> require_int(0, "parallelize", "numSlices")
Traceback (most recent call last):
    ...
ValueError: parallelize: numSlices must be positive, got 0
>>> require_callable(len, "RDD.map")
>>> require_callable(None, "RDD.map")
Traceback (most recent call last):
    ...
TypeError: RDD.map: f must be callable, got NoneType None
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["require_callable", "require_int"]


def require_callable(value: Any, operation: str, name: str = "f") -> None:
    """Raise ``TypeError`` naming ``operation`` and ``name`` unless ``value`` is callable.

    Parameters
    ----------
    value : object
        What the user passed.
    operation : str
        The public operation, e.g. ``"RDD.map"``, used as the message's prefix.
    name : str
        The parameter's name in that operation.
    """
    if not callable(value):
        raise TypeError(
            f"{operation}: {name} must be callable, got {type(value).__name__} {value!r}"
        )


def _bound_phrase(minimum: int) -> str:
    if minimum == 1:
        return "positive"
    if minimum == 0:
        return "non-negative"
    return f"at least {minimum}"


def require_int(
    value: Any, operation: str, name: str, *, minimum: int = 1, integral_floats: bool = False
) -> int:
    """Return ``value`` as an ``int`` if it is an integer (``bool`` is not) of at least ``minimum``.

    Parameters
    ----------
    value : object
        What the user passed.
    operation : str
        The public operation, used as the message's prefix.
    name : str
        The parameter's name in that operation.
    minimum : int
        The smallest value allowed.
    integral_floats : bool
        Also accept a float with an integral value (``2.0``), as PySpark's ``parallelize`` does.

    Returns
    -------
    int
        The checked value.

    Raises
    ------
    TypeError
        ``value`` is not an integer.
    ValueError
        ``value`` is below ``minimum``.

    Examples
    --------
    >>> require_int(2.0, "parallelize", "numSlices", integral_floats=True)
    2
    >>> require_int(True, "RDD.coalesce", "numPartitions")
    Traceback (most recent call last):
        ...
    TypeError: RDD.coalesce: numPartitions must be an int, got True
    >>> require_int(-1, "saveAsPickleFile", "batchSize", minimum=0)
    Traceback (most recent call last):
        ...
    ValueError: saveAsPickleFile: batchSize must be non-negative, got -1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        integral = isinstance(value, numbers.Real) and float(value).is_integer()
        if not (integral_floats and integral and not isinstance(value, bool)):
            raise TypeError(f"{operation}: {name} must be an int, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{operation}: {name} must be {_bound_phrase(minimum)}, got {value}")
    return value
