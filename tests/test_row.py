"""``Row`` behaves like PySpark's ``pyspark.sql.Row`` (compared with the installed PySpark)."""

from __future__ import annotations

import pickle

import pytest

from sparkish import Row

pyspark_types = pytest.importorskip("pyspark.sql.types", reason="pyspark is not installed")


def test_named_rows_match_pyspark() -> None:
    ours, theirs = Row(name="Alice", age=11), pyspark_types.Row(name="Alice", age=11)
    assert repr(ours) == repr(theirs)
    assert (ours.name, ours["age"], ours[0], ours[-1]) == ("Alice", 11, "Alice", 11)
    assert ours == theirs == ("Alice", 11)
    assert ours.asDict() == theirs.asDict() == {"name": "Alice", "age": 11}
    assert ("name" in ours, "Alice" in ours) == ("name" in theirs, "Alice" in theirs)


def test_row_factories_match_pyspark() -> None:
    person, their_person = Row("name", "age"), pyspark_types.Row("name", "age")
    assert repr(person) == repr(their_person)
    assert repr(person("Bob", 7)) == repr(their_person("Bob", 7))
    assert person("Bob", 7).age == 7
    with pytest.raises(ValueError):
        person("Bob", 7, "extra")


def test_nested_rows_turn_into_dicts_recursively() -> None:
    row = Row(key=1, value=[Row(a=2)], more={"x": Row(b=3)})
    assert row.asDict(recursive=True) == {"key": 1, "value": [{"a": 2}], "more": {"x": {"b": 3}}}
    assert row.asDict()["value"] == [Row(a=2)]


def test_unknown_fields_and_writes_are_errors() -> None:
    row = Row(a=1)
    with pytest.raises(AttributeError, match="'b'"):
        _ = row.b
    with pytest.raises(ValueError, match="'b'"):
        _ = row["b"]
    with pytest.raises(AttributeError, match="read-only"):
        row.a = 2
    with pytest.raises(TypeError, match="no field names"):
        Row(1, 2).asDict()


def test_rows_pickle_with_their_fields(sc) -> None:
    row = Row(word="spark", count=3)
    assert pickle.loads(pickle.dumps(row)).asDict() == row.asDict()
    made_on_workers = sc.parallelize([("a", 1), ("b", 2)], 2).map(lambda t: Row(k=t[0], v=t[1]))
    rows = made_on_workers.collect()
    assert [r.k for r in rows] == ["a", "b"] and [r.v for r in rows] == [1, 2]
    assert repr(rows[0]) == "Row(k='a', v=1)"
