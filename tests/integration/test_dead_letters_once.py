"""Dead letters once, on a real broker and PostgreSQL: a batch that met a malformed message and a rejected one
fails after dead-lettering them, is retried by the same runner, then abandoned by a runner that stops and taken up
by a new one (no memory of what was sent); each message reaches the dead-letter topic exactly once and the
projection carries on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

from services.runtime import make_transport
from shared.consumer import ConsumerRunner, Rejected
from shared.envelope import Envelope, decode
from shared.readstore import ReadStore, Tx
from shared.settings import Settings
from shared.transport import Message, Transport
from tests.harness import settings_for, wait_until
from tests.integration.test_group_stall import MAX_POLL_INTERVAL
from tests.integration.test_scaling import APPLIED_DDL, Recorder, Replica, _publish

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



def _publish_garbage(transport: Transport, topic: str) -> None:
    publisher = transport.publisher()
    try:
        publisher.publish(topic, "garbage", b"not an event at all")
        publisher.flush()
    finally:
        publisher.close()


def test_a_malformed_message_is_dead_lettered_once_when_its_batch_is_handed_over_to_another_replica(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """Two replicas in a consumer group: the one holding the partition dead-letters the garbage of its batch and then
    hangs before its transaction; after the poll interval the group hands the partition to the other, which reads the
    same batch again. The garbage reaches the dead-letter topic once in total, also after the first wakes up."""
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap, consumer_groups=True,
                            consumer_max_poll_interval=MAX_POLL_INTERVAL)
    topic = settings.topic("scaling.events")
    transport = make_transport(settings)
    transport.ensure_topic(topic, 1)  # one partition: one replica holds the batch at a time
    store = ReadStore(settings, "scaling")
    store.migrate([APPLIED_DDL])

    def applied() -> int:
        return int(store.query("SELECT COUNT(*) AS n FROM applied")[0]["n"])

    class StuckAfterDeadLettering(ConsumerRunner):
        """Stuck in its batch after the dead letter went out, before anything was written: a lock, a stall."""

        entered = threading.Event()
        release = threading.Event()

        def _first_sightings(self, tx: Tx, envelopes: list[Envelope]) -> list[Envelope]:
            if self.status.dead_lettered and not self.release.is_set():
                self.entered.set()
                self.release.wait(120)
            return super()._first_sightings(tx, envelopes)

    first = Replica("replica-a", settings, topic, runner=StuckAfterDeadLettering)
    replicas = [first]
    try:
        wait_until(lambda: first.partitions() == {0}, 60, "the first replica to hold the partition")
        _publish(transport, topic, 1)
        _publish_garbage(transport, topic)
        _publish(transport, topic, 1)
        assert StuckAfterDeadLettering.entered.wait(60), "the first replica never dead-lettered the garbage"

        second = Replica("replica-b", settings, topic)
        replicas.append(second)
        wait_until(lambda: applied() == 2, MAX_POLL_INTERVAL + 30, "the second replica to take over the batch")
        assert second.partitions() == {0}
        letters = _dead_letters(transport, settings.topic("scaling.dlq"))
        assert [dict(m.headers)["dlq.offset"] for m in letters] == [b"1"]  # the second found it there
        assert second.runner.status.dead_lettered == 0

        StuckAfterDeadLettering.release.set()  # the first wakes: its batch must not write or send anything again
        wait_until(lambda: first.runner.status.degraded is None and not first.partitions() & second.partitions()
                   and first.partitions() | second.partitions() == {0}, 60, "the first replica to rejoin")
        _publish(transport, topic, 1)
        _publish_garbage(transport, topic)
        wait_until(lambda: applied() == 3 and first.runner.status.dead_lettered + second.runner.status.dead_lettered
                   == 2, 60, "the group to carry on after the handover")
        letters = _dead_letters(transport, settings.topic("scaling.dlq"))
        assert sorted(dict(m.headers)["dlq.offset"] for m in letters) == [b"1", b"4"]  # each garbage once in total
        assert int(store.query("SELECT COUNT(DISTINCT subject) AS n FROM applied")[0]["n"]) == 3
    finally:
        StuckAfterDeadLettering.release.set()
        for replica in replicas:
            if replica.thread.is_alive():
                replica.shutdown()
        store.close()
        transport.close()


def test_two_replicas_meeting_one_malformed_message_at_once_dead_letter_it_once(
        tmp_path: Path, postgres_url: str, kafka_bootstrap: str) -> None:
    """The window a rebalance leaves: two replicas hold one partition and meet one message together. Each reads the
    dead-letter topic before publishing; without one replica at a time both would find nothing and both publish."""
    settings = settings_for(data_dir=tmp_path, postgres_url=postgres_url, kafka=kafka_bootstrap)
    topic = settings.topic("letters.events")
    transport = make_transport(settings)
    transport.ensure_topic(topic, 1)
    store = ReadStore(settings, "scaling")
    store.migrate([APPLIED_DDL])
    _publish_garbage(transport, topic)
    # No consumer groups: each runner reads every partition, as two replicas both holding it during a rebalance.
    first = _runner(settings, transport, store, topic, Flaky(failures=0, rejected=""))
    second = _runner(settings, make_transport(settings), ReadStore(settings, "scaling"), topic,
                     Flaky(failures=0, rejected=""))
    read, publish = threading.Event(), threading.Event()
    publish_now = first.dead_letters._publish

    def slow_publish(message: Message, origin: str, reason: str) -> None:
        read.set()  # the first has read the topic to its end and found nothing
        assert publish.wait(60)
        publish_now(message, origin, reason)

    first.dead_letters._publish = slow_publish  # type: ignore[method-assign]
    done: dict[str, object] = {}

    def batch(name: str, runner: ConsumerRunner) -> None:
        try:
            done[name] = runner.process_batch(5.0)
        except IntegrityError as error:  # the other committed the position first: the runner reads again
            done[name] = error

    other = threading.Thread(target=batch, args=("first", first), daemon=True)
    try:
        other.start()
        assert read.wait(60)
        meanwhile = threading.Thread(target=batch, args=("second", second), daemon=True)
        meanwhile.start()
        meanwhile.join(3)  # the second waits for the first to finish sending
        assert meanwhile.is_alive() and not _dead_letters(transport, settings.topic("letters.dlq"))
        publish.set()
        other.join(30)
        meanwhile.join(30)
        assert done["first"] == 1 and (done["second"] == 1 or isinstance(done["second"], IntegrityError))
        letters = _dead_letters(transport, settings.topic("letters.dlq"))
        assert [dict(m.headers)["dlq.offset"] for m in letters] == [b"0"]
        assert first.status.dead_lettered == 1 and second.status.dead_lettered == 0
    finally:
        publish.set()
        first.close()
        second.close()
        second.transport.close()
        second.store.close()
        store.close()
        transport.close()
