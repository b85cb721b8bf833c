"""Prometheus metrics of one worker process (prometheus-client, text format on /metrics).

Counts that live in the store or the queue (jobs per stage, queue depth) are read when scraped,
so every container of a farm reports the same farm-wide numbers for them; renders, fetches and
in-flight work are this process's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

RENDER_SECONDS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800)
REALTIME_FACTOR = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


class _SharedCounts(Collector):
    def __init__(self, jobs: Callable[[], dict[str, int]], depth: Callable[[], int]) -> None:
        self.jobs = jobs
        self.depth = depth

    def collect(self) -> Iterator[Metric]:
        # A scrape must not fail because Redis blinked: what cannot be read is left out.
        with contextlib.suppress(Exception):
            jobs = GaugeMetricFamily(
                "compositor_jobs", "Jobs known to the store, by lifecycle stage.", labels=["state"]
            )
            for state, count in sorted(self.jobs().items()):
                jobs.add_metric([state], count)
            yield jobs
        with contextlib.suppress(Exception):
            depth = self.depth()
            yield GaugeMetricFamily(
                "compositor_queue_depth", "Jobs waiting for a render slot.", value=depth
            )


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.render_seconds = Histogram(
            "compositor_render_seconds", "Wall time of a job from claim to published file.",
            buckets=RENDER_SECONDS, registry=self.registry,
        )  # fmt: skip
        self.realtime_factor = Histogram(
            "compositor_render_realtime_factor",
            "Seconds of output per second of render time.",
            buckets=REALTIME_FACTOR, registry=self.registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "compositor_renders_in_flight", "Renders running in this process.",
            registry=self.registry,
        )  # fmt: skip
        self.finished = Counter(
            "compositor_jobs_finished", "Jobs this process finished, by outcome and error code.",
            labelnames=["outcome", "code"], registry=self.registry,
        )  # fmt: skip
        self.fetch_bytes = Counter(
            "compositor_source_fetch_bytes", "Bytes of sources downloaded.",
            registry=self.registry,
        )  # fmt: skip
        self.callbacks = Counter(
            "compositor_callbacks", "Completion callbacks, by result.", labelnames=["result"],
            registry=self.registry,
        )  # fmt: skip

    def watch(self, jobs: Callable[[], dict[str, int]], depth: Callable[[], int]) -> None:
        """Report the store's per-stage counts and the queue's depth at each scrape."""
        self.registry.register(_SharedCounts(jobs, depth))
