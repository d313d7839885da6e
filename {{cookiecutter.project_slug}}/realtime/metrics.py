"""Prometheus metrics of the realtime layer, served at /metrics/ to a scraper that holds
METRICS_TOKEN (realtime/views.py; without the token the page does not exist).

Counted in each web process, by the route pattern as `manage.py routes` prints it:

- realtime_connections{protocol, route}: websockets and HTTP requests open now;
- realtime_frames_received_total, realtime_frames_sent_total{route}: websocket frames;
- realtime_handler_seconds{route, type}: how long the consumer took over each ASGI
  message (websocket.connect, websocket.receive, http.request...): the time from
  receive() handing it over to the consumer asking for the next one;
- realtime_group_sends_total and realtime_layer_errors_total: group sends, and channel
  layer operations that failed because Redis could not be reached (realtime/layers.py).

The daphnes of realtime.serve write to one directory (PROMETHEUS_MULTIPROC_DIR), so
that whichever answers the scrape answers for all. Worker jobs are counted in Redis
by the job layer (realtime/jobs.py), and read from there at each scrape, per worker
channel: realtime_jobs_done_total, realtime_jobs_retried_total,
realtime_jobs_dead_lettered_total (failed for good), realtime_jobs_queued,
realtime_jobs_in_flight and realtime_jobs_oldest_age_seconds.
"""

import os
import time

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

CONNECTIONS = Gauge(
    "realtime_connections",
    "Websockets and HTTP requests open now, by route.",
    ["protocol", "route"],
    multiprocess_mode="livesum",
)
FRAMES_RECEIVED = Counter(
    "realtime_frames_received", "Websocket frames received from clients.", ["route"]
)
FRAMES_SENT = Counter("realtime_frames_sent", "Websocket frames sent to clients.", ["route"])
HANDLER_SECONDS = Histogram(
    "realtime_handler_seconds",
    "Time a consumer took over one ASGI message, by route and message type.",
    ["route", "type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
GROUP_SENDS = Counter("realtime_group_sends", "Messages sent to groups.")
LAYER_FAILURES = Counter(
    "realtime_layer_errors", "Channel layer operations that failed to reach Redis."
)


async def observed(app, scope, receive, send):
    """Run app on a connection to route, counting it as above."""
    route = "/" + scope["url_route"]["route"]
    # Each metric's child for this route, looked up once rather than per frame.
    connections = CONNECTIONS.labels(scope["type"], route)
    frames_received = FRAMES_RECEIVED.labels(route)
    frames_sent = FRAMES_SENT.labels(route)
    handler_seconds = {}
    handled_since = None
    handled_type = None

    async def counted_receive():
        nonlocal handled_since, handled_type
        if handled_since is not None:
            if handled_type not in handler_seconds:
                handler_seconds[handled_type] = HANDLER_SECONDS.labels(route, handled_type)
            handler_seconds[handled_type].observe(time.perf_counter() - handled_since)
        message = await receive()
        handled_since, handled_type = time.perf_counter(), message["type"]
        if handled_type == "websocket.receive":
            frames_received.inc()
        return message

    async def counted_send(message):
        if message["type"] == "websocket.send":
            frames_sent.inc()
        await send(message)

    connections.inc()
    try:
        return await app(scope, counted_receive, counted_send)
    finally:
        connections.dec()


# Per worker channel, from the job layer's stats(): its key, the kind of metric,
# the metric's name and its help.
JOB_METRICS = [
    ("done", CounterMetricFamily, "realtime_jobs_done", "Jobs handled."),
    ("retried", CounterMetricFamily, "realtime_jobs_retried", "Failed attempts retried."),
    ("dead_lettered", CounterMetricFamily, "realtime_jobs_dead_lettered", "Jobs failed for good."),
    ("queued", GaugeMetricFamily, "realtime_jobs_queued", "Jobs waiting for a worker."),
    ("in_flight", GaugeMetricFamily, "realtime_jobs_in_flight", "Jobs a worker holds."),
    ("oldest_age", GaugeMetricFamily, "realtime_jobs_oldest_age_seconds", "Oldest job's age."),
]


def worker_job_metrics(stats):
    """Metric families of the worker channels' job stats ({channel: stats()})."""
    families = []
    for key, family_class, name, documentation in JOB_METRICS:
        family = family_class(name, documentation, labels=["channel"])
        for channel, values in stats.items():
            family.add_metric([channel], values[key] or 0)
        families.append(family)
    return families


class Families:
    """A collector of metric families computed beforehand."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def exposition(job_stats):
    """The text Prometheus scrapes: this process's metrics (or all processes', with
    PROMETHEUS_MULTIPROC_DIR), then the worker channels' job stats."""
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    jobs = CollectorRegistry()
    jobs.register(Families(worker_job_metrics(job_stats)))
    return generate_latest(registry) + generate_latest(jobs)
