"""The dashboard's jobs page (``/sparkish/jobs`` on the scheduler's HTTP server): every job of
the applications using the scheduler, like the Spark UI's jobs page, with its description and
job group, status, duration and the progress of each of its stages; ``/sparkish/api/jobs`` has
the same as JSON.
"""

from __future__ import annotations

import html
import json
import time
from typing import TYPE_CHECKING, Any

from tornado.web import RequestHandler

if TYPE_CHECKING:
    from .scheduler_plugin import JobView, MonitoringSchedulerPlugin, StageView

__all__ = ["JobsApiPage", "JobsPage", "job_summary"]

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.bar { display: inline-block; position: relative; width: 220px; height: 14px;
       background: #eee; border-radius: 3px; overflow: hidden; vertical-align: middle; }
.done { position: absolute; left: 0; top: 0; bottom: 0; background: #5cb85c; }
.running { position: absolute; top: 0; bottom: 0; background: #5bc0de; }
.stage { font-size: 90%; color: #444; margin: 2px 0; }
.FAILED { color: #c9302c; font-weight: bold; }
.SUCCEEDED { color: #3c763d; }
.RUNNING { color: #31708f; font-weight: bold; }
"""


def _duration(seconds: float) -> str:
    """A duration as the Spark UI shows it.

    >>> _duration(0.25), _duration(12.345), _duration(125)
    ('250 ms', '12.3 s', '2.1 min')
    """
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _stage_counts(
    stage_id: int, tasks: int, job: JobView, stages: dict[int, StageView]
) -> tuple[int, int, int]:
    """``(active, complete, failed)`` of one stage of a job."""
    seen = stages.get(stage_id)
    if seen is not None:
        return seen.active, seen.complete, seen.failed
    return (0, tasks, 0) if job.status == "SUCCEEDED" else (0, 0, 0)


def job_summary(job: JobView, stages: dict[int, StageView], now: float) -> dict[str, Any]:
    """What the page shows of one job, as plain data (the JSON API's item)."""
    stage_rows = []
    for stage_id, name, tasks in job.stages:
        active, complete, failed = _stage_counts(stage_id, tasks, job, stages)
        seen = stages.get(stage_id)
        stage_rows.append(
            {
                "stageId": stage_id,
                "name": name,
                "operation": seen.operation if seen is not None else None,
                "numTasks": tasks,
                "numActiveTasks": active,
                "numCompletedTasks": complete,
                "numFailedTasks": failed,
            }
        )
    end = job.finished if job.finished is not None else now
    return {
        "applicationId": job.app_id,
        "jobId": job.job_id,
        "action": job.action,
        "description": job.description,
        "jobGroup": job.group,
        "status": job.status,
        "submitted": job.submitted,
        "durationSeconds": max(0.0, end - job.submitted),
        "stages": stage_rows,
    }


def _bar(complete: int, active: int, total: int) -> str:
    total = max(total, 1)
    done = min(100.0, 100.0 * complete / total)
    running = min(100.0 - done, 100.0 * active / total)
    return (
        f'<span class="bar"><span class="done" style="width:{done:.1f}%"></span>'
        f'<span class="running" style="left:{done:.1f}%;width:{running:.1f}%"></span></span>'
        f" {complete} + {active} / {total}"
    )


def _job_row(summary: dict[str, Any]) -> str:
    stages = summary["stages"]
    tasks = sum(stage["numTasks"] for stage in stages)
    complete = sum(stage["numCompletedTasks"] for stage in stages)
    active = sum(stage["numActiveTasks"] for stage in stages)
    failed = sum(stage["numFailedTasks"] for stage in stages)
    finished_stages = sum(stage["numCompletedTasks"] >= stage["numTasks"] for stage in stages)
    stage_lines = "".join(
        f'<div class="stage">Stage {stage["stageId"]} '
        f"<b>{html.escape(stage['operation'] or '')}</b> {html.escape(stage['name'])}: "
        f"{_bar(stage['numCompletedTasks'], stage['numActiveTasks'], stage['numTasks'])}"
        + (f" ({stage['numFailedTasks']} failed)" if stage["numFailedTasks"] else "")
        + "</div>"
        for stage in stages
    )
    group = summary["jobGroup"]
    submitted = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(summary["submitted"]))
    status = html.escape(summary["status"])
    return (
        "<tr>"
        f"<td>{summary['jobId']}" + (f" ({html.escape(group)})" if group else "") + "</td>"
        f"<td>{html.escape(summary['description'])}<br><small>{html.escape(summary['action'])}"
        f"</small>{stage_lines}</td>"
        f"<td>{submitted}</td>"
        f"<td>{_duration(summary['durationSeconds'])}</td>"
        f'<td class="{status}">{status}</td>'
        f"<td>{finished_stages}/{len(stages)}</td>"
        f"<td>{_bar(complete, active, tasks)}" + (f" ({failed} failed)" if failed else "") + "</td>"
        "</tr>"
    )


def render_jobs_page(plugin: MonitoringSchedulerPlugin) -> str:
    """The whole HTML page."""
    now = time.time()
    by_application: dict[str, list[str]] = {}
    for job, stages in plugin.job_views():
        by_application.setdefault(job.app_id, []).append(_job_row(job_summary(job, stages, now)))
    sections = "".join(
        f"<h2>Application {html.escape(app_id)}</h2><table><tr><th>Job Id (Job Group)</th>"
        "<th>Description</th><th>Submitted</th><th>Duration</th><th>Status</th>"
        "<th>Stages: Succeeded/Total</th><th>Tasks (for all stages): Succeeded + Running / Total"
        f"</th></tr>{''.join(rows)}</table>"
        for app_id, rows in by_application.items()
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="2"><title>sparkish jobs</title>'
        f"<style>{_STYLE}</style></head><body><h1>sparkish jobs</h1>"
        f"{sections or '<p>No sparkish job has run on this scheduler yet.</p>'}</body></html>"
    )


class JobsPage(RequestHandler):
    """``GET /sparkish/jobs``: the HTML jobs page (it reloads itself every 2 s)."""

    def initialize(self, plugin: MonitoringSchedulerPlugin) -> None:
        self.plugin = plugin

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(render_jobs_page(self.plugin))


class JobsApiPage(RequestHandler):
    """``GET /sparkish/api/jobs``: the jobs as JSON, newest first."""

    def initialize(self, plugin: MonitoringSchedulerPlugin) -> None:
        self.plugin = plugin

    def get(self) -> None:
        now = time.time()
        jobs = [job_summary(job, stages, now) for job, stages in self.plugin.job_views()]
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(jobs))
