"""Jobs on a running ``dask scheduler`` that loses its workers or requires TLS (issue 12).

The schedulers and workers are ``dask`` commands run as subprocesses of the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Security

from sparkish import SparkConf, SparkContext
from tests.test_cluster import wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` commands started by a test, all stopped at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.environment = dict(os.environ)
        self.environment["PYTHONPATH"] = str(REPO_ROOT)
        self.environment.pop("SPARKISH_SUBMIT_CONF", None)
        self.environment["PYTHONHASHSEED"] = "0"  # the driver's (see the README's Dask section)
        self.processes: list[subprocess.Popen] = []

    def start(self, *arguments: str, log: str) -> subprocess.Popen:
        with (self.directory / log).open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "dask", *arguments],
                env=self.environment,
                cwd=self.directory,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(process)
        return process

    def scheduler(self, *arguments: str) -> str:
        """Start a scheduler on a free loopback port; returns its address."""
        scheduler_file = self.directory / "scheduler.json"
        self.start(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(scheduler_file),
            *arguments,
            log="scheduler.log",
        )
        wait_until(
            lambda: scheduler_file.exists() and scheduler_file.read_text().strip(), "address"
        )
        return json.loads(scheduler_file.read_text())["address"]

    def worker(self, address: str, *arguments: str) -> subprocess.Popen:
        return self.start(
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--local-directory",
            str(self.directory / "workers"),
            *arguments,
            log="worker.log",
        )

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[DaskProcesses]:
    processes = DaskProcesses(tmp_path)
    try:
        yield processes
    finally:
        processes.close()


def _worker_count(context: SparkContext) -> int:
    return len(context.dask_client.nthreads())


def test_a_job_waits_for_a_worker_then_fails_after_the_no_workers_timeout(
    no_context: None, dask_processes: DaskProcesses, caplog: pytest.LogCaptureFixture
) -> None:
    address = dask_processes.scheduler()
    worker = dask_processes.worker(address)
    master = "dask://" + address.split("://", 1)[1]
    conf = SparkConf().set("sparkish.noWorkersTimeout", "120")
    sc = SparkContext(master, "no-workers", conf=conf)
    wait_until(lambda: _worker_count(sc) == 1, "the worker joined")
    assert sc.parallelize(range(10), 2).map(lambda x: x * 2).sum() == 90
    dask_processes.stop(worker)
    wait_until(lambda: _worker_count(sc) == 0, "the worker left")

    results: list = []
    caplog.set_level(logging.WARNING, logger="sparkish")
    job = threading.Thread(
        target=lambda: results.append(
            sc.parallelize(range(10), 2)
            .map(lambda x: (x % 2, x))
            .reduceByKey(int.__add__)
            .collect()
        )
    )
    job.start()
    wait_until(lambda: "has no workers" in caplog.text, "the job warned that it waits")
    assert job.is_alive()
    dask_processes.worker(address)
    job.join(120)
    assert sorted(results[0]) == [(0, 20), (1, 25)]
    waiting = [record for record in caplog.records if "has no workers" in record.getMessage()]
    assert len(waiting) == 1, "the wait is reported once"
    assert "sparkish.noWorkersTimeout" in waiting[0].getMessage()
    assert "a worker joined" in caplog.text
    sc.stop()

    for process in dask_processes.processes[1:]:
        dask_processes.stop(process)
    conf = SparkConf().set("sparkish.noWorkersTimeout", "2")
    sc = SparkContext(master, "no-workers-timeout", conf=conf)
    wait_until(lambda: _worker_count(sc) == 0, "no worker is left")
    with pytest.raises(
        RuntimeError, match=r"count at .*no workers for 2 s \(sparkish.noWorkersTimeout\)"
    ):
        sc.parallelize(range(10), 2).count()
    sc.stop()


# --------------------------------------------------------------------------- TLS
def _write_certificates(directory: Path, name: str) -> dict[str, str]:
    """A certificate authority and a certificate it signs for 127.0.0.1 (server and client
    use), as PEM files; returns their paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject: str, key, issuer: str, issuer_key, authority: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
        )
        if not authority:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            ).add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate(f"{name} CA", ca_key, f"{name} CA", ca_key, authority=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(f"{name} member", key, f"{name} CA", ca_key, authority=False)
    paths = {
        "ca": directory / f"{name}-ca.pem",
        "cert": directory / f"{name}-cert.pem",
        "key": directory / f"{name}-key.pem",
    }
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths["key"].chmod(0o600)
    return {role: str(path) for role, path in paths.items()}


def _tls_settings(files: dict[str, str]) -> SparkConf:
    return (
        SparkConf()
        .set("sparkish.connect.timeoutSeconds", "5")
        .set("sparkish.security.caFile", files["ca"])
        .set("sparkish.security.certFile", files["cert"])
        .set("sparkish.security.keyFile", files["key"])
    )


def test_a_tls_scheduler_refuses_contexts_without_its_certificates(
    no_context: None, dask_processes: DaskProcesses, tmp_path: Path
) -> None:
    cluster = _write_certificates(tmp_path, "cluster")
    stranger = _write_certificates(tmp_path, "stranger")
    tls = [
        "--tls-ca-file",
        cluster["ca"],
        "--tls-cert",
        cluster["cert"],
        "--tls-key",
        cluster["key"],
    ]
    address = dask_processes.scheduler("--protocol", "tls", *tls)
    assert address.startswith("tls://127.0.0.1:")
    dask_processes.worker(address, *tls)
    master = address

    plain = SparkConf().set("sparkish.connect.timeoutSeconds", "5")
    with pytest.raises(ConnectionError, match="sparkish.security.caFile"):
        SparkContext(master, "no certificates", conf=plain)
    with pytest.raises(ConnectionError, match="Could not connect"):
        SparkContext(master, "wrong certificates", conf=_tls_settings(stranger))
    plain_tcp = "tcp://" + address.split("://", 1)[1]
    with pytest.raises(ConnectionError):
        SparkContext(plain_tcp, "no encryption", conf=plain)

    sc = SparkContext(master, "certified", conf=_tls_settings(cluster))
    try:
        wait_until(lambda: _worker_count(sc) == 1, "the TLS worker joined")
        pairs = sc.parallelize(range(1000), 4).map(lambda x: (x % 7, x))
        assert sorted(pairs.reduceByKey(int.__add__).collect()) == [
            (key, sum(range(key, 1000, 7))) for key in range(7)
        ]
    finally:
        sc.stop()

    security = Security(
        tls_ca_file=cluster["ca"],
        tls_client_cert=cluster["cert"],
        tls_client_key=cluster["key"],
        require_encryption=True,
    )
    with SparkContext(master, "certified object", security=security) as sc:
        assert sc.parallelize(range(10), 2).map(lambda x: (x % 2, 1)).countByKey() == {0: 5, 1: 5}
