"""Side-by-side benchmarks of sparkish, PySpark, Dask bag and plain Python (see README.md).

Run ``python -m benchmarks.run --workloads all --runs 3``.
"""
