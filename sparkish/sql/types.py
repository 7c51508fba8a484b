"""The part of ``pyspark.sql.types`` that RDD programs use: ``Row``."""

from __future__ import annotations

from ..row import Row

__all__ = ["Row"]
