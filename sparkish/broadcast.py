"""Broadcast variables: a read-only value shipped once to every worker process.

The value is pickled once in the driver and installed on the workers by a ``distributed``
worker plugin, so every current worker gets it once, and so does any worker that joins or
restarts later. Tasks that capture the broadcast only carry its id.

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> lookup = sc.broadcast({"a": 1, "b": 2})
>>> sc.parallelize(["a", "b", "a"]).map(lambda k: lookup.value[k]).collect()
[1, 2, 1]
>>> lookup.destroy()
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from .serialization import dumps

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")

__all__ = ["Broadcast", "shipping_broadcasts"]

# Worker side: broadcast key -> pickled payload or, once used, the loaded value.
_worker_payloads: dict[str, bytes] = {}
_worker_values: dict[str, Any] = {}
_worker_lock = threading.Lock()


class _Collector(threading.local):
    """The broadcasts pickled in this thread, as the functions that ship them."""

    def __init__(self) -> None:
        self.used: dict[str, Callable[[], None]] | None = None


_collector = _Collector()


@contextmanager
def shipping_broadcasts() -> Iterator[None]:
    """Install on the workers every broadcast variable pickled inside the block.

    Tasks unpickling what was pickled then find the values. Nothing is installed if the block
    raises. Each broadcast is shipped once (and again after ``unpersist``).
    """
    previous = _collector.used
    used: dict[str, Callable[[], None]] = {}
    _collector.used = used
    try:
        yield
    finally:
        _collector.used = previous
    for ship in used.values():
        ship()


class _BroadcastPlugin(WorkerPlugin):
    """Installs one broadcast payload on every worker (and on workers that join later)."""

    def __init__(self, key: str, payload: bytes) -> None:
        self.key = key
        self.payload = payload

    def setup(self, worker) -> None:
        with _worker_lock:
            _worker_payloads[self.key] = self.payload
            _worker_values.pop(self.key, None)

    def teardown(self, worker) -> None:
        with _worker_lock:
            _worker_payloads.pop(self.key, None)
            _worker_values.pop(self.key, None)


def _load_on_worker(key: str) -> Any:
    with _worker_lock:
        if key in _worker_values:
            return _worker_values[key]
        if key not in _worker_payloads:
            raise RuntimeError(
                f"broadcast {key} is not available on this worker: it was destroyed or "
                "unpersisted while a job was using it"
            )
        value = pickle.loads(_worker_payloads[key])
        _worker_values[key] = value
        return value


class Broadcast(Generic[T]):
    """A read-only value available on every worker; create it with ``SparkContext.broadcast``.

    Parameters
    ----------
    client : distributed.Client, optional
        The client that installs the value on the workers (``None`` on a worker).
    value : object, optional
        The value, pickled once now.
    key : str
        The broadcast's id, unique per application.
    registry : dict, optional
        Where the driver keeps its live broadcasts (this one is added, and removed by
        :meth:`destroy`).

    Examples
    --------
    >>> from sparkish import SparkContext
    >>> sc = SparkContext.getOrCreate()
    >>> b = sc.broadcast([1, 2, 3])
    >>> b.value
    [1, 2, 3]
    >>> sc.parallelize([0, 0]).flatMap(lambda x: b.value).collect()
    [1, 2, 3, 1, 2, 3]
    >>> b.unpersist()
    >>> sc.parallelize([0]).map(lambda x: len(b.value)).collect()
    [3]
    >>> b.destroy()
    """

    def __init__(
        self,
        client: Client | None = None,
        value: T | None = None,
        *,
        key: str = "",
        registry: MutableMapping[str, Broadcast] | None = None,
    ) -> None:
        self._client = client
        self._registry = registry
        self._key = key
        self._value = value
        self._driver_side = client is not None
        self._payload: bytes | None = dumps(value) if client is not None else None
        if registry is not None:
            registry[key] = self
        self._shipped = False
        self._destroyed = False
        self._lock = threading.Lock()

    @property
    def value(self) -> T:
        """The broadcast value (in the driver, the original object)."""
        if self._driver_side:
            if self._destroyed:
                raise RuntimeError("Attempted to use broadcast variable after it was destroyed")
            return self._value  # type: ignore[return-value]
        return _load_on_worker(self._key)

    def __reduce__(self):
        if self._destroyed:
            raise RuntimeError(
                f"Attempted to use broadcast variable {self._key} after it was destroyed"
            )
        if _collector.used is not None:
            _collector.used[self._key] = self._ensure_shipped
        return (_worker_broadcast, (self._key,))

    def _ensure_shipped(self) -> None:
        """Install the value on the workers if it is not there (first use, or after unpersist)."""
        with self._lock:
            if self._shipped:
                return
            if self._destroyed:
                raise RuntimeError("Attempted to use broadcast variable after it was destroyed")
            assert self._client is not None and self._payload is not None
            self._client.register_plugin(_BroadcastPlugin(self._key, self._payload), name=self._key)
            self._shipped = True

    def unpersist(self, blocking: bool = False) -> None:
        """Delete the copies on the workers; a later use ships the value again.

        Parameters
        ----------
        blocking : bool
            Accepted for compatibility; the copies are deleted at once.
        """
        self._require_driver("unpersist")
        with self._lock:
            if self._shipped:
                self._shipped = False
                self._remove_from_workers()

    def destroy(self, blocking: bool = False) -> None:
        """Delete the value everywhere; the broadcast cannot be used afterwards.

        Parameters
        ----------
        blocking : bool
            Accepted for compatibility; the copies are deleted at once.
        """
        self._require_driver("destroy")
        self.unpersist(blocking)
        with self._lock:
            self._destroyed = True
            self._payload = None
            self._value = None
        if self._registry is not None:
            self._registry.pop(self._key, None)

    def dump(self, value: T, f: IO[bytes]) -> None:
        """Pickle a value into an open binary file.

        Parameters
        ----------
        value : object
            The value.
        f : binary file
            Where to write it.
        """
        f.write(dumps(value))

    def load(self, file: IO[bytes]) -> T:
        """Unpickle a value written by :meth:`dump`.

        Parameters
        ----------
        file : binary file
            Where to read it from.

        Returns
        -------
        object
        """
        return pickle.load(file)

    def load_from_path(self, path: str) -> T:
        """Unpickle a value written by :meth:`dump` to a file.

        Parameters
        ----------
        path : str
            The file's path.

        Returns
        -------
        object
        """
        with open(path, "rb") as f:
            return self.load(f)

    def _require_driver(self, operation: str) -> None:
        if not self._driver_side:
            raise RuntimeError(f"Broadcast can only be {operation}ed in the driver")

    def _remove_from_workers(self) -> None:
        client = self._client
        if client is None or client.status != "running":
            return
        try:
            client.unregister_worker_plugin(self._key)
        except ValueError:
            pass  # never registered

    def __repr__(self) -> str:
        return f"<Broadcast {self._key}>"


def _worker_broadcast(key: str) -> Broadcast:
    broadcast: Broadcast = Broadcast(key=key)
    return broadcast
