"""sparkish: PySpark's RDD API on Dask.

Swap one import and an existing PySpark RDD program runs on an embedded Dask cluster of worker
processes, or on any running ``dask scheduler``:

>>> from sparkish import SparkContext
>>> sc = SparkContext.getOrCreate()
>>> sc.parallelize(range(10), 3).map(lambda x: x * x).filter(lambda x: x % 2).collect()
[1, 9, 25, 49, 81]
"""

__version__ = "0.1.0"

from ._execution import JobCancelledError, SerializationError  # noqa: E402
from ._plan import TaskContext  # noqa: E402
from .accumulators import Accumulator, AccumulatorParam  # noqa: E402
from .broadcast import Broadcast  # noqa: E402
from .conf import SparkConf  # noqa: E402
from .context import InheritableThread, SparkContext, inheritable_thread_target  # noqa: E402
from .files import SparkFiles  # noqa: E402
from .rdd import RDD, Partitioner  # noqa: E402
from .resultiterable import ResultIterable  # noqa: E402
from .statcounter import StatCounter  # noqa: E402
from .status import StatusTracker  # noqa: E402
from .storagelevel import StorageLevel  # noqa: E402

__all__ = [
    "Accumulator",
    "AccumulatorParam",
    "Broadcast",
    "InheritableThread",
    "JobCancelledError",
    "Partitioner",
    "RDD",
    "ResultIterable",
    "SerializationError",
    "SparkConf",
    "SparkContext",
    "SparkFiles",
    "StatCounter",
    "StatusTracker",
    "StorageLevel",
    "TaskContext",
    "inheritable_thread_target",
    "__version__",
]
