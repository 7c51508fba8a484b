"""``sparkish-submit``: run a PySpark-style script on sparkish, like ``spark-submit``.

    sparkish-submit --master local[4] --name nightly --conf spark.default.parallelism=8 job.py ARGS
    sparkish-submit --master dask://scheduler:8786 job.py
    sparkish-submit --pyspark-compat job.py   # a script that imports pyspark runs on sparkish

The settings reach every ``SparkConf()`` the script creates (``loadDefaults``), so
``SparkContext()`` with no arguments picks up the master and application name. With
``--pyspark-compat``, ``import pyspark`` inside the script imports sparkish instead, so an
unmodified PySpark RDD script runs unchanged. ``-`` reads the script from standard input.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import types

import sparkish

from .conf import SUBMIT_CONF_VARIABLE

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparkish-submit",
        description="Run a PySpark RDD script on sparkish (Dask).",
    )
    parser.add_argument("--master", help="local, local[N], local[*], dask://host:port ...")
    parser.add_argument("--name", help="application name (spark.app.name)")
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a configuration property; may be repeated",
    )
    parser.add_argument(
        "--py-files",
        default="",
        help="comma-separated .py/.zip files to put on the import path of driver and workers",
    )
    parser.add_argument(
        "--pyspark-compat",
        action="store_true",
        help="make `import pyspark` in the script import sparkish",
    )
    parser.add_argument("script", help="the Python script to run, or - for standard input")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return parser


def _settings(options: argparse.Namespace) -> dict[str, str]:
    settings: dict[str, str] = json.loads(os.environ.get(SUBMIT_CONF_VARIABLE, "{}"))
    for item in options.conf:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise SystemExit(f"sparkish-submit: --conf expects KEY=VALUE, got {item!r}")
        settings[key] = value
    if options.master:
        settings["spark.master"] = options.master
    if options.name:
        settings["spark.app.name"] = options.name
    if options.py_files:
        settings["spark.submit.pyFiles"] = options.py_files
    return settings


def _install_pyspark_alias() -> None:
    for name in (
        "pyspark",
        "pyspark.context",
        "pyspark.rdd",
        "pyspark.core.context",
        "pyspark.core.rdd",
        "pyspark.conf",
        "pyspark.storagelevel",
        "pyspark.files",
        "pyspark.accumulators",
        "pyspark.broadcast",
        "pyspark.statcounter",
    ):
        alias = types.ModuleType(name)
        for public in sparkish.__all__:
            setattr(alias, public, getattr(sparkish, public))
        sys.modules[name] = alias


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``sparkish-submit`` command."""
    options = _parser().parse_args(argv)
    settings = _settings(options)
    os.environ[SUBMIT_CONF_VARIABLE] = json.dumps(settings)
    for path in filter(None, options.py_files.split(",")):
        directory = os.path.dirname(os.path.abspath(path))
        sys.path.insert(0, os.path.abspath(path) if path.endswith(".zip") else directory)
    if options.pyspark_compat:
        _install_pyspark_alias()
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
