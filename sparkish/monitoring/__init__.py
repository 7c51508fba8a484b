"""Monitoring: sparkish's Prometheus metrics, the truth behind ``statusTracker``, progress bars.

The package spans the layers (``tests/test_layering.py`` places each module), so that code
running in worker processes never reaches the driver side:

- foundation: :mod:`.catalog` (every metric's name, help text and labels),
  :mod:`.task_metrics` (what one task counts while it runs) and :mod:`.worker_metrics` (counters
  of a worker process, served on the worker's own ``/metrics``);
- execution (scheduler and driver): :mod:`.scheduler_plugin` (task progress and task metrics,
  published on the scheduler's ``/metrics`` and its ``/sparkish/jobs`` page), :mod:`.stages`
  (the driver's view of that progress), :mod:`.driver` (job metrics and the optional driver
  endpoint), :mod:`.progress` (console and notebook progress bars) and :mod:`.setup` (wiring it
  all to a context's runtime).
"""
