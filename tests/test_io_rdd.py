"""RDD-level I/O: ``SparkContext.textFile`` & co. and ``RDD.saveAs*`` on real file systems.

Most tests run once per file system through the ``target`` fixture:

* ``local``: a directory under pytest's ``tmp_path``, addressed by plain paths;
* ``memory``: fsspec's in-memory file system. Its contents live in one process, so this
  variant runs on a context whose Dask workers are threads of the test process
  (``SparkContext(client=...)`` on an in-process ``LocalCluster``). With worker processes
  (``local[N]``) memory:// cannot work; ``test_memory_paths_with_worker_processes_*`` record
  what sparkish does then;
* ``hdfs``: a real MiniDFSCluster (``tests/fixtures_hdfs.py``) through hdfs-native;
* ``webhdfs``: the same cluster through fsspec's WebHDFS client. The user comes from the conf
  key ``sparkish.fs.webhdfs.user`` (without it WebHDFS requests run as ``dr.who``).

Expected results never come from sparkish: text output is modelled as ``str(record)`` plus
``"\\n"`` in UTF-8 (what PySpark writes), and text input with Hadoop's line rules (``\\n``,
``\\r\\n`` and a lone ``\\r`` end a line, nothing else does); files are written by the tests
themselves; the wordcount result is checked against the checksum published in WORKLOADS.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import fsspec
import pytest

from benchmarks.corpus import FULL_CORPUS_SHA256, FULL_CORPUS_WORDS, ensure_corpus
from benchmarks.jobs import rdd_wordcount
from benchmarks.workloads import WorkloadParams
from sparkish import SparkConf, SparkContext
from sparkish.io import plan_text_splits, read_text_split
from sparkish.settings import Settings
from tests.helpers import lines_totalling, numbered_lines, ungrouped

REPO_ROOT = Path(__file__).resolve().parent.parent
WEBHDFS_USER_KEY = "sparkish.fs.webhdfs.user"
OVERWRITE_KEY = "sparkish.output.overwrite"
GZIP_CODEC = "org.apache.hadoop.io.compress.GzipCodec"
# A guard against hangs only: bad paths must fail at once, so a call still running after this
# long is reported as a hang. No test asserts how fast anything is.
HANG_LIMIT_S = 60.0
WAIT_LIMIT_S = 60.0

FILESYSTEMS = [
    pytest.param("local", id="local"),
    pytest.param("memory", id="memory"),
    pytest.param("hdfs", id="hdfs", marks=pytest.mark.hdfs),
    pytest.param("webhdfs", id="webhdfs", marks=pytest.mark.hdfs),
]
PROCESS_WORKER_FILESYSTEMS = [p for p in FILESYSTEMS if p.values != ("memory",)]


# ---------------------------------------------------------------------------------------------
# Fixtures: one directory on one file system, and the context whose workers can reach it


@dataclasses.dataclass
class Target:
    """One test's private directory on one file system, the context to use with it, and
    helpers that arrange and inspect files there without going through sparkish."""

    kind: str
    sc: SparkContext
    root_url: str
    storage_options: dict[str, Any]
    fs: Any
    root_path: str
    bulk_fs: Any  # the same files; for WebHDFS, hdfs-native (arranging 200 files is 3x faster)

    def url(self, relative: str = "") -> str:
        return f"{self.root_url}/{relative}" if relative else self.root_url

    def path(self, relative: str = "") -> str:
        return f"{self.root_path}/{relative}" if relative else self.root_path

    def file_url(self, relative: str) -> str:
        """The URL Spark (and sparkish) report for a file, e.g. ``file:/tmp/x/a.txt``."""
        return f"file:{self.path(relative)}" if self.kind == "local" else self.url(relative)

    def write(self, relative: str, data: bytes) -> None:
        self.fs.makedirs(self.path(relative).rsplit("/", 1)[0], exist_ok=True)
        with self.fs.open(self.path(relative), "wb") as handle:
            handle.write(data)

    def write_many(self, files: dict[str, bytes]) -> None:
        """Write many files at once (HDFS spends ~30 ms closing each file)."""

        def write(item: tuple[str, bytes]) -> None:
            with self.bulk_fs.open(self.path(item[0]), "wb") as handle:
                handle.write(item[1])

        for parent in {self.path(relative).rsplit("/", 1)[0] for relative in files}:
            self.bulk_fs.makedirs(parent, exist_ok=True)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(write, files.items()))

    def read(self, relative: str) -> bytes:
        with self.fs.open(self.path(relative), "rb") as handle:
            return handle.read()

    def mkdir(self, relative: str) -> None:
        self.fs.makedirs(self.path(relative), exist_ok=True)

    def exists(self, relative: str) -> bool:
        return self.fs.exists(self.path(relative))

    def listdir(self, relative: str) -> list[str]:
        return sorted(
            entry.rstrip("/").rsplit("/", 1)[-1]
            for entry in self.fs.ls(self.path(relative), detail=False)
        )

    def find(self, relative: str) -> list[str]:
        """Every file and directory below ``relative`` (paths relative to it)."""
        base = self.path(relative).rstrip("/")
        found = self.fs.find(base, withdirs=True)
        return sorted(entry[len(base) :].lstrip("/") for entry in found if entry != base)


@pytest.fixture(scope="module", params=FILESYSTEMS)
def filesystem_kind(request: pytest.FixtureRequest) -> str:
    """Module-scoped so that pytest groups the tests by file system (one context switch each)."""
    return request.param


@pytest.fixture(scope="module")
def in_process_client() -> Iterator[Any]:
    """A Dask client whose two workers are threads of this process: they share memory://."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",  # sparkish accepts tcp:// scheduler addresses, not inproc://
        host="127.0.0.1",
        dashboard_address=":0",
    )
    client = Client(cluster, set_as_default=False)
    yield client
    active = SparkContext._active_spark_context
    if active is not None and active.dask_client is client:
        active.stop()
    client.close()
    cluster.close()


def in_process_context(client: Any) -> SparkContext:
    active = SparkContext._active_spark_context
    if active is not None and not active._stopped and active.dask_client is client:
        return active
    if active is not None:
        active.stop()  # the shared local[2] context; tests/conftest.py recreates it on demand
    conf = SparkConf().set("spark.ui.port", "0")
    return SparkContext(appName="sparkish-rdd-io-memory", conf=conf, client=client)


@contextmanager
def conf_settings(sc: SparkContext, settings: dict[str, str]) -> Iterator[None]:
    """Run with these settings on a running context (as if it had been started with them)."""
    runtime = sc._runtime
    previous = runtime.settings
    runtime.settings = Settings({**previous, **settings})
    try:
        yield
    finally:
        runtime.settings = previous


@pytest.fixture
def target(
    filesystem_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Target]:
    kind = filesystem_kind
    options: dict[str, Any] = {}
    settings: dict[str, str] = {}
    if kind == "memory":
        context = in_process_context(request.getfixturevalue("in_process_client"))
        context._runtime.replace_local_properties({})
        root_url = f"memory:///sparkish-rdd-io/{uuid.uuid4().hex}"
    else:
        context = request.getfixturevalue("sc")
        if kind == "local":
            root_url = str(tmp_path / "data")
        else:
            cluster = request.getfixturevalue("hdfs_cluster")
            if kind == "hdfs":
                root_url = cluster.namenode_url + cluster.unique_path("rdd")
            else:
                root_url = cluster.webhdfs_url + cluster.unique_path("rdd")
                options = dict(cluster.webhdfs_storage_options)
                settings = {WEBHDFS_USER_KEY: options["user"]}
    fs, root_path = fsspec.core.url_to_fs(root_url, **options)
    fs.makedirs(root_path, exist_ok=True)
    bulk_fs = fs
    if kind == "webhdfs":
        bulk_fs = fsspec.core.url_to_fs(request.getfixturevalue("hdfs_cluster").namenode_url)[0]
    with conf_settings(context, settings):
        yield Target(kind, context, root_url, options, fs, root_path, bulk_fs)
    if kind != "local" and fs.exists(root_path):
        fs.rm(root_path, recursive=True)


# ---------------------------------------------------------------------------------------------
# Independent models and helpers


def text_of(record: Any) -> str:
    """What PySpark writes for one record: ``str()``; bytes are decoded as UTF-8 (by the JVM,
    which replaces invalid bytes with U+FFFD)."""
    return record.decode("utf-8", "replace") if isinstance(record, bytes) else str(record)


def text_file_bytes(records: Iterable[Any]) -> bytes:
    return b"".join(text_of(record).encode("utf-8") + b"\n" for record in records)


def hadoop_lines(data: bytes) -> list[str]:
    """Lines of a UTF-8 text file by Hadoop's rules: ``\\n``, ``\\r\\n`` or ``\\r`` end a line
    (unlike ``str.splitlines``, which also splits at ``\\x0b``, ``\\x85``, ``\\u2028``...)."""
    lines = re.split(r"\r\n|\r|\n", data.decode("utf-8"))
    if lines[-1] == "":
        lines.pop()  # the file ends with a terminator, or is empty
    return lines


def same_sequence(got: list[Any], expected: list[Any]) -> bool:
    """``got == expected``, printing a short explanation when they differ.

    A plain ``assert got == expected`` on lists of 600,000 lines makes pytest build a full diff
    under ``CI=true`` (it does not truncate on CI), which takes about a minute.
    """
    if got == expected:
        return True
    index = next(
        (i for i, (left, right) in enumerate(zip(got, expected)) if left != right),
        min(len(got), len(expected)),
    )
    got_item = got[index] if index < len(got) else "<end>"
    expected_item = expected[index] if index < len(expected) else "<end>"
    print(
        f"{len(got)} items, expected {len(expected)}; first difference at index {index}: "
        f"{got_item!r} != {expected_item!r}"
    )
    return False


def wait_until(condition: Callable[[], bool], limit_s: float = WAIT_LIMIT_S) -> bool:
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _running_task_count(dask_worker: Any) -> int:
    # Includes tasks of failed jobs: their futures are released, so the scheduler has forgotten
    # them, but a worker thread may still be running them.
    return len(dask_worker.state.executing) + len(dask_worker.state.long_running)


def wait_until_idle(sc: SparkContext) -> None:
    """Wait until no worker runs a task any more (so that late writers would have written)."""

    def idle() -> bool:
        running = sc.dask_client.run(_running_task_count)
        return not any(running.values()) and not any(sc.dask_client.processing().values())

    assert wait_until(idle), f"tasks still running: {sc.dask_client.run(_running_task_count)}"


def error_of(call: Callable[[], Any]) -> BaseException:
    """Run ``call()`` in a thread; return what it raised. Fails if it returns or hangs."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: B036 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_LIMIT_S)
    if thread.is_alive():
        pytest.fail(f"still running after {HANG_LIMIT_S:.0f} s: the call hangs")
    if "error" not in outcome:
        pytest.fail(f"expected an error, got the result {outcome.get('result')!r}")
    return outcome["error"]


def _records_of_partition(partitions: list[list[Any]], index: int, _: Iterator) -> list[Any]:
    return partitions[index]


def rdd_of_partitions(sc: SparkContext, partitions: list[list[Any]]):
    """An RDD whose partition ``i`` holds exactly ``partitions[i]``."""
    empty = sc.parallelize([], len(partitions))
    return empty.mapPartitionsWithIndex(partial(_records_of_partition, partitions))


# ---------------------------------------------------------------------------------------------
# Text and pickle output round trips

TEXT_PARTITIONS: list[list[Any]] = [
    ["plain ascii", "unicode é€𝄞 中文", ""],
    [],
    [None, 42, -3.5, ("tuple", 1), {"key": "value"}, b"caf\xc3\xa9", b"bad \xff byte"],
    [],
    [
        "carriage\rreturn",
        "crlf\r\ninside",
        "trailing cr\r",
        "\r",
        "vertical\x0btab, form\x0cfeed, next\x85line, line\u2028separator",
        "\ufeffbom in the middle of a file",
    ],
    [],
    [],
    [f"row {i} ✓" for i in range(5000)],
]


@pytest.mark.parametrize(("codec", "extension"), [(None, ""), (GZIP_CODEC, ".gz")])
def test_save_as_text_file_then_text_file_round_trips(
    target: Target, codec: str | None, extension: str
) -> None:
    sc = target.sc
    rdd = rdd_of_partitions(sc, TEXT_PARTITIONS)
    assert rdd.glom().collect() == TEXT_PARTITIONS  # the input is laid out as intended

    rdd.saveAsTextFile(target.url("text"), codec)

    names = [f"part-{index:05d}{extension}" for index in range(len(TEXT_PARTITIONS))]
    assert target.listdir("text") == sorted(["_SUCCESS", *names])
    assert target.read("text/_SUCCESS") == b""
    for name, records in zip(names, TEXT_PARTITIONS):
        data = target.read(f"text/{name}")
        assert (gzip.decompress(data) if extension else data) == text_file_bytes(records), name
    expected = [line for part in TEXT_PARTITIONS for line in hadoop_lines(text_file_bytes(part))]
    assert "None" in expected and "return" in expected and "inside" in expected
    for min_partitions in (None, 1, 5):
        assert same_sequence(sc.textFile(target.url("text"), min_partitions).collect(), expected)
    as_bytes = sc.textFile(target.url("text"), use_unicode=False).collect()
    assert as_bytes == [line.encode("utf-8") for line in expected]


def test_save_as_text_file_with_awkward_path_names(target: Target) -> None:
    relative = "out dir é+%20"
    lines = ["spaces", "and é", "percent signs"]
    target.sc.parallelize(lines, 2).saveAsTextFile(target.url(relative))
    assert target.listdir(relative) == ["_SUCCESS", "part-00000", "part-00001"]
    assert target.sc.textFile(target.url(relative)).collect() == lines


@dataclasses.dataclass(frozen=True)
class PickleProbe:
    """A user-defined class: pickled by reference, so workers must import this module."""

    name: str
    values: tuple[int, ...]


PICKLE_PARTITIONS: list[list[Any]] = [
    [None, 0, -1, 2**100, 3.25, float("inf"), complex(1, -2), True],
    [],
    [
        "unicode é€𝄞 中文",
        "",
        b"\x00\xff raw bytes",
        ("tuple", (1, 2), None),
        {"dict": [1, 2, {"nested": None}], 3: "int key", ("tuple", "key"): b"v"},
        [None, [], {}, ()],
        {1, 2, 3},
        frozenset({"a", "b"}),
    ],
    [],
    [
        Decimal("1.10"),
        Fraction(1, 3),
        datetime.datetime(2026, 8, 1, 12, 30, tzinfo=datetime.timezone.utc),
        datetime.date(2026, 8, 1),
        PickleProbe("custom class", (1, 2, 3)),
        range(3, 9, 2),
    ],
    list(range(3000)),
]


@pytest.mark.parametrize("batch_size", [1, 10, 0])
def test_save_as_pickle_file_then_pickle_file_round_trips(target: Target, batch_size: int) -> None:
    sc = target.sc
    expected = [record for part in PICKLE_PARTITIONS for record in part]
    relative = f"pickled-{batch_size}"

    rdd_of_partitions(sc, PICKLE_PARTITIONS).saveAsPickleFile(target.url(relative), batch_size)

    parts = [f"part-{index:05d}" for index in range(len(PICKLE_PARTITIONS))]
    assert target.listdir(relative) == ["_SUCCESS", *parts]
    for min_partitions in (None, 3):
        records = sc.pickleFile(target.url(relative), min_partitions).collect()
        assert records == expected
        assert [type(record) for record in records] == [type(record) for record in expected]


# ---------------------------------------------------------------------------------------------
# Failed, killed and retried write jobs

FAILING_PARTITION = 3
RECORDS_PER_PARTITION = 6000  # more than one write batch, so a killed writer has written bytes


class PartitionThreeFailed(RuntimeError):
    """Raised on purpose by partition 3 of a write job."""


def write_job_records(index: int) -> list[str]:
    return [f"partition {index} record {i} é" for i in range(RECORDS_PER_PARTITION)]


def _attempt_sizes(fs: Any, output_path: str) -> dict[int, int]:
    """Sizes of the task-attempt files under ``output_path``, by partition number."""
    sizes = {}
    for entry in fs.find(output_path):
        name = entry.rsplit("/", 1)[-1]
        match = re.fullmatch(r"attempt-.*-part-(\d{5})", name)
        if match:
            sizes[int(match.group(1))] = fs.info(entry)["size"]
    return sizes


def _free_the_worker_slot() -> None:
    """Let the worker run its other queued tasks while this one waits (else Dask's work
    stealing moves them to the other worker one at a time, about one a second)."""
    from distributed import secede

    secede()


def _fail_after_the_other_partitions(
    output_url: str,
    storage_options: dict[str, Any],
    marker_dir: str,
    index: int,
    records: Iterator[str],
) -> Iterator[str]:
    """Partition 3 writes part of its records, waits until every other partition's attempt file
    is complete (so no other task of the job is still writing), then raises."""
    if index != FAILING_PARTITION:
        yield from records
        return
    items = list(records)
    yield from items[:5000]
    fs, output_path = fsspec.core.url_to_fs(output_url, **storage_options)
    complete = {
        other: len(text_file_bytes(write_job_records(other)))
        for other in range(8)
        if other != FAILING_PARTITION
    }

    def others_complete() -> bool:
        sizes = _attempt_sizes(fs, output_path)
        return all(sizes.get(other) == size for other, size in complete.items())

    _free_the_worker_slot()
    if wait_until(others_complete, 30):
        Path(marker_dir, "others-complete").write_text(json.dumps(_attempt_sizes(fs, output_path)))
    raise PartitionThreeFailed("partition 3 failed on purpose, half-way through its records")


def test_failed_write_job_leaves_no_output(target: Target, tmp_path: Path) -> None:
    sc = target.sc
    rdd = sc.parallelize(range(8), 8).flatMap(write_job_records)
    output_url = target.url("failed")
    (tmp_path / "first").mkdir()
    failing = rdd.mapPartitionsWithIndex(
        partial(
            _fail_after_the_other_partitions,
            output_url,
            target.storage_options,
            str(tmp_path / "first"),
        )
    )

    with pytest.raises(PartitionThreeFailed, match="partition 3 failed on purpose") as error:
        failing.saveAsTextFile(output_url)

    assert type(error.value) is PartitionThreeFailed
    # The seven other partitions had their attempt files complete when partition 3 failed.
    attempts_at_failure = json.loads((tmp_path / "first" / "others-complete").read_text())
    assert {int(index) for index in attempts_at_failure} >= set(range(8)) - {FAILING_PARTITION}
    wait_until_idle(sc)
    assert not target.exists("failed"), target.find("failed")

    # With overwrite enabled, a failed job keeps the previous output as it was.
    sc.parallelize(["old 0", "old 1"], 2).saveAsTextFile(target.url("kept"))
    before = {name: target.read(f"kept/{name}") for name in target.listdir("kept")}
    (tmp_path / "second").mkdir()
    overwriting = rdd.mapPartitionsWithIndex(
        partial(
            _fail_after_the_other_partitions,
            target.url("kept"),
            target.storage_options,
            str(tmp_path / "second"),
        )
    )
    with conf_settings(sc, {OVERWRITE_KEY: "true"}):
        with pytest.raises(PartitionThreeFailed):
            overwriting.saveAsTextFile(target.url("kept"))
    assert (tmp_path / "second" / "others-complete").exists()
    wait_until_idle(sc)
    assert {name: target.read(f"kept/{name}") for name in target.listdir("kept")} == before
    assert sc.textFile(target.url("kept")).collect() == ["old 0", "old 1"]


def _claim(marker: Path) -> bool:
    """Create ``marker``; False if another task created it first."""
    try:
        marker.open("x").close()
    except FileExistsError:
        return False
    return True


STRAGGLE_SECONDS = 4


def _straggle(marker_dir: str, index: int, records: Iterator[str]) -> list[str]:
    """Partition 3 fails while another task of the job is still busy in user code; that task
    then carries on and writes its attempt file (unless its worker is stopped first).

    This returns a list, so it runs before the task opens its output file.
    """
    markers = Path(marker_dir)
    items = list(records)
    if index == FAILING_PARTITION:
        (markers / "started-3").touch()
        wait_until(lambda: any(markers.glob("straggling-*")), 30)
        raise PartitionThreeFailed("partition 3 failed on purpose")
    if (markers / "started-3").exists() and _claim(markers / "straggler"):
        (markers / f"straggling-{index}").touch()
        time.sleep(STRAGGLE_SECONDS)
        (markers / f"straggler-done-{index}").touch()
    return items


def test_failed_write_job_with_a_straggling_task_leaves_no_output(
    target: Target, tmp_path: Path
) -> None:
    sc = target.sc
    output_url = target.url("straggler")
    rdd = sc.parallelize(range(8), 8).flatMap(write_job_records)
    failing = rdd.mapPartitionsWithIndex(partial(_straggle, str(tmp_path)))

    # One task per partition, so that partition 3's task and a straggler run side by side.
    with ungrouped(sc), pytest.raises(PartitionThreeFailed):
        failing.saveAsTextFile(output_url)
    assert any(tmp_path.glob("straggling-*")), "precondition: a task was busy when 3 failed"
    # The save returned only once no task of the job was running (the straggler finished or
    # its worker was stopped), so nothing can write into the output path any more.
    time.sleep(STRAGGLE_SECONDS + 1)
    wait_until_idle(sc)
    assert not target.exists("straggler"), target.find("straggler")


VICTIM_PARTITION = 5


def _die_once_mid_write(marker_dir: str, index: int, records: Iterator[str]) -> Iterator[str]:
    """Partition 5's first attempt writes 5000 records, then waits to be SIGKILLed."""
    markers = Path(marker_dir)
    (markers / f"started-{index}-{os.getpid()}").touch()
    if index != VICTIM_PARTITION or (markers / "killed").exists():
        yield from records
        return
    items = list(records)
    yield from items[:5000]
    (markers / f"victim-{os.getpid()}").touch()
    time.sleep(WAIT_LIMIT_S)
    raise AssertionError("the victim worker was not killed")


def _kill_the_victim(target: Target, markers: Path, killed: list[tuple[int, list[str]]]) -> None:
    """SIGKILL the worker process running partition 5; note the attempt files at that time."""
    if not wait_until(lambda: any(markers.glob("victim-*"))):
        return
    (victim,) = markers.glob("victim-*")
    pid = int(victim.name.split("-")[1])
    if pid in target.sc._runtime.cluster.worker_pids.values():
        attempts = [name for name in target.find("retried") if name.endswith("part-00005")]
        (markers / "killed").touch()  # before the kill: the retried attempt must not wait
        os.kill(pid, signal.SIGKILL)
        killed.append((pid, attempts))


@pytest.mark.parametrize("filesystem_kind", PROCESS_WORKER_FILESYSTEMS, indirect=True)
def test_worker_killed_during_a_write_leaves_exact_output(target: Target, tmp_path: Path) -> None:
    sc = target.sc
    killed: list[tuple[int, list[str]]] = []
    killer = threading.Thread(target=_kill_the_victim, args=(target, tmp_path, killed), daemon=True)
    killer.start()
    rdd = sc.parallelize(range(8), 8).flatMap(write_job_records)

    rdd.mapPartitionsWithIndex(partial(_die_once_mid_write, str(tmp_path))).saveAsTextFile(
        target.url("retried")
    )
    killer.join()

    assert len(killed) == 1, "the victim worker was never killed"
    ((killed_pid, attempts_at_kill),) = killed
    if target.kind != "webhdfs":  # WebHDFS creates a file only when the writer flushes it
        assert len(attempts_at_kill) == 1, attempts_at_kill  # the killed attempt's file
    victim_attempts = sorted(tmp_path.glob(f"started-{VICTIM_PARTITION}-*"))
    assert len(victim_attempts) == 2  # the killed attempt and its retry
    names = [f"part-{index:05d}" for index in range(8)]
    assert target.listdir("retried") == ["_SUCCESS", *names]
    for index, name in enumerate(names):
        assert target.read(f"retried/{name}") == text_file_bytes(write_job_records(index))
    expected = [record for index in range(8) for record in write_job_records(index)]
    assert same_sequence(sc.textFile(target.url("retried")).collect(), expected)
    # The supervisor replaced the killed worker.
    assert wait_until(
        lambda: (
            len(sc._runtime.cluster.worker_pids) == 2
            and killed_pid not in sc._runtime.cluster.worker_pids.values()
        )
    )


# ---------------------------------------------------------------------------------------------
# Existing output paths and bad paths


def test_existing_output_is_refused_unless_overwrite_is_enabled(target: Target) -> None:
    sc = target.sc
    output = target.url("existing")
    sc.parallelize(["old 0", "old 1", "old 2"], 3).saveAsTextFile(output)
    before = {name: target.read(f"existing/{name}") for name in target.listdir("existing")}

    for save in (
        lambda: sc.parallelize(["new"], 1).saveAsTextFile(output),
        lambda: sc.parallelize(["new"], 1).saveAsPickleFile(output),
    ):
        error = error_of(save)
        assert isinstance(error, FileExistsError)
        assert "already exists" in str(error) and target.path("existing") in str(error)
    assert {name: target.read(f"existing/{name}") for name in target.listdir("existing")} == before

    with conf_settings(sc, {OVERWRITE_KEY: "true"}):
        sc.parallelize(["new 0", "new 1"], 2).saveAsTextFile(output)
    assert target.listdir("existing") == ["_SUCCESS", "part-00000", "part-00001"]
    assert sc.textFile(output).collect() == ["new 0", "new 1"]

    with conf_settings(sc, {"spark.hadoop.validateOutputSpecs": "false"}):
        sc.parallelize([("pickled", 1)], 1).saveAsPickleFile(output)
    assert target.listdir("existing") == ["_SUCCESS", "part-00000"]
    assert sc.pickleFile(output).collect() == [("pickled", 1)]

    target.mkdir("empty-existing")  # Spark refuses an existing empty directory as well
    error = error_of(lambda: sc.parallelize([1], 1).saveAsTextFile(target.url("empty-existing")))
    assert isinstance(error, FileExistsError) and target.path("empty-existing") in str(error)


def test_existing_output_error_names_the_setting_that_allows_overwriting(
    sc: SparkContext, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    error = error_of(lambda: sc.parallelize(["x"], 1).saveAsTextFile(str(tmp_path / "out")))
    assert isinstance(error, FileExistsError) and str(tmp_path / "out") in str(error)
    assert OVERWRITE_KEY in str(error) and "overwrite=True" not in str(error), error


def test_bad_paths_raise_errors_naming_the_path(target: Target) -> None:
    sc = target.sc
    missing = target.url("no/such/file.txt")
    readers = {
        "textFile": sc.textFile,
        "wholeTextFiles": sc.wholeTextFiles,
        "binaryFiles": sc.binaryFiles,
        "binaryRecords": lambda path: sc.binaryRecords(path, 4),
        "pickleFile": sc.pickleFile,
    }
    for operation, read in readers.items():
        error = error_of(lambda read=read: read(missing))
        assert isinstance(error, FileNotFoundError), (operation, error)
        assert operation in str(error) and missing in str(error), error

    error = error_of(lambda: sc.textFile(target.url("nothing-*.txt")))
    assert isinstance(error, FileNotFoundError) and "matches 0 files" in str(error)
    assert target.url("nothing-*.txt") in str(error)

    target.write("plain.txt", b"a file, not a directory\n")
    below_a_file = target.url("plain.txt/inside.txt")
    error = error_of(lambda: sc.textFile(below_a_file))
    assert isinstance(error, (FileNotFoundError, NotADirectoryError)), error
    assert below_a_file in str(error)

    error = error_of(lambda: sc.parallelize(["x"], 1).saveAsTextFile(target.url("plain.txt/out")))
    assert isinstance(error, NotADirectoryError), error
    assert target.path("plain.txt") in str(error) and "is a file" in str(error)
    error = error_of(lambda: sc.parallelize(["x"], 1).saveAsTextFile(target.url("plain.txt")))
    assert isinstance(error, FileExistsError) and target.path("plain.txt") in str(error)
    assert target.read("plain.txt") == b"a file, not a directory\n"

    target.write("nested/a.txt", b"a\n")
    target.write("nested/sub/b.txt", b"b\n")
    error = error_of(lambda: sc.wholeTextFiles(target.url("nested")))
    assert isinstance(error, IsADirectoryError) and target.path("nested/sub") in str(error)


def test_unknown_protocol_and_unreachable_namenode_fail_promptly(sc: SparkContext) -> None:
    for call in (
        lambda: sc.textFile("nosuchfs://bucket/input.txt"),
        lambda: sc.binaryFiles("nosuchfs://bucket/input.txt"),
        lambda: sc.parallelize([1], 1).saveAsTextFile("nosuchfs://bucket/out"),
    ):
        error = error_of(call)
        assert isinstance(error, ValueError), error
        assert "unknown filesystem protocol 'nosuchfs'" in str(error)
        assert "nosuchfs://bucket/" in str(error)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` now.
    for call in (
        lambda: sc.textFile(f"hdfs://127.0.0.1:{port}/data"),
        lambda: sc.parallelize([1], 1).saveAsTextFile(f"hdfs://127.0.0.1:{port}/out"),
    ):
        error = error_of(call)
        assert isinstance(error, ConnectionError) and f"127.0.0.1:{port}" in str(error), error
    with conf_settings(sc, {WEBHDFS_USER_KEY: getpass.getuser()}):
        error = error_of(lambda: sc.textFile(f"webhdfs://127.0.0.1:{port}/data"))
    assert isinstance(error, ConnectionError) and f"127.0.0.1:{port}/data" in str(error), error


_PERMISSION_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from sparkish import SparkConf, SparkContext

    locked_dir, secret_file, read_only_dir = sys.argv[1:4]
    sc = SparkContext("local[1]", "permissions", conf=SparkConf().set("spark.ui.enabled", "false"))
    outcomes = {}
    for name, call in [
        ("list", lambda: sc.textFile(locked_dir)),
        ("read", lambda: sc.textFile(secret_file).collect()),
        ("write", lambda: sc.parallelize(["x"], 1).saveAsTextFile(read_only_dir + "/out")),
    ]:
        try:
            call()
            outcomes[name] = None
        except Exception as error:
            outcomes[name] = [type(error).__name__, str(error)]
    sc.stop()
    print(json.dumps(outcomes))
    """
)
_DROP_DAC_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def _permission_outcomes(locked: Path, secret: Path, read_only: Path) -> dict[str, Any]:
    arguments = [str(locked), str(secret), str(read_only)]
    if os.geteuid() != 0:
        sc = SparkContext._active_spark_context
        assert sc is not None
        outcomes: dict[str, Any] = {}
        for name, call in [
            ("list", lambda: sc.textFile(arguments[0])),
            ("read", lambda: sc.textFile(arguments[1]).collect()),
            ("write", lambda: sc.parallelize(["x"], 1).saveAsTextFile(arguments[2] + "/out")),
        ]:
            error = error_of(call)
            outcomes[name] = [type(error).__name__, str(error)]
        return outcomes
    # root ignores file modes; a driver (and its worker processes, which inherit the bounding
    # set) without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH is denied like anyone else.
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and util-linux 'setpriv' is not installed")
    completed = subprocess.run(
        [*_DROP_DAC_OVERRIDE, sys.executable, "-c", _PERMISSION_SCRIPT, *arguments],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_permission_denied_on_local_files_names_the_path(sc: SparkContext, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("secret\n")
    readable = tmp_path / "readable"
    readable.mkdir()
    secret = readable / "secret.txt"
    secret.write_text("secret\n")
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    locked.chmod(0)
    secret.chmod(0)
    read_only.chmod(0o555)
    try:
        outcomes = _permission_outcomes(locked, secret, read_only)
    finally:
        locked.chmod(0o755)
        secret.chmod(0o644)
        read_only.chmod(0o755)
    assert outcomes["list"][0] == "PermissionError" and str(locked) in outcomes["list"][1]
    assert outcomes["read"][0] == "PermissionError" and str(secret) in outcomes["read"][1]
    assert outcomes["write"][0] == "PermissionError" and str(read_only) in outcomes["write"][1]


@pytest.mark.hdfs
def test_permission_denied_on_hdfs_names_the_path(sc: SparkContext, hdfs_cluster) -> None:
    fs, _ = fsspec.core.url_to_fs(hdfs_cluster.namenode_url)
    private = hdfs_cluster.unique_path("private")
    fs.makedirs(private + "/dir", exist_ok=True)
    with fs.open(private + "/dir/data.txt", "wb") as handle:
        handle.write(b"secret\n")
    with fs.open(private + "/secret.txt", "wb") as handle:
        handle.write(b"secret\n")
    fs.client.set_permission(private + "/dir", 0o700)
    fs.client.set_permission(private + "/secret.txt", 0o600)
    base = hdfs_cluster.webhdfs_url + private
    assert getpass.getuser() != "nobody"

    with conf_settings(sc, {WEBHDFS_USER_KEY: "nobody"}):
        error = error_of(lambda: sc.textFile(f"{base}/dir"))
        assert isinstance(error, PermissionError) and f"{base}/dir" in str(error), error
        # Listing the file is allowed; reading it, in a worker process, is not.
        rdd = sc.textFile(f"{base}/secret.txt")
        error = error_of(rdd.collect)
        assert isinstance(error, PermissionError) and f"{base}/secret.txt" in str(error), error
        error = error_of(lambda: sc.parallelize(["x"], 1).saveAsTextFile(f"{base}/dir/out"))
        assert isinstance(error, PermissionError) and f"{private}/dir/out" in str(error), error
    with conf_settings(sc, {WEBHDFS_USER_KEY: hdfs_cluster.user}):
        assert sc.textFile(f"{base}/secret.txt").collect() == ["secret"]


@pytest.mark.hdfs
def test_webhdfs_user_comes_from_the_conf_key(sc: SparkContext, hdfs_cluster) -> None:
    directory = hdfs_cluster.unique_path("conf-key")
    webhdfs_out = f"{hdfs_cluster.webhdfs_url}{directory}/out"
    hdfs_out = f"{hdfs_cluster.namenode_url}{directory}/out"
    fsspec.core.url_to_fs(hdfs_cluster.namenode_url)[0].makedirs(directory, exist_ok=True)
    lines = [f"line {i} é" for i in range(100)]

    with conf_settings(sc, {}):
        assert sc._runtime.settings.get(WEBHDFS_USER_KEY) is None
        # Without a user, WebHDFS requests run as Hadoop's static user 'dr.who'.
        error = error_of(lambda: sc.parallelize(lines, 3).saveAsTextFile(webhdfs_out))
    assert isinstance(error, PermissionError) and f"{directory}/out" in str(error), error

    with conf_settings(sc, {WEBHDFS_USER_KEY: hdfs_cluster.user}):
        sc.parallelize(lines, 3).saveAsTextFile(webhdfs_out)
        assert sc.textFile(webhdfs_out).collect() == lines
    # What one client wrote, the other reads.
    assert sc.textFile(hdfs_out).collect() == lines


# ---------------------------------------------------------------------------------------------
# memory:// with worker processes


def test_memory_paths_with_worker_processes_fail_promptly_and_leave_nothing(
    sc: SparkContext,
) -> None:
    memory = fsspec.filesystem("memory")
    root = f"/sparkish-rdd-io-driver-only/{uuid.uuid4().hex}"
    memory.pipe(f"{root}/in/a.txt", b"one\ntwo\n")
    try:
        # The driver plans from its own memory://; the worker processes have empty ones.
        # memory:// is private to the driver: refused at once, naming the path.
        error = error_of(lambda: sc.textFile(f"memory://{root}/in"))
        assert isinstance(error, ValueError) and f"{root}/in" in str(error), error

        error = error_of(
            lambda: sc.parallelize(["x", "y"], 2).saveAsTextFile(f"memory://{root}/out")
        )
        assert isinstance(error, ValueError) and f"{root}/out" in str(error), error
        assert not memory.exists(f"{root}/out")
    finally:
        memory.rm(root, recursive=True)


def test_memory_paths_with_worker_processes_say_why_they_fail(sc: SparkContext) -> None:
    memory = fsspec.filesystem("memory")
    root = f"/sparkish-rdd-io-driver-only/{uuid.uuid4().hex}"
    memory.pipe(f"{root}/in/a.txt", b"one\ntwo\n")
    try:
        for call in (
            lambda: sc.textFile(f"memory://{root}/in").collect(),
            lambda: sc.parallelize(["x"], 1).saveAsTextFile(f"memory://{root}/out"),
        ):
            message = str(error_of(call)).replace(root, "<root>")
            assert "memory://" in message, message
            assert re.search(r"process|worker", message.split("[sparkish:")[0]), message
    finally:
        memory.rm(root, recursive=True)


# ---------------------------------------------------------------------------------------------
# Reading: balance, whole files, binary records


def _bytes_per_partition(lines: Iterator[str]) -> list[int]:
    return [sum(len(line.encode("utf-8")) + 1 for line in lines)]


def test_text_file_balances_one_big_file_and_many_tiny_files(target: Target) -> None:
    big = lines_totalling(50 * 1024 * 1024, salt=1)
    files = {"mixed/big.txt": "".join(line + "\n" for line in big).encode()}
    expected = list(big)
    rng = random.Random(5)
    for index in range(200):
        small = numbered_lines(rng.randint(1, 30), salt=100 + index)
        terminator = "\r\n" if index % 3 == 0 else "\n"
        body = terminator.join(small) + ("" if index % 7 == 0 else terminator)
        files[f"mixed/small-{index:03d}.txt"] = body.encode()
        expected.extend(small)
    target.write_many(files)

    for min_partitions in (4, 7):
        rdd = target.sc.textFile(target.url("mixed"), min_partitions)
        assert rdd.getNumPartitions() >= min_partitions
        sizes = rdd.mapPartitions(_bytes_per_partition).collect()
        # Similar sizes: the 200 tiny files cost some bytes' worth of opening each, so the
        # partition holding them may carry somewhat fewer bytes.
        assert max(sizes) <= 1.25 * min(sizes), sizes
        assert same_sequence(rdd.collect(), expected)


def _read_two_splits_interleaved(url: str) -> list[str]:
    """Lines of the first two splits of ``url``, read the way two tasks overlap in time:
    split 0 starts, split 1 runs to its end, then split 0 finishes."""
    first, second = plan_text_splits(url, 4)[:2]
    reader_0, reader_1 = read_text_split(first), read_text_split(second)
    head = next(reader_0)  # split 0 has read its byte range, not yet the end of its last line
    lines_1 = list(reader_1)
    return [head, *reader_0, *lines_1]


def test_memory_paths_on_the_default_in_process_dask_cluster(no_context) -> None:
    from distributed import Client, LocalCluster

    memory = fsspec.filesystem("memory")
    root = f"/sparkish-rdd-io-inproc/{uuid.uuid4().hex}"
    memory.pipe(f"{root}/in.txt", b"one\ntwo\n")
    try:
        with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
            with Client(cluster, set_as_default=False) as client:
                sc = SparkContext(client=client)
                try:
                    assert sc.textFile(f"memory://{root}/in.txt").collect() == ["one", "two"]
                finally:
                    sc.stop()
    finally:
        memory.rm(root, recursive=True)


def test_overlapping_reads_of_one_memory_file(tmp_path: Path) -> None:
    """Deterministic, single-threaded form of the bug behind the memory:// variant of
    ``test_text_file_balances_one_big_file_and_many_tiny_files``."""
    lines = numbered_lines(20_000)
    data = "".join(line + "\n" for line in lines).encode()
    (tmp_path / "shared.txt").write_bytes(data)
    expected_length = len(_read_two_splits_interleaved(str(tmp_path / "shared.txt")))
    # Control: the same interleaving on a local file (independent file objects) is exact.
    control = _read_two_splits_interleaved(str(tmp_path / "shared.txt"))
    assert same_sequence(control, lines[:expected_length])

    memory_path = f"/sparkish-rdd-io-overlap/{uuid.uuid4().hex}/shared.txt"
    memory = fsspec.filesystem("memory")
    memory.pipe(memory_path, data)
    try:
        got = _read_two_splits_interleaved(f"memory://{memory_path}")
        assert same_sequence(got, lines[:expected_length])
    finally:
        memory.rm(memory_path)


def test_whole_text_files_and_binary_files(target: Target) -> None:
    files = {
        "a.txt": "first file\nwith two lines ✓\n".encode(),
        "b.txt.gz": gzip.compress(b"compressed content\n"),
        "c.txt": b"",
        "d.bin": bytes(range(256)) * 40,
        "e.txt": "\r\n".join(numbered_lines(2000)).encode(),
    }
    for name, data in files.items():
        target.write(f"w/{name}", data)
    sc = target.sc
    decoded = {
        "a.txt": files["a.txt"].decode(),
        "b.txt.gz": "compressed content\n",
        "c.txt": "",
        "d.bin": files["d.bin"].decode("utf-8", "replace"),
        "e.txt": files["e.txt"].decode(),
    }

    for min_partitions in (None, 3):
        records = sc.wholeTextFiles(target.url("w"), min_partitions).collect()
        assert records == [(target.file_url(f"w/{name}"), text) for name, text in decoded.items()]
    # A record's path names the file well enough to read it again.
    assert sc.textFile(target.file_url("w/a.txt")).collect() == ["first file", "with two lines ✓"]
    as_bytes = dict(sc.wholeTextFiles(target.url("w"), use_unicode=False).collect())
    assert as_bytes[target.file_url("w/a.txt")] == files["a.txt"]

    binary = sc.binaryFiles(target.url("w"), 2)
    assert dict(binary.collect()) == {target.file_url(f"w/{n}"): d for n, d in files.items()}
    assert sorted(binary.keys().collect()) == sorted(target.file_url(f"w/{n}") for n in files)


def test_binary_records(target: Target) -> None:
    record_length = 7
    rng = random.Random(3)
    expected: list[bytes] = []
    for name, count in (("r1.bin", 1000), ("r2.bin", 0), ("r3.bin", 333)):
        records = [rng.randbytes(record_length) for _ in range(count)]
        target.write(f"rec/{name}", b"".join(records))
        expected.extend(records)

    rdd = target.sc.binaryRecords(target.url("rec"), record_length)
    assert rdd.getNumPartitions() == target.sc.defaultMinPartitions
    assert same_sequence(rdd.collect(), expected)
    assert rdd.map(len).distinct().collect() == [record_length]

    target.write("rec-bad/odd.bin", b"0123456789")
    error = error_of(lambda: target.sc.binaryRecords(target.url("rec-bad"), record_length))
    assert (
        isinstance(error, ValueError) and "odd.bin" in str(error) and "recordLength=7" in str(error)
    )


# ---------------------------------------------------------------------------------------------
# The wordcount workload of WORKLOADS.md from local files, hdfs:// and webhdfs://

# Published in /work/shared/WORKLOADS.md for the 100 MB corpus.
PUBLISHED_WORDCOUNT = (50_000, 13_097_105, "47f380346f3ca0f7")


def wordcount_check(items: list[tuple[str, int]]) -> tuple[int, int, str]:
    text = "".join(f"{word}\t{count}\n" for word, count in sorted(items))
    return (
        len(items),
        sum(count for _, count in items),
        hashlib.sha256(text.encode()).hexdigest()[:16],
    )


@pytest.mark.hdfs
def test_wordcount_from_hdfs_and_local_files_matches_the_published_checksum(
    no_context, hdfs_cluster
) -> None:
    # The full 100 MB corpus: copying it into the MiniDFSCluster takes a few seconds here.
    corpus = ensure_corpus(REPO_ROOT / "benchmarks" / "data" / "wordcount-full")
    assert corpus.sha256 == FULL_CORPUS_SHA256 and corpus.total_words == FULL_CORPUS_WORDS

    fs, _ = fsspec.core.url_to_fs(hdfs_cluster.namenode_url)
    directory = hdfs_cluster.unique_path("wordcount")
    fs.makedirs(directory, exist_ok=True)
    started = time.perf_counter()
    for path in corpus.files:
        fs.put_file(str(path), f"{directory}/{path.name}")
    timings = {"upload to HDFS": time.perf_counter() - started}
    assert sorted(fs.ls(directory, detail=False)) == [
        f"{directory}/{path.name}" for path in corpus.files
    ]

    # The WebHDFS user is configured the public way: a SparkConf key at construction.
    conf = SparkConf().set("spark.ui.port", "0").set(WEBHDFS_USER_KEY, hdfs_cluster.user)
    sc = SparkContext("local[2]", "wordcount-io", conf=conf)
    sources = {
        "local": str(corpus.directory),
        "hdfs": hdfs_cluster.namenode_url + directory,
        "webhdfs": hdfs_cluster.webhdfs_url + directory,
    }
    results = {}
    for name, corpus_dir in sources.items():
        params = WorkloadParams(
            "wordcount", map_partitions=8, reduce_partitions=8, corpus_dir=corpus_dir
        )
        started = time.perf_counter()
        results[name] = rdd_wordcount(sc, params)
        timings[f"wordcount from {name}"] = time.perf_counter() - started
    sc.stop()
    fs.rm(directory, recursive=True)
    print(", ".join(f"{step}: {seconds:.2f} s" for step, seconds in timings.items()))

    for name, items in results.items():
        assert wordcount_check(items) == PUBLISHED_WORDCOUNT, name
    assert same_sequence(sorted(results["hdfs"]), sorted(results["local"]))
    assert same_sequence(sorted(results["webhdfs"]), sorted(results["local"]))


def test_module_helpers_model_hadoop_lines() -> None:
    assert hadoop_lines(b"") == []
    assert hadoop_lines(b"a\r\nb\rc\n\nd") == ["a", "b", "c", "", "d"]
    assert hadoop_lines("x\x0by\u2028z\n".encode()) == ["x\x0by\u2028z"]
    assert hadoop_lines(b"\r\n") == [""]
    assert text_file_bytes([None, b"\xff", ("a", 1)]) == "None\n\ufffd\n('a', 1)\n".encode()
