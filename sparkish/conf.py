"""``SparkConf``: key/value configuration for a :class:`~sparkish.SparkContext`.

>>> conf = SparkConf().setMaster("local[2]").setAppName("demo")
>>> conf.get("spark.master")
'local[2]'
>>> conf.set("spark.default.parallelism", 8).get("spark.default.parallelism")
'8'
>>> print(conf.toDebugString())
spark.app.name=demo
spark.default.parallelism=8
spark.master=local[2]
"""

from __future__ import annotations

import json
import os

__all__ = ["SparkConf"]

#: Environment variable through which ``sparkish-submit --conf k=v`` passes settings
#: (a JSON object) to the ``SparkConf`` objects of the script it runs.
SUBMIT_CONF_VARIABLE = "SPARKISH_SUBMIT_CONF"


class SparkConf:
    """Configuration for a sparkish application, as ``spark.*`` and ``sparkish.*`` key/values.

    Values are stored as strings, like PySpark. With ``loadDefaults`` (the default) the settings
    given to ``sparkish-submit --conf`` are loaded.

    >>> conf = SparkConf(loadDefaults=False)
    >>> conf.setAll([("a", "1"), ("b", "2")]).getAll()
    [('a', '1'), ('b', '2')]
    >>> conf.setIfMissing("a", "9").get("a")
    '1'
    >>> conf.contains("b"), conf.contains("c")
    (True, False)
    """

    def __init__(self, loadDefaults: bool = True, _jvm=None, _jconf=None) -> None:
        self._conf: dict[str, str] = {}
        if loadDefaults:
            submitted = os.environ.get(SUBMIT_CONF_VARIABLE)
            if submitted:
                for key, value in json.loads(submitted).items():
                    self._conf[key] = str(value)

    def set(self, key: str, value: object) -> SparkConf:
        """Set a configuration property (stored as ``str(value)``)."""
        self._conf[key] = str(value)
        return self

    def setIfMissing(self, key: str, value: object) -> SparkConf:
        """Set a property only if it is not already set."""
        if key not in self._conf:
            self.set(key, value)
        return self

    def setMaster(self, value: str) -> SparkConf:
        """Set the master URL, e.g. ``local[4]`` or ``dask://scheduler:8786``."""
        return self.set("spark.master", value)

    def setAppName(self, value: str) -> SparkConf:
        """Set the application name."""
        return self.set("spark.app.name", value)

    def setSparkHome(self, value: str) -> SparkConf:
        """Accepted for compatibility; sparkish needs no Spark installation."""
        return self.set("spark.home", value)

    def setExecutorEnv(
        self,
        key: str | None = None,
        value: str | None = None,
        pairs: list[tuple[str, str]] | None = None,
    ) -> SparkConf:
        """Set environment variables for the local worker processes."""
        if (key is not None and pairs is not None) or (key is None and pairs is None):
            raise ValueError("Either pass one key-value pair or a list of pairs")
        for variable, setting in [(key, value)] if key is not None else pairs or []:
            self.set(f"spark.executorEnv.{variable}", setting)
        return self

    def setAll(self, pairs: list[tuple[str, str]]) -> SparkConf:
        """Set several properties from a list of ``(key, value)`` pairs."""
        for key, value in pairs:
            self.set(key, value)
        return self

    def get(self, key: str, defaultValue: str | None = None) -> str | None:
        """The value of ``key``, or ``defaultValue`` if it is not set."""
        return self._conf.get(key, defaultValue)

    def getAll(self) -> list[tuple[str, str]]:
        """All properties as a list of ``(key, value)`` pairs."""
        return list(self._conf.items())

    def contains(self, key: str) -> bool:
        """Whether ``key`` is set."""
        return key in self._conf

    def toDebugString(self) -> str:
        """The properties as ``key=value`` lines, sorted by key."""
        return "\n".join(f"{key}={value}" for key, value in sorted(self._conf.items()))

    def _copy(self) -> SparkConf:
        copy = SparkConf(loadDefaults=False)
        copy._conf = dict(self._conf)
        return copy

    def _get_int(self, key: str, default: int) -> int:
        value = self._conf.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"Configuration {key}={value!r} is not an integer") from None

    def _get_bool(self, key: str, default: bool) -> bool:
        value = self._conf.get(key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"Configuration {key}={value!r} is not a boolean")

    def __repr__(self) -> str:
        return f"<sparkish.conf.SparkConf object with {len(self._conf)} settings>"
