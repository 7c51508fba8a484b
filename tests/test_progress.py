"""The console progress bar, as a user sees it: a script run in a pseudo-terminal shows Spark's
``[Stage N:==>   (done + running) / total]`` line on standard error; piped, under CI or with
``spark.ui.showConsoleProgress=false`` it shows nothing."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(300)

# Six map tasks of 0.4 s on two workers (one task per partition): the job runs well past the
# half second after which Spark (and sparkish) start drawing the bar.
SCRIPT = """
import sys, time
from operator import add
from sparkish import SparkConf, SparkContext
conf = SparkConf().set("spark.ui.port", "0").set("sparkish.task.grouping", "false")
if len(sys.argv) > 1:
    conf.set("spark.ui.showConsoleProgress", sys.argv[1])
sc = SparkContext("local[2]", "progress", conf=conf)
pairs = sc.parallelize(range(12), 6).map(lambda x: time.sleep(0.4) or (x % 3, x))
print("result", pairs.reduceByKey(add, 2).count())
sc.stop()
"""

PROGRESS_LINE = re.compile(r"\[Stage (\d+):=*>? *\((\d+) \+ (\d+)\) / 6\]")


def _environment(ci: bool) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        environment["CI"] = "true"
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
    )
    return environment


def run_in_terminal(script: Path, *arguments: str, ci: bool = False) -> str:
    """Run a script with a pseudo-terminal as its stdin, stdout and stderr; what it printed."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(script), *arguments],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_environment(ci),
        cwd=script.parent,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the terminal closed with the process
                    break
                if not data:
                    break
                output += data
            elif process.poll() is not None:
                break
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
        process.wait(30)
    assert process.returncode == 0, output.decode(errors="replace")
    return output.decode(errors="replace")


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    return path


def test_progress_line_in_a_terminal(script):
    output = run_in_terminal(script)
    assert "result 3" in output
    lines = [match.groups() for match in PROGRESS_LINE.finditer(output)]
    assert lines, output
    # The bar counts up: finished tasks never go back, and at most two run at once.
    finished = [int(done) for _, done, _ in lines]
    assert finished == sorted(finished)
    assert all(int(running) <= 2 for _, _, running in lines)
    # Drawn in place with carriage returns and erased before the script prints again.
    before_result = output[: output.index("result 3")]
    assert before_result.startswith("\r[Stage ")
    assert before_result.rstrip(" ").endswith("\r")
    assert "\n" not in before_result


def test_no_progress_line_when_piped(script):
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=_environment(ci=False),
        cwd=script.parent,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "result 3"
    assert "[Stage" not in result.stderr


@pytest.mark.parametrize(
    "arguments, ci",
    [(("false",), False), ((), True)],
    ids=["showConsoleProgress=false", "under-CI"],
)
def test_no_progress_line_when_turned_off(script, arguments, ci):
    output = run_in_terminal(script, *arguments, ci=ci)
    assert "result 3" in output
    assert "[Stage" not in output


def test_show_console_progress_true_turns_it_on_under_ci(script):
    output = run_in_terminal(script, "true", ci=True)
    assert PROGRESS_LINE.search(output), output
