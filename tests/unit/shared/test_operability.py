"""Operability in the embedded mode: Prometheus metrics, correlation ids, readiness on real checks, and one
OpenTelemetry trace from the command through the relay to the read model (carried in the message headers)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import tracing
from shared.health import Readiness
from tests.harness import Harness, running_system, settings_for, wait_until

OBJECTIVE = {"title": "A skilled and prosperous economy", "level": "scs", "strategy": "Sustainable Community Strategy"}


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    with running_system(settings_for(data_dir=tmp_path), services=("priorities", "reporting")) as harness:
        yield harness


def _objective_count(h: Harness) -> int:
    return len(h.graphql("{ objectives { id } }")["data"]["objectives"])


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{", 1)[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_commands_by_outcome_and_the_relay_and_consumers_at_work(h: Harness) -> None:
    before = h.client.get("/metrics").text
    accepted = _sample(before, "partnership_commands_total", service="priorities", outcome="accepted")
    refused = _sample(before, "partnership_commands_total", service="priorities", outcome="refused")
    assert h.client.post("/priorities/objectives", json={**OBJECTIVE, "decision": h.board_decision()},
                         headers=h.headers("partnership_officer")).status_code == 201
    assert h.client.post("/priorities/objectives", json=OBJECTIVE, headers=h.headers("auditor")).status_code == 403
    wait_until(lambda: _objective_count(h) == 1, what="the objective in the read model")

    response = h.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _sample(text, "partnership_commands_total", service="priorities", outcome="accepted") == accepted + 1
    assert _sample(text, "partnership_commands_total", service="priorities", outcome="refused") == refused + 1
    topic = h.system.settings.topic("priorities.events")
    assert _sample(text, "partnership_relay_published_total", topic=topic) >= 1
    assert _sample(text, "partnership_relay_backlog", topic=topic) == 0
    assert _sample(text, "partnership_relay_leader", topic=topic) == 1
    assert _sample(text, "partnership_consumer_applied_total", consumer="reporting", topic=topic) >= 1
    assert _sample(text, "partnership_consumer_lag", consumer="reporting", topic=topic, partition="0") == 0
    assert _sample(text, "partnership_projection_lag_seconds_count", consumer="reporting", topic=topic) >= 1
    assert "partnership_http_request_duration_seconds_bucket" in text


def test_every_response_carries_the_correlation_id_the_events_record(h: Harness) -> None:
    supplied = str(uuid.uuid4())
    response = h.client.post("/priorities/objectives", json={**OBJECTIVE, "decision": h.board_decision()},
                             headers={**h.headers("partnership_officer"), "X-Correlation-Id": supplied})
    assert response.status_code == 201
    assert response.headers["x-correlation-id"] == supplied
    generated = h.client.get("/healthz").headers["x-correlation-id"]
    assert str(uuid.UUID(generated)) == generated
    query = '{ history(aggregateId: "ID") { correlationId } }'.replace("ID", response.json()["id"])
    history = wait_until(lambda: h.graphql(query)["data"]["history"], what="the history")
    assert history[0]["correlationId"] == supplied


def test_readiness_reports_database_and_broker_and_the_relays(h: Harness) -> None:
    response = h.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["relays"][h.system.settings.topic("priorities.events")]["leader"] is True
    assert h.client.get("/healthz").json() == {"status": "ok"}


def test_a_required_dependency_that_fails_or_hangs_makes_the_process_not_ready_in_time() -> None:
    release = threading.Event()

    def unreachable() -> None:
        raise ConnectionRefusedError("connection refused")

    readiness = Readiness({"database": lambda: None, "broker": release.wait}, required={"database"}, timeout=0.2)
    try:
        started = time.monotonic()
        ready, checks = readiness.run()
        assert ready and checks["database"] == "ok" and checks["broker"].startswith("no answer within")
        assert time.monotonic() - started < 2
        readiness.checks["database"] = unreachable
        ready, checks = readiness.run()
        assert not ready and checks["database"] == "unreachable: connection refused"
    finally:
        release.set()
        readiness.close()


def test_one_trace_runs_from_the_command_through_kafka_headers_to_the_read_model(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    assert tracing.configure("test", exporter=exporter)
    try:
        with running_system(settings_for(data_dir=tmp_path), services=("priorities", "reporting")) as h:
            response = h.client.post("/priorities/objectives", json={**OBJECTIVE, "decision": h.board_decision()},
                                     headers=h.headers("partnership_officer"))
            assert response.status_code == 201
            correlation = response.headers["x-correlation-id"]
            wait_until(lambda: _objective_count(h) == 1, what="the objective in the read model")
            topic = h.system.settings.topic("priorities.events")
            reader = h.system.transport.reader(topic, {})
            messages = reader.poll(10, 1.0)
            reader.close()
        spans = {span.name: span for span in exporter.get_finished_spans()}
    finally:
        tracing.shutdown()
    request = spans["POST /priorities/objectives"]
    publish = spans[f"publish {topic}"]
    apply = spans["apply priorities.ObjectiveAdded.v1"]
    trace_id = uuid.UUID(correlation).int  # no correlation id was sent: the trace id became it
    assert {request.context.trace_id, publish.context.trace_id, apply.context.trace_id} == {trace_id}
    assert apply.parent is not None and apply.parent.span_id == publish.context.span_id
    traceparent = dict(messages[0].headers)["traceparent"].decode()
    assert traceparent.split("-")[1:3] == [f"{trace_id:032x}", f"{publish.context.span_id:016x}"]
