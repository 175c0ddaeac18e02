"""The consumer runner: upstream topic -> handler, with the upstream position written in the same transaction.

On start it resumes from its own tracking records (one per topic-partition, the offset as notification id), not
from Kafka's committed offsets. Each event is applied at most once per (aggregate id, version), so the relay's
redeliveries change nothing. A message that is not a valid event goes to the dead-letter topic and the consumer
carries on. Each message is dead-lettered once whatever retries its batch goes through: a dead letter carries
its origin (``dlq.id``: topic, partition, offset) and the runner publishes one only after reading the dead-letter
topic to its end and not finding it there, one replica at a time (see ``DeadLetters``).

Scaling: with consumer groups on (``PARTNERSHIP_CONSUMER_GROUPS``), the replicas of one worker share the
partitions of each topic through a Kafka consumer group named ``<consumer>.<topic>``; Kafka only assigns the
partitions (no offsets are committed there), and each replica seeks the partitions it is given to the positions
recorded in the database. During a rebalance two replicas may briefly hold one partition: both try to write the
same tracking record, the database lets one commit, the other's transaction fails and it re-reads its positions.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from eventsourcing.postgres import PostgresDatastore

from shared import logs, metrics, tracing
from shared.envelope import Envelope, MalformedMessage, decode
from shared.eventstore import ServiceApplication
from shared.readstore import ReadStore, Tx
from shared.transport import Message, Publisher, Reader, Transport, TransportError

log = logging.getLogger(__name__)

SEEN_EVENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS seen_events ("
    " consumer TEXT NOT NULL, subject TEXT NOT NULL, version INTEGER NOT NULL,"
    " PRIMARY KEY (consumer, subject, version))"
)


class Handler(Protocol):
    """Applies one event's effects inside the runner's transaction."""

    def apply(self, tx: Tx, envelope: Envelope) -> None: ...


class Rejected(Exception):
    """A valid message whose event cannot be applied (a broken upstream invariant): dead-lettered with the reason."""


@dataclass
class ConsumerStatus:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    passed_over: int = 0
    """Events a policy does not react to (``Policy.reacts_to``): read, and their positions recorded later."""
    degraded: str | None = None
    last_event_time: float | None = None
    next_offsets: dict[int, int] = field(default_factory=dict)


DEAD_LETTER_SCAN_TIMEOUT = 30.0


def origin_of(message: Message) -> str:
    """The dead letter's identity: where the message was read (a redelivered copy elsewhere is another origin)."""
    position = message.position
    return f"{position.topic}:{position.partition}:{position.offset}"


@contextlib.contextmanager
def one_replica_at_a_time(recorder: Any, key: str) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock named ``key`` (on a connection of ``recorder``'s pool) for the block.

    Replicas of one consumer share its database, so while one reads the dead-letter topic and publishes, another
    that met the same message during a rebalance waits, then finds that dead letter on the topic. A SQLite store
    belongs to one process, which has one runner per consumer: nothing to hold there."""
    datastore = getattr(recorder, "datastore", None)
    if not isinstance(datastore, PostgresDatastore):
        yield
        return
    with datastore.transaction(commit=False) as cursor:  # the lock ends with the transaction
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        yield


class DeadLetters:
    """One consumer's dead-letter topic, written once per origin.

    A dead letter is published (acknowledged by every in-sync replica) before the batch that met it commits, so a
    failed batch, a restarted or replaced replica reads the message again. Before publishing, the runner reads the
    topic from where it last stopped to its end: a dead letter already there, from this process or any earlier
    one, is recognised by its ``dlq.id`` and not sent again. Dead letters are rare, so this costs one short read.
    Two replicas that hold one partition during a rebalance could both read before either published, so the read
    and the publication happen under ``serialised`` (``one_replica_at_a_time`` on the consumer's database).
    """

    def __init__(self, transport: Transport, topic: str, consumer: str,
                 serialised: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext) -> None:
        self.transport = transport
        self.topic = topic
        self.consumer = consumer
        self.serialised = serialised
        self._sent: set[str] = set()
        self._next: dict[int, int] = {}
        self._publisher: Publisher | None = None

    def send(self, message: Message, reason: str) -> bool:
        """Publish ``message`` as a dead letter unless it is one already; True when it was published now."""
        origin = origin_of(message)
        if origin in self._sent:
            return False
        with self.serialised():
            self._catch_up()
            if origin in self._sent:
                return False
            self._publish(message, origin, reason)
        return True

    def _publish(self, message: Message, origin: str, reason: str) -> None:
        if self._publisher is None:
            self._publisher = self.transport.publisher()
        headers = (
            ("dlq.id", origin.encode()),
            ("dlq.reason", reason[:2000].encode()),
            ("dlq.topic", message.position.topic.encode()),
            ("dlq.partition", str(message.position.partition).encode()),
            ("dlq.offset", str(message.position.offset).encode()),
            ("dlq.consumer", self.consumer.encode()),
        )
        try:
            self._publisher.publish(self.topic, message.key, message.value, headers)
            self._publisher.flush()
        except TransportError:
            self.close()  # a fresh producer next time; whether this one landed, the next catch-up tells
            raise
        self._sent.add(origin)

    def _catch_up(self) -> None:
        """Read what the topic gained since the last look: the origins of this consumer's dead letters."""
        ends = self.transport.end_offsets(self.topic)
        if all(self._next.get(p, 0) >= end for p, end in ends.items()):
            return
        reader = self.transport.reader(self.topic, {p: self._next.get(p, 0) for p in ends})
        deadline = time.monotonic() + DEAD_LETTER_SCAN_TIMEOUT
        try:
            while any(self._next.get(p, 0) < end for p, end in ends.items()):
                if time.monotonic() > deadline:
                    raise TransportError(f"could not read {self.topic} to its end to check for a dead letter")
                for letter in reader.poll(500, 0.5):
                    self._next[letter.position.partition] = letter.position.offset + 1
                    found = dict(letter.headers)
                    if found.get("dlq.consumer") == self.consumer.encode() and "dlq.id" in found:
                        self._sent.add(found["dlq.id"].decode())
        finally:
            reader.close()

    def close(self) -> None:
        if self._publisher is not None:
            publisher, self._publisher = self._publisher, None
            try:
                publisher.close()
            except Exception:
                log.exception("closing the dead-letter publisher failed")


class _Runner(ABC):
    """What both runners share: positions per partition, the reader, the dead-letter topic, the run loop."""

    def __init__(self, name: str, transport: Transport, topic: str, *, dead_letter_topic: str,
                 batch_size: int, recorder: Any = None) -> None:
        self.name = name
        self.transport = transport
        self.topic = topic
        self.dead_letter_topic = dead_letter_topic
        self.batch_size = batch_size
        self.status = ConsumerStatus()
        self._reader: Reader | None = None
        key = f"partnership-dead-letters:{dead_letter_topic}:{name}"
        self.dead_letters = DeadLetters(transport, dead_letter_topic, name,
                                        lambda: one_replica_at_a_time(recorder, key))

    def _tracking_name(self, partition: int) -> str:
        return f"{self.name}:{self.topic}:{partition}"

    def _tracking(self, message: Message) -> Tracking:
        return Tracking(self._tracking_name(message.position.partition), message.position.offset)

    @abstractmethod
    def _last_position(self, tracking_name: str) -> int | None:
        """The last offset whose effects were committed (each runner reads its own store)."""

    def resume_positions(self) -> dict[int, int]:
        """The next offset to read per partition, from our own tracking records."""
        positions: dict[int, int] = {}
        for partition in self.transport.partitions(self.topic):
            last = self._last_position(self._tracking_name(partition))
            positions[partition] = 0 if last is None else last + 1
        return positions

    def _positions_of(self, partitions: Sequence[int]) -> dict[int, int]:
        """The next offset to read of each of ``partitions`` (those a consumer group assigned to us)."""
        positions: dict[int, int] = {}
        for partition in partitions:
            last = self._last_position(self._tracking_name(partition))
            positions[partition] = 0 if last is None else last + 1
        self.status.next_offsets = dict(positions)
        return positions

    def _ensure_reader(self) -> Reader:
        if self._reader is None:
            self._reader = self.transport.group_reader(self.topic, f"{self.name}.{self.topic}", self._positions_of)
        return self._reader

    def _committed(self, messages: Sequence[Message], applied: Sequence[Envelope]) -> None:
        """Bookkeeping after a batch committed: in-memory positions (for lag) and the projection lag."""
        for message in messages:
            self.status.next_offsets[message.position.partition] = message.position.offset + 1
        if applied:
            newest = max(envelope.time.timestamp() for envelope in applied)
            self.status.last_event_time = max(newest, self.status.last_event_time or newest)
            metrics.PROJECTION_LAG.labels(self.name, self.topic).observe(max(time.time() - newest, 0.0))

    def lag(self) -> dict[int, int]:
        """Messages not yet applied, per partition this replica reads (all of them without consumer groups)."""
        ends = self.transport.end_offsets(self.topic)
        known = dict(self.status.next_offsets)
        return {p: max(end - known[p], 0) for p, end in ends.items() if p in known}

    @abstractmethod
    def process_batch(self, timeout: float = 0.2) -> int:
        """Read and apply one batch; returns the number of messages consumed."""

    def _dead_letter(self, message: Message, reason: str) -> None:
        if not self.dead_letters.send(message, reason):
            log.info("dead letter already sent", extra={"consumer": self.name, "position": str(message.position)})
            return
        log.warning("dead-lettered a message", extra={"consumer": self.name, "position": str(message.position),
                                                      "reason": reason[:500]})
        self.status.dead_lettered += 1
        metrics.CONSUMER_DEAD_LETTERED.labels(self.name, self.topic).inc()

    def _degraded(self, reason: str | None) -> None:
        self.status.degraded = reason

    def run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                self.process_batch()
                self._degraded(None)
                backoff = 0.1
            except (TransportError, PersistenceError, psycopg.Error, sqlite3.Error, OSError) as error:
                # Nothing of the failed batch was committed: reopen from our own positions and try again.
                self._degraded(str(error))
                metrics.CONSUMER_ERRORS.labels(self.name, self.topic).inc()
                log.warning("consumer degraded", extra={"consumer": self.name, "error": str(error)})
                self._reset()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                metrics.CONSUMER_ERRORS.labels(self.name, self.topic).inc()
                log.exception("consumer failed; retrying from its recorded position", extra={"consumer": self.name})
                self._reset()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.close()

    def _reset(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:
                log.exception("closing the reader failed")
            self._reader = None

    def close(self) -> None:
        self._reset()
        self.dead_letters.close()


class ConsumerRunner(_Runner):
    """Applies upstream events to read-model tables (a ReadStore), one transaction per batch."""

    def __init__(self, name: str, store: ReadStore, transport: Transport, topic: str, handler: Handler, *,
                 dead_letter_topic: str, batch_size: int = 500) -> None:
        super().__init__(name, transport, topic, dead_letter_topic=dead_letter_topic, batch_size=batch_size,
                         recorder=store.recorder)
        self.store = store
        self.handler = handler
        store.migrate([SEEN_EVENTS_DDL])

    def process_batch(self, timeout: float = 0.2) -> int:
        """Read and apply one batch; returns the number of messages consumed (including dead-lettered ones)."""
        messages = self._ensure_reader().poll(self.batch_size, timeout)
        if not messages:
            return 0
        try:
            self._apply_batch(messages)
        except Rejected:
            # One message broke an invariant: apply one by one so that only that one is dead-lettered.
            for message in messages:
                self._apply_one(message)
        return len(messages)

    def _apply_one(self, message: Message) -> None:
        """One message in a transaction of its own; dead-lettered (and its position recorded) if it is rejected."""
        try:
            self._apply_batch([message])
        except Rejected as error:
            self._dead_letter(message, f"rejected: {error}")
            with self.store.transaction() as tx:
                tx.record_position(self._tracking(message))
            self._committed([message], [])

    def _apply_batch(self, messages: Sequence[Message]) -> None:
        decoded: list[tuple[Message, Envelope | None]] = []
        for message in messages:
            try:
                decoded.append((message, decode(message.value)))
            except MalformedMessage as error:
                self._dead_letter(message, f"malformed: {error}")
                decoded.append((message, None))
        last: dict[int, Message] = {}
        for message, _ in decoded:
            last[message.position.partition] = message
        envelopes = [e for _, e in decoded if e is not None]
        headers = {id(e): m.headers for m, e in decoded if e is not None} if tracing.enabled() else {}
        with self.store.transaction() as tx:
            fresh = self._first_sightings(tx, envelopes)
            if getattr(self.handler, "pipelined", False):
                with tx.pipeline():
                    self._apply_all(tx, fresh, headers)
            else:
                self._apply_all(tx, fresh, headers)
            for message in last.values():
                tx.record_position(self._tracking(message))
        self._counted(envelopes, fresh)
        self._committed(messages, fresh)
        committed = getattr(self.handler, "committed", None)
        if fresh and committed is not None:  # a handler that announces what it committed (reporting's change feed)
            committed()

    def _counted(self, envelopes: Sequence[Envelope], fresh: Sequence[Envelope]) -> None:
        self.status.applied += len(fresh)
        self.status.duplicates += len(envelopes) - len(fresh)
        metrics.CONSUMER_APPLIED.labels(self.name, self.topic).inc(len(fresh))
        if len(envelopes) > len(fresh):
            metrics.CONSUMER_DUPLICATES.labels(self.name, self.topic).inc(len(envelopes) - len(fresh))

    def _apply_all(self, tx: Tx, envelopes: Sequence[Envelope], headers: dict[int, Any]) -> None:
        if not tracing.enabled():
            for envelope in envelopes:
                self.handler.apply(tx, envelope)
            return
        for envelope in envelopes:
            token = logs.correlation_id.set(envelope.correlationid)
            try:
                with tracing.applying(self.name, headers.get(id(envelope), ()), envelope):
                    self.handler.apply(tx, envelope)
            finally:
                logs.correlation_id.reset(token)

    def _first_sightings(self, tx: Tx, envelopes: list[Envelope]) -> list[Envelope]:
        """The envelopes not applied before, in order: one statement marks the whole batch as seen."""
        return first_sightings(tx, {self.name: envelopes})[self.name]

    def _last_position(self, tracking_name: str) -> int | None:
        return self.store.position(tracking_name)


def first_sightings(tx: Tx, envelopes: dict[str, list[Envelope]]) -> dict[str, list[Envelope]]:
    """The envelopes each consumer (by name) has not applied before, in order: one statement marks them all seen."""
    unique: dict[tuple[str, str, int], Envelope] = {}
    for consumer, batch in envelopes.items():
        for envelope in batch:  # redelivered within the batch: once
            unique.setdefault((consumer, envelope.subject, envelope.sequence), envelope)
    fresh: dict[str, list[Envelope]] = {consumer: [] for consumer in envelopes}
    if not unique:
        return fresh
    rows = ", ".join("(?, ?, ?)" for _ in unique)
    params = [value for key in unique for value in key]
    inserted = tx.query(
        f"INSERT INTO seen_events (consumer, subject, version) VALUES {rows} "
        "ON CONFLICT DO NOTHING RETURNING consumer, subject, version",
        params,
    )
    new = {(row["consumer"], row["subject"], int(row["version"])) for row in inserted}
    for key, envelope in unique.items():
        if key in new:
            fresh[key[0]].append(envelope)
    return fresh


class SharedPoll(_Runner):
    """Several consumers of one topic whose tables live in one store, read with one reader and applied in one
    transaction per batch (each keeps its own name, tracking records, seen events and dead letters).

    Each consumer of a topic used to poll and commit on its own: at a low rate a batch is one event, so every
    event cost each of them a transaction (BEGIN, the seen-events insert, its effects, the tracking record,
    COMMIT). Together they pay one BEGIN/COMMIT and one seen-events insert per batch. A member whose recorded
    position is ahead of the others' (it was run alone before, or failed apart) skips what it has committed:
    the shared reader starts at the lowest position of any member."""

    def __init__(self, members: Sequence[ConsumerRunner]) -> None:
        first = members[0]
        if len({(id(m.store), m.topic) for m in members}) != 1 or len({m.name for m in members}) != len(members):
            raise ValueError("a shared poll is of consumers with distinct names on one topic and one store")
        super().__init__("+".join(m.name for m in members), first.transport, first.topic,
                         dead_letter_topic=first.dead_letter_topic, batch_size=min(m.batch_size for m in members),
                         recorder=first.store.recorder)
        self.members = list(members)
        self.store = first.store
        self._next: dict[str, dict[int, int]] = {m.name: {} for m in members}

    def _last_position(self, tracking_name: str) -> int | None:
        """The poll's position on a partition is its slowest member's: read from there, no member misses an event
        (reading and resuming go by each member's own, ``_positions_of``; this answers one who asks the poll)."""
        partition = int(tracking_name.rsplit(":", 1)[1])
        lasts = [m._last_position(m._tracking_name(partition)) for m in self.members]
        return None if None in lasts else min(last for last in lasts if last is not None)

    def _positions_of(self, partitions: Sequence[int]) -> dict[int, int]:
        positions: dict[int, int] = {}
        for member in self.members:
            mine = member._positions_of(partitions)
            self._next[member.name] = dict(mine)
            for partition, offset in mine.items():
                positions[partition] = min(offset, positions.get(partition, offset))
        self.status.next_offsets = dict(positions)
        return positions

    def _degraded(self, reason: str | None) -> None:
        self.status.degraded = reason
        for member in self.members:
            member.status.degraded = reason

    def _unapplied(self, member: ConsumerRunner, messages: Sequence[Message]) -> list[Message]:
        """The messages ``member`` has not committed yet (at or after its own next position)."""
        known = self._next[member.name]
        return [m for m in messages if m.position.offset >= known.get(m.position.partition, 0)]

    def process_batch(self, timeout: float = 0.2) -> int:
        messages = self._ensure_reader().poll(self.batch_size, timeout)
        if not messages:
            return 0
        try:
            self._apply_batch(messages)
        except Rejected:
            # One message broke an invariant for one member: each applies its messages one by one on its own.
            for member in self.members:
                for message in self._unapplied(member, messages):
                    member._apply_one(message)
                    self._advance(member, [message])
        return len(messages)

    def close(self) -> None:
        super().close()
        for member in self.members:
            member.dead_letters.close()

    def _advance(self, member: ConsumerRunner, messages: Sequence[Message]) -> None:
        for message in messages:
            self._next[member.name][message.position.partition] = message.position.offset + 1

    def _apply_batch(self, messages: Sequence[Message]) -> None:
        due = {member.name: self._unapplied(member, messages) for member in self.members}
        decoded: dict[int, Envelope | None] = {}
        for message in messages:
            try:
                decoded[id(message)] = decode(message.value)
            except MalformedMessage as error:
                decoded[id(message)] = None
                for member in self.members:
                    if any(m is message for m in due[member.name]):
                        member._dead_letter(message, f"malformed: {error}")
        envelopes = {name: [e for m in batch if (e := decoded[id(m)]) is not None] for name, batch in due.items()}
        headers = ({id(e): m.headers for m in messages if (e := decoded[id(m)]) is not None}
                   if tracing.enabled() else {})
        with self.store.transaction() as tx:
            fresh = first_sightings(tx, envelopes)
            for member in self.members:
                if getattr(member.handler, "pipelined", False):
                    with tx.pipeline():
                        member._apply_all(tx, fresh[member.name], headers)
                else:
                    member._apply_all(tx, fresh[member.name], headers)
                last: dict[int, Message] = {}
                for message in due[member.name]:
                    last[message.position.partition] = message
                for message in last.values():
                    tx.record_position(member._tracking(message))
        for member in self.members:
            member._counted(envelopes[member.name], fresh[member.name])
            member._committed(due[member.name], fresh[member.name])
            self._advance(member, due[member.name])
        self._committed(messages, [])
        for member in self.members:
            committed = getattr(member.handler, "committed", None)
            if fresh[member.name] and committed is not None:
                committed()


def polled_together(consumers: Sequence[Any]) -> list[Any]:
    """``consumers`` with those of one topic and one store (plain consumer runners) made one ``SharedPoll``
    each; the others as they are. What runs a worker's loops: the members stay for health and reconciliation."""
    groups: dict[tuple[int, str], list[ConsumerRunner]] = {}
    runners: list[Any] = []
    for consumer in consumers:
        if type(consumer) is ConsumerRunner:
            key = (id(consumer.store), consumer.topic)
            if key not in groups:
                groups[key] = []
                runners.append(groups[key])
            groups[key].append(consumer)
        else:
            runners.append(consumer)
    return [(SharedPoll(r) if len(r) > 1 else r[0]) if isinstance(r, list) else r for r in runners]


class Policy(Protocol):
    """Reacts to one upstream event with changes to this service's aggregates (returned unsaved).

    It must be idempotent on (aggregate id, version): the relay may deliver an event twice, at two offsets.
    A policy may also say which contracts it reacts to (``reacts_to``, a tuple of contract classes): the runner
    then passes it nothing else and records the positions of what it passed over in one write (see
    ``PolicyRunner``).
    """

    def react(self, envelope: Envelope) -> Sequence[Aggregate]: ...


RECORD_PASSED_OVER_WITHIN = 1.0
"""Seconds at most between passing over an event a policy does not react to and recording its position, while
events keep coming (when none come, at the next empty poll)."""


class PolicyRunner(_Runner):
    """Upstream topic -> a service's own event store: the reaction's events and the position in one transaction."""

    def __init__(self, name: str, app: ServiceApplication, transport: Transport, topic: str, policy: Policy, *,
                 dead_letter_topic: str, batch_size: int = 100, retries: int = 5) -> None:
        super().__init__(name, transport, topic, dead_letter_topic=dead_letter_topic, batch_size=batch_size,
                         recorder=app.recorder)
        self.app = app
        self.policy = policy
        self.retries = retries
        self.reacts_to: tuple[type, ...] | None = getattr(policy, "reacts_to", None)
        # Most events of a topic are not what a policy reacts to, and each used to cost a transaction of its own
        # (BEGIN, the tracking record, COMMIT). Passed over, they change nothing, so their positions wait: the
        # next reaction's record covers them, or one write per partition at the next empty poll or within
        # RECORD_PASSED_OVER_WITHIN. A restart before that reads them again and passes over them again.
        self._passed_over: dict[int, Message] = {}
        self._passed_over_since = 0.0

    def _last_position(self, tracking_name: str) -> int | None:
        return self.app.process_recorder.max_tracking_id(tracking_name)

    def process_batch(self, timeout: float = 0.2) -> int:
        messages = self._ensure_reader().poll(self.batch_size, timeout)
        for message in messages:
            self._process(message)
        if self._passed_over and (not messages or
                                  time.monotonic() - self._passed_over_since >= RECORD_PASSED_OVER_WITHIN):
            self.record_passed_over()
        return len(messages)

    def record_passed_over(self) -> None:
        """Write the positions of the events passed over that no later record covers (one per partition)."""
        for partition, message in sorted(self._passed_over.items()):
            self._record_only(self._tracking(message))
            del self._passed_over[partition]

    def _recorded(self, message: Message) -> None:
        """``message``'s position is written: it covers what was passed over before it in its partition."""
        self._passed_over.pop(message.position.partition, None)

    def _reset(self) -> None:
        # Read again from the recorded positions: what was passed over since is met (and passed over) again.
        self._passed_over.clear()
        super()._reset()

    def close(self) -> None:
        if self._passed_over:
            try:
                self.record_passed_over()
            except Exception:  # read again on the next start: nothing is lost
                log.exception("recording the positions passed over failed", extra={"consumer": self.name})
        super().close()

    def _process(self, message: Message) -> None:
        tracking = self._tracking(message)
        try:
            envelope = decode(message.value)
        except MalformedMessage as error:
            self._dead_letter(message, f"malformed: {error}")
            self._record_only(tracking)
            self._recorded(message)
            self._committed([message], [])
            return
        if self.reacts_to is not None and not isinstance(envelope.fact(), self.reacts_to):
            if not self._passed_over:
                self._passed_over_since = time.monotonic()
            self._passed_over[message.position.partition] = message
            self.status.passed_over += 1
            self._committed([message], [])
            return
        token = logs.correlation_id.set(envelope.correlationid)
        try:
            with tracing.applying(self.name, message.headers, envelope):
                self._react(message, tracking, envelope)
        finally:
            logs.correlation_id.reset(token)

    def _react(self, message: Message, tracking: Tracking, envelope: Envelope) -> None:
        for _attempt in range(self.retries):
            try:
                aggregates = self.policy.react(envelope)
            except Rejected as error:
                self._dead_letter(message, f"rejected: {error}")
                self._record_only(tracking)
                self._recorded(message)
                self._committed([message], [])
                return
            try:
                self.app.save_with_tracking(tracking, *aggregates)
            except IntegrityError:
                if self.app.process_recorder.has_tracking_id(tracking.application_name, tracking.notification_id):
                    self.status.duplicates += 1  # already applied before a restart
                    metrics.CONSUMER_DUPLICATES.labels(self.name, self.topic).inc()
                    self._recorded(message)
                    self._committed([message], [])
                    return
                continue  # an aggregate changed concurrently: react again on fresh state
            self._recorded(message)
            self.status.applied += 1
            metrics.CONSUMER_APPLIED.labels(self.name, self.topic).inc()
            self._committed([message], [envelope])
            return
        raise RuntimeError(f"{self.name}: could not apply {message.position} after {self.retries} attempts")

    def _record_only(self, tracking: Tracking) -> None:
        with contextlib.suppress(IntegrityError):  # recorded before a restart
            self.app.record_position(tracking)
