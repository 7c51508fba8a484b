"""Every public class and method of sparkish's API documents what it takes (numpydoc style).

numpydoc's own validator checks each public member: a docstring exists (GL08), every parameter
is described and no described parameter is missing from the signature (PR01, PR02), the
Parameters section is well formed (PR03, PR06, PR10), and a Returns section describes any
returned value (RT01 for members that declare a non-``None`` return type and take parameters).
"""

from __future__ import annotations

import inspect
import typing

import pytest

validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is not installed").validate

import sparkish  # noqa: E402
from sparkish import serializers, sql  # noqa: E402
from sparkish.rdd import RDDBarrier  # noqa: E402
from sparkish.taskcontext import BarrierTaskContext  # noqa: E402

#: The public classes whose members are checked (PySpark's names).
CLASSES = [
    sparkish.RDD,
    sparkish.SparkContext,
    sparkish.SparkConf,
    sparkish.Broadcast,
    sparkish.Accumulator,
    sparkish.AccumulatorParam,
    sparkish.StatusTracker,
    sparkish.TaskContext,
    sparkish.StatCounter,
    sparkish.SparkFiles,
    sparkish.StorageLevel,
    sparkish.Partitioner,
    sparkish.Row,
    sparkish.InheritableThread,
    sql.SparkSession,
    sql.SparkSession.Builder,
    sql.RuntimeConfig,
    sql.DataFrame,
    sql.DataFrameReader,
    RDDBarrier,
    BarrierTaskContext,
    serializers.Serializer,
    serializers.BatchedSerializer,
    serializers.AutoBatchedSerializer,
]

CHECKS = {"GL08", "PR01", "PR02", "PR03", "PR06", "PR10"}


def _members() -> list[str]:
    names = []
    for cls in CLASSES:
        names.append(f"{cls.__module__}.{cls.__qualname__}")
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or name in {"mro"}:
                continue
            function = getattr(member, "fget", member)
            if not (inspect.isfunction(function) or inspect.ismethod(function)):
                continue
            if not getattr(function, "__module__", "").startswith("sparkish"):
                continue  # inherited from Python (threading.Thread, float...)
            names.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    names.append("sparkish.inheritable_thread_target")
    return names


MEMBERS = _members()


def _declares_a_result(name: str) -> bool:
    module_name, _, path = name.partition(".")
    target: object = sparkish
    for part in name.split(".")[1:]:
        target = getattr(target, part)
    function = getattr(target, "fget", target)
    if isinstance(function, type) or not callable(function):
        return False
    try:
        returned = typing.get_type_hints(function).get("return")
    except Exception:
        return False
    parameters = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
    return returned not in (None, type(None)) and bool(parameters)


@pytest.mark.parametrize("name", MEMBERS)
def test_public_member_is_documented(name: str) -> None:
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"] if code in CHECKS]
    if _declares_a_result(name):
        errors += [
            f"{code}: {message}" for code, message in validate(name)["errors"] if code == "RT01"
        ]
    assert errors == [], name


def test_the_check_sees_an_undocumented_parameter() -> None:
    """The validator is not vacuous: a parameter missing from a docstring is reported."""
    codes = {code for code, _ in validate("tests.test_docstrings._undocumented")["errors"]}
    assert "PR01" in codes


def _undocumented(count: int) -> int:
    """Return a number.

    Returns
    -------
    int
        The number.
    """
    return count
