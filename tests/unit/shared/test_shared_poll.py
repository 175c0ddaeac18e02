"""Consumers of one topic into one store poll and commit together (``shared.consumer.SharedPoll``): one transaction
per batch for all of them, each keeping its own tracking records, seen events and dead letters, each applying
every event exactly once, also when one was ahead of the other or one rejects an event."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.runtime import make_transport
from shared.consumer import ConsumerRunner, PolicyRunner, Rejected, SharedPoll, polled_together
from shared.contracts import Actor, to_data
from shared.contracts.priorities import ObjectiveAdded, StrategyLevel
from shared.envelope import Envelope, encode
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Message, Transport
from tests.harness import settings_for

TOPIC = "shared.events"
DLQ = "shared.dlq"


class Recorder:
    """Writes a row per application (no key: a second application shows) and keeps the transaction it ran in."""

    def __init__(self, name: str, rejects: str | None = None) -> None:
        self.name = name
        self.rejects = rejects
        self.transactions: dict[str, Tx] = {}

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        if envelope.subject == self.rejects:
            raise Rejected("breaks an upstream invariant")
        tx.execute("INSERT INTO applied (consumer, subject) VALUES (?, ?)", (self.name, envelope.subject))
        self.transactions[envelope.subject] = tx


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(data_dir=tmp_path)


@pytest.fixture
def transport(settings: Settings) -> Iterator[Transport]:
    transport = make_transport(settings)
    transport.ensure_topic(TOPIC, 1)
    transport.ensure_topic(DLQ, 1)
    yield transport
    transport.close()


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    store = ReadStore(settings, "shared")
    store.migrate(["CREATE TABLE IF NOT EXISTS applied (consumer TEXT NOT NULL, subject TEXT NOT NULL)"])
    yield store
    store.close()


def _publish(transport: Transport, count: int, garbage: bool = False) -> list[str]:
    fact = ObjectiveAdded(actor=Actor("officer-1", "worcestershire-cc", "partnership_officer"),
                          correlation_id="shared", title="An objective", level=StrategyLevel.SCS, strategy="SCS")
    type_name, data = to_data(fact)
    publisher = transport.publisher()
    subjects = []
    for _ in range(count):
        subject = str(uuid.uuid4())
        envelope = Envelope(id=f"{subject}:1", source="/services/priorities", type=type_name, subject=subject,
                            time=datetime.now(UTC), sequence=1, data=data, actor="officer-1",
                            actororganisation="worcestershire-cc", actorrole="partnership_officer",
                            correlationid="shared")
        publisher.publish(TOPIC, subject, encode(envelope))
        subjects.append(subject)
    if garbage:
        publisher.publish(TOPIC, "garbage", b"not an event")
    publisher.flush()
    publisher.close()
    return subjects


def _runner(name: str, store: ReadStore, transport: Transport, handler: Recorder) -> ConsumerRunner:
    return ConsumerRunner(name, store, transport, TOPIC, handler, dead_letter_topic=DLQ, batch_size=50)


def _applied(store: ReadStore, consumer: str) -> list[str]:
    return [row["subject"] for row in store.query("SELECT subject FROM applied WHERE consumer = ?", [consumer])]


def _drain(runner: SharedPoll | ConsumerRunner) -> None:
    while runner.process_batch(0.05):
        pass


def _dead_letters(transport: Transport) -> list[Message]:
    reader = transport.reader(DLQ, {})
    try:
        return list(reader.poll(100, 0.2))
    finally:
        reader.close()


def test_two_consumers_of_one_topic_and_store_apply_each_batch_in_one_transaction(
        store: ReadStore, transport: Transport) -> None:
    first, second = Recorder("first"), Recorder("second")
    together = SharedPoll([_runner("first", store, transport, first), _runner("second", store, transport, second)])
    subjects = _publish(transport, 5)
    _drain(together)
    assert sorted(_applied(store, "first")) == sorted(subjects) == sorted(_applied(store, "second"))
    for subject in subjects:
        assert first.transactions[subject] is second.transactions[subject]
    # Each keeps its own position: run alone again, neither reapplies anything.
    for name, handler in (("first", first), ("second", second)):
        alone = _runner(name, store, transport, handler)
        assert store.position(alone._tracking_name(0)) == 4
        _drain(alone)
    assert len(_applied(store, "first")) == len(_applied(store, "second")) == 5


def test_a_member_ahead_of_the_other_skips_what_it_committed(store: ReadStore, transport: Transport) -> None:
    ahead = _runner("ahead", store, transport, Recorder("ahead"))
    early = _publish(transport, 3)
    _drain(ahead)  # it ran alone first (the release before)
    late = _publish(transport, 2)
    together = SharedPoll([_runner("behind", store, transport, Recorder("behind")),
                           _runner("ahead", store, transport, Recorder("ahead"))])
    _drain(together)
    assert sorted(_applied(store, "ahead")) == sorted(early + late)
    assert sorted(_applied(store, "behind")) == sorted(early + late)
    assert [m.status.applied for m in together.members] == [5, 2]
    _publish(transport, 1)
    _drain(ahead)  # alone again, one event further than "behind"
    assert together.resume_positions() == {0: 5}  # the slowest member's next offset: "behind" has read 5 of 6
    assert ahead.resume_positions() == {0: 6}


def test_a_malformed_message_is_dead_lettered_once_for_each_member_and_both_carry_on(
        store: ReadStore, transport: Transport) -> None:
    together = SharedPoll([_runner("first", store, transport, Recorder("first")),
                           _runner("second", store, transport, Recorder("second"))])
    subjects = _publish(transport, 2, garbage=True) + _publish(transport, 1)
    _drain(together)
    assert sorted(_applied(store, "first")) == sorted(subjects) == sorted(_applied(store, "second"))
    letters = _dead_letters(transport)
    assert sorted(dict(letter.headers)["dlq.consumer"] for letter in letters) == [b"first", b"second"]


def test_an_event_one_member_rejects_is_dead_lettered_for_it_alone_and_the_other_applies_it(
        store: ReadStore, transport: Transport) -> None:
    subjects = _publish(transport, 4)
    rejected = subjects[1]
    together = SharedPoll([_runner("strict", store, transport, Recorder("strict", rejects=rejected)),
                           _runner("lenient", store, transport, Recorder("lenient"))])
    _drain(together)
    assert sorted(_applied(store, "lenient")) == sorted(subjects)
    assert sorted(_applied(store, "strict")) == sorted(s for s in subjects if s != rejected)
    letters = _dead_letters(transport)
    assert [dict(letter.headers)["dlq.consumer"] for letter in letters] == [b"strict"]
    more = _publish(transport, 1)
    _drain(together)  # and after it, one transaction for both again
    assert more[0] in _applied(store, "strict") and more[0] in _applied(store, "lenient")


def test_only_plain_consumers_of_one_topic_and_one_store_are_polled_together(
        settings: Settings, store: ReadStore, transport: Transport) -> None:
    other = ReadStore(settings, "other")
    try:
        a = _runner("a", store, transport, Recorder("a"))
        b = _runner("b", store, transport, Recorder("b"))
        elsewhere = _runner("c", other, transport, Recorder("c"))
        transport.ensure_topic("another.events", 1)
        other_topic = ConsumerRunner("d", store, transport, "another.events", Recorder("d"), dead_letter_topic=DLQ)
        policy = object.__new__(PolicyRunner)  # a policy writes its own event store: never shared
        runners = polled_together([a, elsewhere, b, other_topic, policy])
        assert [type(r) for r in runners] == [SharedPoll, ConsumerRunner, ConsumerRunner, PolicyRunner]
        assert isinstance(runners[0], SharedPoll) and runners[0].members == [a, b]
        assert runners[1:3] == [elsewhere, other_topic]
    finally:
        other.close()
