"""Real PySpark programs run unchanged: SparkSession, the pyspark aliases, sparkish-submit, barrier
stages and the fidelity details programs notice."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import sparkish
from sparkish import SparkConf, SparkContext, compat
from sparkish.sql import SparkSession
from sparkish.taskcontext import BarrierTaskContext, TaskContext

REPO = Path(__file__).resolve().parent.parent
PYSPARK_RDD_MODULES = [
    "pyspark",
    "pyspark.rdd",
    "pyspark.context",
    "pyspark.conf",
    "pyspark.sql",
    "pyspark.sql.types",
    "pyspark.resultiterable",
    "pyspark.storagelevel",
    "pyspark.statcounter",
    "pyspark.broadcast",
    "pyspark.accumulators",
    "pyspark.files",
    "pyspark.taskcontext",
    "pyspark.status",
    "pyspark.serializers",
    "pyspark.core.rdd",
    "pyspark.core.context",
    "pyspark.core.broadcast",
    "pyspark.core.files",
    "pyspark.core.status",
]
#: PySpark names that sparkish does not offer, on purpose (see the README's porting table).
KNOWN_MISSING = {
    "pyspark": {"Profiler", "BasicProfiler", "SparkExecutorInfo"},
    "pyspark.status": {"SparkExecutorInfo"},
    "pyspark.core.status": {"SparkExecutorInfo"},
}


def _quiet_conf(**settings: str) -> SparkConf:
    conf = SparkConf(loadDefaults=False).set("spark.ui.enabled", "false")
    return conf.setAll(settings.items())


@pytest.fixture
def lines_file(tmp_path: Path) -> Path:
    path = tmp_path / "lines.txt"
    path.write_text("alpha beta\ngamma\n\ndelta epsilon zeta\n")
    return path


# --------------------------------------------------------------------------- SparkSession


def test_a_session_program_runs_and_reads_text_like_text_file(sc, lines_file: Path) -> None:
    spark = SparkSession.builder.appName("job").getOrCreate()
    assert spark.sparkContext is sc and spark._sc is sc
    assert SparkSession.builder.getOrCreate() is spark
    frame = spark.read.text(str(lines_file))
    rows = frame.rdd.collect()
    assert [row[0] for row in rows] == sc.textFile(str(lines_file)).collect()
    assert [row.value for row in rows] == ["alpha beta", "gamma", "", "delta epsilon zeta"]
    assert frame.columns == ["value"] and frame.count() == 4
    assert frame.first().value == "alpha beta" and frame.take(2)[1].value == "gamma"
    whole = spark.read.format("text").option("wholetext", True).load(str(lines_file))
    assert whole.collect()[0].value == lines_file.read_text()
    assert frame.toPandas()["value"].tolist()[3] == "delta epsilon zeta"


def test_structured_files_read_through_the_session(sc, tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"name": ["a", "b", "c"], "count": [1, 2, 3]})
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.to_json(tmp_path / "data.json", orient="records", lines=True)
    frame.to_parquet(tmp_path / "data.parquet")
    spark = SparkSession.builder.getOrCreate()
    expected = [("a", 1), ("b", 2), ("c", 3)]
    csv = spark.read.csv(str(tmp_path / "data.csv"), header=True, inferSchema=True)
    assert csv.columns == ["name", "count"]
    assert [(row.name, row["count"]) for row in csv.collect()] == expected
    loaded = spark.read.format("csv").option("header", "true").load(str(tmp_path / "data.csv"))
    assert [row.name for row in loaded.collect()] == ["a", "b", "c"]
    json_rows = spark.read.json(str(tmp_path / "data.json")).rdd.collect()
    assert sorted((row.name, row["count"]) for row in json_rows) == expected
    parquet = spark.read.parquet(str(tmp_path / "data.parquet"))
    assert [(row.name, row["count"]) for row in parquet.collect()] == expected
    assert parquet.toPandas().equals(frame)


def test_other_dataframe_methods_say_what_sparkish_implements(sc) -> None:
    frame = SparkSession.builder.getOrCreate().createDataFrame([("a", 1)], ["k", "v"])
    with pytest.raises(NotImplementedError, match=r"DataFrame.groupBy .*RDD API"):
        frame.groupBy("k")
    with pytest.raises(NotImplementedError, match="SparkSession.sql"):
        SparkSession.builder.getOrCreate().sql("select 1")
    assert frame.collect() == [sparkish.Row(k="a", v=1)]


def test_builder_settings_reach_a_new_session_and_its_context(no_context: None) -> None:
    conf = SparkConf(loadDefaults=False).set("spark.ui.enabled", "false")
    with pytest.warns(UserWarning, match="Hive"):
        builder = SparkSession.builder.enableHiveSupport()
    session = (
        builder.master("local[1]")
        .appName("built")
        .config(conf=conf)
        .config("sparkish.custom", 7)
        .config(map={"flag": True})
        .getOrCreate()
    )
    with session as spark:
        assert spark.sparkContext.master == "local[1]"
        assert spark.sparkContext.appName == "built"
        assert spark.conf.get("sparkish.custom") == "7" and spark.conf.get("flag") == "true"
        spark.conf.set("mine", "yes")
        assert spark.conf.get("mine") == "yes" and spark.conf.get("absent", "d") == "d"
        assert spark.version == sparkish.__version__
        assert spark.range(5).rdd.map(lambda row: row.id).sum() == 10
    assert SparkContext._active_spark_context is None
    assert SparkSession.getActiveSession() is None


# --------------------------------------------------------------------------- pyspark aliases


def test_every_supported_module_imports_and_unsupported_ones_say_why() -> None:
    compat.install()
    try:
        for name in compat.SUPPORTED_MODULES:
            module = importlib.import_module(name)
            assert module.__name__ == name
        for unsupported in ("pyspark.ml", "pyspark.streaming", "pyspark.pandas"):
            with pytest.raises(ImportError, match="sparkish, which implements PySpark's RDD API"):
                importlib.import_module(unsupported)
        from pyspark import SparkContext as Aliased
        from pyspark.rdd import portable_hash
        from pyspark.resultiterable import ResultIterable

        assert Aliased is SparkContext and ResultIterable is sparkish.ResultIterable
        assert portable_hash("a") == sparkish.rdd.portable_hash("a")
    finally:
        compat.uninstall()
    import pyspark

    assert pyspark.SparkContext.__module__.startswith("pyspark"), "uninstall restores PySpark"


def test_which_pyspark_names_resolve(capsys: pytest.CaptureFixture) -> None:
    """Every name PySpark 4.3's RDD-side modules export, looked up in sparkish's aliases."""
    exported = {
        name: set(getattr(importlib.import_module(name), "__all__", ()))
        for name in PYSPARK_RDD_MODULES
    }
    exported["pyspark.statcounter"] = {"StatCounter"}
    exported["pyspark.taskcontext"] = {"TaskContext", "BarrierTaskContext", "BarrierTaskInfo"}
    compat.install()
    try:
        report = {}
        for module_name, names in exported.items():
            module = importlib.import_module(module_name)
            report[module_name] = sorted(name for name in names if not hasattr(module, name))
    finally:
        compat.uninstall()
    with capsys.disabled():
        print("\nPySpark names sparkish does not offer:", json.dumps(report, indent=1))
    sql_missing = set(report.pop("pyspark.sql")) | set(report.pop("pyspark.sql.types"))
    assert {"SparkSession", "Row", "DataFrame"}.isdisjoint(sql_missing)
    for module_name, missing in report.items():
        assert set(missing) <= KNOWN_MISSING.get(module_name, set()), module_name


# --------------------------------------------------------------------------- sparkish-submit


JOB = """
import sys
from pyspark import TaskContext
from pyspark.sql import SparkSession
import pyspark

spark = SparkSession.builder.appName("submitted").getOrCreate()
sc = spark.sparkContext
words = spark.read.text(sys.argv[1]).rdd.flatMap(lambda row: row[0].split())
counts = dict(words.map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b).collect())
partitions = sc.parallelize(range(4), 2).map(lambda _: pyspark.TaskContext.get().partitionId())
print("RESULT", type(sc).__module__, sc.master, sc.appName, sorted(counts.items()),
      sorted(set(partitions.collect())))
spark.stop()
"""


def _run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    environment.pop("SPARKISH_SUBMIT_CONF", None)
    return subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=240
    )


def _result_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("RESULT"))


EXPECTED = "[('alpha', 1), ('beta', 1), ('delta', 1), ('epsilon', 1), ('gamma', 1), ('zeta', 1)]"


@pytest.mark.parametrize(
    "launcher",
    [["-m", "sparkish.submit"], ["-m", "sparkish.submit", "--pyspark-compat"]],
    ids=["default", "legacy-flag"],
)
def test_submit_runs_a_pyspark_program_on_sparkish(
    no_context: None, tmp_path: Path, lines_file: Path, launcher: list[str]
) -> None:
    (tmp_path / "job.py").write_text(JOB)
    command = [sys.executable, *launcher, "--master", "local[2]", "--name", "via-submit"]
    command += ["--conf", "spark.ui.enabled=false", "job.py", str(lines_file)]
    result = _run(command, tmp_path)
    assert result.returncode == 0, result.stderr
    line = _result_line(result.stdout)
    # As in Spark, the program's own appName wins over --name; --master applies.
    assert "sparkish.context local[2] submitted" in line
    assert EXPECTED in line and line.endswith("[0, 1]")


def test_submit_flags_map_to_settings_and_the_rest_warn(
    no_context: None, tmp_path: Path, lines_file: Path
) -> None:
    (tmp_path / "data.txt").write_text("shipped")
    (tmp_path / "spark.properties").write_text("spark.ui.enabled false\nspark.app.name=props\n")
    (tmp_path / "job.py").write_text(
        textwrap.dedent(
            """
            from pyspark import SparkContext, SparkFiles
            sc = SparkContext.getOrCreate()
            memory = {w["memory_limit"] for w in
                      sc.dask_client.scheduler_info(n_workers=-1)["workers"].values()}
            shipped = sc.parallelize([0]).map(lambda _: open(SparkFiles.get("data.txt")).read())
            print("RESULT", sc.appName, memory, shipped.collect())
            sc.stop()
            """
        )
    )
    command = [sys.executable, "-m", "sparkish.submit", "--properties-file", "spark.properties"]
    command += ["--master", "local[1]", "--executor-memory", "600m", "--files", "data.txt"]
    command += ["--deploy-mode", "cluster", "--verbose", "job.py"]
    result = _run(command, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _result_line(result.stdout) == "RESULT props {629145600} ['shipped']"
    assert "--deploy-mode is ignored" in result.stderr and "--verbose is ignored" in result.stderr


def test_without_compat_pyspark_is_pyspark(no_context: None, tmp_path: Path) -> None:
    (tmp_path / "job.py").write_text("import pyspark\nprint('RESULT', pyspark.__file__)\n")
    result = _run(
        [sys.executable, "-m", "sparkish.submit", "--no-pyspark-compat", "job.py"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "site-packages" in _result_line(result.stdout)


def test_python_job_py_runs_unchanged_with_the_shim_on_the_path(
    no_context: None, tmp_path: Path, lines_file: Path
) -> None:
    (tmp_path / "job.py").write_text(JOB)
    shim = _run([sys.executable, "-m", "sparkish.compat"], tmp_path).stdout.strip()
    assert shim == compat.shim_directory()
    result = _run(
        [sys.executable, "job.py", str(lines_file)],
        tmp_path,
        PYTHONPATH=f"{shim}{os.pathsep}{REPO}",
    )
    assert result.returncode == 0, result.stderr
    line = _result_line(result.stdout)
    assert line.startswith("RESULT sparkish.context") and EXPECTED in line


# --------------------------------------------------------------------------- fidelity


def test_task_context_sees_the_driver_local_properties(sc) -> None:
    sc.setLocalProperty("key1", "value")
    try:
        seen = sc.parallelize([1], 1).map(lambda _: TaskContext.get().getLocalProperty("key1"))
        assert seen.collect() == ["value"]
    finally:
        sc.setLocalProperty("key1", None)
    assert (
        sc.parallelize([1], 1).map(lambda _: TaskContext.get().getLocalProperty("key1")).first()
        is None
    )


def test_spark_conf_repr_is_the_default_object_repr() -> None:
    assert repr(SparkConf()).startswith("<sparkish.conf.SparkConf object at 0x")


# --------------------------------------------------------------------------- barrier stages


def _gather_sums(iterator):
    context = BarrierTaskContext.get()
    context.barrier()
    total = str(sum(iterator))
    yield context.partitionId(), context.allGather(total), len(context.getTaskInfos())


def test_barrier_tasks_meet_and_exchange_messages(sc) -> None:
    result = sc.parallelize([1, 2, 3, 4], 2).barrier().mapPartitions(_gather_sums).collect()
    assert result == [(0, ["3", "7"], 2), (1, ["3", "7"], 2)]
    with pytest.raises(RuntimeError, match="only available in a task of a barrier stage"):
        sc.parallelize([1], 1).map(lambda _: BarrierTaskContext.get()).collect()


def test_a_barrier_stage_larger_than_the_cluster_fails_at_once(sc) -> None:
    with pytest.raises(RuntimeError, match="needs all its 3 tasks to run at once.*2 task slots"):
        sc.parallelize(range(6), 3).barrier().mapPartitions(_gather_sums).collect()


def _fail_first(index, iterator):
    if index == 0:
        raise ValueError("partition zero fails")
    BarrierTaskContext.get().barrier()  # would wait forever for partition zero
    return iterator


def test_a_failed_barrier_task_fails_the_stage_and_frees_the_others(sc) -> None:
    with pytest.raises(ValueError, match="partition zero fails"):
        sc.parallelize(range(4), 2).barrier().mapPartitionsWithIndex(_fail_first).collect()
    # Both slots are free again: a two-task barrier stage can run.
    result = sc.parallelize([1, 2, 3, 4], 2).barrier().mapPartitions(_gather_sums).collect()
    assert [messages for _, messages, _ in result] == [["3", "7"], ["3", "7"]]


def test_serializers_accepted_by_the_context_work_on_their_own() -> None:
    from sparkish.serializers import CloudPickleSerializer, MarshalSerializer

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert MarshalSerializer().loads(MarshalSerializer().dumps({"a": [1]})) == {"a": [1]}
    square = CloudPickleSerializer().loads(CloudPickleSerializer().dumps(lambda x: x * x))
    assert square(3) == 9
