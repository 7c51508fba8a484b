"""The PySpark programs in examples/pyspark run unchanged on sparkish (through sparkish-submit)
and print what PySpark prints for them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((REPO / "examples" / "pyspark").glob("*.py"))
HAVE_PYSPARK = importlib.util.find_spec("pyspark") is not None


def _environment() -> dict[str, str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("SPARKISH_SUBMIT_CONF", None)
    environment["PYSPARK_SUBMIT_ARGS"] = "--master local[2] pyspark-shell"
    environment["PYSPARK_PYTHON"] = sys.executable  # PySpark's workers need this numpy too
    return environment


def _run(command: list[str]) -> str:
    result = subprocess.run(
        command, cwd=REPO, env=_environment(), capture_output=True, text=True, timeout=800
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "the program printed nothing"
    return result.stdout


def _on_sparkish(program: Path) -> str:
    submit = [sys.executable, "-m", "sparkish.submit", "--master", "local[2]"]
    return _run([*submit, "--conf", "spark.ui.enabled=false", str(program)])


#: Runs every program, unchanged, one after the other in one PySpark process (one JVM start
#: instead of seven); each program's output follows a marker line.
PYSPARK_RUNNER = """
import runpy, sys
for path in sys.argv[1:]:
    print("=== " + path, flush=True)
    sys.argv = [path]
    runpy.run_path(path, run_name="__main__")
"""


@pytest.fixture(scope="module")
def pyspark_outputs() -> dict[str, str]:
    if not HAVE_PYSPARK:
        pytest.skip("PySpark is not installed: the outputs are not compared")
    output = _run([sys.executable, "-c", PYSPARK_RUNNER, *map(str, PROGRAMS)])
    sections = output.split("=== ")[1:]
    return {section.split("\n", 1)[0]: section.split("\n", 1)[1] for section in sections}


@pytest.mark.parametrize("program", PROGRAMS, ids=[program.stem for program in PROGRAMS])
@pytest.mark.timeout(900)
def test_example_prints_what_pyspark_prints(
    no_context: None, program: Path, pyspark_outputs: dict[str, str]
) -> None:
    assert _on_sparkish(program) == pyspark_outputs[str(program)]


def test_every_example_opens_a_session_as_real_programs_do() -> None:
    assert len(PROGRAMS) == 7
    for program in PROGRAMS:
        source = program.read_text()
        assert "from pyspark.sql import SparkSession" in source, program
        assert "sparkish" not in source.replace("sparkish-submit", ""), program
