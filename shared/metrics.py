"""Prometheus metrics: what operators watch (commands and errors, relay backlog, consumer and projection lag).

Counters are process-wide and bumped on the hot paths (a label lookup and an add). Gauges that need a query
(relay backlog, consumer lag per partition) are computed when Prometheus scrapes, by a collector over the parts a
process runs, so an idle system costs nothing and a busy one pays once per scrape, not per event.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared import logs

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("partnership_http_requests", "HTTP requests served", ["area", "method", "status"])
HTTP_SECONDS = Histogram("partnership_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["area", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
COMMANDS = Counter("partnership_commands", "Commands (POST, PUT, PATCH, DELETE on a service API) by outcome: "
                   "accepted (2xx), refused (4xx: invalid, not permitted, stale, rule), failed (5xx)",
                   ["service", "outcome"])
RELAY_PUBLISHED = Counter("partnership_relay_published", "Events the relay published (acknowledged)", ["topic"])
RELAY_ERRORS = Counter("partnership_relay_errors", "Relay batches that failed (broker away, store error)", ["topic"])
CONSUMER_APPLIED = Counter("partnership_consumer_applied", "Events a consumer applied", ["consumer", "topic"])
CONSUMER_DUPLICATES = Counter("partnership_consumer_duplicates",
                              "Redelivered events a consumer skipped (already applied)", ["consumer", "topic"])
CONSUMER_DEAD_LETTERED = Counter("partnership_consumer_dead_lettered",
                                 "Messages a consumer sent to its dead-letter topic", ["consumer", "topic"])
CONSUMER_ERRORS = Counter("partnership_consumer_errors", "Consumer batches that failed and were retried",
                          ["consumer", "topic"])
PROJECTION_LAG = Histogram("partnership_projection_lag_seconds",
                           "From an event's time (its command committed) to its effects committed by a consumer",
                           ["consumer", "topic"],
                           buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600))
GRAPHQL_CACHE_LOOKUPS = Counter("partnership_graphql_cache_lookups",
                                "Cacheable GraphQL queries answered from the response cache (hit) or run (miss)",
                                ["outcome"])
GRAPHQL_CACHE_EVICTIONS = Counter("partnership_graphql_cache_evictions",
                                  "Cached GraphQL answers dropped to stay within the cache's size")
GRAPHQL_CACHE_BYTES = Gauge("partnership_graphql_cache_bytes", "Encoded JSON held by the GraphQL response cache")

API_AREAS = frozenset({"priorities", "tasking", "projects"})
OTHER_AREAS = frozenset({"graphql", "healthz", "readyz", "metrics", "audit", "reporting"})
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def area_of(path: str) -> str:
    """The first path segment when it is one we know (bounded label values), else ``other``."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in API_AREAS or first in OTHER_AREAS else "other"


def exposition() -> tuple[bytes, str]:
    """The text Prometheus scrapes, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


CORRELATION_HEADER = b"x-correlation-id"


class RequestMetrics:
    """ASGI middleware: counts and times requests, counts commands by outcome, and makes sure every request
    has a correlation id (the client's ``X-Correlation-Id``, or a new one) that the handlers see, the logs
    carry and the response echoes."""

    def __init__(self, app: Any, on_request: Callable[[dict[str, Any], str], Any] | None = None) -> None:
        self.app = app
        self.on_request = on_request

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        supplied = next((v for k, v in headers if k == CORRELATION_HEADER), b"")
        correlation = supplied.decode("latin-1")[:100] if supplied else ""
        context = contextlib.nullcontext()
        if self.on_request is not None:
            # Tracing: the request's span; it may choose the correlation id (the trace id) when none was given.
            context, correlation = self.on_request(scope, correlation)
        if not correlation:
            correlation = str(uuid.uuid4())
        if not supplied:
            headers.append((CORRELATION_HEADER, correlation.encode("latin-1")))
            scope = {**scope, "headers": headers}
        method = str(scope.get("method", "GET"))
        area = area_of(str(scope.get("path", "")))
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []),
                                                  (CORRELATION_HEADER, correlation.encode("latin-1"))]}
            await send(message)

        token = logs.correlation_id.set(correlation)
        try:
            with context:
                await self.app(scope, receive, send_wrapper)
        finally:
            logs.correlation_id.reset(token)
            HTTP_SECONDS.labels(area, method).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(area, method, str(status)).inc()
            if method in COMMAND_METHODS and area in API_AREAS:
                outcome = "accepted" if status < 400 else "refused" if status < 500 else "failed"
                COMMANDS.labels(area, outcome).inc()


class SystemCollector(Collector):
    """Scrape-time gauges over the relays and consumers one process runs."""

    def __init__(self, relays: Callable[[], Iterable[Any]], consumers: Callable[[], Iterable[Any]]) -> None:
        self._relays = relays
        self._consumers = consumers

    def describe(self) -> list[Any]:
        return []  # computed per scrape; several systems in one process (tests) must not clash at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = GaugeMetricFamily("partnership_relay_backlog",
                                    "Events stored but not yet published by the relay", labels=["topic"])
        relay_degraded = GaugeMetricFamily("partnership_relay_degraded", "1 while the relay cannot publish",
                                           labels=["topic"])
        relay_leader = GaugeMetricFamily("partnership_relay_leader",
                                         "1 where this process holds the relay's leadership", labels=["topic"])
        for relay in self._relays():
            with _guard("relay backlog"):
                backlog.add_metric([relay.topic], float(relay.backlog()))
            relay_degraded.add_metric([relay.topic], 1.0 if relay.status.degraded else 0.0)
            relay_leader.add_metric([relay.topic], 1.0 if relay.status.leader else 0.0)
        lag = GaugeMetricFamily("partnership_consumer_lag",
                                "Messages on the topic that the consumer has not yet applied",
                                labels=["consumer", "topic", "partition"])
        consumer_degraded = GaugeMetricFamily("partnership_consumer_degraded",
                                              "1 while the consumer keeps failing", labels=["consumer", "topic"])
        last_applied = GaugeMetricFamily("partnership_consumer_last_event_timestamp_seconds",
                                         "Time of the newest event the consumer applied", labels=["consumer", "topic"])
        for consumer in self._consumers():
            with _guard("consumer lag"):
                for partition, behind in sorted(consumer.lag().items()):
                    lag.add_metric([consumer.name, consumer.topic, str(partition)], float(behind))
            consumer_degraded.add_metric([consumer.name, consumer.topic], 1.0 if consumer.status.degraded else 0.0)
            if consumer.status.last_event_time is not None:
                last_applied.add_metric([consumer.name, consumer.topic], consumer.status.last_event_time)
        yield from (backlog, relay_degraded, relay_leader, lag, consumer_degraded, last_applied)


@contextlib.contextmanager
def _guard(what: str) -> Iterator[None]:
    """A scrape must answer even when the broker or the database does not: that gauge is left out."""
    try:
        yield
    except Exception as error:
        log.warning("metric not available", extra={"metric": what, "error": str(error)[:300]})


def register(collector: Collector) -> Callable[[], None]:
    """Register a collector; returns the function that unregisters it."""
    REGISTRY.register(collector)

    def unregister() -> None:
        with contextlib.suppress(KeyError):
            REGISTRY.unregister(collector)

    return unregister
