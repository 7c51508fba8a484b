"""``StatusTracker``: what the context's jobs are doing, like ``pyspark.StatusTracker``."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .context import SparkContext

__all__ = ["SparkJobInfo", "SparkStageInfo", "StatusTracker"]


class SparkJobInfo(NamedTuple):
    jobId: int
    stageIds: list[int]
    status: str


class SparkStageInfo(NamedTuple):
    stageId: int
    currentAttemptId: int
    name: str
    numTasks: int
    numActiveTasks: int
    numCompletedTasks: int
    numFailedTasks: int


class StatusTracker:
    """Read-only view of the jobs a :class:`~sparkish.SparkContext` has run and is running."""

    def __init__(self, sc: SparkContext) -> None:
        self._runner = sc._job_runner

    def _records(self):
        return list(self._runner.completed) + list(self._runner.active.values())

    def getJobIdsForGroup(self, jobGroup: str | None = None) -> list[int]:
        """Ids of the jobs in ``jobGroup`` (or of the jobs without a group)."""
        return [r.job_id for r in self._records() if r.group_id == jobGroup]

    def getJobIdsForTag(self, jobTag: str) -> list[int]:
        return [r.job_id for r in self._records() if jobTag in r.tags]

    def getActiveJobsIds(self) -> list[int]:
        return sorted(self._runner.active)

    def getActiveStageIds(self) -> list[int]:
        return sorted(stage for record in self._runner.active.values() for stage in record.stages)

    def getJobInfo(self, jobId: int) -> SparkJobInfo | None:
        """Status and stage ids of a job (``RUNNING``, ``SUCCEEDED`` or ``FAILED``)."""
        for record in self._records():
            if record.job_id == jobId:
                return SparkJobInfo(record.job_id, sorted(record.stages), record.status)
        return None

    def getStageInfo(self, stageId: int) -> SparkStageInfo | None:
        """Name and task counts of a stage of a known job."""
        for record in self._records():
            if stageId in record.stages:
                name, tasks = record.stages[stageId]
                done = record.status == "SUCCEEDED"
                active = record.status == "RUNNING"
                return SparkStageInfo(
                    stageId, 0, name, tasks, tasks if active else 0, tasks if done else 0, 0
                )
        return None
