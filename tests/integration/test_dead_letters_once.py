"""Dead letters once, on a real broker and PostgreSQL: a batch that met a malformed message and a rejected one
fails after dead-lettering them, is retried by the same runner, then abandoned by a runner that stops and taken up
by a new one (no memory of what was sent); each message reaches the dead-letter topic exactly once and the
projection carries on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from services.runtime import make_transport
from shared.consumer import ConsumerRunner, Rejected
from shared.envelope import Envelope, decode
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Message, Transport
from tests.harness import settings_for, wait_until
from tests.integration.test_scaling import APPLIED_DDL, Recorder, _publish

pytestmark = pytest.mark.integration


class Flaky(Recorder):
    """Fails the batch's transaction a set number of times (as a database restart would); rejects one subject."""

    def __init__(self, failures: int, rejected: str) -> None:
        super().__init__("flaky")
        self.failures = failures
        self.rejected = rejected

    def apply(self, tx: Tx, envelope: Envelope) -> None:
        if envelope.subject == self.rejected:
            raise Rejected("breaks an upstream invariant")
        if self.failures > 0:
            self.failures -= 1
            raise OSError("the database connection dropped")
        super().apply(tx, envelope)


def _runner(settings: Settings, transport: Transport, store: ReadStore, topic: str, handler: Flaky) -> ConsumerRunner:
    return ConsumerRunner("letters", store, transport, topic, handler, dead_letter_topic=settings.topic("letters.dlq"),
                          batch_size=50)


def _dead_letters(transport: Transport, topic: str) -> list[Message]:
    reader = transport.reader(topic, {})
    letters: list[Message] = []
    try:
        ends = transport.end_offsets(topic)
        seen = dict.fromkeys(ends, 0)
        while any(seen[p] < end for p, end in ends.items()):
            for message in reader.poll(100, 0.5):
                seen[message.position.partition] = message.position.offset + 1
                letters.append(message)
    finally:
        reader.close()
    return letters


def _process_until(runner: ConsumerRunner, predicate: Callable[[], bool], what: str) -> None:
    def step() -> bool:
        runner.process_batch(0.5)
        return predicate()

    wait_until(step, 60, what)


def test_a_malformed_and_a_rejected_message_are_dead_lettered_once_through_retries_and_a_new_runner(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    topic = settings.topic("letters.events")
    transport = make_transport(settings)
    transport.ensure_topic(topic, 1)  # one partition: the good, the malformed and the rejected share one batch
    store = ReadStore(settings, "scaling")
    store.migrate([APPLIED_DDL])

    def applied() -> int:
        return int(store.query("SELECT COUNT(*) AS n FROM applied")[0]["n"])

    # One batch: a good event, garbage, a good one, one the projection rejects, a good one (offsets 0 to 4).
    _publish(transport, topic, 1)
    publisher = transport.publisher()
    try:
        publisher.publish(topic, "garbage", b"not an event at all")
        publisher.flush()
    finally:
        publisher.close()
    _publish(transport, topic, 3)
    reader = transport.reader(topic, {})
    try:
        batch: list[Message] = []
        while len(batch) < 5:
            batch.extend(reader.poll(10, 1.0))
    finally:
        reader.close()
    rejected_subject = decode(batch[3].value).subject

    try:
        first = _runner(settings, transport, store, topic, Flaky(failures=2, rejected=rejected_subject))
        for _ in range(2):  # the batch fails twice after its dead letter was sent, and is read again
            with pytest.raises(OSError):
                first.process_batch(5.0)
            first._reset()
        assert applied() == 0
        first.close()  # this runner stops; the next one starts with no memory of what was sent

        second = _runner(settings, transport, store, topic, Flaky(failures=0, rejected=rejected_subject))
        _process_until(second, lambda: second.status.next_offsets.get(0) == 5, "the batch through")
        assert applied() == 3
        letters = _dead_letters(transport, settings.topic("letters.dlq"))
        offsets = sorted(int(dict(m.headers)["dlq.offset"]) for m in letters)
        assert offsets == [1, 3]  # each once: the garbage at offset 1, the rejected event at offset 3
        reasons = sorted(dict(m.headers)["dlq.reason"].decode().split(":")[0] for m in letters)
        assert reasons == ["malformed", "rejected"]
        assert first.status.dead_lettered == 1 and second.status.dead_lettered == 1

        _publish(transport, topic, 2)  # and the consumer carries on
        _process_until(second, lambda: applied() == 5, "events after the dead letters applied")
        assert len(_dead_letters(transport, settings.topic("letters.dlq"))) == 2
        second.close()
    finally:
        store.close()
        transport.close()

