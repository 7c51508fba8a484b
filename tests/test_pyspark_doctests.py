"""PySpark's own docstring examples, run against a sparkish context.

The examples are read from the installed ``pyspark`` package (``pyspark/core/rdd.py`` and
``pyspark/core/context.py``) and executed with ``sc`` bound to a sparkish ``SparkContext`` and
PySpark's public names replaced by sparkish's. Examples that exercise features outside
sparkish's scope are listed in ``OUT_OF_SCOPE`` with the reason (also given in the README).
"""

from __future__ import annotations

import builtins
import doctest
import importlib
import sys
import tempfile
import types

import pytest

pyspark_rdd = pytest.importorskip("pyspark.core.rdd", reason="pyspark is not installed")
pyspark_context = pytest.importorskip("pyspark.core.context", reason="pyspark is not installed")

import sparkish  # noqa: E402
from sparkish.shuffle.hashing import portable_hash  # noqa: E402

OUT_OF_SCOPE = {
    # name of the docstring: reason
    "RDD.saveAsNewAPIHadoopDataset": "Hadoop OutputFormats need a JVM",
    "RDD.saveAsNewAPIHadoopFile": "Hadoop OutputFormats need a JVM",
    "RDD.saveAsHadoopDataset": "Hadoop OutputFormats need a JVM",
    "RDD.saveAsHadoopFile": "Hadoop OutputFormats need a JVM",
    "RDD.saveAsSequenceFile": "Hadoop SequenceFiles need a JVM",
    "SparkContext.sequenceFile": "Hadoop SequenceFiles need a JVM",
    "SparkContext.newAPIHadoopFile": "Hadoop InputFormats need a JVM",
    "SparkContext.newAPIHadoopRDD": "Hadoop InputFormats need a JVM",
    "SparkContext.hadoopFile": "Hadoop InputFormats need a JVM",
    "SparkContext.hadoopRDD": "Hadoop InputFormats need a JVM",
    "RDD.toDF": "sparkish has no DataFrame API",
    "RDD.barrier": "barrier execution mode is not supported",
    "RDD.withResources": "resource profiles are not supported",
    "RDD.getResourceProfile": "resource profiles are not supported",
    "SparkContext.resources": "resource profiles are not supported",
    "SparkContext.show_profiles": "the Python profiler is not supported (use the Dask dashboard)",
    "SparkContext.dump_profiles": "the Python profiler is not supported (use the Dask dashboard)",
    "SparkContext.getOrCreate": "the example compares with PySpark's own SparkContext class",
}


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = []
    for module, owner in (
        (pyspark_rdd, pyspark_rdd.RDD),
        (pyspark_context, pyspark_context.SparkContext),
    ):
        for test in finder.find(owner, owner.__name__, module=module, globs={}):
            short = test.name.split(".", 1)[-1] if "." in test.name else test.name
            name = f"{owner.__name__}.{short.split('.')[-1]}" if short != owner.__name__ else short
            found.append((name, test))
    return sorted(found, key=lambda item: item[0])


EXAMPLES = _examples()


def _globals(sc) -> dict:
    namespace = dict(vars(pyspark_rdd))
    namespace.update(
        {
            "sc": sc,
            "SparkContext": sparkish.SparkContext,
            "SparkConf": sparkish.SparkConf,
            "SparkFiles": sparkish.SparkFiles,
            "RDD": sparkish.RDD,
            "StorageLevel": sparkish.StorageLevel,
            "StatCounter": sparkish.StatCounter,
            "ResultIterable": sparkish.ResultIterable,
            "Partitioner": sparkish.Partitioner,
            "portable_hash": portable_hash,
            "AccumulatorParam": sparkish.AccumulatorParam,
            "TaskContext": sparkish.TaskContext,
        }
    )
    return namespace


def _pyspark_alias(name: str) -> types.ModuleType:
    """A stand-in for ``pyspark`` (and its submodules) so that ``from pyspark import X`` inside
    an example imports sparkish's X: exactly the one-import swap a user makes."""
    alias = types.ModuleType(name)
    for public in sparkish.__all__:
        setattr(alias, public, getattr(sparkish, public))
    return alias


_ALIASED_MODULES = ("pyspark", "pyspark.core.context", "pyspark.core.rdd", "pyspark.context")


def _accept_jvm_exceptions(test: doctest.DocTest) -> None:
    """Examples expecting ``py4j.protocol.Py4JJavaError`` (a JVM exception wrapped by py4j)
    accept the Python exception sparkish raises for the same mistake instead."""
    for example in test.examples:
        if example.exc_msg and "Py4JJavaError" in example.want:
            example.exc_msg = "...\n"


class _SubclassAwareChecker(doctest.OutputChecker):
    """Accepts an exception whose class is a subclass of the expected built-in one, with the
    same message: sparkish raises e.g. ``EmptyRDDError``, a ``ValueError``, where PySpark raises
    a plain ``ValueError`` with that message."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        expected, _, expected_message = want.partition(": ")
        actual, _, actual_message = got.partition(": ")
        expected_class = getattr(builtins, expected, None)
        module, _, name = actual.rpartition(".")
        try:
            actual_class = getattr(importlib.import_module(module), name) if module else None
        except ImportError:
            return False
        return (
            isinstance(expected_class, type)
            and isinstance(actual_class, type)
            and issubclass(actual_class, expected_class)
            and super().check_output(expected_message, actual_message, optionflags)
        )


@pytest.mark.parametrize("name,test", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_pyspark_docstring_example(name, test, sc, monkeypatch):
    if name in OUT_OF_SCOPE:
        pytest.xfail(OUT_OF_SCOPE[name])
    for module in _ALIASED_MODULES:
        monkeypatch.setitem(sys.modules, module, _pyspark_alias(module))
    _accept_jvm_exceptions(test)
    if name == "SparkContext":
        # This example creates the process's first context itself.
        sc.stop()
    with tempfile.TemporaryDirectory() as checkpoints:
        sc.setCheckpointDir(checkpoints)
        test.globs = _globals(sc)
        runner = doctest.DocTestRunner(
            checker=_SubclassAwareChecker(), optionflags=doctest.ELLIPSIS
        )
        output: list[str] = []
        result = runner.run(test, out=output.append)
    if name == "SparkContext" and sparkish.SparkContext._active_spark_context is not None:
        sparkish.SparkContext._active_spark_context.stop()
    assert result.failed == 0, "".join(output)
