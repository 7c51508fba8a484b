"""The on-disk format of ``saveAsPickleFile`` / ``pickleFile`` part files.

sparkish's own format, **not** Hadoop SequenceFile (so files written by PySpark's
``saveAsPickleFile`` cannot be read by sparkish's ``pickleFile``, nor the other way round)::

    file  := MAGIC frame*
    MAGIC := b"SPKPKL" 0x00 0x01        (8 bytes: name, NUL, format version 1)
    frame := length:uint64-LE  payload  (payload: one pickled ``list`` of records)

Records are pickled with the standard library ``pickle`` (highest protocol); a batch that plain
``pickle`` cannot handle (lambdas, classes defined in ``__main__``) falls back to ``cloudpickle``,
whose output plain ``pickle.loads`` reads as long as ``cloudpickle`` is installed.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any

import cloudpickle

MAGIC = b"SPKPKL\x00\x01"
FRAME_HEADER = struct.Struct("<Q")
# Hadoop SequenceFiles (what PySpark's saveAsPickleFile writes) start with these bytes.
SEQUENCE_FILE_MAGIC = b"SEQ"


def dumps_batch(records: list[Any]) -> bytes:
    """Pickle one batch of records into a frame payload.

    >>> import pickle
    >>> pickle.loads(dumps_batch([1, "two", None]))
    [1, 'two', None]
    """
    try:
        return pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return cloudpickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)


def loads_batch(payload: bytes, url: str) -> list[Any]:
    """Unpickle one frame payload written by :func:`dumps_batch`; errors name the file.

    >>> loads_batch(dumps_batch([("a", 1)]), "file:/out/part-00000")
    [('a', 1)]
    """
    try:
        batch = pickle.loads(payload)
    except Exception as exc:
        raise ValueError(f"pickleFile: cannot unpickle a batch in {url}: {exc!r}") from exc
    if not isinstance(batch, list):
        raise ValueError(f"pickleFile: {url} holds a {type(batch).__name__} frame, expected a list")
    return batch
