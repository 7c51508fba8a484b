"""PySpark's own docstring examples, run against a sparkish context.

The examples are read from the installed ``pyspark`` package (its RDD-side modules) and executed
with ``sc`` bound to a sparkish ``SparkContext``, ``spark`` to a sparkish ``SparkSession``, and
``import pyspark`` resolving to sparkish (``sparkish.compat.install()``, what ``sparkish-submit``
does). Examples that exercise features outside sparkish's scope are listed in ``OUT_OF_SCOPE``
with the reason (also given in the README).
"""

from __future__ import annotations

import builtins
import doctest
import importlib
import re
import tempfile

import pytest

pyspark_rdd = pytest.importorskip("pyspark.core.rdd", reason="pyspark is not installed")
pyspark_context = pytest.importorskip("pyspark.core.context", reason="pyspark is not installed")

import pyspark.accumulators  # noqa: E402
import pyspark.conf  # noqa: E402
import pyspark.core.broadcast  # noqa: E402
import pyspark.core.files  # noqa: E402
import pyspark.resultiterable  # noqa: E402
import pyspark.statcounter  # noqa: E402
import pyspark.storagelevel  # noqa: E402
import pyspark.taskcontext  # noqa: E402

import sparkish  # noqa: E402
from sparkish import compat  # noqa: E402
from sparkish.shuffle.hashing import portable_hash  # noqa: E402
from sparkish.sql import SparkSession  # noqa: E402

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
    "RDD.toDF": "sparkish's toDF returns a Dask DataFrame, not a Spark DataFrame",
    "RDD.withResources": "resource profiles are not supported",
    "RDD.getResourceProfile": "resource profiles are not supported",
    "SparkContext.resources": "resource profiles are not supported",
    "SparkContext.show_profiles": "the Python profiler is not supported (use the Dask dashboard)",
    "SparkContext.dump_profiles": "the Python profiler is not supported (use the Dask dashboard)",
    "SparkContext.getOrCreate": "the example compares with PySpark's own SparkContext class",
    "StatCounter.asDict": "PySpark's example expects Python 2 output ('4L') and fails there too",
}

#: (module, owner class or None for the module) whose docstrings are run.
SOURCES = [
    (pyspark_rdd, pyspark_rdd.RDD),
    (pyspark_rdd, pyspark_rdd.RDDBarrier),
    (pyspark_context, pyspark_context.SparkContext),
    (pyspark.conf, None),
    (pyspark.accumulators, None),
    (pyspark.core.broadcast, None),
    (pyspark.core.files, None),
    (pyspark.resultiterable, None),
    (pyspark.statcounter, None),
    (pyspark.storagelevel, None),
    (pyspark.taskcontext, None),
]


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {}
    for module, owner in SOURCES:
        target = owner if owner is not None else module
        for test in finder.find(target, module=module, globs={}):
            parts = test.name.split(".")
            name = ".".join(parts[-2:]) if len(parts) > 1 else parts[0]
            if owner is not None and len(parts) > 1:
                name = f"{owner.__name__}.{parts[-1]}"
            found.setdefault(name, test)
    return sorted(found.items())


EXAMPLES = _examples()


def _globals(sc) -> dict:
    namespace = dict(vars(pyspark_rdd))
    namespace.update(
        {
            "sc": sc,
            "spark": SparkSession(sc),
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


#: Examples from the first that uses one of these on are not run (the ones before are):
#: Spark SQL's UDFs, and the JVM's copy of a SparkConf.
OUT_OF_SCOPE_FROM = ("pyspark.sql.functions", "._jconf")


def _drop_out_of_scope_examples(test: doctest.DocTest) -> None:
    for index, example in enumerate(test.examples):
        if any(marker in example.source for marker in OUT_OF_SCOPE_FROM):
            del test.examples[index:]
            return


def _accept_jvm_exceptions(test: doctest.DocTest) -> None:
    """Examples expecting ``py4j.protocol.Py4JJavaError`` (a JVM exception wrapped by py4j)
    accept the Python exception sparkish raises for the same mistake instead."""
    for example in test.examples:
        if example.exc_msg and "Py4JJavaError" in example.want:
            example.exc_msg = "...\n"


class _SubclassAwareChecker(doctest.OutputChecker):
    """Accepts an exception whose class is a subclass of the expected built-in one, with the
    same message (sparkish raises e.g. ``EmptyRDDError``, a ``ValueError``, where PySpark raises
    a plain ``ValueError`` with that message), and an object repr naming the same class in
    sparkish's module instead of PySpark's (``<pyspark.conf.SparkConf object at ...>``)."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        renamed = re.sub(r"<pyspark(\.\w+)*\.(\w+)", r"<sparkish...\2", want)
        if renamed != want and super().check_output(renamed, got, optionflags | doctest.ELLIPSIS):
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


def _quiet() -> sparkish.SparkConf:
    return sparkish.SparkConf(loadDefaults=False).set("spark.ui.enabled", "false")


@pytest.mark.parametrize("name,test", EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_pyspark_docstring_example(name, test, sc, request):
    if name in OUT_OF_SCOPE:
        pytest.xfail(OUT_OF_SCOPE[name])
    compat.install()
    request.addfinalizer(compat.uninstall)
    _accept_jvm_exceptions(test)
    _drop_out_of_scope_examples(test)
    if name in ("SparkContext", "conf.SparkConf"):
        # This example creates the process's first context itself.
        sc.stop()
    if name.startswith("RDDBarrier"):
        # Barrier stages need a slot per task: PySpark's examples assume four.
        sc.stop()
        sc = sparkish.SparkContext("local-cluster[2,2,1024]", "barrier-examples", conf=_quiet())
        request.addfinalizer(sc.stop)
    with tempfile.TemporaryDirectory() as checkpoints:
        sc.setCheckpointDir(checkpoints)
        test.globs = _globals(sc)
        runner = doctest.DocTestRunner(
            checker=_SubclassAwareChecker(), optionflags=doctest.ELLIPSIS
        )
        output: list[str] = []
        result = runner.run(test, out=output.append)
    created = name in ("SparkContext", "conf.SparkConf")
    if created and sparkish.SparkContext._active_spark_context is not None:
        sparkish.SparkContext._active_spark_context.stop()
    assert result.failed == 0, "".join(output)
