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
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from distributed.diagnostics.plugin import WorkerPlugin

from ._serialize import dumps

if TYPE_CHECKING:
    from .context import SparkContext

T = TypeVar("T")

__all__ = ["Broadcast"]

# Worker side: broadcast key -> pickled payload or, once used, the loaded value.
_worker_payloads: dict[str, bytes] = {}
_worker_values: dict[str, Any] = {}
_worker_lock = threading.Lock()


class _Collector(threading.local):
    def __init__(self) -> None:
        self.used: set[Broadcast] | None = None


_collector = _Collector()


def collect_used_broadcasts(function, *args):
    """Call ``function(*args)`` (a pickling call) and return ``(result, broadcasts it pickled)``."""
    previous = _collector.used
    _collector.used = set()
    try:
        result = function(*args)
        return result, _collector.used
    finally:
        _collector.used = previous


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
        self, sc: SparkContext | None = None, value: T | None = None, *, key: str = ""
    ) -> None:
        self._sc = sc
        self._key = key
        self._value = value
        self._driver_side = sc is not None
        self._payload: bytes | None = dumps(value) if sc is not None else None
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
            _collector.used.add(self)
        return (_worker_broadcast, (self._key,))

    def _ensure_shipped(self) -> None:
        """Install the value on the workers if it is not there (first use, or after unpersist)."""
        with self._lock:
            if self._shipped:
                return
            if self._destroyed:
                raise RuntimeError("Attempted to use broadcast variable after it was destroyed")
            assert self._sc is not None and self._payload is not None
            self._sc._client.register_plugin(
                _BroadcastPlugin(self._key, self._payload), name=self._key
            )
            self._shipped = True

    def unpersist(self, blocking: bool = False) -> None:
        """Delete the copies on the workers; a later use ships the value again."""
        self._require_driver("unpersist")
        with self._lock:
            if self._shipped:
                self._shipped = False
                self._remove_from_workers()

    def destroy(self, blocking: bool = False) -> None:
        """Delete the value everywhere; the broadcast cannot be used afterwards."""
        self._require_driver("destroy")
        self.unpersist(blocking)
        with self._lock:
            self._destroyed = True
            self._payload = None
            self._value = None
        if self._sc is not None:
            self._sc._broadcasts.pop(self._key, None)

    def dump(self, value: T, f: IO[bytes]) -> None:
        """Pickle ``value`` into the open binary file ``f``."""
        f.write(dumps(value))

    def load(self, file: IO[bytes]) -> T:
        """Unpickle a value written by :meth:`dump`."""
        return pickle.load(file)

    def load_from_path(self, path: str) -> T:
        with open(path, "rb") as f:
            return self.load(f)

    def _require_driver(self, operation: str) -> None:
        if not self._driver_side:
            raise RuntimeError(f"Broadcast can only be {operation}ed in the driver")

    def _remove_from_workers(self) -> None:
        client = self._sc._client if self._sc is not None else None
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
