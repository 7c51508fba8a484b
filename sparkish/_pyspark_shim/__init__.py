"""A directory to put first on ``PYTHONPATH`` so that ``import pyspark`` imports sparkish
(see :func:`sparkish.compat.shim_directory`)."""
