"""Typed reading of configuration values (``spark.*`` and ``sparkish.*`` keys).

A :class:`Settings` is a read-only snapshot of a ``SparkConf``, taken when a context starts; the
code that needs a setting asks it for an int, a bool or a size in bytes, and a value that does
not parse is an error naming the key.

>>> settings = Settings({"spark.task.maxFailures": "4", "spark.executor.memory": "2g"})
>>> settings.get_int("spark.task.maxFailures", 1)
4
>>> settings.get_bytes("spark.executor.memory")
2147483648
>>> settings.get_bool("spark.ui.enabled", True)
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from dask.utils import parse_bytes

__all__ = ["Settings"]

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class Settings(Mapping[str, str]):
    """A read-only mapping of configuration keys to string values, with typed getters."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Settings({self._values!r})"

    def get_int(self, key: str, default: int) -> int:
        """The value of ``key`` as an int, or ``default`` when it is not set.

        >>> Settings({"n": "x"}).get_int("n", 1)
        Traceback (most recent call last):
            ...
        ValueError: Configuration n='x' is not an integer
        """
        value = self._values.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"Configuration {key}={value!r} is not an integer") from None

    def get_float(self, key: str, default: float) -> float:
        """The value of ``key`` as a float, or ``default`` when it is not set."""
        value = self._values.get(key)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"Configuration {key}={value!r} is not a number") from None

    def get_bool(self, key: str, default: bool) -> bool:
        """The value of ``key`` as a bool (``true/false``, ``1/0``, ``yes/no``), or ``default``."""
        value = self._values.get(key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"Configuration {key}={value!r} is not a boolean")

    def get_bytes(self, key: str) -> int | None:
        """A size such as ``512m``, ``2g`` or ``1.5GiB`` in bytes, or None when not set.

        Spark's suffixes (``k``, ``m``, ``g``, ``t``) are binary units, as in Spark.

        >>> Settings({"size": "512m"}).get_bytes("size")
        536870912
        """
        value = self._values.get(key)
        if not value:
            return None
        text = value.strip()
        if text[-1:].lower() in ("k", "m", "g", "t"):
            text += "iB"
        try:
            return int(parse_bytes(text))
        except ValueError:
            raise ValueError(f"Configuration {key}={value!r} is not a size in bytes") from None

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """The settings under ``prefix``, with the prefix removed from their keys.

        >>> Settings({"sparkish.fs.s3.anon": "true"}).with_prefix("sparkish.fs.s3.")
        {'anon': 'true'}
        """
        return {k[len(prefix) :]: v for k, v in self._values.items() if k.startswith(prefix)}
