"""``StatusTracker``: what the context's jobs are doing, like ``pyspark.StatusTracker``."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .context import SparkContext

__all__ = ["SparkJobInfo", "StatusTracker"]


class SparkJobInfo(NamedTuple):
    jobId: int
    stageIds: list[int]
    status: str


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
        return []

    def getJobInfo(self, jobId: int) -> SparkJobInfo | None:
        for record in self._records():
            if record.job_id == jobId:
                return SparkJobInfo(record.job_id, [], record.status)
        return None
