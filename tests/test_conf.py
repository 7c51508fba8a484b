"""Tests for sparkish.SparkConf, with PySpark's own ``SparkConf`` (no JVM needed) as the oracle."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.conf import SparkConf as PySparkConf

from sparkish import SparkConf, SparkContext
from sparkish.conf import SUBMIT_CONF_VARIABLE


@pytest.fixture(autouse=True)
def _no_submitted_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without ``sparkish-submit --conf`` settings in the environment."""
    monkeypatch.delenv(SUBMIT_CONF_VARIABLE, raising=False)


def both() -> tuple[SparkConf, PySparkConf]:
    pyspark_conf = PySparkConf(loadDefaults=False)
    assert pyspark_conf._jconf is None, "the oracle must be PySpark's pure-Python SparkConf"
    return SparkConf(loadDefaults=False), pyspark_conf


def same_state(ours: SparkConf, theirs: PySparkConf) -> None:
    assert dict(ours.getAll()) == dict(theirs.getAll())
    assert len(ours.getAll()) == len(theirs.getAll())
    for key, value in theirs.getAll():
        assert ours.get(key) == value
        assert ours.contains(key)


def test_values_are_stored_as_strings_like_pyspark() -> None:
    ours, theirs = both()
    for key, value in [("int", 5), ("float", 1.5), ("bool", True), ("none", None), ("str", "x")]:
        ours.set(key, value)
        theirs.set(key, value)
    same_state(ours, theirs)
    assert ours.get("int") == "5"
    assert all(isinstance(value, str) for _, value in ours.getAll())


def test_setters_chain_and_return_the_same_object() -> None:
    conf = SparkConf(loadDefaults=False)
    returned = (
        conf.set("a", "1")
        .setAll([("b", "2")])
        .setIfMissing("c", "3")
        .setMaster("local[3]")
        .setAppName("app")
        .setSparkHome("/opt/spark")
        .setExecutorEnv("VAR", "value")
    )
    assert returned is conf
    assert conf.get("spark.master") == "local[3]"
    assert conf.get("spark.app.name") == "app"
    assert conf.get("spark.home") == "/opt/spark"
    assert conf.get("spark.executorEnv.VAR") == "value"


def test_get_with_and_without_default() -> None:
    ours, theirs = both()
    ours.set("present", "yes")
    theirs.set("present", "yes")
    for conf in (ours, theirs):
        assert conf.get("missing") is None
        assert conf.get("missing", "fallback") == "fallback"
        assert conf.get("present", "fallback") == "yes"


def test_set_all_later_pairs_override_earlier_ones() -> None:
    ours, theirs = both()
    pairs = [("a", "1"), ("b", "2"), ("a", "3")]
    ours.setAll(pairs)
    theirs.setAll(pairs)
    same_state(ours, theirs)
    assert ours.get("a") == "3"


def test_set_if_missing_keeps_an_existing_value() -> None:
    ours, theirs = both()
    for conf in (ours, theirs):
        conf.set("a", "first").setIfMissing("a", "second").setIfMissing("b", "only")
    same_state(ours, theirs)
    assert (ours.get("a"), ours.get("b")) == ("first", "only")


def test_contains() -> None:
    conf = SparkConf(loadDefaults=False).set("a", "")
    assert conf.contains("a")  # an empty value is still set
    assert not conf.contains("b")


def test_to_debug_string_lists_every_setting_one_per_line() -> None:
    ours, theirs = both()
    pairs = [("spark.z", "26"), ("spark.a", "1"), ("spark.m", "x=y")]
    ours.setAll(pairs)
    theirs.setAll(pairs)
    lines = ours.toDebugString().split("\n")
    assert sorted(lines) == sorted(theirs.toDebugString().split("\n"))
    # A context's configuration lives in the JVM in PySpark, whose toDebugString sorts by key.
    assert lines == sorted(f"{key}={value}" for key, value in pairs)
    assert SparkConf(loadDefaults=False).toDebugString() == ""


def test_set_executor_env_with_one_pair_or_a_list() -> None:
    ours, theirs = both()
    for conf in (ours, theirs):
        conf.setExecutorEnv("VAR1", "value1")
        conf.setExecutorEnv(pairs=[("VAR2", "value2"), ("VAR3", 3)])
    same_state(ours, theirs)
    assert ours.get("spark.executorEnv.VAR3") == "3"


@pytest.mark.parametrize(
    "arguments",
    [{}, {"key": "A", "value": "1", "pairs": [("B", "2")]}],
    ids=["neither", "both"],
)
def test_set_executor_env_needs_exactly_one_form(arguments: dict) -> None:
    with pytest.raises(ValueError, match="pair"):
        SparkConf(loadDefaults=False).setExecutorEnv(**arguments)


def test_get_all_returns_a_new_list_each_time() -> None:
    conf = SparkConf(loadDefaults=False).set("a", "1")
    conf.getAll().append(("b", "2"))
    assert conf.getAll() == [("a", "1")]


def test_load_defaults_reads_the_submitted_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SUBMIT_CONF_VARIABLE, json.dumps({"spark.submitted": 7}))
    assert SparkConf().get("spark.submitted") == "7"
    assert SparkConf(loadDefaults=False).get("spark.submitted") is None
    # Settings made on the object take priority over the loaded ones.
    assert SparkConf().set("spark.submitted", "8").get("spark.submitted") == "8"


def test_system_properties_reach_later_confs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SUBMIT_CONF_VARIABLE, "{}")
    SparkContext.setSystemProperty("spark.from.system", "on")
    assert SparkContext.getSystemProperty("spark.from.system") == "on"
    assert SparkConf().get("spark.from.system") == "on"
    assert SparkConf(loadDefaults=False).get("spark.from.system") is None


_keys = st.sampled_from(["spark.a", "spark.b", "spark.c", "sparkish.d"])
_values = st.one_of(st.text(max_size=5), st.integers(-5, 5), st.booleans(), st.floats(0, 2))
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _keys, _values),
        st.tuples(st.just("setIfMissing"), _keys, _values),
        st.tuples(st.just("setAll"), st.lists(st.tuples(_keys, _values), max_size=3)),
        st.tuples(st.just("setMaster"), st.text(max_size=5)),
        st.tuples(st.just("setAppName"), st.text(max_size=5)),
        st.tuples(st.just("setExecutorEnv"), st.sampled_from(["X", "Y"]), _values),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(_operations)
def test_any_sequence_of_settings_matches_pyspark(operations: list[tuple]) -> None:
    ours, theirs = both()
    for name, *arguments in operations:
        getattr(ours, name)(*arguments)
        getattr(theirs, name)(*arguments)
    same_state(ours, theirs)
    for key in ["spark.a", "spark.b", "spark.c", "sparkish.d", "spark.master", "absent"]:
        assert ours.contains(key) == theirs.contains(key)
        assert ours.get(key, "default") == theirs.get(key, "default")
