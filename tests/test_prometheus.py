"""A real Prometheus server scrapes a live sparkish cluster with deploy/monitoring/prometheus.yml.

The shipped configuration is used with its ports replaced by the test's free loopback ports (and
a 1 s scrape interval): the scheduler, the driver endpoint, and the workers through the driver's
service discovery list. After a word count, a shuffle, a save and a failing job, Prometheus's
HTTP query API returns ``sparkish_*`` values equal to what those jobs did, and every metric the
Grafana dashboard queries exists there.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from collections import Counter
from operator import add
from pathlib import Path

import pytest

from sparkish import SparkConf, SparkContext
from tests import helpers
from tests.monitoring_helpers import scheduler_base_url

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "monitoring"
WORDS = "the quick brown fox jumps over the lazy dog and the dog sleeps".split()
SHUFFLED_RECORDS = 3000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrometheusServer:
    """``prometheus`` started on a free loopback port with a given configuration."""

    def __init__(self, binary: str, config: str, directory: Path) -> None:
        config_path = directory / "prometheus.yml"
        config_path.write_text(config)
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.log = directory / "prometheus.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address={self.url.removeprefix('http://')}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        helpers.wait_until(self._ready, "Prometheus is ready", 60)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def api(self, path: str, **parameters: str) -> object:
        query = urllib.parse.urlencode(parameters)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=30) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expression: str) -> dict[tuple, float]:
        """An instant query's result: label set (without ``__name__``) → value."""
        data = self.api("query", query=expression)
        assert isinstance(data, dict)
        return {
            tuple(sorted((k, v) for k, v in item["metric"].items() if k != "__name__")): float(
                item["value"][1]
            )
            for item in data["result"]
        }

    def scalar(self, expression: str) -> float | None:
        values = list(self.query(expression).values())
        return values[0] if len(values) == 1 else None

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prometheus_config(scheduler: str, driver: str) -> str:
    """The shipped prometheus.yml, pointed at this test's scheduler and driver."""
    text = (DEPLOY / "prometheus.yml").read_text()
    assert "localhost:8787" in text and "localhost:8790" in text
    text = text.replace("localhost:8787", scheduler).replace("localhost:8790", driver)
    return text.replace("5s", "1s")


def run_the_jobs(sc: SparkContext, directory: Path) -> dict[str, float]:
    """A word count, a shuffle, a save and a failing job; what each must have counted."""
    text = directory / "words.txt"
    text.write_text("\n".join(" ".join(WORDS[i:] + WORDS[:i]) for i in range(40)) + "\n")
    counts = sc.textFile(str(text), 1).flatMap(str.split).map(lambda w: (w, 1))
    assert dict(counts.reduceByKey(add, 2).collect()) == {
        word: 40 * n for word, n in Counter(WORDS).items()
    }
    pairs = [(i, i * i) for i in range(SHUFFLED_RECORDS)]
    assert sc.parallelize(pairs, 4).partitionBy(3).count() == SHUFFLED_RECORDS
    out = directory / "out"
    sc.parallelize(WORDS, 2).saveAsTextFile(str(out))
    with pytest.raises(ZeroDivisionError):
        sc.parallelize([1, 0], 2).map(lambda x: 1 // x).collect()
    shuffled = len(set(WORDS)) + SHUFFLED_RECORDS  # one map task: one record per distinct word
    return {
        "sparkish_shuffle_records_written_total": shuffled,
        "sparkish_shuffle_records_read_total": shuffled,
        'sparkish_input_read_bytes_total{protocol="file"}': text.stat().st_size,
        'sparkish_output_written_bytes_total{protocol="file"}': sum(
            part.stat().st_size for part in out.glob("part-*")
        ),
        'sparkish_output_records_written_total{protocol="file"}': len(WORDS),
        'sparkish_tasks_completed_total{operation="reduceByKey-map"}': 1,
        'sparkish_tasks_completed_total{operation="partitionBy-map"}': 4,
        'sparkish_tasks_completed_total{operation="saveAsTextFile"}': 2,
        'sparkish_task_failures_total{operation="collect",exception="ZeroDivisionError"}': 1,
        'sparkish_jobs_finished_total{action="collect",status="succeeded"}': 1,
        'sparkish_jobs_finished_total{action="collect",status="failed"}': 1,
        'sparkish_jobs_finished_total{action="count",status="succeeded"}': 1,
        'sparkish_jobs_finished_total{action="saveAsTextFile",status="succeeded"}': 1,
        'sparkish_job_duration_seconds_count{action="collect"}': 2,
        "sparkish_jobs_active": 0,
        "sparkish_worker_losses_total": 0,
    }


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    """A local[2] context with the driver endpoint, after the jobs, and a Prometheus that has
    scraped it since."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (Debian package prometheus)")
    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()
    directory = tmp_path_factory.mktemp("prometheus")
    conf = SparkConf().set("spark.ui.port", "0").set("sparkish.metrics.port", "0")
    sc = SparkContext("local[2]", "prometheus-scrape", conf=conf)
    server = None
    try:
        expected = run_the_jobs(sc, directory)
        driver = sc._runtime.monitoring.endpoint_url.removeprefix("http://")
        scheduler = scheduler_base_url(sc).removeprefix("http://")
        server = PrometheusServer(binary, prometheus_config(scheduler, driver), directory)

        def scraped_everything() -> bool:
            up = server.query("up")
            done = server.scalar("sum(sparkish_jobs_finished_total)")
            written = server.scalar("sum(sparkish_shuffle_records_written_total)")
            spilled = server.scalar("sum(sparkish_shuffle_spilled_bytes_total)")
            return (
                len(up) == 4
                and all(v == 1 for v in up.values())
                and done == 4
                and written == expected["sparkish_shuffle_records_written_total"]
                and spilled is not None
            )

        helpers.wait_until(scraped_everything, "Prometheus scraped every target after the jobs", 90)
        yield sc, server, expected
    finally:
        if server is not None:
            server.close()
        sc.stop()


def test_prometheus_scrapes_scheduler_driver_and_workers(scraped):
    _, server, _ = scraped
    roles = Counter(dict(labels)["sparkish_role"] for labels in server.query("up"))
    assert roles == {"scheduler": 1, "driver": 1, "worker": 2}
    jobs = {dict(labels)["job"] for labels in server.query("up")}
    assert jobs == {"sparkish-scheduler", "sparkish-driver", "sparkish-workers"}
    # Dask's own metrics are still there next to sparkish's.
    assert server.scalar("sum(dask_scheduler_workers)") == 2


def test_prometheus_values_equal_what_the_jobs_did(scraped):
    _, server, expected = scraped
    found = {selector: server.scalar(f"sum({selector})") for selector in expected}
    assert found == {selector: float(value) for selector, value in expected.items()}
    assert server.scalar("sum(sparkish_shuffle_read_bytes_total)") == server.scalar(
        "sum(sparkish_shuffle_written_bytes_total)"
    )
    assert server.scalar("sum(sparkish_shuffle_spilled_bytes_total)") > 0


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "sparkish.json").read_text())
    panels = list(dashboard["panels"])
    for panel in dashboard["panels"]:
        panels += panel.get("panels", [])
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


METRIC_NAME = re.compile(r"\b((?:sparkish|dask|process)_[A-Za-z0-9_:]+)")


def test_every_metric_of_the_grafana_dashboard_exists_in_prometheus(scraped):
    _, server, _ = scraped
    expressions = dashboard_expressions()
    assert len(expressions) >= 15
    names = {
        name
        for expression in expressions
        for name in METRIC_NAME.findall(re.sub(r"\{[^}]*\}", "", expression))  # not label names
    }
    assert {"sparkish_jobs_finished_total", "sparkish_tasks_completed_total"} <= names
    known = set(server.api("label/__name__/values"))  # type: ignore[arg-type]
    assert sorted(names - known) == []
    # Each query is valid PromQL (the API rejects a syntax error); those without a range
    # function (which needs two scrapes in its window) already return data.
    empty = [expression for expression in expressions if not server.query(expression)]
    assert [e for e in empty if "rate(" not in e and "increase(" not in e] == []
