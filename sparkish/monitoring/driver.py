"""What only the driver knows, as Prometheus metrics: its jobs (started, finished by status,
running, durations by action), and the optional HTTP endpoint serving them
(``sparkish.metrics.port``).

The endpoint also serves Prometheus HTTP service discovery lists, so one static target (the
driver) leads Prometheus to the scheduler and to every worker, whose ports change when local
workers restart:

- ``/metrics``: the driver's metrics;
- ``/targets``: every target with a ``sparkish_role`` label (driver, scheduler, worker);
- ``/targets/scheduler``, ``/targets/workers``: one role each.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from . import catalog

if TYPE_CHECKING:
    from ..execution.jobs import JobRecord

__all__ = ["DriverEndpoint", "DriverMetrics", "job_status", "scrape_targets"]


def job_status(record: JobRecord) -> str:
    """``succeeded``, ``failed`` or ``cancelled``: how a finished job ended."""
    if record.status == "SUCCEEDED":
        return "succeeded"
    return "cancelled" if record.cancelled_reason else "failed"


class DriverMetrics:
    """The job metrics of one context, in their own registry (a local cluster's scheduler
    shares the driver process, and its ``/metrics`` serves the default registry)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        spec = catalog.JOBS_STARTED
        self.started = Counter(spec.name, spec.help, spec.labels, registry=self.registry)
        spec = catalog.JOBS_FINISHED
        self.finished = Counter(spec.name, spec.help, spec.labels, registry=self.registry)
        spec = catalog.JOBS_ACTIVE
        self.active = Gauge(spec.name, spec.help, registry=self.registry)
        spec = catalog.JOB_DURATION
        self.duration = Histogram(
            spec.name,
            spec.help,
            spec.labels,
            registry=self.registry,
            buckets=catalog.JOB_DURATION_BUCKETS,
        )

    def on_job(self, event: str, record: JobRecord) -> None:
        """Job listener (``JobRunner.listeners``)."""
        if event == "start":
            self.started.labels(record.action).inc()
            self.active.inc()
            return
        self.active.dec()
        self.finished.labels(record.action, job_status(record)).inc()
        if record.finished is not None:
            self.duration.labels(record.action).observe(
                max(0.0, record.finished - record.submitted)
            )


def scrape_targets(
    scheduler_target: str | None, worker_targets: Iterable[str], driver_target: str, role: str
) -> list[dict[str, Any]]:
    """Prometheus HTTP service discovery groups for ``role`` (``""``: every role).

    >>> scrape_targets("h:8787", ["h:1", "h:2"], "h:9", "workers")
    [{'targets': ['h:1', 'h:2'], 'labels': {'sparkish_role': 'worker'}}]
    """
    groups = {
        "driver": [driver_target],
        "scheduler": [scheduler_target] if scheduler_target else [],
        "workers": sorted(worker_targets),
    }
    labels = {"driver": "driver", "scheduler": "scheduler", "workers": "worker"}
    chosen = [role] if role else list(groups)
    return [
        {"targets": groups[name], "labels": {"sparkish_role": labels[name]}}
        for name in chosen
        if name in groups and groups[name]
    ]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        """Scrapes every few seconds would flood the driver's stderr."""


class DriverEndpoint:
    """Serves a registry's metrics and the scrape targets over HTTP in a daemon thread.

    Parameters
    ----------
    registry : CollectorRegistry
        What ``/metrics`` exposes.
    targets : callable
        ``targets(role)`` gives the service discovery groups of ``/targets/<role>``.
    host : str
        The interface to listen on.
    port : int
        The port (0 picks a free one; see :attr:`port`).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        targets: Callable[[str], list[dict[str, Any]]],
        host: str,
        port: int,
    ) -> None:
        metrics = make_wsgi_app(registry)

        def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
            path = urlsplit(environ.get("PATH_INFO", "")).path.rstrip("/")
            if path == "/targets" or path.startswith("/targets/"):
                body = json.dumps(targets(path[len("/targets/") :])).encode()
                start_response("200 OK", [("Content-Type", "application/json")])
                return [body]
            return metrics(environ, start_response)

        self.server = make_server(
            host, port, application, _ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.host = host
        self.port: int = self.server.server_port
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="sparkish-metrics-endpoint", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
