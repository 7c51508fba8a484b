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
from collections.abc import Iterable
from typing import Any

__all__ = ["SparkConf"]

#: Environment variable through which ``sparkish-submit --conf k=v`` passes settings
#: (a JSON object) to the ``SparkConf`` objects of the script it runs.
SUBMIT_CONF_VARIABLE = "SPARKISH_SUBMIT_CONF"


class SparkConf:
    """Configuration for a sparkish application, as ``spark.*`` and ``sparkish.*`` key/values.

    Values are stored as strings, like PySpark.

    Parameters
    ----------
    loadDefaults : bool
        Load the settings given to ``sparkish-submit --conf`` (and
        ``SparkContext.setSystemProperty``).
    _jvm, _jconf
        Accepted for compatibility with PySpark's signature; ignored.

    Examples
    --------
    >>> conf = SparkConf(loadDefaults=False)
    >>> conf.setAll([("a", "1"), ("b", "2")]).getAll()
    [('a', '1'), ('b', '2')]
    >>> conf.setIfMissing("a", "9").get("a")
    '1'
    >>> conf.contains("b"), conf.contains("c")
    (True, False)
    """

    def __init__(self, loadDefaults: bool = True, _jvm: Any = None, _jconf: Any = None) -> None:
        self._conf: dict[str, str] = {}
        if loadDefaults:
            submitted = os.environ.get(SUBMIT_CONF_VARIABLE)
            if submitted:
                for key, value in json.loads(submitted).items():
                    self._conf[key] = str(value)

    def set(self, key: str, value: object) -> SparkConf:
        """Set a configuration property.

        Parameters
        ----------
        key : str
            The property's name.
        value : object
            Its value, stored as ``str(value)``.

        Returns
        -------
        SparkConf
            This configuration.
        """
        self._conf[key] = str(value)
        return self

    def setIfMissing(self, key: str, value: object) -> SparkConf:
        """Set a property only if it is not already set.

        Parameters
        ----------
        key : str
            The property's name.
        value : object
            Its value, stored as ``str(value)``.

        Returns
        -------
        SparkConf
            This configuration.
        """
        if key not in self._conf:
            self.set(key, value)
        return self

    def setMaster(self, value: str) -> SparkConf:
        """Set the master URL (``spark.master``).

        Parameters
        ----------
        value : str
            ``local``, ``local[N]``, ``local[*]``, ``dask://host:port``...

        Returns
        -------
        SparkConf
            This configuration.
        """
        return self.set("spark.master", value)

    def setAppName(self, value: str) -> SparkConf:
        """Set the application name (``spark.app.name``).

        Parameters
        ----------
        value : str
            The name.

        Returns
        -------
        SparkConf
            This configuration.
        """
        return self.set("spark.app.name", value)

    def setSparkHome(self, value: str) -> SparkConf:
        """Accepted for compatibility; sparkish needs no Spark installation.

        Parameters
        ----------
        value : str
            Stored as ``spark.home``.

        Returns
        -------
        SparkConf
            This configuration.
        """
        return self.set("spark.home", value)

    def setExecutorEnv(
        self,
        key: str | None = None,
        value: str | None = None,
        pairs: list[tuple[str, str]] | None = None,
    ) -> SparkConf:
        """Set environment variables of the local worker processes.

        Parameters
        ----------
        key : str, optional
            A variable's name (with ``value``).
        value : str, optional
            Its value.
        pairs : list of (str, str), optional
            Several ``(name, value)`` pairs instead of ``key`` and ``value``.

        Returns
        -------
        SparkConf
            This configuration.
        """
        if (key is not None and pairs is not None) or (key is None and pairs is None):
            raise ValueError("Either pass one key-value pair or a list of pairs")
        for variable, setting in [(key, value)] if key is not None else pairs or []:
            self.set(f"spark.executorEnv.{variable}", setting)
        return self

    def setAll(self, pairs: Iterable[tuple[str, object]]) -> SparkConf:
        """Set several properties.

        Parameters
        ----------
        pairs : iterable of (str, object)
            ``(key, value)`` pairs.

        Returns
        -------
        SparkConf
            This configuration.
        """
        for key, value in pairs:
            self.set(key, value)
        return self

    def get(self, key: str, defaultValue: str | None = None) -> str | None:
        """The value of a property.

        Parameters
        ----------
        key : str
            The property's name.
        defaultValue : str, optional
            Returned when the property is not set.

        Returns
        -------
        str or None
        """
        return self._conf.get(key, defaultValue)

    def getAll(self) -> list[tuple[str, str]]:
        """All properties as a list of ``(key, value)`` pairs."""
        return list(self._conf.items())

    def contains(self, key: str) -> bool:
        """Whether a property is set.

        Parameters
        ----------
        key : str
            The property's name.

        Returns
        -------
        bool
        """
        return key in self._conf

    def toDebugString(self) -> str:
        """The properties as ``key=value`` lines, sorted by key."""
        return "\n".join(f"{key}={value}" for key, value in sorted(self._conf.items()))
