"""OpenTelemetry tracing from command to read model, carried across Kafka in W3C ``traceparent`` headers.

Off unless configured: with ``OTEL_TRACES_EXPORTER`` unset or ``none`` every helper here returns at once and no
span is made (the hot paths check ``enabled()`` first). ``OTEL_TRACES_EXPORTER=console`` prints finished spans;
``otlp`` sends them to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when the optional package
``opentelemetry-exporter-otlp-proto-http`` is installed. ``OTEL_SERVICE_NAME`` names the process.

How one trace spans the asynchronous chain: an event is stored by the web process and published later by the
relay (another process), so the trace context must survive in the store. It does, as the **correlation id**:
a request without ``X-Correlation-Id`` gets its trace id as correlation id (a UUID is 128 bits, like a trace id),
and a request with a UUID correlation id but no ``traceparent`` is traced under that UUID. Every event records
the correlation id; the relay starts its ``publish`` span in that trace and writes ``traceparent`` into the
Kafka message headers; consumers continue from the header (or, for messages published before tracing was on,
from the correlation id), so the request, the publish and the read-model update are one trace.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import uuid
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.transport import Headers

log = logging.getLogger(__name__)

_propagator = TraceContextTextMapPropagator()
_tracer: Tracer | None = None
_provider: Any = None
CORRELATION_ATTRIBUTE = "partnership.correlation_id"


def enabled() -> bool:
    return _tracer is not None


def configure(service: str, exporter: Any | None = None) -> bool:
    """Set up the SDK when ``OTEL_TRACES_EXPORTER`` asks for it (or an exporter is given, as tests do).
    Returns whether tracing is on."""
    global _tracer, _provider
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter is None and choice in ("", "none"):
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    if exporter is None:
        if choice == "console":
            exporter = ConsoleSpanExporter()
        elif choice == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                log.warning("OTEL_TRACES_EXPORTER=otlp needs opentelemetry-exporter-otlp-proto-http; tracing off")
                return False
            exporter = OTLPSpanExporter()
        else:
            log.warning("unknown OTEL_TRACES_EXPORTER; tracing off", extra={"exporter": choice})
            return False
        processor: Any = BatchSpanProcessor(exporter)
    else:
        processor = SimpleSpanProcessor(exporter)
    name = os.environ.get("OTEL_SERVICE_NAME") or f"partnership-{service}"
    _provider = TracerProvider(resource=Resource.create({"service.name": name}))
    _provider.add_span_processor(processor)
    _tracer = _provider.get_tracer("partnership")
    return True


def shutdown() -> None:
    """Flush and switch tracing off (process exit; tests)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer, _provider = None, None


def _context_of_correlation(correlation_id: str) -> Context | None:
    """A remote parent in the trace named by a UUID correlation id (None when it is not a UUID)."""
    try:
        trace_id = uuid.UUID(correlation_id).int
    except (ValueError, AttributeError):
        return None
    if trace_id == 0:
        return None
    parent = SpanContext(trace_id=trace_id, span_id=(trace_id & 0xFFFFFFFFFFFFFFFF) or 1, is_remote=True,
                         trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _context_of_headers(headers: Headers) -> Context | None:
    carrier = {name: value.decode("latin-1") for name, value in headers if name in ("traceparent", "tracestate")}
    if "traceparent" not in carrier:
        return None
    context = _propagator.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def request_span(scope: dict[str, Any], correlation_id: str) -> tuple[contextlib.AbstractContextManager[Any], str]:
    """The server span of one HTTP request, and the correlation id to use (the trace id when none was given)."""
    if _tracer is None:
        return contextlib.nullcontext(), correlation_id
    headers: Headers = tuple((k.decode("latin-1"), v) for k, v in scope.get("headers", []))
    parent = _context_of_headers(headers)
    if parent is None and correlation_id:
        parent = _context_of_correlation(correlation_id)
    if parent is None:
        # A fresh trace whose id is also the correlation id the events will carry.
        trace_id = random.getrandbits(128) or 1
        correlation_id = str(uuid.UUID(int=trace_id))
        parent = _context_of_correlation(correlation_id)
    method = str(scope.get("method", "GET"))
    span = _tracer.start_as_current_span(f"{method} {scope.get('path', '')}", context=parent, kind=SpanKind.SERVER,
                                         attributes={"http.request.method": method,
                                                     "url.path": str(scope.get("path", "")),
                                                     CORRELATION_ATTRIBUTE: correlation_id})
    return span, correlation_id


@contextlib.contextmanager
def publishing(topic: str, envelope: Any) -> Iterator[Headers]:
    """Around publishing one event: a producer span in the event's trace; yields the headers to send."""
    if _tracer is None:
        yield ()
        return
    with _tracer.start_as_current_span(
        f"publish {topic}", context=_context_of_correlation(envelope.correlationid), kind=SpanKind.PRODUCER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic,
                    "messaging.operation.type": "send", "cloudevents.event_id": envelope.id,
                    "cloudevents.event_type": envelope.type, CORRELATION_ATTRIBUTE: envelope.correlationid},
    ):
        carrier: dict[str, str] = {}
        _propagator.inject(carrier)
        yield tuple((name, value.encode("latin-1")) for name, value in carrier.items())


@contextlib.contextmanager
def applying(consumer: str, headers: Headers, envelope: Any) -> Iterator[None]:
    """Around applying one event: a consumer span continuing the publisher's (or the correlation id's) trace."""
    if _tracer is None:
        yield
        return
    parent = _context_of_headers(headers) or _context_of_correlation(envelope.correlationid)
    with _tracer.start_as_current_span(
        f"apply {envelope.type}", context=parent, kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.consumer.group.name": consumer,
                    "messaging.operation.type": "process", "cloudevents.event_id": envelope.id,
                    "cloudevents.event_type": envelope.type, CORRELATION_ATTRIBUTE: envelope.correlationid},
    ):
        yield
