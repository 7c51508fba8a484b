"""The driver's view of its running stages: how many tasks run now, finished and failed, as the
scheduler plugin counted them. ``statusTracker`` and the progress bars read this one source."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from .scheduler_plugin import PROGRESS_HANDLER

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["StageCounts", "StageProgress"]

logger = logging.getLogger("sparkish.monitoring")


class StageCounts(NamedTuple):
    """Tasks of one stage: running now, finished (accepted results) and failed attempts."""

    active: int
    complete: int
    failed: int


class StageProgress:
    """Asks the scheduler plugin for the task counts of this application's stages.

    Parameters
    ----------
    client : distributed.Client
        The application's client.
    application_id : str
        Whose stages (stage ids are numbered per application).
    """

    def __init__(self, client: Client, application_id: str) -> None:
        self.client = client
        self.application_id = application_id

    def counts(self, stage_ids: Iterable[int]) -> dict[int, StageCounts]:
        """The counts of the given stages that have started a task (others are absent)."""
        wanted = sorted(set(stage_ids))
        if not wanted:
            return {}
        handler = getattr(self.client.scheduler, PROGRESS_HANDLER)
        try:
            rows = self.client.sync(handler, app_id=self.application_id, stage_ids=wanted)
        except Exception as error:  # a closed client or a lost scheduler: nothing is known
            logger.debug("stage progress unavailable: %s", error)
            return {}
        return {row[0]: StageCounts(*row[1:]) for row in rows}
