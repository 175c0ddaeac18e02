"""A worker's replicas on real Kafka and PostgreSQL: consumers share a topic's partitions through a consumer
group (one replica leaving mid-stream hands its partitions over) and nothing is applied twice or lost; the relay
stays a single writer through a PostgreSQL advisory lock and a standby takes over when the leader stops."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.runtime import make_transport
from shared.consumer import ConsumerRunner, Handler
from shared.contracts import Actor, to_data
from shared.contracts.priorities import ObjectiveAdded
from shared.envelope import Envelope, decode, encode
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Transport
from tests.harness import running_system, settings_for, wait_until

pytestmark = pytest.mark.integration

PARTITIONS = 6
APPLIED_DDL = "CREATE TABLE IF NOT EXISTS applied (subject TEXT NOT NULL, version INTEGER NOT NULL, worker TEXT)"


class Recorder:
    """A projection that writes one row per application: no key, so a second application would show."""

    def __init__(self, worker: str) -> None:
        self.worker = worker

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        tx.execute("INSERT INTO applied (subject, version, worker) VALUES (?, ?, ?)",
                   (envelope.subject, envelope.sequence, self.worker))


def _publish(transport: Transport, topic: str, count: int) -> None:
    fact = ObjectiveAdded(actor=Actor("officer-1", "worcestershire-cc", "partnership_officer"),
                          correlation_id="scaling", title="An objective", level="scs", strategy="SCS")
    type_name, data = to_data(fact)
    publisher = transport.publisher()
    try:
        for _ in range(count):
            subject = str(uuid.uuid4())
            envelope = Envelope(id=f"{subject}:1", source="/services/priorities", type=type_name, subject=subject,
                                time=datetime.now(UTC), sequence=1, data=data, actor="officer-1",
                                actororganisation="worcestershire-cc", actorrole="partnership_officer",
                                correlationid="scaling")
            publisher.publish(topic, subject, encode(envelope))
        publisher.flush()
    finally:
        publisher.close()


class Replica:
    """One replica of a worker: its own Kafka clients and database connections, its own thread."""

    def __init__(self, name: str, settings: Settings, topic: str, runner: type[ConsumerRunner] = ConsumerRunner,
                 handler: Handler | None = None) -> None:
        self.transport = make_transport(settings)
        self.store = ReadStore(settings, "scaling")
        self.runner = runner("scaling", self.store, self.transport, topic, handler or Recorder(name),
                             dead_letter_topic=settings.topic("scaling.dlq"), batch_size=50)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.runner.run, args=(self.stop,), name=name, daemon=True)
        self.thread.start()

    def partitions(self) -> set[int]:
        return set(self.runner.status.next_offsets)

    def shutdown(self) -> None:
        """As on SIGTERM: the batch in hand is finished and its position recorded, then the group is left."""
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        self.store.close()
        self.transport.close()


@contextmanager
def replicas(settings: Settings, topic: str, count: int) -> Iterator[list[Replica]]:
    started = [Replica(f"replica-{n}", settings, topic) for n in range(count)]
    try:
        yield started
    finally:
        for replica in started:
            if replica.thread.is_alive():
                replica.shutdown()


def scaling_topic(settings: Settings) -> tuple[str, Transport, ReadStore, Callable[[], tuple[int, int]]]:
    """The scaling topic (made with its partitions), a producer, the store the replicas apply to, and what was
    applied there: (events, distinct events), equal when nothing was applied twice."""
    topic = settings.topic("scaling.events")
    producer = make_transport(settings)
    producer.ensure_topic(topic, PARTITIONS)
    store = ReadStore(settings, "scaling")
    store.migrate([APPLIED_DDL])

    def counts() -> tuple[int, int]:
        [row] = store.query("SELECT COUNT(*) AS n, COUNT(DISTINCT subject) AS d FROM applied")
        return int(row["n"]), int(row["d"])

    return topic, producer, store, counts


def test_two_replicas_share_the_partitions_and_apply_every_event_exactly_once_through_a_handover(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap, consumer_groups=True)
    topic, producer, store, counts = scaling_topic(settings)

    try:
        with replicas(settings, topic, 2) as (first, second):
            wait_until(lambda: len(first.partitions()) == len(second.partitions()) == PARTITIONS // 2
                       and not first.partitions() & second.partitions(),
                       # Seconds normally; a member that stops polling holds a rebalance for the poll interval (30 s),
                       # see docs/reliability.md and tests/integration/test_group_stall.py.
                       60, "the group to split the partitions")
            _publish(producer, topic, 300)
            wait_until(lambda: counts()[0] >= 300, 60, "the first 300 events applied")
            by_worker = {r["worker"]: int(r["n"]) for r in
                         store.query("SELECT worker, COUNT(*) AS n FROM applied GROUP BY worker")}
            assert set(by_worker) == {"replica-0", "replica-1"} and sum(by_worker.values()) == 300

            # One replica stops while the next 300 are being applied: its partitions move to the other.
            publishing = threading.Thread(target=_publish, args=(producer, topic, 300))
            publishing.start()
            wait_until(lambda: counts()[0] >= 330, 60, "the second batch under way")
            first.shutdown()
            publishing.join(60)
            wait_until(lambda: len(second.partitions()) == PARTITIONS, 60, "the survivor to own every partition")
            wait_until(lambda: counts()[0] >= 600, 60, "every event applied")
            assert counts() == (600, 600)  # nothing lost, nothing applied twice
            assert second.runner.lag() == dict.fromkeys(range(PARTITIONS), 0)
    finally:
        store.close()
        producer.close()


def test_the_relay_stays_single_writer_and_a_standby_takes_over_when_the_leader_stops(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    topic = settings.topic("priorities.events")
    objective = {"title": "A skilled and prosperous economy", "level": "scs", "strategy": "SCS"}

    def published() -> list[tuple[str, int]]:
        reader = make_transport(settings).reader(topic, {})
        seen: list[tuple[str, int]] = []
        try:
            while batch := reader.poll(500, 1.0):
                seen += [(e.subject, e.sequence) for e in map(decode, (m.value for m in batch))]
        finally:
            reader.close()
        return seen

    with running_system(settings, services=("priorities",)) as one, \
            running_system(settings, services=("priorities",)) as two:
        relays = [one.system.relays[0], two.system.relays[0]]
        wait_until(lambda: sum(r.status.leader for r in relays) == 1, 30, "one relay to lead")
        leader, standby = (one, two) if relays[0].status.leader else (two, one)
        for _ in range(40):
            assert standby.client.post("/priorities/objectives", json={**objective,
                                                                      "decision": standby.board_decision()},
                                       headers=standby.headers("partnership_officer")).status_code == 201
        wait_until(lambda: leader.system.relays[0].backlog() == 0, 30, "the leader to publish everything")
        assert sum(r.status.leader for r in relays) == 1
        assert standby.system.relays[0].status.published == 0

        leader.system.stop_workers()  # the leader stops (SIGTERM): its session ends and the lock is free
        wait_until(lambda: standby.system.relays[0].status.leader, 30, "the standby to take over")
        for _ in range(40):
            assert standby.client.post("/priorities/objectives", json={**objective,
                                                                      "decision": standby.board_decision()},
                                       headers=standby.headers("partnership_officer")).status_code == 201
        wait_until(lambda: standby.system.relays[0].backlog() == 0, 30, "the new leader to publish the rest")
        events = published()
        assert len(events) == len(set(events)) == 80  # every event once: no gap, no duplicate at the handover
        assert standby.system.relays[0].status.published == 40
