"""Monitoring for one context: installs the scheduler plugin and wires the driver's parts
(job events for the dashboard, job metrics and their endpoint, progress bars, the final task
counts of failed jobs) to its :class:`~sparkish.execution.jobs.JobRunner`.

Settings: ``sparkish.metrics.enabled`` (default true: tasks count their metrics and the driver
its jobs), ``sparkish.metrics.port`` (unset: no driver endpoint; 0: a free port),
``sparkish.metrics.host`` (default 127.0.0.1), ``spark.ui.showConsoleProgress``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..settings import Settings
from .driver import DriverEndpoint, DriverMetrics, scrape_targets
from .progress import ProgressReporter, progress_display
from .scheduler_plugin import JOB_EVENT_TOPIC, MonitoringSchedulerPlugin
from .stages import StageCounts, StageProgress

if TYPE_CHECKING:
    from distributed import Client

    from ..execution.jobs import JobRecord, JobRunner

__all__ = ["Monitoring"]

logger = logging.getLogger("sparkish.monitoring")


class Monitoring:
    """The monitoring of one application.

    Parameters
    ----------
    client : distributed.Client
        The application's client.
    application_id : str
        The application.
    jobs : JobRunner
        Its jobs.
    settings : Settings
        Its configuration.
    """

    def __init__(
        self, client: Client, application_id: str, jobs: JobRunner, settings: Settings
    ) -> None:
        self.client = client
        self.application_id = application_id
        self.stages = StageProgress(client, application_id)
        self.metrics_enabled = settings.get_bool("sparkish.metrics.enabled", True)
        self.driver_metrics: DriverMetrics | None = None
        self.endpoint: DriverEndpoint | None = None
        self.progress: ProgressReporter | None = None
        try:
            client.register_plugin(MonitoringSchedulerPlugin())
        except Exception as error:
            raise RuntimeError(
                "sparkish's monitoring plugin could not be installed on the Dask scheduler "
                f"(is the same sparkish installed there?): {type(error).__name__}: {error}"
            ) from error
        jobs.collect_metrics = self.metrics_enabled
        jobs.listeners += [self._publish_job_event, self._keep_final_counts]
        if self.metrics_enabled:
            self.driver_metrics = DriverMetrics()
            jobs.listeners.append(self.driver_metrics.on_job)
            port = settings.get("sparkish.metrics.port")
            if port is not None and port.strip():
                host = settings.get("sparkish.metrics.host") or "127.0.0.1"
                port_number = settings.get_int("sparkish.metrics.port", 0)
                self.endpoint = DriverEndpoint(
                    self.driver_metrics.registry, self.scrape_targets, host, port_number
                )
        display = progress_display(settings)
        if display is not None:
            self.progress = ProgressReporter(jobs, self.stages, display)
            jobs.listeners.append(self.progress.on_job)

    # ------------------------------------------------------------------ job listeners
    def _publish_job_event(self, event: str, record: JobRecord) -> None:
        """Tell the scheduler plugin (the dashboard's jobs page) without waiting for it."""
        message: dict[str, Any] = {"event": event, "app": self.application_id, "job": record.job_id}
        if event == "start":
            message.update(
                action=record.action,
                description=record.description,
                group=record.group_id,
                submitted=record.submitted,
                stages=[[sid, name, tasks] for sid, (name, tasks) in sorted(record.stages.items())],
            )
        else:
            message.update(status=record.status, finished=record.finished)
        scheduler, loop = self.client.scheduler, self.client.loop
        if scheduler is None or loop is None:
            return  # the client is closing
        loop.add_callback(partial(scheduler.log_event, topic=JOB_EVENT_TOPIC, msg=message))

    def _keep_final_counts(self, event: str, record: JobRecord) -> None:
        """A job that did not succeed keeps its stages' final counts (``statusTracker``)."""
        if event == "end" and record.status != "SUCCEEDED":
            counts = self.stages.counts(record.stages)
            record.stage_counts = {
                stage_id: StageCounts(0, seen.complete, seen.failed)
                for stage_id, seen in counts.items()
            }

    # ------------------------------------------------------------------ the driver endpoint
    @property
    def endpoint_url(self) -> str | None:
        """``http://host:port`` of the driver endpoint, when it runs."""
        if self.endpoint is None:
            return None
        return f"http://{_reachable(self.endpoint.host)}:{self.endpoint.port}"

    def scrape_targets(self, role: str) -> list[dict[str, Any]]:
        """Prometheus service discovery groups: the scheduler, the workers, this driver."""
        info = self.client.scheduler_info(n_workers=-1)
        scheduler_host = urlsplit(info["address"]).hostname
        dashboard = info.get("services", {}).get("dashboard")
        workers = [
            f"{urlsplit(address).hostname}:{worker['services']['dashboard']}"
            for address, worker in info["workers"].items()
            if worker.get("services", {}).get("dashboard")
        ]
        driver = self.endpoint_url or ""
        return scrape_targets(
            f"{scheduler_host}:{dashboard}" if dashboard else None,
            workers,
            driver.removeprefix("http://"),
            role,
        )

    def close(self) -> None:
        """Stop the progress bars and the driver endpoint."""
        if self.progress is not None:
            self.progress.close()
        if self.endpoint is not None:
            self.endpoint.close()


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0") else host
