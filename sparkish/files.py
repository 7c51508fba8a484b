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

import importlib
import os
import shutil
import sys
import threading
from typing import TYPE_CHECKING, Any

import fsspec
from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "ImportPathPlugin",
    "ShipFilesPlugin",
    "SparkFiles",
    "add_to_import_path",
    "read_resource",
    "set_driver_root",
    "ship_files",
]

_WORKER_ROOT_NAME = "sparkish-files"


class SparkFiles:
    """Resolves paths of files added through ``SparkContext.addFile``."""

    _root_directory: str | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        raise NotImplementedError("Do not construct SparkFiles objects")

    @classmethod
    def get(cls, filename: str) -> str:
        """The absolute path of a file added through ``SparkContext.addFile``.

        Parameters
        ----------
        filename : str
            The file's name (its last path component when it was added).

        Returns
        -------
        str
        """
        return os.path.join(cls.getRootDirectory(), filename)

    @classmethod
    def getRootDirectory(cls) -> str:
        """The directory holding the added files in this process."""
        if cls._root_directory is not None:
            return cls._root_directory
        try:
            worker = get_worker()
        except ValueError:
            raise RuntimeError(
                "SparkFiles are only available in a process with an active SparkContext or in "
                "a task"
            ) from None
        return _worker_root(worker)


def _worker_root(worker: Any) -> str:
    root = os.path.join(worker.local_directory, _WORKER_ROOT_NAME)
    os.makedirs(root, mode=0o700, exist_ok=True)
    return root


def _unpack_archive(path: str) -> None:
    """Replace an archive file by a directory of the same name holding its contents."""
    unpacked = f"{path}.unpacked-{os.getpid()}"
    shutil.unpack_archive(path, unpacked)
    os.remove(path)
    os.replace(unpacked, path)


class ShipFilesPlugin(WorkerPlugin):
    """Writes files (relative path -> bytes) into each worker's SparkFiles root."""

    def __init__(self, files: dict[str, bytes], unpack: bool = False) -> None:
        self.files = files
        self.unpack = unpack

    def setup(self, worker: Any) -> None:
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


def add_to_import_path(shipped: str) -> None:
    """Put a shipped ``.py`` file's directory, or a shipped archive, on ``sys.path``."""
    entry = os.path.dirname(shipped) if shipped.endswith(".py") else shipped
    if entry not in sys.path:
        sys.path.insert(1, entry)
    importlib.invalidate_caches()


class ImportPathPlugin(WorkerPlugin):
    """Puts a file shipped with ``addPyFile`` on each worker's import path."""

    def __init__(self, name: str) -> None:
        self.name = name

    def setup(self, worker: Any) -> None:
        add_to_import_path(os.path.join(_worker_root(worker), self.name))


def read_resource(path: str, operation: str, recursive: bool) -> dict[str, bytes]:
    """The files at ``path`` (any fsspec URL), as ``{relative path: content}``."""
    fs, resolved = fsspec.core.url_to_fs(path)
    if not fs.exists(resolved):
        raise FileNotFoundError(f"{operation}: {path} does not exist")
    name = os.path.basename(resolved.rstrip("/"))
    if fs.isdir(resolved):
        if not recursive:
            raise ValueError(f"{operation}: {path} is a directory; pass recursive=True")
        return {
            os.path.join(name, os.path.relpath(child, resolved)): fs.cat_file(child)
            for child in fs.find(resolved)
        }
    return {name: fs.cat_file(resolved)}


def ship_files(
    client: Client, files: dict[str, bytes], plugin_name: str, unpack: bool = False
) -> None:
    """Copy files into the driver's SparkFiles root and install them on every worker."""
    root = SparkFiles.getRootDirectory()
    for relative, content in files.items():
        target = os.path.join(root, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(target):
            shutil.rmtree(target)
        with open(target, "wb") as f:
            f.write(content)
        if unpack:
            _unpack_archive(target)
    client.register_plugin(ShipFilesPlugin(files, unpack), name=plugin_name)


def set_driver_root(directory: str | None, only_under: str | None = None) -> None:
    """Set where ``SparkFiles`` finds added files in the driver (``None``: no context runs).

    With ``only_under``, change it only if the current root is inside that directory (a
    context stopping must not clear the root of a newer one).
    """
    current = SparkFiles._root_directory  # noqa: SLF001 - the class's own module
    if only_under is not None and not (current and current.startswith(only_under)):
        return
    SparkFiles._root_directory = directory  # noqa: SLF001 - the class's own module
