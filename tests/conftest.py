"""Shared fixtures: one embedded sparkish context reused across tests, and CI's no-skip rule."""

from __future__ import annotations

import os

import pytest

from sparkish import SparkConf, SparkContext

pytest_plugins = ["tests.fixtures_hdfs"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_shared: SparkContext | None = None


def _shared_context() -> SparkContext:
    global _shared
    if _shared is None or _shared._stopped:
        active = SparkContext._active_spark_context
        if active is not None:
            active.stop()
        conf = SparkConf().set("spark.ui.port", "0")
        _shared = SparkContext("local[2]", "sparkish-tests", conf=conf)
    return _shared


@pytest.fixture
def sc() -> SparkContext:
    """A ``local[2]`` context (two worker processes) shared by the tests that use it."""
    context = _shared_context()
    context._runtime.replace_local_properties({})
    return context


#: Local properties of the two ways jobs may map partitions to tasks: grouping consecutive
#: partitions (at least one group per worker thread, so small RDDs are grouped too) and one task
#: per partition (``--no-grouping``).
GROUPING_MODES = {
    "grouped": {"sparkish.task.tasksPerSlot": "1"},
    "per-partition": {"sparkish.task.grouping": "false"},
}


@pytest.fixture(params=sorted(GROUPING_MODES))
def sc_in_both_grouping_modes(request) -> SparkContext:
    """The shared context, once with partitions grouped into tasks and once without; the RDD
    and shuffle suites run in both modes."""
    context = _shared_context()
    context._runtime.replace_local_properties(dict(GROUPING_MODES[request.param]))
    return context


@pytest.fixture
def no_context():
    """Stop any active context so the test can create its own; stop the test's one afterwards."""
    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()
    yield
    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()


def pytest_sessionfinish(session, exitstatus):
    if _shared is not None:
        _shared.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipping, but this test skipped: {reason}"
