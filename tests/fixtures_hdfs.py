"""pytest plugin: a real HDFS for the test session (Hadoop's MiniDFSCluster in one JVM).

Load it with ``pytest_plugins = ["tests.fixtures_hdfs"]`` in ``tests/conftest.py`` or
``pytest -p tests.fixtures_hdfs``. Tests request the session-scoped ``hdfs_cluster`` fixture;
the cluster starts on first use, so test runs that do not touch HDFS never start a JVM.

The cluster runs from the jars that ``tests/hdfs/fetch-deps.sh`` copies from Maven Central into
``tests/hdfs/target/lib`` (the fixture runs that script itself when the jars are missing and
Maven is installed). NameNode RPC and HTTP ports are chosen by the JVM (port 0) and read back
from the files MiniDFSClusterManager writes, so parallel sessions cannot collide. The JVM log
goes to ``<tmp>/minidfs.log``.

When Java, Maven or the jars are unavailable the fixture skips with the reason, except under
``CI=true`` where it fails: CI must test against a real HDFS.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HDFS_TEST_DIR = Path(__file__).resolve().parent / "hdfs"
LIB_DIR = HDFS_TEST_DIR / "target" / "lib"
LIB_COMPLETE_STAMP = HDFS_TEST_DIR / "target" / "lib.complete"
FETCH_SCRIPT = HDFS_TEST_DIR / "fetch-deps.sh"
MANAGER_CLASS = "org.apache.hadoop.test.MiniDFSClusterManager"
# Three DataNodes (replication 3, as on a real cluster). Start-up costs about the same as one
# (3.2-3.6 s here), and with one DataNode every file close takes ~0.4-0.5 s: the NameNode
# refuses to complete a file whose only replica it has not heard of yet, and the clients retry
# after a fixed back-off. Override with SPARKISH_TEST_HDFS_DATANODES.
DEFAULT_DATANODES = 3
STARTUP_TIMEOUT_S = 180.0
FETCH_TIMEOUT_S = 1800.0
STOP_TIMEOUT_S = 30.0
LOOPBACK = "127.0.0.1"


def in_ci() -> bool:
    """True when the ``CI`` environment variable asks for no skips (same rule as conftest)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    message = f"real HDFS unavailable: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: HDFS tests must not be skipped)", pytrace=False)
    pytest.skip(message)


@dataclass
class HdfsCluster:
    """A running MiniDFSCluster; all addresses use 127.0.0.1 literally."""

    namenode_port: int
    http_port: int
    base_dir: Path
    log_path: Path
    startup_seconds: float
    user: str = field(default_factory=getpass.getuser)

    @property
    def namenode_url(self) -> str:
        """``hdfs://127.0.0.1:<rpc port>`` for sparkish's default (hdfs-native) client."""
        return f"hdfs://{LOOPBACK}:{self.namenode_port}"

    @property
    def webhdfs_url(self) -> str:
        """``webhdfs://127.0.0.1:<http port>`` for fsspec's WebHDFS client."""
        return f"webhdfs://{LOOPBACK}:{self.http_port}"

    @property
    def hdfs_storage_options(self) -> dict[str, str]:
        return {}

    @property
    def webhdfs_storage_options(self) -> dict[str, str]:
        """Storage options for ``webhdfs://``; without ``user`` requests run as ``dr.who``."""
        return {"user": self.user}

    def unique_path(self, prefix: str = "t") -> str:
        """A fresh absolute HDFS path (not created) for one test's files."""
        return f"/{prefix}/{uuid.uuid4().hex}"


def _jars_ready() -> bool:
    return LIB_COMPLETE_STAMP.is_file() and any(LIB_DIR.glob("hadoop-hdfs-*-tests.jar"))


def _fetch_jars() -> None:
    if shutil.which("mvn") is None:
        _unavailable(
            f"the MiniDFSCluster jars are missing from {LIB_DIR} and Maven ('mvn') is not on "
            f"PATH to fetch them; run {FETCH_SCRIPT} on a machine with Maven"
        )
    log = HDFS_TEST_DIR / "target" / "fetch-deps.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        try:
            completed = subprocess.run(
                ["bash", str(FETCH_SCRIPT)],
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=FETCH_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            _unavailable(f"{FETCH_SCRIPT} did not finish in {FETCH_TIMEOUT_S:.0f} s; see {log}")
    if completed.returncode != 0 or not _jars_ready():
        tail = log.read_text(errors="replace")[-2000:]
        _unavailable(f"{FETCH_SCRIPT} failed (exit {completed.returncode}):\n{tail}")


def _read_ports(config_path: Path) -> tuple[int, int]:
    properties = {
        prop.findtext("name"): prop.findtext("value")
        for prop in ElementTree.parse(config_path).getroot().iter("property")
    }
    rpc = properties.get("dfs.namenode.rpc-address") or properties["fs.defaultFS"]
    http = properties["dfs.namenode.http-address"]
    return int(rpc.rsplit(":", 1)[1].strip("/")), int(http.rsplit(":", 1)[1])


def _log_tail(log_path: Path, size: int = 4000) -> str:
    try:
        return log_path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


def start_minidfs(
    base_dir: Path, datanodes: int = DEFAULT_DATANODES, extra_config: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], HdfsCluster]:
    """Start MiniDFSClusterManager under ``base_dir`` and wait until it serves requests."""
    java = shutil.which("java")
    if java is None:
        _unavailable("'java' is not on PATH (a JDK 11+ is needed for MiniDFSCluster)")
    if not _jars_ready():
        _fetch_jars()
    config_path = base_dir / "core-site.xml"
    details_path = base_dir / "details.json"
    log_path = base_dir / "minidfs.log"
    command = [
        java,
        "-Xmx768m",
        "-Djava.net.preferIPv4Stack=true",
        "-cp",
        str(LIB_DIR / "*"),
        MANAGER_CLASS,
        "-format",
        "-datanodes",
        str(datanodes),
        "-nnport",
        "0",
        "-httpport",
        "0",
        "-writeConfig",
        str(config_path),
        "-writeDetails",
        str(details_path),
        "-D",
        f"hdfs.minidfs.basedir={base_dir / 'dfs'}",
        "-D",
        "dfs.namenode.fs-limits.min-block-size=0",
        "-D",
        "dfs.blocksize=16777216",
        *(arg for setting in extra_config for arg in ("-D", setting)),
    ]
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        ports = _wait_until_ready(process, details_path, config_path, log_path)
    except BaseException:
        _stop(process)
        raise
    cluster = HdfsCluster(
        namenode_port=ports[0],
        http_port=ports[1],
        base_dir=base_dir,
        log_path=log_path,
        startup_seconds=time.monotonic() - started,
    )
    return process, cluster


def _wait_until_ready(
    process: subprocess.Popen[bytes], details_path: Path, config_path: Path, log_path: Path
) -> tuple[int, int]:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"MiniDFSCluster exited with code {process.returncode} during startup; "
                f"log {log_path}:\n{_log_tail(log_path)}",
                pytrace=False,
            )
        try:
            json.loads(details_path.read_text())
            ports = _read_ports(config_path)
        except (OSError, ValueError, KeyError, ElementTree.ParseError):
            time.sleep(0.25)  # not written yet, or half written
            continue
        _wait_for_webhdfs(ports[1], deadline, log_path)
        return ports
    pytest.fail(
        f"MiniDFSCluster not ready after {STARTUP_TIMEOUT_S:.0f} s; log {log_path}:\n"
        f"{_log_tail(log_path)}",
        pytrace=False,
    )
    raise AssertionError("unreachable")


def _wait_for_webhdfs(http_port: int, deadline: float, log_path: Path) -> None:
    url = (
        f"http://{LOOPBACK}:{http_port}/webhdfs/v1/?op=GETFILESTATUS&user.name={getpass.getuser()}"
    )
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"WebHDFS at {url} never answered; log {log_path}", pytrace=False)
        time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def hdfs_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HdfsCluster]:
    """A MiniDFSCluster for the whole session; stopped (and its data deleted) at the end."""
    base_dir = tmp_path_factory.mktemp("minidfs")
    datanodes = int(os.environ.get("SPARKISH_TEST_HDFS_DATANODES", DEFAULT_DATANODES))
    process, cluster = start_minidfs(base_dir, datanodes)
    try:
        yield cluster
    finally:
        _stop(process)
        shutil.rmtree(base_dir / "dfs", ignore_errors=True)
