"""``SparkSession``: the entry point PySpark programs open with since Spark 2.

A session wraps the :class:`~sparkish.SparkContext` that runs the program's RDDs. sparkish has
no SQL engine: what a session offers is what RDD programs use of it — the builder,
``sparkContext``, ``conf``, ``read`` (files as DataFrames of rows), ``createDataFrame``,
``range``, ``stop`` — and the rest raises ``NotImplementedError``.

Examples
--------
>>> spark = SparkSession.builder.appName("job").getOrCreate()
>>> spark is SparkSession.builder.getOrCreate()
True
>>> spark.sparkContext.parallelize(range(3)).sum()
3
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from .._version import __version__
from ..conf import SparkConf
from ..context import SparkContext
from ..rdd import RDD
from ..row import Row
from .dataframe import DataFrame
from .reader import DataFrameReader

__all__ = ["RuntimeConfig", "SparkSession"]


class RuntimeConfig:
    """``spark.conf``: the session's settings over those its context started with.

    Settings read when the context starts (``spark.master``, memory, ...) cannot change
    afterwards; ``set`` records a value that ``get`` returns.

    Parameters
    ----------
    context : SparkContext
        The session's context.
    """

    def __init__(self, context: SparkContext) -> None:
        self._context = context
        self._overrides: dict[str, str] = {}

    def set(self, key: str, value: str | int | bool) -> None:
        """Set a setting of this session.

        Parameters
        ----------
        key : str
            The setting.
        value : str, int or bool
            Its value (stored as a string; booleans as ``true``/``false``).
        """
        self._overrides[key] = str(value).lower() if isinstance(value, bool) else str(value)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of a setting.

        Parameters
        ----------
        key : str
            The setting.
        default : str, optional
            Returned when it is not set.

        Returns
        -------
        str or None
        """
        if key in self._overrides:
            return self._overrides[key]
        return self._context.getConf().get(key, default)

    def getAll(self) -> dict[str, str]:
        """Every setting of the session and its context."""
        return {**dict(self._context.getConf().getAll()), **self._overrides}

    def unset(self, key: str) -> None:
        """Forget a value set with :meth:`set`.

        Parameters
        ----------
        key : str
            The setting.
        """
        self._overrides.pop(key, None)

    def isModifiable(self, key: str) -> bool:
        """Whether :meth:`set` changes what the session does (never, for the context's keys).

        Parameters
        ----------
        key : str
            The setting.

        Returns
        -------
        bool
        """
        return not key.startswith(("spark.", "sparkish."))


class SparkSession:
    """A PySpark session over a sparkish context; get one with ``SparkSession.builder``.

    Parameters
    ----------
    sparkContext : SparkContext
        The context that runs the session's jobs.
    options : mapping, optional
        Settings given to the builder.
    """

    _active_session: ClassVar[SparkSession | None] = None
    _lock: ClassVar[threading.RLock] = threading.RLock()

    class Builder:
        """Collects settings, then finds or starts the session (``SparkSession.builder``)."""

        def __init__(self) -> None:
            self._options: dict[str, str] = {}

        def config(
            self,
            key: str | None = None,
            value: Any = None,
            conf: SparkConf | None = None,
            *,
            map: Mapping[str, Any] | None = None,
        ) -> SparkSession.Builder:
            """Add settings: one key and value, a whole ``SparkConf``, or a mapping.

            Parameters
            ----------
            key : str, optional
                A setting's name.
            value : object, optional
                Its value (booleans become ``true``/``false``).
            conf : SparkConf, optional
                Every setting of this configuration.
            map : mapping, optional
                Several settings.

            Returns
            -------
            SparkSession.Builder
                This builder.
            """
            items: list[tuple[str, Any]] = []
            if conf is not None:
                items.extend(conf.getAll())
            if map is not None:
                items.extend(map.items())
            if key is not None:
                items.append((key, value))
            for name, setting in items:
                text = str(setting).lower() if isinstance(setting, bool) else str(setting)
                self._options[name] = text
            return self

        def master(self, master: str) -> SparkSession.Builder:
            """Set the master URL (``local[N]``, ``dask://host:port``...).

            Parameters
            ----------
            master : str
                The URL.

            Returns
            -------
            SparkSession.Builder
                This builder.
            """
            return self.config("spark.master", master)

        def appName(self, name: str) -> SparkSession.Builder:
            """Set the application name.

            Parameters
            ----------
            name : str
                The name.

            Returns
            -------
            SparkSession.Builder
                This builder.
            """
            return self.config("spark.app.name", name)

        def enableHiveSupport(self) -> SparkSession.Builder:
            """Accepted and ignored, with a warning: sparkish has no Hive support.

            Returns
            -------
            SparkSession.Builder
                This builder.
            """
            warnings.warn(
                "enableHiveSupport() is ignored: sparkish implements PySpark's RDD API and has "
                "no Hive support",
                UserWarning,
                stacklevel=2,
            )
            return self

        def remote(self, url: str) -> SparkSession.Builder:
            """Not available: sparkish does not speak Spark Connect.

            Parameters
            ----------
            url : str
                A Spark Connect URL.
            """
            raise NotImplementedError(
                f"SparkSession.builder.remote({url!r}): sparkish does not speak Spark Connect; "
                "use .master('dask://host:port') to run on a Dask cluster"
            )

        def getOrCreate(self) -> SparkSession:
            """The active session (with this builder's settings added), or a new one.

            A new session runs on the active ``SparkContext`` if there is one, else on a new
            context made from the builder's settings.

            Returns
            -------
            SparkSession
            """
            with SparkSession._lock:
                session = SparkSession._active_session
                if session is not None and session.is_running():
                    for key, value in self._options.items():
                        session.conf.set(key, value)
                    return session
                conf = SparkConf().setAll(self._options.items())
                context = SparkContext.getOrCreate(conf)
                return SparkSession(context, self._options)

    class _BuilderProperty:
        def __get__(self, instance: object, owner: type) -> SparkSession.Builder:
            return SparkSession.Builder()

    #: A new :class:`Builder` on each access, as in PySpark.
    builder = _BuilderProperty()

    def __init__(self, sparkContext: SparkContext, options: Mapping[str, str] | None = None):
        self._sc = sparkContext
        self._conf = RuntimeConfig(sparkContext)
        for key, value in (options or {}).items():
            self._conf.set(key, value)
        with SparkSession._lock:
            SparkSession._active_session = self

    @classmethod
    def getActiveSession(cls) -> SparkSession | None:
        """The active session, or ``None``."""
        session = cls._active_session
        return session if session is not None and session.is_running() else None

    @classmethod
    def active(cls) -> SparkSession:
        """The active session, or a new one with default settings."""
        return cls.getActiveSession() or cls.builder.getOrCreate()

    def is_running(self) -> bool:
        """Whether the session's context is the active one (it was not stopped)."""
        return SparkContext._active_spark_context is self._sc

    @property
    def sparkContext(self) -> SparkContext:
        """The context that runs this session's jobs."""
        return self._sc

    @property
    def conf(self) -> RuntimeConfig:
        """The session's settings."""
        return self._conf

    @property
    def version(self) -> str:
        """The version of sparkish."""
        return __version__

    @property
    def read(self) -> DataFrameReader:
        """Read files as DataFrames of rows (``spark.read.text(path).rdd``)."""
        return DataFrameReader(self)

    def createDataFrame(
        self, data: RDD[Any] | Iterable[Any], schema: Sequence[str] | None = None
    ) -> DataFrame:
        """A DataFrame of rows from an RDD or a local collection.

        Parameters
        ----------
        data : RDD or iterable
            Rows, tuples, lists or dicts (or a pandas DataFrame).
        schema : list of str, optional
            The column names (default: the fields of the first row or dict, else ``_1``,
            ``_2``...).

        Returns
        -------
        DataFrame

        Examples
        --------
        >>> spark = SparkSession.builder.getOrCreate()
        >>> spark.createDataFrame([{"a": 1}]).collect()
        [Row(a=1)]
        """
        if _is_pandas_frame(data):
            frame: Any = data
            schema = schema or [str(column) for column in frame.columns]
            data = frame.itertuples(index=False, name=None)
        rdd = data if isinstance(data, RDD) else self._sc.parallelize(list(data))
        columns = list(schema) if schema is not None else _column_names(rdd.first())
        return DataFrame(rdd.map(_RowMaker(columns)), columns)

    def range(
        self,
        start: int,
        end: int | None = None,
        step: int = 1,
        numPartitions: int | None = None,
    ) -> DataFrame:
        """A DataFrame with one column ``id`` of ``range(start, end, step)``.

        Parameters
        ----------
        start : int
            The first number (or the end, when ``end`` is omitted).
        end : int, optional
            One past the last number.
        step : int
            The difference between consecutive numbers.
        numPartitions : int, optional
            The number of partitions.

        Returns
        -------
        DataFrame
        """
        rdd = self._sc.range(start, end, step, numPartitions)
        return DataFrame(rdd.map(_RowMaker(["id"])), ["id"])

    def sql(self, sqlQuery: str, *args: Any, **kwargs: Any) -> DataFrame:
        """Not available: sparkish has no SQL engine.

        Parameters
        ----------
        sqlQuery : str
            The query.
        *args, **kwargs
            PySpark's query arguments.
        """
        raise NotImplementedError(
            "SparkSession.sql is not available: sparkish implements PySpark's RDD API, not "
            "Spark SQL"
        )

    def stop(self) -> None:
        """Stop the session and its context."""
        with SparkSession._lock:
            if SparkSession._active_session is self:
                SparkSession._active_session = None
        self._sc.stop()

    def __enter__(self) -> SparkSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SparkSession master={self._sc.master} appName={self._sc.appName}>"


class _RowMaker:
    """Turns a tuple, list, dict or Row into a Row with the given columns."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns

    def __call__(self, record: Any) -> Row:
        if isinstance(record, dict):
            values = [record.get(column) for column in self.columns]
        elif isinstance(record, (tuple, list)):
            values = list(record)
        else:
            values = [record]
        if len(values) != len(self.columns):
            raise ValueError(
                f"createDataFrame: a record has {len(values)} values for the "
                f"{len(self.columns)} columns {self.columns}: {record!r}"
            )
        return Row(*self.columns)(*values)


def _column_names(first: Any) -> list[str]:
    if isinstance(first, dict):
        return [str(key) for key in first]
    if isinstance(first, Row):
        try:
            return list(first.asDict())
        except TypeError:  # a row without field names
            pass
    if isinstance(first, (tuple, list)):
        return [f"_{index}" for index in range(1, len(first) + 1)]
    return ["value"]


def _is_pandas_frame(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "itertuples")
