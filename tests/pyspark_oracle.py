"""A real PySpark context in a child process, for tests that compare sparkish with PySpark.

Starting PySpark inside the test process forks its JVM launcher from a process that already
runs many threads (Dask clients, HDFS fixtures), which can deadlock before ``exec``; a plain
subprocess is started without running Python code in the child before ``exec``. The oracle
runs a function against its PySpark context and sends back the result:

    oracle = PySparkOracle()
    oracle.run(lambda sc: sc.parallelize(range(5), 2).glom().collect())
    oracle.close()
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import cloudpickle

_LENGTH = struct.Struct("<Q")


def _send(stream, payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream) -> bytes:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the PySpark oracle process ended")
    (length,) = _LENGTH.unpack(header)
    return stream.read(length)


class PySparkOracle:
    """A PySpark ``local[2]`` context living in a child process."""

    def __init__(self, master: str = "local[2]") -> None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join([root, *sys.path]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.pyspark_oracle", master],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env=environment,
        )
        status, value = pickle.loads(_receive(self._process.stdout))
        if status != "ready":
            raise RuntimeError(f"PySpark did not start: {value}")

    def run(self, function: Callable[[Any], Any]) -> Any:
        """``function(pyspark_context)``, computed in the child; its exception is re-raised."""
        _send(self._process.stdin, cloudpickle.dumps(function))
        status, value = pickle.loads(_receive(self._process.stdout))
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        try:
            self._process.stdin.close()
            self._process.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()


def _serve(master: str) -> None:
    from pyspark import SparkConf, SparkContext

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # keep the reply stream clean
    try:
        conf = (
            SparkConf()
            .setMaster(master)
            .setAppName("sparkish-test-oracle")
            .set("spark.ui.enabled", "false")
            .set("spark.ui.showConsoleProgress", "false")
        )
        context = SparkContext(conf=conf)
        context.setLogLevel("ERROR")
    except Exception as error:  # report start-up failures to the parent
        _send(replies, pickle.dumps(("error", repr(error))))
        return
    _send(replies, pickle.dumps(("ready", None)))
    try:
        while True:
            try:
                function = pickle.loads(_receive(requests))
            except EOFError:
                return
            try:
                reply = ("ok", function(context))
            except Exception as error:
                reply = ("error", error)
            _send(replies, cloudpickle.dumps(reply))
    finally:
        context.stop()


if __name__ == "__main__":
    _serve(sys.argv[1])
