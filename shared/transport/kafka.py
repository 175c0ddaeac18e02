"""The Kafka transport (kafka-python): idempotent producer with acks=all; readers assigned to every partition.

Readers seek to the consumer's own recorded positions, never to Kafka's committed offsets, so that the position
and the effects of a message commit in one database transaction. With consumer groups on, a group only decides
which member reads which partition; the member seeks each partition it is given to its recorded position.
Extra client settings (TLS, SASL for a Strimzi ``KafkaUser``) are passed to every client.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

from shared.transport import Headers, Message, Position, Publisher, Reader, Transport, TransportError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupTimeouts:
    """How long a consumer group waits for a member, in seconds (see docs/reliability.md, "Consumer groups").

    kafka-python heartbeats from its own IO thread, so a member whose poll loop is stuck still looks alive: only
    ``max_poll_interval`` removes it. It is also the rebalance timeout sent in every JoinGroup, the longest the
    coordinator holds a rebalance (every member's partitions revoked, none reassigned) for a member to rejoin.
    ``session_timeout`` removes a member whose process died without leaving.
    """

    max_poll_interval: float = 30.0
    session_timeout: float = 10.0

    def consumer_config(self) -> dict[str, int]:
        return {
            "max_poll_interval_ms": int(self.max_poll_interval * 1000),
            "session_timeout_ms": int(self.session_timeout * 1000),
            # A tenth of the session: a member learns of a rebalance within a second (it rejoins on its next poll).
            "heartbeat_interval_ms": max(int(self.session_timeout * 100), 100),
        }


METADATA_TIMEOUT = 10.0
"""Seconds a metadata fetch may take; kafka-python's own wait has no bound (it waits for the broker to return)."""


def _refresh_metadata(consumer: KafkaConsumer, timeout: float) -> None:
    """Fetch every topic's metadata, as ``KafkaConsumer.topics()`` does, but give up after ``timeout`` seconds.

    kafka-python waits for its metadata future with no timeout: with the broker away, ``topics()`` and
    ``partitions_for_topic()`` block until it returns, so a runner could neither report itself degraded nor stop.
    """
    cluster, manager = consumer._cluster, consumer._manager
    timeout_ms = int(timeout * 1000)
    if cluster.metadata_refresh_in_progress:  # a refresh of only the subscribed topics: wait, then ask for all
        manager.run(manager.wait_for, cluster.request_update(), timeout_ms)
    stash = cluster.need_all_topic_metadata
    cluster.need_all_topic_metadata = True
    try:
        manager.run(manager.wait_for, cluster.request_update(), timeout_ms)
    finally:
        cluster.need_all_topic_metadata = stash


def _partitions_for(consumer: KafkaConsumer, topic: str, timeout: float) -> set[int] | None:
    found = consumer._cluster.partitions_for_topic(topic)
    if found is None:
        _refresh_metadata(consumer, timeout)
        found = consumer._cluster.partitions_for_topic(topic)
    return set(found) if found else None


class KafkaTransport(Transport):
    def __init__(self, bootstrap_servers: str, client_id: str = "partnership", *, consumer_groups: bool = False,
                 group_timeouts: GroupTimeouts | None = None, metadata_timeout: float = METADATA_TIMEOUT,
                 **client_config: Any) -> None:
        self._bootstrap = bootstrap_servers.split(",")
        self._client_id = client_id
        self._groups = consumer_groups
        self._group_timeouts = group_timeouts or GroupTimeouts()
        self._metadata_timeout = metadata_timeout
        # A broker that returns is found within a second (kafka-python backs off up to 30 s by default).
        self._config = {"reconnect_backoff_max_ms": 1000, **client_config}
        self._admin: KafkaAdminClient | None = None
        self._meta: KafkaConsumer | None = None
        # The relay and every consumer thread ask for partitions as they start: without the lock two of them each
        # made a client, one was overwritten, and it was never closed (its I/O thread reconnected for ever).
        self._clients_lock = threading.Lock()
        self._closed = False

    def _refuse_if_closed(self) -> None:
        if self._closed:  # a worker that outlived close() must not open a client nobody will close
            raise TransportError("the Kafka transport is closed")

    def _admin_client(self) -> KafkaAdminClient:
        with self._clients_lock:
            self._refuse_if_closed()
            if self._admin is None:
                self._admin = KafkaAdminClient(bootstrap_servers=self._bootstrap,
                                               client_id=f"{self._client_id}-admin", **self._config)
            return self._admin

    def _metadata_consumer(self) -> KafkaConsumer:
        with self._clients_lock:
            self._refuse_if_closed()
            if self._meta is None:
                self._meta = KafkaConsumer(bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-meta",
                                           enable_auto_commit=False, **self._config)
            return self._meta

    def ensure_topic(self, topic: str, partitions: int = 3) -> None:
        try:
            self._admin_client().create_topics([NewTopic(topic, partitions, 1)])
        except TopicAlreadyExistsError:
            pass
        except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
            # Under ACLs topics are created by their operator (Strimzi KafkaTopic), not by the services.
            log.debug("not permitted to create topic; expecting it to exist", extra={"topic": topic})
        except KafkaError as error:
            raise TransportError(f"cannot create topic {topic}: {error}") from error

    def partitions(self, topic: str) -> list[int]:
        with _unavailable(f"partitions of {topic}"):
            consumer = self._metadata_consumer()
            found = _partitions_for(consumer, topic, self._metadata_timeout)
            if not found:
                self.ensure_topic(topic)
                _refresh_metadata(consumer, self._metadata_timeout)  # it exists now
                found = _partitions_for(consumer, topic, self._metadata_timeout) or {0}
            return sorted(found)

    def end_offsets(self, topic: str) -> dict[int, int]:
        tps = [TopicPartition(topic, p) for p in self.partitions(topic)]
        with _unavailable(f"end offsets of {topic}"):
            ends = self._metadata_consumer().end_offsets(tps)
        return {tp.partition: int(offset) for tp, offset in ends.items()}

    def publisher(self) -> Publisher:
        with _unavailable("producer"):
            return _KafkaPublisher(self._bootstrap, self._client_id, self._config)

    def reader(self, topic: str, start: Mapping[int, int]) -> Reader:
        partitions = self.partitions(topic)
        with _unavailable(f"reader of {topic}"):
            return _KafkaReader(self._bootstrap, self._client_id, topic, partitions, start, self._config)

    def group_reader(self, topic: str, group: str, positions: Callable[[Sequence[int]], Mapping[int, int]]) -> Reader:
        if not self._groups:
            return super().group_reader(topic, group, positions)
        self.partitions(topic)  # the topic exists before we subscribe
        with _unavailable(f"group reader of {topic}"):
            return _KafkaGroupReader(self._bootstrap, self._client_id, topic, group, positions,
                                     {**self._group_timeouts.consumer_config(), **self._config},
                                     metadata_timeout=self._metadata_timeout)

    def close(self) -> None:
        with self._clients_lock:
            admin, meta, self._admin, self._meta, self._closed = self._admin, self._meta, None, None, True
        try:
            if admin is not None:
                admin.close()
        finally:
            if meta is not None:
                meta.close()


@contextlib.contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """A client that cannot reach the broker (e.g. cannot bootstrap) is the transport being away, like a failed
    send: the relay and the consumers report themselves degraded and retry with backoff."""
    try:
        yield
    except KafkaError as error:
        raise TransportError(f"{what}: {error}") from error


IDLE_FETCH_WAIT_MS = 500


class _KafkaPublisher(Publisher):
    def __init__(self, bootstrap: list[str], client_id: str, config: Mapping[str, Any]) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=f"{client_id}-producer",
            enable_idempotence=True,
            acks="all",
            linger_ms=1,
            max_block_ms=10_000,
            delivery_timeout_ms=30_000,
            request_timeout_ms=10_000,
            **config,
        )
        self._futures: list[Any] = []

    def publish(self, topic: str, key: str | None, value: bytes, headers: Headers = ()) -> None:
        try:
            future = self._producer.send(
                topic, value=value, key=None if key is None else key.encode(), headers=list(headers)
            )
        except KafkaError as error:
            raise TransportError(f"cannot send to {topic}: {error}") from error
        self._futures.append(future)

    def flush(self, timeout: float = 30.0) -> None:
        futures, self._futures = self._futures, []
        try:
            self._producer.flush(timeout=timeout)
        except KafkaError as error:
            raise TransportError(f"flush failed: {error}") from error
        failed = [f.exception for f in futures if f.failed()]
        if failed:
            raise TransportError(f"{len(failed)} message(s) not acknowledged: {failed[0]}")
        if any(not f.is_done for f in futures):
            raise TransportError("flush returned before every message was acknowledged")

    def close(self) -> None:
        self._producer.close(timeout=10)


class _KafkaReader(Reader):
    def __init__(self, bootstrap: list[str], client_id: str, topic: str, partitions: list[int],
                 start: Mapping[int, int], config: Mapping[str, Any]) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id=f"{client_id}-reader",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # The broker answers a fetch as soon as one record is there (fetch.min.bytes 1); the wait only bounds
            # an idle consumer's fetch rate, which on a small broker is most of its idle CPU.
            fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            **config,
        )
        tps = [TopicPartition(topic, p) for p in partitions]
        self._consumer.assign(tps)
        for tp in tps:
            self._consumer.seek(tp, start.get(tp.partition, 0))

    def _poll(self, max_messages: int, timeout: float) -> dict[Any, list[Any]]:
        try:
            batches: dict[Any, list[Any]] = self._consumer.poll(timeout_ms=int(timeout * 1000),
                                                                max_records=max_messages)
        except KafkaError as error:
            raise TransportError(f"poll failed: {error}") from error
        return batches

    def poll(self, max_messages: int, timeout: float) -> Sequence[Message]:
        batches = self._poll(max_messages, timeout)
        messages: list[Message] = []
        for tp, records in batches.items():
            for record in records:
                messages.append(
                    Message(
                        Position(tp.topic, tp.partition, record.offset),
                        None if record.key is None else record.key.decode(errors="replace"),
                        record.value if record.value is not None else b"",
                        tuple((name, value or b"") for name, value in record.headers or ()),
                    )
                )
        return messages

    def poll_values(self, max_messages: int, timeout: float) -> Sequence[tuple[int, int, bytes]]:
        batches = self._poll(max_messages, timeout)
        return [(tp.partition, record.offset, record.value if record.value is not None else b"")
                for tp, records in batches.items() for record in records]

    def close(self) -> None:
        self._consumer.close(autocommit=False)


class _SeekToRecorded(ConsumerRebalanceListener):  # type: ignore[misc]
    """On every assignment, start each partition we are given at the position our database recorded.

    kafka-python calls the listener on its IO thread, inside the join, where a database query would hold up the
    member's heartbeats (and any other group work of the client) for as long as the database takes. So the listener
    only pauses the partitions it was given (no fetch returns their records) and notes them; the polling thread,
    after the poll, reads their positions from the database, seeks and resumes them (``take``).
    """

    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer
        self._lock = threading.Lock()
        self._pending: list[TopicPartition] | None = None

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked", extra={"partitions": sorted(tp.partition for tp in revoked)})

    def on_partitions_assigned(self, assigned: Any) -> None:
        tps = sorted(assigned, key=lambda tp: tp.partition)
        self._consumer.pause(*tps)
        with self._lock:
            self._pending = tps  # a later assignment replaces an earlier one not yet taken

    def take(self) -> list[TopicPartition] | None:
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    def give_back(self, pending: list[TopicPartition]) -> None:
        """Keep an assignment whose positions could not be read for the next poll, unless a newer one came."""
        with self._lock:
            if self._pending is None:
                self._pending = pending


class _KafkaGroupReader(_KafkaReader):
    """A member of a consumer group: Kafka assigns the partitions, our database says where to start."""

    def __init__(self, bootstrap: list[str], client_id: str, topic: str, group: str,
                 positions: Callable[[Sequence[int]], Mapping[int, int]], config: Mapping[str, Any], *,
                 metadata_timeout: float = METADATA_TIMEOUT) -> None:
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id=f"{client_id}-member",
            group_id=group,
            enable_auto_commit=False,  # offsets live in our database, with the effects
            auto_offset_reset="earliest",
            fetch_max_wait_ms=IDLE_FETCH_WAIT_MS,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            **config,
        )
        self._rejoin_wait = self._consumer.config["session_timeout_ms"] / 1000
        self._positions = positions
        self._listener = _SeekToRecorded(self._consumer)
        self._consumer.subscribe([topic], listener=self._listener)
        # Join knowing the topic's partitions. Otherwise the first leader assigns nothing ("No partition metadata"),
        # then rejoins when the metadata arrives: the rejoin that kafka-python can drop (see _rejoin_if_dropped).
        try:
            with _unavailable(f"metadata of {topic}"):
                _refresh_metadata(self._consumer, metadata_timeout)
        except TransportError:
            self._consumer.close(autocommit=False)
            raise

    def _poll(self, max_messages: int, timeout: float) -> dict[Any, list[Any]]:
        batches = super()._poll(max_messages, timeout)
        self._start_assigned()
        return batches

    def _start_assigned(self) -> None:
        """Seek the partitions of a new assignment to our recorded positions and resume them (see _SeekToRecorded).

        The poll that made the assignment returned none of their records: they were paused from the moment the
        assignment was applied until now."""
        pending = self._listener.take()
        if pending is None:
            return
        assigned = self._consumer.assignment()
        tps = [tp for tp in pending if tp in assigned]
        try:
            start = self._positions([tp.partition for tp in tps])
        except Exception:
            self._listener.give_back(pending)
            raise
        for tp in tps:
            self._consumer.seek(tp, start.get(tp.partition, 0))
        self._consumer.resume(*tps)
        log.info("partitions assigned", extra={"partitions": [tp.partition for tp in tps]})

    def poll(self, max_messages: int, timeout: float) -> Sequence[Message]:
        messages = super().poll(max_messages, timeout)
        if not messages and self._rejoin_if_dropped():
            messages = super().poll(max_messages, self._rejoin_wait)
        return messages

    def poll_values(self, max_messages: int, timeout: float) -> Sequence[tuple[int, int, bytes]]:
        values = super().poll_values(max_messages, timeout)
        if not values and self._rejoin_if_dropped():
            values = super().poll_values(max_messages, self._rejoin_wait)
        return values

    def _rejoin_if_dropped(self) -> bool:
        """Rejoin when kafka-python 3.0 has dropped a finished join, which left the member out of its group for good.

        A join runs as a task on the client's IO thread; only a poll that finds the member still needing to rejoin
        applies its result, and a poll that finds the task finished starts a new join instead. A leader rejoins
        because its metadata changed, and its own assignment, made inside the task, clears that reason: if the poll
        that started the join returned first (its timeout is short), no later poll looks at the task again. The
        member stays "rebalancing" with heartbeats off, the broker drops it after the session timeout and the others
        take its partitions. We ask to rejoin and then poll once for long enough (the session timeout) for that join
        to end inside the poll: a join that again ended between two short polls would be replaced, not applied.
        """
        coordinator = getattr(self._consumer, "_coordinator", None)
        task = getattr(coordinator, "_join_task", None)
        if coordinator is None or task is None or not getattr(task, "is_done", False):
            return False
        if not coordinator.rebalance_in_progress() or coordinator.need_rejoin():
            return False
        log.warning("the consumer group client dropped a finished join; rejoining",
                    extra={"group": coordinator.group_id})
        coordinator.request_rejoin()
        return True
