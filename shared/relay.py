"""The relay: follows a service's own notification log and publishes every new event to its topic.

An event whose contract is not yet released to partners (``shared.contracts``, ``release`` above
``CONTRACT_RELEASE``) is *held*: unless the environment publishes unreleased events (``publish_unreleased``: the
embedded log, a pre-release environment, the tests), the relay publishes what comes before it, records its position
just before it, and goes no further, degraded with a message naming the event, until code that releases the
contract is deployed. Holding, not skipping: nothing is lost, and no partner sees a contract that may still change.

It records its position only after the broker acknowledged the batch, so a crash in between publishes the
batch again (at-least-once); consumers are idempotent on (aggregate id, version).

Single writer: when a service's worker runs as several replicas, one relay publishes and the others stand by.
On PostgreSQL the leader holds a session-level advisory lock (``pg_try_advisory_lock``) on a connection of its
own; if that process dies or its connection drops, the lock is released and a standby takes over within its
poll interval, re-reading the position from the tracking record. A deposed leader may publish one batch that
its successor publishes again: that is the ordinary at-least-once redelivery the consumers already absorb.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import Tracking
from psycopg import sql

import shared.contracts
from shared import metrics, tracing
from shared.audit.chain import ChainedMapper
from shared.contracts import is_released, resolve
from shared.contracts.publication import is_public, is_retired
from shared.envelope import HEADERS, encode, publishes_internal_events, wrap
from shared.eventstore import ServiceApplication
from shared.transport import Publisher, Transport, TransportError

log = logging.getLogger(__name__)


@dataclass
class RelayStatus:
    published: int = 0
    position: int = 0
    degraded: str | None = None
    last_error_at: float | None = None
    leader: bool = False
    extra: dict[str, str] = field(default_factory=dict)



def published_event(mapper: Any, notification: Any) -> Any:
    """An event as a topic carries it: its free text still sealed (``shared.audit.people``)."""
    if isinstance(mapper, ChainedMapper):
        return mapper.to_published_event(notification)
    return mapper.to_domain_event(notification)


def passes_over(type_name: str) -> bool:
    """Whether the relay passes over a stored event of this type (records its position past it, publishes nothing):
    one its service no longer records (retired), or, from the release that publishes public events only, an
    internal one."""
    contract = resolve(type_name)
    return is_retired(contract) or (not publishes_internal_events() and not is_public(contract))


class Leadership(Protocol):
    """Who may publish: ``acquire`` is called before every batch and must be cheap when already held."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class SoleWriter:
    """One process owns the store (SQLite, the embedded mode): always the leader."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class AdvisoryLockLeadership:
    """Leader election on PostgreSQL: a session-level advisory lock, held on a connection of its own."""

    def __init__(self, database_url: str, key: str, check_interval: float = 1.0) -> None:
        self.database_url = database_url
        self.key = key
        self.check_interval = check_interval
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._held = False
        self._checked_at = 0.0

    def acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=5)
                self._held = False
            now = time.monotonic()
            if self._held:
                # The session, and so the lock, is still there (checked at most once per interval: an idle relay
                # polls often, and a deposed leader publishing one more batch is ordinary at-least-once delivery).
                if now - self._checked_at >= self.check_interval:
                    self._conn.execute("SELECT 1")
                    self._checked_at = now
                return True
            row = self._conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self.key,)).fetchone()
            self._held = bool(row and row[0])
            self._checked_at = now
            return self._held
        except psycopg.Error as error:
            log.warning("relay leadership lost", extra={"key": self.key, "error": str(error)[:300]})
            self.release()
            return False

    def release(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()  # closing the session releases the lock
            self._conn = None


class StoredSignal:
    """Hears the store announce each commit of new events (``LISTEN`` on a connection of its own).

    The relay waits on it instead of polling its log every few milliseconds: it publishes as soon as a command's
    transaction commits and costs nothing while the service is idle. A look at the log every ``fallback`` seconds
    covers a lost connection; while the connection is down the relay polls at that interval.
    """

    def __init__(self, database_url: str, channel: str, fallback: float = 0.25) -> None:
        self.database_url = database_url
        self.channel = channel
        self.fallback = fallback
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def wait(self, stop: threading.Event) -> None:
        """Return when new events may have been committed (or ``fallback`` seconds passed)."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=5)
                self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                return  # events committed before we listened are read now
            for _ in self._conn.notifies(timeout=self.fallback, stop_after=1):
                pass
        except psycopg.Error as error:
            log.warning("relay signal lost; polling", extra={"channel": self.channel, "error": str(error)[:300]})
            self.close()
            stop.wait(self.fallback)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


class Relay:
    """Notification log -> ``<service>.events``, resumable from its own tracking record."""

    def __init__(self, app: ServiceApplication, transport: Transport, topic: str, *, batch_size: int = 500,
                 poll_interval: float = 0.01, leadership: Leadership | None = None,
                 standby_interval: float = 1.0, signal: StoredSignal | None = None,
                 publish_unreleased: bool = False) -> None:
        self.app = app
        self.transport = transport
        self.topic = topic
        self.tracking_name = f"relay:{topic}"
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.status = RelayStatus()
        self.leadership: Leadership = leadership or SoleWriter()
        self.standby_interval = standby_interval
        self.signal = signal
        self.publish_unreleased = publish_unreleased
        self.held: str | None = None
        """Why the relay stands still, when an unreleased event is next in its log."""
        self._publisher: Publisher | None = None
        self._position: int | None = None
        self._drained = False
        """The last look at the log read it to its end (fewer than a batch): nothing more until the next commit."""

    def _current_position(self) -> int:
        if self._position is None:
            self._position = self.app.process_recorder.max_tracking_id(self.tracking_name) or 0
        return self._position

    def publish_batch(self) -> int:
        """Publish the next batch of stored events; returns how many it published or passed over (internal)."""
        start = self._current_position()
        notifications = self.app.recorder.select_notifications(
            start=start, limit=self.batch_size, inclusive_of_start=False
        )
        self._drained = len(notifications) < self.batch_size
        if not notifications:
            return 0
        if self._publisher is None:
            self._publisher = self.transport.publisher()
        last: int | None = None
        published = passed = 0
        for notification in notifications:
            event = published_event(self.app.mapper, notification)
            envelope = wrap(event, source=f"/services/{self.app.service}")
            if not self.publish_unreleased and not is_released(envelope.type):
                self._hold(envelope.type, notification.id)
                break
            if passes_over(envelope.type):
                last = notification.id
                passed += 1
                continue
            with tracing.publishing(self.topic, envelope) as headers:
                self._publisher.publish(self.topic, envelope.subject, encode(envelope), (*HEADERS, *headers))
            last = notification.id
            published += 1
        else:
            self.held = None
        if last is None:
            return 0
        self._publisher.flush()
        self.app.record_position(Tracking(self.tracking_name, last))
        self._position = last
        self.status.published += published
        self.status.position = last
        metrics.RELAY_PUBLISHED.labels(self.topic).inc(published)
        return published + passed

    def _hold(self, type_name: str, notification_id: int) -> None:
        reason = (f"held at notification {notification_id}: {type_name} is not in contract release "
                  f"{shared.contracts.CONTRACT_RELEASE}, the release partners have (deploy the release that publishes "
                  "it, or set PARTNERSHIP_PUBLISH_UNRELEASED_EVENTS=true where no partner reads the topics)")
        if self.held != reason:
            log.error("relay holds an unreleased event", extra={"topic": self.topic, "type": type_name,
                                                                 "notification_id": notification_id})
        self.held = reason

    def backlog(self) -> int:
        """Events stored but not yet published (as far as the recorded position says)."""
        newest = self.app.recorder.max_notification_id() or 0
        published = self.app.process_recorder.max_tracking_id(self.tracking_name) or 0
        return max(newest - published, 0)

    def _lead(self, stop: threading.Event) -> bool:
        """True when this process may publish; a standby waits and re-reads the position when it takes over."""
        if self.leadership.acquire():
            if not self.status.leader:
                self.status.leader = True
                self._position = None  # another leader may have moved it
                log.info("relay leads", extra={"topic": self.topic})
            return True
        if self.status.leader:
            log.warning("relay no longer leads", extra={"topic": self.topic})
        self.status.leader = False
        self._reset_publisher()
        stop.wait(self.standby_interval)
        return False

    def run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                if not self._lead(stop):
                    continue
                # After a batch that read the log to its end, wait for the next commit's announcement at once: a
                # second look would find nothing (it was a transaction per event of every service), and a commit
                # made meanwhile has already announced itself on the signal's connection, so the wait returns.
                if self.publish_batch() == 0 or (self._drained and self.signal is not None):
                    if self.held is not None:
                        stop.wait(self.standby_interval)  # nothing moves it but a deployment: look now and then
                    elif self.signal is not None:
                        self.signal.wait(stop)
                    else:
                        stop.wait(self.poll_interval)
                self.status.degraded = self.held
                backoff = 0.1
            except TransportError as error:
                # The broker is away: commands are still accepted (they are in our store); retry with backoff.
                self.status.degraded = str(error)
                self.status.last_error_at = time.time()
                metrics.RELAY_ERRORS.labels(self.topic).inc()
                log.warning("relay degraded", extra={"topic": self.topic, "error": str(error)})
                self._reset_publisher()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("relay failed; retrying", extra={"topic": self.topic})
                metrics.RELAY_ERRORS.labels(self.topic).inc()
                self._reset_publisher()
                self._position = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.close()

    def _reset_publisher(self) -> None:
        if self._publisher is not None:
            try:
                self._publisher.close()
            except Exception:
                log.exception("closing the publisher failed")
            self._publisher = None

    def close(self) -> None:
        self._reset_publisher()
        self.leadership.release()
        if self.signal is not None:
            self.signal.close()
        self.status.leader = False
