"""The part of ``pyspark.sql`` that RDD programs use: ``SparkSession`` and ``Row``.

sparkish implements PySpark's RDD API; programs reach it through a session
(``SparkSession.builder...getOrCreate().sparkContext``) and read files with
``spark.read.text(path).rdd``. The DataFrames here only hold rows (see
:class:`~sparkish.sql.dataframe.DataFrame`).
"""

from ..row import Row
from .dataframe import DataFrame
from .reader import DataFrameReader
from .session import RuntimeConfig, SparkSession

__all__ = ["DataFrame", "DataFrameReader", "Row", "RuntimeConfig", "SparkSession"]
