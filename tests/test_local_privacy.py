"""A local cluster is private to its user: servers on loopback only, directories mode 0700."""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path

import psutil

from sparkish import SparkConf, SparkContext, SparkFiles, StorageLevel


def _listening_addresses(pids: list[int]) -> list[tuple[int, str, int]]:
    found = []
    for pid in pids:
        for connection in psutil.Process(pid).net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                found.append((pid, connection.laddr.ip, connection.laddr.port))
    return found


def test_a_local_cluster_listens_on_loopback_only(no_context: None) -> None:
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.metrics.port", "0")
    with SparkContext("local[2]", "loopback", conf=conf) as sc:
        pairs = sc.parallelize(range(100), 4).map(lambda x: (x % 5, x))
        assert dict(pairs.reduceByKey(int.__add__).collect())[0] == sum(range(0, 100, 5))
        workers = list(sc._runtime.cluster.worker_pids.values())
        listening = _listening_addresses([os.getpid(), *workers])
    ports = {pid: [port for owner, _, port in listening if owner == pid] for pid in workers}
    # The scheduler, the dashboard and the metrics endpoint in the driver; each worker's own.
    assert len([entry for entry in listening if entry[0] == os.getpid()]) >= 3
    assert all(ports[pid] for pid in workers)
    assert all(ipaddress.ip_address(ip).is_loopback for _, ip, _ in listening), listening


def _is_private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_temporary_and_spill_directories_are_private(no_context: None, tmp_path: Path) -> None:
    shipped = tmp_path / "lookup.txt"
    shipped.write_text("x")
    conf = SparkConf().set("spark.ui.enabled", "false")
    with SparkContext("local[2]", "private", conf=conf) as sc:
        sc.addFile(str(shipped))
        assert sc.parallelize([0], 1).map(
            lambda _: open(SparkFiles.get("lookup.txt")).read()
        ).collect() == ["x"]
        on_disk = sc.parallelize(range(1000), 4).persist(StorageLevel.DISK_ONLY)
        assert on_disk.count() == 1000
        shuffled = sc.parallelize(range(1000), 4).map(lambda x: (x % 7, x)).partitionBy(3)
        assert shuffled.count() == 1000  # the shuffle's output stays while the RDD lives
        roots = [Path(sc._runtime.cluster.local_directory), Path(sc._driver_directory)]
        directories = [Path(name) for root in roots for name, _, _ in os.walk(root)]
        ours = [
            directory
            for directory in directories
            if directory in roots or directory.name.startswith(("sparkish-", "local-", "files"))
        ]
        assert not [directory for directory in ours if not _is_private(directory)]
        for directory in directories:  # Dask's own directories sit inside a private one
            assert any(_is_private(parent) for parent in (directory, *directory.parents))
    kinds = {directory.name.split("-")[1] for directory in ours if "-" in directory.name}
    assert {"disk", "shuffle", "files"} <= kinds, f"no spill or file directories in {ours}"
