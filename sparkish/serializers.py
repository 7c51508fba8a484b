"""The serializer classes PySpark programs name, working as serializers of single objects.

PySpark lets a program choose how records travel (``SparkContext(serializer=...)``). sparkish
always moves a partition as one pickle (see :mod:`sparkish.serialization`), so a context
accepts these and ignores them; used on their own, ``dumps``/``loads`` do what their names say.

Examples
--------
>>> MarshalSerializer().loads(MarshalSerializer().dumps([1, "a"]))
[1, 'a']
>>> CloudPickleSerializer().loads(CloudPickleSerializer().dumps(lambda x: x + 1))(1)
2
"""

from __future__ import annotations

import marshal
import pickle
from typing import Any

import cloudpickle

__all__ = [
    "AutoBatchedSerializer",
    "BatchedSerializer",
    "CPickleSerializer",
    "CloudPickleSerializer",
    "MarshalSerializer",
    "NoOpSerializer",
    "PickleSerializer",
    "Serializer",
    "UTF8Deserializer",
]


class Serializer:
    """Turns one object into bytes and back."""

    def dumps(self, obj: Any) -> bytes:
        """The bytes of ``obj``.

        Parameters
        ----------
        obj : object
            What to serialize.

        Returns
        -------
        bytes
        """
        raise NotImplementedError

    def loads(self, obj: bytes) -> Any:
        """The object serialized in ``obj``.

        Parameters
        ----------
        obj : bytes
            What :meth:`dumps` returned.

        Returns
        -------
        object
        """
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PickleSerializer(Serializer):
    """The standard library's pickle (highest protocol)."""

    def dumps(self, obj: Any) -> bytes:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)

    def loads(self, obj: bytes) -> Any:
        return pickle.loads(obj)


#: PySpark's name for the standard pickle serializer.
CPickleSerializer = PickleSerializer


class CloudPickleSerializer(PickleSerializer):
    """cloudpickle: also lambdas, local functions and classes of ``__main__``."""

    def dumps(self, obj: Any) -> bytes:
        return cloudpickle.dumps(obj, pickle.HIGHEST_PROTOCOL)


class MarshalSerializer(Serializer):
    """The standard library's marshal (builtin types only, fast)."""

    def dumps(self, obj: Any) -> bytes:
        return marshal.dumps(obj)

    def loads(self, obj: bytes) -> Any:
        return marshal.loads(obj)


class NoOpSerializer(Serializer):
    """Bytes stay bytes."""

    def dumps(self, obj: Any) -> bytes:
        return bytes(obj)

    def loads(self, obj: bytes) -> Any:
        return obj


class UTF8Deserializer(Serializer):
    """UTF-8 text."""

    def __init__(self, use_unicode: bool = True) -> None:
        self.use_unicode = use_unicode

    def dumps(self, obj: Any) -> bytes:
        return obj.encode("utf-8") if isinstance(obj, str) else bytes(obj)

    def loads(self, obj: bytes) -> Any:
        return obj.decode("utf-8") if self.use_unicode else obj


class BatchedSerializer(Serializer):
    """Another serializer applied to lists of records (the batching is sparkish's own).

    Parameters
    ----------
    serializer : Serializer
        The serializer of each batch.
    batchSize : int
        Records per batch in PySpark.
    """

    def __init__(self, serializer: Serializer, batchSize: int = 0) -> None:
        self.serializer = serializer
        self.batchSize = batchSize

    def dumps(self, obj: Any) -> bytes:
        """The bytes of ``obj``, made by the wrapped serializer.

        Parameters
        ----------
        obj : object
            What to serialize.

        Returns
        -------
        bytes
        """
        return self.serializer.dumps(obj)

    def loads(self, obj: bytes) -> Any:
        """The object in ``obj``, read by the wrapped serializer.

        Parameters
        ----------
        obj : bytes
            What :meth:`dumps` returned.

        Returns
        -------
        object
        """
        return self.serializer.loads(obj)


class AutoBatchedSerializer(BatchedSerializer):
    """A :class:`BatchedSerializer` whose batch size PySpark adapts.

    Parameters
    ----------
    serializer : Serializer
        The serializer of each batch.
    bestSize : int
        PySpark's target batch size in bytes.
    """

    def __init__(self, serializer: Serializer, bestSize: int = 1 << 16) -> None:
        super().__init__(serializer, 0)
        self.bestSize = bestSize
