"""Code that runs in worker processes: the task, the plan it computes, what each operation does
to a partition, and the ends of the shuffle.

Nothing here imports the driver side (``sparkish.context``, ``sparkish.rdd``,
``sparkish.execution``), not even for type hints: ``tests/test_layering.py`` checks it.
"""
