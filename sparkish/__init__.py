"""sparkish: PySpark's RDD API on Dask.

Swap one import and an existing PySpark RDD program runs on an embedded Dask cluster of worker
processes, or on any running ``dask scheduler``:

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> sc.parallelize(range(10), 3).map(lambda x: x * x).filter(lambda x: x % 2).collect()
[1, 9, 25, 49, 81]

How a job flows through the package is described in ``ARCHITECTURE.md``.
"""

from ._version import __version__
from .accumulators import Accumulator, AccumulatorParam
from .broadcast import Broadcast
from .conf import SparkConf
from .context import SparkContext
from .errors import (
    EmptyRDDError,
    JobCancelledError,
    SerializationError,
    UserCodeError,
    WorkerLostError,
)
from .files import SparkFiles
from .partitioner import Partitioner
from .rdd import RDD
from .resultiterable import ResultIterable
from .row import Row
from .statcounter import StatCounter
from .status import StatusTracker
from .storagelevel import StorageLevel
from .taskcontext import TaskContext
from .util import InheritableThread, inheritable_thread_target

__all__ = [
    "Accumulator",
    "AccumulatorParam",
    "Broadcast",
    "EmptyRDDError",
    "InheritableThread",
    "JobCancelledError",
    "Partitioner",
    "RDD",
    "ResultIterable",
    "Row",
    "SerializationError",
    "SparkConf",
    "SparkContext",
    "SparkFiles",
    "StatCounter",
    "StatusTracker",
    "StorageLevel",
    "TaskContext",
    "UserCodeError",
    "WorkerLostError",
    "__version__",
    "inheritable_thread_target",
]
