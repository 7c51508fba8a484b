"""Run on the workers of an existing Dask cluster when a context attaches to it."""

from __future__ import annotations

import sys

from .._version import __version__

__all__ = ["worker_environment"]


def worker_environment() -> dict[str, str]:
    """The sparkish and Python versions of the worker running this function.

    >>> sorted(worker_environment())
    ['python', 'sparkish']
    """
    return {
        "sparkish": __version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
