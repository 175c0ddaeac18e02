"""Exactly-once in effect on real Kafka and PostgreSQL: crashes and redeliveries change no read model."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from services.reporting.projections import read_model_ddl
from services.reporting.readmodel import ReportingReadModel
from services.runtime import System
from shared.contracts import Actor
from shared.contracts.priorities import StrategyLevel
from shared.eventstore import CommandContext
from shared.readstore import ReadStore
from shared.relay import Relay
from shared.settings import Settings
from tests.copies import board_meeting
from tests.harness import BOARD_DAY, Process, running_system, settings_env, settings_for, wait_until

pytestmark = pytest.mark.integration

HALF_AN_EVENT = b'{"specversion": "1.0", "type": "priorities.ObjectiveAdded.v1"}'
OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "test")


def _add_objectives(system: System, count: int) -> None:
    app = system.application("priorities")
    adopted = board_meeting(app.local, BOARD_DAY, "Adopted by the partnership board")
    for n in range(count):
        app.add_objective(OFFICER, title=f"Objective {n}", level=StrategyLevel.SCS, strategy="SCS",
                          decision=adopted)


def _publish_everything(relay: Relay) -> None:
    while relay.publish_batch():
        pass


def _counts(store: ReadStore) -> tuple[int, int, int]:
    """(events applied per the counter, rows in the event log, objectives) in the reporting store."""
    applied = store.query("SELECT COALESCE(SUM(n), 0) AS n FROM event_counts")[0]["n"]
    logged = store.query("SELECT COUNT(*) AS n FROM event_log")[0]["n"]
    objectives = store.query("SELECT COUNT(*) AS n FROM objectives")[0]["n"]
    return int(applied), int(logged), int(objectives)


def test_a_projection_killed_mid_stream_and_restarted_applies_every_event_exactly_once(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    total = 3000
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap,
                            consumer_batch_size=25)
    with running_system(settings, services=("priorities",), workers=False) as h:
        _add_objectives(h.system, total)
        _publish_everything(h.system.relays[0])
    store = ReportingReadModel(ReadStore(settings, "reporting"), read_model_ddl()).store
    env = {**settings_env(settings), "PARTNERSHIP_CONSUMER_BATCH_SIZE": "25"}
    kills = 0
    try:
        for attempt in range(3):
            worker = Process(["worker", "reporting"], env, tmp_path / f"projection-{attempt}.log")
            before = _counts(store)[0] if attempt else 0
            wait_until(lambda b=before: _counts(store)[0] > b, 60, "the projection to make progress")  # type: ignore[misc]
            worker.kill()  # SIGKILL: wherever it is, mid-batch or between batches
            kills += 1
            if _counts(store)[0] >= total:
                break
        assert _counts(store)[0] < total, "the projection finished before it could be killed mid-stream"
        worker = Process(["worker", "reporting"], env, tmp_path / "projection-final.log")
        try:
            wait_until(lambda: _counts(store)[1] == total, 60, "every event in the event log")
            wait_until(lambda: _counts(store)[0] == total, 10, "every event counted")
        finally:
            worker.terminate()
        assert _counts(store) == (total, total, total)
        assert kills >= 1
    finally:
        store.close()


def _rewind_relay(settings: Settings, topic: str, to: int) -> None:
    """The state a crash leaves between the broker's acknowledgement and the position write."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("UPDATE {}.priorities_tracking SET notification_id = %s WHERE application_name = %s").format(
                sql.Identifier(f"{settings.schema_prefix}priorities")),
            (to, f"relay:{topic}"),
        )


def test_a_relay_that_crashed_before_recording_its_position_republishes_and_nothing_doubles(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    total, rewound_to = 200, 50
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings, services=("priorities",), workers=False) as h:
        _add_objectives(h.system, total)
        relay = h.system.relays[0]
        _publish_everything(relay)
        _rewind_relay(settings, relay.topic, rewound_to)
        restarted = Relay(h.system.application("priorities"), h.system.transport, relay.topic,
                          publish_unreleased=True)
        _publish_everything(restarted)
        restarted.close()
        published = sum(h.system.transport.end_offsets(relay.topic).values())
    assert published == total + (total - rewound_to)

    with running_system(settings, services=("reporting",)) as h:
        consumer = h.system.consumers[0]
        wait_until(lambda: consumer.status.applied + consumer.status.duplicates == published, 60, "the projection")
        assert consumer.status.duplicates == total - rewound_to
        assert _counts(h.system.read_model.store) == (total, total, total)  # type: ignore[union-attr]


def test_garbage_on_a_topic_goes_to_the_dead_letter_topic_and_the_projection_carries_on(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    with running_system(settings) as h:
        topic = settings.topic("priorities.events")
        publisher = h.system.transport.publisher()
        publisher.publish(topic, "not-a-uuid", b"\x00\x01 definitely not an event")
        publisher.publish(topic, None, HALF_AN_EVENT)
        publisher.flush()
        publisher.close()
        response = h.client.post("/priorities/objectives", headers=h.headers("partnership_officer"),
                                 json={"title": "After the garbage", "level": "scs", "strategy": "SCS",
                                       "decision": h.board_decision()})
        assert response.status_code == 201
        wait_until(lambda: h.graphql("{ objectives { title } }")["data"]["objectives"], 30, "the good event")

        reader = h.system.transport.reader(settings.topic("reporting.dlq"), {})
        dead = wait_until(lambda: list(reader.poll(10, 0.5)), 30, "the dead-letter topic")
        while len(dead) < 2:
            dead.extend(reader.poll(10, 0.5))
        reader.close()
        reasons = {m.value: dict(m.headers)["dlq.reason"].decode() for m in dead}  # partitions interleave
        assert reasons[b"\x00\x01 definitely not an event"].startswith("malformed: not JSON")
        assert "missing CloudEvent attribute" in reasons[HALF_AN_EVENT]
        assert {dict(m.headers)["dlq.topic"] for m in dead} == {topic.encode()}
        [projection] = [c for c in h.system.consumers
                        if c.topic == topic and c.dead_letter_topic == settings.topic("reporting.dlq")]
        assert projection.status.dead_lettered == 2
