"""The driver side of running jobs on Dask: graphs, providers, the job runner, the runtime and
the local cluster (see ``ARCHITECTURE.md``)."""
