"""Parquet, CSV and JSON-lines files read into RDDs of Rows and RDDs written as Parquet.

Files are written by pandas/pyarrow and read back by pandas as the reference; each test runs on
local paths and on the real MiniDFSCluster (``hdfs://`` through hdfs-native). Malformed files
must give an error naming the file and the byte offset or row group; a write that fails or whose
worker is killed half-way must leave no partial output.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparkish import Row, SparkContext

WAIT_LIMIT_S = 60.0


@dataclass
class Place:
    """A directory on one file system, and an fsspec handle that writes there directly."""

    kind: str
    url: str
    fs: Any
    path: str

    def join(self, name: str) -> str:
        return f"{self.url}/{name}"

    def write(self, name: str, data: bytes) -> None:
        self.fs.makedirs(f"{self.path}/{name}".rsplit("/", 1)[0], exist_ok=True)
        with self.fs.open(f"{self.path}/{name}", "wb") as handle:
            handle.write(data)

    def read(self, name: str) -> bytes:
        with self.fs.open(f"{self.path}/{name}", "rb") as handle:
            return handle.read()

    def listdir(self, name: str) -> list[str]:
        return sorted(
            p.rstrip("/").rsplit("/", 1)[-1]
            for p in self.fs.ls(f"{self.path}/{name}", detail=False)
        )

    def exists(self, name: str) -> bool:
        return self.fs.exists(f"{self.path}/{name}")


@pytest.fixture(params=["local", pytest.param("hdfs", marks=pytest.mark.hdfs)])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    if request.param == "local":
        yield Place("local", str(tmp_path), fsspec.filesystem("file"), str(tmp_path))
        return
    cluster = request.getfixturevalue("hdfs_cluster")
    directory = cluster.unique_path("structured")
    fs, _ = fsspec.core.url_to_fs(cluster.namenode_url)
    fs.makedirs(directory, exist_ok=True)
    yield Place("hdfs", cluster.namenode_url + directory, fs, directory)
    fs.rm(directory, recursive=True)


def reference_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(seed * 100_000, seed * 100_000 + rows, dtype=np.int64),
            "score": rng.normal(size=rows).round(6),
            "word": [f'w{n}-é,"q"' if n % 11 == 0 else f"w{n}" for n in rng.integers(0, 999, rows)],
            "flag": rng.integers(0, 2, rows).astype(bool),
        }
    )


def as_records(frame: pd.DataFrame) -> list[tuple]:
    """pandas rows as plain Python tuples, missing values as None."""
    return [
        tuple(None if isinstance(v, float) and np.isnan(v) else v for v in row)
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


def rows_as_records(rows: list[Row]) -> list[tuple]:
    return [tuple(row) for row in rows]


# --------------------------------------------------------------------------- Parquet
def write_parquet(place: Place, name: str, frame: pd.DataFrame, row_group_size: int) -> None:
    sink = io.BytesIO()
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), sink, row_group_size=row_group_size
    )
    place.write(name, sink.getvalue())


@pytest.mark.parametrize("min_partitions", [1, 3, 16])
def test_parquet_matches_pandas_with_every_row_group_read_once(
    sc: SparkContext, place: Place, min_partitions: int
) -> None:
    frames = [reference_frame(5000, seed) for seed in range(3)]
    for index, frame in enumerate(frames):
        write_parquet(place, f"data/part-{index}.parquet", frame, row_group_size=700)
    place.write("data/_SUCCESS", b"")

    rdd = sc.parquetFile(place.join("data"), minPartitions=min_partitions)
    assert rdd.getNumPartitions() >= min(min_partitions, 3)
    expected = (
        pd.read_parquet(place.join("data"), storage_options=None) if place.kind == "local" else None
    )
    if expected is None:
        expected = pd.concat(
            [pd.read_parquet(io.BytesIO(place.read(f"data/part-{i}.parquet"))) for i in range(3)]
        )
    got = rdd.collect()
    assert got[0].__fields__ == ["id", "score", "word", "flag"]
    assert rows_as_records(got) == as_records(expected)

    selected = sc.parquetFile(place.join("data"), columns=["word", "id"], minPartitions=4)
    assert rows_as_records(selected.collect()) == as_records(expected[["word", "id"]])


def test_parquet_written_by_sparkish_is_read_by_pandas(sc: SparkContext, place: Place) -> None:
    rows = [Row(key=f"k{i % 13}", value=i, weight=i / 7 if i % 5 else None) for i in range(2000)]
    rdd = sc.parallelize(rows, 4).union(sc.parallelize([], 1))  # an empty partition too
    rdd.saveAsParquetFile(place.join("out"))

    names = place.listdir("out")
    assert names == ["_SUCCESS"] + [f"part-{i:05d}.parquet" for i in range(5)]
    schemas = {pq.read_schema(io.BytesIO(place.read(f"out/{n}"))) for n in names[1:]}
    assert len(schemas) == 1  # every part, the empty one included, has the same schema
    frames = [pq.read_table(io.BytesIO(place.read(f"out/{n}"))).to_pandas() for n in names[1:]]
    assert as_records(pd.concat(frames)) == [tuple(row) for row in rows]
    assert sc.parquetFile(place.join("out"), minPartitions=3).collect() == rows
    if place.kind == "local":
        pd.testing.assert_frame_equal(
            pd.read_parquet(place.join("out")), pd.concat(frames, ignore_index=True)
        )


def test_parquet_output_takes_a_schema_and_refuses_an_existing_path(
    sc: SparkContext, place: Place
) -> None:
    sc.parallelize([("a", 1), ("b", 2)], 2).saveAsParquetFile(
        place.join("typed"), "word string, n int"
    )
    table = pq.read_table(io.BytesIO(place.read("typed/part-00001.parquet")))
    assert table.schema == pa.schema([("word", pa.string()), ("n", pa.int32())])
    assert table.to_pylist() == [{"word": "b", "n": 2}]
    with pytest.raises(FileExistsError, match="already exists"):
        sc.parallelize([("c", 3)]).saveAsParquetFile(place.join("typed"), ["word", "n"])


def test_a_file_that_is_not_parquet_is_named_with_its_footer_offset(
    sc: SparkContext, place: Place
) -> None:
    write_parquet(place, "mixed/a.parquet", reference_frame(10, 0), row_group_size=5)
    place.write("mixed/b.parquet", b"this is not parquet at all, just some text\n" * 3)
    with pytest.raises(ValueError) as error:
        sc.parquetFile(place.join("mixed")).collect()
    message = str(error.value)
    assert "b.parquet is not a readable Parquet file" in message
    assert (
        f"byte offset {len(b'this is not parquet at all, just some text' + bytes(1)) * 3 - 8}"
        in message
    )


def test_a_corrupt_row_group_is_named(sc: SparkContext, place: Place) -> None:
    frame = pd.DataFrame(
        {"n": np.arange(3000, dtype=np.int64), "s": [f"v{i}" * 3 for i in range(3000)]}
    )
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame), sink, row_group_size=1000, compression="snappy")
    data = bytearray(sink.getvalue())
    group = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(1).column(1)
    start = group.data_page_offset
    data[start + 20 : start + 60] = b"\xff" * 40  # inside row group 1's page of column s
    place.write("corrupt/c.parquet", bytes(data))
    with pytest.raises(
        ValueError, match=r"cannot read row group 1 \(bytes \d+-\d+\) of .*c\.parquet"
    ):
        sc.parquetFile(place.join("corrupt")).collect()


# --------------------------------------------------------------------------- CSV
@pytest.mark.parametrize("min_partitions", [1, 7])
def test_csv_matches_pandas(sc: SparkContext, place: Place, min_partitions: int) -> None:
    frames = [reference_frame(3000, seed) for seed in range(2)]
    for index, frame in enumerate(frames):
        place.write(f"csv/{index}.csv", frame.to_csv(index=False).encode())

    rdd = sc.csvFile(place.join("csv"), inferSchema=True, minPartitions=min_partitions)
    assert rdd.getNumPartitions() >= min_partitions
    expected = pd.concat(pd.read_csv(io.BytesIO(place.read(f"csv/{i}.csv"))) for i in range(2))
    assert rows_as_records(rdd.collect()) == as_records(expected)

    as_strings = sc.csvFile(place.join("csv"), minPartitions=min_partitions).collect()
    assert as_strings[0].__fields__ == list(frames[0].columns)
    assert [row.word for row in as_strings] == expected.word.tolist()
    assert {type(row.id) for row in as_strings} == {str}  # Spark reads strings by default


def test_csv_options(sc: SparkContext, place: Place) -> None:
    place.write("opts/a.tsv", b'1\tx y\t\n2\t"tab\tin"\t3.5\n')
    rows = sc.csvFile(place.join("opts"), header=False, sep="\t", inferSchema=True).collect()
    assert rows == [Row(_c0=1, _c1="x y", _c2=None), Row(_c0=2, _c1="tab\tin", _c2=3.5)]
    typed = sc.csvFile(
        place.join("opts"), header=False, sep="\t", schema="a long, b string, c double"
    )
    assert typed.collect() == [Row(a=1, b="x y", c=None), Row(a=2, b="tab\tin", c=3.5)]
    place.write("multi/m.csv", b'k,text\n1,"two\nlines"\n2,one\n')
    multi = sc.csvFile(place.join("multi"), multiLine=True, inferSchema=True).collect()
    assert multi == [Row(k=1, text="two\nlines"), Row(k=2, text="one")]
    place.write("bom/b.csv", b"\xef\xbb\xbfk,v\r\n1,2\r\n")  # a byte order mark, CRLF ends
    assert sc.csvFile(place.join("bom"), inferSchema=True).collect() == [Row(k=1, v=2)]


def test_a_malformed_csv_line_is_named_with_its_byte_offset(sc: SparkContext, place: Place) -> None:
    good = "".join(f"{i},word{i}\n" for i in range(2000))
    bad_line = "2000,word,EXTRA\n"
    data = ("n,w\n" + good + bad_line + good).encode()
    place.write("badcsv/x.csv", data)
    offset = data.index(bad_line.encode())
    with pytest.raises(ValueError) as error:
        sc.csvFile(place.join("badcsv"), minPartitions=5).count()
    assert f"malformed line at byte offset {offset} of " in str(error.value)
    assert "x.csv: expected 2 fields, got 3" in str(error.value)


# --------------------------------------------------------------------------- JSON lines
def test_json_lines_match_pandas(sc: SparkContext, place: Place) -> None:
    frame = reference_frame(4000, 5)
    place.write("json/a.json", frame.to_json(orient="records", lines=True).encode())
    place.write("json/b.json", b'{"id": 1, "word": "only some fields", "extra": {"x": 1.5}}\n')

    rdd = sc.jsonFile(place.join("json"), minPartitions=6)
    rows = rdd.collect()
    assert rows[0].__fields__ == ["extra", "flag", "id", "score", "word"]  # Spark sorts them
    expected = pd.read_json(io.BytesIO(place.read("json/a.json")), lines=True, precise_float=True)
    columns = ["flag", "id", "score", "word"]
    assert [tuple(row[c] for c in columns) for row in rows[:-1]] == as_records(expected[columns])
    assert rows[-1] == Row(extra=Row(x=1.5), flag=None, id=1, score=None, word="only some fields")


def test_a_malformed_json_line_is_named_with_its_byte_offset(
    sc: SparkContext, place: Place
) -> None:
    lines = [json.dumps({"n": i, "s": f"v{i}"}) + "\n" for i in range(3000)]
    lines.insert(2500, '{"n": 2500, "s": "broken\n')
    data = "".join(lines).encode()
    place.write("badjson/x.json", data)
    offset = data.index(b'{"n": 2500, "s": "broken')
    with pytest.raises(ValueError) as error:
        sc.jsonFile(place.join("badjson"), minPartitions=4).count()
    assert f"malformed JSON at byte offset {offset} of " in str(error.value)
    assert "x.json" in str(error.value)


# --------------------------------------------------------------------------- failed writes
class WriteFailed(RuntimeError):
    pass


def _fail_half_way(index: int, records: Iterator[Any]) -> Iterator[Any]:
    for count, record in enumerate(records):
        if index == 2 and count == 70_000:  # after the first row group reached the file
            raise WriteFailed("partition 2 failed half-way through its records")
        yield record


def big_partitions(sc: SparkContext, partitions: int, per_partition: int):
    return sc.parallelize(range(partitions), partitions).flatMap(
        lambda p: ((p, i, f"r{i}") for i in range(per_partition))
    )


def test_a_write_that_fails_half_way_leaves_no_output(sc: SparkContext, place: Place) -> None:
    rdd = big_partitions(sc, 4, 100_000).mapPartitionsWithIndex(_fail_half_way)
    with pytest.raises(WriteFailed, match="failed half-way"):
        rdd.saveAsParquetFile(place.join("failed"), "p int, i bigint, s string")
    assert not place.exists("failed")


def _die_once_mid_write(marker_dir: str, index: int, records: Iterator[Any]) -> Iterator[Any]:
    markers = Path(marker_dir)
    (markers / f"started-{index}-{os.getpid()}").touch()
    for count, record in enumerate(records):
        if index == 1 and count == 70_000 and not (markers / "killed").exists():
            (markers / f"victim-{os.getpid()}").touch()
            time.sleep(WAIT_LIMIT_S)
            raise AssertionError("the victim worker was not killed")
        yield record


def _wait_until(condition, limit: float = WAIT_LIMIT_S) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kill_the_victim(sc: SparkContext, markers: Path, killed: list[int]) -> None:
    if not _wait_until(lambda: any(markers.glob("victim-*"))):
        return
    (victim,) = markers.glob("victim-*")
    pid = int(victim.name.split("-")[1])
    if pid in sc._runtime.cluster.worker_pids.values():
        (markers / "killed").touch()
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)


@pytest.mark.timeout(300)
def test_a_worker_killed_mid_write_leaves_exactly_one_complete_part_each(
    sc: SparkContext, place: Place, tmp_path: Path
) -> None:
    markers = tmp_path / f"markers-{uuid.uuid4().hex[:6]}"
    markers.mkdir()
    killed: list[int] = []
    killer = threading.Thread(target=_kill_the_victim, args=(sc, markers, killed), daemon=True)
    killer.start()
    rdd = big_partitions(sc, 3, 100_000).mapPartitionsWithIndex(
        partial(_die_once_mid_write, str(markers))
    )
    rdd.saveAsParquetFile(place.join("retried"), "p int, i bigint, s string")
    killer.join()

    assert len(killed) == 1, "the victim worker was never killed"
    assert len(list(markers.glob("started-1-*"))) == 2  # the killed attempt and its retry
    assert place.listdir("retried") == [
        "_SUCCESS",
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    for index in range(3):
        table = pq.read_table(io.BytesIO(place.read(f"retried/part-{index:05d}.parquet")))
        assert table.num_rows == 100_000
        assert table.column("p").to_pylist() == [index] * 100_000
        assert table.column("i").to_pylist() == list(range(100_000))
    assert _wait_until(lambda: len(sc._runtime.cluster.worker_pids) == 2)


# --------------------------------------------------------------------------- split boundaries
def test_every_line_belongs_to_exactly_one_split_wherever_the_cuts_fall() -> None:
    from sparkish.io.splits import plan_text_splits
    from sparkish.io.structured_text import CsvOptions, JsonOptions, read_csv_split, read_json_split

    fs = fsspec.filesystem("memory")
    base = f"/boundaries-{uuid.uuid4().hex[:8]}"
    lines = [f"{i},{'x' * (i % 9 + 1)}" for i in range(60)]
    fs.pipe(f"{base}/a.csv", ("n,s\r\n" + "\r\n".join(lines) + "\r\n").encode())
    fs.pipe(f"{base}/a.json", "".join(f'{{"n": {i}}}\n' for i in range(60)).encode())
    size = fs.size(f"{base}/a.csv")
    for split_bytes in range(1, size + 1, 3):  # cuts at every kind of position in a line
        csv_splits = plan_text_splits(f"memory://{base}/a.csv", max_split_bytes=split_bytes)
        rows = [row for split in csv_splits for row in read_csv_split(CsvOptions(), split)]
        assert [f"{row.n},{row.s}" for row in rows] == lines, split_bytes
        json_splits = plan_text_splits(f"memory://{base}/a.json", max_split_bytes=split_bytes)
        schema = pa.schema([("n", pa.int64())])
        numbers = [r.n for s in json_splits for r in read_json_split(JsonOptions(schema), s)]
        assert numbers == list(range(60)), split_bytes
    fs.rm(base, recursive=True)
