"""Run unchanged PySpark programs on sparkish: ``import pyspark`` imports sparkish.

After :func:`install`, the modules an RDD program imports from PySpark (``pyspark``,
``pyspark.rdd``, ``pyspark.sql``, ``pyspark.sql.types``, ``pyspark.serializers``...) resolve to
sparkish's implementations. Modules of the parts of Spark that sparkish does not implement
(``pyspark.ml``, ``pyspark.streaming``, ``pyspark.pandas``, ``pyspark.sql.functions``...) raise
an ``ImportError`` that says what sparkish supports. ``sparkish-submit job.py`` installs the
aliases before it runs the program. To run ``python job.py`` unchanged, put the directory that
``python -m sparkish.compat`` prints first on ``PYTHONPATH``
(``PYTHONPATH=$(python -m sparkish.compat) python job.py``): its ``pyspark`` package installs
the aliases. A program may also call ``sparkish.compat.install()`` itself.

Examples
--------
>>> install()
>>> from pyspark import SparkContext
>>> from pyspark.sql import SparkSession
>>> SparkContext.__module__, SparkSession.__module__
('sparkish.context', 'sparkish.sql.session')
>>> uninstall()
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

from . import (
    Accumulator,
    AccumulatorParam,
    Broadcast,
    InheritableThread,
    Partitioner,
    ResultIterable,
    Row,
    SparkConf,
    SparkContext,
    SparkFiles,
    StatCounter,
    StatusTracker,
    StorageLevel,
    TaskContext,
    inheritable_thread_target,
    serializers,
)
from .accumulators import AddingAccumulatorParam
from .conf import SparkConf as _SparkConf
from .execution.runtime import client_hooks
from .rdd import RDD, BoundedFloat, RDDBarrier, portable_hash
from .sql import DataFrame, DataFrameReader, SparkSession
from .status import SparkJobInfo, SparkStageInfo
from .taskcontext import BarrierTaskContext, BarrierTaskInfo

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "PYSPARK_VERSION",
    "SUPPORTED_MODULES",
    "PySparkAliasPlugin",
    "install",
    "installed",
    "shim_directory",
    "uninstall",
]

#: The PySpark release whose RDD API sparkish follows (``pyspark.__version__`` after install).
PYSPARK_VERSION = "4.3.0"

_ACCUMULATORS = {
    "Accumulator": Accumulator,
    "AccumulatorParam": AccumulatorParam,
    "AddingAccumulatorParam": AddingAccumulatorParam,
}
_CONTEXT = {"SparkContext": SparkContext}
_RDD = {
    "RDD": RDD,
    "Partitioner": Partitioner,
    "portable_hash": portable_hash,
    "BoundedFloat": BoundedFloat,
    "ResultIterable": ResultIterable,
    "RDDBarrier": RDDBarrier,
}
_TASK_CONTEXT = {
    "TaskContext": TaskContext,
    "BarrierTaskContext": BarrierTaskContext,
    "BarrierTaskInfo": BarrierTaskInfo,
}
_STATUS = {
    "StatusTracker": StatusTracker,
    "SparkJobInfo": SparkJobInfo,
    "SparkStageInfo": SparkStageInfo,
}
_SERIALIZERS = {name: getattr(serializers, name) for name in serializers.__all__}
_SQL = {
    "SparkSession": SparkSession,
    "Row": Row,
    "DataFrame": DataFrame,
    "DataFrameReader": DataFrameReader,
}

#: Each supported PySpark module and the names it offers.
SUPPORTED_MODULES: dict[str, dict[str, Any]] = {
    "pyspark": {
        **_ACCUMULATORS,
        **_CONTEXT,
        **_STATUS,
        "SparkConf": _SparkConf,
        "SparkFiles": SparkFiles,
        "RDD": RDD,
        "StorageLevel": StorageLevel,
        "Broadcast": Broadcast,
        **_TASK_CONTEXT,
        "RDDBarrier": RDDBarrier,
        "InheritableThread": InheritableThread,
        "inheritable_thread_target": inheritable_thread_target,
        "MarshalSerializer": serializers.MarshalSerializer,
        "CPickleSerializer": serializers.CPickleSerializer,
        "__version__": PYSPARK_VERSION,
    },
    "pyspark.rdd": _RDD,
    "pyspark.core": {},
    "pyspark.core.rdd": _RDD,
    "pyspark.context": _CONTEXT,
    "pyspark.core.context": _CONTEXT,
    "pyspark.conf": {"SparkConf": SparkConf},
    "pyspark.broadcast": {"Broadcast": Broadcast},
    "pyspark.core.broadcast": {"Broadcast": Broadcast},
    "pyspark.files": {"SparkFiles": SparkFiles},
    "pyspark.core.files": {"SparkFiles": SparkFiles},
    "pyspark.status": _STATUS,
    "pyspark.core.status": _STATUS,
    "pyspark.accumulators": _ACCUMULATORS,
    "pyspark.resultiterable": {"ResultIterable": ResultIterable},
    "pyspark.storagelevel": {"StorageLevel": StorageLevel},
    "pyspark.statcounter": {"StatCounter": StatCounter},
    "pyspark.taskcontext": _TASK_CONTEXT,
    "pyspark.serializers": _SERIALIZERS,
    "pyspark.util": {
        "InheritableThread": InheritableThread,
        "inheritable_thread_target": inheritable_thread_target,
    },
    "pyspark.sql": _SQL,
    "pyspark.sql.session": {"SparkSession": SparkSession},
    "pyspark.sql.types": {"Row": Row},
}

_PACKAGES = {"pyspark", "pyspark.core", "pyspark.sql"}


def _unsupported(fullname: str) -> ImportError:
    supported = ", ".join(sorted(SUPPORTED_MODULES))
    return ImportError(
        f"{fullname} is not available in sparkish, which implements PySpark's RDD API (plus "
        f"SparkSession, Row and spark.read from pyspark.sql). Supported modules: {supported}",
        name=fullname,
    )


def _missing_name(module_name: str) -> Any:
    """The module ``__getattr__`` (PEP 562) of an alias: names sparkish lacks are errors that
    say what the alias offers."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"module {module_name!r} has no attribute {name!r} in sparkish, which implements "
            f"PySpark's RDD API; available: {sorted(SUPPORTED_MODULES[module_name])}"
        )

    return __getattr__


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``pyspark`` and its submodules among sparkish's aliases."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pyspark" and not fullname.startswith("pyspark."):
            return None
        if fullname not in SUPPORTED_MODULES:
            raise _unsupported(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname in _PACKAGES)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__dict__.update(SUPPORTED_MODULES[spec.name])
        module.__dict__["__getattr__"] = _missing_name(spec.name)
        module.__dict__["sparkish_alias"] = True
        if spec.name in _PACKAGES:
            module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: :meth:`create_module` filled the module."""


_FINDER = _AliasFinder()


class PySparkAliasPlugin(WorkerPlugin):
    """Installs the aliases on a worker too, so tasks that name a ``pyspark`` module (a
    function pickled with a reference to the module ``pyspark``) get sparkish's."""

    name = "sparkish-pyspark-alias"
    idempotent = True

    def setup(self, worker: Any) -> None:
        install()


def _install_on_workers(client: Client) -> None:
    client.register_plugin(PySparkAliasPlugin())


def install() -> None:
    """Make ``import pyspark`` (and its supported submodules) import sparkish.

    PySpark modules imported before are set aside (and restored by :func:`uninstall`), so
    later imports get sparkish's. The workers of running and future contexts get the aliases
    too. Calling it again does nothing.
    """
    if _FINDER in sys.meta_path:
        return
    sys.meta_path.insert(0, _FINDER)
    for name in _pyspark_module_names():
        module = sys.modules.pop(name)
        if not getattr(module, "sparkish_shim", False):
            _set_aside[name] = module
    client_hooks.append(_install_on_workers)
    context = SparkContext._active_spark_context
    if context is not None:
        _install_on_workers(context.dask_client)


def uninstall() -> None:
    """Undo :func:`install` in this process (workers keep their aliases)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    if _install_on_workers in client_hooks:
        client_hooks.remove(_install_on_workers)
    for name in _pyspark_module_names():
        if getattr(sys.modules[name], "sparkish_alias", False):
            del sys.modules[name]
    sys.modules.update(_set_aside)
    _set_aside.clear()


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return _FINDER in sys.meta_path


def shim_directory() -> str:
    """A directory whose ``pyspark`` package hands over to sparkish: with it first on
    ``PYTHONPATH``, ``python job.py`` runs an unchanged PySpark program on sparkish."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pyspark_shim")


#: PySpark's own modules imported before :func:`install`.
_set_aside: dict[str, types.ModuleType] = {}


def _pyspark_module_names() -> list[str]:
    return [name for name in sys.modules if name == "pyspark" or name.startswith("pyspark.")]


if __name__ == "__main__":
    print(shim_directory())
