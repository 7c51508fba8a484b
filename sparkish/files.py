"""``SparkFiles``: where files added with ``SparkContext.addFile`` are found.

In the driver the files are copies under a temporary directory of the context; on a worker they
are written into the worker's local directory by a worker plugin (so workers that start later
get them too).

>>> import os, tempfile
>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> path = os.path.join(tempfile.mkdtemp(), "greeting.txt")
>>> with open(path, "w") as f:
...     _ = f.write("hello")
>>> sc.addFile(path)
>>> def read(_):
...     with open(SparkFiles.get("greeting.txt")) as f:
...         return f.read()
>>> sc.parallelize([0]).map(read).collect()
['hello']
"""

from __future__ import annotations

import os
import shutil
import threading

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["SparkFiles"]

_WORKER_ROOT_NAME = "sparkish-files"


class SparkFiles:
    """Resolves paths of files added through ``SparkContext.addFile``."""

    _root_directory: str | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        raise NotImplementedError("Do not construct SparkFiles objects")

    @classmethod
    def get(cls, filename: str) -> str:
        """The absolute path of a file added through ``SparkContext.addFile``."""
        return os.path.join(cls.getRootDirectory(), filename)

    @classmethod
    def getRootDirectory(cls) -> str:
        """The directory holding the added files in this process."""
        if cls._root_directory is not None:
            return cls._root_directory
        try:
            from distributed import get_worker

            worker = get_worker()
        except ValueError:
            raise RuntimeError(
                "SparkFiles are only available in a process with an active SparkContext or in "
                "a task"
            ) from None
        return _worker_root(worker)


def _worker_root(worker) -> str:
    root = os.path.join(worker.local_directory, _WORKER_ROOT_NAME)
    os.makedirs(root, exist_ok=True)
    return root


def _unpack_archive(path: str) -> None:
    """Replace an archive file by a directory of the same name holding its contents."""
    import shutil

    unpacked = f"{path}.unpacked-{os.getpid()}"
    shutil.unpack_archive(path, unpacked)
    os.remove(path)
    os.replace(unpacked, path)


class ShipFilesPlugin(WorkerPlugin):
    """Writes files (relative path -> bytes) into each worker's SparkFiles root."""

    def __init__(self, files: dict[str, bytes], unpack: bool = False) -> None:
        self.files = files
        self.unpack = unpack

    def setup(self, worker) -> None:
        root = _worker_root(worker)
        for relative, content in self.files.items():
            target = os.path.join(root, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            temporary = f"{target}.{os.getpid()}.tmp"
            with open(temporary, "wb") as f:
                f.write(content)
            if self.unpack:
                if os.path.isdir(target):
                    shutil.rmtree(target)
                os.replace(temporary, target)
                _unpack_archive(target)
            else:
                os.replace(temporary, target)
