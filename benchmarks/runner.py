"""Run one (system, workload) measurement in this process and print one JSON result line.

The harness starts a fresh ``python -m benchmarks.runner`` per measurement, so every run has a
fresh context and no warm-up job. The last stdout line starting with ``RESULT_MARKER`` carries
a JSON object with ``startup_s``, ``job_s``, ``observed`` (the checksum fields, computed after
the timed region), ``extra`` (optional metrics such as task counts) or ``error`` and ``phase``.
Lines starting with ``PHASE_MARKER`` report each phase as it completes.

    python -m benchmarks.runner --system dask --workers 2 --params '{"name": "pi", "n": 1000,
        "map_partitions": 8}'
    python -m benchmarks.runner --probe sparkish
    python -m benchmarks.runner --probe sparkish-baseline --sparkish-from /tmp/sparkish-before

>>> SYSTEMS[:6]
('python', 'pyspark', 'dask', 'dask-processes', 'pysparkling', 'sparkish')
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

from benchmarks.jobs import DASK_JOBS, PYTHON_JOBS, RDD_JOBS, corpus_glob
from benchmarks.workloads import WorkloadParams, pair_summary

RESULT_MARKER = "BENCHMARK-RESULT "
PHASE_MARKER = "BENCHMARK-PHASE "
# The phases a runner goes through, in order; plain Python has no import/startup/stop.
PHASES = ("import", "startup", "job", "stop", "check")
#: sparkish from another checkout (``--sparkish-from``): the same jobs before a change.
BASELINE_SYSTEM = "sparkish-baseline"
SYSTEMS = (
    "python",
    "pyspark",
    "dask",
    "dask-processes",
    "pysparkling",
    "sparkish",
    BASELINE_SYSTEM,
)
SPARKISH_SYSTEMS = ("sparkish", BASELINE_SYSTEM)
#: sparkish.conf.SUBMIT_CONF_VARIABLE (not imported: the import of sparkish is a timed phase).
SUBMIT_CONF_VARIABLE = "SPARKISH_SUBMIT_CONF"
FRAMEWORK_MODULES = {
    "python": None,
    "pyspark": "pyspark",
    "dask": "distributed",
    "dask-processes": "dask.bag",
    "pysparkling": "pysparkling",
    "sparkish": "sparkish",
    BASELINE_SYSTEM: "sparkish",
}


class _PhaseError(Exception):
    def __init__(self, phase: str, error: BaseException) -> None:
        super().__init__(f"{phase}: {type(error).__name__}: {error}")
        self.phase = phase
        self.error = error


# Seconds of every phase that completed, so that a failure still reports e.g. the start-up time.
_COMPLETED_PHASES: dict[str, float] = {}
_STREAM_PHASES = False  # set by main(): only the command-line runner streams phase lines


def _timed(phase: str, action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    try:
        value = action()
    except Exception as error:
        raise _PhaseError(phase, error) from error
    elapsed = time.perf_counter() - start
    _COMPLETED_PHASES[phase] = elapsed
    if _STREAM_PHASES:
        # Streamed as it happens, so that a run killed on timeout still tells how far it got.
        print(PHASE_MARKER + json.dumps({"phase": phase, "seconds": elapsed}), flush=True)
    return value, elapsed


def observe(params: WorkloadParams, result: Any) -> dict[str, Any]:
    """The checksum fields of a job result (called after the timed region).

    >>> observe(WorkloadParams("pi", n=10), 8)
    {'hits': 8, 'n': 10}
    >>> observe(WorkloadParams("group"), [(1, 2)])["total"]
    2
    """
    if params.name in ("pi", "pi_large"):
        return {"hits": result, "n": params.n}
    return pair_summary(list(result))


def probe(system: str) -> dict[str, Any]:
    """Whether ``system`` can be imported here, with its version or the reason it cannot.

    >>> probe("python")["available"]
    True
    """
    if system not in SYSTEMS:
        return {"available": False, "note": f"unknown system {system!r}"}
    module_name = FRAMEWORK_MODULES[system]
    if module_name is None:
        return {"available": True, "version": sys.version.split()[0]}
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        return {"available": False, "note": f"import {module_name} failed: {error!r}"}
    if system in ("pyspark", *SPARKISH_SYSTEMS) and not hasattr(module, "SparkContext"):
        where = getattr(module, "__file__", None) or ", ".join(
            sorted(set(getattr(module, "__path__", [])))
        )
        return {"available": False, "note": f"{module_name} ({where}) has no SparkContext yet"}
    version = getattr(module, "__version__", None)
    if version is None and system.startswith("dask"):
        version = importlib.import_module("dask").__version__
    found = {"available": True, "version": str(version)}
    if system == BASELINE_SYSTEM:  # which checkout it really is
        found["from"] = os.path.dirname(os.path.realpath(module.__file__))
    return found


# --- per-system measurement -------------------------------------------------------------------


def _measure_python(params: WorkloadParams, workers: int) -> dict[str, Any]:

    job = PYTHON_JOBS[params.name]
    result, job_s = _timed("job", lambda: job(params))
    return {"startup_s": None, "job_s": job_s, "result": result, "extra": {}}


def _status_tracker_task_count(sc: Any) -> int | None:
    """Tasks of the last job's stages as the context's ``statusTracker()`` tells them.

    PySpark counts one task per partition of every stage it ran (and none for skipped stages).
    """
    tracker_factory = getattr(sc, "statusTracker", None)
    if tracker_factory is None:
        return None
    tracker = tracker_factory()
    stages = []
    for job_id in tracker.getJobIdsForGroup():
        job = tracker.getJobInfo(job_id)
        stages += [tracker.getStageInfo(stage_id) for stage_id in (job.stageIds if job else ())]
    stages = [stage for stage in stages if stage is not None]
    # A tracker without stage information gives no count rather than a false 0.
    return sum(stage.numTasks for stage in stages) if stages else None


def _rdd_job_extra(sc: Any, params: WorkloadParams, dask_client: Any) -> dict[str, Any]:
    """Metrics of the job just run on an RDD context; the measurement stands without them.

    ``tasks``: tasks the scheduler ran (sparkish: Dask tasks counted on its scheduler; PySpark:
    the tasks of its stages). ``stage_tasks`` (sparkish): the tasks its stages would have as one
    task per partition, as ``statusTracker()`` reports them.
    """
    extra: dict[str, Any] = {}
    requested = json.loads(os.environ.get(SUBMIT_CONF_VARIABLE, "{}"))
    if requested:  # what the context was started with (--sparkish-conf)
        extra["conf"] = {key: sc.getConf().get(key) for key in requested}
    try:
        # sparkish may expose more per-job metrics as a dict; report whatever it gives.
        job_metrics = getattr(sc, "_last_job_metrics", None)
        if isinstance(job_metrics, dict):
            extra.update(job_metrics)
        if dask_client is not None:
            from benchmarks.task_counter import tasks_counted

            extra["tasks"] = tasks_counted(dask_client)
            extra["stage_tasks"] = _status_tracker_task_count(sc)
        else:
            extra["tasks"] = _status_tracker_task_count(sc)
        if params.name == "wordcount":
            lines = sc.textFile(corpus_glob(params), params.map_partitions)
            extra["input_partitions"] = lines.getNumPartitions()
    except Exception as error:
        extra["metrics_error"] = repr(error)
    return extra


def _measure_rdd(module_name: str, params: WorkloadParams, workers: int) -> dict[str, Any]:
    module, import_s = _timed("import", lambda: importlib.import_module(module_name))
    master = f"local[{workers}]"
    app_name = f"bench-{params.name}"
    sc, startup_s = _timed("startup", lambda: module.SparkContext(master, app_name))
    try:
        if hasattr(sc, "setLogLevel"):
            sc.setLogLevel("ERROR")
        # sparkish runs on Dask: its tasks are counted on the scheduler, whatever they compute.
        dask_client = getattr(sc, "dask_client", None)
        if dask_client is not None:
            from benchmarks.task_counter import start_counting

            start_counting(dask_client)
        result, job_s = _timed("job", lambda: RDD_JOBS[params.name](sc, params))
        extra = {"import_s": round(import_s, 3), **_rdd_job_extra(sc, params, dask_client)}
    finally:
        _, stop_s = _timed("stop", sc.stop)
    extra["stop_s"] = round(stop_s, 3)
    return {"startup_s": startup_s, "job_s": job_s, "result": result, "extra": extra}


def _measure_pysparkling(params: WorkloadParams, workers: int) -> dict[str, Any]:
    """pysparkling's ``Context`` on a spawn ``multiprocessing.Pool`` of ``workers`` processes.

    Functions travel to the pool with cloudpickle, as pysparkling's documentation sets it up for
    a process pool; its shuffles (``groupByKey``, and ``reduceByKey`` built on it) gather every
    record in the driver by design.
    """

    def import_pysparkling() -> tuple[Any, Any]:
        import cloudpickle
        import pysparkling

        return pysparkling, cloudpickle

    (pysparkling, cloudpickle), import_s = _timed("import", import_pysparkling)

    def start() -> tuple[Any, Any]:
        pool = multiprocessing.get_context("spawn").Pool(workers)
        _wait_for_pool(pool, workers)
        context = pysparkling.Context(
            pool=pool, serializer=cloudpickle.dumps, deserializer=pickle.loads
        )
        return pool, context

    (pool, sc), startup_s = _timed("startup", start)
    try:
        result, job_s = _timed("job", lambda: RDD_JOBS[params.name](sc, params))
        extra: dict[str, Any] = {"import_s": round(import_s, 3)}
        if params.name == "wordcount":
            lines = sc.textFile(corpus_glob(params), params.map_partitions)
            extra["input_partitions"] = lines.getNumPartitions()
    finally:

        def stop() -> None:
            pool.close()
            pool.join()

        _, stop_s = _timed("stop", stop)
    extra["stop_s"] = round(stop_s, 3)
    return {"startup_s": startup_s, "job_s": job_s, "result": result, "extra": extra}


def _graph_task_count(collection: Any) -> int:
    graph = collection.__dask_optimize__(collection.__dask_graph__(), collection.__dask_keys__())
    return len(graph)


def _measure_dask_distributed(params: WorkloadParams, workers: int) -> dict[str, Any]:

    def import_distributed() -> Any:
        import dask.bag  # noqa: F401
        import distributed

        return distributed

    distributed, import_s = _timed("import", import_distributed)

    def start() -> tuple[Any, Any]:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
        client = distributed.Client(cluster)
        client.wait_for_workers(workers)
        return cluster, client

    (cluster, client), startup_s = _timed("startup", start)
    try:
        from benchmarks.task_counter import start_counting, tasks_counted

        start_counting(client)
        build = DASK_JOBS[params.name]
        holder: dict[str, Any] = {}

        def job() -> Any:
            holder["collection"] = build(params)
            return holder["collection"].compute()

        result, job_s = _timed("job", job)
        extra: dict[str, Any] = {"import_s": round(import_s, 3)}
        try:
            extra["graph_tasks"] = _graph_task_count(holder["collection"])
            extra["tasks"] = tasks_counted(client)
        except Exception as error:
            extra["metrics_error"] = repr(error)
    finally:

        def stop() -> None:
            client.close()
            cluster.close()

        _, stop_s = _timed("stop", stop)
    extra["stop_s"] = round(stop_s, 3)
    return {"startup_s": startup_s, "job_s": job_s, "result": result, "extra": extra}


def _worker_pid(_: int) -> int:
    time.sleep(0.05)
    return os.getpid()


def _wait_for_pool(pool: Any, workers: int) -> None:
    """Return once all ``workers`` processes of ``pool`` (anything with ``map``) have answered."""
    pids: set[int] = set()
    while len(pids) < workers:
        pids.update(pool.map(_worker_pid, range(workers)))


def _measure_dask_processes(params: WorkloadParams, workers: int) -> dict[str, Any]:

    def import_dask() -> Any:
        import dask
        import dask.bag  # noqa: F401

        return dask

    dask, import_s = _timed("import", import_dask)

    def start() -> Any:
        from concurrent.futures import ProcessPoolExecutor

        # spawn, like Dask's own process pool; usable = every worker process has answered.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        _wait_for_pool(pool, workers)
        return pool

    pool, startup_s = _timed("startup", start)
    try:
        build = DASK_JOBS[params.name]
        holder: dict[str, Any] = {}

        def job() -> Any:
            holder["collection"] = build(params)
            return holder["collection"].compute(scheduler="processes", pool=pool)

        with dask.config.set(num_workers=workers):
            result, job_s = _timed("job", job)
        extra: dict[str, Any] = {"import_s": round(import_s, 3)}
        try:
            extra["graph_tasks"] = _graph_task_count(holder["collection"])
        except Exception as error:
            extra["metrics_error"] = repr(error)
    finally:
        _, stop_s = _timed("stop", pool.shutdown)
    extra["stop_s"] = round(stop_s, 3)
    return {"startup_s": startup_s, "job_s": job_s, "result": result, "extra": extra}


def measure(system: str, params: WorkloadParams, workers: int) -> dict[str, Any]:
    """Start ``system``, time ``params``' job, stop it; returns the JSON-ready measurement.

    >>> from benchmarks.workloads import workload_params
    >>> out = measure("python", workload_params("pi", "tiny"), workers=1)
    >>> out["observed"]["n"], out["startup_s"]
    (100000, None)
    """
    measurers = {
        "python": _measure_python,
        "pyspark": lambda p, w: _measure_rdd("pyspark", p, w),
        "sparkish": lambda p, w: _measure_rdd("sparkish", p, w),
        BASELINE_SYSTEM: lambda p, w: _measure_rdd("sparkish", p, w),
        "dask": _measure_dask_distributed,
        "dask-processes": _measure_dask_processes,
        "pysparkling": _measure_pysparkling,
    }
    if system not in measurers:
        raise ValueError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")
    measurement = measurers[system](params, workers)
    result = measurement.pop("result")
    measurement["observed"], check_s = _timed("check", lambda: observe(params, result))
    measurement["extra"]["check_s"] = round(check_s, 3)
    measurement["extra"]["driver_maxrss_mib"] = _driver_max_rss_mib()
    return measurement


def _driver_max_rss_mib() -> float | None:
    """Peak RSS of this (driver) process alone, exact, as a cross-check of the sampled tree."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return None
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(kib / 1024, 1)


def import_sparkish_from(checkout: str) -> str:
    """Make ``import sparkish`` (here and in sparkish's workers) load ``checkout``/sparkish.

    Only the ``sparkish`` package is taken from the checkout, through a directory holding a link
    to it, put first on ``sys.path`` (sparkish starts its workers with this ``sys.path``) and
    made the working directory; the benchmark code stays this repository's. Returns that
    directory (the caller removes it).
    """
    package = os.path.join(os.path.abspath(checkout), "sparkish")
    if not os.path.isfile(os.path.join(package, "__init__.py")):
        raise ValueError(f"{checkout} holds no sparkish package (no sparkish/__init__.py)")
    if "sparkish" in sys.modules:
        raise RuntimeError("sparkish was imported before --sparkish-from took effect")
    links = tempfile.mkdtemp(prefix="sparkish-baseline-")
    os.symlink(package, os.path.join(links, "sparkish"))
    sys.path.insert(0, links)
    # sparkish's workers run `python -m sparkish.worker.main` in this working directory, and
    # -m puts the working directory first on their path: it must not be this repository.
    os.chdir(links)
    return links


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict (what ``--sparkish-conf`` takes).

    >>> parse_settings(["sparkish.metrics.enabled=false", "a.b=c=d"])
    {'sparkish.metrics.enabled': 'false', 'a.b': 'c=d'}
    >>> parse_settings(["oops"])
    Traceback (most recent call last):
    ...
    ValueError: expected KEY=VALUE, got 'oops'
    """
    settings = {}
    for pair in pairs:
        key, separator, setting = pair.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        settings[key.strip()] = setting
    return settings


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--system", choices=SYSTEMS)
    parser.add_argument("--params", help="WorkloadParams as JSON")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--probe", choices=SYSTEMS, help="only report whether SYSTEM imports")
    parser.add_argument(
        "--sparkish-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for sparkish's SparkConf (repeatable; ignored by other systems)",
    )
    parser.add_argument(
        "--sparkish-from",
        metavar="CHECKOUT",
        help=f"the checkout whose sparkish package {BASELINE_SYSTEM} runs",
    )
    args = parser.parse_args(argv)
    if args.system in SPARKISH_SYSTEMS and args.sparkish_conf:
        os.environ[SUBMIT_CONF_VARIABLE] = json.dumps(parse_settings(args.sparkish_conf))
    baseline = BASELINE_SYSTEM in (args.system, args.probe)
    if baseline != bool(args.sparkish_from):
        parser.error(f"--sparkish-from goes with {BASELINE_SYSTEM}, and only with it")
    links = import_sparkish_from(args.sparkish_from) if baseline else None
    try:
        return _run(parser, args)
    finally:
        if links:
            shutil.rmtree(links)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.probe:
        print(RESULT_MARKER + json.dumps(probe(args.probe)), flush=True)
        return 0
    if not args.system or not args.params:
        parser.error("--system and --params are required unless --probe is given")
    global _STREAM_PHASES
    _STREAM_PHASES = True
    params = WorkloadParams.from_json(json.loads(args.params))
    output: dict[str, Any] = {"system": args.system, "workload": params.name}
    try:
        output.update(measure(args.system, params, args.workers))
        code = 0
    except _PhaseError as failure:
        output.update(
            startup_s=_COMPLETED_PHASES.get("startup"),
            completed_phases=_COMPLETED_PHASES,
            phase=failure.phase,
            error=f"{type(failure.error).__name__}: {failure.error}",
            traceback="".join(traceback.format_exception(failure.error))[-4000:],
        )
        code = 1
    except Exception as error:
        output.update(phase="runner", error=f"{type(error).__name__}: {error}")
        output["traceback"] = traceback.format_exc()[-4000:]
        code = 1
    print(RESULT_MARKER + json.dumps(output, default=repr), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
