"""Tests of the side-by-side benchmark harness (benchmarks/).

The whole harness is run end to end on the tiny sizes, in real subprocesses, against the real
systems: plain Python and Dask always, PySpark and sparkish when they can be imported (under
CI=true a missing system fails instead of skipping). Times are never asserted; checksums,
statuses and the produced files are.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from benchmarks import (
    corpus,
    harness,
    jobs,
    markdown,
    report,
    run,
    runner,
    targets,
    task_counter,
    workloads,
)
from benchmarks.corpus import (
    FULL_CORPUS_SHA256,
    FULL_CORPUS_WORDS,
    ensure_corpus,
    items_digest,
)
from benchmarks.harness import run_fresh_process
from benchmarks.workloads import (
    PUBLISHED_PAIR_CHECKS,
    WORKLOAD_NAMES,
    expected_pairs,
    pair_summary,
    shuffle_expected_items,
    workload_params,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _require(available: bool, reason: str) -> None:
    """Skip when a component is missing, except under CI=true where that is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: nothing may skip)")
    pytest.skip(reason)


def _sparkish_available() -> tuple[bool, str]:
    try:
        sparkish = importlib.import_module("sparkish")
        sparkish.SparkContext  # noqa: B018
    except Exception as error:
        return (
            False,
            f"sparkish is not usable yet: import sparkish; sparkish.SparkContext -> {error!r}",
        )
    return True, ""


def _run_harness(tmp_path: Path, *arguments: str, timeout: float = 900) -> tuple[int, str, str]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--output-dir",
        str(tmp_path / "results"),
        "--data-dir",
        str(tmp_path / "data"),
        *arguments,
    ]
    completed = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=harness.runner_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return completed.returncode, completed.stdout, completed.stderr


def _assert_comparison_passed(
    tmp_path: Path,
    systems: list[str],
    stdout: str,
    stderr: str,
    workloads: tuple[str, ...] = tuple(WORKLOAD_NAMES),
) -> dict:
    document = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert document["complete"] is True
    assert document["mode"] == "compare"
    runs = document["runs"]
    # every (system, workload) pair ran exactly once, none dropped
    assert Counter((r["system"], r["workload"]) for r in runs) == Counter(
        (system, workload) for system in systems for workload in workloads
    )
    not_ok = [r for r in runs if r["status"] != "ok"]
    assert not not_ok, f"runs that did not pass: {not_ok}\nstderr:\n{stderr[-3000:]}"
    for record in runs:
        assert record["job_s"] is not None and record["job_s"] >= 0
        assert record["peak_memory_bytes"] is not None
        assert record["check"]
        if record["system"] != "python":
            assert record["startup_s"] is not None
            assert record["peak_memory_bytes"] > 0  # lives long enough to be sampled
    # all systems agree on the checksum of every pair workload
    for workload in {"wordcount", "reduce", "group", "bucket", "bucket-xl"} & set(workloads):
        observed = {json.dumps(r["observed"]) for r in runs if r["workload"] == workload}
        assert len(observed) == 1, f"{workload}: systems disagree: {observed}"
    png = (tmp_path / "results" / "latest.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000
    for workload in workloads:
        assert workload in stdout
    for system in systems:
        assert system in stdout
    return document


# --- expected results are derived independently ----------------------------------------------


@pytest.mark.parametrize(
    "name,n",
    [
        ("reduce", 10_000_000),
        ("group", 10_000_000),
        ("bucket", 2_000_000),
        ("bucket-xl", 20_000_000),
    ],
)
def test_shuffle_closed_form_reproduces_published_checks(name: str, n: int) -> None:
    summary = pair_summary(list(shuffle_expected_items(name, n).items()))
    assert (summary["count"], summary["total"], summary["digest"]) == PUBLISHED_PAIR_CHECKS[
        (name, n)
    ]


def test_shuffle_closed_form_matches_enumeration_on_small_n() -> None:
    n = 2_500_037
    totals: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for i in range(n):
        key, value = jobs.make_pair(i)
        totals[key] = totals.get(key, 0) + value
        sizes[key] = sizes.get(key, 0) + 1
    assert shuffle_expected_items("reduce", n) == totals
    assert shuffle_expected_items("group", n) == sizes


def test_bucket_xl_is_vegas_size() -> None:
    params = workload_params("bucket-xl")
    assert (params.n, params.map_partitions, params.reduce_partitions) == (20_000_000, 4472, 4472)
    assert round(params.map_partitions * params.reduce_partitions, -6) == 20_000_000  # buckets
    assert run.timeout_for(run.build_parser().parse_args([]), "bucket-xl") == 600


# --- targets and the tables made from them -----------------------------------------------------


def _summary(
    workload: str,
    system: str,
    seconds: float | None,
    statuses: dict[str, int] | None = None,
    peak_memory_mib: dict[str, float] | None = None,
) -> dict:
    statuses = statuses or {"ok": 1}
    return {
        "workload": workload,
        "system": system,
        "scale": 1,
        "workers": 2,
        "runs": sum(statuses.values()),
        "statuses": statuses,
        "job_s": None if seconds is None else {"median": seconds, "min": seconds, "max": seconds},
        "startup_s": None,
        "peak_memory_mib": peak_memory_mib,
        "extra": {},
        "problems": [],
    }


def _verdicts(rows: list[dict]) -> dict[str, tuple[str, float | None]]:
    return {row["target"]: (row["verdict"], row["value"]) for row in rows}


def test_targets_compare_with_the_best_peer_and_plain_python() -> None:
    summaries = [
        _summary("bucket", "python", 0.6),
        _summary("bucket", "pyspark", 80.0),
        _summary("bucket", "pysparkling", 5.0),
        _summary("bucket", "dask-processes", None, statuses={"timeout": 1}),
        _summary("bucket", "sparkish", 2.5),
        _summary("reduce", "python", 2.0),
        _summary("reduce", "sparkish", 2.1),
    ]
    verdicts = _verdicts(targets.evaluate_targets(summaries, "sparkish", divisor=2))
    assert verdicts["bucket: sparkish <= 0.5 x best peer"] == ("PASS", 2.5 / 5.0)
    assert verdicts["bucket: sparkish <= 4 x plain Python"] == ("FAIL", 2.5 / 0.6)
    assert verdicts["reduce: sparkish <= 2 x ideal"] == ("FAIL", 2.1 / 1.0)
    assert verdicts["reduce: sparkish <= 0.5 x best peer"] == ("n/a", None)  # no peer ran


def test_a_timed_out_focus_fails_its_targets_and_memory_has_a_limit() -> None:
    summaries = [
        _summary("bucket-xl", "python", 7.0),
        _summary("bucket-xl", "pyspark", None, statuses={"timeout": 2}),
        _summary("bucket-xl", "sparkish", None, statuses={"timeout": 2}),
    ]
    rows = targets.evaluate_targets(summaries, "sparkish", divisor=2)
    failed = {row["target"]: row for row in rows if row["verdict"] == "FAIL"}
    assert "bucket-xl: sparkish <= 3 x plain Python" in failed
    assert "2x timeout" in failed["bucket-xl: sparkish <= 3 x plain Python"]["detail"]
    peak = {"median": 3000.0, "min": 2000.0, "max": 4200.0}
    summaries[2] = _summary("bucket-xl", "sparkish", 20.0, peak_memory_mib=peak)
    verdicts = _verdicts(targets.evaluate_targets(summaries, "sparkish", divisor=2))
    assert verdicts["bucket-xl: sparkish peak memory < 4 GiB"] == ("FAIL", 4200.0)  # highest run
    assert verdicts["bucket-xl: sparkish <= 3 x plain Python"] == ("PASS", 20.0 / 7.0)


def test_oversubscribed_workers_do_not_shrink_the_ideal_below_the_cores() -> None:
    assert targets.ideal_divisor(4, cores=2) == 2
    assert targets.ideal_divisor(2, cores=2) == 2
    assert targets.ideal_divisor(1, cores=2) == 1
    summaries = [_summary("pi", "python", 4.0), _summary("pi", "sparkish", 3.0)]
    verdicts = _verdicts(targets.evaluate_targets(summaries, "sparkish", divisor=2))
    assert verdicts["pi: sparkish <= 1.5 x ideal"] == ("PASS", 1.5)


def test_timed_out_runs_show_as_timeouts_in_the_markdown_table() -> None:
    cell = markdown.job_cell(_summary("bucket-xl", "pyspark", None, statuses={"timeout": 3}), 600)
    assert cell == "timeout (600 s)"
    partly = _summary("bucket-xl", "dask", 500.0, statuses={"ok": 1, "timeout": 1})
    assert markdown.job_cell(partly, 600) == "500 (1 of 2 timeout)"


def test_readme_tables_need_both_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{markdown.README_BEGIN}\n")
    with pytest.raises(ValueError, match="no .* line followed by"):
        markdown.splice_between_markers(readme, "table\n")
    code, _, stderr = _run_harness(tmp_path, "--readme", str(readme), "--systems", "python")
    assert code == 2 and "benchmark-results:end" in stderr  # refused before any run


def test_full_corpus_matches_workloads_md() -> None:
    # Generates into the git-ignored cache on first use (about 10 s), then reuses it.
    full = ensure_corpus(REPO_ROOT / "benchmarks" / "data" / "wordcount-full")
    assert full.sha256 == FULL_CORPUS_SHA256
    assert full.total_words == FULL_CORPUS_WORDS
    assert [path.name for path in full.files] == [f"part-0000{i}.txt" for i in range(8)]
    published = PUBLISHED_PAIR_CHECKS[("wordcount", FULL_CORPUS_WORDS)]
    counts = full.word_counts
    assert (len(counts), sum(counts.values()), items_digest(counts.items())) == published


def test_tiny_corpus_manifest_agrees_with_reading_the_files(tmp_path: Path) -> None:
    tiny = ensure_corpus(tmp_path / "tiny", bytes_per_file=corpus.TINY_BYTES_PER_FILE)
    counted: Counter[str] = Counter()
    for path in sorted(tmp_path.glob("tiny/*.txt")):
        counted.update(path.read_text().split())
    assert dict(counted) == tiny.word_counts
    assert all(path.stat().st_size >= corpus.TINY_BYTES_PER_FILE for path in tiny.files)
    # same generator as the full corpus: the tiny files are a prefix of its first file
    full_first = REPO_ROOT / "benchmarks" / "data" / "wordcount-full" / "part-00000.txt"
    if full_first.exists():
        with open(full_first, "rb") as handle:
            head = handle.read(tiny.files[0].stat().st_size)
        assert head == tiny.files[0].read_bytes()


def test_modified_corpus_is_detected(tmp_path: Path) -> None:
    tiny = ensure_corpus(tmp_path / "c", bytes_per_file=1_000, file_count=2)
    with open(tiny.files[1], "a") as handle:
        handle.write("extra words\n")
    with pytest.raises(corpus.CorpusError, match="changed since it was generated"):
        ensure_corpus(tmp_path / "c", bytes_per_file=1_000, file_count=2)


def test_scaled_wordcount_expectation_multiplies_counts(tmp_path: Path) -> None:
    base = ensure_corpus(tmp_path / "base", bytes_per_file=2_000, file_count=2)
    files = corpus.ensure_replicated(base, tmp_path / "x3", 3)
    assert len(files) == 6
    counted: Counter[str] = Counter()
    for path in files:
        counted.update(path.read_text().split())
    params = replace(workload_params("wordcount", "tiny", 3), corpus_dir=str(tmp_path / "x3"))
    assert expected_pairs(params, base.word_counts) == pair_summary(list(counted.items()))


def test_module_doctests() -> None:
    modules = (
        corpus,
        workloads,
        jobs,
        runner,
        harness,
        report,
        run,
        targets,
        markdown,
        task_counter,
    )
    for module in modules:
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__


# --- one run in a fresh process ---------------------------------------------------------------


def test_wrong_result_is_reported_with_the_mismatch(tmp_path: Path) -> None:
    tiny = ensure_corpus(tmp_path / "tiny", bytes_per_file=20_000, file_count=2)
    altered = tmp_path / "altered"
    shutil.copytree(tiny.directory, altered)
    with open(altered / "part-00001.txt", "a") as handle:
        handle.write("zzzz\n")
    params = replace(workload_params("wordcount", "tiny"), corpus_dir=str(altered))
    record = run_fresh_process("python", params, 1, expected_pairs(params, tiny.word_counts))
    assert record.status == "wrong"
    assert f"total {tiny.total_words + 1} != expected {tiny.total_words}" in record.check
    assert record.job_s is not None


def test_crash_in_the_job_is_reported_with_its_phase(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "part-00000.txt").write_bytes(b"valid words\n\xff\xfe not utf-8\n")
    params = replace(workload_params("wordcount", "tiny"), corpus_dir=str(broken))
    record = run_fresh_process("python", params, 1, {"count": 0, "total": 0, "digest": ""})
    assert record.status == "crash"
    assert record.phase == "job"
    assert "UnicodeDecodeError" in record.error


@pytest.mark.cluster
def test_sparkish_conf_reaches_the_sparkish_context() -> None:
    """``--sparkish-conf`` (here: the metrics exporter off) is how its overhead is measured."""
    params = workload_params("pi", "tiny")
    setting = {"sparkish.metrics.enabled": "false"}
    record = run_fresh_process("sparkish", params, 2, None, sparkish_conf=setting)
    assert record.status == "ok", record.error
    assert record.extra["conf"] == setting
    assert "conf" not in run_fresh_process("sparkish", params, 2, None).extra


def test_sparkish_conf_is_checked_on_the_command_line() -> None:
    parser = run.build_parser()
    args = parser.parse_args(["--sparkish-conf", "sparkish.metrics.enabled=false"])
    assert args.sparkish_conf == ["sparkish.metrics.enabled=false"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--sparkish-conf", "no-equals-sign"])


@pytest.mark.cluster
def test_timeout_kills_the_whole_process_tree() -> None:
    endless = replace(workload_params("pi", "tiny"), n=10**12)
    record = run_fresh_process("dask-processes", endless, 2, None, timeout_s=15)
    assert record.status == "timeout"
    assert record.phase == "job" and record.startup_s is not None  # killed inside the job
    assert len(record.process_ids) >= 3, "runner and its two pool workers were observed"
    survivors = []
    for pid in record.process_ids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                survivors.append(process.cmdline())
        except psutil.NoSuchProcess:
            continue
    assert not survivors


def _fails_on_negative(value: int) -> int:
    if value < 0:
        raise ValueError("negative")
    return value


def test_task_counter_counts_the_tasks_workers_ran() -> None:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        task_counter.start_counting(client)
        futures = client.map(_fails_on_negative, range(25))
        assert client.gather(futures) == list(range(25))
        failing = client.submit(_fails_on_negative, -1)
        with pytest.raises(ValueError, match="negative"):
            failing.result()
        assert task_counter.tasks_counted(client) == 26  # 25 finished, 1 erred
        client.gather(futures)  # results still held: nothing runs again
        assert task_counter.tasks_counted(client) == 26
        task_counter.start_counting(client)  # a fresh count for the next job
        assert task_counter.tasks_counted(client) == 0


def test_a_run_over_the_memory_limit_is_killed_and_recorded() -> None:
    endless = replace(workload_params("pi", "tiny"), n=10**12)
    record = run_fresh_process("python", endless, 1, None, timeout_s=120, memory_limit_bytes=1)
    assert record.status == "memory"
    assert record.phase == "job" and record.wall_s is not None and record.wall_s < 60
    assert "over the memory limit of" in record.error
    assert not psutil.pid_exists(record.process_ids[0]) or (
        psutil.Process(record.process_ids[0]).status() == psutil.STATUS_ZOMBIE
    )


def test_bad_arguments_name_the_problem(tmp_path: Path) -> None:
    code, _, stderr = _run_harness(tmp_path, "--workloads", "wordcount,nope")
    assert code == 2
    assert "unknown workload nope" in stderr
    code, _, stderr = _run_harness(tmp_path, "--systems", "spork")
    assert code == 2
    assert "unknown system spork" in stderr


# --- the whole harness, tiny sizes ------------------------------------------------------------


@pytest.mark.cluster
def test_harness_tiny_plain_python_and_dask(tmp_path: Path) -> None:
    systems = ["python", "dask", "dask-processes"]
    # Two workloads (a text job and a shuffle) keep CI short; test_harness_tiny_sparkish runs all.
    code, stdout, stderr = _run_harness(
        tmp_path, "--tiny", "--runs", "1", "--workloads", "wordcount,group",
        "--systems", ",".join(systems),
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    document = _assert_comparison_passed(tmp_path, systems, stdout, stderr, ("wordcount", "group"))
    dask_group = next(
        r for r in document["runs"] if (r["system"], r["workload"]) == ("dask", "group")
    )
    assert dask_group["extra"]["tasks"] > 0 and dask_group["extra"]["graph_tasks"] > 0
    assert "tasks=" in stdout


@pytest.mark.cluster
def test_harness_tiny_pyspark(tmp_path: Path) -> None:
    _require(importlib.util.find_spec("pyspark") is not None, "pyspark is not installed")
    systems = ["python", "pyspark"]
    # Every PySpark run starts a JVM: two workloads (text input, a shuffle) keep CI short.
    code, stdout, stderr = _run_harness(
        tmp_path, "--tiny", "--runs", "1", "--workloads", "wordcount,reduce",
        "--systems", ",".join(systems),
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    document = _assert_comparison_passed(tmp_path, systems, stdout, stderr, ("wordcount", "reduce"))
    wordcount = next(
        r for r in document["runs"] if (r["system"], r["workload"]) == ("pyspark", "wordcount")
    )
    assert wordcount["extra"]["input_partitions"] == 8  # one input partition per file


@pytest.mark.cluster
def test_harness_tiny_sparkish(tmp_path: Path) -> None:
    available, reason = _sparkish_available()
    _require(available, reason)
    systems = ["python", "sparkish"]
    code, stdout, stderr = _run_harness(
        tmp_path, "--tiny", "--runs", "1", "--workloads", "all", "--systems", ",".join(systems)
    )
    assert code == 0, stderr[-3000:]
    document = _assert_comparison_passed(tmp_path, systems, stdout, stderr)
    assert "sparkish/ideal" in stdout
    for record in document["runs"]:
        if record["system"] == "sparkish":  # Dask tasks counted on the scheduler, every run
            assert record["extra"]["tasks"] > 0, record
            assert record["peak_processes"] >= 3  # the driver and its two workers


@pytest.mark.cluster
def test_harness_tiny_pysparkling(tmp_path: Path) -> None:
    _require(importlib.util.find_spec("pysparkling") is not None, "pysparkling is not installed")
    systems = ["python", "pysparkling"]
    # Text input, an action (reduce) and a shuffle (reduceByKey, which pysparkling builds on
    # groupByKey): its process pool runs every one of them.
    chosen = ("wordcount", "pi", "bucket-xl")
    code, stdout, stderr = _run_harness(
        tmp_path, "--tiny", "--runs", "1", "--workloads", ",".join(chosen),
        "--systems", ",".join(systems),
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    document = _assert_comparison_passed(tmp_path, systems, stdout, stderr, chosen)
    assert document["systems"]["pysparkling"]["version"] == "0.6.2"
    runs = {r["workload"]: r for r in document["runs"] if r["system"] == "pysparkling"}
    assert runs["wordcount"]["extra"]["input_partitions"] == 8  # one input partition per file
    # the driver and its two pool processes
    assert all(run["peak_processes"] >= 3 for run in runs.values())
    assert "pysparkling (process pool)" in (tmp_path / "results" / "latest.md").read_text()


@pytest.mark.cluster
def test_harness_sparkish_oversubscribed_counts_dask_tasks_and_writes_readme_tables(
    tmp_path: Path,
) -> None:
    available, reason = _sparkish_available()
    _require(available, reason)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{markdown.README_BEGIN}\nold table\n{markdown.README_END}\nend\n")
    code, stdout, stderr = _run_harness(
        tmp_path, "--tiny", "--runs", "1", "--workloads", "bucket-xl", "--workers", "4",
        "--systems", "python,sparkish", "--readme", str(readme),
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    document = _assert_comparison_passed(
        tmp_path, ["python", "sparkish"], stdout, stderr, ("bucket-xl",)
    )
    (sparkish_run,) = [r for r in document["runs"] if r["system"] == "sparkish"]
    assert sparkish_run["workers"] == 4
    assert sparkish_run["peak_processes"] >= 5  # the driver (and scheduler) and 4 workers
    # Dask tasks counted on the scheduler, next to the one-per-partition count of the stages
    assert sparkish_run["extra"]["tasks"] > 0 and sparkish_run["extra"]["stage_tasks"] > 0
    assert document["ideal_divisor"] == min(4, os.cpu_count() or 4)
    verdicts = {t["target"]: t["verdict"] for t in document["targets"]}
    assert verdicts.keys() >= {
        "bucket-xl: sparkish <= 3 x plain Python",
        "bucket-xl: sparkish peak memory < 4 GiB",
    }
    assert verdicts.pop("bucket-xl: sparkish <= 0.5 x best peer") == "n/a"  # no peer ran
    assert set(verdicts.values()) <= {"PASS", "FAIL"}  # every other number was measured
    tables = readme.read_text()
    assert tables.startswith("intro\n") and tables.endswith(f"{markdown.README_END}\nend\n")
    assert "old table" not in tables
    assert "sparkish Dask tasks" in tables and "bucket-xl (40k, 100 x 100)" in tables
    assert f"| {sparkish_run['extra']['tasks']:,} |" in tables
    assert tables.count("bucket-xl: sparkish") == len(
        [t for t in document["targets"] if t["target"].startswith("bucket-xl")]
    )


@pytest.mark.cluster
def test_baseline_sparkish_runs_from_its_own_checkout_in_driver_and_workers(
    tmp_path: Path,
) -> None:
    available, reason = _sparkish_available()
    _require(available, reason)
    # The "checkout before a change": a copy of sparkish whose worker package records every
    # process that imports it, and whose version tells the driver's import apart.
    checkout = tmp_path / "before"
    shutil.copytree(
        REPO_ROOT / "sparkish", checkout / "sparkish", ignore=shutil.ignore_patterns("__pycache__")
    )
    (checkout / "sparkish" / "_version.py").write_text('__version__ = "0.0.0+before"\n')
    marker = tmp_path / "worker-imports.txt"
    with open(checkout / "sparkish" / "worker" / "__init__.py", "a") as handle:
        handle.write(
            "\nimport os as _os\n"
            "with open(_os.environ['BENCHMARK_TEST_MARKER'], 'a') as _marker:\n"
            "    _marker.write(f'{_os.getpid()}\\n')\n"
        )
    env = harness.runner_environment()
    env["BENCHMARK_TEST_MARKER"] = str(marker)
    completed = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--tiny", "--runs", "1",
            "--workloads", "bucket", "--systems", "python,sparkish",
            "--sparkish-baseline", str(checkout), "--output-dir", str(tmp_path / "results"),
            "--data-dir", str(tmp_path / "data"), "--no-plot",
        ],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    document = json.loads((tmp_path / "results" / "latest.json").read_text())
    probe = document["systems"][runner.BASELINE_SYSTEM]
    assert probe["version"] == "0.0.0+before"
    assert probe["from"] == str((checkout / "sparkish").resolve())
    statuses = {(r["system"], r["status"]) for r in document["runs"]}
    assert statuses == {("python", "ok"), ("sparkish", "ok"), (runner.BASELINE_SYSTEM, "ok")}
    processes = {r["system"]: set(r["process_ids"]) for r in document["runs"]}
    # the baseline's driver and both its workers imported the copy; the sparkish run did not
    importers = {int(pid) for pid in marker.read_text().split()}
    assert len(importers & processes[runner.BASELINE_SYSTEM]) >= 3
    assert not importers & processes["sparkish"]
    verdicts = {t["target"]: t["verdict"] for t in document["targets"]}
    assert verdicts["bucket: sparkish <= sparkish before (no regression)"] in ("PASS", "FAIL")
    assert "sparkish before" in (tmp_path / "results" / "latest.md").read_text()


def test_timed_out_runs_are_timeouts_in_the_report(tmp_path: Path) -> None:
    code, stdout, stderr = _run_harness(
        tmp_path, "--tiny", "--runs", "1", "--workloads", "bucket-xl", "--systems", "python",
        "--workload-timeout", "bucket-xl=0.001", "--no-plot",
    )  # fmt: skip
    assert code == 1, stderr[-3000:]  # a timeout is a failed run
    document = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert [r["status"] for r in document["runs"]] == ["timeout"]
    assert document["timeouts_s"] == {"bucket-xl": 0.001}
    assert "1x TIMEOUT" in stdout and "crash" not in stdout.lower()
    assert "| timeout (0.001 s) |" in (tmp_path / "results" / "latest.md").read_text()


@pytest.mark.cluster
def test_unimportable_system_is_skipped_with_a_note(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "pyspark"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('deliberately broken for the test')\n")
    env = harness.runner_environment()
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(tmp_path / "shadow")])
    completed = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--tiny", "--runs", "2", "--workloads", "pi",
            "--systems", "python,pyspark", "--output-dir", str(tmp_path / "results"),
            "--data-dir", str(tmp_path / "data"), "--no-plot",
        ],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Systems not measured" in completed.stdout
    assert "deliberately broken for the test" in completed.stdout
    document = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert document["systems"]["pyspark"]["available"] is False
    statuses = Counter((r["system"], r["status"]) for r in document["runs"])
    assert statuses == Counter({("python", "ok"): 2, ("pyspark", "skipped"): 2})


@pytest.mark.cluster
def test_scaling_mode_tiny(tmp_path: Path) -> None:
    _require(importlib.util.find_spec("pysparkling") is not None, "pysparkling is not installed")
    code, stdout, stderr = _run_harness(
        tmp_path,
        "--scaling",
        "--tiny",
        "--runs", "1",
        "--workloads", "wordcount,bucket-xl",
        "--systems", "python,pysparkling",
        "--scales", "1,2",
        "--worker-counts", "1,2",
    )  # fmt: skip
    assert code == 0, stderr[-3000:]
    document = json.loads((tmp_path / "results" / "scaling.json").read_text())
    assert document["complete"] is True
    runs = document["runs"]
    assert all(r["status"] == "ok" for r in runs), [r for r in runs if r["status"] != "ok"]
    configurations = Counter((r["workload"], r["system"], r["scale"], r["workers"]) for r in runs)
    expected = Counter(
        [(w, "python", s, 1) for w in ("wordcount", "bucket-xl") for s in (1, 2)]
        + [
            (w, "pysparkling", s, k)
            for w in ("wordcount", "bucket-xl")
            for s in (1, 2)
            for k in (1, 2)
        ]
    )
    assert configurations == expected
    # 2x data really is twice the words and twice the records
    totals = {(r["workload"], r["scale"]): r["observed"]["total"] for r in runs}
    assert totals[("wordcount", 2)] == 2 * totals[("wordcount", 1)]
    assert totals[("bucket-xl", 2)] == 2 * totals[("bucket-xl", 1)]  # n is a multiple of 1000
    rows = {(row["workload"], row["system"], row["workers"]) for row in document["scaling"]}
    assert ("bucket-xl", "pysparkling", 2) in rows
    assert (tmp_path / "results" / "scaling.png").read_bytes().startswith(PNG_MAGIC)
    assert "job_s 2x" in stdout and "tasks 1x / 2x" in stdout
