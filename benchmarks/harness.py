"""Run one measurement in a fresh process and watch the whole process tree it creates.

:func:`run_fresh_process` starts ``python -m benchmarks.runner`` in its own session, samples the
memory of the runner and all its descendants (JVM, Python workers, Dask nannies and workers)
every 0.25 s, enforces a timeout by killing the tree, and turns the runner's JSON line into a
:class:`RunRecord` whose checksum has been compared with the expectation.

>>> from benchmarks.workloads import workload_params
>>> record = run_fresh_process("python", workload_params("pi", "tiny"), workers=1)
>>> record.status, record.peak_memory_bytes > 0
('ok', True)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.runner import PHASE_MARKER, PHASES, RESULT_MARKER
from benchmarks.workloads import WorkloadParams, check_observed

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INTERVAL_S = 0.25
_STRAGGLER_GRACE_S = 3.0

# Outcome of one run. "ok": finished and the checksum matched; "wrong": finished, checksum did
# not match; "crash": the runner reported an error or died; "timeout": killed after timeout_s;
# "memory": killed when its process tree went over the memory limit; "skipped": not run (system
# unavailable or failed to start in an earlier run).
STATUSES = ("ok", "wrong", "crash", "timeout", "memory", "skipped")
GIB = 1024**3


@dataclass
class RunRecord:
    """Everything measured about one (system, workload) run."""

    system: str
    workload: str
    size: str
    scale: int
    workers: int
    run_index: int = 0
    status: str = "skipped"
    startup_s: float | None = None
    job_s: float | None = None
    peak_memory_bytes: int | None = None
    memory_source: str = "pss"
    peak_processes: int = 0
    wall_s: float | None = None
    check: str = ""
    error: str = ""
    phase: str = ""
    returncode: int | None = None
    leftover_processes: int = 0
    process_ids: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the record.

        >>> RunRecord("python", "pi", "tiny", 1, 1).to_json()["status"]
        'skipped'
        """
        return asdict(self)


def runner_environment() -> dict[str, str]:
    """Environment for runner processes: the repository importable, one Python everywhere.

    PySpark's Python workers and Dask's spawned workers inherit it, so they import the same
    ``benchmarks`` (and ``sparkish``) code and run on this interpreter.

    >>> runner_environment()["PYSPARK_PYTHON"] == sys.executable
    True
    """
    env = dict(os.environ)
    python_path = [str(REPO_ROOT)]
    if env.get("PYTHONPATH"):
        python_path.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _process_memory(process: psutil.Process) -> tuple[int, bool]:
    """(bytes, is_pss) of one process; 0 if it has gone."""
    try:
        return process.memory_full_info().pss, True
    except psutil.AccessDenied:
        try:
            return process.memory_info().rss, False
        except psutil.Error:
            return 0, False
    except (psutil.NoSuchProcess, psutil.ZombieProcess, AttributeError):
        # AttributeError: a platform without PSS.
        try:
            return process.memory_info().rss, False
        except psutil.Error:
            return 0, False


class TreeMemorySampler(threading.Thread):
    """Samples the summed PSS (RSS where PSS is unavailable) of a process and its descendants.

    >>> sampler = TreeMemorySampler(os.getpid(), interval_s=0.01)
    >>> sampler.start(); time.sleep(0.05); sampler.stop()
    >>> sampler.peak_bytes > 0
    True
    """

    def __init__(self, pid: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        super().__init__(name=f"memory-sampler-{pid}", daemon=True)
        self.root_pid = pid
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.peak_processes = 0
        self.used_rss = False
        self.seen: dict[int, psutil.Process] = {}
        self._stopping = threading.Event()

    def sample(self) -> int:
        """Take one sample now and return the tree's total."""
        try:
            root = psutil.Process(self.root_pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for process in tree:
            if process.pid != self.root_pid:
                self.seen.setdefault(process.pid, process)
            amount, is_pss = _process_memory(process)
            total += amount
            self.used_rss = self.used_rss or (amount > 0 and not is_pss)
        if total > self.peak_bytes:
            self.peak_bytes = total
        self.peak_processes = max(self.peak_processes, len(tree))
        return total

    def run(self) -> None:
        while True:
            self.sample()
            if self._stopping.wait(self.interval_s):
                return

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._stopping.set()
        self.join()

    def live_descendants(self) -> list[psutil.Process]:
        """Descendants seen while sampling that are still running (checked against pid reuse)."""
        alive = []
        for process in self.seen.values():
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.Error:
                continue
        return alive


def _kill_all(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(processes, timeout=5)


def _parse_result_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER) :])
    return None


def _completed_phases(stdout: str) -> dict[str, float]:
    phases = {}
    for line in stdout.splitlines():
        if line.startswith(PHASE_MARKER):
            entry = json.loads(line[len(PHASE_MARKER) :])
            phases[entry["phase"]] = entry["seconds"]
    return phases


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _spawn_runner(arguments: list[str]) -> tuple[subprocess.Popen[bytes], Any, Any]:
    stdout_file = tempfile.TemporaryFile()
    stderr_file = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.runner", *arguments],
        cwd=REPO_ROOT,
        env=runner_environment(),
        stdout=stdout_file,
        stderr=stderr_file,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, stdout_file, stderr_file


def _read(handle: Any) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", errors="replace")


def probe_system(
    system: str, timeout_s: float = 120.0, sparkish_from: str | None = None
) -> dict[str, Any]:
    """Ask a fresh process whether ``system`` can be imported; ``{"available": bool, ...}``.

    ``sparkish_from`` is the checkout of the baseline sparkish (its system only).

    >>> probe_system("python")["available"]
    True
    """
    arguments = ["--probe", system]
    if sparkish_from:
        arguments += ["--sparkish-from", sparkish_from]
    process, stdout_file, stderr_file = _spawn_runner(arguments)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return {"available": False, "note": f"probing {system} timed out after {timeout_s:g} s"}
    parsed = _parse_result_line(_read(stdout_file))
    if parsed is None:
        return {
            "available": False,
            "note": f"probing {system} failed (exit {process.returncode}): "
            + _tail(_read(stderr_file), 3),
        }
    return parsed


def _wait_or_kill(
    process: subprocess.Popen[bytes],
    sampler: TreeMemorySampler,
    timeout_s: float,
    memory_limit_bytes: int | None,
) -> str:
    """Wait for the runner; kill its tree on timeout or over the memory limit.

    Returns "" when the runner ended by itself, else "timeout" or "memory".
    """
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        try:
            process.wait(timeout=max(0.0, min(remaining, sampler.interval_s)))
            return ""
        except subprocess.TimeoutExpired:
            pass
        if memory_limit_bytes is not None and sampler.peak_bytes > memory_limit_bytes:
            reason = "memory"
        elif time.monotonic() >= deadline:
            reason = "timeout"
        else:
            continue
        sampler.sample()
        # The runner leads its own session, so its process group holds everything it started;
        # it has not been reaped yet, so the group id is still ours.
        os.killpg(process.pid, signal.SIGKILL)
        _kill_all(sampler.live_descendants())
        process.wait()
        return reason


def run_fresh_process(
    system: str,
    params: WorkloadParams,
    workers: int,
    expected: dict[str, Any] | None = None,
    timeout_s: float = 600.0,
    run_index: int = 0,
    sample_interval_s: float = SAMPLE_INTERVAL_S,
    sparkish_conf: dict[str, str] | None = None,
    sparkish_from: str | None = None,
    memory_limit_bytes: int | None = None,
) -> RunRecord:
    """Measure ``system`` on ``params`` in a new process and check its result.

    ``expected`` is the :func:`benchmarks.workloads.expected_pairs` dict (unused for pi). The
    process tree is killed after ``timeout_s`` seconds and the run recorded as "timeout".
    ``sparkish_conf`` settings reach every ``SparkConf`` of a sparkish run (e.g.
    ``{"sparkish.metrics.enabled": "false"}``). ``sparkish_from`` is the checkout whose sparkish
    the baseline system runs. A process tree whose sampled memory goes over
    ``memory_limit_bytes`` is killed and the run recorded as "memory", before it can push a
    shared machine into swapping or its out-of-memory killer.
    """
    record = RunRecord(system, params.name, params.size, params.scale, workers, run_index)
    arguments = [
        "--system",
        system,
        "--workers",
        str(workers),
        "--params",
        json.dumps(params.to_json()),
    ]
    for key, setting in (sparkish_conf or {}).items():
        arguments += ["--sparkish-conf", f"{key}={setting}"]
    if sparkish_from:
        arguments += ["--sparkish-from", sparkish_from]
    started = time.perf_counter()
    process, stdout_file, stderr_file = _spawn_runner(arguments)
    sampler = TreeMemorySampler(process.pid, sample_interval_s)
    sampler.start()
    try:
        killed_for = _wait_or_kill(process, sampler, timeout_s, memory_limit_bytes)
    finally:
        sampler.stop()
    record.wall_s = time.perf_counter() - started
    record.returncode = process.returncode
    record.peak_memory_bytes = sampler.peak_bytes
    record.peak_processes = sampler.peak_processes
    record.memory_source = "rss" if sampler.used_rss else "pss"
    record.process_ids = [process.pid, *sampler.seen]

    deadline = time.monotonic() + _STRAGGLER_GRACE_S
    leftovers = sampler.live_descendants()
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = sampler.live_descendants()
    if leftovers:
        record.leftover_processes = len(leftovers)
        _kill_all(leftovers)

    stdout, stderr = _read(stdout_file), _read(stderr_file)
    stdout_file.close()
    stderr_file.close()
    parsed = _parse_result_line(stdout)
    if killed_for:
        completed = _completed_phases(stdout)
        applicable = PHASES if system != "python" else ("job", "check")
        record.status = killed_for
        record.startup_s = completed.get("startup")
        record.phase = next((phase for phase in applicable if phase not in completed), "")
        if killed_for == "timeout":
            record.error = f"killed after {timeout_s:g} s"
        else:
            record.error = (
                f"killed when its process tree reached {sampler.peak_bytes / GIB:.2f} GiB, over "
                f"the memory limit of {(memory_limit_bytes or 0) / GIB:g} GiB"
            )
        record.stderr_tail = _tail(stderr)
        return record
    if parsed is None:
        record.status = "crash"
        record.phase = "process"
        record.error = f"runner exited with code {process.returncode} without a result"
        record.stderr_tail = _tail(stderr)
        return record
    record.startup_s = parsed.get("startup_s")
    record.extra = parsed.get("extra", {})
    if "error" in parsed:
        record.status = "crash"
        record.phase = parsed.get("phase", "")
        record.error = parsed["error"]
        record.stderr_tail = _tail(parsed.get("traceback", "") or stderr)
        return record
    record.job_s = parsed.get("job_s")
    record.observed = parsed.get("observed", {})
    passed, explanation = check_observed(params, record.observed, expected)
    record.status = "ok" if passed else "wrong"
    record.check = explanation
    return record
