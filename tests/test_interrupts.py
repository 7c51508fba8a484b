"""Ctrl-C and stopping, seen from a real driver process (issue 12, finding 4).

Each test runs a driver script in a subprocess with a ``local[2]`` cluster, interrupts it with
SIGINT while a shuffle's map tasks run (a map task touches a marker file when it starts), and
reads what the driver printed and did.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PREAMBLE = """
import json, operator, os, sys, time
from sparkish import SparkConf, SparkContext
from sparkish._dask_compat import active_shuffle_ids

marker = sys.argv[1]
sc = SparkContext("local[2]", "interrupts", conf=SparkConf().set("spark.ui.enabled", "false"))

def slow_pair(x):
    open(marker, "a").close()
    time.sleep(0.5)
    return (x % 10, x)

def scheduler_keys(dask_scheduler):
    return [str(key) for key in dask_scheduler.tasks]

def interrupted_shuffle():
    # 20 map tasks of 5 s each on two workers: still running when the signal arrives.
    return sc.parallelize(range(200), 20).map(slow_pair).reduceByKey(operator.add).collect()
"""


def _start_driver(tmp_path: Path, body: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "driver.py"
    script.write_text(PREAMBLE + textwrap.dedent(body))
    marker = tmp_path / "map-task-started"
    root = str(Path(__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, str(script), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    return process, marker


def _finish(process: subprocess.Popen, stdin: str | None = None) -> tuple[str, str]:
    """The driver's output once it has ended; a driver that hangs is killed, then reported."""
    try:
        return process.communicate(stdin, timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"the driver hung; it printed {stdout!r} and {stderr!r}") from None


def _interrupt_when_map_tasks_run(process: subprocess.Popen, marker: Path) -> None:
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, _finish(process)
        assert time.monotonic() < deadline, "the map tasks never started"
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)


def test_ctrl_c_during_a_shuffle_prints_one_line_and_ends_the_driver(tmp_path):
    process, marker = _start_driver(tmp_path, "interrupted_shuffle()\nprint('not interrupted')\n")
    _interrupt_when_map_tasks_run(process, marker)
    stdout, stderr = _finish(process)
    assert process.returncode != 0
    assert "not interrupted" not in stdout
    assert stderr.splitlines() == [
        f"KeyboardInterrupt: cancelled job 0 (collect at driver.py:{PREAMBLE.count(chr(10))})"
    ], stderr


def test_ctrl_c_caught_cancels_the_whole_shuffle_and_the_context_stays_usable(tmp_path):
    body = """
    try:
        interrupted_shuffle()
    except KeyboardInterrupt:
        pass
    else:
        sys.exit("not interrupted")
    keys = sc.dask_client.run_on_scheduler(scheduler_keys)
    shuffles = sc.dask_client.run_on_scheduler(active_shuffle_ids)
    print(json.dumps({"keys": keys, "shuffles": shuffles}), flush=True)
    pairs = sc.parallelize(range(100), 4).map(lambda x: (x % 3, 1)).reduceByKey(operator.add)
    print(json.dumps(sorted(pairs.collect())), flush=True)
    sc.stop()
    """
    process, marker = _start_driver(tmp_path, body)
    _interrupt_when_map_tasks_run(process, marker)
    stdout, stderr = _finish(process)
    assert process.returncode == 0, stderr
    leftovers, result = (json.loads(line) for line in stdout.splitlines())
    # Right after the interrupt the scheduler holds no task of the interrupted job, map tasks
    # and P2P barrier included, and the P2P extension runs no shuffle.
    assert leftovers == {"keys": [], "shuffles": []}
    assert result == [[0, 34], [1, 33], [2, 33]]
    assert "Traceback" not in stderr, stderr


@pytest.mark.parametrize("records", [200_000])
def test_stopping_after_a_shuffle_prints_nothing(tmp_path, records):
    body = f"""
    pairs = sc.parallelize(range({records}), 8).map(lambda x: (x, x)).partitionBy(8)
    print(pairs.map(lambda kv: kv[0]).count(), flush=True)
    sc.stop()
    """
    process, _ = _start_driver(tmp_path, body)
    stdout, stderr = _finish(process)
    assert process.returncode == 0
    assert stdout.split() == [str(records)]
    assert stderr == ""


def test_ctrl_c_in_the_python_repl_keeps_the_context(tmp_path):
    marker = tmp_path / "map-task-started"
    root = str(Path(__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-i", "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    assert process.stdin is not None
    session = PREAMBLE.replace("marker = sys.argv[1]", f"marker = {str(marker)!r}")
    process.stdin.write(session + "\ninterrupted_shuffle()\n")
    process.stdin.flush()
    _interrupt_when_map_tasks_run(process, marker)
    process.stdin.write("print('after', sc.parallelize([1, 2], 2).sum())\nsc.stop()\n")
    process.stdin.flush()
    stdout, stderr = _finish(process, "")
    assert "KeyboardInterrupt: cancelled job 0 (collect at <stdin>:" in stderr
    assert "Traceback" not in stderr, stderr
    assert stdout.split() == ["after", "3"]


def test_stopping_right_after_cancelling_a_task_that_holds_the_gil(tmp_path):
    body = """
    import threading

    def hog(x):
        open(marker, "a").close()
        sum(range(10**11))  # a C loop that never releases the GIL: the worker cannot answer
        return x

    def run():
        sc.setJobGroup("hogs", "holds the GIL")
        try:
            sc.parallelize(range(2), 2).map(hog).collect()
        except Exception as error:
            print(type(error).__name__, flush=True)

    job = threading.Thread(target=run)
    job.start()
    while not os.path.exists(marker):
        time.sleep(0.1)
    time.sleep(0.5)
    sc.cancelJobGroup("hogs")
    job.join()
    sc.stop()
    print("stopped", flush=True)
    """
    process, _ = _start_driver(tmp_path, body)
    stdout, stderr = _finish(process)
    assert process.returncode == 0, stderr
    assert stdout.split() == ["JobCancelledError", "stopped"]
