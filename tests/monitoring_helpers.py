"""Reading Prometheus endpoints in the monitoring tests: a scrape as ``{(name, labels): value}``,
and where the scheduler and workers of a context serve ``/metrics``."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from sparkish import SparkContext

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """Every sample of a Prometheus text endpoint."""
    with urllib.request.urlopen(url, timeout=30) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    """The sum over every label combination of a metric."""
    return sum(v for (sample, _), v in samples.items() if sample == name)


def scheduler_metrics_url(sc: SparkContext) -> str:
    info = sc.dask_client.scheduler_info(n_workers=-1)
    host = urlsplit(info["address"]).hostname
    return f"http://{host}:{info['services']['dashboard']}/metrics"


def scheduler_base_url(sc: SparkContext) -> str:
    return scheduler_metrics_url(sc).rsplit("/", 1)[0]


def worker_metrics_urls(sc: SparkContext) -> list[str]:
    workers = sc.dask_client.scheduler_info(n_workers=-1)["workers"]
    return [
        f"http://{urlsplit(address).hostname}:{worker['services']['dashboard']}/metrics"
        for address, worker in workers.items()
    ]
