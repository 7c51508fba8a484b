"""``sparkish-submit``: run a PySpark program on sparkish, like ``spark-submit``.

    sparkish-submit --master local[4] --name nightly --conf spark.default.parallelism=8 job.py ARGS
    sparkish-submit --master dask://scheduler:8786 --executor-memory 4g job.py
    python -m sparkish.submit job.py          # the same, without the console script
    sparkish-submit - < job.py                # the program on standard input

``import pyspark`` inside the program imports sparkish (see :mod:`sparkish.compat`), so an
unmodified PySpark program runs on sparkish; ``--no-pyspark-compat`` turns that off. The
settings reach every ``SparkConf()`` the program creates (``loadDefaults``), so a
``SparkContext()`` or ``SparkSession.builder.getOrCreate()`` without arguments picks up the
master and application name. spark-submit's other options are accepted; those that mean
nothing here (JVM, YARN, Kubernetes options...) are ignored with a warning.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import warnings
from collections.abc import Iterable

from . import compat
from .conf import SUBMIT_CONF_VARIABLE

__all__ = ["main"]

#: spark-submit options that name a sparkish setting.
_SETTING_OPTIONS = {
    "--master": "spark.master",
    "--name": "spark.app.name",
    "--executor-memory": "spark.executor.memory",
    "--driver-memory": "spark.driver.memory",
    "--py-files": "spark.submit.pyFiles",
    "--files": "spark.files",
    "--archives": "spark.archives",
}

#: spark-submit options that take a value and mean nothing for sparkish.
_IGNORED_WITH_VALUE = (
    "--deploy-mode",
    "--class",
    "--jars",
    "--packages",
    "--exclude-packages",
    "--repositories",
    "--driver-java-options",
    "--driver-library-path",
    "--driver-class-path",
    "--driver-cores",
    "--executor-cores",
    "--total-executor-cores",
    "--num-executors",
    "--queue",
    "--principal",
    "--keytab",
    "--proxy-user",
)

#: spark-submit flags without a value that mean nothing for sparkish.
_IGNORED_FLAGS = ("--supervise", "--verbose", "-v")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparkish-submit",
        description="Run a PySpark program on sparkish (Dask), like spark-submit.",
    )
    for option, setting in _SETTING_OPTIONS.items():
        parser.add_argument(option, help=f"sets {setting}")
    parser.add_argument(
        "--conf",
        "-c",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a configuration property; may be repeated",
    )
    parser.add_argument(
        "--properties-file", help="a file of 'key value' (or key=value) settings, one per line"
    )
    parser.add_argument(
        "--no-pyspark-compat",
        dest="pyspark_compat",
        action="store_false",
        help="do not make `import pyspark` in the program import sparkish",
    )
    parser.add_argument(
        "--no-grouping",
        dest="grouping",
        action="store_false",
        help="run one task per partition (sets sparkish.task.grouping=false)",
    )
    # Kept for programs started with the option before it became the default.
    parser.add_argument(
        "--pyspark-compat", dest="legacy_compat", action="store_true", help=argparse.SUPPRESS
    )
    for option in _IGNORED_WITH_VALUE:
        parser.add_argument(option, dest=f"ignored{option}", help="accepted and ignored")
    for flag in _IGNORED_FLAGS:
        parser.add_argument(flag, dest=f"ignored{flag}", action="store_true", help="ignored")
    parser.add_argument("script", help="the Python program to run, or - for standard input")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program")
    return parser


def _properties(path: str) -> Iterable[tuple[str, str]]:
    """The settings of a spark-submit properties file (``key value`` or ``key=value``)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip()
            if not text or text.startswith(("#", "!")):
                continue
            key, _, value = text.replace("=", " ", 1).partition(" ")
            yield key.strip(), value.strip()


def _settings(options: argparse.Namespace) -> dict[str, str]:
    settings: dict[str, str] = json.loads(os.environ.get(SUBMIT_CONF_VARIABLE, "{}"))
    if options.properties_file:
        settings.update(_properties(options.properties_file))
    for item in options.conf:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise SystemExit(f"sparkish-submit: --conf expects KEY=VALUE, got {item!r}")
        settings[key] = value
    for option, setting in _SETTING_OPTIONS.items():
        value = getattr(options, option.lstrip("-").replace("-", "_"))
        if value is not None:
            settings[setting] = value
    if not options.grouping:
        settings["sparkish.task.grouping"] = "false"
    return settings


def _warn_about_ignored(options: argparse.Namespace) -> None:
    for option in (*_IGNORED_WITH_VALUE, *_IGNORED_FLAGS):
        if getattr(options, f"ignored{option}", None):
            warnings.warn(
                f"sparkish-submit: {option} is ignored (it has no meaning for sparkish)",
                UserWarning,
                stacklevel=2,
            )
    if options.driver_memory is not None:
        warnings.warn(
            "sparkish-submit: --driver-memory is recorded as spark.driver.memory but does not "
            "limit the driver, which is this Python process",
            UserWarning,
            stacklevel=2,
        )


def _put_py_files_on_path(py_files: str | None) -> None:
    for path in filter(None, (py_files or "").split(",")):
        absolute = os.path.abspath(path)
        archive = path.endswith((".zip", ".egg", ".whl"))
        sys.path.insert(0, absolute if archive else os.path.dirname(absolute))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``sparkish-submit`` command.

    Parameters
    ----------
    argv : list of str, optional
        The command line after the program name (default: ``sys.argv[1:]``).
    """
    options = _parser().parse_args(argv)
    _warn_about_ignored(options)
    settings = _settings(options)
    os.environ[SUBMIT_CONF_VARIABLE] = json.dumps(settings)
    _put_py_files_on_path(options.py_files)
    if options.pyspark_compat:
        compat.install()
    if options.script == "-":
        source = sys.stdin.read()
        sys.argv = ["-", *options.args]
        code = compile(source, "<stdin>", "exec")
        namespace = {"__name__": "__main__", "__file__": "<stdin>"}
        exec(code, namespace)  # noqa: S102 - running the user's program is the point
        return
    script = os.path.abspath(options.script)
    if not os.path.exists(script):
        raise SystemExit(f"sparkish-submit: {options.script} does not exist")
    sys.argv = [script, *options.args]
    sys.path.insert(0, os.path.dirname(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
